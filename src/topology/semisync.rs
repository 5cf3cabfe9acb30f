//! Semi-synchronous replication: what each server says of it, who acknowledges,
//! and whether a failover could have lost an acknowledged transaction.
//!
//! MySQL's plugin (`rpl_semi_sync_source_*` / `rpl_semi_sync_replica_*`, the
//! older `master`/`slave` names before 8.0.26) and MariaDB's built-in
//! semi-sync (`rpl_semi_sync_master_*` / `rpl_semi_sync_slave_*`, 10.3+) say
//! the same things under two sets of names; [`SemiSync::from_maps`] reads
//! either. Every field is `None` where the server did not say (no plugin).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::config::ServerId;
use crate::topology::snapshot::Topology;

/// One server's semi-sync settings and status counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SemiSync {
    /// `rpl_semi_sync_source_enabled` (`..._master_enabled`): the master waits for acks.
    pub source_enabled: Option<bool>,
    /// `Rpl_semi_sync_source_status`: it is waiting now (OFF: fell back to async).
    pub source_on: Option<bool>,
    /// `Rpl_semi_sync_source_clients`: replicas connected as semi-sync.
    pub clients: Option<u64>,
    /// `Rpl_semi_sync_source_yes_tx` / `_no_tx`: commits acknowledged / not.
    pub yes_tx: Option<u64>,
    pub no_tx: Option<u64>,
    /// `Rpl_semi_sync_source_no_times`: how often it fell back to async.
    pub no_times: Option<u64>,
    /// `rpl_semi_sync_source_timeout` (ms): how long a commit waits before the fall-back.
    pub timeout_ms: Option<u64>,
    /// `rpl_semi_sync_replica_enabled` (`..._slave_enabled`): it acknowledges what it receives.
    pub replica_enabled: Option<bool>,
    /// `Rpl_semi_sync_replica_status`: its receiver runs as semi-sync now.
    pub replica_on: Option<bool>,
}

impl SemiSync {
    /// From lower-case `SHOW GLOBAL VARIABLES` and `SHOW GLOBAL STATUS` maps.
    pub(crate) fn from_maps(
        vars: &HashMap<String, String>,
        status: &HashMap<String, String>,
    ) -> SemiSync {
        let pick = |map: &HashMap<String, String>, new: &str, old: &str| {
            map.get(new).or_else(|| map.get(old)).cloned()
        };
        let flag = |map, new, old| pick(map, new, old).map(|v| is_on(&v));
        let number = |map, new, old| pick(map, new, old).and_then(|v| v.trim().parse().ok());
        SemiSync {
            source_enabled: flag(
                vars,
                "rpl_semi_sync_source_enabled",
                "rpl_semi_sync_master_enabled",
            ),
            source_on: flag(
                status,
                "rpl_semi_sync_source_status",
                "rpl_semi_sync_master_status",
            ),
            clients: number(
                status,
                "rpl_semi_sync_source_clients",
                "rpl_semi_sync_master_clients",
            ),
            yes_tx: number(
                status,
                "rpl_semi_sync_source_yes_tx",
                "rpl_semi_sync_master_yes_tx",
            ),
            no_tx: number(
                status,
                "rpl_semi_sync_source_no_tx",
                "rpl_semi_sync_master_no_tx",
            ),
            no_times: number(
                status,
                "rpl_semi_sync_source_no_times",
                "rpl_semi_sync_master_no_times",
            ),
            timeout_ms: number(
                vars,
                "rpl_semi_sync_source_timeout",
                "rpl_semi_sync_master_timeout",
            ),
            replica_enabled: flag(
                vars,
                "rpl_semi_sync_replica_enabled",
                "rpl_semi_sync_slave_enabled",
            ),
            replica_on: flag(
                status,
                "rpl_semi_sync_replica_status",
                "rpl_semi_sync_slave_status",
            ),
        }
    }

    /// The master side is switched on (it may still have fallen back to async).
    pub(crate) fn source_enabled(&self) -> bool {
        self.source_enabled == Some(true)
    }

    /// Commits wait for an acknowledgement now.
    pub(crate) fn in_effect(&self) -> bool {
        self.source_enabled() && self.source_on == Some(true)
    }

    /// As a replica, it acknowledges what it receives: enabled, and its
    /// receiver does not say it runs without semi-sync.
    pub(crate) fn acknowledges(&self) -> bool {
        self.replica_enabled == Some(true) && self.replica_on != Some(false)
    }
}

fn is_on(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_uppercase().as_str(),
        "ON" | "1" | "YES" | "TRUE"
    )
}

/// The replicas of `master` in `topo` that acknowledge, in config order.
pub(crate) fn acknowledging(topo: &Topology, master: ServerId) -> Vec<ServerId> {
    topo.ids()
        .filter(|&i| i != master)
        .filter(|&i| topo.source_of(i) == Some(master))
        .filter(|&i| topo.facts(i).is_some_and(|f| f.semi_sync.acknowledges()))
        .collect()
}

/// What the monitor saw of the master's semi-sync while it was alive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SemiSyncWatch {
    /// The last reading and when it was taken.
    pub last: Option<(SystemTime, SemiSync)>,
    /// Since when it has been enabled but OFF (fallen back to async): the
    /// first reading that found it so, and `no_tx` then.
    pub off_since: Option<(SystemTime, Option<u64>)>,
}

impl SemiSyncWatch {
    /// Folds in one reading of the master taken at `at`.
    pub(crate) fn observe(&mut self, at: SystemTime, now: SemiSync) {
        let fallen_back = now.source_enabled() && !now.in_effect();
        if !fallen_back {
            self.off_since = None;
        } else if self.off_since.is_none() {
            self.off_since = Some((at, now.no_tx));
        }
        self.last = Some((at, now));
    }
}

/// Whether a failover could have lost a transaction its client was told
/// was committed, as far as semi-sync can say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Nothing is known of the master's semi-sync (not watched).
    Unknown,
    /// Semi-sync was not enabled on the master: plain asynchronous replication.
    NotEnabled,
    /// In effect at the last reading, and `acked_by` (reachable now) acknowledge:
    /// every acknowledged transaction reached one of them.
    Safe {
        acked_by: Vec<String>,
        seen_at: SystemTime,
    },
    /// In effect at the last reading, but none of the replicas that could
    /// have acknowledged is reachable: acknowledged transactions may be on them only.
    AckersGone { seen_at: SystemTime },
    /// Enabled but fallen back to async since `since` (first seen so):
    /// transactions committed since then were acknowledged by nobody.
    FellBack {
        since: SystemTime,
        no_tx_then: Option<u64>,
        no_tx_last: Option<u64>,
        last_seen: SystemTime,
    },
}

/// The verdict from what the monitor saw and who acknowledges now.
pub(crate) fn durability(watch: &SemiSyncWatch, acked_by: Vec<String>) -> Durability {
    let Some((seen_at, last)) = &watch.last else {
        return Durability::Unknown;
    };
    if !last.source_enabled() {
        return Durability::NotEnabled;
    }
    if let Some((since, no_tx_then)) = watch.off_since {
        return Durability::FellBack {
            since,
            no_tx_then,
            no_tx_last: last.no_tx,
            last_seen: *seen_at,
        };
    }
    if acked_by.is_empty() {
        Durability::AckersGone { seen_at: *seen_at }
    } else {
        Durability::Safe {
            acked_by,
            seen_at: *seen_at,
        }
    }
}

impl Durability {
    /// Acknowledged transactions may be missing: a warning, not a note.
    pub(crate) fn warns(&self) -> bool {
        matches!(
            self,
            Durability::AckersGone { .. } | Durability::FellBack { .. }
        )
    }

    /// One sentence for the log and the report; `None` when semi-sync says nothing.
    pub(crate) fn sentence(&self) -> Option<String> {
        match self {
            Durability::Unknown | Durability::NotEnabled => None,
            Durability::Safe { acked_by, seen_at } => Some(format!(
                "Semi-sync was in effect on the dead master (last seen {}) and {} acknowledged: \
                 no transaction a client was told was committed can have been lost.",
                utc(*seen_at),
                acked_by.join(", ")
            )),
            Durability::AckersGone { seen_at } => Some(format!(
                "Semi-sync was in effect on the dead master (last seen {}), but no replica that \
                 acknowledges is reachable: acknowledged transactions may exist only on the \
                 unreachable ones; check them before reusing them.",
                utc(*seen_at)
            )),
            Durability::FellBack {
                since,
                no_tx_then,
                no_tx_last,
                last_seen,
            } => {
                let counted = match (no_tx_then, no_tx_last) {
                    (Some(a), Some(b)) => format!(
                        "; {} commit(s) went unacknowledged between then and the last reading",
                        b.saturating_sub(*a)
                    ),
                    _ => String::new(),
                };
                Some(format!(
                    "Semi-sync had fallen back to asynchronous replication on the dead master \
                     since {} (still off at its last reading, {}){counted}: transactions \
                     committed since then were acknowledged by no replica, and those not \
                     received by any replica may have been lost.",
                    utc(*since),
                    utc(*last_seen)
                ))
            }
        }
    }
}

/// A wall-clock time as `YYYY-MM-DD HH:MM:SS UTC`, without a clock read.
fn utc(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("{secs} s after the epoch"))
}

#[cfg(test)]
mod tests;
