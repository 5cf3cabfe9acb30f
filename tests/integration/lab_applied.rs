//! "Applied means applied" on the real lab: a slave whose SQL thread a
//! backup job stopped is monitored with a warning, and at failover its SQL
//! thread is started and waited for, so it loses nothing even as new master.

use std::time::Duration;

use crate::lab_failover::{assert_no_loss, conf, fresh_lab, start_writer, HOSTS};
use crate::manager::Manager;
use crate::util::{fault, ha_manager, lab_lock, slave_status, wait_until};

/// `Slave_SQL_Running` of `host` from `SHOW SLAVE STATUS`.
fn sql_running(host: &str) -> bool {
    slave_status(host).contains("Slave_SQL_Running: Yes")
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn start_monitors_with_a_warning_while_a_slave_sql_thread_is_stopped() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    fault("stop-sql", "db3");
    assert!(!sql_running("db3"));
    let mut m = Manager::start(&conf(), &[]);
    let text = m.text();
    m.kill();
    assert!(
        text.contains("SQL thread is stopped (no error)") && text.contains("198.18.0.13"),
        "{text}"
    );
    let check = ha_manager(&["check-repl", "--conf", &conf()]);
    assert!(
        check.all().contains("SQL thread is stopped (no error)"),
        "{}",
        check.all()
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn failover_to_a_slave_whose_sql_thread_was_stopped_starts_it_and_loses_nothing() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    // A backup job stops db3's SQL thread: it keeps receiving, applies nothing.
    fault("stop-sql", "db3");
    let before = writer.acks().rows.len();
    wait_until("300 rows db3 received but did not apply", 30, || {
        writer.acks().rows.len() >= before + 300
    });
    fault("kill-mysqld", "db1");
    let run = ha_manager(&[
        "switch",
        "--conf",
        &conf(),
        "--master-state",
        "dead",
        "--new-master-host",
        "198.18.0.13",
        "--yes",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains("SQL thread was stopped"),
        "the failover says it started db3's SQL thread: {}",
        run.all()
    );
    wait_until("writes on db3", 30, || {
        writer.acks().first_on(HOSTS[2]).is_some()
    });
    std::thread::sleep(Duration::from_millis(500));
    let acks = writer.finish();
    eprintln!(
        "stopped-SQL failover: {} rows acknowledged, {} written while db3's SQL thread was stopped",
        acks.rows.len(),
        acks.rows.len() - before
    );
    assert_no_loss(&acks, HOSTS[2], &[HOSTS[1]]);
    assert!(
        slave_status("db2").contains("Master_Host: 198.18.0.13"),
        "db2 follows db3"
    );
}
