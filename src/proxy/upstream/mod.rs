//! What an upstream is: where one alias sends its requests and with which credential. The
//! config reader, the built-in provider setup and the providers all speak of these types, so
//! they live here, below all three, and this module imports none of them.
pub mod aws;
pub mod gcp;

use crate::secret::Secret;
use aws::AwsCredentialSource;
use gcp::GcpCredentials;

/// Where one alias sends its requests.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// Any server speaking the Anthropic Messages API; bytes are passed through.
    Anthropic(HttpUpstream),
    /// SAP AI Core foundation-model deployment, called through its Bedrock-style `/invoke` routes.
    Sap(SapUpstream),
    /// Any OpenAI-compatible chat-completions server; requests and streams are translated.
    OpenAi(HttpUpstream),
    /// Anthropic's API (or a gateway in its place) with the run's key or token: the client's
    /// model, headers and body go upstream as they are.
    AnthropicDirect(DirectUpstream),
    /// Claude on Amazon Bedrock, signed with SigV4.
    Bedrock(BedrockUpstream),
    /// Claude on Google Vertex AI, with an access token from Application Default Credentials.
    Vertex(VertexUpstream),
}

impl Upstream {
    /// The credential values this upstream holds (none for Vertex, whose tokens are minted by
    /// the Google library), so they can be kept out of every relayed message.
    pub fn secret_values(&self) -> Vec<Secret> {
        match self {
            Upstream::Anthropic(u) | Upstream::OpenAi(u) => u.api_key.iter().cloned().collect(),
            Upstream::Sap(s) => vec![
                s.credentials.client_secret.clone(),
                s.credentials.client_id.clone(),
            ],
            Upstream::AnthropicDirect(d) => vec![d.credential.secret().clone()],
            Upstream::Bedrock(b) => b.credentials.secret_values(),
            Upstream::Vertex(_) => Vec::new(),
        }
    }
}

/// Anthropic's API reached with one of the credentials Claude Code itself accepts.
#[derive(Debug, Clone)]
pub struct DirectUpstream {
    pub api_base: String,
    pub credential: AnthropicCredential,
}

/// How the proxy authenticates to Anthropic's API.
#[derive(Debug, Clone)]
pub enum AnthropicCredential {
    /// A Console API key, sent as `x-api-key`.
    ApiKey(Secret),
    /// A gateway's bearer token (`ANTHROPIC_AUTH_TOKEN`), sent as `Authorization: Bearer`.
    AuthToken(Secret),
    /// A Claude subscription token (`claude setup-token`), sent as `Authorization: Bearer`
    /// with the OAuth beta Claude Code adds for it.
    OAuth(Secret),
}

impl AnthropicCredential {
    pub fn secret(&self) -> &Secret {
        match self {
            AnthropicCredential::ApiKey(s)
            | AnthropicCredential::AuthToken(s)
            | AnthropicCredential::OAuth(s) => s,
        }
    }
}

/// An upstream addressed by base URL and optional key.
#[derive(Debug, Clone)]
pub struct HttpUpstream {
    pub api_base: String,
    pub api_key: Option<Secret>,
    /// Model name sent upstream (the part after the provider prefix).
    pub model: String,
}

/// A SAP AI Core model and the credentials to reach it.
#[derive(Debug, Clone)]
pub struct SapUpstream {
    /// SAP model name, e.g. `anthropic--claude-4.6-sonnet`.
    pub model: String,
    pub credentials: SapCredentials,
}

/// OAuth2 client credentials and endpoints of one SAP AI Core tenant.
#[derive(Debug, Clone)]
pub struct SapCredentials {
    /// Token URL, always ending in `/oauth/token`.
    pub auth_url: String,
    pub client_id: Secret,
    pub client_secret: Secret,
    /// API base, always ending in `/v2`.
    pub base_url: String,
    pub resource_group: String,
}

/// Claude on Amazon Bedrock in one region.
#[derive(Debug, Clone)]
pub struct BedrockUpstream {
    pub region: String,
    /// `https://bedrock-runtime.{region}.amazonaws.com`, or an override.
    pub endpoint: String,
    /// Sent when the client asks for a model that is not a Bedrock id.
    pub model: String,
    pub credentials: AwsCredentialSource,
}

/// Claude on Google Vertex AI in one project and region.
#[derive(Debug, Clone)]
pub struct VertexUpstream {
    pub project: String,
    pub region: String,
    /// Up to and including `/v1`, e.g. `https://us-east5-aiplatform.googleapis.com/v1`.
    pub base_url: String,
    /// Sent when the client asks for a model that is not a Vertex id.
    pub model: String,
    pub credentials: GcpCredentials,
}
