//! The commands, one file each: [`run`] loads the configuration once and
//! hands it to the command the user named (the composition root).

mod adapters;
mod check_repl;
mod check_ssh;
mod pid;
mod record;
mod secondary_check;
mod start;
mod status;
mod stop;
mod switch;

#[cfg(test)]
mod admin_tests;

use adapters::Adapters;

use crate::check::Report;
use crate::cli::{Cli, Command, ConfArgs};
use crate::config::{self, Config};
use crate::exit::Exit;
use crate::logging::{self, Sink};

/// Runs one command to completion and says how it ended.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    // MHA's secondary check reads no configuration.
    let Some(conf) = conf_args(&cli.command) else {
        return Ok(match &cli.command {
            Command::SecondaryCheck(args) => secondary_check::run(args).await,
            _ => Exit::Usage,
        });
    };
    let Some(config) = load(conf, log_to(&cli.command)) else {
        return Ok(Exit::Config);
    };
    match cli.command {
        Command::CheckSsh(_) => check_ssh::run(&config).await,
        Command::CheckRepl(args) => Ok(check_repl::run(&config, &args.lag).await),
        Command::Start(args) => start::run(config, args).await,
        Command::Status(args) => status::run(&config, &args).await,
        Command::Stop(args) => stop::run(config, args).await,
        Command::Switch(args) => switch::run(config, args).await,
        Command::SecondaryCheck(args) => Ok(secondary_check::run(&args).await),
    }
}

/// The configuration options of any command that reads one.
fn conf_args(command: &Command) -> Option<&ConfArgs> {
    Some(match command {
        Command::CheckSsh(conf) => conf,
        Command::CheckRepl(args) => &args.conf,
        Command::Start(args) => &args.conf,
        Command::Status(args) => &args.conf,
        Command::Stop(args) => &args.conf,
        Command::Switch(args) => &args.conf,
        Command::SecondaryCheck(_) => return None,
    })
}

/// Where a command's log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogTo {
    /// Standard error, always.
    Terminal,
    /// The `manager_log` file when it is set (only there, as MHA's
    /// `masterha_manager` does), standard error otherwise.
    ManagerLog,
}

/// The daemon logs to `manager_log`; so does a switch that runs without
/// asking. A switch that asks shows its plan on the terminal, where the
/// question refers to it; the checks and `status`/`stop` print there too.
fn log_to(command: &Command) -> LogTo {
    match command {
        Command::Start(_) => LogTo::ManagerLog,
        Command::Switch(args) if !switch::asks(args) => LogTo::ManagerLog,
        _ => LogTo::Terminal,
    }
}

/// Loads the configuration and sets up the log; a bad file, or a
/// `manager_log` that cannot be opened, is reported here, once (`None`: the
/// command exits with [`Exit::Config`]).
fn load(args: &ConfArgs, log_to: LogTo) -> Option<Config> {
    let config = match config::load(&args.conf, args.global_conf.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            logging::init(logging::level(args.verbose, None), Sink::Stderr);
            eprintln!("{}", logging::stamp(&format!("[error] {e}")));
            return None;
        }
    };
    let sink = match (log_to, &config.settings.manager_log) {
        (LogTo::ManagerLog, Some(path)) => match Sink::open(path) {
            Ok(sink) => sink,
            Err(e) => {
                logging::init(logging::level(args.verbose, None), Sink::Stderr);
                eprintln!("{}", logging::stamp(&format!("[error] {e}")));
                return None;
            }
        },
        _ => Sink::Stderr,
    };
    let level = logging::level(args.verbose, Some(config.settings.log_level));
    logging::init(level, sink);
    Some(config)
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
