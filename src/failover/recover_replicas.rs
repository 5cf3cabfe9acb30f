//! Phase 4, slaves recovery, in parallel: give each slave what it lacks, then
//! point it at the new master. A slave that fails is reported lost; the others go on.

use crate::config::ServerId;
use futures_util::future::join_all;
use std::time::Duration;

use super::catch_up::{apply_tail, relay_diff};
use super::check::Checked;
use super::recover_master::Promoted;
use super::{Ctx, Phase};
use crate::binlog::LogFile;
use crate::mysql::ReplicateFrom;
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
        match apply::fetch_relay_logs(&ctx.kit, spec, latest.latest_facts()).await {
            Ok(logs) => relay = Some(logs),
            Err(e) => log.error_as_warning(&e, "slaves behind it cannot be given the difference"),
        }
    }
    let relay = relay.as_deref();

    let work = others.iter().map(|&i| async move {
        let r = recover_one(ctx, checked, promoted, relay, i).await;
        (i, r)
    });
    let mut results = Vec::new();
    for (i, result) in join_all(work).await {
        let host = topo.label(i);
        match &result {
            Ok(text) => log.ok(Some(&host), text),
            Err(e) => log.fail(Some(&host), &format!("ERROR: {}", e.detail())),
        }
        results.push((i, ReplicaResult { host, result }));
    }
    journal_replicas(
        &ctx.kit.log,
        results
            .iter()
            .map(|(i, r)| (&topo.node(*i).spec, r, !latest.behind(*i))),
    );
    results.into_iter().map(|(_, r)| r).collect()
}

async fn recover_one(
    ctx: &Ctx,
    checked: &Checked,
    p: &Promoted,
    relay: Option<&[LogFile]>,
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
                let diff = relay_diff(relay, &exec, &host)?;
                let t = apply::tools(&ctx.kit, spec).await?;
                let applied = apply::apply_on(&ctx.kit, spec, &t, "relay-diff", diff.bytes).await?;
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

    let db = ctx.kit.connect(spec).await?;
    let to = Repoint {
        source: new_spec,
        from,
        credentials: credentials(spec),
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
