//! Why a proxy configuration (a LiteLLM file, the SAP variables or a built-in provider's
//! environment) could not be turned into a usable proxy: one type for every way of loading
//! one, each message naming the field or variable at fault, never a credential's value.

/// Why a configuration could not be turned into a usable proxy.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config is not valid YAML: {0}")]
    Yaml(String),
    /// Valid YAML, but a known key holds the wrong kind of value.
    #[error("config does not have LiteLLM's shape: {0}")]
    Shape(String),
    /// A number that cannot be used as given (a timeout that is not finite).
    #[error("config field `{field}` must be {expected}")]
    Type {
        field: String,
        expected: &'static str,
    },
    #[error("config field `{field}` refers to environment variable {var}, which is not set")]
    MissingEnv { field: String, var: String },
    /// A credential that cannot travel in an HTTP header: sending it would put an empty header
    /// on the wire and the upstream would answer 401 with no hint of the cause.
    #[error(
        "{source_name} holds a credential with a control character inside it; it cannot be sent \
         in an HTTP header (only surrounding whitespace is trimmed)"
    )]
    BadCredential { source_name: String },
    /// An upstream address no request can ever reach (not http/https, no host, not a URL):
    /// refused at load time instead of failing each model call.
    #[error("{source_name} {value:?} can never be reached: {problem}")]
    BadUrl {
        source_name: String,
        value: String,
        problem: String,
    },
    #[error("config field `{0}` is required")]
    Missing(String),
    #[error("config has no usable model in `model_list`")]
    NoModels,
    #[error(
        "SAP AI Core credentials incomplete: {0} (set AICORE_* variables or AICORE_SERVICE_KEY)"
    )]
    Sap(String),
    #[error("AICORE_SERVICE_KEY is not valid JSON: {0}")]
    ServiceKey(String),
    /// A built-in provider's environment is incomplete or unreadable.
    #[error("{0}")]
    Provider(String),
}
