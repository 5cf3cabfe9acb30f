//! Composition root: loads the configuration, builds the real adapters and runs a command.

use anyhow::Context;
use std::sync::Arc;

use crate::check::{self, Report};
use crate::cli::{CheckReplArgs, Cli, Command, ConfArgs};
use crate::config::{self, Config};
use crate::exit::Exit;
use crate::logging;
use crate::mysql::MysqlConnector;
use crate::transport::SshRemote;

/// Runs one command to completion and says how it ended.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::CheckSsh(args) => {
            let Some(config) = load(&args)? else {
                return Ok(Exit::Config);
            };
            let remote = SshRemote::new(
                config.settings.known_hosts_file.clone(),
                config.settings.host_key_check,
            )
            .context("cannot create a private directory for ssh control sockets in /tmp")?;
            let report = check::ssh::run(&config, Arc::new(remote), Arc::new(MysqlConnector)).await;
            Ok(print(report))
        }
        Command::CheckRepl(CheckReplArgs { conf, lag }) => {
            let Some(config) = load(&conf)? else {
                return Ok(Exit::Config);
            };
            let report =
                check::repl::run(&config, Arc::new(MysqlConnector), lag.seconds_behind_master)
                    .await;
            Ok(print(report))
        }
        Command::Start(args) => {
            let Some(config) = load(&args.conf)? else {
                return Ok(Exit::Config);
            };
            crate::start_cmd::run(config, args).await
        }
        Command::Status(args) => {
            let Some(config) = load(&args.conf)? else {
                return Ok(Exit::Config);
            };
            let report =
                crate::admin::status(&config, args.ping_limit.map(std::time::Duration::from_secs))?;
            if args.json {
                println!("{}", report.json);
            } else {
                println!("{}", report.line);
                for line in &report.extra {
                    println!("{line}");
                }
            }
            Ok(Exit::Code(report.code.number()))
        }
        Command::Stop(args) => {
            let Some(config) = load(&args.conf)? else {
                return Ok(Exit::Config);
            };
            let timeout = std::time::Duration::from_secs(args.abort_timeout);
            let outcome = tokio::task::spawn_blocking(move || {
                crate::admin::stop(&config, args.abort, timeout).map(|o| (o, config.app.clone()))
            })
            .await??;
            println!("{}", outcome.0.message(&outcome.1));
            Ok(Exit::Ok)
        }
        Command::Switch(args) => {
            let Some(config) = load(&args.conf)? else {
                return Ok(Exit::Config);
            };
            crate::switch_cmd::run(config, args).await
        }
    }
}

/// Loads the configuration; a bad file is reported here, once, with its location.
fn load(args: &ConfArgs) -> anyhow::Result<Option<Config>> {
    logging::init(args.verbose);
    match config::load(&args.conf, args.global_conf.as_deref()) {
        Ok(config) => Ok(Some(config)),
        Err(e) => {
            eprintln!("{}", logging::stamp(&format!("[error] {e}")));
            Ok(None)
        }
    }
}

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
