//! Monitoring the master: ping loop, confirmation through the replicas, the health file.
//!
//! [`run`] pings the master every `ping_interval` (per `ping_type`), feeds
//! each outcome to the pure [`Detector`] (`policy::death`). At the first miss
//! it starts, in the background, the SSH check of the master's host, the
//! secondary check, and a *baseline* reading of every other server (what each
//! replica had received). Alongside the last ping before a confirmation it
//! connects to the master's mysqld from the host of each replica whose IO
//! thread said `Yes` at the baseline, over SSH (bounded by the ping interval,
//! at most 2 s); that ping, on a fresh connection, is the confirmation's own
//! try at the master (with `ping_misses=1` the confirmation pings once more
//! instead). After `ping_misses` consecutive misses it reads each replica's
//! status with what it received since the baseline, waits for the secondary
//! check, and [`confirm`] decides. An
//! `Alive` verdict is logged and monitoring goes on; `Dead` ends the monitor
//! with a [`DeadMaster`] for the failover. The verdict does not wait for the
//! SSH check of the master's host; the hand-over does, since saving the dead
//! master's binlog depends on it.
//!
//! Time is `tokio::time` (tests run on paused time) and shutdown is an
//! injected future, honoured between pings only: a confirmation, once
//! started, finishes and is acted on.

pub(crate) mod old_masters;
pub(crate) mod probe;
pub(crate) mod secondary;
pub(crate) mod semisync;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::config::{Config, PingType, ServerId};
use crate::mysql::Connector;
use crate::state::{HealthUpdate, StateSink, StatusCode};
use crate::transport::Remote;

pub(crate) use crate::policy::death::DeadMaster;
use crate::policy::death::{
    confirm, ConfirmationInput, Detector, HostProbe, MonitorState, PingOutcome, Progress,
    ReplicaView, SecondaryResult, Seen, SshReach, Step, Verdict,
};
use crate::topology::status::IoState;
use probe::Pinger;
pub(crate) use probe::SecondaryCheck;

/// The shortest ping interval the loop accepts; a zero interval from a
/// hand-built config must not spin.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// The longest a connect from a replica's host may take to count as an
/// answer: the ping interval, but at most this (a mysqld in the same network
/// greets in milliseconds; the confirmation must end within seconds).
const PROBE_MAX: Duration = Duration::from_secs(2);

/// Added to a connect probe's own bound for the SSH round trip to the replica's host.
const PROBE_SSH_MARGIN: Duration = Duration::from_secs(2);

/// Everything the monitor needs, passed in (no globals).
pub(crate) struct MonitorCtx {
    config: Arc<Config>,
    master: ServerId,
    connector: Arc<dyn Connector>,
    remote: Arc<dyn Remote>,
    secondary: Option<Arc<dyn SecondaryCheck>>,
    sink: Arc<dyn StateSink>,
    /// Read the master's semi-sync while monitoring (it was enabled at start).
    watch_semi_sync: bool,
}

/// Why a monitor could not be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MonitorError {
    #[error("no server number {index} to monitor: the configuration has {count} servers")]
    NoSuchServer { index: usize, count: usize },
}

impl MonitorCtx {
    /// `master` is the index in `config.servers` of the current master, as
    /// the caller's discovery found it.
    pub(crate) fn new(
        config: Arc<Config>,
        master: ServerId,
        connector: Arc<dyn Connector>,
        remote: Arc<dyn Remote>,
        sink: Arc<dyn StateSink>,
    ) -> Result<MonitorCtx, MonitorError> {
        if master.index() >= config.servers.len() {
            return Err(MonitorError::NoSuchServer {
                index: master.index(),
                count: config.servers.len(),
            });
        }
        Ok(MonitorCtx {
            config,
            master,
            connector,
            remote,
            secondary: None,
            sink,
            watch_semi_sync: false,
        })
    }

    /// Reads the master's semi-sync status every ping interval (at least
    /// 1 s), for the failover's election and report.
    pub(crate) fn with_semi_sync_watch(mut self) -> MonitorCtx {
        self.watch_semi_sync = true;
        self
    }

    /// Adds the secondary check (from `secondary_check_script`).
    pub(crate) fn with_secondary(mut self, check: Arc<dyn SecondaryCheck>) -> MonitorCtx {
        self.secondary = Some(check);
        self
    }
}

/// How a monitor run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MonitorExit {
    /// The shutdown future completed.
    Shutdown,
    /// The master is confirmed dead: start the failover.
    MasterDead(DeadMaster),
}

/// Counters for the health JSON.
#[derive(Debug, Default)]
struct Counters {
    pings_ok: u64,
    pings_missed: u64,
    last_error: Option<String>,
}

/// Watches the master until it is confirmed dead or `shutdown` completes.
pub(crate) async fn run(ctx: MonitorCtx, shutdown: impl Future<Output = ()>) -> MonitorExit {
    tokio::pin!(shutdown);
    let settings = &ctx.config.settings;
    let interval = settings.ping_interval.max(MIN_INTERVAL);
    let master_spec = ctx.config.server(ctx.master).clone();
    let master_host = master_spec.hostname.clone();
    let label = master_spec.label();
    let mut pinger = Pinger::new(
        master_spec.clone(),
        ctx.connector.clone(),
        settings.ping_type,
        interval,
        settings.mysql_timeout,
    );
    let mut detector = Detector::new(settings.ping_misses);
    let mut counters = Counters::default();
    let mut first_miss: Option<Instant> = None;
    let mut announced = false;
    let mut background: Option<BackgroundChecks> = None;
    let mut baseline: Option<BaselineState> = None;
    let mut probes: Option<Probes> = None;
    let semi_sync = ctx.watch_semi_sync.then(|| {
        semisync::Watcher::start(
            master_spec.clone(),
            ctx.connector.clone(),
            interval.max(Duration::from_secs(1)),
            settings.mysql_timeout,
        )
    });

    let report = |state: MonitorState, detector: &Detector, counters: &Counters| {
        ctx.sink.update(&HealthUpdate {
            code: StatusCode::from(state),
            master: master_host.clone(),
            consecutive_misses: detector.misses(),
            pings_ok: counters.pings_ok,
            pings_missed: counters.pings_missed,
            last_error: counters.last_error.clone(),
        });
    };

    loop {
        let next_tick = Instant::now() + interval;
        let outcome = pinger.ping().await;
        let step = detector.observe(&outcome);
        match &outcome {
            PingOutcome::Ok => {
                if let Some(checks) = background.take() {
                    checks.abort();
                }
                abort_baseline(baseline.take());
                if let Some(p) = probes.take() {
                    p.abort();
                }
                counters.pings_ok += 1;
                counters.last_error = None;
                if first_miss.take().is_some() {
                    tracing::info!("Ping to master {label} succeeded again; misses reset");
                }
                if !announced {
                    tracing::info!(
                        "Ping({}) succeeded, waiting until MySQL doesn't respond..",
                        ping_type_name(settings.ping_type)
                    );
                    announced = true;
                }
            }
            PingOutcome::AliveError { code } => {
                counters.pings_ok += 1;
                counters.last_error = Some(format!("MySQL error {code}"));
                first_miss = None;
                abort_baseline(baseline.take());
                if let Some(p) = probes.take() {
                    p.abort();
                }
                tracing::warn!(
                    "Got MySQL error {code} from master {label}, but this is not a MySQL crash \
                     (the server answered). Continue health check.."
                );
            }
            PingOutcome::Miss { reason } => {
                counters.pings_missed += 1;
                counters.last_error = Some(reason.clone());
                first_miss.get_or_insert_with(Instant::now);
                // As MHA: SSH and the secondary check start at the first miss, in the
                // background, so their timeouts overlap the remaining pings.
                if background.is_none() {
                    background = Some(start_background_checks(&ctx));
                }
                // What the replicas had received when the misses began.
                if baseline.is_none() {
                    baseline = Some(start_baseline(&ctx));
                }
                tracing::warn!(
                    "Got error on MySQL ping of master {label}: {reason} ({}/{} misses)",
                    detector.misses(),
                    detector.needed()
                );
            }
        }
        report(MonitorState::after(&step), &detector, &counters);

        // The next ping is the last before a confirmation: the connects from
        // the replicas' hosts run alongside it.
        if let Step::Failing { misses } = step {
            if misses + 1 == detector.needed() && probes.is_none() {
                let base = baseline_ready(&mut baseline).await;
                probes = Some(start_probes(&ctx, base));
            }
        }

        if let Step::NeedConfirmation { misses } = step {
            tracing::warn!(
                "Master {label} missed {misses} pings in a row; asking the other servers, \
                 SSH and the secondary check whether it is really down"
            );
            let checks = background
                .take()
                .unwrap_or_else(|| start_background_checks(&ctx));
            let base = baseline_ready(&mut baseline).await;
            let (mut input, ssh_pending) =
                gather(&ctx, &mut pinger, checks, base, probes.take()).await;
            match confirm(&input) {
                Verdict::Dead { ssh, evidence } => {
                    let detected_at = SystemTime::now();
                    let since_first_miss = first_miss.map(|t| t.elapsed()).unwrap_or_default();
                    let (ssh, evidence) = match ssh_pending {
                        None => (ssh, evidence),
                        Some(handle) => {
                            tracing::error!(
                                "Master {label} is down: the other servers agree ({}); waiting \
                                 for the SSH check of its host (started at the first miss, at \
                                 most {}s) to know whether its binlog can be saved",
                                input
                                    .replicas
                                    .iter()
                                    .map(ReplicaView::describe)
                                    .collect::<Vec<_>>()
                                    .join("; "),
                                master_spec.ssh.connection_timeout.as_secs()
                            );
                            input.ssh = handle.await.unwrap_or(SshReach::Unknown);
                            tracing::info!(
                                "SSH to master host {}: {}",
                                master_spec.ssh.host,
                                input.ssh
                            );
                            match confirm(&input) {
                                Verdict::Dead { ssh, evidence } => (ssh, evidence),
                                // The verdict does not depend on SSH; kept whole regardless.
                                Verdict::Alive { .. } => (input.ssh, evidence),
                            }
                        }
                    };
                    tracing::error!("Master {label} is down: {evidence}");
                    return MonitorExit::MasterDead(DeadMaster {
                        index: ctx.master,
                        ssh_reachable: ssh,
                        detected_at,
                        misses,
                        since_first_miss,
                        replica_views: input.replicas,
                        evidence,
                        semi_sync: semi_sync.as_ref().map(|w| Box::new(w.seen())),
                    });
                }
                Verdict::Alive { reason } => {
                    if let Some(handle) = ssh_pending {
                        handle.abort();
                    }
                    tracing::warn!("{reason}");
                    detector.reset();
                    first_miss = None;
                    report(MonitorState::RetryingMonitor, &detector, &counters);
                }
            }
        }

        // Shutdown is honoured here, between pings, and wins over the tick.
        tokio::select! {
            biased;
            () = &mut shutdown => return MonitorExit::Shutdown,
            () = tokio::time::sleep_until(next_tick) => {}
        }
    }
}

/// What the replicas had received when the misses began: the yardstick for
/// "still receiving", and who to ask for a connect from their host.
struct Baseline {
    at: Instant,
    looks: Vec<probe::Look>,
}

/// The baseline read, started at the first miss of a run of misses and kept
/// (across confirmations that found the master alive) until a ping succeeds.
enum BaselineState {
    Pending(JoinHandle<Baseline>),
    Ready(Baseline),
}

fn start_baseline(ctx: &MonitorCtx) -> BaselineState {
    let config = ctx.config.clone();
    let connector = ctx.connector.clone();
    let master = ctx.master;
    BaselineState::Pending(tokio::spawn(async move {
        let at = Instant::now();
        let looks =
            probe::replica_views(&config, master, connector, config.settings.mysql_timeout).await;
        Baseline { at, looks }
    }))
}

fn abort_baseline(state: Option<BaselineState>) {
    if let Some(BaselineState::Pending(handle)) = state {
        handle.abort();
    }
}

/// The baseline, once read (`None` if its read failed).
async fn baseline_ready(state: &mut Option<BaselineState>) -> Option<&Baseline> {
    let taken = state.take();
    *state = match taken {
        Some(BaselineState::Pending(handle)) => handle.await.ok().map(BaselineState::Ready),
        other => other,
    };
    match state {
        Some(BaselineState::Ready(b)) => Some(b),
        _ => None,
    }
}

/// Connects to the master from the replicas' hosts, started alongside the
/// last ping before a confirmation, so that the confirmation needs no extra
/// round: that ping, on a fresh connection, is the confirmation's own try at
/// the master, and these answers come in during it.
type Probes = JoinHandle<HashMap<ServerId, HostProbe>>;

/// Asks everything at once: the master once more (same ping kind, fresh
/// connection) unless `probes` ran alongside the ping that just missed, the
/// other servers with their fresh view, the secondary check. SSH to the
/// master's host does not hold up the verdict: when it has not finished, its
/// handle comes back with `ssh` left `Unknown`.
async fn gather(
    ctx: &MonitorCtx,
    pinger: &mut Pinger,
    checks: BackgroundChecks,
    baseline: Option<&Baseline>,
    probes: Option<Probes>,
) -> (ConfirmationInput, Option<JoinHandle<SshReach>>) {
    let master = &ctx.config.server(ctx.master);
    let overlapped = probes.is_some();
    pinger.drop_connection();
    let master_again = async {
        if overlapped {
            // The ping that just missed ran during the probes.
            None
        } else {
            Some(pinger.ping().await)
        }
    };
    let BackgroundChecks { ssh, secondary } = checks;
    // The replicas are read once the secondary check has finished: the
    // verdict uses their latest view, not the one from the start of the
    // confirmation.
    let rest = async {
        let secondary = match secondary {
            Some(handle) => Some(
                handle
                    .await
                    .unwrap_or_else(|e| SecondaryResult::CouldNotRun(e.to_string())),
            ),
            None => None,
        };
        let probes = probes.unwrap_or_else(|| start_probes(ctx, baseline));
        let answers = probes.await.unwrap_or_else(|e| {
            tracing::error!("the connect probes failed: {e}");
            HashMap::new()
        });
        (fresh_views(ctx, baseline, answers).await, secondary)
    };
    let (master_again, (replicas, secondary)) = tokio::join!(master_again, rest);
    if let Some(result) = &secondary {
        tracing::info!("Secondary check for master {}: {result:?}", master.label());
    }
    let (ssh, pending) = if ssh.is_finished() {
        let reach = ssh.await.unwrap_or(SshReach::Unknown);
        tracing::info!("SSH to master host {}: {reach}", master.ssh.host);
        (reach, None)
    } else {
        (SshReach::Unknown, Some(ssh))
    };
    let input = ConfirmationInput {
        master_answered: matches!(
            master_again,
            Some(PingOutcome::Ok | PingOutcome::AliveError { .. })
        ),
        replicas,
        ssh,
        secondary,
    };
    (input, pending)
}

/// From the host of each server whose IO thread showed `Yes` at the
/// baseline (the state that alone proves nothing after a silent loss), a
/// connect to the master as that server's replica status names it.
fn start_probes(ctx: &MonitorCtx, baseline: Option<&Baseline>) -> Probes {
    let bound = ctx
        .config
        .settings
        .ping_interval
        .clamp(MIN_INTERVAL, PROBE_MAX);
    let mut targets = Vec::new();
    for look in baseline.map(|b| b.looks.as_slice()).unwrap_or_default() {
        let yes = matches!(
            look.view.seen,
            Seen::Replica {
                io: IoState::Yes,
                points_at_master: true,
                ..
            }
        );
        if let (true, Some(source)) = (yes, look.source.clone()) {
            targets.push((look.id, ctx.config.server(look.id).clone(), source));
        }
    }
    let remote = ctx.remote.clone();
    tokio::spawn(async move {
        let mut probes = JoinSet::new();
        for (id, from, source) in targets {
            let remote = remote.clone();
            probes.spawn(async move {
                let answer =
                    probe::host_probe(remote.as_ref(), &from, &source, bound, PROBE_SSH_MARGIN)
                        .await;
                (id, answer)
            });
        }
        let mut answers = HashMap::new();
        while let Some(joined) = probes.join_next().await {
            match joined {
                Ok((id, answer)) => {
                    answers.insert(id, answer);
                }
                Err(e) => tracing::error!("a connect probe task failed: {e}"),
            }
        }
        answers
    })
}

/// Every other server's view, with what it received since the baseline and
/// what the connect from its host found.
async fn fresh_views(
    ctx: &MonitorCtx,
    baseline: Option<&Baseline>,
    mut answers: HashMap<ServerId, HostProbe>,
) -> Vec<ReplicaView> {
    let looks = probe::replica_views(
        &ctx.config,
        ctx.master,
        ctx.connector.clone(),
        ctx.config.settings.mysql_timeout,
    )
    .await;
    let now = Instant::now();
    looks
        .into_iter()
        .map(|look| {
            let mut view = look.view;
            if let Seen::Replica { fresh, .. } = &mut view.seen {
                fresh.progress = match (&look.mark, baseline) {
                    (Some(mark), Some(base)) => {
                        let earlier = base
                            .looks
                            .iter()
                            .find(|l| l.id == look.id)
                            .and_then(|l| l.mark.as_ref());
                        mark.since(earlier, now.saturating_duration_since(base.at))
                    }
                    _ => Progress::Unknown,
                };
                fresh.heartbeat_period = look.heartbeat_period;
                fresh.probe = answers.remove(&look.id).unwrap_or(HostProbe::NotAsked);
            }
            view
        })
        .collect()
}

/// SSH reachability and the secondary check, running in the background.
struct BackgroundChecks {
    ssh: JoinHandle<SshReach>,
    secondary: Option<JoinHandle<SecondaryResult>>,
}

impl BackgroundChecks {
    fn abort(self) {
        self.ssh.abort();
        if let Some(h) = self.secondary {
            h.abort();
        }
    }
}

fn start_background_checks(ctx: &MonitorCtx) -> BackgroundChecks {
    let master = ctx.config.server(ctx.master).clone();
    let remote = ctx.remote.clone();
    let spec = master.clone();
    let ssh = tokio::spawn(async move { probe::ssh_reach(remote.as_ref(), &spec).await });
    let limit = ctx.config.settings.command_timeout;
    let secondary = ctx.secondary.clone().map(|check| {
        tokio::spawn(async move { probe::secondary(check.as_ref(), &master, limit).await })
    });
    BackgroundChecks { ssh, secondary }
}

fn ping_type_name(t: PingType) -> &'static str {
    match t {
        PingType::Select => "SELECT",
        PingType::Connect => "CONNECT",
        PingType::Insert => "INSERT",
    }
}
