//! Wires the modules together for each subcommand.

/// Temporary wiring of `coworker proxy` until the lead's `src/cli.rs` lands on main.
#[derive(clap::Parser)]
#[command(name = "coworker proxy")]
struct ProxyCommand {
    #[command(flatten)]
    args: crate::proxy::cli::ProxyArgs,
}

pub fn main() -> i32 {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("proxy") {
        use clap::Parser;
        let cmd = ProxyCommand::parse_from(&argv[1..]);
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("::error::cannot start the async runtime: {e}");
                return 1;
            }
        };
        return match runtime.block_on(crate::proxy::cli::run(cmd.args)) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("::error::{e:#}");
                1
            }
        };
    }
    0
}
