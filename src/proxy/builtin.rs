//! The built-in providers: without a `proxy_config`, the run's own model credentials (an
//! Anthropic key or OAuth token, AWS for Bedrock, Google for Vertex AI) become a one-route proxy
//! config, read from the runner's environment under the names Claude Code itself reads, so the
//! proxy holds them and the agent holds only the proxy's per-run token.
use super::config::{ConfigError, ModelRoute, ProxyConfig};
use super::upstream::aws::AwsCredentialSource;
use super::upstream::gcp::GcpCredentials;
use super::upstream::{
    AnthropicCredential, BedrockUpstream, DirectUpstream, Upstream, VertexUpstream,
};

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Anthropic's API, unless the runner points `ANTHROPIC_BASE_URL` at a gateway.
pub const ANTHROPIC_API: &str = "https://api.anthropic.com";

/// Claude Code's own default model on Bedrock (2.1.197), before the regional prefix.
pub const BEDROCK_DEFAULT_MODEL: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
/// Claude Code's own default model on Vertex AI (2.1.197).
pub const VERTEX_DEFAULT_MODEL: &str = "claude-sonnet-4-5@20250929";

fn get(env: Env<'_>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn invalid(problem: String) -> ConfigError {
    ConfigError::Provider(problem)
}

/// Anthropic's API with a key or token; the client's model and headers go through. A gateway
/// URL in `ANTHROPIC_BASE_URL` that no request could ever reach is refused by name.
pub fn anthropic(
    credential: AnthropicCredential,
    env: Env<'_>,
) -> Result<ProxyConfig, ConfigError> {
    let api_base = match get(env, "ANTHROPIC_BASE_URL") {
        Some(url) => super::config::checked_url(url, || "ANTHROPIC_BASE_URL".into())?,
        None => ANTHROPIC_API.into(),
    };
    Ok(ProxyConfig::single(
        ModelRoute {
            alias: "anthropic".into(),
            upstream: Upstream::AnthropicDirect(DirectUpstream {
                api_base,
                credential,
            }),
        },
        Vec::new(),
    ))
}

/// The cross-region inference profile prefix Claude Code puts before its default model id.
pub fn inference_profile_prefix(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "us-gov"
    } else if region.starts_with("us-") {
        "us"
    } else if region.starts_with("eu-") {
        "eu"
    } else if region.starts_with("ap-") {
        "apac"
    } else {
        "global"
    }
}

/// Bedrock from the AWS environment: region from `AWS_REGION`/`AWS_DEFAULT_REGION`, model
/// from `ANTHROPIC_MODEL` or Claude Code's default, endpoint from `ANTHROPIC_BEDROCK_BASE_URL`,
/// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` or `AWS_ENDPOINT_URL`.
pub fn bedrock(env: Env<'_>) -> Result<ProxyConfig, ConfigError> {
    let region = get(env, "AWS_REGION")
        .or_else(|| get(env, "AWS_DEFAULT_REGION"))
        .ok_or_else(|| {
            invalid("Bedrock needs a region: set AWS_REGION (or AWS_DEFAULT_REGION)".into())
        })?;
    let credentials = AwsCredentialSource::from_env(env, &region).map_err(invalid)?;
    let endpoint = get(env, "ANTHROPIC_BEDROCK_BASE_URL")
        .or_else(|| get(env, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"))
        .or_else(|| get(env, "AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| format!("https://bedrock-runtime.{region}.amazonaws.com"))
        .trim_end_matches('/')
        .to_string();
    let endpoint = super::config::checked_url(endpoint, || {
        "ANTHROPIC_BEDROCK_BASE_URL / AWS_ENDPOINT_URL_BEDROCK_RUNTIME / AWS_ENDPOINT_URL".into()
    })?;
    let model = get(env, "ANTHROPIC_MODEL").unwrap_or_else(|| {
        format!(
            "{}.{BEDROCK_DEFAULT_MODEL}",
            inference_profile_prefix(&region)
        )
    });
    Ok(ProxyConfig::single(
        ModelRoute {
            alias: model.clone(),
            upstream: Upstream::Bedrock(BedrockUpstream {
                region,
                endpoint,
                model,
                credentials,
            }),
        },
        Vec::new(),
    ))
}

/// Vertex AI from the Google environment: project from `ANTHROPIC_VERTEX_PROJECT_ID`,
/// `GOOGLE_CLOUD_PROJECT` (or the service account file), region from `CLOUD_ML_REGION`, model
/// from `ANTHROPIC_MODEL` or Claude Code's default, base URL from `ANTHROPIC_VERTEX_BASE_URL`.
pub fn vertex(env: Env<'_>) -> Result<ProxyConfig, ConfigError> {
    let region = get(env, "CLOUD_ML_REGION").ok_or_else(|| {
        invalid("Vertex AI needs a region: set CLOUD_ML_REGION (e.g. us-east5 or global)".into())
    })?;
    let credentials = GcpCredentials::from_env(env).map_err(invalid)?;
    let project = get(env, "ANTHROPIC_VERTEX_PROJECT_ID")
        .or_else(|| get(env, "GOOGLE_CLOUD_PROJECT"))
        .or_else(|| get(env, "GCLOUD_PROJECT"))
        .or_else(|| credentials.project_id.clone())
        .ok_or_else(|| {
            invalid(
                "Vertex AI needs a project: set ANTHROPIC_VERTEX_PROJECT_ID (or \
                 GOOGLE_CLOUD_PROJECT)"
                    .into(),
            )
        })?;
    let base_url = get(env, "ANTHROPIC_VERTEX_BASE_URL")
        .unwrap_or_else(|| {
            if region == "global" {
                "https://aiplatform.googleapis.com/v1".into()
            } else {
                format!("https://{region}-aiplatform.googleapis.com/v1")
            }
        })
        .trim_end_matches('/')
        .to_string();
    let base_url = super::config::checked_url(base_url, || "ANTHROPIC_VERTEX_BASE_URL".into())?;
    let model = get(env, "ANTHROPIC_MODEL").unwrap_or_else(|| VERTEX_DEFAULT_MODEL.into());
    Ok(ProxyConfig::single(
        ModelRoute {
            alias: model.clone(),
            upstream: Upstream::Vertex(VertexUpstream {
                project,
                region,
                base_url,
                model,
                credentials,
            }),
        },
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::env_of;
    use crate::secret::Secret;

    #[test]
    fn bedrock_defaults_follow_claude_code() {
        for (region, prefix) in [
            ("us-east-1", "us"),
            ("us-gov-west-1", "us-gov"),
            ("eu-central-1", "eu"),
            ("ap-southeast-2", "apac"),
            ("ca-central-1", "global"),
        ] {
            assert_eq!(inference_profile_prefix(region), prefix, "{region}");
        }
        let env = env_of(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA1"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]);
        let cfg = bedrock(&env).expect("config");
        assert_eq!(
            cfg.agent_model(),
            Some("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
        );
        let Upstream::Bedrock(b) = &cfg.models[0].upstream else {
            panic!("not bedrock")
        };
        assert_eq!(
            b.endpoint,
            "https://bedrock-runtime.eu-west-1.amazonaws.com"
        );

        let env = env_of(&[
            ("AWS_DEFAULT_REGION", "us-west-2"),
            ("AWS_ACCESS_KEY_ID", "AKIA1"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            (
                "ANTHROPIC_MODEL",
                "us.anthropic.claude-opus-4-1-20250805-v1:0",
            ),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9/"),
        ]);
        let cfg = bedrock(&env).expect("config");
        assert_eq!(
            cfg.agent_model(),
            Some("us.anthropic.claude-opus-4-1-20250805-v1:0")
        );
        let Upstream::Bedrock(b) = &cfg.models[0].upstream else {
            panic!("not bedrock")
        };
        assert_eq!(b.endpoint, "http://127.0.0.1:9");

        let err = bedrock(&env_of(&[("AWS_ACCESS_KEY_ID", "x")])).expect_err("no region");
        assert!(err.to_string().contains("AWS_REGION"), "{err}");
    }

    #[test]
    fn vertex_needs_a_region_and_a_project() {
        let err = vertex(&env_of(&[])).expect_err("no region");
        assert!(err.to_string().contains("CLOUD_ML_REGION"), "{err}");
    }

    #[test]
    fn anthropic_takes_the_gateway_url_and_any_model() {
        let cfg = anthropic(
            AnthropicCredential::ApiKey(Secret::new("sk-x")),
            &env_of(&[("ANTHROPIC_BASE_URL", "http://gw.internal")]),
        )
        .expect("a gateway URL");
        assert_eq!(cfg.agent_model(), None);
        assert!(cfg.route("whatever-model").is_some());
        let Upstream::AnthropicDirect(d) = &cfg.models[0].upstream else {
            panic!("not direct")
        };
        assert_eq!(d.api_base, "http://gw.internal");
        let cfg = anthropic(AnthropicCredential::ApiKey(Secret::new("sk-x")), &|_| None)
            .expect("the default URL");
        let Upstream::AnthropicDirect(d) = &cfg.models[0].upstream else {
            panic!("not direct")
        };
        assert_eq!(d.api_base, ANTHROPIC_API);
    }

    #[test]
    fn anthropic_refuses_a_gateway_url_no_request_can_reach() {
        for url in ["ftp://x", "http://", "not a url"] {
            let err = anthropic(
                AnthropicCredential::ApiKey(Secret::new("sk-x")),
                &|name: &str| (name == "ANTHROPIC_BASE_URL").then(|| url.to_string()),
            )
            .expect_err(url);
            assert!(err.to_string().starts_with("ANTHROPIC_BASE_URL "), "{err}");
        }
    }
}
