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

/// Prevents log lines that start with `::` from being read as commands while agent text is echoed.
pub fn stop_commands(token: &str) {
    println!("::stop-commands::{token}");
}

pub fn resume_commands(token: &str) {
    println!("::{token}::");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_cannot_start_a_new_command() {
        assert_eq!(escape_data("a\n::error::x%"), "a%0A::error::x%25");
    }
}
