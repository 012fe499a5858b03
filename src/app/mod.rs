//! Wires the modules together for each subcommand and maps every ending to an exit code.
mod git_work;
mod github_client;
mod lint;
mod local;
mod pipeline;
mod plan;
mod prepare;
mod run;
mod sessions;

use crate::cli::Command;

pub use crate::outcome::EXIT_USAGE;

pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args
        .get(1)
        .is_some_and(|a| a == crate::isolation::shim::SHIM_ARG)
    {
        let rest: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return crate::isolation::shim::main(&rest);
    }
    // Before anything reads a secret: a same-uid agent must not read this process's memory files.
    crate::isolation::protect_self();
    let cli = match crate::cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    // Pure file work: no runtime needed.
    let cli = match cli.command {
        Command::Lint(args) => return lint::lint(args),
        _ => cli,
    };
    let runtime = match build_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::Plan(args) => plan::plan(args).await,
            Command::Local(args) => local::local(args).await,
            Command::Proxy(args) => match crate::proxy::cli::run(args).await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    1
                }
            },
            Command::Lint(args) => lint::lint(args),
        }
    })
}

/// At most two workers, and no more than the cores this process may run on (its CPU affinity
/// and cgroup quota): on one core a second worker only adds thread switches to every proxied
/// request, so a single-threaded runtime serves it instead.
fn build_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    if cores <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    }
}
