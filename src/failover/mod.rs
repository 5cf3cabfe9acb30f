//! Failover: MHA's five phases, each returning the typed value the next one takes.
//!
//! `check` → `Checked`, `fence` → `Fenced`, `recover_master` → `Promoted`
//! (itself five sub-phases, 3.1-3.5), `recover_replicas` → `Vec<ReplicaResult>`,
//! `cleanup` → `Outcome`. Decisions are made by the pure core
//! (`topology::select`, `binlog`); the machinery that acts on servers is the
//! shared [`crate::recovery`] toolkit; these files hold the phase sequence.

mod binlog_server;
mod catch_up;
mod check;
mod cleanup;
mod elect;
mod errant_left;
mod fence;
mod hooks;
mod latest;
mod open;
mod recover_master;
mod recover_replicas;
mod resume;
mod save_binlog;

use crate::config::ServerId;
use crate::journal::{Detection, Mode, StoppedAt};
use crate::recovery::{self, host_ref, Kit, ReplicaResult, StepError};
use crate::topology::position::BinlogPos;

pub(crate) use crate::journal::Phase;
pub(crate) use crate::policy::death::DeadMaster;
pub(crate) use hooks::check_status as check_hooks;
pub(crate) use resume::{server_of, stopped_at as resume_stopped_at, Resume};

/// Everything a failover needs, passed explicitly.
pub(crate) struct Ctx {
    pub kit: Kit,
    pub options: Options,
}

/// Choices the operator or the command line makes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Decide and print the plan; change nothing.
    pub dry_run: bool,
    /// `--new-master-host`.
    pub new_master_host: Option<String>,
    /// MHA `--skip_save_master_binlog`.
    pub skip_save_master_binlog: bool,
    /// MHA `--skip_change_master`: slaves get what they lack but are not
    /// repointed; phase 5 is skipped.
    pub skip_change_master: bool,
    /// MHA `--skip_disable_read_only`: the new master stays `read_only=1`.
    pub skip_disable_read_only: bool,
    /// MHA `--ignore_binlog_server_error`: failed binlog servers are a warning.
    pub ignore_binlog_server_error: bool,
    /// Automatic (by the monitor) or manual (by an operator).
    pub mode: Mode,
    /// Finishing an interrupted failover from its record.
    pub resume: Option<Resume>,
}

/// How a failover ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// New master up, every slave repointed.
    Complete(Summary),
    /// New master up, some slaves lost (MHA exit code 10).
    Partial(Summary),
    /// Nothing was changed: the plan only.
    DryRun,
    /// Stopped; `changed` says whether anything was changed before the stop
    /// (after the point of no return the error marker must be written).
    Failed {
        phase: Phase,
        error: StepError,
        changed: bool,
    },
}

/// Facts the report and the caller need.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub new_master: Option<String>,
    pub new_master_index: Option<ServerId>,
    /// Where the other slaves were pointed (file/position mode) on the new master.
    pub new_master_pos: Option<BinlogPos>,
    pub replicas: Vec<ReplicaResult>,
    /// Events on the dead master that could not be saved, if any.
    pub possibly_lost: Option<String>,
}

/// Why a phase stopped the failover.
#[derive(Debug)]
pub(crate) struct Stop {
    pub phase: Phase,
    pub error: StepError,
}

impl Stop {
    /// Turns a step's error into the stop of `phase`.
    pub(crate) fn at(phase: Phase) -> impl Fn(StepError) -> Stop {
        move |error| Stop { phase, error }
    }
}

impl Ctx {
    fn log(&self, phase: Phase) -> recovery::PhaseLog<'_> {
        self.kit.log.at(phase)
    }

    fn server(&self, index: ServerId) -> &crate::config::ServerSpec {
        self.kit.config.server(index)
    }
}

/// Runs the whole failover of `dead`.
pub(crate) async fn run(ctx: &Ctx, dead: DeadMaster) -> Outcome {
    let dead_spec = ctx.server(dead.index);
    let mut summary = Summary::default();
    recovery::begin(&ctx.kit.log, &ctx.kit.config, ctx.options.mode);
    // The monitor logged the evidence as it decided; it goes to the journal here.
    let detection = detection(&dead);
    ctx.kit.log.facts(|f| {
        f.dead_master = Some(host_ref(dead_spec));
        // A resumed failover keeps the evidence the first one recorded.
        if f.detection.is_none() || ctx.options.resume.is_none() {
            f.detection = Some(detection);
        }
        f.stopped_at = None;
    });
    if let Some(r) = &ctx.options.resume {
        resume::announce(ctx, r);
    }
    // The one place a stop is logged and journaled.
    let failed = |stop: Stop, changed: bool| {
        ctx.log(stop.phase).error(&stop.error);
        ctx.kit.log.facts(|f| {
            f.stopped_at = Some(StoppedAt {
                phase: stop.phase,
                step: stop.error.to_string(),
                to_finish: None,
                kind: Some(stop.error.kind()),
            })
        });
        Outcome::Failed {
            phase: stop.phase,
            error: stop.error,
            changed,
        }
    };

    ctx.kit.log.banner(Phase::Check.title());
    let checked = match check::check(ctx, &dead).await {
        Ok(c) => c,
        Err(stop) => return failed(stop, false),
    };

    ctx.kit.log.facts(|f| {
        f.gtid = checked.mode == crate::topology::validate::ReplMode::Gtid;
        f.unmanaged = checked
            .unmanaged
            .iter()
            .map(|&(s, under)| (checked.topology.label(s), checked.topology.label(under)))
            .collect();
    });
    ctx.kit.log.banner(Phase::Shutdown.title());
    let fenced = if checked.recovered {
        ctx.log(Phase::Shutdown).info(
            None,
            "resuming: done by the interrupted failover (the new master was opened since)",
        );
        fence::Fenced {
            ssh_reachable: false,
        }
    } else {
        match fence::fence(ctx, &checked, dead.ssh_known()).await {
            Ok(f) => f,
            Err(stop) => return failed(stop, !ctx.options.dry_run),
        }
    };

    ctx.kit.log.banner(Phase::MasterRecovery.title());
    let new_spec = if checked.recovered && checked.slaves.is_empty() {
        // Resuming after every slave was repointed: only the cleanup is left.
        let Some(n) = checked.new_master else {
            return failed(
                Stop::at(Phase::MasterRecovery)(StepError::state(
                    checked.topology.label(checked.master),
                    "no recorded new master",
                )),
                true,
            );
        };
        ctx.log(Phase::MasterRecovery).info(
            Some(&checked.topology.label(n)),
            "resuming: elected, caught up and opened for writes by the interrupted failover",
        );
        summary.new_master = Some(checked.topology.label(n));
        summary.new_master_index = Some(n);
        ctx.kit.log.banner(Phase::SlavesRecovery.title());
        summary.replicas = recover_replicas::repointed(ctx, &checked, n).await;
        checked.topology.spec(n).clone()
    } else {
        let promoted = match recover_master::recover(ctx, &checked, &fenced).await {
            Ok(p) => p,
            Err(stop) => return failed(stop, !ctx.options.dry_run),
        };
        summary.new_master = Some(checked.topology.label(promoted.new_master));
        summary.new_master_index = Some(promoted.new_master);
        summary.new_master_pos = promoted.position.clone();
        summary.possibly_lost = promoted.saved.possibly_lost.clone();
        if ctx.options.dry_run {
            return Outcome::DryRun;
        }

        ctx.kit.log.banner(Phase::SlavesRecovery.title());
        summary.replicas = recover_replicas::recover(ctx, &checked, &promoted).await;
        summary.replicas.extend(elect::passed_over_results(
            ctx,
            &checked.topology,
            &promoted.passed_over,
            &checked.topology.label(promoted.new_master),
        ));
        errant_left::record(
            ctx,
            &checked.topology,
            promoted.new_master,
            &promoted.latest.slaves,
            &summary.replicas,
        )
        .await;
        checked.topology.spec(promoted.new_master).clone()
    };

    ctx.kit.log.banner(Phase::Cleanup.title());
    cleanup::cleanup(ctx, &new_spec).await;
    ctx.kit.log.facts(|f| f.finished = true);
    let log = ctx.log(Phase::Cleanup);
    // A slave marked ignore_fail=1 that could not be recovered is left
    // behind with a warning (MHA): it does not make the failover partial.
    let ignored: Vec<&ReplicaResult> = summary
        .replicas
        .iter()
        .filter(|r| !r.is_ok() && ignores_failure(&checked.topology, r))
        .collect();
    for r in &ignored {
        log.warn(
            Some(&r.host),
            "not recovered, and left behind as ignore_fail=1 says: not counted as a failure of \
             this failover; repoint it by hand once it is repaired",
        );
    }
    if summary
        .replicas
        .iter()
        .all(|r| r.is_ok() || ignores_failure(&checked.topology, r))
    {
        log.ok(
            None,
            &format!(
                "Master failover to {} completed successfully.",
                summary.new_master.clone().unwrap_or_default()
            ),
        );
        Outcome::Complete(summary)
    } else {
        log.warn(
            None,
            "Master failover completed, but some slaves could not be recovered.",
        );
        Outcome::Partial(summary)
    }
}

/// Whether `r` is the result of a slave configured `ignore_fail=1`.
fn ignores_failure(topology: &crate::topology::snapshot::Topology, r: &ReplicaResult) -> bool {
    topology
        .ids()
        .any(|i| topology.label(i) == r.host && topology.spec(i).ignore_fail)
}

/// The journal's record of the death evidence.
fn detection(dead: &DeadMaster) -> Detection {
    Detection {
        at: dead.detected_at.into(),
        misses: dead.misses,
        since_first_miss_ms: u64::try_from(dead.since_first_miss.as_millis()).unwrap_or(u64::MAX),
        ssh: dead.ssh_reachable.to_string(),
        replicas: dead.views(),
        evidence: dead.evidence.clone(),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod options_tests;
