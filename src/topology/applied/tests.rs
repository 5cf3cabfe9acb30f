//! Table tests for the applied-ness rule.

use super::*;
use crate::topology::fixture::replica_status;
use crate::topology::gtid::{GtidSet, MariaGtidPos};
use crate::topology::status::MariaUsingGtid;

const A: &str = "mysql-bin.000003:1000";
const B: &str = "mysql-bin.000003:5000";
const C: &str = "mysql-bin.000004:120";

fn maria(slave_pos: &str) -> GtidFacts {
    let p = MariaGtidPos::parse(slave_pos).unwrap();
    GtidFacts::MariaDb {
        binlog_pos: p.clone(),
        slave_pos: p.clone(),
        current_pos: p,
        binlog_state: Default::default(),
    }
}

fn mysql(executed: &str) -> GtidFacts {
    GtidFacts::MySql {
        enabled: true,
        executed: GtidSet::parse(executed).unwrap(),
    }
}

const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

#[test]
fn applied_rule_table() {
    use ApplyState::*;
    use SqlActivity::*;
    let filepos = maria("");
    #[rustfmt::skip]
    let cases: Vec<(&str, ReplicaStatus, GtidFacts, SqlActivity, ApplyState)> = vec![
        ("exec = read: done", replica_status(1, B, B), filepos.clone(), ReadAllRelayLog, Done),
        ("exec = read, SQL busy on the next relay event: still done", replica_status(1, B, B), filepos.clone(), Busy, Done),
        ("exec behind, IO running: applying", replica_status(1, B, A), filepos.clone(), Busy, Applying),
        ("exec behind in an older file: applying", replica_status(1, C, A), filepos.clone(), Busy, Applying),
        ("big transaction running, IO stopped: applying, not partial",
            { let mut r = replica_status(1, B, A); r.io = IoState::No; r }, filepos.clone(), Busy, Applying),
        ("IO stopped mid-transaction, SQL read all relay log: partial",
            { let mut r = replica_status(1, B, A); r.io = IoState::No; r }, filepos.clone(), ReadAllRelayLog, Partial),
        ("IO connecting mid-transaction, SQL read all relay log: partial",
            { let mut r = replica_status(1, B, A); r.io = IoState::Connecting; r }, filepos.clone(), ReadAllRelayLog, Partial),
        ("IO running, SQL read all relay log, exec behind: the rest is on its way",
            replica_status(1, B, A), filepos.clone(), ReadAllRelayLog, Applying),
        ("IO stopped, SQL state unknown, exec behind: applying",
            { let mut r = replica_status(1, B, A); r.io = IoState::No; r }, filepos.clone(), Unknown, Applying),
        ("SQL stopped without error (backup job)",
            { let mut r = replica_status(1, B, A); r.sql_running = false; r }, filepos.clone(), Unknown, Stopped),
        ("SQL stopped without error, even at exec = read",
            { let mut r = replica_status(1, B, B); r.sql_running = false; r }, filepos.clone(), Unknown, Stopped),
        ("SQL stopped on an error",
            { let mut r = replica_status(1, B, A); r.sql_running = false; r.last_sql_errno = 1062; r.last_sql_error = "Duplicate entry '7'".into(); r },
            filepos.clone(), Unknown, Failed { errno: 1062, error: "Duplicate entry '7'".into() }),
        ("MariaDB GTID: io_pos executed: done",
            { let mut r = replica_status(1, B, B); r.using_gtid = Some(MariaUsingGtid::SlavePos); r.gtid_io_pos = Some(MariaGtidPos::parse("0-1-40").unwrap()); r },
            maria("0-1-40"), Busy, Done),
        ("MariaDB GTID: positions equal but io_pos not executed yet: applying",
            { let mut r = replica_status(1, B, B); r.using_gtid = Some(MariaUsingGtid::SlavePos); r.gtid_io_pos = Some(MariaGtidPos::parse("0-1-41").unwrap()); r },
            maria("0-1-40"), Busy, Applying),
        ("MariaDB file/position: io_pos ignored",
            { let mut r = replica_status(1, B, B); r.gtid_io_pos = Some(MariaGtidPos::parse("0-1-41").unwrap()); r },
            maria("0-1-40"), Busy, Done),
        ("MySQL GTID: retrieved ⊆ executed: done",
            { let mut r = replica_status(1, B, B); r.retrieved_gtid_set = Some(GtidSet::parse(&format!("{U1}:5-9")).unwrap()); r },
            mysql(&format!("{U1}:1-9")), Busy, Done),
        ("MySQL GTID: retrieved not executed: applying",
            { let mut r = replica_status(1, B, B); r.retrieved_gtid_set = Some(GtidSet::parse(&format!("{U1}:5-10")).unwrap()); r },
            mysql(&format!("{U1}:1-9")), Busy, Applying),
    ];
    for (name, r, gtid, sql, want) in cases {
        assert_eq!(applied(&r, &gtid, sql), want, "{name}");
    }
}

/// (case, process list `(COMMAND, STATE)` rows, activity)
type ActivityCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, SqlActivity);

#[test]
fn sql_activity_from_states() {
    let read_all = "Slave has read all relay log; waiting for more updates";
    let io = ("Slave_IO", "Waiting for master to send event");
    #[rustfmt::skip]
    let cases: Vec<ActivityCase<'_>> = vec![
        ("no rows", vec![], SqlActivity::Unknown),
        ("only the IO thread", vec![io], SqlActivity::Unknown),
        ("MariaDB SQL thread idle", vec![io, ("Slave_SQL", read_all)], SqlActivity::ReadAllRelayLog),
        ("MySQL 8 coordinator idle, workers idle",
            vec![("Connect", "Waiting for source to send event"),
                 ("Connect", "Replica has read all relay log; waiting for more updates"),
                 ("Connect", "Waiting for an event from Coordinator")], SqlActivity::ReadAllRelayLog),
        ("MySQL 8 coordinator idle, a worker applying",
            vec![("Connect", "Replica has read all relay log; waiting for more updates"),
                 ("Connect", "Applying batch of row changes (write)")], SqlActivity::Busy),
        ("MariaDB SQL thread writing rows",
            vec![io, ("Slave_SQL", "Write_rows_log_event::write_row(-1) on table `t`")], SqlActivity::Busy),
        ("MariaDB parallel: SQL idle, worker busy",
            vec![("Slave_SQL", read_all), ("Slave_worker", "Waiting for work from SQL thread"),
                 ("Slave_worker", "Update_rows_log_event::find_row(-1)")], SqlActivity::Busy),
    ];
    for (name, rows, want) in cases {
        assert_eq!(sql_activity(rows), want, "{name}");
    }
}

#[test]
fn only_a_partial_slave_has_a_stuck_sql_thread_to_kill() {
    let threads = [
        (
            14u64,
            "Query",
            "Replica has read all relay log; waiting for more updates",
        ),
        (15, "Query", "Waiting for an event from Coordinator"),
        (101, "Connect", "Waiting for source to send event"),
    ];
    type Threads<'a> = &'a [(u64, &'a str, &'a str)];
    #[rustfmt::skip]
    let cases: Vec<(&str, ApplyState, Threads<'_>, Option<u64>)> = vec![
        ("partial: the coordinator that read all relay log", ApplyState::Partial, &threads, Some(14)),
        ("partial, MySQL 5.7 wording", ApplyState::Partial,
            &[(9, "Connect", "Slave has read all relay log; waiting for more updates")], Some(9)),
        ("partial, but no such thread listed", ApplyState::Partial, &threads[1..], None),
        ("done: a stop answers at once", ApplyState::Done, &threads, None),
        ("applying: a stop lets it finish its transaction", ApplyState::Applying, &threads, None),
        ("stopped: nothing to kill", ApplyState::Stopped, &threads, None),
    ];
    for (name, state, rows, want) in cases {
        assert_eq!(
            stuck_sql_thread(&state, rows.iter().copied()),
            want,
            "{name}"
        );
    }
}
