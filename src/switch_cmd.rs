//! `switch --master-state dead`: the operator's manual failover of a dead master.

use anyhow::Context;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use crate::cli::SwitchArgs;
use crate::config::Config;
use crate::exit::Exit;
use crate::failover::{self, Ctx, DeadMaster, Options, Outcome, Steps};
use crate::mysql::{gather, Connector, MysqlConnector};
use crate::transport::{Remote, SshRemote};

pub async fn run(config: Config, args: SwitchArgs) -> anyhow::Result<Exit> {
    let config = Arc::new(config);
    let connector: Arc<dyn Connector> = Arc::new(MysqlConnector);
    let remote: Arc<dyn Remote> = Arc::new(
        SshRemote::new(
            config.settings.known_hosts_file.clone(),
            config.settings.host_key_check,
        )
        .context("cannot create a private directory for ssh control sockets in /tmp")?,
    );

    // The dead master is the one the slaves replicate from.
    let topology = gather::topology(&config, connector.clone()).await;
    let sources: Vec<usize> = topology
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, _)| topology.source_of(i))
        .collect();
    let Some(&master) = sources.first() else {
        anyhow::bail!("no reachable slave replicates from a configured server: cannot tell which master is dead");
    };
    if sources.iter().any(|&s| s != master) {
        anyhow::bail!(
            "the slaves replicate from different masters; fix replication first (see check-repl)"
        );
    }
    if let Some(given) = &args.dead_master_host {
        if !topology.find(given).contains(&master) {
            anyhow::bail!(
                "--dead-master-host {given} is not the master the slaves replicate from ({})",
                topology.label(master)
            );
        }
    }

    let ask =
        !args.yes && args.interactive != Some(0) && (args.manual || std::io::stdin().is_terminal());
    let options = |dry_run| Options {
        dry_run,
        new_master_host: args.new_master_host.clone(),
        skip_save_master_binlog: args.skip_save_master_binlog,
        mode: crate::journal::Mode::Manual,
    };
    let ctx = |dry_run| Ctx {
        config: config.clone(),
        connector: connector.clone(),
        remote: remote.clone(),
        options: options(dry_run),
        steps: Steps::default(),
    };

    if args.dry_run || ask {
        let outcome = failover::run(
            &ctx(true),
            DeadMaster {
                index: master,
                ssh_reachable: None,
            },
        )
        .await;
        if let Outcome::Failed { reason, .. } = &outcome {
            tracing::error!("{reason}");
            return Ok(Exit::Failed);
        }
        if args.dry_run {
            return Ok(Exit::Ok);
        }
        if !confirm(&format!(
            "Master {} is dead. Start the failover as planned above? (yes/NO): ",
            topology.label(master)
        )) {
            tracing::info!("Not confirmed: nothing was changed.");
            return Ok(Exit::Failed);
        }
    }
    let ctx = ctx(false);
    let outcome = failover::run(
        &ctx,
        DeadMaster {
            index: master,
            ssh_reachable: None,
        },
    )
    .await;
    Ok(report(&outcome))
}

fn confirm(question: &str) -> bool {
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    answer.trim().eq_ignore_ascii_case("yes")
}

/// Prints the outcome and maps it to the exit code.
pub fn report(outcome: &Outcome) -> Exit {
    match outcome {
        Outcome::Complete(s) => {
            println!(
                "Master failover to {} completed successfully.",
                s.new_master.clone().unwrap_or_default()
            );
            Exit::Ok
        }
        Outcome::Partial(s) => {
            for r in &s.replicas {
                if let Err(e) = &r.result {
                    println!("{}: ERROR: {e}", r.host);
                }
            }
            println!(
                "Master failover to {} done, but some slaves were not recovered.",
                s.new_master.clone().unwrap_or_default()
            );
            Exit::Partial
        }
        Outcome::DryRun(_) => Exit::Ok,
        Outcome::Failed {
            phase,
            reason,
            changed,
            ..
        } => {
            println!(
                "Got Error so couldn't continue failover from here: {}: {reason}",
                phase.title()
            );
            if *changed {
                println!(
                    "Some changes were made before the stop: see the log above for each step done."
                );
            }
            Exit::Failed
        }
    }
}
