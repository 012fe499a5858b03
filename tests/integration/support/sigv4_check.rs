//! An independent SigV4 verifier for the fake AWS endpoints: it recomputes the signature of the
//! request exactly as received, following AWS's published algorithm step by step, so a wrong
//! canonical form in the proxy (or in the library it uses) fails the test.
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// A request as the fake received it.
pub struct Received<'a> {
    pub method: &'a str,
    /// The path exactly as on the wire (already percent-encoded once).
    pub path: &'a str,
    pub query: &'a str,
    /// Lower-cased names.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// What a valid signature names.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding, unreserved characters kept, as SigV4 requires.
fn uri_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn header<'a>(r: &'a Received<'_>, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Checks the `authorization` header of `r`; `secret_for` gives the secret of an access key.
pub fn verify(
    r: &Received<'_>,
    secret_for: impl Fn(&str) -> Option<String>,
) -> Result<Signed, String> {
    let auth = header(r, "authorization").ok_or("no authorization header")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim) {
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let (credential, signed, signature) = (
        credential.ok_or("no Credential")?,
        signed.ok_or("no SignedHeaders")?,
        signature.ok_or("no Signature")?,
    );
    let scope: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, "aws4_request"] = scope[..] else {
        return Err(format!("bad credential scope {credential}"));
    };
    let amz_date = header(r, "x-amz-date").ok_or("no x-amz-date")?;
    if !amz_date.starts_with(date) {
        return Err("x-amz-date and the scope disagree".into());
    }
    let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
    for required in ["host", "x-amz-date"] {
        if !signed_headers.iter().any(|h| h == required) {
            return Err(format!("{required} is not signed"));
        }
    }
    // Canonical URI: every segment encoded once more (all services but S3).
    let canonical_uri = r
        .path
        .split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/");
    let mut pairs: Vec<(String, String)> = r
        .query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    pairs.sort();
    let canonical_query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    for name in &signed_headers {
        let values: Vec<String> = r
            .headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(format!("signed header {name} is missing"));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let canonical_request = format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed}\n{}",
        r.method,
        hex(&Sha256::digest(r.body))
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let secret = secret_for(akid).ok_or_else(|| format!("unknown access key {akid}"))?;
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date);
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part);
    }
    let expected = hex(&hmac(&key, &string_to_sign));
    if expected != signature {
        return Err(format!(
            "signature mismatch; canonical request was:\n{canonical_request}"
        ));
    }
    Ok(Signed {
        access_key_id: akid.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
    })
}

#[test]
fn the_verifier_accepts_the_published_get_vanilla_vector_and_nothing_else() {
    let headers = vec![
        ("host".to_string(), "example.amazonaws.com".to_string()),
        ("x-amz-date".to_string(), "20150830T123600Z".to_string()),
        (
            "authorization".to_string(),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                .to_string(),
        ),
    ];
    let secret = |k: &str| {
        (k == "AKIDEXAMPLE").then(|| "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string())
    };
    let r = Received {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers,
        body: b"",
    };
    let signed = verify(&r, secret).expect("the published vector verifies");
    assert_eq!(signed.service, "service");
    let tampered = Received {
        method: "POST",
        ..r
    };
    assert!(verify(&tampered, secret).is_err());
}
