//! The webhook payload, modelled tolerantly: GitHub's examples and live payloads both omit fields
//! its schema calls required, so everything we do not strictly need is optional (an `Option`
//! field that is missing reads as `None`; serde needs no `default` for that).
use serde::Deserialize;
use std::path::Path;

/// Why an event file cannot be used; `plan` and `run` exit 2 on these.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("GITHUB_EVENT_NAME is not set (pass --event-name or run inside GitHub Actions)")]
    MissingName,
    #[error("GITHUB_EVENT_PATH is not set (pass --event-path or run inside GitHub Actions)")]
    MissingPath,
    #[error("cannot read the event file {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("the event file {path} is not a JSON webhook payload: {cause}")]
    Malformed {
        path: String,
        cause: serde_json::Error,
    },
}

/// An event as the workflow received it.
#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub payload: Payload,
}

impl Event {
    pub fn load(name: Option<&str>, path: Option<&Path>) -> Result<Self, EventError> {
        let name = name
            .filter(|n| !n.is_empty())
            .ok_or(EventError::MissingName)?;
        let path = path.ok_or(EventError::MissingPath)?;
        let text = std::fs::read_to_string(path).map_err(|cause| EventError::Read {
            path: path.display().to_string(),
            cause,
        })?;
        Self::parse(name, &text).map_err(|cause| EventError::Malformed {
            path: path.display().to_string(),
            cause,
        })
    }

    pub fn parse(name: &str, json: &str) -> Result<Self, serde_json::Error> {
        // serde reads a struct from an array too; a webhook payload is always an object.
        if !json.trim_start().starts_with('{') {
            return Err(<serde_json::Error as serde::de::Error>::custom(
                "a webhook payload is a JSON object",
            ));
        }
        let payload: Payload = serde_json::from_str(json)?;
        Ok(Self {
            name: name.to_string(),
            payload,
        })
    }

    pub fn action(&self) -> &str {
        self.payload.action.as_deref().unwrap_or("")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Payload {
    pub action: Option<String>,
    pub sender: Option<User>,
    pub repository: Option<Repository>,
    pub issue: Option<Issue>,
    pub comment: Option<Comment>,
    pub pull_request: Option<PullRequest>,
    pub review: Option<Review>,
    pub changes: Option<Changes>,
    pub assignee: Option<User>,
    pub label: Option<Label>,
    /// Present on `pull_request*` payloads; act needs it for review events.
    pub number: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    #[serde(default)]
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

impl User {
    pub fn is_bot(&self) -> bool {
        self.kind.as_deref() == Some("Bot") || self.login.ends_with("[bot]")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Repository {
    pub full_name: Option<String>,
    pub default_branch: Option<String>,
    pub private: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Issue {
    pub number: u64,
    pub title: Option<String>,
    pub body: Option<String>,
    pub user: Option<User>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub html_url: Option<String>,
    /// Present (an object of URLs) when the "issue" is a pull request.
    pub pull_request: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Comment {
    pub id: u64,
    pub body: Option<String>,
    pub user: Option<User>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub html_url: Option<String>,
    /// Review comments only: the file and line they sit on.
    pub path: Option<String>,
    pub line: Option<u64>,
    pub diff_hunk: Option<String>,
    /// Review comments only: the thread's first comment, which replies must target.
    pub in_reply_to_id: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: Option<String>,
    pub body: Option<String>,
    pub user: Option<User>,
    pub created_at: Option<String>,
    pub html_url: Option<String>,
    pub head: Option<GitRef>,
    pub base: Option<GitRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GitRef {
    #[serde(default, rename = "ref")]
    pub name: Option<String>,
    pub sha: Option<String>,
    pub repo: Option<Repository>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Review {
    pub id: u64,
    pub body: Option<String>,
    pub user: Option<User>,
    pub submitted_at: Option<String>,
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Changes {
    pub body: Option<ChangedText>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChangedText {
    pub from: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Label {
    #[serde(default)]
    pub name: String,
}
