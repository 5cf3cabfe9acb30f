//! Phase 4, slaves recovery, in parallel: give each slave what it lacks, then
//! point it at the new master. A slave that fails is reported lost; the others go on.

use crate::config::ServerId;
use futures_util::future::join_all;
use std::time::Duration;

use super::catch_up::apply_tail;
use super::check::Checked;
use super::recover_master::Promoted;
use super::{Ctx, Phase};
use crate::mysql::ReplicateFrom;
use crate::recovery::fetch::{self, Fetched};
use crate::recovery::repoint::{self, credentials, gtid_from, Repoint, Running};
use crate::recovery::{apply, journal_replicas, ReplicaResult, StepError};
use crate::topology::validate::ReplMode;

/// How long a repointed slave may take to show both threads running.
const START_CHECK: Duration = Duration::from_secs(10);

pub(super) async fn recover(
    ctx: &Ctx,
    checked: &Checked,
    promoted: &Promoted,
) -> Vec<ReplicaResult> {
    let log = ctx.log(Phase::SlavesRecovery);
    let topo = &checked.topology;
    let latest = &promoted.latest;
    let others: Vec<ServerId> = latest
        .slaves
        .iter()
        .copied()
        .filter(|&i| i != promoted.new_master)
        .collect();

    // File/position mode: the latest slave's relay logs, fetched once for all.
    let mut relay = promoted.caught_up.relay_logs.clone();
    if checked.mode == ReplMode::FilePos
        && relay.is_none()
        && others.iter().any(|&i| latest.behind(i))
    {
        let spec = &topo.node(latest.latest).spec;
        let earliest = others
            .iter()
            .filter(|&&i| latest.behind(i))
            .filter_map(|&i| latest.exec_of(i))
            .min();
        match fetch::fetch_relay_logs(&ctx.kit, spec, latest.latest_facts(), earliest.as_ref())
            .await
        {
            Ok(logs) => relay = Some(logs),
            Err(e) => log.error_as_warning(&e, "slaves behind it cannot be given the difference"),
        }
    }
    let relay = relay.as_ref();

    let work = others.iter().map(|&i| async move {
        let r = recover_one(ctx, checked, promoted, relay, i).await;
        (i, r)
    });
    let mut results = Vec::new();
    for (i, result) in join_all(work).await.into_iter().chain(
        already(ctx, checked, promoted.new_master)
            .await
            .into_iter()
            .map(|(i, r)| (i, r.result)),
    ) {
        let host = topo.label(i);
        match &result {
            Ok(text) => log.ok(Some(&host), text),
            Err(e) => log.fail(Some(&host), &format!("ERROR: {}", e.detail())),
        }
        results.push((i, ReplicaResult { host, result }));
    }
    journal(ctx, topo, &results, |i| !latest.behind(i));
    results.into_iter().map(|(_, r)| r).collect()
}

/// Records the slaves' fates; a resumed failover replaces what the
/// interrupted one recorded for the same slaves.
fn journal(
    ctx: &Ctx,
    topo: &crate::topology::snapshot::Topology,
    results: &[(ServerId, ReplicaResult)],
    has_latest: impl Fn(ServerId) -> bool,
) {
    let hosts: Vec<_> = results
        .iter()
        .map(|(i, _)| crate::recovery::host_ref(topo.spec(*i)))
        .collect();
    ctx.kit
        .log
        .facts(|f| f.slaves.retain(|s| !hosts.contains(&s.host)));
    journal_replicas(
        &ctx.kit.log,
        results
            .iter()
            .map(|(i, r)| (topo.spec(*i), r, has_latest(*i))),
    );
}

/// Resuming with nothing left but the slaves the interrupted failover
/// repointed: each is checked to replicate (started if it is not).
pub(super) async fn repointed(
    ctx: &Ctx,
    checked: &Checked,
    new_master: ServerId,
) -> Vec<ReplicaResult> {
    let log = ctx.log(Phase::SlavesRecovery);
    let results = already(ctx, checked, new_master).await;
    for (_, r) in &results {
        match &r.result {
            Ok(text) => log.ok(Some(&r.host), text),
            Err(e) => log.fail(Some(&r.host), &format!("ERROR: {}", e.detail())),
        }
    }
    journal(ctx, &checked.topology, &results, |_| true);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The slaves already on the new master when a failover is resumed: left as
/// they are if both threads run; started otherwise (the manager may have died
/// between CHANGE MASTER and START SLAVE).
async fn already(
    ctx: &Ctx,
    checked: &Checked,
    new_master: ServerId,
) -> Vec<(ServerId, ReplicaResult)> {
    let topo = &checked.topology;
    let new_label = topo.label(new_master);
    let work = checked.repointed.iter().map(|&i| {
        let new_label = new_label.clone();
        async move {
            let spec = topo.spec(i);
            let host = spec.label();
            let result = async {
                let db = ctx.kit.connect(spec).await?;
                let r = async {
                    let running = repoint::wait_running(db.as_ref(), &host, Duration::ZERO).await?;
                    if running == Running::Yes {
                        return Ok(format!(
                            "already replicating from {new_label} (repointed by the interrupted \
                             failover)"
                        ));
                    }
                    db.start_replica()
                        .await
                        .map_err(|e| StepError::db(&host, "START SLAVE failed", e))?;
                    match repoint::wait_running(db.as_ref(), &host, START_CHECK).await? {
                        Running::Yes => Ok(format!(
                            "pointed at {new_label} by the interrupted failover; slave started"
                        )),
                        Running::NotYet { .. } => Err(StepError::timeout(
                            &host,
                            format!("started, but not replicating from {new_label}"),
                            START_CHECK,
                        )),
                    }
                }
                .await;
                db.close().await;
                r
            }
            .await;
            (i, ReplicaResult { host, result })
        }
    });
    join_all(work).await
}

async fn recover_one(
    ctx: &Ctx,
    checked: &Checked,
    p: &Promoted,
    relay: Option<&Fetched>,
    i: ServerId,
) -> Result<String, StepError> {
    let topo = &checked.topology;
    let spec = &topo.node(i).spec;
    let host = spec.label();
    let new_spec = &topo.node(p.new_master).spec;
    let new_label = new_spec.label();
    let facts = &p.latest.facts[&i];

    let from = match checked.mode {
        ReplMode::Gtid => gtid_from(facts.flavor),
        ReplMode::FilePos => {
            let mut tools = None;
            if p.latest.behind(i) {
                let exec = p
                    .latest
                    .exec_of(i)
                    .ok_or_else(|| StepError::state(&host, "no replication position"))?;
                let relay = relay.ok_or_else(|| {
                    StepError::state(&host, "the latest slave's relay logs could not be fetched")
                })?;
                let (_, file) = fetch::cut_relay_diff(&ctx.kit, relay, &exec, spec).await?;
                let t = apply::tools(&ctx.kit, spec).await?;
                let applied = apply::apply_on(&ctx.kit, spec, &t, "relay-diff", &file).await?;
                ctx.log(Phase::SlavesRecovery).info(
                    Some(&host),
                    &format!("relay-log difference: {}", applied.summary()),
                );
                tools = Some(t);
            }
            if let Some(tail) = p.saved.tail.as_deref() {
                let applied = apply_tail(&ctx.kit, spec, tools, tail).await?;
                ctx.log(Phase::SlavesRecovery).info(
                    Some(&host),
                    &format!("the dead master's binlog tail: {}", applied.summary()),
                );
            }
            ReplicateFrom::Position(p.position.clone().ok_or_else(|| {
                StepError::state(&new_label, "the new master's binlog position is unknown")
            })?)
        }
    };

    if ctx.options.skip_change_master {
        return left_unpointed(ctx, spec, &new_label, &from, checked.mode).await;
    }
    let db = ctx.kit.connect(spec).await?;
    let to = Repoint {
        source: new_spec,
        from,
        credentials: credentials(spec),
        tls: spec.repl_tls.clone(),
        stop_first: true,
        keep_relay_logs: !facts.relay_log_purge,
        start_check: START_CHECK,
    };
    let running = repoint::repoint(db.as_ref(), &host, to).await;
    db.close().await;
    match running? {
        Running::Yes => Ok(format!(
            "OK: Applying all logs succeeded. Slave started, replicating from {new_label}."
        )),
        Running::NotYet { .. } => Err(StepError::timeout(
            host,
            format!("started, but not replicating from {new_label}"),
            START_CHECK,
        )),
    }
}

/// `--skip-change-master` (MHA's option): the slave got what it lacked
/// (file/position mode) and is left stopped, not pointed at the new master.
/// In GTID mode nothing is applied to it (it would get the rest by
/// replicating from the new master), so it is left where it stopped.
async fn left_unpointed(
    ctx: &Ctx,
    spec: &crate::config::ServerSpec,
    new_label: &str,
    from: &ReplicateFrom,
    mode: ReplMode,
) -> Result<String, StepError> {
    let host = spec.label();
    let db = ctx.kit.connect(spec).await?;
    let r = db.stop_replica().await;
    db.close().await;
    r.map_err(|e| StepError::db(&host, "STOP SLAVE failed", e))?;
    Ok(match (mode, from) {
        (ReplMode::FilePos, ReplicateFrom::Position(p)) => format!(
            "OK: Applying all logs succeeded. Not repointed (--skip-change-master): replication \
             stopped; to follow the new master, CHANGE MASTER TO {new_label} at {p}"
        ),
        _ => format!(
            "Not repointed (--skip-change-master): replication stopped where it was; to follow \
             the new master and get the rest, CHANGE MASTER TO {new_label} by GTID"
        ),
    })
}
