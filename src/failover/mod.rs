//! Failover: MHA's five phases, each returning the typed value the next one takes.
//!
//! `check` → `Checked`, `fence` → `Fenced`, `recover_master` → `Promoted`,
//! `recover_replicas` → `Vec<ReplicaResult>`, `cleanup` → `Outcome`. Decisions
//! are made by the pure core (`topology::select`, `binlog`); these files only
//! gather facts, act, and record what they did in the journal.

mod apply;
mod check;
mod cleanup;
mod fence;
mod hooks;
mod recover_master;
mod recover_replicas;
pub mod steps;

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::mysql::Connector;
use crate::topology::position::BinlogPos;
use crate::transport::Remote;

pub use steps::{host_ref, Phase, StepResult, Steps};

/// Everything a failover needs, passed explicitly.
pub struct Ctx {
    pub config: Arc<Config>,
    pub connector: Arc<dyn Connector>,
    pub remote: Arc<dyn Remote>,
    pub options: Options,
    pub steps: Steps,
}

/// Choices the operator or the command line makes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Decide and print the plan; change nothing.
    pub dry_run: bool,
    /// `--new-master-host`.
    pub new_master_host: Option<String>,
    /// MHA `--skip_save_master_binlog`.
    pub skip_save_master_binlog: bool,
    /// Automatic (by the monitor) or manual (by an operator).
    pub mode: crate::journal::Mode,
}

/// The master that was found dead, as the monitor or the operator hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadMaster {
    /// Index in `config.servers`.
    pub index: usize,
    /// Whether its host answered SSH when death was confirmed (`None`: not checked yet).
    pub ssh_reachable: Option<bool>,
}

/// One slave's fate in phase 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaResult {
    pub host: String,
    /// `Err(reason)`: the slave is lost; the others went on.
    pub result: Result<String, String>,
}

/// How a failover ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// New master up, every slave repointed.
    Complete(Summary),
    /// New master up, some slaves lost (MHA exit code 10).
    Partial(Summary),
    /// Nothing was changed: the plan only.
    DryRun(Summary),
    /// Stopped; `changed` says whether anything was changed before the stop
    /// (after the point of no return the error marker must be written).
    Failed {
        phase: Phase,
        reason: String,
        changed: bool,
        summary: Summary,
    },
}

/// Facts the report and the caller need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub dead_master: String,
    pub new_master: Option<String>,
    pub new_master_index: Option<usize>,
    /// Where the other slaves were pointed (file/position mode) on the new master.
    pub new_master_pos: Option<BinlogPos>,
    pub replicas: Vec<ReplicaResult>,
    /// Events on the dead master that could not be saved, if any.
    pub possibly_lost: Option<String>,
}

/// Why a phase stopped the failover.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct Stop {
    pub phase: Phase,
    pub reason: String,
}

impl Stop {
    pub fn new(phase: Phase, reason: impl Into<String>) -> Self {
        Stop {
            phase,
            reason: reason.into(),
        }
    }
}

/// Bound on waiting for a slave's SQL thread to apply what it has received.
pub const APPLY_WAIT: Duration = Duration::from_secs(300);

/// Runs the whole failover of `dead`.
pub async fn run(ctx: &Ctx, dead: DeadMaster) -> Outcome {
    let mut summary = Summary {
        dead_master: ctx.config.servers[dead.index].label(),
        ..Summary::default()
    };
    let dead_spec = &ctx.config.servers[dead.index];
    ctx.steps.facts(|f| {
        f.app = ctx.config.app.clone();
        f.mode = ctx.options.mode;
        f.dead_master = Some(host_ref(dead_spec));
        f.manager_host = hostname();
        f.manager_log = ctx
            .config
            .settings
            .manager_log
            .as_ref()
            .map(|p| p.display().to_string());
    });
    let failed = |summary: Summary, stop: Stop, changed: bool| {
        ctx.steps.fail(stop.phase, None, &stop.reason);
        ctx.steps.facts(|f| {
            f.stopped_at = Some(crate::journal::StoppedAt {
                phase: stop.phase,
                step: stop.reason.clone(),
                to_finish: None,
            })
        });
        Outcome::Failed {
            phase: stop.phase,
            reason: stop.reason,
            changed,
            summary,
        }
    };

    ctx.steps.banner(Phase::Check);
    let checked = match check::check(ctx, &dead).await {
        Ok(c) => c,
        Err(stop) => return failed(summary, stop, false),
    };

    ctx.steps
        .facts(|f| f.gtid = checked.mode == crate::topology::validate::ReplMode::Gtid);
    ctx.steps.banner(Phase::Shutdown);
    let fenced = match fence::fence(ctx, &checked, dead.ssh_reachable).await {
        Ok(f) => f,
        Err(stop) => return failed(summary, stop, !ctx.options.dry_run),
    };

    ctx.steps.banner(Phase::MasterRecovery);
    let promoted = match recover_master::recover(ctx, &checked, &fenced).await {
        Ok(p) => p,
        Err(stop) => return failed(summary, stop, !ctx.options.dry_run),
    };
    summary.new_master = Some(checked.topology.label(promoted.new_master));
    summary.new_master_index = Some(promoted.new_master);
    summary.new_master_pos = promoted.position.clone();
    summary.possibly_lost = promoted.possibly_lost.clone();
    if ctx.options.dry_run {
        return Outcome::DryRun(summary);
    }

    ctx.steps.banner(Phase::SlavesRecovery);
    summary.replicas = recover_replicas::recover(ctx, &checked, &promoted).await;

    ctx.steps.banner(Phase::Cleanup);
    cleanup::cleanup(ctx, &checked, &promoted).await;
    ctx.steps.facts(|f| f.finished = true);
    if summary.replicas.iter().all(|r| r.result.is_ok()) {
        ctx.steps.ok(
            Phase::Cleanup,
            None,
            &format!(
                "Master failover to {} completed successfully.",
                summary.new_master.clone().unwrap_or_default()
            ),
        );
        Outcome::Complete(summary)
    } else {
        ctx.steps.warn(
            Phase::Cleanup,
            None,
            "Master failover completed, but some slaves could not be recovered.",
        );
        Outcome::Partial(summary)
    }
}

/// This machine's name, for "Check ha-manager logs at <host>:<log>".
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests;
