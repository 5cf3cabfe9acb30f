//! The `ha-manager` binary: parse the command line and hand over to the library.

use clap::Parser;
use std::process::ExitCode;

use ha_manager::{cli::Cli, cmd, exit::Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
