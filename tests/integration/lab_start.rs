//! `ha-manager start` begun after the fault, as most of MHA's scenarios run
//! `masterha_manager`, and its start-up refusals, on the real lab. Each test is
//! named after the MHA scenario (`tests/t/*.sh` in mha4mysql-manager) it stands for.

use std::time::Duration;

use crate::lab_failover::{assert_no_loss, conf, fresh_lab, lag, start_writer, HOSTS};
use crate::manager::Manager;
use crate::util::{
    fault, ha_manager, lab_conf, lab_dir, lab_ignore_db_sql, lab_lock, lab_reset_replica_all,
    lab_start_replica, lab_stop_replica, pristine_lab, slave_status, sql, variant, wait_until,
    Restore,
};

const DB2: &str = "198.18.0.12(198.18.0.12:3306)";
const DB3: &str = "198.18.0.13(198.18.0.13:3306)";

/// `start --exit-after-failover EXTRA...` on `conf`, waited for; its exit code and log.
fn start_and_wait(conf: &str, extra: &[&str], secs: u64) -> (i32, String) {
    let mut args = vec!["--exit-after-failover"];
    args.extend_from_slice(extra);
    let mut m = Manager::spawn(conf, &args, None);
    let code = m.wait_exit(secs);
    (code, m.text())
}

/// The failover that `start` ran after finding the master dead: done, marked,
/// every acknowledged row on db2 and db3 identical.
fn assert_failed_over_without_loss(name: &str, writer: crate::writer::Writer, log: &str) {
    assert!(
        log.contains("is unreachable, and every reachable slave replicates from it"),
        "start found the master dead:\n{log}"
    );
    assert!(
        log.contains("Evidence: every reachable replica lost the master"),
        "the monitor's rule confirmed the death:\n{log}"
    );
    assert!(log.contains("completed successfully"), "{log}");
    assert!(
        lab_dir().join("manager/app1.failover.complete").exists()
            && !lab_dir().join("manager/app1.failover.error").exists(),
        "a finished failover leaves failover.complete and no failover.error"
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    eprintln!(
        "{name}: {} rows acknowledged; write gap {:?}",
        acks.rows.len(),
        acks.longest_gap()
    );
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
}

/// MHA `t_normal_crash.sh`: the master is killed with -9, then the manager
/// starts, confirms the death and fails over; nothing acknowledged is lost.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_normal_crash() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    fault("kill-mysqld", "db1");
    let (code, log) = start_and_wait(&conf(), &[], 120);
    assert_eq!(code, 0, "{log}");
    assert_failed_over_without_loss("t_normal_crash", writer, &log);
}

/// MHA `t_save_master_log.sh`: no slave has the last rows (their IO threads are
/// stopped), the master is killed with -9, then the manager starts: the dead
/// master's binlog tail is saved over SSH and applied, nothing acknowledged is lost.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_save_master_log() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    lag(&writer, &["db2", "db3"], 100);
    fault("kill-mysqld", "db1");
    let (code, log) = start_and_wait(&conf(), &[], 120);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("events of binlog"),
        "the dead master's binlog was saved:\n{log}"
    );
    assert_failed_over_without_loss("t_save_master_log", writer, &log);
}

/// Not an MHA scenario (MHA would fail over here): only the manager's path to
/// the master is cut when `start` begins. Its slaves still replicate from it,
/// so `start` refuses to fail over, says why, and changes nothing.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn cut_manager_then_start_refuses_to_fail_over() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    let _heal = Restore(|| fault("heal-manager", "db1"));
    fault("cut-manager", "db1");
    let (code, log) = start_and_wait(&conf(), &[], 120);
    assert_ne!(code, 0, "{log}");
    assert!(
        log.contains("master is reachable from replicas"),
        "the replicas' view is given:\n{log}"
    );
    assert!(
        log.contains("only the manager's path to it is cut"),
        "the refusal says why:\n{log}"
    );
    assert!(!log.contains("Phase 1: Configuration Check"), "{log}");
    assert!(!lab_dir().join("manager/app1.failover.complete").exists());
    fault("heal-manager", "db1");
    for host in ["db2", "db3"] {
        let slave = slave_status(host);
        assert!(
            slave.contains("Master_Host: 198.18.0.11") && slave.contains("Slave_IO_Running: Yes"),
            "{host} still replicates from db1:\n{slave}"
        );
        assert_eq!(sql(host, "SELECT @@read_only").trim(), "1", "{host}");
    }
    // The writer never stopped writing on db1; db2 and db3 hold every row.
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[0], &[HOSTS[1], HOSTS[2]]);
}

/// MHA `t_ignore_nostart.sh` and `t_ignore_start.sh`: db3 has `ignore_fail=1`
/// and is down. `start` refuses without `--ignore-fail-on-start` (with the
/// master alive, and again with it dead); with it, it fails over to db2 and
/// leaves db3 out.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_ignore_nostart_and_t_ignore_start() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let dir = tempfile::tempdir().unwrap();
    let ignore = variant(&lab_conf(), dir.path(), |t| {
        t.replace("[server3]", "[server3]\nignore_fail=1")
    });
    let ignore = ignore.to_str().unwrap();
    let writer = start_writer();
    fault("stop-mysqld", "db3");
    let refused = |log: &str| {
        log.lines().any(|l| {
            l.contains("[error]")
                && l.contains(DB3)
                && l.contains("start-up needs every server")
                && l.contains("--ignore-fail-on-start")
        })
    };
    let (code, log) = start_and_wait(ignore, &[], 60);
    assert_ne!(code, 0, "{log}");
    assert!(refused(&log), "master alive: refused, naming db3:\n{log}");
    fault("kill-mysqld", "db1");
    let (code, log) = start_and_wait(ignore, &[], 60);
    assert_ne!(code, 0, "{log}");
    assert!(refused(&log), "master dead: refused, naming db3:\n{log}");
    assert!(!log.contains("Phase 1: Configuration Check"), "{log}");
    let (code, log) = start_and_wait(ignore, &["--ignore-fail-on-start"], 120);
    eprintln!("t_ignore_start: exit code {code}");
    // db3 (ignore_fail=1, down) is left behind: not a partial failover.
    assert_eq!(code, 0, "done, db3 left behind:\n{log}");
    assert!(
        log.contains("is unreachable, and every reachable slave replicates from it"),
        "{log}"
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[]);
}

/// MHA `t_filter_incorrect.sh`: one slave's replication filter differs from
/// the others'; check-repl and `start` refuse, naming it.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_filter_incorrect() {
    let _lab = pristine_lab();
    let set = |value: &str| {
        sql(
            "db3",
            &format!(
                "{}; {}; {}",
                lab_stop_replica(),
                lab_ignore_db_sql(value),
                lab_start_replica()
            ),
        );
    };
    let _restore = Restore(|| set(""));
    set("aaa");
    let wanted = |text: &str| {
        text.lines().any(|l| {
            l.contains("[error]")
                && l.contains(DB3)
                && l.contains(&format!("replication filters differ from {DB2}"))
                && l.contains("Replicate_Ignore_DB='aaa'")
        })
    };
    let repl = ha_manager(&["check-repl", "--conf", &conf()]);
    assert_ne!(repl.code, 0, "{}", repl.all());
    assert!(wanted(&repl.stdout), "{}", repl.all());
    let (code, log) = start_and_wait(&conf(), &[], 60);
    assert_ne!(code, 0, "{log}");
    assert!(wanted(&log) && log.contains("Refusing to monitor"), "{log}");
}

/// MHA `t_slave_incorrect.sh`: a configured server that is neither the master
/// nor replicating (`RESET SLAVE ALL`); check-repl and `start` refuse, naming it.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_slave_incorrect() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    sql(
        "db3",
        &format!("{}; {}", lab_stop_replica(), lab_reset_replica_all()),
    );
    let named = |text: &str| {
        text.lines().any(|l| {
            l.contains("[error]")
                && l.contains(DB3)
                && l.contains("several reachable servers replicate from no one")
        })
    };
    let repl = ha_manager(&["check-repl", "--conf", &conf()]);
    assert_ne!(repl.code, 0, "{}", repl.all());
    assert!(named(&repl.stdout), "{}", repl.all());
    let (code, log) = start_and_wait(&conf(), &[], 60);
    assert_ne!(code, 0, "{log}");
    assert!(named(&log) && log.contains("Refusing to monitor"), "{log}");
    // And with the master dead too (MHA: "before and after the kill").
    fault("kill-mysqld", "db1");
    let (code, log) = start_and_wait(&conf(), &[], 60);
    assert_ne!(code, 0, "{log}");
    assert!(!log.contains("Phase 1: Configuration Check"), "{log}");
}

/// MHA `t_conf.sh`: a config naming no master (`_err1`: every server is a
/// slave of an unconfigured host) or only the master (`_err2`); check-repl
/// and `start` refuse both.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_conf() {
    let _lab = pristine_lab();
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(lab_conf()).unwrap();
    let (head, servers) = text.split_once("[server1]").unwrap();
    let (master_block, slaves) = servers.split_once("[server2]").unwrap();
    let err1 = dir.path().join("err1.cnf");
    std::fs::write(&err1, format!("{head}[server2]{slaves}")).unwrap();
    let err2 = dir.path().join("err2.cnf");
    std::fs::write(&err2, format!("{head}[server1]{master_block}")).unwrap();
    let cases = [
        (
            &err1,
            "every reachable server replicates from 198.18.0.11:3306, which is not in the configuration",
        ),
        (&err2, "the master has no reachable slave to fail over to"),
    ];
    for (conf, want) in cases {
        let conf = conf.to_str().unwrap();
        let repl = ha_manager(&["check-repl", "--conf", conf]);
        assert_ne!(repl.code, 0, "{conf}: {}", repl.all());
        assert!(repl.stdout.contains(want), "{conf}: {}", repl.all());
        let (code, log) = start_and_wait(conf, &[], 60);
        assert_ne!(code, 0, "{conf}: {log}");
        assert!(
            log.contains(want) && log.contains("Refusing to monitor"),
            "{conf}: {log}"
        );
    }
}
