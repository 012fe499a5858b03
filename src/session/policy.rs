//! Decides whether and how a session may be saved, from the store, the repository's visibility and the
//! `session_key` / `session_encryption` inputs.
//!
//! Rules:
//! * `session_store: off` never saves.
//! * With a non-empty `session_key` the archive is always encrypted (whatever `session_encryption` says).
//! * Without a key, *shared* stores (`git`: hidden refs anyone with read access can fetch; `actions-cache`:
//!   readable by other workflow runs, including fork PR runs on public repositories) refuse to save on a
//!   public (or unknown-visibility) repository, and on a private/internal one save in clear only when
//!   `session_encryption: off` was set explicitly.
//! * The `dir:` store lives on the fleet's own disk, so it may save in clear without a key.
use super::store::SessionStoreKind;
use crate::secret::Secret;

/// Repository visibility as reported by the GitHub API's `private` flag. An enterprise's
/// `internal` repositories report `private: true` and are handled alike, so they need no case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Private,
    /// Not known (API call failed): treated like public.
    Unknown,
}

/// The `session_encryption` input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EncryptionSetting {
    /// Encrypt when a key is set; refuse clear saves to shared stores.
    #[default]
    Auto,
    /// Explicitly allow clear archives on private repositories when no key is set.
    Off,
}

impl std::str::FromStr for EncryptionSetting {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" | "on" | "true" => Ok(Self::Auto),
            "off" | "false" | "none" => Ok(Self::Off),
            other => Err(format!("expected auto (or on) or off, got {other:?}")),
        }
    }
}

/// What to do at save time.
#[derive(Debug, PartialEq, Eq)]
pub enum SaveDecision<'a> {
    /// Seal with this key.
    Encrypt(&'a Secret),
    /// Seal in clear (integrity digest only).
    Clear,
    /// Do not save; the reason is meant for the run log.
    Skip(String),
}

impl SaveDecision<'_> {
    /// The secret to hand to `seal`, if saving at all.
    pub fn secret(&self) -> Option<&Secret> {
        match self {
            SaveDecision::Encrypt(secret) => Some(secret),
            _ => None,
        }
    }
}

const HOW_TO_SET_KEY: &str = "add a repository secret (e.g. `COWORKER_SESSION_KEY`, 32+ random characters: \
`openssl rand -base64 32`) and pass it as `session_key: ${{ secrets.COWORKER_SESSION_KEY }}`";

/// Applies the rules above.
pub fn save_decision<'a>(
    store: &SessionStoreKind,
    visibility: Visibility,
    key: Option<&'a Secret>,
    encryption: EncryptionSetting,
) -> SaveDecision<'a> {
    if matches!(store, SessionStoreKind::Off) {
        return SaveDecision::Skip("session_store is off".into());
    }
    if let Some(key) = key.filter(|k| !k.is_empty()) {
        return SaveDecision::Encrypt(key);
    }
    if !store.is_shared() {
        return SaveDecision::Clear;
    }
    match visibility {
        Visibility::Public | Visibility::Unknown => SaveDecision::Skip(format!(
            "not saving the agent session: this repository is public (or its visibility is unknown) and \
             no session_key is set, so the transcript would be readable by anyone; {HOW_TO_SET_KEY}"
        )),
        Visibility::Private => match encryption {
            EncryptionSetting::Off => SaveDecision::Clear,
            EncryptionSetting::Auto => SaveDecision::Skip(format!(
                "not saving the agent session: no session_key is set; {HOW_TO_SET_KEY}, or set \
                 `session_encryption: off` to store it unencrypted in this private repository"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn public_repository_without_key_does_not_save_remotely() {
        for store in [SessionStoreKind::Git, SessionStoreKind::ActionsCache] {
            let d = save_decision(&store, Visibility::Public, None, EncryptionSetting::Off);
            let SaveDecision::Skip(reason) = d else {
                panic!("expected skip, got {d:?}")
            };
            assert!(reason.contains("session_key"), "{reason}");
            let empty = Secret::new("");
            let d = save_decision(
                &store,
                Visibility::Unknown,
                Some(&empty),
                EncryptionSetting::Auto,
            );
            assert!(
                matches!(d, SaveDecision::Skip(_)),
                "an empty key counts as no key"
            );
        }
    }

    #[test]
    fn private_repository_needs_explicit_clear_opt_in() {
        let d = save_decision(
            &SessionStoreKind::Git,
            Visibility::Private,
            None,
            EncryptionSetting::Auto,
        );
        let SaveDecision::Skip(reason) = d else {
            panic!("expected skip")
        };
        assert!(reason.contains("session_encryption: off"), "{reason}");
        assert_eq!(
            save_decision(
                &SessionStoreKind::Git,
                Visibility::Private,
                None,
                EncryptionSetting::Off
            ),
            SaveDecision::Clear
        );
    }

    #[test]
    fn a_key_always_encrypts_and_off_never_saves() {
        let key = Secret::new("k");
        assert_eq!(
            save_decision(
                &SessionStoreKind::Git,
                Visibility::Public,
                Some(&key),
                EncryptionSetting::Off
            ),
            SaveDecision::Encrypt(&key)
        );
        assert!(matches!(
            save_decision(
                &SessionStoreKind::Off,
                Visibility::Private,
                Some(&key),
                EncryptionSetting::Auto
            ),
            SaveDecision::Skip(_)
        ));
    }

    #[test]
    fn local_dir_store_may_save_in_clear() {
        let store = SessionStoreKind::Dir(PathBuf::from("/srv/sessions"));
        assert_eq!(
            save_decision(&store, Visibility::Public, None, EncryptionSetting::Auto),
            SaveDecision::Clear
        );
    }

    #[test]
    fn encryption_setting_parses() {
        assert_eq!(
            "OFF".parse::<EncryptionSetting>(),
            Ok(EncryptionSetting::Off)
        );
        assert!("maybe".parse::<EncryptionSetting>().is_err());
    }
}
