//! `start`: check, monitor the master, fail over when it dies, report, and keep
//! watching the new topology (MHA's `masterha_manager`, as a daemon).

use anyhow::Context;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use crate::check;
use crate::cli::StartArgs;
use crate::config::{Config, ServerSpec};
use crate::exit::Exit;
use crate::failover::{self, Ctx, DeadMaster, Options, Outcome, Steps};
use crate::journal::{Facts, Journal, Mode};
use crate::logging;
use crate::monitor::{self, MonitorCtx, MonitorExit, SecondaryCheck};
use crate::mysql::{Connector, MysqlConnector};
use crate::notify::{self, hooks};
use crate::policy::death::SecondaryResult;
use crate::policy::guard;
use crate::render::hook_args;
use crate::state::{AppLock, HealthWriter, MarkerKind, StatusCode, Workdir};
use crate::transport::{Remote, SshRemote};

pub async fn run(config: Config, args: StartArgs) -> anyhow::Result<Exit> {
    let workdir = Workdir::of(&config);
    std::fs::create_dir_all(workdir.dir())
        .with_context(|| format!("cannot create manager_workdir {}", workdir.dir().display()))?;
    let _lock = match AppLock::acquire(&workdir) {
        Ok(lock) => lock,
        Err(e) => {
            eprintln!("{}", logging::stamp(&format!("[error] {e}")));
            return Ok(Exit::Failed);
        }
    };
    let health = Arc::new(HealthWriter::new(workdir.clone()));
    let connector: Arc<dyn Connector> = Arc::new(MysqlConnector);
    let remote: Arc<dyn Remote> = Arc::new(
        SshRemote::new(
            config.settings.known_hosts_file.clone(),
            config.settings.host_key_check,
        )
        .context("cannot create a private directory for ssh control sockets in /tmp")?,
    );
    let shutdown = Shutdown::install()?;
    let mut config = Arc::new(config);
    // Old masters the manager failed over from: fenced if they come back writable.
    let mut fenced: Vec<ServerSpec> = Vec::new();

    loop {
        health.set(StatusCode::InitializingMonitor, "");
        let (report, topology, discovery) =
            check::repl::evaluate(&config, connector.clone(), args.seconds_behind_master).await;
        for line in &report.lines {
            eprintln!("{}", logging::stamp(line));
        }
        let Some(master) = discovery.master.filter(|_| report.ok) else {
            health.set(StatusCode::ConfigError, "");
            tracing::error!(
                "Refusing to monitor: fix the problems above (ha-manager check-repl shows them)."
            );
            return Ok(Exit::Failed);
        };
        let master_label = topology.label(master);
        tracing::info!(
            "Monitoring {master_label} every {}s.",
            config.settings.ping_interval.as_secs_f64()
        );

        let mut ctx = MonitorCtx::new(
            config.clone(),
            master,
            connector.clone(),
            remote.clone(),
            health.clone(),
        )?;
        if let Some(script) = &config.settings.secondary_check_script {
            ctx = ctx.with_secondary(Arc::new(HookSecondary {
                script: script.clone(),
                timeout: config.settings.command_timeout,
                ping_type: config.settings.ping_type,
            }));
        }
        let watcher = tokio::spawn(watch_old_masters(
            fenced.clone(),
            connector.clone(),
            config.clone(),
        ));
        let exit = monitor::run(ctx, shutdown.wait()).await;
        watcher.abort();
        let dead = match exit {
            MonitorExit::Shutdown => {
                tracing::info!("Stopped by signal while monitoring.");
                let _ = workdir.remove_health();
                return Ok(Exit::Ok);
            }
            MonitorExit::MasterDead(dead) => dead,
        };
        tracing::warn!("Master {master_label} is dead: {}", dead.evidence);

        if args.dry_run {
            let ctx = failover_ctx(&config, &connector, &remote, true, Journal::default());
            let outcome = failover::run(
                &ctx,
                DeadMaster {
                    index: dead.index,
                    ssh_reachable: ssh_known(dead.ssh_reachable),
                },
            )
            .await;
            tracing::info!("--dry-run: nothing was changed.");
            return Ok(match outcome {
                Outcome::Failed { .. } => Exit::Failed,
                _ => Exit::Ok,
            });
        }

        health.set(StatusCode::FailoverRunning, &master_label);
        if let Err(refusal) = run_guard(&workdir, &args) {
            health.set(StatusCode::FailoverError, &master_label);
            tracing::error!("Not failing over: {refusal}");
            return Ok(Exit::Failed);
        }
        let mut journal = Journal::new(Facts::default());
        if let Err(e) = journal.append_jsonl(workdir.journal()) {
            tracing::warn!("journal file: {e}");
        }
        let ctx = failover_ctx(&config, &connector, &remote, false, journal);
        let outcome = failover::run(
            &ctx,
            DeadMaster {
                index: dead.index,
                ssh_reachable: ssh_known(dead.ssh_reachable),
            },
        )
        .await;
        let report = crate::render::report::render(&ctx.steps.journal());
        eprintln!("{}", report.log_text());
        let delivery = notify::Notifier::from_config(&config)
            .deliver(&report)
            .await;
        if !delivery.all_ok() {
            tracing::warn!("report delivery: {delivery:?}");
        }
        let code = match &outcome {
            Outcome::Complete(_) | Outcome::DryRun(_) => Exit::Ok,
            Outcome::Partial(_) => Exit::Partial,
            Outcome::Failed {
                changed, reason, ..
            } => {
                if *changed {
                    let _ = workdir.create_marker(MarkerKind::Error, reason);
                }
                health.set(StatusCode::FailoverError, &master_label);
                return Ok(Exit::Failed);
            }
        };
        let _ = workdir.create_marker(
            MarkerKind::Complete,
            &format!("failover from {master_label}"),
        );
        let dead_spec = config.servers[dead.index].clone();
        if args.remove_dead_master_conf {
            match crate::config::remove_server_block(&args.conf.conf, &dead_spec.name) {
                Ok(()) => tracing::info!(
                    "Removed [{}] from {}.",
                    dead_spec.name,
                    args.conf.conf.display()
                ),
                Err(e) => {
                    tracing::warn!("could not remove [{}] from the config: {e}", dead_spec.name)
                }
            }
        }
        if args.exit_after_failover || shutdown.requested() {
            let _ = workdir.remove_health();
            return Ok(code);
        }
        // Keep watching: the new topology, without the dead master.
        let mut next = (*config).clone();
        next.servers.retain(|s| s.name != dead_spec.name);
        fenced.push(dead_spec);
        config = Arc::new(next);
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
        config: config.clone(),
        connector: connector.clone(),
        remote: remote.clone(),
        options: Options {
            dry_run,
            mode: Mode::Automatic,
            ..Options::default()
        },
        steps: Steps::new(journal),
    }
}

/// MHA's anti-flapping rules, with the marker files in the workdir.
fn run_guard(workdir: &Workdir, args: &StartArgs) -> Result<(), String> {
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

/// A previous master that comes back writable is made read-only at once: two
/// writable masters would split the data.
async fn watch_old_masters(
    old: Vec<ServerSpec>,
    connector: Arc<dyn Connector>,
    config: Arc<Config>,
) {
    if old.is_empty() {
        return;
    }
    loop {
        for spec in &old {
            let timeout = config.settings.mysql_timeout;
            if let Ok(db) = connector.connect(spec, timeout).await {
                if let Ok(facts) = db.facts().await {
                    if !facts.read_only {
                        match db.set_read_only(true).await {
                            Ok(()) => tracing::error!(
                                "{} (the old master) came back WRITABLE: set read_only=1. Rebuild it as a slave of the new master.",
                                spec.label()
                            ),
                            Err(e) => tracing::error!(
                                "{} (the old master) came back WRITABLE and setting read_only failed: {e}. Stop it by hand!",
                                spec.label()
                            ),
                        }
                    }
                }
                db.close().await;
            }
        }
        tokio::time::sleep(config.settings.ping_interval).await;
    }
}

/// `secondary_check_script` run through the hook runner, MHA's arguments.
struct HookSecondary {
    script: crate::config::HookCommand,
    timeout: Duration,
    ping_type: crate::config::PingType,
}

#[async_trait]
impl SecondaryCheck for HookSecondary {
    async fn run(&self, master: &ServerSpec) -> SecondaryResult {
        let server = hook_args::HookServer::from_spec(master, &os_user());
        let args = hook_args::secondary_check_args(&server, self.ping_type);
        let secrets = vec![(
            hook_args::MASTER_PASSWORD.to_owned(),
            master.password.clone(),
        )];
        let outcome = hooks::run_hook(&self.script, &args, &secrets, self.timeout).await;
        match outcome.code {
            Some(code) => SecondaryResult::Exit(code),
            None => SecondaryResult::CouldNotRun(outcome.describe()),
        }
    }
}

fn os_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "root".into())
}

/// SIGTERM/SIGINT: stop between pings, never in the middle of a failover phase.
#[derive(Clone)]
struct Shutdown {
    flag: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Shutdown {
    fn install() -> anyhow::Result<Shutdown> {
        let (tx, _) = tokio::sync::watch::channel(false);
        let flag = Arc::new(tx);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        let f = flag.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            let _ = f.send(true);
        });
        Ok(Shutdown { flag })
    }

    fn requested(&self) -> bool {
        *self.flag.borrow()
    }

    async fn wait(&self) {
        let mut rx = self.flag.subscribe();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

fn ssh_known(reach: crate::policy::death::SshReach) -> Option<bool> {
    use crate::policy::death::SshReach;
    match reach {
        SshReach::Reachable => Some(true),
        SshReach::Unreachable => Some(false),
        SshReach::Unknown => None,
    }
}
