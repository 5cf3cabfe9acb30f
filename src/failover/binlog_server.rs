//! Phase 3.2 from binlog servers (`[binlogN]` blocks): when the dead master's
//! own binlog could not be read (its host is gone, SSH fails), the tail after
//! what the latest slave executed is cut from the copies the binlog servers
//! hold (hosts running `mysqlbinlog --read-from-remote-server --raw
//! --stop-never` against the master, which keeps the master's file names).
//!
//! As MHA's `save_from_binlog_server`: every binlog server is read, the one
//! with the most is used; when every one fails the failover stops, unless
//! `--ignore-binlog-server-error` makes that a warning.

use std::path::PathBuf;

use futures_util::future::join_all;

use super::latest::Latest;
use super::save_binlog::{self, Saved};
use super::{Ctx, Phase};
use crate::binlog;
use crate::config::ServerSpec;
use crate::recovery::StepError;
use crate::topology::position::BinlogPos;

/// What one binlog server gave: (events, bytes) of the tail, or why not.
pub(super) type Got = Result<(usize, usize), String>;

/// Which binlog server's tail to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Choice {
    /// This one holds the most events after the latest slave's position.
    Use(usize),
    /// At least one answered, none holds events the slaves lack.
    NothingNew,
    /// Every binlog server failed.
    AllFailed,
}

/// The pure choice among the servers' answers (MHA keeps the largest).
pub(super) fn choose(got: &[Got]) -> Choice {
    let best = got
        .iter()
        .enumerate()
        .filter_map(|(i, g)| g.as_ref().ok().map(|&(events, bytes)| (events, bytes, i)))
        .max_by_key(|&(events, bytes, i)| (events, bytes, std::cmp::Reverse(i)));
    match best {
        Some((events, _, i)) if events > 0 => Choice::Use(i),
        Some(_) => Choice::NothingNew,
        None => Choice::AllFailed,
    }
}

/// Completes `saved` from the binlog servers when the dead master's binlog
/// gave no tail; unchanged when it did or when none is configured.
pub(super) async fn rescue(
    ctx: &Ctx,
    master: &ServerSpec,
    latest: &Latest,
    saved: Saved,
) -> Result<Saved, StepError> {
    let servers = &ctx.kit.config.binlog_servers;
    if saved.tail.is_some() || servers.is_empty() {
        return Ok(saved);
    }
    let log = ctx.log(Phase::MasterRecovery);
    let from = &latest.exec;
    log.info(
        None,
        &format!(
            "the dead master's binlog gave no tail: reading {} binlog server(s) from {from}",
            servers.len()
        ),
    );
    let tails = join_all(servers.iter().map(|s| tail(ctx, s, from))).await;
    let got: Vec<Got> = tails
        .iter()
        .map(|t| {
            t.as_ref()
                .map(|(d, _)| (d.events, usize::try_from(d.size).unwrap_or(usize::MAX)))
                .map_err(ToString::to_string)
        })
        .collect();
    for (spec, t) in servers.iter().zip(&tails) {
        match t {
            Ok((d, _)) => log.info(
                Some(&spec.label()),
                &format!(
                    "binlog server: {} events after {from} (up to {})",
                    d.events, d.to
                ),
            ),
            Err(e) => log.error_as_warning(e, "this binlog server gives nothing"),
        }
    }
    match choose(&got) {
        Choice::Use(i) => {
            let mut chosen = None;
            for (j, t) in tails.into_iter().enumerate() {
                match t {
                    Ok(t) if j == i => chosen = Some(t),
                    // The tails not used are not kept.
                    Ok((_, path)) => {
                        let _ = std::fs::remove_file(path);
                    }
                    Err(_) => {}
                }
            }
            let Some((diff, path)) = chosen else {
                return Ok(saved);
            };
            let label = servers[i].label();
            log.ok(
                Some(&label),
                &format!(
                    "saved {} events of {}'s binlog after {from} (up to {}) from binlog server {label}",
                    diff.events,
                    master.label(),
                    diff.to
                ),
            );
            save_binlog::keep(ctx, &path);
            ctx.kit.log.facts(|f| f.possibly_lost = None);
            Ok(Saved {
                tail: Some(path),
                possibly_lost: None,
            })
        }
        Choice::NothingNew => {
            log.info(
                None,
                "no binlog server holds events after the latest slave's position",
            );
            Ok(saved)
        }
        Choice::AllFailed if ctx.options.ignore_binlog_server_error => {
            log.warn(
                None,
                "all binlog servers failed; --ignore-binlog-server-error: going on without them",
            );
            Ok(saved)
        }
        Choice::AllFailed => Err(StepError::state(
            "binlog servers",
            format!(
                "all {} binlog server(s) failed, so the events after {from} that only they \
                 may hold cannot be saved; nothing was promoted. Fix them and run the failover \
                 again (switch --master-state dead), or add --ignore-binlog-server-error to \
                 fail over without those events",
                servers.len()
            ),
        )),
    }
}

/// The tail after `start` from one binlog server's copies of the master's
/// files, cut into a file in `manager_workdir` (streamed, as from the master).
async fn tail(
    ctx: &Ctx,
    spec: &ServerSpec,
    start: &BinlogPos,
) -> Result<(binlog::Diff, PathBuf), StepError> {
    save_binlog::tail(ctx, spec, start).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binlog_server_with_the_most_is_used() {
        let e = || Err("ssh failed".to_owned());
        let cases: &[(&str, Vec<Got>, Choice)] = &[
            ("one with events", vec![Ok((5, 900))], Choice::Use(0)),
            (
                "the most events wins",
                vec![Ok((5, 900)), Ok((7, 1200))],
                Choice::Use(1),
            ),
            (
                "a failed one is passed over",
                vec![e(), Ok((3, 500))],
                Choice::Use(1),
            ),
            (
                "equal: the first",
                vec![Ok((3, 500)), Ok((3, 500))],
                Choice::Use(0),
            ),
            ("none has events", vec![Ok((0, 0)), e()], Choice::NothingNew),
            ("all failed", vec![e(), e()], Choice::AllFailed),
        ];
        for (name, got, want) in cases {
            assert_eq!(&choose(got), want, "{name}");
        }
    }
}
