//! The LiteLLM `config.yaml` as serde reads it: the keys this proxy honours are typed fields,
//! every other key lands in an `extra` map so the reader can warn about it by name instead of
//! failing a config written for LiteLLM. Values stay as written (`os.environ/VAR` included);
//! resolving and checking them is the reader's job, after parsing. `yaml_serde` names the path
//! and line of a value of the wrong kind, so these types need no error handling of their own.
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Keys present but not modelled, with their values (only the keys are used).
pub(super) type Extra = BTreeMap<String, yaml_serde::Value>;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a LiteLLM config: a mapping with `model_list`")]
pub(super) struct LiteLlmFile {
    #[serde(default)]
    pub(super) model_list: Option<Vec<ModelEntry>>,
    #[serde(default)]
    pub(super) general_settings: Option<GeneralSettings>,
    #[serde(default)]
    pub(super) litellm_settings: Option<LiteLlmSettings>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

/// One `model_list` entry: the alias clients ask for and where it goes.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a mapping with `model_name` and `litellm_params`")]
pub(super) struct ModelEntry {
    #[serde(default)]
    pub(super) model_name: Option<Text>,
    #[serde(default)]
    pub(super) litellm_params: Option<LiteLlmParams>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

/// `litellm_params` of one entry.
#[derive(Debug, Deserialize)]
#[serde(expecting = "`litellm_params` as a mapping (`model`, `api_base`, `api_key`)")]
pub(super) struct LiteLlmParams {
    #[serde(default)]
    pub(super) model: Option<Text>,
    #[serde(default)]
    pub(super) api_base: Option<Text>,
    /// OpenAI's name for `api_base`, which LiteLLM accepts too.
    #[serde(default)]
    pub(super) base_url: Option<Text>,
    #[serde(default)]
    pub(super) api_key: Option<Text>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

/// `general_settings`: only the client key is honoured.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "`general_settings` as a mapping")]
pub(super) struct GeneralSettings {
    #[serde(default)]
    pub(super) master_key: Option<Text>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

/// `litellm_settings`: the client key, retries and the upstream timeout.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "`litellm_settings` as a mapping")]
pub(super) struct LiteLlmSettings {
    #[serde(default)]
    pub(super) master_key: Option<Text>,
    #[serde(default)]
    pub(super) num_retries: Option<u32>,
    #[serde(default)]
    pub(super) request_timeout: Option<f64>,
    /// Dropping unknown params is what this proxy does anyway: accepted, not warned about.
    #[serde(default, rename = "drop_params")]
    _drop_params: Option<de::IgnoredAny>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

/// A string as written, numbers included (`api_key: 12345` is a key): possibly an
/// `os.environ/VAR` reference, resolved by the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text(pub(super) String);

impl Text {
    /// The variable an `os.environ/VAR` value refers to.
    pub(super) fn env_reference(&self) -> Option<&str> {
        self.0.strip_prefix("os.environ/")
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_land_in_extra_at_every_level() {
        let yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: x/y, rpm: 3}\n    model_info: {}\nrouter_settings: {}\nlitellm_settings: {cache: true, drop_params: true}\n";
        let file: LiteLlmFile = yaml_serde::from_str(yaml).expect("parsed");
        assert_eq!(file.extra.keys().collect::<Vec<_>>(), ["router_settings"]);
        let entry = &file.model_list.expect("list")[0];
        assert_eq!(entry.model_name, Some(Text("a".into())));
        assert_eq!(entry.extra.keys().collect::<Vec<_>>(), ["model_info"]);
        let params = entry.litellm_params.as_ref().expect("params");
        assert_eq!(params.extra.keys().collect::<Vec<_>>(), ["rpm"]);
        let settings = file.litellm_settings.expect("settings");
        assert_eq!(settings.extra.keys().collect::<Vec<_>>(), ["cache"]);
    }

    #[test]
    fn numbers_are_text_and_type_errors_say_where() {
        let yaml =
            "model_list:\n  - model_name: 7\n    litellm_params: {model: x/y, api_key: 12345}\n";
        let file: LiteLlmFile = yaml_serde::from_str(yaml).expect("parsed");
        let entry = &file.model_list.expect("list")[0];
        assert_eq!(entry.model_name, Some(Text("7".into())));
        let key = entry
            .litellm_params
            .as_ref()
            .and_then(|p| p.api_key.clone());
        assert_eq!(key, Some(Text("12345".into())));

        let bad = "model_list:\n  - model_name: a\n    litellm_params: {model: x/y}\n  - model_name: [b]\n";
        let err = yaml_serde::from_str::<LiteLlmFile>(bad).expect_err("a list as a name");
        assert!(err.to_string().contains("model_list[1]"), "{err}");
        let err = yaml_serde::from_str::<LiteLlmFile>("model_list: 42").expect_err("not a list");
        assert!(err.to_string().contains("model_list"), "{err}");
        let err = yaml_serde::from_str::<LiteLlmFile>("litellm_settings: {num_retries: -1}")
            .expect_err("not a count");
        assert!(err.to_string().contains("num_retries"), "{err}");
    }
}
