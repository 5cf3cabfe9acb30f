//! Phase 2: reject updates on the old master and record where it stopped.
//!
//! `SET GLOBAL read_only=1` (and `super_read_only=1` where the server has it)
//! first; `FLUSH TABLES WITH READ LOCK` only when read_only cannot be set (as
//! MHA 0.58). Then the sessions that could still change data are killed:
//! writes read_only stops get a short grace to finish; sessions of accounts
//! read_only does not stop (SUPER, MariaDB's READ_ONLY ADMIN, on servers
//! without super_read_only) would go on writing to the old master, so they are
//! killed at once, as are sessions holding a transaction. Once they are gone,
//! the old master's binlog position is the frozen position.

use std::time::{Duration, Instant};

use super::conns::{Conns, Done};
use super::rules::{self, Exempt};
use super::{Checked, Ctx, FreezeGtid, FreezePos};
use crate::mysql::DbError;
use crate::recovery::StepError;
use crate::topology::status::GtidFacts;

/// How long killed sessions may take to disappear.
const KILL_WAIT: Duration = Duration::from_secs(2);
/// Poll interval of the grace period and of the kill wait.
const POLL: Duration = Duration::from_millis(5);

/// How updates are rejected on the old master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lock {
    /// `read_only=1` (and `super_read_only=1`).
    ReadOnly,
    /// `FLUSH TABLES WITH READ LOCK`, held by the phase's connection.
    Tables,
}

/// The old master, frozen.
#[derive(Debug, Clone)]
pub(super) struct Frozen {
    /// When read_only=1 was sent: the write freeze starts.
    pub at: Instant,
    pub lock: Lock,
    pub pos: FreezePos,
    /// Sessions killed.
    pub killed: usize,
}

pub(super) async fn freeze(
    ctx: &Ctx,
    checked: &Checked,
    conns: &Conns,
    done: &mut Done,
) -> Result<Frozen, StepError> {
    let topo = &checked.topology;
    let log = ctx.log();
    let label = topo.label(checked.master);
    let old = conns.old.as_ref();
    let super_read_only = topo
        .facts(checked.master)
        .is_some_and(|f| f.super_read_only.is_some());

    let at = Instant::now();
    let lock = match old.set_read_only(true).await {
        Ok(()) => {
            done.old_read_only = true;
            log.ok(
                Some(&label),
                if super_read_only {
                    "SET GLOBAL read_only=1, super_read_only=1: updates rejected (write freeze starts)"
                } else {
                    "SET GLOBAL read_only=1: updates rejected (write freeze starts)"
                },
            );
            Lock::ReadOnly
        }
        Err(e) => {
            // It may have taken effect before the error: the undo restores it.
            done.old_read_only = true;
            log.warn(
                Some(&label),
                &format!(
                    "SET GLOBAL read_only=1 failed ({e}); locking all tables instead \
                     (FLUSH TABLES WITH READ LOCK)"
                ),
            );
            old.flush_tables_with_read_lock().await.map_err(|e2| {
                StepError::db(
                    &label,
                    format!(
                        "cannot reject updates: read_only=1 failed ({e}), FLUSH TABLES WITH \
                         READ LOCK failed"
                    ),
                    e2,
                )
            })?;
            done.old_tables_locked = true;
            log.ok(
                Some(&label),
                "FLUSH TABLES WITH READ LOCK: updates rejected (write freeze starts)",
            );
            Lock::Tables
        }
    };
    let exempt = match (lock, super_read_only, &checked.exempt_users) {
        (Lock::Tables, ..) | (_, true, _) => Exempt::Nobody,
        (_, false, Some(users)) => Exempt::Users(users.clone()),
        (_, false, None) => Exempt::Everybody,
    };

    // Grace: writes that read_only stops may finish.
    let grace_end = at + ctx.options.kill_grace;
    let procs = loop {
        let procs = old.processlist().await.map_err(|e| lost(&label, e))?;
        let waiting = rules::writes_to_wait_for(&procs, &exempt);
        if waiting.is_empty() || Instant::now() >= grace_end {
            break procs;
        }
        tokio::time::sleep(POLL).await;
    };
    let in_trx = match old.transaction_threads().await {
        Ok(ids) => ids,
        Err(e) => {
            log.warn(
                Some(&label),
                &format!("cannot read open transactions ({e}); sessions idle in a transaction are not killed"),
            );
            Vec::new()
        }
    };
    let kill = rules::sessions_to_kill(&procs, &in_trx, &exempt);
    let mut killed = Vec::new();
    for (id, why) in &kill {
        let who = procs
            .iter()
            .find(|p| p.id == *id)
            .map(rules::describe)
            .unwrap_or_else(|| format!("id {id}"));
        match old.kill_connection(*id).await {
            Ok(()) => {
                log.info(Some(&label), &format!("killed session {who} ({why})"));
                killed.push(*id);
            }
            // ER_NO_SUCH_THREAD: it ended by itself.
            Err(DbError::Server { code: 1094, .. }) => {}
            Err(e) => {
                return Err(StepError::db(
                    &label,
                    format!("cannot kill session {who} ({why}); it could still write"),
                    e,
                ))
            }
        }
    }
    wait_gone(ctx, conns, &label, &killed).await?;

    let facts = old.facts().await.map_err(|e| lost(&label, e))?;
    let binlog = facts.binlog.clone().ok_or_else(|| {
        StepError::state(&label, "binary logging is off: no position to switch at")
    })?;
    let gtid = match facts.gtid {
        GtidFacts::MariaDb { binlog_pos, .. } => FreezeGtid::Maria(binlog_pos),
        GtidFacts::MySql {
            enabled: true,
            executed,
        } => FreezeGtid::MySql(executed),
        GtidFacts::MySql { .. } => FreezeGtid::None,
    };
    let pos = FreezePos { binlog, gtid };
    log.ok(
        Some(&label),
        &format!("Orig master binlog:pos is {}.", pos.describe()),
    );
    Ok(Frozen {
        at,
        lock,
        pos,
        killed: killed.len(),
    })
}

/// Waits (bounded) until the killed sessions are gone: a session killed in
/// the middle of a commit may still write its transaction to the binlog.
async fn wait_gone(ctx: &Ctx, conns: &Conns, label: &str, ids: &[u64]) -> Result<(), StepError> {
    if ids.is_empty() {
        return Ok(());
    }
    let deadline = Instant::now() + KILL_WAIT;
    loop {
        let procs = conns.old.processlist().await.map_err(|e| lost(label, e))?;
        let left: Vec<String> = procs
            .iter()
            .filter(|p| ids.contains(&p.id))
            .map(rules::describe)
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            ctx.log().warn(
                Some(label),
                &format!(
                    "killed sessions still there after {} s (rolling back?): {}; the position \
                     check before promotion catches any late write",
                    KILL_WAIT.as_secs(),
                    left.join("; ")
                ),
            );
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

fn lost(label: &str, e: DbError) -> StepError {
    StepError::db(label, "", e)
}
