//! Tolerant readers for other services' answers (GitHub's REST and GraphQL, SAP AI Core's),
//! used as `deserialize_with` on typed models.
//!
//! GitHub omits or nulls fields freely (a deleted account is `author: null`, an unset branch is
//! `defaultBranchRef: null`), and coworker has always read its answers field by field, taking a
//! field of the wrong JSON type as absent. These readers keep that rule inside `Deserialize`:
//! the models stay plain structs, an answer is parsed once where it arrives, and a wrong type in
//! one field never fails the whole answer nor reaches the code that uses it.
//!
//! - [`text`], [`uint`], [`flag`]: a string / non-negative integer / boolean, `None` otherwise.
//! - [`object`] and [`Loose`]: a JSON object read as `T`, `T::default()` for anything else.
//! - [`list`]: a JSON array whose elements are each read as by [`object`], empty otherwise.
//!
//! Whatever is skipped is consumed with `IgnoredAny`, so these work on a streaming parser.
//! Only a broken document (invalid JSON, or the same key twice in one object, which the derived
//! readers refuse) is still an error.
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// One JSON value reduced to what the scalar readers keep.
enum Scalar {
    Str(String),
    Uint(u64),
    Bool(bool),
    Other,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Uint(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(u64::try_from(v).map_or(Scalar::Other, Scalar::Uint))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Scalar, E> {
        Ok(u64::try_from(v).map_or(Scalar::Other, Scalar::Uint))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Scalar, E> {
        Ok(u64::try_from(v).map_or(Scalar::Other, Scalar::Uint))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// A string; `None` for null, a missing key (with `#[serde(default)]`) or any other type.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match d.deserialize_any(ScalarVisitor)? {
        Scalar::Str(s) => Some(s),
        _ => None,
    })
}

/// A non-negative integer that fits `u64`; `None` for anything else (negative, fractional, text).
pub(crate) fn uint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match d.deserialize_any(ScalarVisitor)? {
        Scalar::Uint(n) => Some(n),
        _ => None,
    })
}

/// An identifier written as a string or as a non-negative integer (`"3"` or `3`), as text.
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match d.deserialize_any(ScalarVisitor)? {
        Scalar::Str(s) => Some(s),
        Scalar::Uint(n) => Some(n.to_string()),
        _ => None,
    })
}

/// A boolean; `None` for anything else (`"true"` as text included).
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match d.deserialize_any(ScalarVisitor)? {
        Scalar::Bool(b) => Some(b),
        _ => None,
    })
}

/// Scalar and null `visit_*` methods that all answer `$value` (a container's reader only
/// cares about maps and arrays).
macro_rules! anything_else_is {
    ($value:expr) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
}

/// A JSON object read as `T`; anything else (null, an array, a scalar) is `T::default()`.
/// Used for a whole answer, whose top level GitHub could send as anything.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Loose<T>(pub T);

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(T::default())
    }
    anything_else_is!(T::default());
}

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Loose)
    }
}

/// A field holding an object: read as `T`, `T::default()` when it is anything else.
pub(crate) fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    d.deserialize_any(ObjectVisitor(PhantomData))
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for ListVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(Loose(item)) = seq.next_element::<Loose<T>>()? {
            out.push(item);
        }
        Ok(out)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Vec::new())
    }
    anything_else_is!(Vec::new());
}

/// A list of objects: an array's elements each read as by [`object`]; anything else is empty.
/// An element of the wrong type is kept as `T::default()` (it was there, so it counts).
pub(crate) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    d.deserialize_any(ListVisitor(PhantomData))
}

struct OptionalListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for OptionalListVisitor<T> {
    type Value = Option<Vec<T>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        ListVisitor(PhantomData).visit_seq(seq).map(Some)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    anything_else_is!(None);
}

/// A field holding a list or nothing: `Some` for an array (its elements read as by [`list`],
/// an empty array included), `None` for anything else.
pub(crate) fn optional_list<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    d.deserialize_any(OptionalListVisitor(PhantomData))
}

/// A whole answer that should be an array of objects, read as by [`list`].
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct LooseList<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for LooseList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        list(d).map(LooseList)
    }
}

/// A field holding an object or nothing: `Some(T)` for an object, `None` for anything else.
pub(crate) fn optional_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    /// `Some` only when read from an object (its `Default` is what anything else gives).
    struct Present<T>(Option<T>);
    impl<T> Default for Present<T> {
        fn default() -> Self {
            Present(None)
        }
    }
    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Present<T> {
        fn deserialize<E: Deserializer<'de>>(d: E) -> Result<Self, E::Error> {
            T::deserialize(d).map(|t| Present(Some(t)))
        }
    }
    object::<D, Present<T>>(d).map(|p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    // Fixtures: JSON documents built to be read by the readers, never walked as answers.
    use serde_json::{Value, json};

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(default)]
    struct Inner {
        #[serde(deserialize_with = "text")]
        name: Option<String>,
    }

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(default)]
    struct Outer {
        #[serde(deserialize_with = "text")]
        s: Option<String>,
        #[serde(deserialize_with = "uint")]
        n: Option<u64>,
        #[serde(deserialize_with = "flag")]
        b: Option<bool>,
        #[serde(deserialize_with = "object")]
        o: Inner,
        #[serde(deserialize_with = "optional_object")]
        maybe: Option<Inner>,
        #[serde(deserialize_with = "list")]
        l: Vec<Inner>,
        last: String,
    }

    /// Reads `text` from its bytes, as answers are read (the streaming parser, not a Value).
    fn read(text: &str) -> Outer {
        let Loose(o) = serde_json::from_str::<Loose<Outer>>(text).expect(text);
        o
    }

    /// Every kind of JSON value, nested containers included.
    fn every_kind() -> Vec<Value> {
        vec![
            json!(null),
            json!(true),
            json!(0),
            json!(7),
            json!(-1),
            json!(1.5),
            json!(1e300),
            json!(18446744073709551615_u64),
            json!(""),
            json!("x"),
            json!([]),
            json!([1, [2, {"a": [3]}]]),
            json!({}),
            json!({"name": {"deep": [1, 2]}, "other": null}),
        ]
    }

    #[test]
    fn each_reader_keeps_its_type_and_takes_any_other_as_absent() {
        for v in every_kind() {
            for key in ["s", "n", "b", "o", "maybe", "l"] {
                let text = json!({ key: v, "last": "kept" }).to_string();
                let o = read(&text);
                assert_eq!(o.last, "kept", "{text}: the fields after it are still read");
                let expect = Outer {
                    s: (key == "s")
                        .then(|| v.as_str().map(str::to_string))
                        .flatten(),
                    n: (key == "n").then(|| v.as_u64()).flatten(),
                    b: (key == "b").then(|| v.as_bool()).flatten(),
                    o: Inner::default(),
                    maybe: (key == "maybe" && v.is_object()).then(Inner::default),
                    l: Vec::new(),
                    last: "kept".into(),
                };
                if key == "o" || key == "l" {
                    // A nested object never has a string `name` here; the list holds one
                    // default item per element, whatever its type.
                    assert_eq!(o.o, Inner::default(), "{text}");
                    let len = if key == "l" {
                        v.as_array().map_or(0, Vec::len)
                    } else {
                        0
                    };
                    assert_eq!(o.l.len(), len, "{text}");
                } else {
                    assert_eq!(o, expect, "{text}");
                }
            }
        }
    }

    #[test]
    fn objects_and_lists_read_what_they_hold() {
        let o = read(
            r#"{"o": {"name": "a"}, "maybe": {"name": "b"},
                "l": [{"name": "c"}, 3, null, {"name": 4}, {"name": "d"}], "n": 42}"#,
        );
        assert_eq!(o.o.name.as_deref(), Some("a"));
        assert_eq!(o.maybe.and_then(|i| i.name).as_deref(), Some("b"));
        let names: Vec<Option<&str>> = o.l.iter().map(|i| i.name.as_deref()).collect();
        assert_eq!(names, [Some("c"), None, None, None, Some("d")]);
        assert_eq!(o.n, Some(42));
    }

    #[test]
    fn a_whole_answer_of_the_wrong_shape_is_empty() {
        for v in every_kind().into_iter().filter(|v| !v.is_object()) {
            assert_eq!(read(&v.to_string()), Outer::default(), "{v}");
            let LooseList(l) =
                serde_json::from_str::<LooseList<Inner>>(&v.to_string()).expect("list");
            assert_eq!(l.len(), v.as_array().map_or(0, Vec::len), "{v}");
        }
    }

    #[test]
    fn broken_documents_are_errors_not_guesses() {
        for text in [r#"{"s": "a", "s": "b"}"#, r#"{"s": "#, "[1,", "nul", ""] {
            assert!(
                serde_json::from_str::<Loose<Outer>>(text).is_err(),
                "{text}"
            );
        }
    }

    proptest::proptest! {
        /// Any JSON document reads as an `Outer` without error when it has no duplicate keys.
        #[test]
        fn any_document_reads(v in json_value()) {
            let text = v.to_string();
            let read = serde_json::from_str::<Loose<Outer>>(&text);
            proptest::prop_assert!(read.is_ok(), "{text}: {read:?}");
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z]{0,3}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            let key = prop_oneof![
                Just("s".to_string()),
                Just("n".to_string()),
                Just("b".to_string()),
                Just("o".to_string()),
                Just("maybe".to_string()),
                Just("l".to_string()),
                Just("name".to_string()),
                "[a-z]{1,2}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                proptest::collection::btree_map(key, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
