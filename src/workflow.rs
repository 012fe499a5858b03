//! GitHub Actions workflow commands (`::group::`, `::error::`, `::add-mask::`), escaped so that
//! user-controlled text cannot smuggle in a command of its own. Annotations (`error`, `warning`,
//! `notice`) can quote the agent and show on the run's page, so they pass the run's redactor.

/// Escapes a command's message: `%`, CR and LF would otherwise end or forge the command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

static IN_A_TERMINAL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// For `coworker local`: no runner reads these commands, so groups and masks print nothing (a
/// mask line would show the secret itself) and annotations become `warning: …` lines.
pub fn outside_actions() {
    IN_A_TERMINAL.store(true, std::sync::atomic::Ordering::SeqCst);
}

fn plain() -> bool {
    IN_A_TERMINAL.load(std::sync::atomic::Ordering::SeqCst)
}

fn annotate(kind: &str, message: &str) {
    let text = crate::redact::redact(message);
    if plain() {
        println!("{kind}: {}", text.as_str());
    } else {
        println!("::{kind}::{}", escape_data(text.as_str()));
    }
}

pub fn group(title: &str) {
    if !plain() {
        println!("::group::{}", escape_data(title));
    }
}

pub fn end_group() {
    if !plain() {
        println!("::endgroup::");
    }
}

/// A plain line of the job log (no command, nothing to escape: the text is ours).
pub fn log(line: &str) {
    println!("{line}");
}

pub fn error(message: &str) {
    annotate("error", message);
}

pub fn warning(message: &str) {
    annotate("warning", message);
}

pub fn notice(message: &str) {
    annotate("notice", message);
}

/// Tells the runner to hide `value` in every later log line; each line of a multi-line secret too.
pub fn add_mask(value: &str) {
    if plain() {
        return;
    }
    for line in value.lines().map(str::trim).filter(|l| !l.is_empty()) {
        println!("::add-mask::{}", escape_data(line));
    }
}

/// Echoes text the agent may have shaped (a file name, a process's command line) to the log,
/// redacted, with the runner's command processing stopped around it: a line of it reading
/// `::set-env ...` or `::add-mask::...` is shown, never obeyed. The token is fresh and random,
/// so the text cannot name it to resume commands early.
pub fn echo_untrusted(text: &str) {
    let token = crate::secret::Secret::random();
    print!(
        "{}",
        untrusted_block(crate::redact::redact(text).as_str(), token.expose())
    );
}

fn untrusted_block(text: &str, token: &str) -> String {
    format!("::stop-commands::{token}\n{text}\n::{token}::\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_fenced_by_a_token_it_does_not_hold() {
        let block = untrusted_block("x\n::set-env name=A::b", "t0k3n");
        assert_eq!(
            block,
            "::stop-commands::t0k3n\nx\n::set-env name=A::b\n::t0k3n::\n"
        );
        let a = crate::secret::Secret::random();
        let b = crate::secret::Secret::random();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().len() >= 16);
    }

    #[test]
    fn newlines_cannot_start_a_new_command() {
        assert_eq!(escape_data("a\n::error::x%"), "a%0A::error::x%25");
    }
}
