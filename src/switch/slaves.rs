//! Phases 4 and 5: every other slave follows the new master (in parallel), the
//! old master too with `--orig-master-is-new-slave`, then `RESET SLAVE ALL` on
//! the new master. The new master already takes writes: a failure here is
//! reported per server (exit code 10), never undone.

use crate::config::ServerId;
use std::time::Duration;

use futures_util::future::join_all;

use super::conns::Conns;
use super::freeze::{Frozen, Lock};
use super::promote::Promoted;
use super::{check, Checked, Ctx};
use crate::config::{ReplTls, Secret};
use crate::mysql::{Db, ReplicateFrom};
use crate::recovery::repoint::{self, credentials, gtid_from, Repoint, Running};
use crate::recovery::{journal_replicas, ReplicaResult, StepError};
use crate::topology::status::Flavor;

/// How long a slave may take to execute up to the frozen position.
const SLAVE_WAIT: Duration = Duration::from_secs(60);
/// How long a restarted slave may take to show both threads running.
const START_CHECK: Duration = Duration::from_secs(5);

pub(super) async fn switch_all(
    ctx: &Ctx,
    checked: &Checked,
    conns: &Conns,
    frozen: &Frozen,
    promoted: &Promoted,
) -> (Vec<ReplicaResult>, Option<ReplicaResult>) {
    let slaves = join_all(
        checked
            .slaves
            .iter()
            .map(|&s| switch_one(ctx, checked, frozen, promoted, s)),
    );
    let (slaves, orig) = tokio::join!(slaves, orig_master(ctx, checked, conns, frozen, promoted));
    let topo = &checked.topology;
    journal_replicas(
        &ctx.kit.log,
        checked
            .slaves
            .iter()
            .zip(&slaves)
            .map(|(&i, r)| (&topo.node(i).spec, r, true)),
    );
    (slaves, orig)
}

async fn switch_one(
    ctx: &Ctx,
    checked: &Checked,
    frozen: &Frozen,
    promoted: &Promoted,
    index: ServerId,
) -> ReplicaResult {
    let topo = &checked.topology;
    let spec = &topo.node(index).spec;
    let label = spec.label();
    let new_label = topo.label(checked.new_master);
    let result = async {
        let db = ctx.kit.connect(spec).await?;
        let r = async {
            if let Some(target) = frozen
                .pos
                .target(checked.gtid_mode, check::current_pos(topo, index))
            {
                let reached = db.wait_for(&target, SLAVE_WAIT).await;
                match (reached, checked.gtid_mode) {
                    (Ok(true), _) => {}
                    (other, true) => ctx.log().warn(
                        Some(&label),
                        &format!(
                            "did not execute up to the frozen position within {} s ({}); \
                             repointing by GTID anyway, it fetches what it lacks from {new_label}",
                            SLAVE_WAIT.as_secs(),
                            other.map_or_else(|e| e.to_string(), |_| "timed out".into())
                        ),
                    ),
                    (other, false) => {
                        return Err(StepError::state(
                            &label,
                            format!(
                                "did not execute up to the frozen position {} within {} s ({}); \
                                 once it has, run CHANGE MASTER TO MASTER_HOST='{}', \
                                 MASTER_LOG_FILE='{}', MASTER_LOG_POS={} and START SLAVE",
                                frozen.pos.binlog,
                                SLAVE_WAIT.as_secs(),
                                other.map_or_else(|e| e.to_string(), |_| "timed out".into()),
                                topo.node(checked.new_master).spec.mysql_addr(),
                                promoted.position.file,
                                promoted.position.pos
                            ),
                        ))
                    }
                }
            }
            let facts = topo.facts(index);
            let flavor = facts.map_or(Flavor::MariaDb, |f| f.flavor);
            let from = if checked.gtid_mode {
                gtid_from(flavor)
            } else {
                ReplicateFrom::Position(promoted.position.clone())
            };
            let keep_relay_logs = facts.is_some_and(|f| !f.relay_log_purge);
            let to = Switched {
                stop_first: true,
                credentials: credentials(spec),
                tls: spec.repl_tls.clone(),
                from,
                keep_relay_logs,
            };
            repoint_to_new(ctx, checked, db.as_ref(), &label, to).await
        }
        .await;
        db.close().await;
        r
    }
    .await;
    record(ctx, label, result)
}

/// Logs one server's result and wraps it.
fn record(ctx: &Ctx, host: String, result: Result<String, StepError>) -> ReplicaResult {
    match &result {
        Ok(done) => ctx.log().ok(Some(&host), done),
        Err(e) => ctx.log().error(e),
    }
    ReplicaResult { host, result }
}

/// How one server follows the new master.
struct Switched {
    stop_first: bool,
    credentials: Option<(String, Secret)>,
    tls: Option<ReplTls>,
    from: ReplicateFrom,
    keep_relay_logs: bool,
}

/// Repoints to the new master; a slave still connecting after the start check
/// is reported, not lost.
async fn repoint_to_new(
    ctx: &Ctx,
    checked: &Checked,
    db: &dyn Db,
    host: &str,
    to: Switched,
) -> Result<String, StepError> {
    let new_spec = &checked.topology.node(checked.new_master).spec;
    let how = repoint::how(&to.from);
    let target = Repoint {
        source: new_spec,
        from: to.from,
        credentials: to.credentials,
        tls: to.tls,
        stop_first: to.stop_first,
        keep_relay_logs: to.keep_relay_logs,
        start_check: START_CHECK,
    };
    if let Running::NotYet { io, sql } = repoint::repoint(db, host, target).await? {
        ctx.log().warn(
            Some(host),
            &format!(
                "replication threads not both running after {} s (IO {io}, SQL {}); check \
                 SHOW SLAVE STATUS",
                START_CHECK.as_secs(),
                if sql { "Yes" } else { "No" }
            ),
        );
    }
    Ok(format!(
        "Slave started, replicating from {} ({how})",
        new_spec.label()
    ))
}

/// The old master: its table lock (if any) released; with
/// `--orig-master-is-new-slave`, a slave of the new master. It stays read-only.
async fn orig_master(
    ctx: &Ctx,
    checked: &Checked,
    conns: &Conns,
    frozen: &Frozen,
    promoted: &Promoted,
) -> Option<ReplicaResult> {
    let topo = &checked.topology;
    let spec = &topo.node(checked.master).spec;
    let label = spec.label();
    let old = conns.old.as_ref();
    let log = ctx.log();
    if frozen.lock == Lock::Tables {
        match old.unlock_tables().await {
            Ok(()) => log.ok(Some(&label), "UNLOCK TABLES"),
            Err(e) => log.warn(Some(&label), &format!("UNLOCK TABLES failed: {e}")),
        }
    }
    if !ctx.options.orig_master_is_new_slave {
        if topo.source_of(checked.master) == Some(checked.new_master) {
            log.info(
                Some(&label),
                &format!(
                    "already replicates from {} (dual master): it keeps doing so and stays \
                     read-only",
                    topo.label(checked.new_master)
                ),
            );
        } else {
            log.info(
                Some(&label),
                "stays read-only and replicates from no one (--orig-master-is-new-slave not given)",
            );
        }
        return None;
    }
    // Checked in phase 1: the password is configured. The user: the configured
    // one, else the one the new master used to replicate from it.
    let user = spec.repl_user.clone().or_else(|| {
        topo.replica(checked.new_master)
            .map(|r| r.master_user.clone())
    });
    let result = match (user, spec.repl_password.clone()) {
        (Some(user), Some(password)) => {
            let facts = topo.facts(checked.master);
            let flavor = facts.map_or(Flavor::MariaDb, |f| f.flavor);
            let from = match (checked.gtid_mode, flavor) {
                // A former master: its own binlog says how far it is.
                (true, Flavor::MariaDb) => ReplicateFrom::MariaCurrentPos,
                (true, Flavor::MySql) => ReplicateFrom::MySqlAutoPosition,
                (false, _) => ReplicateFrom::Position(promoted.position.clone()),
            };
            let to = Switched {
                // A master has no replication to stop (MariaDB refuses STOP SLAVE then).
                stop_first: facts.is_some_and(|f| f.replica.is_some()),
                credentials: Some((user, password)),
                tls: spec.repl_tls.clone(),
                from,
                keep_relay_logs: facts.is_some_and(|f| !f.relay_log_purge),
            };
            repoint_to_new(ctx, checked, old, &label, to).await
        }
        _ => Err(StepError::state(
            &label,
            "no replication user or password configured (repl_user, repl_password)",
        )),
    };
    Some(record(ctx, label, result))
}

/// `RESET SLAVE ALL` on the new master, unless `skip_reset_slave`.
pub(super) async fn cleanup(
    ctx: &Ctx,
    checked: &Checked,
    conns: &Conns,
) -> Option<Result<(), StepError>> {
    let spec = &checked.topology.node(checked.new_master).spec;
    let label = spec.label();
    let log = ctx.log();
    if spec.skip_reset_slave {
        log.info(Some(&label), "Skipping RESET SLAVE on the new master.");
        return None;
    }
    let result = conns
        .new
        .reset_replica_all()
        .await
        .map_err(|e| StepError::db(&label, "RESET SLAVE ALL failed", e));
    match &result {
        Ok(()) => log.ok(Some(&label), "Resetting slave info succeeded."),
        Err(e) => log.error(e),
    }
    Some(result)
}
