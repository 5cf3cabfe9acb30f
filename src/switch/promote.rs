//! Phase 3: the new master executes everything up to the frozen position, stops
//! replicating, and takes writes; and the undo of phases 2-3 when anything
//! fails before it does.

use std::time::Instant;

use super::freeze::Frozen;
use super::{check, online_change_hook, rules, Checked, Ctx, Outcome, Summary, Undone};
use crate::journal::{Phase, StoppedAt};
use crate::mysql::{Db, DbError};
use crate::notify::HookVerdict;
use crate::render::hook_args::OnlineChangeCommand;
use crate::topology::position::BinlogPos;

/// The connections the freeze and the promotion run on, opened before the
/// freeze so that connecting does not lengthen it.
pub struct Conns {
    pub old: Box<dyn Db>,
    pub new: Box<dyn Db>,
}

impl Conns {
    pub async fn open(ctx: &Ctx, checked: &Checked) -> Result<Conns, String> {
        let topo = &checked.topology;
        let timeout = ctx.config.settings.mysql_timeout;
        let (old, new) = tokio::join!(
            ctx.connector
                .connect(&topo.nodes[checked.master].spec, timeout),
            ctx.connector
                .connect(&topo.nodes[checked.new_master].spec, timeout),
        );
        match (old, new) {
            (Ok(old), Ok(new)) => Ok(Conns { old, new }),
            (Err(e), other) => {
                if let Ok(db) = other {
                    db.close().await;
                }
                Err(format!(
                    "{}: cannot connect: {e}",
                    topo.label(checked.master)
                ))
            }
            (Ok(db), Err(e)) => {
                db.close().await;
                Err(format!(
                    "{}: cannot connect: {e}",
                    topo.label(checked.new_master)
                ))
            }
        }
    }

    pub async fn close(self) {
        self.old.close().await;
        self.new.close().await;
    }
}

/// What has been changed so far: what the undo has to put back.
#[derive(Debug, Clone, Default)]
pub struct Done {
    /// `--command=stop` ran and did not abort.
    pub stop_hook_ran: bool,
    /// read_only=1 was sent to the old master.
    pub old_read_only: bool,
    /// FLUSH TABLES WITH READ LOCK holds on the old master.
    pub old_tables_locked: bool,
    /// The new master's replication was stopped.
    pub new_replica_stopped: bool,
    /// read_only=0 was sent to the new master.
    pub new_writable: bool,
}

/// The new master, taking writes.
#[derive(Debug, Clone)]
pub struct Promoted {
    /// Its binlog position when it was promoted (for file/position slaves).
    pub position: BinlogPos,
    /// When read_only=0 returned: the write freeze ends.
    pub writable_at: Instant,
}

pub async fn promote(
    ctx: &Ctx,
    checked: &Checked,
    conns: &Conns,
    frozen: &Frozen,
    done: &mut Done,
) -> Result<Promoted, String> {
    let topo = &checked.topology;
    let (old_label, new_label) = (topo.label(checked.master), topo.label(checked.new_master));
    let new = conns.new.as_ref();
    let limit = ctx.options.catchup_timeout;
    let current = check::current_pos(topo, checked.new_master);
    if let Some(target) = frozen.pos.target(checked.gtid_mode, current) {
        match new.wait_for(&target, limit).await {
            Ok(true) => ctx.log.ok(
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
                return Err(format!(
                    "{new_label} did not execute everything up to the frozen position {} within \
                     {} s{now}",
                    frozen.pos.describe(),
                    limit.as_secs()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "{new_label}: waiting for the frozen position failed: {e}"
                ))
            }
        }
    }
    new.stop_replica()
        .await
        .map_err(|e| format!("{new_label}: STOP SLAVE failed: {e}"))?;
    done.new_replica_stopped = true;

    // Nothing may have reached the old master's binlog since the freeze: a
    // write there now would exist on the old master only.
    let (old_now, new_now) = tokio::join!(conns.old.facts(), new.facts());
    let old_now = old_now.map_err(|e| format!("{old_label}: {e}"))?;
    if old_now.binlog.as_ref() != Some(&frozen.pos.binlog) {
        return Err(format!(
            "{old_label}: its binary log moved from {} to {} after the freeze: a session still \
             writes despite read_only (an account with SUPER or READ_ONLY ADMIN that reconnected?); \
             block the application's writes (master_ip_online_change_script) and try again",
            frozen.pos.binlog,
            old_now
                .binlog
                .map(|b| b.to_string())
                .unwrap_or_else(|| "nothing".into())
        ));
    }
    let new_now = new_now.map_err(|e| format!("{new_label}: {e}"))?;
    let position = new_now
        .binlog
        .ok_or_else(|| format!("{new_label}: binary logging is off: it cannot be master"))?;
    ctx.log.ok(
        Some(&new_label),
        &format!("replication stopped; its binlog:pos is {position}"),
    );

    let old_spec = &topo.nodes[checked.master].spec;
    let new_spec = &topo.nodes[checked.new_master].spec;
    if let Some((verdict, ran)) = online_change_hook(
        ctx,
        OnlineChangeCommand::Start,
        old_spec,
        new_spec,
        ctx.options.orig_master_is_new_slave,
    )
    .await
    {
        ctx.log.facts(|f| f.ip_start = Some(ran));
        if verdict == HookVerdict::Abort {
            return Err("master_ip_online_change_script --command=start failed".into());
        }
    }

    done.new_writable = true;
    new.set_read_only(false)
        .await
        .map_err(|e| format!("{new_label}: SET GLOBAL read_only=0 failed: {e}"))?;
    let writable_at = Instant::now();
    ctx.log.ok(
        Some(&new_label),
        "SET GLOBAL read_only=0: it is the new master (write freeze ends)",
    );
    Ok(Promoted {
        position,
        writable_at,
    })
}

/// Undoes phases 2-3 and builds the outcome.
pub async fn fail(
    ctx: &Ctx,
    checked: &Checked,
    conns: Option<&Conns>,
    done: &Done,
    reason: String,
    summary: Summary,
) -> Outcome {
    ctx.log.fail(None, &reason);
    ctx.log.banner("Rolling back");
    let undone = rollback(ctx, checked, conns, done).await;
    let all_undone = undone.iter().all(|u| u.result.is_ok());
    let old = checked.topology.label(checked.master);
    let to_finish = if all_undone {
        format!(
            "nothing to do: {old} is the master again and the slaves replicate from it as before"
        )
    } else {
        format!(
            "the undo was incomplete (see the FAILED steps): make sure {old} is writable \
             (read_only=0), that the new master candidate is read-only and replicates from it, \
             and that the master IP address points at {old}"
        )
    };
    ctx.log.facts(|f| {
        f.stopped_at = Some(StoppedAt {
            phase: Phase::Switch,
            step: reason.clone(),
            to_finish: Some(to_finish),
        })
    });
    Outcome::RolledBack {
        reason,
        undone,
        summary,
    }
}

/// Puts back what `done` says was changed, newest first, so that at no time
/// two servers take writes: the candidate stops taking writes and follows the
/// old master again, then the old master takes writes, then the online change
/// script is told to give writes back to it (`--command=start` with the old
/// master as `--new_master_*`).
async fn rollback(ctx: &Ctx, checked: &Checked, conns: Option<&Conns>, done: &Done) -> Vec<Undone> {
    let topo = &checked.topology;
    let old_spec = &topo.nodes[checked.master].spec;
    let new_spec = &topo.nodes[checked.new_master].spec;
    let (old, new) = (old_spec.label(), new_spec.label());
    let timeout = ctx.config.settings.mysql_timeout;
    let mut out = Vec::new();
    let mut step = |what: String, result: Result<(), String>| {
        match &result {
            Ok(()) => ctx.log.ok(None, &format!("undo: {what}")),
            Err(e) => ctx.log.fail(None, &format!("undo: {what}: {e}")),
        }
        out.push(Undone { what, result });
    };

    let new_was_read_only = topo.facts(checked.new_master).is_none_or(|f| f.read_only);
    if done.new_writable && new_was_read_only {
        let r = on_fresh(ctx, new_spec, timeout, |db| {
            Box::pin(async move { db.set_read_only(true).await })
        })
        .await;
        step(format!("{new}: SET GLOBAL read_only=1"), r);
    }
    if done.new_replica_stopped {
        let r = on_fresh(ctx, new_spec, timeout, |db| {
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
                Err(e) => Err(e.to_string()),
            },
            None => Ok(()),
        };
        step(format!("{old}: UNLOCK TABLES"), r);
    }
    let old_was_read_only = topo.facts(checked.master).is_some_and(|f| f.read_only);
    if done.old_read_only && !old_was_read_only {
        let user = old_spec.user.clone();
        let r = on_fresh(ctx, old_spec, timeout, move |db| {
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
        if let Some((verdict, _)) =
            online_change_hook(ctx, OnlineChangeCommand::Start, new_spec, old_spec, false).await
        {
            let r = match verdict {
                HookVerdict::Abort => Err(format!(
                    "the script failed: give the writes (master IP address) back to {old} by hand"
                )),
                _ => Ok(()),
            };
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
    timeout: std::time::Duration,
    call: impl for<'a> FnOnce(&'a dyn Db) -> DbCall<'a>,
) -> Result<(), String> {
    let db = ctx
        .connector
        .connect(spec, timeout)
        .await
        .map_err(|e| e.to_string())?;
    let r = call(db.as_ref()).await.map_err(|e| e.to_string());
    db.close().await;
    r
}
