//! The commands, one file each: [`run`] loads the configuration once and
//! hands it to the command the user named (the composition root).

pub mod adapters;
pub mod check_repl;
pub mod check_ssh;
mod pid;
pub mod start;
pub mod status;
pub mod stop;
pub mod switch;

#[cfg(test)]
mod admin_tests;

pub use adapters::Adapters;

use crate::check::Report;
use crate::cli::{Cli, Command, ConfArgs};
use crate::config::{self, Config};
use crate::exit::Exit;
use crate::logging;

/// Runs one command to completion and says how it ended.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    let Some(config) = load(conf_args(&cli.command)) else {
        return Ok(Exit::Config);
    };
    match cli.command {
        Command::CheckSsh(_) => check_ssh::run(&config).await,
        Command::CheckRepl(args) => Ok(check_repl::run(&config, &args.lag).await),
        Command::Start(args) => start::run(config, args).await,
        Command::Status(args) => status::run(&config, &args),
        Command::Stop(args) => stop::run(config, args).await,
        Command::Switch(args) => switch::run(config, args).await,
    }
}

/// The configuration options of any command.
fn conf_args(command: &Command) -> &ConfArgs {
    match command {
        Command::CheckSsh(conf) => conf,
        Command::CheckRepl(args) => &args.conf,
        Command::Start(args) => &args.conf,
        Command::Status(args) => &args.conf,
        Command::Stop(args) => &args.conf,
        Command::Switch(args) => &args.conf,
    }
}

/// Loads the configuration; a bad file is reported here, once, with its
/// location (`None`: the command exits with [`Exit::Config`]).
fn load(args: &ConfArgs) -> Option<Config> {
    logging::init(args.verbose);
    match config::load(&args.conf, args.global_conf.as_deref()) {
        Ok(config) => Some(config),
        Err(e) => {
            eprintln!("{}", logging::stamp(&format!("[error] {e}")));
            None
        }
    }
}

/// Prints a check's report, each line stamped, and maps it to the exit code.
fn print(report: Report) -> Exit {
    for line in &report.lines {
        println!("{}", logging::stamp(line));
    }
    if report.ok {
        Exit::Ok
    } else {
        Exit::Failed
    }
}
