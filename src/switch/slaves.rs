//! Phases 4 and 5: every other slave follows the new master (in parallel), the
//! old master too with `--orig-master-is-new-slave`, then `RESET SLAVE ALL` on
//! the new master. The new master already takes writes: a failure here is
//! reported per server (exit code 10), never undone.

use std::time::{Duration, Instant};

use futures_util::future::join_all;

use super::freeze::{Frozen, Lock};
use super::promote::{Conns, Promoted};
use super::{check, credentials, gtid_from, Checked, Ctx, SlaveResult};
use crate::journal::{SlaveOutcome, SlaveResult as JournalSlave};
use crate::mysql::{ChangeMaster, Db, ReplicateFrom};
use crate::topology::status::{Flavor, IoState};

/// How long a slave may take to execute up to the frozen position.
const SLAVE_WAIT: Duration = Duration::from_secs(60);
/// How long a restarted slave may take to show both threads running.
const START_CHECK: Duration = Duration::from_secs(5);

pub async fn switch_all(
    ctx: &Ctx,
    checked: &Checked,
    conns: &Conns,
    frozen: &Frozen,
    promoted: &Promoted,
) -> (Vec<SlaveResult>, Option<Result<String, String>>) {
    let slaves = join_all(
        checked
            .slaves
            .iter()
            .map(|&s| switch_one(ctx, checked, frozen, promoted, s)),
    );
    let (slaves, orig) = tokio::join!(slaves, orig_master(ctx, checked, conns, frozen, promoted));
    let topo = &checked.topology;
    ctx.log.facts(|f| {
        f.slaves = checked
            .slaves
            .iter()
            .zip(&slaves)
            .map(|(&i, r)| SlaveOutcome {
                host: super::host_ref(&topo.nodes[i].spec),
                has_latest_relay_log: true,
                result: match &r.result {
                    Ok(_) => JournalSlave::Ok,
                    Err(reason) => JournalSlave::Lost {
                        reason: reason.clone(),
                    },
                },
            })
            .collect();
    });
    (slaves, orig)
}

async fn switch_one(
    ctx: &Ctx,
    checked: &Checked,
    frozen: &Frozen,
    promoted: &Promoted,
    index: usize,
) -> SlaveResult {
    let topo = &checked.topology;
    let spec = &topo.nodes[index].spec;
    let label = spec.label();
    let new_label = topo.label(checked.new_master);
    let result = async {
        let db = ctx
            .connector
            .connect(spec, ctx.config.settings.mysql_timeout)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let r = async {
            if let Some(target) = frozen
                .pos
                .target(checked.gtid_mode, check::current_pos(topo, index))
            {
                let reached = db.wait_for(&target, SLAVE_WAIT).await;
                match (reached, checked.gtid_mode) {
                    (Ok(true), _) => {}
                    (other, true) => ctx.log.warn(
                        Some(&label),
                        &format!(
                            "did not execute up to the frozen position within {} s ({}); \
                             repointing by GTID anyway, it fetches what it lacks from {new_label}",
                            SLAVE_WAIT.as_secs(),
                            other.map_or_else(|e| e.to_string(), |_| "timed out".into())
                        ),
                    ),
                    (other, false) => {
                        return Err(format!(
                            "did not execute up to the frozen position {} within {} s ({}); \
                             once it has, run CHANGE MASTER TO MASTER_HOST='{}', \
                             MASTER_LOG_FILE='{}', MASTER_LOG_POS={} and START SLAVE",
                            frozen.pos.binlog,
                            SLAVE_WAIT.as_secs(),
                            other.map_or_else(|e| e.to_string(), |_| "timed out".into()),
                            topo.nodes[checked.new_master].spec.mysql_addr(),
                            promoted.position.file,
                            promoted.position.pos
                        ))
                    }
                }
            }
            let flavor = topo.facts(index).map_or(Flavor::MariaDb, |f| f.flavor);
            let from = if checked.gtid_mode {
                gtid_from(flavor)
            } else {
                ReplicateFrom::Position(promoted.position.clone())
            };
            repoint(ctx, checked, db.as_ref(), true, credentials(spec), from).await
        }
        .await;
        db.close().await;
        r
    }
    .await;
    match &result {
        Ok(done) => ctx.log.ok(Some(&label), done),
        Err(e) => ctx.log.fail(Some(&label), e),
    }
    SlaveResult {
        host: label,
        result,
    }
}

/// STOP SLAVE, CHANGE MASTER to the new master, START SLAVE, and a short check
/// that both threads run.
async fn repoint(
    ctx: &Ctx,
    checked: &Checked,
    db: &dyn Db,
    stop: bool,
    credentials: Option<(String, crate::config::Secret)>,
    from: ReplicateFrom,
) -> Result<String, String> {
    let new_spec = &checked.topology.nodes[checked.new_master].spec;
    let new_label = new_spec.label();
    if stop {
        db.stop_replica()
            .await
            .map_err(|e| format!("STOP SLAVE failed: {e}"))?;
    }
    let how = match &from {
        ReplicateFrom::Position(p) => format!("at {p}"),
        _ => "by GTID".to_string(),
    };
    db.change_master(&ChangeMaster {
        host: new_spec.mysql_addr().to_owned(),
        port: new_spec.port,
        credentials,
        from,
    })
    .await
    .map_err(|e| format!("CHANGE MASTER to {new_label} failed: {e}"))?;
    db.start_replica()
        .await
        .map_err(|e| format!("START SLAVE failed: {e}"))?;
    started(ctx, db).await?;
    Ok(format!(
        "Slave started, replicating from {new_label} ({how})"
    ))
}

/// Polls the replica status until both threads run, an error shows, or
/// [`START_CHECK`] passes (a slave still connecting then is reported, not lost).
async fn started(ctx: &Ctx, db: &dyn Db) -> Result<(), String> {
    let deadline = Instant::now() + START_CHECK;
    loop {
        let facts = db
            .facts()
            .await
            .map_err(|e| format!("reading its status after START SLAVE: {e}"))?;
        let Some(r) = facts.replica else {
            return Err("no replica status after START SLAVE".into());
        };
        if !r.sql_running && r.last_sql_errno != 0 {
            return Err(format!(
                "SQL thread stopped: error {}: {}",
                r.last_sql_errno, r.last_sql_error
            ));
        }
        if r.io == IoState::No && r.last_io_errno != 0 {
            return Err(format!(
                "IO thread stopped: error {}: {}",
                r.last_io_errno, r.last_io_error
            ));
        }
        if r.io == IoState::Yes && r.sql_running {
            return Ok(());
        }
        if Instant::now() >= deadline {
            if r.last_io_errno != 0 {
                return Err(format!(
                    "IO thread not connected after {} s: error {}: {}",
                    START_CHECK.as_secs(),
                    r.last_io_errno,
                    r.last_io_error
                ));
            }
            ctx.log.warn(
                None,
                &format!(
                    "replication threads not both running after {} s (IO {}, SQL {}); check \
                     SHOW SLAVE STATUS",
                    START_CHECK.as_secs(),
                    r.io,
                    if r.sql_running { "Yes" } else { "No" }
                ),
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The old master: its table lock (if any) released; with
/// `--orig-master-is-new-slave`, a slave of the new master. It stays read-only.
async fn orig_master(
    ctx: &Ctx,
    checked: &Checked,
    conns: &Conns,
    frozen: &Frozen,
    promoted: &Promoted,
) -> Option<Result<String, String>> {
    let topo = &checked.topology;
    let spec = &topo.nodes[checked.master].spec;
    let label = spec.label();
    let old = conns.old.as_ref();
    if frozen.lock == Lock::Tables {
        match old.unlock_tables().await {
            Ok(()) => ctx.log.ok(Some(&label), "UNLOCK TABLES"),
            Err(e) => ctx
                .log
                .warn(Some(&label), &format!("UNLOCK TABLES failed: {e}")),
        }
    }
    if !ctx.options.orig_master_is_new_slave {
        ctx.log.info(
            Some(&label),
            "stays read-only and replicates from no one (--orig-master-is-new-slave not given)",
        );
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
            let flavor = topo
                .facts(checked.master)
                .map_or(Flavor::MariaDb, |f| f.flavor);
            let from = match (checked.gtid_mode, flavor) {
                // A former master: its own binlog says how far it is.
                (true, Flavor::MariaDb) => ReplicateFrom::MariaCurrentPos,
                (true, Flavor::MySql) => ReplicateFrom::MySqlAutoPosition,
                (false, _) => ReplicateFrom::Position(promoted.position.clone()),
            };
            // A master has no replication to stop (MariaDB refuses STOP SLAVE then).
            let stop = topo
                .facts(checked.master)
                .is_some_and(|f| f.replica.is_some());
            repoint(ctx, checked, old, stop, Some((user, password)), from).await
        }
        _ => Err("no replication user or password configured (repl_user, repl_password)".into()),
    };
    match &result {
        Ok(done) => ctx.log.ok(Some(&label), done),
        Err(e) => ctx.log.fail(Some(&label), e),
    }
    Some(result)
}

/// `RESET SLAVE ALL` on the new master, unless `skip_reset_slave`.
pub async fn cleanup(ctx: &Ctx, checked: &Checked, conns: &Conns) -> Option<Result<(), String>> {
    let spec = &checked.topology.nodes[checked.new_master].spec;
    let label = spec.label();
    if spec.skip_reset_slave {
        ctx.log
            .info(Some(&label), "Skipping RESET SLAVE on the new master.");
        return None;
    }
    let result = conns
        .new
        .reset_replica_all()
        .await
        .map_err(|e| format!("RESET SLAVE ALL failed: {e}"));
    match &result {
        Ok(()) => ctx.log.ok(Some(&label), "Resetting slave info succeeded."),
        Err(e) => ctx.log.fail(Some(&label), e),
    }
    Some(result)
}
