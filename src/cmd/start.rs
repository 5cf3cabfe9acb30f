//! `start`: check, monitor the master, fail over when it dies, report, and keep
//! watching the new topology (MHA's `masterha_manager`, as a daemon).

use crate::config::ServerId;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

use crate::check;
use crate::cli::StartArgs;
use crate::config::{Config, ServerSpec};
use crate::exit::Exit;
use crate::failover::{self, Ctx, Options, Outcome};
use crate::journal::{Journal, Mode};
use crate::logging;
use crate::monitor::secondary::HookSecondary;
use crate::monitor::{self, old_masters, MonitorCtx, MonitorExit};
use crate::mysql::Connector;
use crate::policy::guard;
use crate::shutdown::Shutdown;
use crate::state::{set_state, AppLock, HealthWriter, MarkerKind, StateSink, StatusCode, Workdir};
use crate::topology::validate::Rules;
use crate::transport::Remote;

use super::{record, Adapters};

#[path = "start_dead.rs"]
mod start_dead;

/// How many failovers that changed nothing the daemon shrugs off (going back to
/// monitoring) within [`QUIET_WINDOW`]; one more and it stops.
const QUIET_LIMIT: usize = 3;
/// See [`QUIET_LIMIT`].
const QUIET_WINDOW: Duration = Duration::from_secs(60 * 60);

/// The daemon loop: check → monitor → fail over → keep watching the new topology.
pub(super) async fn run(config: Config, args: StartArgs) -> anyhow::Result<Exit> {
    let workdir = Workdir::of(&config);
    // Refuses an unsafe manager_workdir (creating a missing one 0700), then takes
    // the application's lock and one per server of the cluster.
    let lock = match AppLock::acquire(&workdir) {
        Ok(lock) => lock,
        Err(e) => {
            logging::line(&logging::stamp(&format!("[error] {e}")));
            return Ok(Exit::Failed);
        }
    };
    // The last-failover guard, for a failover that did not finish.
    let conf = &args.conf.conf;
    if let Some(refusal) = record::refuse_unfinished(&workdir, conf, args.ignore_last_failover) {
        logging::line(&logging::stamp(&format!("[error] {refusal}")));
        return Ok(Exit::Failed);
    }
    let Adapters { connector, remote } = Adapters::real(&config)?;
    let daemon = Daemon {
        health: Health(Arc::new(HealthWriter::new(workdir.clone()))),
        workdir,
        connector,
        remote,
        shutdown: Shutdown::install()?,
        args,
        lock,
        lock_lost: Mutex::new(None),
        quiet_failures: Mutex::new(Vec::new()),
    };
    daemon.serve(config).await
}

/// What the daemon keeps from one failover to the next.
struct Daemon {
    args: StartArgs,
    workdir: Workdir,
    health: Health,
    connector: Arc<dyn Connector>,
    remote: Arc<dyn Remote>,
    shutdown: Shutdown,
    /// Held for the daemon's life and re-checked every ping interval.
    lock: AppLock,
    /// Why the lock was found lost while monitoring, if it was.
    lock_lost: Mutex<Option<String>>,
    /// When recent failovers stopped having changed nothing (see [`QUIET_LIMIT`]).
    quiet_failures: Mutex<Vec<Instant>>,
}

/// Where the daemon's state goes (the health file; a recorder in tests).
struct Health(Arc<dyn StateSink>);

impl Health {
    fn set(&self, code: StatusCode, master: &str) {
        set_state(self.0.as_ref(), code, master);
    }
}

/// The master `start` found: what to monitor.
struct Start {
    master: ServerId,
    master_label: String,
    /// Unreachable at start, every slave replicating from it (see `start_dead`).
    already_dead: bool,
    /// Semi-sync was enabled on it at start: the monitor watches it.
    semi_sync: bool,
}

/// How monitoring ended.
enum Watched {
    Exit(MonitorExit),
    /// The master was unreachable at start and the confirmation found it alive
    /// through its slaves: the manager alone cannot reach it.
    AliveButUnreachable,
}

/// How one failover attempt ended, for the loop.
enum Attempt {
    /// A new master is up; the exit code if the daemon stops now.
    FailedOver(Exit),
    /// Stopped before its point of no return, having changed nothing: go back
    /// to monitoring (within [`QUIET_LIMIT`]).
    NothingChanged { why: String },
}

impl Daemon {
    /// Check, monitor, fail over, watch the new topology; until a signal, a
    /// refusal, or a failover that changed something and failed.
    async fn serve(&self, config: Config) -> anyhow::Result<Exit> {
        let mut config = Arc::new(config);
        // Old masters the manager failed over from: fenced if they come back writable.
        let mut fenced: Vec<ServerSpec> = Vec::new();

        loop {
            let Some(Start {
                master,
                master_label,
                mut already_dead,
                semi_sync,
            }) = self.check(&config).await
            else {
                return Ok(Exit::Failed);
            };
            let (dead, code) = loop {
                let watched = self
                    .monitor(&config, master, &fenced, already_dead, semi_sync)
                    .await?;
                already_dead = false;
                let dead = match watched {
                    Watched::Exit(MonitorExit::Shutdown) => return Ok(self.stopped()),
                    Watched::Exit(MonitorExit::MasterDead(dead)) => dead,
                    Watched::AliveButUnreachable => {
                        self.health.set(StatusCode::ConfigError, &master_label);
                        tracing::error!("{}", start_dead::refusal(&master_label));
                        return Ok(Exit::Failed);
                    }
                };
                // Never fail over beside another manager.
                if let Err(e) = self.lock.check_held() {
                    tracing::error!("Not failing over: {e}");
                    return Ok(Exit::Failed);
                }
                tracing::warn!("Master {master_label} is dead: {}", dead.evidence);
                if self.args.dry_run {
                    return Ok(self.dry_run(&config, &dead).await);
                }
                match self.fail_over(&config, &master_label, &dead).await {
                    ControlFlow::Continue(Attempt::FailedOver(code)) => break (dead, code),
                    ControlFlow::Continue(Attempt::NothingChanged { why }) => {
                        if !self.resume_after_nothing_changed(&master_label, &why) {
                            self.health.set(StatusCode::FailoverError, &master_label);
                            return Ok(Exit::Failed);
                        }
                    }
                    ControlFlow::Break(exit) => return Ok(exit),
                }
            };
            let dead_spec = config.server(dead.index).clone();
            if self.args.remove_dead_master_conf {
                self.remove_from_conf(&dead_spec);
            }
            if self.args.exit_after_failover || self.shutdown.requested() {
                let _ = self.workdir.remove_health();
                return Ok(code);
            }
            // Keep watching: the new topology, without the dead master.
            let mut next = (*config).clone();
            next.servers.retain(|s| s.name != dead_spec.name);
            fenced.push(dead_spec);
            config = Arc::new(next);
        }
    }

    /// The monitor ended on its stop future: a signal, or the lock was lost.
    fn stopped(&self) -> Exit {
        if let Some(why) = lock(&self.lock_lost).clone() {
            tracing::error!("Stopped monitoring: {why}");
            return Exit::Failed;
        }
        tracing::info!("Stopped by signal while monitoring.");
        let _ = self.workdir.remove_health();
        Exit::Ok
    }

    /// After a failover that changed nothing: logs why and says whether to
    /// monitor again (fresh misses) or stop, the limit being reached.
    fn resume_after_nothing_changed(&self, master_label: &str, why: &str) -> bool {
        let mut recent = lock(&self.quiet_failures);
        match quiet_budget(&mut recent, Instant::now(), QUIET_LIMIT, QUIET_WINDOW) {
            Some(n) => {
                tracing::warn!(
                    "The failover stopped before changing anything ({why}). Monitoring \
                     {master_label} again with fresh misses ({n} of {QUIET_LIMIT} such stops \
                     allowed within {} minutes).",
                    QUIET_WINDOW.as_secs() / 60
                );
                true
            }
            None => {
                tracing::error!(
                    "The failover stopped before changing anything ({why}), for the {} time \
                     within {} minutes: ha-manager stops instead of trying again. Nothing was \
                     changed on any server. Find out why {master_label} looks dead to the \
                     manager (ha-manager check-repl shows the topology), then start it again.",
                    QUIET_LIMIT + 1,
                    QUIET_WINDOW.as_secs() / 60
                );
                false
            }
        }
    }

    /// Completes when the lock is found lost (deleted, replaced), checking every
    /// `every`; the reason is kept for [`Daemon::stopped`].
    async fn watch_lock(&self, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = self.lock.check_held() {
                tracing::error!("{e}");
                *lock(&self.lock_lost) = Some(e.to_string());
                return;
            }
        }
    }
    /// The start-up checks; the master to monitor, or `None` when the
    /// topology is refused (the problems are logged).
    async fn check(&self, config: &Config) -> Option<Start> {
        self.health.set(StatusCode::InitializingMonitor, "");
        let rules = Rules {
            seconds_behind_master: self.args.lag.seconds_behind_master,
            ignore_fail_on_start: Some(self.args.ignore_fail_on_start),
            master_may_be_dead: true,
            ..Rules::from_settings(&config.settings)
        };
        let (report, topology, discovery) =
            check::repl::evaluate_with(config, self.connector.clone(), rules).await;
        for line in &report.lines {
            logging::line(&logging::stamp(line));
        }
        let Some(master) = discovery.master.filter(|_| report.ok) else {
            self.health.set(StatusCode::ConfigError, "");
            tracing::error!(
                "Refusing to monitor: fix the problems above (ha-manager check-repl shows them)."
            );
            return None;
        };
        let master_label = topology.label(master);
        let already_dead = topology.node(master).unreachable_reason().is_some();
        // MHA's start-up checks: SSH to every host (unless skip_init_ssh_check)
        // and the failover hooks' --command=status; a failover must not be the
        // first to find that they do not work. A master already dead is left
        // out: the confirmation and the failover try its host themselves.
        let mut ssh_config = config.clone();
        if already_dead {
            ssh_config.servers.remove(master.index());
        }
        let ssh = check::ssh::run(&ssh_config, self.remote.clone(), self.connector.clone()).await;
        for line in &ssh.lines {
            logging::line(&logging::stamp(line));
        }
        if !ssh.ok {
            self.health.set(StatusCode::ConfigError, "");
            tracing::error!(
                "Refusing to monitor: a failover needs SSH to these hosts (ha-manager check-ssh \
                 shows the same; skip_init_ssh_check=1 skips a host)."
            );
            return None;
        }
        if let Err(e) = failover::check_hooks(config, topology.spec(master)).await {
            self.health.set(StatusCode::ConfigError, "");
            tracing::error!("Refusing to monitor: {e}");
            return None;
        }
        if config.settings.shutdown_script.is_none() {
            tracing::warn!(
                "shutdown_script is not set: a master that is only cut off from the manager \
                 cannot be powered off; ha-manager will only set it read-only over SSH when it \
                 can reach its host"
            );
        }
        if already_dead {
            tracing::warn!(
                "Master {master_label} is unreachable, and every reachable slave replicates from \
                 it: confirming its death as the monitor does ({} pings, then the slaves, SSH \
                 and the secondary check), then failing over",
                config.settings.ping_misses
            );
        }
        tracing::info!(
            "Monitoring {master_label} every {}s.",
            config.settings.ping_interval.as_secs_f64()
        );
        let semi_sync = topology
            .facts(master)
            .is_some_and(|f| f.semi_sync.source_enabled());
        Some(Start {
            master,
            master_label,
            already_dead,
            semi_sync,
        })
    }

    /// Monitors `master` until it dies or a signal arrives, fencing the old
    /// masters meanwhile. `already_dead`: the master was unreachable at start,
    /// and a confirmation finding it alive before it ever answered ends the
    /// monitoring ([`Watched::AliveButUnreachable`]).
    async fn monitor(
        &self,
        config: &Arc<Config>,
        master: ServerId,
        fenced: &[ServerSpec],
        already_dead: bool,
        semi_sync: bool,
    ) -> anyhow::Result<Watched> {
        let first = start_dead::FirstVerdict::new(self.health.0.clone());
        let sink: Arc<dyn StateSink> = if already_dead {
            first.clone()
        } else {
            self.health.0.clone()
        };
        let mut ctx = MonitorCtx::new(
            config.clone(),
            master,
            self.connector.clone(),
            self.remote.clone(),
            sink,
        )?;
        if let Some(secondary) = HookSecondary::from_settings(&config.settings) {
            ctx = ctx.with_secondary(Arc::new(secondary));
        }
        if semi_sync {
            ctx = ctx.with_semi_sync_watch();
        }
        let watcher = tokio::spawn(old_masters::watch(
            fenced.to_vec(),
            self.connector.clone(),
            config.clone(),
        ));
        // A signal or a lost lock ends the monitoring (between pings).
        let every = config.settings.ping_interval.max(Duration::from_secs(1));
        let alive = async {
            if already_dead {
                first.alive_but_unreachable().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let stop = async {
            tokio::select! {
                () = self.shutdown.wait() => {}
                () = self.watch_lock(every) => {}
                () = alive => {}
            }
        };
        let exit = monitor::run(ctx, stop).await;
        watcher.abort();
        if first.said_alive() && exit == MonitorExit::Shutdown {
            return Ok(Watched::AliveButUnreachable);
        }
        Ok(Watched::Exit(exit))
    }

    /// `--dry-run`: the failover plan for the dead master, nothing changed.
    async fn dry_run(&self, config: &Arc<Config>, dead: &monitor::DeadMaster) -> Exit {
        let ctx = failover_ctx(
            config,
            &self.connector,
            &self.remote,
            true,
            Journal::default(),
            &self.args.failover,
        );
        let outcome = failover::run(&ctx, dead.clone()).await;
        tracing::info!("--dry-run: nothing was changed.");
        match outcome {
            Outcome::Failed { .. } => Exit::Failed,
            _ => Exit::Ok,
        }
    }

    /// The anti-flapping guard, the failover with its journal, the report
    /// and the markers. `Continue` with the exit code once a new master is
    /// up; `Break` when the daemon must stop here.
    async fn fail_over(
        &self,
        config: &Arc<Config>,
        master_label: &str,
        dead: &monitor::DeadMaster,
    ) -> ControlFlow<Exit, Attempt> {
        self.health.set(StatusCode::FailoverRunning, master_label);
        if let Err(refusal) = run_guard(&self.workdir, &self.args) {
            self.health.set(StatusCode::FailoverError, master_label);
            tracing::error!("Not failing over: {refusal}");
            return ControlFlow::Break(Exit::Failed);
        }
        if let Err(e) = record::begin(&self.workdir, master_label) {
            self.health.set(StatusCode::FailoverError, master_label);
            tracing::error!(
                "Not failing over: cannot write the failover marker ({e}); without it an \
                 interrupted failover could not be told from a finished one. Fix \
                 manager_workdir and fail over with ha-manager switch --master-state dead."
            );
            return ControlFlow::Break(Exit::Failed);
        }
        let journal = record::journal(&self.workdir);
        let ctx = failover_ctx(
            config,
            &self.connector,
            &self.remote,
            false,
            journal,
            &self.args.failover,
        );
        let outcome = failover::run(&ctx, dead.clone()).await;
        record::report(config, &ctx).await;
        record::end(&self.workdir, &outcome, master_label);
        let code = match &outcome {
            Outcome::Complete(_) | Outcome::DryRun => Exit::Ok,
            Outcome::Partial(_) => Exit::Partial,
            Outcome::Failed {
                changed: false,
                phase,
                error,
            } => {
                return ControlFlow::Continue(Attempt::NothingChanged {
                    why: format!("{}: {error}", phase.title()),
                })
            }
            Outcome::Failed { .. } => {
                self.health.set(StatusCode::FailoverError, master_label);
                return ControlFlow::Break(Exit::Failed);
            }
        };
        ControlFlow::Continue(Attempt::FailedOver(code))
    }

    /// `--remove-dead-master-conf`: deletes the dead master's block from the config file.
    fn remove_from_conf(&self, dead: &ServerSpec) {
        let conf = &self.args.conf.conf;
        match crate::config::remove_server_block(conf, &dead.name) {
            Ok(()) => tracing::info!("Removed [{}] from {}.", dead.name, conf.display()),
            Err(e) => tracing::warn!("could not remove [{}] from the config: {e}", dead.name),
        }
    }
}

fn failover_ctx(
    config: &Arc<Config>,
    connector: &Arc<dyn Connector>,
    remote: &Arc<dyn Remote>,
    dry_run: bool,
    journal: Journal,
    flags: &crate::cli::FailoverArgs,
) -> Ctx {
    Ctx {
        kit: crate::recovery::Kit {
            config: config.clone(),
            connector: connector.clone(),
            remote: remote.clone(),
            log: crate::recovery::Log::new(journal),
        },
        options: Options {
            dry_run,
            mode: Mode::Automatic,
            skip_change_master: flags.skip_change_master,
            skip_disable_read_only: flags.skip_disable_read_only,
            ignore_binlog_server_error: flags.ignore_binlog_server_error,
            ..Options::default()
        },
    }
}

/// Records a failover that changed nothing at `now` and forgets those older than
/// `window`; `Some(n)` (this is the n-th in the window) while n ≤ `limit`, `None`
/// when the daemon must stop.
fn quiet_budget(
    recent: &mut Vec<Instant>,
    now: Instant,
    limit: usize,
    window: Duration,
) -> Option<usize> {
    recent.retain(|&t| now.saturating_duration_since(t) < window);
    recent.push(now);
    (recent.len() <= limit).then_some(recent.len())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// MHA's anti-flapping rules, with the marker files in the workdir.
fn run_guard(workdir: &Workdir, args: &StartArgs) -> Result<(), String> {
    if let Some(refusal) =
        record::refuse_unfinished(workdir, &args.conf.conf, args.ignore_last_failover)
    {
        return Err(refusal);
    }
    let complete = workdir
        .read_marker(MarkerKind::Complete)
        .map_err(|e| e.to_string())?;
    let error = workdir
        .read_marker(MarkerKind::Error)
        .map_err(|e| e.to_string())?;
    let window = Duration::from_secs(args.last_failover_minute * 60);
    let actions = guard::may_fail_over(
        crate::state::now(),
        complete.as_ref(),
        error.as_ref(),
        window,
        args.ignore_last_failover,
    )
    .map_err(|r| r.to_string())?;
    workdir.apply(&actions).map_err(|e| e.to_string())
}

#[cfg(test)]
#[path = "start_tests.rs"]
mod tests;
