//! Phase 3.3, determining the new master: the pure election
//! (`topology::select`) on the slaves as phase 3.1 left them, with every
//! passed-over slave's reason logged. Before anything is changed on it, the
//! elected slave is checked to take what the plan must apply on it (the
//! relay-log difference, the dead master's binlog tail): a candidate that
//! cannot (SSH down, tools missing, `remote_workdir` not writable) is passed
//! over with the reason and the election runs again without it, so that a
//! failover never stops half-way on the new master.
//!
//! A slave with errant GTIDs is passed over by the election itself (logged
//! as a warning, so the report shows it). And when the elected slave's
//! replication stops on an error while it catches up by GTID (3.4; seen
//! within seconds), it is passed over the same way: nothing a client sees
//! was changed yet (it is still read-only, the master IP has not moved), and
//! it holds only the latest slave's transactions, so another slave can be
//! caught up instead. It is left stopped and reported as not recovered, with
//! how to finish by hand.

use super::catch_up::{self, needs_catch_up, CaughtUp};
use super::check::Checked;
use super::latest::Latest;
use super::save_binlog::Saved;
use super::{Ctx, Phase};
use crate::config::ServerId;
use crate::recovery::apply::CatchUpError;
use crate::recovery::{self, apply, host_ref, ReplicaResult, StepError};
use crate::topology::select::{self, Election, Reason, Verdict};
use crate::topology::semisync::{self, SemiSyncWatch};
use crate::topology::snapshot::{NodeState, Topology};
use crate::topology::validate::ReplMode;

/// What 3.3 and 3.4 hand on: the new master, caught up.
pub(super) struct Elected {
    pub new_master: ServerId,
    pub caught_up: CaughtUp,
    /// Elected slaves whose replication stopped on an error while they
    /// caught up, with the error: left out of phase 4.
    pub passed_over: Vec<(ServerId, StepError)>,
}

/// 3.3 and 3.4: elects, then catches the new master up; a candidate whose
/// replication stops on an error while it catches up is passed over and
/// the election runs again without it (not when resuming with the new
/// master the interrupted failover chose: that one is kept, so the
/// failover stops, saying where).
pub(super) async fn elect_and_catch_up(
    ctx: &Ctx,
    checked: &Checked,
    latest: &Latest,
    saved: &Saved,
) -> Result<Elected, StepError> {
    let log = ctx.log(Phase::MasterRecovery);
    let mut passed_over: Vec<(ServerId, StepError)> = Vec::new();
    loop {
        let new_master = elect_without(ctx, checked, latest, saved, &passed_over).await?;
        match catch_up::catch_up(ctx, checked, latest, new_master).await {
            Ok(caught_up) => {
                return Ok(Elected {
                    new_master,
                    caught_up,
                    passed_over,
                })
            }
            Err(CatchUpError::Stopped(e)) if checked.new_master.is_none() => {
                log.warn(
                    Some(&latest.current.label(new_master)),
                    &format!(
                        "{}; passed over (still read-only, nothing else changed), electing \
                         another slave",
                        e.detail()
                    ),
                );
                passed_over.push((new_master, e));
            }
            Err(e) => return Err(e.into_step()),
        }
    }
}

/// The passed-over candidates as not-recovered slaves of `new_master`,
/// journaled, with how to finish.
pub(super) fn passed_over_results(
    ctx: &Ctx,
    topo: &Topology,
    passed_over: &[(ServerId, StepError)],
    new_master: &str,
) -> Vec<ReplicaResult> {
    let results: Vec<(ServerId, ReplicaResult)> = passed_over
        .iter()
        .map(|(i, e)| {
            let why = StepError::state(
                e.host(),
                format!(
                    "{}. Not repointed: fix that error on it, then point it at {new_master} by \
                     GTID (CHANGE MASTER TO MASTER_HOST=..., MASTER_USE_GTID=slave_pos on \
                     MariaDB; CHANGE REPLICATION SOURCE TO SOURCE_HOST=..., \
                     SOURCE_AUTO_POSITION=1 on MySQL) and start replication",
                    e.detail()
                ),
            );
            (
                *i,
                ReplicaResult {
                    host: topo.label(*i),
                    result: Err(why),
                },
            )
        })
        .collect();
    let log = ctx.log(Phase::SlavesRecovery);
    for (_, r) in &results {
        if let Err(e) = &r.result {
            log.fail(Some(&r.host), &format!("ERROR: {}", e.detail()));
        }
    }
    recovery::journal_replicas(
        &ctx.kit.log,
        results.iter().map(|(i, r)| (topo.spec(*i), r, false)),
    );
    results.into_iter().map(|(_, r)| r).collect()
}

/// Returns the new master's id.
pub(super) async fn elect(
    ctx: &Ctx,
    checked: &Checked,
    latest: &Latest,
    saved: &Saved,
) -> Result<ServerId, StepError> {
    elect_without(ctx, checked, latest, saved, &[]).await
}

/// The election with the `passed_over` slaves left out, each with its reason.
async fn elect_without(
    ctx: &Ctx,
    checked: &Checked,
    latest: &Latest,
    saved: &Saved,
    passed_over: &[(ServerId, StepError)],
) -> Result<ServerId, StepError> {
    let log = ctx.log(Phase::MasterRecovery);
    log.info(None, "* Phase 3.3: Determining New Master Phase..");
    let master = checked.master;
    if let Some(n) = checked.new_master {
        preflight(ctx, checked.mode, latest, saved, n).await?;
        let label = latest.current.label(n);
        log.ok(
            Some(&label),
            "resuming: kept as the new master (the interrupted failover elected it)",
        );
        log.info(
            None,
            &format!(
                "From: {} (dead master) To: {label}",
                latest.current.label(master)
            ),
        );
        ctx.kit
            .log
            .facts(|f| f.new_master = Some(host_ref(latest.current.spec(n))));
        return Ok(n);
    }
    let mut rules = recovery::election_rules(&ctx.kit.config, ctx.options.new_master_host.clone());
    // The slaves as the election sees them; one that failed the check is
    // marked unreachable here, with why.
    let mut seen = latest.current.clone();
    for (i, e) in passed_over {
        seen.node_mut(*i).state = NodeState::Unreachable {
            reason: format!("passed over: {}", e.detail()),
        };
    }
    // Who acknowledged, as phase 1 read them: stopping the IO threads since
    // turned their semi-sync status OFF.
    let watched = checked.semi_sync.clone().unwrap_or_default();
    let ackers = semisync::acknowledging(&checked.topology, master);
    if watched
        .last
        .as_ref()
        .is_some_and(|(_, s)| s.source_enabled())
    {
        rules.semi_sync_ackers = ackers.clone();
    }
    let election = loop {
        let election = select::select_new_master(&seen, master, &rules);
        let Some(chosen) = election.chosen else {
            break election;
        };
        match preflight(ctx, checked.mode, latest, saved, chosen).await {
            Ok(()) => break election,
            Err(e) => {
                log.warn(
                    Some(&seen.label(chosen)),
                    &format!(
                        "elected, but cannot take what must be applied on it ({e}); passed \
                         over before anything was changed"
                    ),
                );
                seen.node_mut(chosen).state = NodeState::Unreachable {
                    reason: format!("checked before the failover changed anything: {e}"),
                };
            }
        }
    };
    semi_sync_verdict(ctx, &seen, &ackers, &watched);
    announce(ctx, &seen, master, election)
}

/// Logs and journals whether an acknowledged transaction could have been
/// lost, from what the monitor saw of semi-sync and which of `ackers` are
/// still reachable (not passed over by the election's checks).
fn semi_sync_verdict(ctx: &Ctx, seen: &Topology, ackers: &[ServerId], watched: &SemiSyncWatch) {
    let acked_by = ackers
        .iter()
        .filter(|&&i| seen.node(i).is_reachable())
        .map(|&i| seen.label(i))
        .collect();
    let verdict = semisync::durability(watched, acked_by);
    let Some(sentence) = verdict.sentence() else {
        return;
    };
    let log = ctx.log(Phase::MasterRecovery);
    if verdict.warns() {
        log.warn(None, &sentence);
    } else {
        log.info(None, &sentence);
    }
    ctx.kit.log.facts(|f| f.semi_sync = Some(sentence));
}

/// Whether the plan can run on `candidate`: when it needs the relay-log
/// difference, the latest slave's relay logs are readable over SSH; when it
/// must apply a difference or the saved binlog tail, it can take them.
async fn preflight(
    ctx: &Ctx,
    mode: ReplMode,
    latest: &Latest,
    saved: &Saved,
    candidate: ServerId,
) -> Result<(), StepError> {
    let topo = &latest.current;
    let diff = mode == ReplMode::FilePos && needs_catch_up(latest, candidate);
    if diff {
        let source = topo.spec(latest.latest);
        let dir = &latest.latest_facts().relay_log_dir;
        ctx.kit.node(source).list(dir).await.map_err(|e| {
            StepError::remote(source.label(), "reading the latest slave's relay logs", e)
        })?;
    }
    if diff || saved.tail.is_some() {
        apply::check_apply_on(&ctx.kit, topo.spec(candidate), ctx.options.dry_run).await?;
    }
    Ok(())
}

/// Logs the verdicts and the choice; a refusal is the failover's stop.
fn announce(
    ctx: &Ctx,
    current: &Topology,
    master: ServerId,
    election: Election,
) -> Result<ServerId, StepError> {
    let log = ctx.log(Phase::MasterRecovery);
    for (i, verdict) in &election.verdicts {
        if Some(*i) == election.chosen {
            continue;
        }
        let text = format!("not promoted — {verdict}");
        // An errant slave passed over is a finding the report must show.
        if matches!(verdict, Verdict::Bad(Reason::Errant { .. })) {
            log.warn(Some(&current.label(*i)), &text);
        } else {
            log.info(Some(&current.label(*i)), &text);
        }
    }
    let Some(new_master) = election.chosen else {
        let why = election
            .refusal
            .map(|r| r.to_string())
            .unwrap_or_else(|| "no eligible slave".into());
        return Err(StepError::state(
            current.label(master),
            format!("None of the existing slaves can be the new master: {why}"),
        ));
    };
    let new_label = current.label(new_master);
    if let Some(errant) = crate::topology::errant::of_slave(current, master, new_master) {
        log.warn(
            Some(&new_label),
            &format!(
                "promoted although it has {} errant GTID(s) ({errant}), as \
                 allow_errant_promotion=1 allows: every slave will get them",
                errant.count()
            ),
        );
    }
    log.ok(
        Some(&new_label),
        &format!(
            "Selected as the new master ({}).",
            election.rule.map(|r| r.to_string()).unwrap_or_default()
        ),
    );
    log.info(
        None,
        &format!(
            "From: {} (dead master) To: {new_label}",
            current.label(master)
        ),
    );
    ctx.kit
        .log
        .facts(|f| f.new_master = Some(host_ref(&current.node(new_master).spec)));
    Ok(new_master)
}
