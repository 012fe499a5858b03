//! A LiteLLM `config.yaml` turned into routes: the file is parsed into the serde model, its
//! `extra` keys become one warning each, then every entry's values are resolved and checked
//! and its provider prefix picks the upstream. What LiteLLM would do and this proxy does not
//! (load balancing, other providers) is a warning, not a failure, so a config written for
//! LiteLLM keeps working.
use std::time::Duration;

use super::env::{Kind, Resolver};
use super::error::ConfigError;
use super::model::{Extra, LiteLlmFile, LiteLlmParams, ModelEntry, Text};
use super::sap::{AICORE_VARS, sap_model_name};
use super::{DEFAULT_NUM_RETRIES, DEFAULT_REQUEST_TIMEOUT, Env, ModelRoute, ProxyConfig};
use crate::proxy::upstream::{HttpUpstream, SapCredentials, SapUpstream, Upstream};
use crate::secret::Secret;

/// Longest `request_timeout` honoured (a day); shorter than a second is raised to one.
const MAX_REQUEST_TIMEOUT_SECS: f64 = 86_400.0;

impl ProxyConfig {
    /// Reads a LiteLLM `config.yaml`. Returns the config and one warning per ignored key.
    pub fn from_litellm_yaml(
        text: &str,
        env: Env<'_>,
    ) -> Result<(ProxyConfig, Vec<String>), ConfigError> {
        // Syntax first, so a shape error is not reported as broken YAML.
        yaml_serde::from_str::<yaml_serde::Value>(text)
            .map_err(|e| ConfigError::Yaml(e.to_string()))?;
        let file: LiteLlmFile =
            yaml_serde::from_str(text).map_err(|e| ConfigError::Shape(e.to_string()))?;
        let mut reader = Reader {
            resolver: Resolver::new(env),
            warnings: Vec::new(),
        };
        reader.ignored("", &file.extra);

        let general = file.general_settings.unwrap_or_default();
        let litellm = file.litellm_settings.unwrap_or_default();
        reader.ignored("general_settings.", &general.extra);
        reader.ignored("litellm_settings.", &litellm.extra);
        let master_key = reader.master_key(&general.master_key, &litellm.master_key)?;
        let num_retries = litellm.num_retries.unwrap_or(DEFAULT_NUM_RETRIES);
        let request_timeout = match litellm.request_timeout {
            None => DEFAULT_REQUEST_TIMEOUT,
            Some(secs) if secs.is_finite() => {
                Duration::from_secs_f64(secs.clamp(1.0, MAX_REQUEST_TIMEOUT_SECS))
            }
            Some(_) => {
                return Err(ConfigError::Type {
                    field: "litellm_settings.request_timeout".into(),
                    expected: "a finite number of seconds",
                });
            }
        };

        let mut models: Vec<ModelRoute> = Vec::new();
        let entries = file.model_list.unwrap_or_default();
        for (i, entry) in entries.iter().enumerate() {
            let Some(route) = reader.model_entry(i, entry)? else {
                continue;
            };
            if models.iter().any(|m| m.alias == route.alias) {
                reader.warn(format!(
                    "model_list[{i}]: a second deployment for `{}` is ignored (no load balancing)",
                    route.alias
                ));
            } else {
                models.push(route);
            }
        }
        if models.is_empty() {
            return Err(ConfigError::NoModels);
        }
        let config = ProxyConfig {
            models,
            master_key,
            num_retries,
            request_timeout,
            secret_envs: reader.resolver.into_secret_envs(),
        };
        Ok((config, reader.warnings))
    }
}

struct Reader<'a> {
    resolver: Resolver<'a>,
    warnings: Vec<String>,
}

impl Reader<'_> {
    fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// One warning per key of `extra`, named by its full path (`prefix` ends in a dot).
    fn ignored(&mut self, prefix: &str, extra: &Extra) {
        for key in extra.keys() {
            self.warn(format!("`{prefix}{key}` is not supported and is ignored"));
        }
    }

    /// `master_key` from either settings section (`litellm_settings` last, as it is read
    /// last), else `LITELLM_MASTER_KEY`. An empty key is refused: a client sending an empty
    /// key would match it.
    fn master_key(
        &mut self,
        general: &Option<Text>,
        litellm: &Option<Text>,
    ) -> Result<Option<Secret>, ConfigError> {
        let written = [
            ("litellm_settings.master_key", litellm),
            ("general_settings.master_key", general),
        ];
        let mut found = None;
        for (field, text) in written {
            if let Some(text) = text {
                let key = self.resolver.field(field, text, Kind::Credential)?;
                if key.is_empty() {
                    return Err(ConfigError::Type {
                        field: field.into(),
                        expected: "a non-empty key (an empty one would let any client in)",
                    });
                }
                found.get_or_insert(key);
            }
        }
        if found.is_none() {
            found = self
                .resolver
                .credential("LITELLM_MASTER_KEY")?
                .filter(|k| !k.is_empty());
        }
        Ok(found.map(Secret::new))
    }

    /// Reads `model_list[i]`; unsupported providers are skipped with a warning.
    fn model_entry(
        &mut self,
        i: usize,
        entry: &ModelEntry,
    ) -> Result<Option<ModelRoute>, ConfigError> {
        let at = format!("model_list[{i}]");
        self.ignored(&format!("{at}."), &entry.extra);
        let alias = entry
            .model_name
            .as_ref()
            .ok_or_else(|| ConfigError::Missing(format!("{at}.model_name")))?;
        let alias = self
            .resolver
            .field(&format!("{at}.model_name"), alias, Kind::Plain)?;
        let params: &LiteLlmParams = entry
            .litellm_params
            .as_ref()
            .ok_or_else(|| ConfigError::Missing(format!("{at}.litellm_params")))?;
        let p = format!("{at}.litellm_params");
        self.ignored(&format!("{p}."), &params.extra);
        let model = params
            .model
            .as_ref()
            .ok_or_else(|| ConfigError::Missing(format!("{p}.model")))?;
        let model = self
            .resolver
            .field(&format!("{p}.model"), model, Kind::Plain)?;
        let api_base = match (&params.api_base, &params.base_url) {
            (Some(base), Some(_)) => {
                self.warn(format!("`{p}.base_url` is ignored: `api_base` is given"));
                Some(("api_base", base))
            }
            (Some(base), None) => Some(("api_base", base)),
            (None, Some(base)) => Some(("base_url", base)),
            (None, None) => None,
        };
        let api_base = api_base
            .map(|(name, base)| self.resolver.field(&format!("{p}.{name}"), base, Kind::Url))
            .transpose()?;
        let api_key = params
            .api_key
            .as_ref()
            .map(|key| {
                self.resolver
                    .field(&format!("{p}.api_key"), key, Kind::Credential)
            })
            .transpose()?
            .map(Secret::new);

        let (provider, name) = match model.split_once('/') {
            Some((p, rest)) => (p.to_string(), rest.to_string()),
            None if model.starts_with("claude") => ("anthropic".to_string(), model.clone()),
            None => (String::new(), model.clone()),
        };
        let upstream = match provider.as_str() {
            "anthropic" => Upstream::Anthropic(HttpUpstream {
                api_base: match api_base {
                    Some(b) => b,
                    None => self
                        .resolver
                        .default_from("ANTHROPIC_API_BASE", Kind::Url)?
                        .unwrap_or_else(|| "https://api.anthropic.com".into()),
                },
                api_key: match api_key {
                    Some(k) => Some(k),
                    None => self
                        .resolver
                        .default_from("ANTHROPIC_API_KEY", Kind::Credential)?
                        .map(Secret::new),
                },
                model: name,
            }),
            "openai" => Upstream::OpenAi(HttpUpstream {
                api_base: match api_base {
                    Some(b) => b,
                    None => match self.resolver.default_from("OPENAI_API_BASE", Kind::Url)? {
                        Some(b) => b,
                        None => self
                            .resolver
                            .default_from("OPENAI_BASE_URL", Kind::Url)?
                            .unwrap_or_else(|| "https://api.openai.com/v1".into()),
                    },
                },
                api_key: match api_key {
                    Some(k) => Some(k),
                    None => self
                        .resolver
                        .default_from("OPENAI_API_KEY", Kind::Credential)?
                        .map(Secret::new),
                },
                model: name,
            }),
            "sap" => {
                if api_base.is_some() || api_key.is_some() {
                    self.warn(format!(
                        "{at}: `api_base`/`api_key` are ignored for sap/ (AICORE_* variables are used)"
                    ));
                }
                let credentials = SapCredentials::from_env(self.resolver.env())?;
                self.resolver.note_secret_vars(AICORE_VARS);
                Upstream::Sap(SapUpstream {
                    model: sap_model_name(&model).to_string(),
                    credentials,
                })
            }
            _ => {
                self.warn(format!(
                    "{at}: provider of `{model}` is not supported; entry `{alias}` is ignored"
                ));
                return Ok(None);
            }
        };
        Ok(Some(ModelRoute { alias, upstream }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str, env: &[(&str, &str)]) -> Result<(ProxyConfig, Vec<String>), ConfigError> {
        let env = |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        ProxyConfig::from_litellm_yaml(yaml, &env)
    }

    const ONE: &str = "model_list:\n  - model_name: a\n    litellm_params: {model: anthropic/x}\n";

    #[test]
    fn broken_yaml_and_wrong_shapes_are_told_apart_and_located() {
        let err = load("model_list: [", &[]).expect_err("syntax");
        assert!(matches!(err, ConfigError::Yaml(_)), "{err}");
        let err = load(
            &format!("{ONE}  - model_name: b\n    litellm_params: [1]\n"),
            &[],
        )
        .expect_err("params as a list");
        assert!(matches!(err, ConfigError::Shape(_)), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("model_list[1]") && text.contains("litellm_params"),
            "{text}"
        );
        let err = load("- a\n- b\n", &[]).expect_err("a list at the top");
        assert!(err.to_string().contains("LiteLLM config"), "{err}");
    }

    #[test]
    fn every_level_warns_about_its_own_unknown_keys() {
        let yaml = format!(
            "{ONE}    extra_entry_key: 1\ngeneral_settings: {{num_retries: 3, database_url: x}}\nlitellm_settings: {{drop_params: true}}\n"
        );
        let (cfg, warnings) = load(&yaml, &[]).expect("valid");
        assert_eq!(
            cfg.num_retries, 2,
            "num_retries is read from litellm_settings only"
        );
        assert_eq!(
            warnings,
            [
                "`general_settings.database_url` is not supported and is ignored",
                "`general_settings.num_retries` is not supported and is ignored",
                "`model_list[0].extra_entry_key` is not supported and is ignored",
            ]
        );
    }

    #[test]
    fn an_empty_master_key_is_refused_and_a_blank_variable_is_unset() {
        let err = load(
            &format!("{ONE}general_settings: {{master_key: \"\"}}\n"),
            &[],
        )
        .expect_err("empty key");
        assert!(
            err.to_string().contains("general_settings.master_key"),
            "{err}"
        );
        let err = load(
            &format!("{ONE}general_settings: {{master_key: os.environ/M}}\n"),
            &[("M", " \n")],
        )
        .expect_err("blank variable behind the key");
        assert!(err.to_string().contains("master_key"), "{err}");
        let (cfg, _) = load(ONE, &[("LITELLM_MASTER_KEY", "  ")]).expect("valid");
        assert!(cfg.master_key.is_none());
        let (cfg, _) = load(ONE, &[("LITELLM_MASTER_KEY", "sk-m\n")]).expect("valid");
        assert_eq!(cfg.master_key.as_ref().map(|k| k.expose()), Some("sk-m"));
        assert_eq!(cfg.secret_env_names(), ["LITELLM_MASTER_KEY"]);
    }

    #[test]
    fn timeouts_are_clamped_and_a_non_number_is_refused_without_a_panic() {
        for (written, secs) in [("0", 1), ("1e30", 86_400), ("30.5", 30)] {
            let yaml = format!("{ONE}litellm_settings: {{request_timeout: {written}}}\n");
            let (cfg, _) = load(&yaml, &[]).expect(written);
            assert_eq!(cfg.request_timeout.as_secs(), secs, "{written}");
        }
        for written in [".nan", ".inf", "-.inf"] {
            let yaml = format!("{ONE}litellm_settings: {{request_timeout: {written}}}\n");
            let err = load(&yaml, &[]).expect_err(written);
            assert!(
                err.to_string().contains("request_timeout"),
                "{written}: {err}"
            );
        }
        let yaml = format!("{ONE}litellm_settings: {{request_timeout: soon}}\n");
        let err = load(&yaml, &[]).expect_err("text");
        assert!(err.to_string().contains("request_timeout"), "{err}");
    }

    #[test]
    fn base_urls_from_references_name_field_and_variable() {
        let yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, base_url: os.environ/GW}\n";
        let (cfg, _) = load(yaml, &[("GW", "http://gw.internal/v1\n")]).expect("valid");
        let Upstream::OpenAi(u) = &cfg.models[0].upstream else {
            panic!("not openai")
        };
        assert_eq!(u.api_base, "http://gw.internal/v1");
        let err = load(yaml, &[("GW", "gw.internal")]).expect_err("no scheme");
        let text = err.to_string();
        assert!(
            text.contains("model_list[0].litellm_params.base_url") && text.contains("GW"),
            "{text}"
        );
        let both = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_base: \"http://a\", base_url: \"http://b\"}\n";
        let (cfg, warnings) = load(both, &[]).expect("valid");
        let Upstream::OpenAi(u) = &cfg.models[0].upstream else {
            panic!("not openai")
        };
        assert_eq!(u.api_base, "http://a");
        assert!(
            warnings.iter().any(|w| w.contains("base_url")),
            "{warnings:?}"
        );
    }
}
