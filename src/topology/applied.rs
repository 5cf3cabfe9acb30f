//! Has a slave executed everything it received? The rule from positions and
//! GTID sets (not from a stall), as a pure function with table tests.
//!
//! - `Done`: the SQL thread's position equals the IO thread's
//!   (`Relay_Master_Log_File:Exec_Master_Log_Pos` = `Master_Log_File:Read_Master_Log_Pos`)
//!   and, where GTIDs tell, what was received is executed (MySQL
//!   `Retrieved_Gtid_Set ⊆ gtid_executed`, MariaDB `gtid_slave_pos ⊇ gtid_io_pos`).
//! - `Partial`: the relay log ends inside a transaction that can never finish:
//!   the IO thread is stopped, the SQL thread has read all of its relay log
//!   (its state says so) and still `exec < read` — exec stays at the start of
//!   the incomplete transaction. Waiting longer cannot change that.
//! - `Applying`: anything else with a running SQL thread (a big transaction
//!   keeps `exec` at its start while it runs: that is not `Partial`, since the
//!   SQL thread is busy, not waiting for relay log).
//! - `Stopped` / `Failed`: the SQL thread is stopped without / with an error.

use super::gtid::MariaGtidPos;
use super::status::{GtidFacts, IoState, ReplicaStatus};

/// What the SQL thread is doing, from its `PROCESSLIST` state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlActivity {
    /// "Slave has read all relay log; waiting for more updates" (MySQL 8:
    /// "Replica has read all relay log…").
    ReadAllRelayLog,
    /// Executing or reading an event.
    Busy,
    /// No SQL thread row found (or not read).
    Unknown,
}

/// The applied-ness of one slave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApplyState {
    Done,
    Partial,
    Applying,
    Stopped,
    Failed { errno: u32, error: String },
}

/// The SQL thread's activity from the `(COMMAND, STATE)` of the server's
/// `system user` process list rows. The IO thread's rows are skipped; idle
/// parallel workers are skipped; a busy worker makes the whole SQL side busy
/// (the coordinator may have read all relay log while a worker still applies).
pub(crate) fn sql_activity<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> SqlActivity {
    let mut read_all = false;
    let mut busy = false;
    for (command, state) in rows {
        let s = state.to_ascii_lowercase();
        let io_thread = command.eq_ignore_ascii_case("Slave_IO")
            || s.contains("to send event")
            || s.contains("connect to master")
            || s.contains("connect to source")
            || s.contains("queueing")
            || s.contains("reconnecting");
        let idle_worker = s.contains("waiting for an event from coordinator")
            || s.contains("waiting for work from sql thread")
            || s.contains("waiting for room in worker thread")
            || s.is_empty() && command.eq_ignore_ascii_case("Slave_worker");
        if io_thread || idle_worker {
            continue;
        }
        if s.contains("has read all relay log") {
            read_all = true;
        } else {
            busy = true;
        }
    }
    match (busy, read_all) {
        (true, _) => SqlActivity::Busy,
        (false, true) => SqlActivity::ReadAllRelayLog,
        (false, false) => SqlActivity::Unknown,
    }
}

/// Does the server's GTID state say it executed all it received?
/// `None` when GTIDs cannot tell (file/position replication, no sets).
pub(crate) fn gtid_received_executed(r: &ReplicaStatus, gtid: &GtidFacts) -> Option<bool> {
    match gtid {
        GtidFacts::MariaDb { slave_pos, .. } => {
            let io: &MariaGtidPos = r.gtid_io_pos.as_ref()?;
            let using = r
                .using_gtid
                .is_some_and(|u| !matches!(u, super::status::MariaUsingGtid::No));
            (using && !io.is_empty()).then(|| slave_pos.contains(io))
        }
        GtidFacts::MySql {
            enabled: true,
            executed,
        } => {
            let retrieved = r.retrieved_gtid_set.as_ref()?;
            Some(retrieved.is_subset(executed))
        }
        GtidFacts::MySql { .. } => None,
    }
}

/// The rule (see the module text).
pub(crate) fn applied(r: &ReplicaStatus, gtid: &GtidFacts, sql: SqlActivity) -> ApplyState {
    if !r.sql_running {
        return if r.last_sql_errno != 0 {
            ApplyState::Failed {
                errno: r.last_sql_errno,
                error: r.last_sql_error.clone(),
            }
        } else {
            ApplyState::Stopped
        };
    }
    let positions_equal = r.exec == r.read;
    let gtid_done = gtid_received_executed(r, gtid);
    if positions_equal && gtid_done != Some(false) {
        return ApplyState::Done;
    }
    if r.io != IoState::Yes && sql == SqlActivity::ReadAllRelayLog && r.exec <= r.read {
        return ApplyState::Partial;
    }
    ApplyState::Applying
}

/// The SQL thread a stop has to kill rather than ask: MySQL's `STOP REPLICA`
/// lets a multi-threaded applier's coordinator finish the transaction it is
/// in, waiting up to 60 s for it. When the slave is [`ApplyState::Partial`]
/// that transaction can never finish (the rest of it is only in the dead
/// master's binlog), so the stop would just wait out the 60 s. A `KILL` of
/// the coordinator is accepted at once: the worker rolls the incomplete
/// transaction back and the failover applies it whole from the binlog.
/// `rows` are the `system user` threads as (id, command, state); the one to
/// kill is the thread that has read all relay log. `None` when the slave is
/// not partial or no such thread is listed.
pub(crate) fn stuck_sql_thread<'a>(
    state: &ApplyState,
    rows: impl IntoIterator<Item = (u64, &'a str, &'a str)>,
) -> Option<u64> {
    if *state != ApplyState::Partial {
        return None;
    }
    rows.into_iter()
        .find(|(_, _, s)| s.to_ascii_lowercase().contains("has read all relay log"))
        .map(|(id, _, _)| id)
}

#[cfg(test)]
#[path = "applied/tests.rs"]
mod tests;
