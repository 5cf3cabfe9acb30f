//! The `ha-manager` binary: parse the command line and hand over to the library.

use clap::Parser;
use std::process::ExitCode;

use ha_manager::{cli::Cli, cmd, exit::Exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(args()) {
        Ok(cli) => cli,
        // MHA's secondary check exits 1 on bad arguments (2 would say "a
        // secondary host is unreachable").
        Err(e) if secondary_check() && e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(1);
        }
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ha-manager: cannot start the async runtime: {e}");
            return Exit::Failed.into();
        }
    };
    match runtime.block_on(cmd::run(cli)) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("ha-manager: {e:#}");
            Exit::Failed.into()
        }
    }
}

/// Installed (or linked) as `masterha_secondary_check`, the binary is that
/// command: `secondary_check_script=masterha_secondary_check -s ...` lines work as they are.
fn secondary_check() -> bool {
    let mut a = std::env::args_os();
    let called = a.next().map(std::path::PathBuf::from);
    let named = called
        .as_deref()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "masterha_secondary_check");
    let sub = a.next().is_some_and(|s| {
        s == "secondary-check" || s == "secondary_check" || s == "masterha_secondary_check"
    });
    named || sub
}

/// The command line, with the subcommand put in when called as `masterha_secondary_check`.
fn args() -> Vec<std::ffi::OsString> {
    let mut args: Vec<_> = std::env::args_os().collect();
    let named = args
        .first()
        .and_then(|p| std::path::Path::new(p).file_name())
        .is_some_and(|n| n == "masterha_secondary_check");
    if named {
        args.insert(1, "secondary-check".into());
    }
    args
}
