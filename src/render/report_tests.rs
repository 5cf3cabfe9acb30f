//! Golden-text tests of the failover report.

use super::*;
use crate::journal::{FailureKind, HookRan, LostRange, SlaveOutcome, SwitchPositions};
use chrono::{DateTime, TimeZone, Utc};

fn db(n: u8) -> HostRef {
    HostRef::new(format!("db{n}"), format!("198.18.0.1{n}"), 3306)
}

fn at(sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, sec)
        .single()
        .expect("valid time")
}

/// A non-GTID automatic failover of db1 to db2 with slaves db3 and db4, all OK.
fn success_facts() -> Facts {
    Facts {
        app: "app1".into(),
        mode: Mode::Automatic,
        gtid: false,
        manager_host: "mgr1".into(),
        manager_log: Some("/var/log/ha/app1.log".into()),
        dead_master: Some(db(1)),
        detection: None,
        saved_binlog: None,
        saved_diffs: Vec::new(),
        new_master: Some(db(2)),
        latest_slave: Some(db(2)),
        ip_stop: Some(HookRan::exited(0)),
        shutdown: None,
        new_master_recovered: true,
        ip_start: Some(HookRan::exited(0)),
        slaves: vec![
            SlaveOutcome {
                host: db(3),
                has_latest_relay_log: true,
                result: SlaveResult::Ok,
            },
            SlaveOutcome {
                host: db(4),
                has_latest_relay_log: false,
                result: SlaveResult::Ok,
            },
        ],
        new_master_reset: Some(true),
        positions: SwitchPositions {
            old_master: Some("mysql-bin.000003:1234".into()),
            old_master_gtid: None,
            new_master: Some("mysql-bin.000001:154".into()),
            new_master_gtid: None,
        },
        possibly_lost: None,
        errant_left: Vec::new(),
        semi_sync: None,
        finished: true,
        stopped_at: None,
        resumed: Vec::new(),
        unmanaged: Vec::new(),
    }
}

fn journal(facts: Facts, entries: Vec<Entry>) -> Journal {
    let mut journal = Journal::new(facts);
    for entry in entries {
        journal.record(entry).expect("no file");
    }
    journal
}

fn failed(sec: u32, phase: Phase, host: &str, action: &str, detail: &str) -> Entry {
    Entry {
        at: at(sec),
        phase,
        host: Some(host.into()),
        action: action.into(),
        result: StepResult::Failed,
        detail: detail.into(),
        kind: None,
    }
}

#[test]
fn full_success() {
    let ok = Entry {
        at: at(1),
        phase: Phase::Shutdown,
        host: None,
        action: "stop IO threads".into(),
        result: StepResult::Ok,
        detail: String::new(),
        kind: None,
    };
    let report = render(&journal(success_facts(), vec![ok]));
    assert_eq!(
        report.subject,
        "Failover report: app1: db1 is down, db2 is new master"
    );
    assert_eq!(
        report.log_text(),
        "
----- Failover Report -----

app1: MySQL Master failover db1(198.18.0.11:3306) to db2(198.18.0.12:3306) succeeded

Master db1(198.18.0.11:3306) is down!

Check ha-manager logs at mgr1:/var/log/ha/app1.log for details.

Started automated(non-interactive) failover.
Invalidated master IP address on db1(198.18.0.11:3306)
The latest slave db2(198.18.0.12:3306) has all relay logs for recovery.
Selected db2(198.18.0.12:3306) as a new master.
db2(198.18.0.12:3306): OK: Applying all logs succeeded.
db2(198.18.0.12:3306): OK: Activated master IP address.
db3(198.18.0.13:3306): This host has the latest relay log events.
db3(198.18.0.13:3306): OK: Applying all logs succeeded. Slave started, replicating from db2(198.18.0.12:3306)
db4(198.18.0.14:3306): OK: Applying all logs succeeded. Slave started, replicating from db2(198.18.0.12:3306)
db2(198.18.0.12:3306): Resetting slave info succeeded.
Master failover to db2(198.18.0.12:3306) completed successfully.

Binlog positions at the switch:
  db1(198.18.0.11:3306) (old master), last position the slaves received: mysql-bin.000003:1234
  db2(198.18.0.12:3306) (new master), position for CHANGE MASTER: mysql-bin.000001:154
"
    );
    assert_eq!(
        report.hosts,
        ReportHosts {
            orig_master: "db1".into(),
            new_master: Some("db2".into()),
            new_slaves: vec!["db3".into(), "db4".into()],
        }
    );
    assert!(report
        .mail_text()
        .starts_with("app1: MySQL Master failover db1"));
}

#[test]
fn one_slave_lost() {
    // Exit code 10 of the whole failover: new master up, db4 not recovered.
    let mut facts = success_facts();
    facts.slaves[1].result = SlaveResult::Lost {
        reason: "Applying logs failed.".into(),
        kind: None,
    };
    facts.new_master_reset = None;
    let entries = vec![failed(
        40,
        Phase::SlavesRecovery,
        "db4(198.18.0.14:3306)",
        "apply relay-log diff",
        "mysql exited 1: ERROR 1062 (23000): Duplicate entry '7' for key 'PRIMARY'",
    )];
    let report = render(&journal(facts, entries));
    assert_eq!(
        report.subject,
        "Failover report: app1: db1 is down, db2 is new master, 1 slave not recovered"
    );
    assert_eq!(
        report.log_text(),
        "
----- Failover Report -----

app1: MySQL Master failover db1(198.18.0.11:3306) to db2(198.18.0.12:3306)

Master db1(198.18.0.11:3306) is down!

Check ha-manager logs at mgr1:/var/log/ha/app1.log for details.

Started automated(non-interactive) failover.
Invalidated master IP address on db1(198.18.0.11:3306)
The latest slave db2(198.18.0.12:3306) has all relay logs for recovery.
Selected db2(198.18.0.12:3306) as a new master.
db2(198.18.0.12:3306): OK: Applying all logs succeeded.
db2(198.18.0.12:3306): OK: Activated master IP address.
db3(198.18.0.13:3306): This host has the latest relay log events.
db3(198.18.0.13:3306): OK: Applying all logs succeeded. Slave started, replicating from db2(198.18.0.12:3306)
db4(198.18.0.14:3306): ERROR: Applying logs failed.
Master failover to db2(198.18.0.12:3306) done, but recovery on slave partially failed.

Binlog positions at the switch:
  db1(198.18.0.11:3306) (old master), last position the slaves received: mysql-bin.000003:1234
  db2(198.18.0.12:3306) (new master), position for CHANGE MASTER: mysql-bin.000001:154

Steps that failed or warned:
  2026-03-01 12:00:40 UTC [Phase 4: Slaves Recovery Phase] db4(198.18.0.14:3306): apply relay-log diff: FAILED: mysql exited 1: ERROR 1062 (23000): Duplicate entry '7' for key 'PRIMARY'
"
    );
    assert_eq!(report.hosts.new_slaves, vec!["db3".to_string()]);
}

#[test]
fn stopped_in_phase_3() {
    let mut facts = success_facts();
    facts.mode = Mode::Manual;
    facts.manager_log = None;
    facts.new_master_recovered = false;
    facts.ip_start = None;
    facts.slaves.clear();
    facts.new_master_reset = None;
    facts.positions.new_master = None;
    facts.finished = false;
    facts.stopped_at = Some(StoppedAt {
        phase: Phase::MasterRecovery,
        step: "apply relay-log diff on db2".into(),
        to_finish: None,
        kind: None,
    });
    let entries = vec![failed(
        30,
        Phase::MasterRecovery,
        "db2(198.18.0.12:3306)",
        "apply relay-log diff",
        "mysqlbinlog: Could not read entry at offset 4",
    )];
    let report = render(&journal(facts, entries));
    assert_eq!(
        report.subject,
        "Failover report: app1: db1 is down, failover FAILED at Phase 3: Master Recovery Phase"
    );
    assert_eq!(
        report.log_text(),
        "
----- Failover Report -----

app1: MySQL Master failover db1(198.18.0.11:3306)

Master db1(198.18.0.11:3306) is down!

Check ha-manager logs at mgr1 for details.

Started manual(interactive) failover.
Invalidated master IP address on db1(198.18.0.11:3306)
The latest slave db2(198.18.0.12:3306) has all relay logs for recovery.
Selected db2(198.18.0.12:3306) as a new master.
Got Error so couldn't continue failover from here.
Stopped at: Phase 3: Master Recovery Phase, step: apply relay-log diff on db2. To finish by hand: db2(198.18.0.12:3306) may be only partly recovered. Make sure it applied all relay logs (SHOW SLAVE STATUS), set read_only=0 on it, move the master IP address to it, point the other slaves at it (CHANGE MASTER to its SHOW MASTER STATUS, or MASTER_AUTO_POSITION=1 with GTID), then remove app1.failover.error from the manager workdir.

Binlog positions at the switch:
  db1(198.18.0.11:3306) (old master), last position the slaves received: mysql-bin.000003:1234

Steps that failed or warned:
  2026-03-01 12:00:30 UTC [Phase 3: Master Recovery Phase] db2(198.18.0.12:3306): apply relay-log diff: FAILED: mysqlbinlog: Could not read entry at offset 4
"
    );
    assert_eq!(report.hosts.new_master, None, "not activated");
}

#[test]
fn binlog_not_saved_shows_the_possibly_lost_range() {
    let mut facts = success_facts();
    facts.ip_stop = Some(HookRan::exited(10));
    facts.shutdown = Some(HookRan {
        code: None,
        note: Some("timed out after 30.0s; its process group was killed".into()),
    });
    facts.possibly_lost = Some(LostRange {
        from_pos: Some("mysql-bin.000003:1234".into()),
        after_gtid: None,
        reason: "SSH to db1 failed: connection timed out".into(),
        to_check: None,
    });
    let report = render(&journal(facts, vec![]));
    assert_eq!(
        report.subject,
        "Failover report: app1: db1 is down, db2 is new master"
    );
    assert_eq!(
        report.body,
        "\
Master db1(198.18.0.11:3306) is down!

Check ha-manager logs at mgr1:/var/log/ha/app1.log for details.

Started automated(non-interactive) failover.
Failed to deactivate master IP with return code 10:0
Failed to execute shutdown_script (timed out after 30.0s; its process group was killed)
The latest slave db2(198.18.0.12:3306) has all relay logs for recovery.
Selected db2(198.18.0.12:3306) as a new master.
db2(198.18.0.12:3306): OK: Applying all logs succeeded.
db2(198.18.0.12:3306): OK: Activated master IP address.
db3(198.18.0.13:3306): This host has the latest relay log events.
db3(198.18.0.13:3306): OK: Applying all logs succeeded. Slave started, replicating from db2(198.18.0.12:3306)
db4(198.18.0.14:3306): OK: Applying all logs succeeded. Slave started, replicating from db2(198.18.0.12:3306)
db2(198.18.0.12:3306): Resetting slave info succeeded.
Master failover to db2(198.18.0.12:3306) completed successfully.

Binlog positions at the switch:
  db1(198.18.0.11:3306) (old master), last position the slaves received: mysql-bin.000003:1234
  db2(198.18.0.12:3306) (new master), position for CHANGE MASTER: mysql-bin.000001:154

Transactions that may be lost: events on db1(198.18.0.11:3306) after mysql-bin.000003:1234 to the end of its binary log; they could not be saved (SSH to db1 failed: connection timed out). To check once db1's disk is readable: mysqlbinlog --start-position=1234 mysql-bin.000003 <and any later binlog files>, compare with the new master and apply what is missing by hand.
"
    );
}

#[test]
fn gtid_failover_uses_mhas_gtid_wording_and_gtid_advice() {
    let mut facts = success_facts();
    facts.gtid = true;
    facts.slaves.truncate(1);
    facts.positions = SwitchPositions {
        old_master: None,
        old_master_gtid: Some("0-11-500".into()),
        new_master: Some("mysql-bin.000001:154".into()),
        new_master_gtid: Some("0-11-500".into()),
    };
    facts.possibly_lost = Some(LostRange {
        from_pos: None,
        after_gtid: Some("0-11-500".into()),
        reason: "SSH to db1 failed".into(),
        to_check: None,
    });
    let body = render(&journal(facts, vec![])).body;
    assert!(!body.contains("relay log"), "{body}");
    assert!(body.contains(
        "db3(198.18.0.13:3306): OK: Slave started, replicating from db2(198.18.0.12:3306)\n"
    ));
    assert!(body.contains("position for CHANGE MASTER: mysql-bin.000001:154, GTID 0-11-500\n"));
    // A MariaDB GTID position: mariadb-binlog has no --exclude-gtids.
    assert!(body.contains("mariadb-binlog --start-position='0-11-500' <its binlog files>"));

    // A MySQL GTID set: mysqlbinlog skips what the new master has.
    let mut facts = success_facts();
    facts.gtid = true;
    facts.possibly_lost = Some(LostRange {
        from_pos: None,
        after_gtid: Some("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-500".into()),
        reason: "SSH to db1 failed".into(),
        to_check: None,
    });
    let body = render(&journal(facts, vec![])).body;
    assert!(
        body.contains(
            "mysqlbinlog --exclude-gtids='3E11FA47-71CA-11E1-9E33-C80AA9429562:1-500' <its binlog files>"
        ),
        "{body}"
    );
}

#[test]
fn a_journal_cut_short_by_a_crash_reports_its_last_step() {
    let mut facts = success_facts();
    facts.finished = false;
    facts.new_master_reset = None;
    let last = Entry {
        at: at(50),
        phase: Phase::Cleanup,
        host: Some("db2(198.18.0.12:3306)".into()),
        action: "RESET SLAVE ALL".into(),
        result: StepResult::Info,
        detail: String::new(),
        kind: None,
    };
    let report = render(&journal(facts, vec![last]));
    assert_eq!(
        report.subject,
        "Failover report: app1: db1 is down, failover FAILED at Phase 5: New master cleanup phase"
    );
    assert!(report.headline.ends_with("to db2(198.18.0.12:3306)"));
    assert!(report.body.contains(
        "Stopped at: Phase 5: New master cleanup phase, step: RESET SLAVE ALL (the journal ends here)."
    ));
}

#[test]
fn the_semi_sync_verdict_is_in_the_body() {
    let mut facts = success_facts();
    let line = "Semi-sync had fallen back to asynchronous replication on the dead master since \
                2026-03-01 11:59:00 UTC";
    facts.semi_sync = Some(line.into());
    let report = render(&journal(facts, Vec::new()));
    assert!(report.body.contains(line), "{}", report.body);
    let without = render(&journal(success_facts(), Vec::new()));
    assert!(!without.body.contains("Semi-sync"), "{}", without.body);
}

#[test]
fn switch_mode_subject() {
    let mut facts = success_facts();
    facts.mode = Mode::Switch;
    let report = render(&journal(facts, vec![]));
    assert_eq!(
        report.subject,
        "Switch report: app1: db1 switched, db2 is new master"
    );
    assert!(report
        .headline
        .starts_with("app1: MySQL Master online switch db1(198.18.0.11:3306) to"));
}

#[test]
fn a_switch_that_stopped_says_switch_not_failover() {
    let mut facts = success_facts();
    facts.mode = Mode::Switch;
    facts.finished = false;
    facts.stopped_at = Some(StoppedAt {
        phase: Phase::MasterRecovery,
        step: "waiting for db2 to catch up".into(),
        to_finish: Some("nothing was changed".into()),
        kind: None,
    });
    let report = render(&journal(facts, vec![]));
    assert!(report
        .body
        .contains("Got Error so couldn't continue the switch from here."));
    assert!(!report.body.contains("continue failover"));
}

#[test]
fn the_report_says_why_the_master_was_declared_dead() {
    let mut facts = success_facts();
    facts.detection = Some(Detection {
        at: at(0),
        misses: 3,
        since_first_miss_ms: 6_200,
        ssh: "unreachable".into(),
        replicas: vec!["db2 (IO thread Connecting, error 2003)".into()],
        evidence: "every reachable replica lost the master: db2 (error 2003)".into(),
    });
    let text = render(&journal(facts, vec![])).log_text();
    let down = text.find("is down!").expect("headline");
    let why = text
        .find("Why: declared dead at ")
        .expect("the death evidence is in the report");
    assert!(why > down, "{text}");
    assert!(
        text.contains("after 3 missed pings over 6.2 s; SSH to its host: unreachable."),
        "{text}"
    );
    assert!(
        text.contains("Evidence: every reachable replica lost the master: db2 (error 2003)"),
        "{text}"
    );

    let mut manual = success_facts();
    manual.detection = Some(Detection {
        at: at(0),
        misses: 0,
        since_first_miss_ms: 0,
        ssh: "unknown".into(),
        replicas: vec![],
        evidence: "declared dead by an operator (switch --master-state dead)".into(),
    });
    let text = render(&journal(manual, vec![])).log_text();
    assert!(
        text.contains("Why: declared dead by an operator (switch --master-state dead)."),
        "{text}"
    );
}

#[test]
fn the_report_names_the_kind_of_failure() {
    let mut facts = success_facts();
    facts.slaves[1].result = SlaveResult::Lost {
        reason: "SQL thread still applying (at mysql-bin.000010:99): not done within 300 s".into(),
        kind: Some(FailureKind::Timeout),
    };
    facts.stopped_at = Some(StoppedAt {
        phase: Phase::MasterRecovery,
        step: "db2: setting read_only=0: server error 1045 (28000): Access denied".into(),
        to_finish: None,
        kind: Some(FailureKind::Db),
    });
    let text = render(&journal(facts, vec![])).log_text();
    assert!(
        text.contains("db4(198.18.0.14:3306): ERROR (timed out): SQL thread still applying"),
        "{text}"
    );
    assert!(
        text.contains("Access denied (database error). To finish by hand"),
        "{text}"
    );
}

#[test]
fn the_report_names_each_kept_relay_diff() {
    let mut facts = success_facts();
    facts.saved_diffs =
        vec!["/var/lib/ha-manager/saved_relay_diff_for_db3_3306_20260301120000.binlog".into()];
    let text = render(&journal(facts, vec![])).log_text();
    assert!(
        text.contains(
            "Saved a relay-log difference to \
             /var/lib/ha-manager/saved_relay_diff_for_db3_3306_20260301120000.binlog"
        ),
        "{text}"
    );
}

#[test]
fn the_report_names_the_kept_binlog_tail() {
    let mut facts = success_facts();
    facts.saved_binlog = Some(
        "/var/log/masterha/app1/saved_master_binlog_from_db1_3306_20260301120000.binlog".into(),
    );
    let text = render(&journal(facts, vec![])).log_text();
    assert!(
        text.contains(
            "Saved the dead master's binlog tail to \
             /var/log/masterha/app1/saved_master_binlog_from_db1_3306_20260301120000.binlog"
        ),
        "{text}"
    );
}

#[test]
fn a_resumed_failover_says_so_and_what_was_done_before() {
    let mut facts = success_facts();
    facts.resumed = vec![
        "2026-12-01 12:40:00: resumed an interrupted failover that stopped in \
                          Phase 3: Master Recovery Phase; already done: phase 3.3: db2 elected"
            .into(),
    ];
    let text = render(&journal(facts, Vec::new())).body;
    assert!(
        text.contains("Resumed: 2026-12-01 12:40:00: resumed an interrupted failover")
            && text.contains("already done: phase 3.3: db2 elected"),
        "{text}"
    );
    assert!(!render(&journal(success_facts(), Vec::new()))
        .body
        .contains("Resumed"));
}

#[test]
fn the_report_names_each_third_tier_slave_left_under_its_intermediate_master() {
    let mut facts = success_facts();
    facts.unmanaged = vec![(db(5).label(), db(3).label())];
    let text = render(&journal(facts, vec![])).log_text();
    assert!(
        text.contains(
            "db5(198.18.0.15:3306): third-tier slave, left replicating from db3(198.18.0.13:3306) \
             (multi_tier_slave=1); not recovered by this failover"
        ),
        "{text}"
    );
}

#[test]
fn errant_gtids_left_on_a_repointed_slave_are_listed_with_the_fix() {
    let mut facts = success_facts();
    facts.gtid = true;
    facts.errant_left = vec![crate::journal::ErrantLeft {
        host: db(4),
        gtids: "0-4-3".into(),
        fix: "on db4: STOP SLAVE; RESET MASTER; START SLAVE;".into(),
    }];
    let body = render(&journal(facts, Vec::new())).body;
    let line = body
        .lines()
        .find(|l| l.starts_with("db4(198.18.0.14:3306): WARNING: errant GTIDs"))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        line.contains("0-4-3") && line.contains("RESET MASTER"),
        "{line}"
    );
    let slave_line = body.find("db4(198.18.0.14:3306): OK").expect("slave line");
    assert!(
        body.find("errant GTIDs left").expect("errant line") > slave_line,
        "after the slaves' lines:\n{body}"
    );
    // Without any, nothing is said.
    let body = render(&journal(success_facts(), Vec::new())).body;
    assert!(!body.contains("errant"), "{body}");
}
