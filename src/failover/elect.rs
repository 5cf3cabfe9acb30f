//! Phase 3.3, determining the new master: the pure election
//! (`topology::select`) on the slaves as phase 3.1 left them, with every
//! passed-over slave's reason logged. Before anything is changed on it, the
//! elected slave is checked to take what the plan must apply on it (the
//! relay-log difference, the dead master's binlog tail): a candidate that
//! cannot (SSH down, tools missing, `remote_workdir` not writable) is passed
//! over with the reason and the election runs again without it, so that a
//! failover never stops half-way on the new master.

use super::catch_up::needs_catch_up;
use super::check::Checked;
use super::latest::Latest;
use super::save_binlog::Saved;
use super::{Ctx, Phase};
use crate::config::ServerId;
use crate::recovery::{self, apply, host_ref, StepError};
use crate::topology::select::{self, Election};
use crate::topology::semisync::{self, SemiSyncWatch};
use crate::topology::snapshot::{NodeState, Topology};
use crate::topology::validate::ReplMode;

/// Returns the new master's id.
pub(super) async fn elect(
    ctx: &Ctx,
    checked: &Checked,
    latest: &Latest,
    saved: &Saved,
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
        if Some(*i) != election.chosen {
            log.info(
                Some(&current.label(*i)),
                &format!("not promoted — {verdict}"),
            );
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
