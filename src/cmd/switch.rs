//! `switch`: the operator's manual failover of a dead master
//! (`--master-state dead`), or a planned online switchover of a healthy one
//! (`--master-state alive`, see [`crate::switch`]).

use crate::config::ServerId;
use anyhow::Context;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{MasterState, SwitchArgs};
use crate::config::Config;
use crate::exit::Exit;
use crate::failover::{self, Ctx, DeadMaster, Options, Outcome};
use crate::journal::{Facts, Journal};
use crate::logging;
use crate::mysql::gather;
use crate::shutdown::Shutdown;
use crate::state::{AppLock, LockHolder, MarkerKind, StateError, StatusCode, Workdir};
use crate::switch;
use crate::topology::validate::Problem;

use super::{record, Adapters};

pub(super) async fn run(config: Config, args: SwitchArgs) -> anyhow::Result<Exit> {
    // A first SIGINT/SIGTERM/SIGHUP no longer kills the process in the
    // middle of a write freeze or a promotion: the switch runs to its end (or
    // rolls back); a second one exits at once.
    let signals = crate::shutdown::Shutdown::install_with_hangup()?;
    match args.master_state {
        MasterState::Dead => dead(config, args).await,
        MasterState::Alive => alive(config, args, signals).await,
    }
}

async fn dead(config: Config, args: SwitchArgs) -> anyhow::Result<Exit> {
    if args.orig_master_is_new_slave {
        anyhow::bail!("--orig-master-is-new-slave applies to --master-state alive only");
    }
    let config = Arc::new(config);
    if !args.ignore_last_failover {
        if let Some(unfinished) = record::unfinished(&Workdir::of(&config))? {
            return resume(&config, &args, unfinished).await;
        }
    }
    let Adapters { connector, remote } = Adapters::real(&config)?;

    // The dead master is the one at the top of the slaves' chains (every
    // tier, and the standby of a dual-master pair, lead to it).
    let topology = gather::topology(&config, connector.clone()).await;
    let tops = crate::topology::tiers::tops(&topology);
    let master: ServerId = match tops.as_slice() {
        [only] => *only,
        [] => anyhow::bail!(
            "no reachable slave replicates from a configured server (or the servers replicate \
             in a ring with every member alive): cannot tell which master is dead"
        ),
        several => anyhow::bail!(
            "the slaves replicate from different masters ({}); fix replication first (see \
             check-repl)",
            several
                .iter()
                .map(|&i| format!(
                    "{}, {}",
                    topology.label(i),
                    if topology.node(i).is_reachable() {
                        "alive"
                    } else {
                        "unreachable"
                    }
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    if let Some(given) = &args.dead_master_host {
        if !topology.find(given).contains(&master) {
            anyhow::bail!(
                "--dead-master-host {given} is not the master the slaves replicate from ({})",
                topology.label(master)
            );
        }
    }
    if let Some(port) = args.dead_master_port {
        if topology.spec(master).port != port {
            anyhow::bail!(
                "--dead-master-port {port} is not the port of the master the slaves replicate \
                 from ({})",
                topology.label(master)
            );
        }
    }

    let ask = asks(&args);
    let options = |dry_run| Options {
        dry_run,
        new_master_host: args.new_master_host.clone(),
        skip_save_master_binlog: args.skip_save_master_binlog,
        skip_change_master: args.failover.skip_change_master,
        skip_disable_read_only: args.failover.skip_disable_read_only,
        ignore_binlog_server_error: args.failover.ignore_binlog_server_error,
        mode: crate::journal::Mode::Manual,
        resume: None,
    };
    let ctx = |dry_run| Ctx {
        kit: crate::recovery::Kit {
            config: config.clone(),
            connector: connector.clone(),
            remote: remote.clone(),
            log: crate::recovery::Log::default(),
        },
        options: options(dry_run),
    };

    if args.dry_run || ask {
        let outcome = failover::run(
            &ctx(true),
            DeadMaster::declared(master, std::time::SystemTime::now()),
        )
        .await;
        // The failover logged why it stopped.
        if let Outcome::Failed { .. } = &outcome {
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
    let master_label = topology.label(master);
    recorded(&config, &args, &master_label, ctx(false), master).await
}

/// The real failover: one at a time per application, recorded as the daemon
/// records its own (journal, markers, report).
async fn recorded(
    config: &Arc<Config>,
    args: &SwitchArgs,
    master_label: &str,
    mut ctx: Ctx,
    master: ServerId,
) -> anyhow::Result<Exit> {
    let workdir = Workdir::of(config);
    let _lock = lock(&workdir, args)?;
    if let Some(marker) = workdir.read_marker(MarkerKind::Error)? {
        if !args.ignore_last_failover {
            anyhow::bail!(
                "a previous failover did not finish ({} exists): the topology may be \
                 half-switched; check every server (ha-manager check-repl), then remove it or \
                 run with --ignore-last-failover",
                marker.path.display()
            );
        }
        tracing::warn!("--ignore-last-failover: removing {}", marker.path.display());
        workdir.remove_marker(MarkerKind::Error)?;
    }
    record::begin(&workdir, master_label)
        .context("cannot write the failover marker; not failing over")?;
    ctx.kit.log = crate::recovery::Log::new(record::journal(&workdir));
    let outcome = failover::run(
        &ctx,
        DeadMaster::declared(master, std::time::SystemTime::now()),
    )
    .await;
    record::report(config, &ctx).await;
    record::end(&workdir, &outcome, master_label);
    Ok(report(&outcome))
}

/// The application lock, or why not: one failover at a time, and none while
/// a manager monitors the application.
fn lock(workdir: &Workdir, args: &SwitchArgs) -> anyhow::Result<AppLock> {
    // The lock creates a missing workdir 0700 and refuses one others can write.
    match AppLock::acquire(workdir) {
        Ok(lock) => Ok(lock),
        Err(StateError::AlreadyRunning { pid, .. }) => anyhow::bail!(
            "ha-manager is monitoring this application (pid {}): it fails over by itself; \
             stop it first (ha-manager stop --conf {})",
            pid.map_or_else(|| "?".to_owned(), |p| p.to_string()),
            args.conf.conf.display()
        ),
        Err(e) => Err(e).context("cannot take the application lock"),
    }
}

/// `switch --master-state dead` over an unfinished failover of the same
/// dead master: finishes it from its record (the new master it elected is
/// kept). Any other dead master, or a record that cannot be resumed, is
/// refused as a marker without a record is.
async fn resume(
    config: &Arc<Config>,
    args: &SwitchArgs,
    unfinished: record::Unfinished,
) -> anyhow::Result<Exit> {
    let refuse = |why: String| {
        anyhow::anyhow!(
            "a previous failover did not finish ({} exists) and is not resumed: {why}. The \
             topology may be half-switched; check every server (ha-manager check-repl), then \
             remove it or run with --ignore-last-failover",
            unfinished.marker.display()
        )
    };
    let recorded = &unfinished.dead;
    let dead = failover::server_of(config, recorded).ok_or_else(|| {
        refuse(format!(
            "its dead master {} is not in the configuration",
            recorded.label()
        ))
    })?;
    let spec = config.server(dead);
    if let Some(given) = &args.dead_master_host {
        if ![&spec.hostname, &spec.name, &spec.mysql_addr().to_owned()].contains(&given) {
            return Err(refuse(format!(
                "it failed over from {}, not from {given}",
                recorded.label()
            )));
        }
    }
    if let Some(port) = args.dead_master_port {
        if port != spec.port {
            return Err(refuse(format!(
                "it failed over from {}, not from port {port}",
                recorded.label()
            )));
        }
    }
    let plan = failover::Resume::from_record(config, &unfinished.facts, unfinished.last.as_ref())
        .map_err(refuse)?;
    if let (Some(given), Some(kept)) = (&args.new_master_host, plan.new_master) {
        let kept = config.server(kept);
        if ![&kept.hostname, &kept.name, &kept.mysql_addr().to_owned()].contains(&given) {
            return Err(refuse(format!(
                "--new-master-host {given}: the interrupted failover elected {} and may have \
                 changed it; it is kept",
                kept.label()
            )));
        }
    }
    let label = spec.label();
    tracing::info!(
        "Resuming the failover from {label}: it stopped in {}.",
        plan.stopped
    );
    for line in &plan.done {
        tracing::info!("Already done: {line}");
    }
    if args.dry_run {
        tracing::info!("--dry-run: nothing was changed.");
        return Ok(Exit::Ok);
    }
    if asks(args)
        && !confirm(&format!(
            "Finish the interrupted failover from {label}? (yes/NO): "
        ))
    {
        tracing::info!("Not confirmed: nothing was changed.");
        return Ok(Exit::Failed);
    }
    let workdir = Workdir::of(config);
    let _lock = lock(&workdir, args)?;
    let Adapters { connector, remote } = Adapters::real(config)?;
    record::begin(&workdir, &label).context("cannot write the failover marker")?;
    let mode = unfinished.facts.mode;
    let ctx = Ctx {
        kit: crate::recovery::Kit {
            config: config.clone(),
            connector,
            remote,
            log: crate::recovery::Log::new(record::journal_from(&workdir, unfinished.facts)),
        },
        options: Options {
            dry_run: false,
            new_master_host: None,
            skip_save_master_binlog: args.skip_save_master_binlog,
            skip_change_master: args.failover.skip_change_master,
            skip_disable_read_only: args.failover.skip_disable_read_only,
            ignore_binlog_server_error: args.failover.ignore_binlog_server_error,
            mode,
            resume: Some(plan),
        },
    };
    let outcome = failover::run(
        &ctx,
        DeadMaster::declared(dead, std::time::SystemTime::now()),
    )
    .await;
    record::report(config, &ctx).await;
    record::end(&workdir, &outcome, &label);
    Ok(report(&outcome))
}

/// Will the switch show its plan and ask before acting? (`--manual`, or a
/// terminal on stdin; never with `--yes` or `--interactive=0`.)
pub(super) fn asks(args: &SwitchArgs) -> bool {
    !args.yes && args.interactive != Some(0) && (args.manual || std::io::stdin().is_terminal())
}

fn confirm(question: &str) -> bool {
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    answer.trim().eq_ignore_ascii_case("yes")
}

/// Prints the outcome and maps it to the exit code.
pub(super) fn report(outcome: &Outcome) -> Exit {
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
                    println!("{}: ERROR: {}", r.host, e.detail());
                }
            }
            println!(
                "Master failover to {} done, but some slaves were not recovered.",
                s.new_master.clone().unwrap_or_default()
            );
            Exit::Partial
        }
        Outcome::DryRun => Exit::Ok,
        Outcome::Failed {
            phase,
            error,
            changed,
            ..
        } => {
            println!(
                "Got Error so couldn't continue failover from here: {}: {error}",
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

/// `switch --master-state alive`.
///
/// A running `ha-manager start` for the same application would watch the old
/// master through the switch (and kill-and-reconnect its session during the
/// freeze), then keep watching a server that is no longer the master. So the
/// switch refuses while one runs (it holds the application lock) and tells the
/// operator to stop it first and start it again afterwards; while the switch
/// runs it holds the lock itself, so no manager can start in the middle.
async fn alive(config: Config, args: SwitchArgs, signals: Shutdown) -> anyhow::Result<Exit> {
    let f = &args.failover;
    if args.dead_master_host.is_some()
        || args.dead_master_port.is_some()
        || args.skip_save_master_binlog
        || f.skip_change_master
        || f.skip_disable_read_only
        || f.ignore_binlog_server_error
    {
        anyhow::bail!(
            "--dead-master-host, --dead-master-port, --skip-save-master-binlog, \
             --skip-change-master, --skip-disable-read-only and --ignore-binlog-server-error \
             apply to --master-state dead only"
        );
    }
    let conf = args.conf.conf.display().to_string();
    let workdir = Workdir::of(&config);
    let mut blocked = Vec::new();
    if let Ok(Some((record, _))) = workdir.read_health() {
        if record.code == StatusCode::FailoverRunning {
            blocked.push(Problem::error(
                config.app.clone(),
                format!(
                    "{} says a failover is running (pid {})",
                    workdir.health().display(),
                    record.pid
                ),
                format!(
                    "let it finish (ha-manager status --conf {conf}), check the topology \
                     (ha-manager check-repl --conf {conf}), then run the switch"
                ),
            ));
        }
    }
    let running = |pid: Option<u32>| {
        Problem::error(
            config.app.clone(),
            format!(
                "ha-manager is monitoring this application{}; it would take the switch for a \
                 failure and keep watching the old master",
                pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
            ),
            format!(
                "stop it first (ha-manager stop --conf {conf}), run the switch, then start it \
                 again (ha-manager start --conf {conf})"
            ),
        )
    };
    let _lock = if args.dry_run {
        if let Ok(LockHolder::Held { pid }) = workdir.lock_holder() {
            blocked.push(running(pid));
        }
        None
    } else {
        // The lock creates a missing workdir 0700 and refuses one others can write.
        match AppLock::acquire(&workdir) {
            Ok(lock) => Some(lock),
            Err(StateError::AlreadyRunning { pid, .. }) => {
                blocked.push(running(pid));
                None
            }
            Err(e) => return Err(e).context("cannot take the application lock"),
        }
    };

    let ask = asks(&args);
    let Adapters { connector, remote } = Adapters::real(&config)?;
    let journal = if args.dry_run {
        Journal::new(Facts::default())
    } else {
        switch_journal(&workdir)
    };
    let ctx = switch::Ctx {
        kit: crate::recovery::Kit {
            config: Arc::new(config),
            connector,
            remote,
            log: crate::recovery::Log::new(journal),
        },
        options: switch::Options {
            dry_run: args.dry_run,
            new_master_host: args.new_master_host.clone(),
            orig_master_is_new_slave: args.orig_master_is_new_slave,
            seconds_behind_master: args.lag.seconds_behind_master,
            running_updates_limit: args.running_updates_limit,
            running_seconds_limit: args.running_seconds_limit,
            catchup_timeout: Duration::from_secs(args.catchup_timeout),
            kill_grace: Duration::from_millis(args.kill_grace_ms),
            blocked,
        },
        interrupt: switch::interrupt::Interrupt::watching(signals.first()),
    };
    let outcome = tokio::select! {
        // A second signal wins over a switch that ended at the same moment
        // (its hook killed by that signal).
        biased;
        name = signals.forced() => return Ok(forced(&ctx, name)),
        outcome = switch::run(&ctx, ask.then_some(&confirm as switch::Confirm<'_>)) => outcome,
    };
    Ok(report_alive(&ctx, &outcome))
}

/// The journal of an online switch, written through to
/// `<app>.switch.journal.jsonl` (the last switch's; apart from the failover
/// journal, which a later failover may have to read back).
fn switch_journal(workdir: &Workdir) -> Journal {
    let path = workdir
        .dir()
        .join(format!("{}.switch.journal.jsonl", workdir.app()));
    if let Err(e) = std::fs::remove_file(&path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("journal file {}: {e}", path.display());
        }
    }
    let mut journal = Journal::new(Facts::default());
    if let Err(e) = journal.append_jsonl(&path) {
        tracing::warn!("journal file: {e}");
    }
    journal
}

/// A second signal in the middle of the switch: the switch was dropped where
/// it stood (a hook it ran is killed with its process group); what it did is
/// in the journal and in the report, and the operator is told what to check.
fn forced(ctx: &switch::Ctx, name: &str) -> Exit {
    let journal = ctx.kit.log.journal();
    let old = journal
        .facts()
        .dead_master
        .as_ref()
        .map_or_else(|| "the orig master".to_owned(), |h| h.host.clone());
    let new = journal
        .facts()
        .new_master
        .as_ref()
        .map_or_else(|| "the new master".to_owned(), |h| h.host.clone());
    let to_finish = format!(
        "the switch stopped at once where it stood (see the steps above): make sure exactly one \
         server takes writes: either {old} (read_only=0, UNLOCK TABLES) with {new} read-only and \
         replicating from it (START SLAVE), or {new} writable with every slave replicating from \
         it; then point the master IP address at it"
    );
    ctx.kit.log.facts(|f| {
        f.stopped_at = Some(crate::journal::StoppedAt {
            phase: crate::journal::Phase::Switch,
            step: format!("{name} received twice: interrupted at once"),
            to_finish: Some(to_finish.clone()),
            kind: None,
        })
    });
    logging::line(&crate::render::report::render(&ctx.kit.log.journal()).log_text());
    println!("Online master switch INTERRUPTED by a second {name}: {to_finish}.");
    Exit::Code(130)
}

/// Prints how the switch ended and maps it to the exit code.
pub(super) fn report_alive(ctx: &switch::Ctx, outcome: &switch::Outcome) -> Exit {
    use switch::Outcome as O;
    let freeze_line = |s: &switch::Summary| {
        format!(
            "Write freeze: {:.3} s (read_only=1 on {} to read_only=0 on {}); {} session(s) \
             killed; total switch time {:.3} s.",
            s.freeze_window.unwrap_or_default().as_secs_f64(),
            s.old_master,
            s.new_master,
            s.killed,
            s.total.as_secs_f64()
        )
    };
    match outcome {
        O::Refused(problems) => {
            println!("Online master switch refused; nothing was changed:");
            for p in problems {
                println!("{p}");
            }
            Exit::Failed
        }
        O::DryRun {
            old_master,
            new_master,
        } => {
            println!(
                "--dry-run: the checks passed; the switch from {old_master} to {new_master} \
                 would run as planned above. Nothing was changed."
            );
            Exit::Ok
        }
        O::Aborted(reason) => {
            println!("Online master switch aborted: {reason}.");
            Exit::Failed
        }
        O::RolledBack {
            reason,
            undone,
            interrupted,
        } => {
            logging::line(&crate::render::report::render(&ctx.kit.log.journal()).log_text());
            println!("Got error so couldn't continue the switch: {reason}");
            for u in undone {
                match &u.result {
                    Ok(()) => println!("Rolled back: {}", u.what),
                    Err(e) => println!("FAILED to roll back: {}: {e}", u.what),
                }
            }
            let all_undone = undone.iter().all(|u| u.result.is_ok());
            if let (Some(name), true) = (interrupted, all_undone) {
                println!(
                    "Rolled back: the switch was interrupted by {name}; the orig master {} \
                     accepts writes again.",
                    reason.host()
                );
            } else if all_undone {
                println!("The switch was rolled back: the old master takes writes again.");
            } else {
                println!("The switch was NOT fully rolled back: finish the steps above by hand.");
            }
            Exit::Failed
        }
        O::Complete(s) => {
            if let Some(name) = s.signal_after_no_return {
                println!(
                    "{name} arrived after the point of no return (read_only=0 on {}): the switch \
                     was finished.",
                    s.new_master
                );
            }
            println!(
                "Switching master to {} completed successfully.",
                s.new_master
            );
            println!("{}", freeze_line(s));
            Exit::Ok
        }
        O::Partial(s) => {
            logging::line(&crate::render::report::render(&ctx.kit.log.journal()).log_text());
            for r in &s.slaves {
                if let Err(e) = &r.result {
                    println!("{}: ERROR: {}", r.host, e.detail());
                }
            }
            if let Some(Err(e)) = s.orig_master.as_ref().map(|r| &r.result) {
                println!("{} (old master): ERROR: {}", s.old_master, e.detail());
            }
            if let Some(Err(e)) = &s.reset {
                println!("{} (new master): ERROR: {e}", s.new_master);
            }
            println!(
                "Switching master to {} done, but switching slaves partially failed.",
                s.new_master
            );
            println!("{}", freeze_line(s));
            Exit::Partial
        }
    }
}
