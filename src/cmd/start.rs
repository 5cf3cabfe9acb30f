//! `start`: check, monitor the master, fail over when it dies, report, and keep
//! watching the new topology (MHA's `masterha_manager`, as a daemon).

use crate::config::ServerId;
use anyhow::Context;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

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
use crate::state::{AppLock, HealthWriter, MarkerKind, StatusCode, Workdir};
use crate::transport::Remote;

use super::{record, Adapters};

/// The daemon loop: check → monitor → fail over → keep watching the new topology.
pub(super) async fn run(config: Config, args: StartArgs) -> anyhow::Result<Exit> {
    let workdir = Workdir::of(&config);
    std::fs::create_dir_all(workdir.dir())
        .with_context(|| format!("cannot create manager_workdir {}", workdir.dir().display()))?;
    let _lock = match AppLock::acquire(&workdir) {
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
        health: Arc::new(HealthWriter::new(workdir.clone())),
        workdir,
        connector,
        remote,
        shutdown: Shutdown::install()?,
        args,
    };
    let mut config = Arc::new(config);
    // Old masters the manager failed over from: fenced if they come back writable.
    let mut fenced: Vec<ServerSpec> = Vec::new();

    loop {
        let Some((master, master_label)) = daemon.check(&config).await else {
            return Ok(Exit::Failed);
        };
        let dead = match daemon.monitor(&config, master, &fenced).await? {
            MonitorExit::Shutdown => {
                tracing::info!("Stopped by signal while monitoring.");
                let _ = daemon.workdir.remove_health();
                return Ok(Exit::Ok);
            }
            MonitorExit::MasterDead(dead) => dead,
        };
        tracing::warn!("Master {master_label} is dead: {}", dead.evidence);
        if daemon.args.dry_run {
            return Ok(daemon.dry_run(&config, &dead).await);
        }
        let code = match daemon.fail_over(&config, &master_label, &dead).await {
            ControlFlow::Continue(code) => code,
            ControlFlow::Break(exit) => return Ok(exit),
        };
        let dead_spec = config.server(dead.index).clone();
        if daemon.args.remove_dead_master_conf {
            daemon.remove_from_conf(&dead_spec);
        }
        if daemon.args.exit_after_failover || daemon.shutdown.requested() {
            let _ = daemon.workdir.remove_health();
            return Ok(code);
        }
        // Keep watching: the new topology, without the dead master.
        let mut next = (*config).clone();
        next.servers.retain(|s| s.name != dead_spec.name);
        fenced.push(dead_spec);
        config = Arc::new(next);
    }
}

/// What the daemon keeps from one failover to the next.
struct Daemon {
    args: StartArgs,
    workdir: Workdir,
    health: Arc<HealthWriter>,
    connector: Arc<dyn Connector>,
    remote: Arc<dyn Remote>,
    shutdown: Shutdown,
}

impl Daemon {
    /// The start-up checks; the master to monitor and its label, or `None`
    /// when the topology is refused (the problems are logged).
    async fn check(&self, config: &Config) -> Option<(ServerId, String)> {
        self.health.set(StatusCode::InitializingMonitor, "");
        let (report, topology, discovery) = check::repl::evaluate(
            config,
            self.connector.clone(),
            self.args.lag.seconds_behind_master,
        )
        .await;
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
        // MHA's start-up checks: SSH to every host (unless skip_init_ssh_check)
        // and the failover hooks' --command=status; a failover must not be the
        // first to find that they do not work.
        let ssh = check::ssh::run(config, self.remote.clone(), self.connector.clone()).await;
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
        tracing::info!(
            "Monitoring {master_label} every {}s.",
            config.settings.ping_interval.as_secs_f64()
        );
        Some((master, master_label))
    }

    /// Monitors `master` until it dies or a signal arrives, fencing the old
    /// masters meanwhile.
    async fn monitor(
        &self,
        config: &Arc<Config>,
        master: ServerId,
        fenced: &[ServerSpec],
    ) -> anyhow::Result<MonitorExit> {
        let mut ctx = MonitorCtx::new(
            config.clone(),
            master,
            self.connector.clone(),
            self.remote.clone(),
            self.health.clone(),
        )?;
        if let Some(secondary) = HookSecondary::from_settings(&config.settings) {
            ctx = ctx.with_secondary(Arc::new(secondary));
        }
        let watcher = tokio::spawn(old_masters::watch(
            fenced.to_vec(),
            self.connector.clone(),
            config.clone(),
        ));
        let exit = monitor::run(ctx, self.shutdown.wait()).await;
        watcher.abort();
        Ok(exit)
    }

    /// `--dry-run`: the failover plan for the dead master, nothing changed.
    async fn dry_run(&self, config: &Arc<Config>, dead: &monitor::DeadMaster) -> Exit {
        let ctx = failover_ctx(
            config,
            &self.connector,
            &self.remote,
            true,
            Journal::default(),
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
    ) -> ControlFlow<Exit, Exit> {
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
        let ctx = failover_ctx(config, &self.connector, &self.remote, false, journal);
        let outcome = failover::run(&ctx, dead.clone()).await;
        record::report(config, &ctx).await;
        record::end(&self.workdir, &outcome, master_label);
        let code = match &outcome {
            Outcome::Complete(_) | Outcome::DryRun => Exit::Ok,
            Outcome::Partial(_) => Exit::Partial,
            Outcome::Failed { .. } => {
                self.health.set(StatusCode::FailoverError, master_label);
                return ControlFlow::Break(Exit::Failed);
            }
        };
        ControlFlow::Continue(code)
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
            ..Options::default()
        },
    }
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
