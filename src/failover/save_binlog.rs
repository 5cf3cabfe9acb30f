//! Phase 3.2, saving the dead master's binlog: over SSH, the events after what
//! the latest slave executed. When that cannot be done, the range that may be
//! lost is recorded for the report.

use std::path::PathBuf;

use super::fence::Fenced;
use super::latest::{gtid_text, Latest};
use super::{Ctx, Phase};
use crate::binlog;
use crate::config::ServerSpec;
use crate::journal::LostRange;
use crate::recovery::{apply, fetch, Kit, StepError};
use crate::state::Workdir;
use crate::topology::position::BinlogPos;

/// What was saved of the dead master's binlog.
#[derive(Debug, Clone, Default)]
pub(super) struct Saved {
    /// The binlog tail (a binlog file kept in `manager_workdir`), when saved and not empty.
    pub tail: Option<PathBuf>,
    /// What may be lost and how to check, when it could not be saved.
    pub possibly_lost: Option<String>,
}

pub(super) async fn save(
    ctx: &Ctx,
    master: &ServerSpec,
    fenced: &Fenced,
    latest: &Latest,
) -> Saved {
    let log = ctx.log(Phase::MasterRecovery);
    log.info(None, "* Phase 3.2: Saving Dead Master's Binlog Phase..");
    let label = master.label();
    let why = if ctx.options.skip_save_master_binlog {
        "--skip-save-master-binlog was given".to_owned()
    } else if !fenced.ssh_reachable {
        format!("SSH to {label} failed")
    } else {
        match tail(ctx, master, &latest.exec).await {
            Ok((diff, path)) if diff.events == 0 => {
                let _ = std::fs::remove_file(&path);
                log.ok(
                    Some(&label),
                    "no events after the latest slave's position: nothing to save",
                );
                return Saved::default();
            }
            Ok((diff, path)) => {
                log.ok(
                    Some(&label),
                    &format!(
                        "saved {} events of binlog after {} (up to {}, {} bytes)",
                        diff.events, diff.from, diff.to, diff.size
                    ),
                );
                keep(ctx, &path);
                return Saved {
                    tail: Some(path),
                    possibly_lost: None,
                };
            }
            Err(e) => {
                log.error_as_warning(&e, "the binlog could not be saved");
                e.to_string()
            }
        }
    };
    let gtid = apply::gtid_target(latest.latest_facts());
    let gtid_note = match &gtid {
        Some(crate::mysql::WaitTarget::MariaGtid(p)) if !p.is_empty() => format!(" (GTID {p})"),
        Some(crate::mysql::WaitTarget::MySqlGtid(s)) if !s.is_empty() => {
            format!(" (GTID set {s})")
        }
        _ => String::new(),
    };
    let from = &latest.exec;
    let text = format!(
        "Transactions after {from}{gtid_note} in {label}'s binlog could not be saved ({why}) and \
         may be lost; once the old master is back, compare: mysqlbinlog --start-position={} {}",
        from.pos, from.file
    );
    log.warn(None, &text);
    ctx.kit.log.facts(|f| {
        f.possibly_lost = Some(LostRange {
            from_pos: Some(from.to_string()),
            after_gtid: gtid.as_ref().map(gtid_text).filter(|t| !t.is_empty()),
            reason: why,
            to_check: None,
        })
    });
    Saved {
        tail: None,
        possibly_lost: Some(text),
    }
}

/// Resuming: the tail the interrupted failover kept in `manager_workdir`.
pub(super) fn from_file(ctx: &Ctx, path: &std::path::Path) -> Result<Saved, StepError> {
    let log = ctx.log(Phase::MasterRecovery);
    log.info(None, "* Phase 3.2: Saving Dead Master's Binlog Phase..");
    let size = std::fs::File::open(path)
        .and_then(|f| f.metadata())
        .map(|m| m.len())
        .map_err(|e| {
            StepError::state(
                "manager",
                format!(
                    "cannot read the binlog tail the interrupted failover kept in {} ({e}); \
                     restore the file, or finish by hand",
                    path.display()
                ),
            )
        })?;
    log.ok(
        None,
        &format!(
            "resuming: the binlog tail saved by the interrupted failover, {} ({size} bytes)",
            path.display(),
        ),
    );
    Ok(Saved {
        tail: Some(path.to_path_buf()),
        possibly_lost: None,
    })
}

/// The tail was written to `manager_workdir` before anything applies it, so
/// that it outlives this process (a failover that stops later can be
/// finished from it): say where, and journal it (not in a dry run).
pub(super) fn keep(ctx: &Ctx, path: &std::path::Path) {
    let log = ctx.log(Phase::MasterRecovery);
    let path = path.display().to_string();
    log.ok(None, &format!("the binlog tail is kept in {path}"));
    if !ctx.options.dry_run {
        ctx.kit.log.facts(|f| f.saved_binlog = Some(path));
    }
}

/// Copies the dead master's binlog from `start` on (its first file's
/// header and the bytes after `start.pos`, then the later files) and cuts
/// the tail after `start` into a file in `manager_workdir`. Binlog servers
/// (`[binlogN]`) hold the master's files under the same names and are read the same way.
pub(super) async fn tail(
    ctx: &Ctx,
    spec: &ServerSpec,
    start: &BinlogPos,
) -> Result<(binlog::Diff, PathBuf), StepError> {
    let kit: &Kit = &ctx.kit;
    let host = spec.label();
    let logs = fetch::fetch_binlogs(kit, spec, start).await?;
    let saved = Workdir::of(&kit.config)
        .new_master_binlog(&spec.hostname, spec.port)
        .map_err(|e| {
            StepError::state(
                &host,
                format!("cannot keep the binlog tail in manager_workdir: {e}"),
            )
        })?;
    let (diff, saved) = fetch::cut_tail(&host, logs, start, saved).await?;
    let path = saved.keep().map_err(|e| {
        StepError::state(
            &host,
            format!("cannot keep the binlog tail in manager_workdir: {e}"),
        )
    })?;
    Ok((diff, path))
}
