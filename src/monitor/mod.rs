//! Monitoring the master: ping loop, confirmation through the replicas, the health file.
//!
//! [`run`] pings the master every `ping_interval` (per `ping_type`), feeds
//! each outcome to the pure [`Detector`] (`policy::death`), and after `ping_misses`
//! consecutive misses gathers, all at once, what every other server's
//! replica status says, whether SSH to the master's host works, and the
//! secondary check's answer; [`confirm`] then decides. An `Alive`
//! verdict is logged and monitoring goes on; `Dead` ends the monitor with a
//! [`DeadMaster`] for the failover.
//!
//! Time is `tokio::time` (tests run on paused time) and shutdown is an
//! injected future, honoured between pings only: a confirmation, once
//! started, finishes and is acted on.

pub(crate) mod old_masters;
pub(crate) mod probe;
pub(crate) mod secondary;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::config::{Config, PingType, ServerId};
use crate::mysql::Connector;
use crate::state::{HealthUpdate, StateSink, StatusCode};
use crate::transport::Remote;

pub(crate) use crate::policy::death::DeadMaster;
use crate::policy::death::{
    confirm, ConfirmationInput, Detector, MonitorState, PingOutcome, SecondaryResult, SshReach,
    Step, Verdict,
};
use probe::Pinger;
pub(crate) use probe::SecondaryCheck;

/// The shortest ping interval the loop accepts; a zero interval from a
/// hand-built config must not spin.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Everything the monitor needs, passed in (no globals).
pub(crate) struct MonitorCtx {
    config: Arc<Config>,
    master: ServerId,
    connector: Arc<dyn Connector>,
    remote: Arc<dyn Remote>,
    secondary: Option<Arc<dyn SecondaryCheck>>,
    sink: Arc<dyn StateSink>,
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
        })
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
                tracing::warn!(
                    "Got error on MySQL ping of master {label}: {reason} ({}/{} misses)",
                    detector.misses(),
                    detector.needed()
                );
            }
        }
        report(MonitorState::after(&step), &detector, &counters);

        if let Step::NeedConfirmation { misses } = step {
            tracing::warn!(
                "Master {label} missed {misses} pings in a row; asking the other servers, \
                 SSH and the secondary check whether it is really down"
            );
            let checks = background
                .take()
                .unwrap_or_else(|| start_background_checks(&ctx));
            let input = gather(&ctx, &mut pinger, checks).await;
            match confirm(&input) {
                Verdict::Dead { ssh, evidence } => {
                    tracing::error!("Master {label} is down: {evidence}");
                    return MonitorExit::MasterDead(DeadMaster {
                        index: ctx.master,
                        ssh_reachable: ssh,
                        detected_at: SystemTime::now(),
                        misses,
                        since_first_miss: first_miss.map(|t| t.elapsed()).unwrap_or_default(),
                        replica_views: input.replicas,
                        evidence,
                    });
                }
                Verdict::Alive { reason } => {
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

/// Asks everything at once: the master once more (same ping kind, fresh
/// connection), the other servers, SSH to the master's host, the secondary check.
async fn gather(
    ctx: &MonitorCtx,
    pinger: &mut Pinger,
    checks: BackgroundChecks,
) -> ConfirmationInput {
    let settings = &ctx.config.settings;
    let master = &ctx.config.server(ctx.master);
    pinger.drop_connection();
    let master_again = pinger.ping();
    let read_replicas = || {
        probe::replica_views(
            &ctx.config,
            ctx.master,
            ctx.connector.clone(),
            settings.mysql_timeout,
        )
    };
    // The replicas are read once SSH and the secondary check have finished: the
    // verdict uses their latest view (a replica notices a vanished master only
    // after slave_net_timeout), not the one from the start of the confirmation.
    let replicas_after_checks = async {
        let done = checks.wait().await;
        (read_replicas().await, done)
    };
    let (master_again, (replicas, (ssh, secondary))) =
        tokio::join!(master_again, replicas_after_checks);
    if let Some(result) = &secondary {
        tracing::info!("Secondary check for master {}: {result:?}", master.label());
    }
    tracing::info!("SSH to master host {}: {ssh}", master.ssh.host);
    ConfirmationInput {
        master_answered: !matches!(master_again, PingOutcome::Miss { .. }),
        replicas,
        ssh,
        secondary,
    }
}

/// SSH reachability and the secondary check, running in the background.
struct BackgroundChecks {
    ssh: tokio::task::JoinHandle<SshReach>,
    secondary: Option<tokio::task::JoinHandle<SecondaryResult>>,
}

impl BackgroundChecks {
    async fn wait(self) -> (SshReach, Option<SecondaryResult>) {
        let ssh = self.ssh.await.unwrap_or(SshReach::Unknown);
        let secondary = match self.secondary {
            Some(handle) => Some(
                handle
                    .await
                    .unwrap_or_else(|e| SecondaryResult::CouldNotRun(e.to_string())),
            ),
            None => None,
        };
        (ssh, secondary)
    }

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
