//! Deciding whether an event is a request for the agent, whose, and about what. Pure: no I/O.
mod mention;
pub mod permission;

pub use mention::{mentions, visible_prose};

use crate::event::{Event, User};
use serde::Serialize;

/// The identity the action posts as when `bot_name` is not set.
pub const DEFAULT_BOT_NAME: &str = "github-actions[bot]";

/// What the workflow author configured about triggering.
#[derive(Debug, Clone)]
pub struct TriggerRules {
    pub phrase: String,
    pub assignee: Option<String>,
    pub label: Option<String>,
    pub allowed_bots: BotAllowList,
    pub bot_name: String,
    pub prompt: Option<String>,
}

impl Default for TriggerRules {
    fn default() -> Self {
        Self {
            phrase: "@claude".into(),
            assignee: None,
            label: None,
            allowed_bots: BotAllowList::default(),
            bot_name: DEFAULT_BOT_NAME.into(),
            prompt: None,
        }
    }
}

/// `allowed_bots`: a comma list of bot logins, or `*` for any bot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BotAllowList {
    #[default]
    None,
    Any,
    Only(Vec<String>),
}

impl BotAllowList {
    pub fn parse(text: &str) -> Self {
        let names: Vec<String> = text
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        if names.iter().any(|n| n == "*") {
            Self::Any
        } else if names.is_empty() {
            Self::None
        } else {
            Self::Only(names)
        }
    }

    fn allows(&self, login: &str) -> bool {
        let login = login.to_ascii_lowercase();
        let bare = login.trim_end_matches("[bot]");
        match self {
            Self::None => false,
            Self::Any => true,
            Self::Only(names) => names
                .iter()
                .any(|n| n == &login || n.trim_end_matches("[bot]") == bare),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Run,
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Phrase,
    Assignee,
    Label,
    Prompt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Answering a person who tagged, assigned or labelled.
    Tag,
    /// Running the workflow's fixed `prompt`.
    Agent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Issue,
    PullRequest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Target {
    pub kind: TargetKind,
    pub number: u64,
}

/// Where the request came from, so the action can react to it and reply in the right place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestSource {
    IssueComment { comment_id: u64 },
    ReviewComment { comment_id: u64, thread_root: u64 },
    Review { review_id: u64 },
    IssueBody,
    Assignment,
    Label,
    WorkflowPrompt,
}

/// The words that asked for the agent, as the trigger saw them.
#[derive(Debug, Clone)]
pub struct Request {
    pub body: String,
    pub source: RequestSource,
    /// When the request was made (RFC 3339); context written later is left out.
    pub at: Option<String>,
    pub url: Option<String>,
    /// Review comments only: the file, line and diff hunk the request is attached to.
    pub location: Option<CodeLocation>,
}

/// Where in a pull request's diff a review comment sits, as the webhook payload gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeLocation {
    pub path: String,
    pub line: Option<u64>,
    pub diff_hunk: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub action: Action,
    pub reason: String,
    pub trigger: Option<TriggerKind>,
    pub target: Option<Target>,
    pub actor: String,
    pub mode: Mode,
    #[serde(skip)]
    pub request: Option<Request>,
    /// Whether the actor still needs a repository-permission check before the run.
    #[serde(skip)]
    pub needs_permission_check: bool,
}

impl Decision {
    fn skip(actor: &str, reason: impl Into<String>) -> Self {
        Self {
            action: Action::Skip,
            reason: reason.into(),
            trigger: None,
            target: None,
            actor: actor.to_string(),
            mode: Mode::Tag,
            request: None,
            needs_permission_check: false,
        }
    }

    pub fn runs(&self) -> bool {
        self.action == Action::Run
    }
}

/// Decides run or skip for one event under the workflow's rules.
pub fn decide(event: &Event, rules: &TriggerRules) -> Decision {
    let p = &event.payload;
    let sender = p.sender.clone().unwrap_or_default();
    let actor = sender.login.as_str();

    if is_own_identity(&sender, rules) {
        return Decision::skip(
            actor,
            format!("the event was caused by {actor}, the identity this action posts as"),
        );
    }
    if sender.is_bot() && !rules.allowed_bots.allows(actor) {
        return Decision::skip(
            actor,
            format!("{actor} is a bot and is not listed in allowed_bots"),
        );
    }

    let found = match event.name.as_str() {
        "issue_comment" => from_issue_comment(event, rules),
        "issues" => from_issues(event, rules),
        "pull_request_review_comment" => from_review_comment(event, rules),
        "pull_request_review" => from_review(event, rules),
        "pull_request" | "pull_request_target" => from_pull_request_event(event, rules),
        "workflow_dispatch" | "schedule" | "repository_dispatch" | "push" | "workflow_run" => {
            from_automation(rules)
        }
        other => Err(format!("the {other} event is not one coworker acts on")),
    };
    match found {
        Ok(Found {
            trigger,
            target,
            mode,
            request,
            reason,
        }) => Decision {
            action: Action::Run,
            reason,
            trigger: Some(trigger),
            target,
            actor: actor.to_string(),
            mode,
            request: Some(request),
            // Humans must hold write access; a bot got here only by being allowed explicitly.
            needs_permission_check: !sender.is_bot() && !actor.is_empty(),
        },
        Err(reason) => Decision::skip(actor, reason),
    }
}

struct Found {
    trigger: TriggerKind,
    target: Option<Target>,
    mode: Mode,
    request: Request,
    reason: String,
}

fn is_own_identity(sender: &User, rules: &TriggerRules) -> bool {
    let login = sender.login.to_ascii_lowercase();
    let own = rules.bot_name.to_ascii_lowercase();
    !login.is_empty()
        && (login == own || login.trim_end_matches("[bot]") == own.trim_end_matches("[bot]"))
}

fn with_prompt(rules: &TriggerRules, target: Option<Target>, what: &str) -> Option<Found> {
    let prompt = rules.prompt.as_ref()?;
    Some(Found {
        trigger: TriggerKind::Prompt,
        target,
        mode: Mode::Agent,
        request: Request {
            body: prompt.clone(),
            source: RequestSource::WorkflowPrompt,
            at: None,
            url: None,
            location: None,
        },
        reason: format!("the workflow sets a prompt ({what})"),
    })
}

fn from_issue_comment(event: &Event, rules: &TriggerRules) -> Result<Found, String> {
    let p = &event.payload;
    let issue = p.issue.as_ref().ok_or("the payload has no issue")?;
    let comment = p.comment.as_ref().ok_or("the payload has no comment")?;
    let kind = if issue.pull_request.is_some() {
        TargetKind::PullRequest
    } else {
        TargetKind::Issue
    };
    let target = Target {
        kind,
        number: issue.number,
    };
    let body = comment.body.clone().unwrap_or_default();
    match event.action() {
        "created" | "edited" => {}
        "deleted" => return Err("the comment was deleted".into()),
        other => return Err(format!("issue_comment action {other:?} is not a request")),
    }
    if let Some(found) = with_prompt(rules, Some(target), "issue_comment") {
        return Ok(found);
    }
    if !mentions(&body, &rules.phrase) {
        return Err(format!("the comment does not mention {}", rules.phrase));
    }
    let at = if event.action() == "edited" {
        let before = p
            .changes
            .as_ref()
            .and_then(|c| c.body.as_ref())
            .and_then(|b| b.from.as_deref())
            .unwrap_or("");
        if mentions(before, &rules.phrase) {
            return Err(format!(
                "the edit did not add {}: it was already there",
                rules.phrase
            ));
        }
        comment.updated_at.clone()
    } else {
        comment.created_at.clone()
    };
    Ok(Found {
        trigger: TriggerKind::Phrase,
        target: Some(target),
        mode: Mode::Tag,
        request: Request {
            body,
            source: RequestSource::IssueComment {
                comment_id: comment.id,
            },
            at,
            url: comment.html_url.clone(),
            location: None,
        },
        reason: format!("the comment mentions {}", rules.phrase),
    })
}

fn from_issues(event: &Event, rules: &TriggerRules) -> Result<Found, String> {
    let p = &event.payload;
    let issue = p.issue.as_ref().ok_or("the payload has no issue")?;
    let target = Target {
        kind: TargetKind::Issue,
        number: issue.number,
    };
    let action = event.action();
    if !matches!(action, "opened" | "assigned" | "labeled") {
        return Err(format!("issues action {action:?} is not a request"));
    }
    if let Some(found) = with_prompt(rules, Some(target), "issues") {
        return Ok(found);
    }
    let title = issue.title.clone().unwrap_or_default();
    let body = issue.body.clone().unwrap_or_default();
    let request = |source, at: Option<String>| Request {
        body: format!("{title}\n\n{body}"),
        source,
        at,
        url: issue.html_url.clone(),
        location: None,
    };
    match action {
        "opened" => {
            if mentions(&title, &rules.phrase) || mentions(&body, &rules.phrase) {
                Ok(Found {
                    trigger: TriggerKind::Phrase,
                    target: Some(target),
                    mode: Mode::Tag,
                    request: request(RequestSource::IssueBody, issue.created_at.clone()),
                    reason: format!("the new issue mentions {}", rules.phrase),
                })
            } else {
                Err(format!("the new issue does not mention {}", rules.phrase))
            }
        }
        "assigned" => {
            let wanted = rules
                .assignee
                .as_deref()
                .map(|a| a.trim().trim_start_matches('@').to_ascii_lowercase())
                .filter(|a| !a.is_empty())
                .ok_or("assignee_trigger is not set")?;
            let got = p
                .assignee
                .as_ref()
                .map(|a| a.login.to_ascii_lowercase())
                .unwrap_or_default();
            if got == wanted {
                Ok(Found {
                    trigger: TriggerKind::Assignee,
                    target: Some(target),
                    mode: Mode::Tag,
                    request: request(RequestSource::Assignment, issue.updated_at.clone()),
                    reason: format!("the issue was assigned to {got}"),
                })
            } else {
                Err(format!("the issue was assigned to {got}, not {wanted}"))
            }
        }
        _ => {
            let wanted = rules
                .label
                .as_deref()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .ok_or("label_trigger is not set")?;
            let got = p.label.as_ref().map(|l| l.name.as_str()).unwrap_or("");
            if got.eq_ignore_ascii_case(wanted) {
                Ok(Found {
                    trigger: TriggerKind::Label,
                    target: Some(target),
                    mode: Mode::Tag,
                    request: request(RequestSource::Label, issue.updated_at.clone()),
                    reason: format!("the issue was labelled {got:?}"),
                })
            } else {
                Err(format!("the label {got:?} is not {wanted:?}"))
            }
        }
    }
}

fn pr_number(event: &Event) -> Option<u64> {
    event
        .payload
        .pull_request
        .as_ref()
        .map(|pr| pr.number)
        .or(event.payload.number)
}

fn from_review_comment(event: &Event, rules: &TriggerRules) -> Result<Found, String> {
    let p = &event.payload;
    let number = pr_number(event).ok_or("the payload has no pull request")?;
    let target = Target {
        kind: TargetKind::PullRequest,
        number,
    };
    if event.action() != "created" {
        return Err(format!(
            "pull_request_review_comment action {:?} is not a request",
            event.action()
        ));
    }
    if let Some(found) = with_prompt(rules, Some(target), "pull_request_review_comment") {
        return Ok(found);
    }
    let comment = p.comment.as_ref().ok_or("the payload has no comment")?;
    let body = comment.body.clone().unwrap_or_default();
    if !mentions(&body, &rules.phrase) {
        return Err(format!(
            "the review comment does not mention {}",
            rules.phrase
        ));
    }
    Ok(Found {
        trigger: TriggerKind::Phrase,
        target: Some(target),
        mode: Mode::Tag,
        request: Request {
            body,
            source: RequestSource::ReviewComment {
                comment_id: comment.id,
                thread_root: comment.in_reply_to_id.unwrap_or(comment.id),
            },
            at: comment.created_at.clone(),
            url: comment.html_url.clone(),
            location: comment.path.clone().map(|path| CodeLocation {
                path,
                line: comment.line,
                diff_hunk: comment.diff_hunk.clone(),
            }),
        },
        reason: format!("the review comment mentions {}", rules.phrase),
    })
}

fn from_review(event: &Event, rules: &TriggerRules) -> Result<Found, String> {
    let p = &event.payload;
    let number = pr_number(event).ok_or("the payload has no pull request")?;
    let target = Target {
        kind: TargetKind::PullRequest,
        number,
    };
    if event.action() != "submitted" {
        return Err(format!(
            "pull_request_review action {:?} is not a request",
            event.action()
        ));
    }
    if let Some(found) = with_prompt(rules, Some(target), "pull_request_review") {
        return Ok(found);
    }
    let review = p.review.as_ref().ok_or("the payload has no review")?;
    let body = review.body.clone().ok_or("the review has no body")?;
    if !mentions(&body, &rules.phrase) {
        return Err(format!("the review does not mention {}", rules.phrase));
    }
    Ok(Found {
        trigger: TriggerKind::Phrase,
        target: Some(target),
        mode: Mode::Tag,
        request: Request {
            body,
            source: RequestSource::Review {
                review_id: review.id,
            },
            at: review.submitted_at.clone(),
            url: review.html_url.clone(),
            location: None,
        },
        reason: format!("the review mentions {}", rules.phrase),
    })
}

fn from_pull_request_event(event: &Event, rules: &TriggerRules) -> Result<Found, String> {
    let target = pr_number(event).map(|number| Target {
        kind: TargetKind::PullRequest,
        number,
    });
    with_prompt(rules, target, &event.name)
        .ok_or_else(|| format!("{} events run only with a prompt", event.name))
}

fn from_automation(rules: &TriggerRules) -> Result<Found, String> {
    with_prompt(rules, None, "automation").ok_or_else(|| "no prompt is set".to_string())
}

/// What the 👀 reaction acknowledging the request goes on: the comment that asked, or the
/// issue itself when its body, assignment or label asked.
pub fn reaction_target(d: &Decision) -> Option<crate::github::ReactionTarget> {
    use crate::github::ReactionTarget;
    match d.request.as_ref().map(|r| &r.source) {
        Some(RequestSource::IssueComment { comment_id }) => {
            Some(ReactionTarget::IssueComment(*comment_id))
        }
        Some(RequestSource::ReviewComment { comment_id, .. }) => {
            Some(ReactionTarget::ReviewComment(*comment_id))
        }
        Some(RequestSource::IssueBody | RequestSource::Assignment | RequestSource::Label) => d
            .target
            .filter(|t| t.kind == TargetKind::Issue)
            .map(|t| ReactionTarget::Issue(t.number)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
