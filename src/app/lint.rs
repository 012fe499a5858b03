//! `coworker lint`: reads the arguments, lints the files, prints, returns the exit code.
use super::EXIT_USAGE;
use crate::cli::LintArgs;
use crate::lint::output::{self, Format};
use crate::lint::{Severity, lint_paths};
use std::path::PathBuf;

pub(super) fn lint(args: LintArgs) -> i32 {
    let Some(format) = Format::parse(&args.format) else {
        eprintln!(
            "error: --format must be human, json or sarif, not {:?}",
            args.format
        );
        return EXIT_USAGE;
    };
    let Some(min) = Severity::parse(&args.min_severity) else {
        eprintln!(
            "error: --min-severity must be low, medium or high, not {:?}",
            args.min_severity
        );
        return EXIT_USAGE;
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".github/workflows")]
    } else {
        args.paths
    };
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        eprintln!("error: {}: no such file or folder", missing.display());
        return EXIT_USAGE;
    }
    let report = lint_paths(&paths);
    if let Err(e) = output::print(&report, format, min) {
        eprintln!("error: cannot write the report: {e}");
        return 1;
    }
    report.exit_code(min)
}
