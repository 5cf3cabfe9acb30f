//! Phase 3: the new master executes everything up to the frozen position, stops
//! replicating, and takes writes; and the undo of phases 2-3 when anything
//! fails, or a signal arrives, before it does.

use std::time::Instant;

use super::conns::{Conns, Done};
use super::freeze::Frozen;
use super::interrupt::Point;
use super::{check, online_change_hook, rules, Checked, Ctx, Halt, Outcome, Undone};
use crate::journal::{Phase, StoppedAt};
use crate::mysql::{Db, DbError};
use crate::recovery::StepError;
use crate::render::hook_args::OnlineChangeCommand;
use crate::topology::position::BinlogPos;

/// The new master, taking writes.
#[derive(Debug, Clone)]
pub(super) struct Promoted {
    /// Its binlog position when it was promoted (for file/position slaves).
    pub position: BinlogPos,
    /// When read_only=0 returned: the write freeze ends.
    pub writable_at: Instant,
}

pub(super) async fn promote(
    ctx: &Ctx,
    checked: &Checked,
    conns: &Conns,
    frozen: &Frozen,
    done: &mut Done,
) -> Result<Promoted, Halt> {
    let topo = &checked.topology;
    let (old_label, new_label) = (topo.label(checked.master), topo.label(checked.new_master));
    let new = conns.new.as_ref();
    let limit = ctx.options.catchup_timeout;
    let log = ctx.log();
    let current = check::current_pos(topo, checked.new_master);
    if let Some(target) = frozen.pos.target(checked.gtid_mode, current) {
        let waited = ctx
            .interrupt
            .or_signal(new.wait_for(&target, limit))
            .await
            .map_err(|name| Halt::Signal {
                name,
                at: Point::Frozen,
            })?;
        match waited {
            Ok(true) => log.ok(
                Some(&new_label),
                &format!("executed everything up to {}", frozen.pos.describe()),
            ),
            Ok(false) => {
                let now = match new.facts().await {
                    Ok(f) => f
                        .replica
                        .map(|r| {
                            format!(
                                " (its SQL thread is {} at {}{})",
                                if r.sql_running { "running" } else { "stopped" },
                                r.exec,
                                if r.last_sql_error.is_empty() {
                                    String::new()
                                } else {
                                    format!(", last error: {}", r.last_sql_error)
                                }
                            )
                        })
                        .unwrap_or_default(),
                    Err(_) => String::new(),
                };
                return Err(StepError::state(
                    &new_label,
                    format!(
                        "did not execute everything up to the frozen position {} within {} s{now}",
                        frozen.pos.describe(),
                        limit.as_secs()
                    ),
                )
                .into());
            }
            Err(e) => {
                return Err(
                    StepError::db(&new_label, "waiting for the frozen position failed", e).into(),
                )
            }
        }
    }
    ctx.halt_if_signalled(Point::CaughtUp)?;
    new.stop_replica()
        .await
        .map_err(|e| StepError::db(&new_label, "STOP SLAVE failed", e))?;
    done.new_replica_stopped = true;
    ctx.halt_if_signalled(Point::ReplicationStopped)?;

    // Nothing may have reached the old master's binlog since the freeze: a
    // write there now would exist on the old master only.
    let (old_now, new_now) = tokio::join!(conns.old.facts(), new.facts());
    let old_now = old_now.map_err(|e| StepError::db(&old_label, "", e))?;
    if old_now.binlog.as_ref() != Some(&frozen.pos.binlog) {
        return Err(Halt::Failed(StepError::state(
            &old_label,
            format!(
                "its binary log moved from {} to {} after the freeze: a session still writes \
                 despite read_only (an account with SUPER or READ_ONLY ADMIN that reconnected?); \
                 block the application's writes (master_ip_online_change_script) and try again",
                frozen.pos.binlog,
                old_now
                    .binlog
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "nothing".into())
            ),
        )));
    }
    let new_now = new_now.map_err(|e| StepError::db(&new_label, "", e))?;
    let position = new_now.binlog.ok_or_else(|| {
        StepError::state(&new_label, "binary logging is off: it cannot be master")
    })?;
    log.ok(
        Some(&new_label),
        &format!("replication stopped; its binlog:pos is {position}"),
    );

    let old_spec = &topo.node(checked.master).spec;
    let new_spec = &topo.node(checked.new_master).spec;
    let flag = ctx.options.orig_master_is_new_slave;
    let start = OnlineChangeCommand::Start;
    let hook = online_change_hook(ctx, start, old_spec, new_spec, flag, |f| &mut f.ip_start);
    let verdict = ctx
        .interrupt
        .or_signal(hook)
        .await
        .map_err(|name| Halt::Signal {
            name,
            at: Point::StartHook,
        })?;
    if let Some(verdict) = verdict {
        verdict?;
    }
    // The last look before the point of no return.
    ctx.halt_if_signalled(Point::StartHook)?;

    done.new_writable = true;
    new.set_read_only(false)
        .await
        .map_err(|e| StepError::db(&new_label, "SET GLOBAL read_only=0 failed", e))?;
    let writable_at = Instant::now();
    log.ok(
        Some(&new_label),
        "SET GLOBAL read_only=0: it is the new master (write freeze ends)",
    );
    Ok(Promoted {
        position,
        writable_at,
    })
}

/// Undoes phases 2-3 and builds the outcome.
pub(super) async fn fail(
    ctx: &Ctx,
    checked: &Checked,
    conns: Option<&Conns>,
    done: &Done,
    halt: Halt,
) -> Outcome {
    let old = checked.topology.label(checked.master);
    let (reason, interrupted) = match halt {
        Halt::Failed(e) => (e, None),
        Halt::Signal { name, at } => (
            StepError::state(
                &old,
                format!(
                    "the switch was interrupted by {name} ({}), before the new master took \
                     writes",
                    interrupted_at(at)
                ),
            ),
            Some(name),
        ),
    };
    ctx.log().error(&reason);
    ctx.kit.log.banner("Rolling back");
    let undone = rollback(ctx, checked, conns, done).await;
    let all_undone = undone.iter().all(|u| u.result.is_ok());
    let kind = reason.kind();
    let to_finish = if all_undone {
        match interrupted {
            Some(name) => format!(
                "nothing to do: rolled back: the switch was interrupted by {name}; {old} (the \
                 orig master) accepts writes again and the slaves replicate from it as before"
            ),
            None => format!(
                "nothing to do: {old} is the master again and the slaves replicate from it as \
                 before"
            ),
        }
    } else {
        format!(
            "the undo was incomplete (see the FAILED steps): make sure {old} is writable \
             (read_only=0), that the new master candidate is read-only and replicates from it, \
             and that the master IP address points at {old}"
        )
    };
    ctx.kit.log.facts(|f| {
        f.stopped_at = Some(StoppedAt {
            phase: Phase::Switch,
            step: reason.to_string(),
            to_finish: Some(to_finish),
            kind: Some(kind),
        })
    });
    if let (Some(name), true) = (interrupted, all_undone) {
        ctx.log().ok(
            Some(&old),
            &format!(
                "rolled back: the switch was interrupted by {name}; the orig master accepts \
                 writes again"
            ),
        );
    }
    Outcome::RolledBack {
        reason,
        undone,
        interrupted,
    }
}

/// Where the signal found the switch, for the report.
fn interrupted_at(at: Point) -> &'static str {
    match at {
        Point::Checked => "after the checks",
        Point::StopHook => "during or after master_ip_online_change_script --command=stop",
        Point::Frozen => "while the new master caught up with the frozen position",
        Point::CaughtUp => "once the new master had caught up",
        Point::ReplicationStopped => "once the new master's replication was stopped",
        Point::StartHook => "during or after master_ip_online_change_script --command=start",
        Point::Writable | Point::SlavesSwitched => "after the point of no return",
    }
}

/// Puts back what `done` says was changed, newest first, so that at no time
/// two servers take writes: the candidate stops taking writes and follows the
/// old master again, then the old master takes writes, then the online change
/// script is told to give writes back to it (`--command=start` with the old
/// master as `--new_master_*`).
async fn rollback(ctx: &Ctx, checked: &Checked, conns: Option<&Conns>, done: &Done) -> Vec<Undone> {
    let topo = &checked.topology;
    let old_spec = &topo.node(checked.master).spec;
    let new_spec = &topo.node(checked.new_master).spec;
    let (old, new) = (old_spec.label(), new_spec.label());
    let mut out = Vec::new();
    let log = ctx.log();
    let mut step = |what: String, result: Result<(), StepError>| {
        match &result {
            Ok(()) => log.ok(None, &format!("undo: {what}")),
            Err(e) => log.fail(None, &format!("undo: {what}: {e}")),
        }
        out.push(Undone { what, result });
    };

    let new_was_read_only = topo.facts(checked.new_master).is_none_or(|f| f.read_only);
    if done.new_writable && new_was_read_only {
        let r = on_fresh(ctx, new_spec, |db| {
            Box::pin(async move { db.set_read_only(true).await })
        })
        .await;
        step(format!("{new}: SET GLOBAL read_only=1"), r);
    }
    if done.new_replica_stopped {
        let r = on_fresh(ctx, new_spec, |db| {
            Box::pin(async move { db.start_replica().await })
        })
        .await;
        step(
            format!("{new}: START SLAVE (it replicates from {old} again)"),
            r,
        );
    }
    if done.old_tables_locked {
        let r = match conns {
            Some(c) => match c.old.unlock_tables().await {
                // The lock belonged to that connection: gone with it.
                Err(DbError::Io(_) | DbError::Timeout { .. }) | Ok(()) => Ok(()),
                Err(e) => Err(StepError::db(&old, "", e)),
            },
            None => Ok(()),
        };
        step(format!("{old}: UNLOCK TABLES"), r);
    }
    let old_was_read_only = topo.facts(checked.master).is_some_and(|f| f.read_only);
    if done.old_read_only && !old_was_read_only {
        let user = old_spec.user.clone();
        let r = on_fresh(ctx, old_spec, move |db| {
            Box::pin(async move {
                if let Ok(procs) = db.processlist().await {
                    for p in procs.iter().filter(|p| rules::is_pending_freeze(p, &user)) {
                        let _ = db.kill_connection(p.id).await;
                    }
                }
                db.set_read_only(false).await
            })
        })
        .await;
        step(
            format!("{old}: SET GLOBAL read_only=0 (it takes writes again)"),
            r,
        );
    }
    if done.stop_hook_ran {
        let start = OnlineChangeCommand::Start;
        // Bounded by command_timeout. Its exit is this undo step's, not the
        // promotion's: the report must not read it as the new master's
        // activated address.
        let promotion_start = ctx.kit.log.journal().facts().ip_start.clone();
        let verdict =
            online_change_hook(ctx, start, new_spec, old_spec, false, |f| &mut f.ip_start).await;
        ctx.kit.log.facts(|f| f.ip_start = promotion_start);
        if let Some(verdict) = verdict {
            let r = verdict.map(|_| ()).map_err(|e| {
                StepError::state(
                    e.host(),
                    format!(
                        "{}: give the writes (master IP address) back to {old} by hand",
                        e.detail()
                    ),
                )
            });
            step(
                format!(
                    "master_ip_online_change_script --command=start --new_master_host={}",
                    old_spec.hostname
                ),
                r,
            );
        }
    }
    out
}

type DbCall<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), DbError>> + Send + 'a>>;

/// Runs one call on a fresh connection (the phase's own may be broken).
async fn on_fresh(
    ctx: &Ctx,
    spec: &crate::config::ServerSpec,
    call: impl for<'a> FnOnce(&'a dyn Db) -> DbCall<'a>,
) -> Result<(), StepError> {
    let db = ctx.kit.connect(spec).await?;
    let r = call(db.as_ref())
        .await
        .map_err(|e| StepError::db(spec.label(), "", e));
    db.close().await;
    r
}
