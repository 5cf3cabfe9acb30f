//! Phase 4, slaves recovery, in parallel: give each slave what it lacks, then
//! point it at the new master. A slave that fails is reported lost; the others go on.

use futures_util::future::join_all;
use std::time::Duration;

use super::apply::{self, node};
use super::check::Checked;
use super::recover_master::{relay_diff, Promoted};
use super::{Ctx, Phase, ReplicaResult};
use crate::mysql::{ChangeMaster, ReplicateFrom};
use crate::topology::status::IoState;
use crate::topology::validate::ReplMode;

pub async fn recover(ctx: &Ctx, checked: &Checked, promoted: &Promoted) -> Vec<ReplicaResult> {
    let topo = &checked.topology;
    let others: Vec<usize> = promoted
        .slaves
        .iter()
        .copied()
        .filter(|&i| i != promoted.new_master)
        .collect();

    // File/position mode: the latest slave's relay logs, fetched once for all.
    let mut relay = promoted.relay_logs.clone();
    if checked.mode == ReplMode::FilePos
        && relay.is_none()
        && others.iter().any(|&i| behind(promoted, i))
    {
        let latest = promoted.latest;
        match apply::fetch_relay_logs(ctx, &topo.nodes[latest].spec, &promoted.facts[&latest]).await
        {
            Ok(logs) => relay = Some(logs),
            Err(e) => ctx.steps.warn(
                Phase::SlavesRecovery,
                Some(&topo.label(latest)),
                &format!("cannot fetch relay logs: {e}"),
            ),
        }
    }
    let relay = relay.as_deref();

    let work = others
        .iter()
        .map(|&i| async move { (i, recover_one(ctx, checked, promoted, relay, i).await) });
    let mut results = Vec::new();
    for (i, result) in join_all(work).await {
        let host = topo.label(i);
        match &result {
            Ok(text) => ctx.steps.ok(Phase::SlavesRecovery, Some(&host), text),
            Err(reason) => ctx.steps.fail(
                Phase::SlavesRecovery,
                Some(&host),
                &format!("ERROR: {reason}"),
            ),
        }
        let outcome = crate::journal::SlaveOutcome {
            host: super::host_ref(&topo.nodes[i].spec),
            has_latest_relay_log: !behind(promoted, i),
            result: match &result {
                Ok(_) => crate::journal::SlaveResult::Ok,
                Err(reason) => crate::journal::SlaveResult::Lost {
                    reason: reason.clone(),
                },
            },
        };
        ctx.steps.facts(|f| f.slaves.push(outcome));
        results.push(ReplicaResult { host, result });
    }
    results
}

/// Is slave `i` behind the latest slave (so it needs a relay-log diff)?
fn behind(p: &Promoted, i: usize) -> bool {
    let exec = |j: usize| {
        p.facts
            .get(&j)
            .and_then(|f| f.replica.as_ref())
            .map(|r| r.exec.clone())
    };
    exec(i) < exec(p.latest)
}

async fn recover_one(
    ctx: &Ctx,
    checked: &Checked,
    p: &Promoted,
    relay: Option<&[crate::binlog::LogFile]>,
    i: usize,
) -> Result<String, String> {
    let topo = &checked.topology;
    let spec = &topo.nodes[i].spec;
    let new_spec = &topo.nodes[p.new_master].spec;
    let new_label = topo.label(p.new_master);
    let facts = &p.facts[&i];

    let from = match checked.mode {
        ReplMode::Gtid => apply::gtid_from(facts.flavor),
        ReplMode::FilePos => {
            let mut tools = None;
            if behind(p, i) {
                let exec = facts
                    .replica
                    .as_ref()
                    .map(|r| r.exec.clone())
                    .ok_or("no replication position")?;
                let relay = relay.ok_or("the latest slave's relay logs could not be fetched")?;
                let diff = relay_diff(relay, &exec)?;
                let t = node(ctx, spec).tools().await.map_err(|e| e.to_string())?;
                apply::apply_on(ctx, spec, &t, "relay-diff", diff.bytes)
                    .await
                    .map_err(|e| format!("applying the relay-log diff: {e}"))?;
                tools = Some(t);
            }
            if let Some(tail) = p.tail.clone() {
                let t = match tools {
                    Some(t) => t,
                    None => node(ctx, spec).tools().await.map_err(|e| e.to_string())?,
                };
                apply::apply_on(ctx, spec, &t, "binlog-tail", tail)
                    .await
                    .map_err(|e| format!("applying the dead master's binlog: {e}"))?;
            }
            ReplicateFrom::Position(
                p.position
                    .clone()
                    .ok_or("the new master's binlog position is unknown")?,
            )
        }
    };

    let settings = &ctx.config.settings;
    let db = ctx
        .connector
        .connect(spec, settings.mysql_timeout)
        .await
        .map_err(|e| e.to_string())?;
    let result = async {
        db.stop_replica().await?;
        db.change_master(&ChangeMaster {
            host: new_spec.mysql_addr().to_owned(),
            port: new_spec.port,
            credentials: apply::credentials(spec),
            from,
        })
        .await?;
        db.start_replica().await?;
        // CHANGE MASTER turns relay_log_purge back on; keep the relay logs a
        // future file/position failover needs.
        if !facts.relay_log_purge {
            db.set_relay_log_purge(false).await?;
        }
        // Bounded: the replica must be running against the new master.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let f = db.facts().await?;
            if let Some(r) = f.replica.as_ref() {
                if r.io == IoState::Yes && r.sql_running {
                    return Ok(true);
                }
                if !r.sql_running && r.last_sql_errno != 0 {
                    return Err(crate::mysql::DbError::Protocol(format!(
                        "SQL thread stopped: {} {}",
                        r.last_sql_errno, r.last_sql_error
                    )));
                }
            }
            if tokio::time::Instant::now() > deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    .await;
    db.close().await;
    match result {
        Ok(true) => Ok(format!(
            "OK: Applying all logs succeeded. Slave started, replicating from {new_label}."
        )),
        Ok(false) => Err(format!(
            "started, but not replicating from {new_label} within 10s"
        )),
        Err(e) => Err(e.to_string()),
    }
}
