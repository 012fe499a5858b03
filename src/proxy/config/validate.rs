//! The checks every value that leaves the proxy goes through at load time, whoever read it
//! (the LiteLLM file, the SAP variables, the built-in providers): an upstream URL must be one a
//! request can reach, a credential must be one an HTTP header can carry. Failing here names the
//! source at once instead of failing each model call with a 401 or a connection error.
use super::error::ConfigError;

/// An upstream base URL that requests can reach: http or https, with a host.
pub(crate) fn checked_url(
    value: String,
    source_name: impl FnOnce() -> String,
) -> Result<String, ConfigError> {
    let problem = match reqwest::Url::parse(&value) {
        Err(e) => format!("not a URL ({e})"),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => {
            format!("the scheme must be http or https, not {}", url.scheme())
        }
        Ok(url) if url.host_str().is_none_or(str::is_empty) => "it names no host".into(),
        Ok(_) => return Ok(value),
    };
    Err(ConfigError::BadUrl {
        source_name: source_name(),
        value: value.chars().take(60).collect(),
        problem,
    })
}

/// A credential as it will travel in a header: surrounding whitespace (the newline a shell or a
/// secrets file leaves at the end) is trimmed; anything else a header cannot carry is refused,
/// naming where the value came from but never the value.
pub(crate) fn header_safe(
    value: String,
    source_name: impl FnOnce() -> String,
) -> Result<String, ConfigError> {
    let trimmed = value.trim();
    if reqwest::header::HeaderValue::from_str(trimmed).is_err()
        || reqwest::header::HeaderValue::from_str(&format!("Bearer {trimmed}")).is_err()
    {
        return Err(ConfigError::BadCredential {
            source_name: source_name(),
        });
    }
    Ok(trimmed.to_string())
}
