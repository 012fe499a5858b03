//! GitHub Actions workflow commands (`::group::`, `::error::`, `::add-mask::`), escaped so that
//! user-controlled text cannot smuggle in a command of its own. Annotations (`error`, `warning`,
//! `notice`) can quote the agent and show on the run's page, so they pass the run's redactor.

/// Escapes a command's message: `%`, CR and LF would otherwise end or forge the command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn group(title: &str) {
    println!("::group::{}", escape_data(title));
}

pub fn end_group() {
    println!("::endgroup::");
}

pub fn error(message: &str) {
    println!(
        "::error::{}",
        escape_data(crate::redact::redact(message).as_str())
    );
}

pub fn warning(message: &str) {
    println!(
        "::warning::{}",
        escape_data(crate::redact::redact(message).as_str())
    );
}

pub fn notice(message: &str) {
    println!(
        "::notice::{}",
        escape_data(crate::redact::redact(message).as_str())
    );
}

/// Tells the runner to hide `value` in every later log line; each line of a multi-line secret too.
pub fn add_mask(value: &str) {
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
