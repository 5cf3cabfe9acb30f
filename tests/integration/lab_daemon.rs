//! `ha-manager start` on the real lab, around the failover rather than in it:
//! a failover that changed nothing sends the daemon back to monitoring, and one
//! cluster never gets two managers, whatever their config files are called.

use crate::lab_failover::{assert_no_loss, conf, fresh_lab, start_writer, HOSTS};
use crate::manager::Manager;
use crate::util::{fault, ha_manager, lab_dir, lab_lock, wait_until, Restore};

const DBS: [&str; 3] = ["db1", "db2", "db3"];

/// The manager's first good ping of a monitoring round says this.
const MONITORING: &str = "succeeded, waiting until MySQL doesn't respond";

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn a_manager_side_blip_changes_nothing_and_the_daemon_keeps_monitoring_then_fails_over() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &["--exit-after-failover"]);
    // The manager's own network goes: every host drops its traffic to the manager.
    // From where the manager stands the master is dead, and so is every slave.
    let _heal = Restore(|| {
        for db in DBS {
            fault("heal-manager", db);
        }
    });
    for db in DBS {
        fault("cut-manager", db);
    }
    m.wait_log("The failover stopped before changing anything", 120);
    for db in DBS {
        fault("heal-manager", db);
    }
    let log = m.text();
    assert!(
        log.contains("Monitoring 198.18.0.11(198.18.0.11:3306) again with fresh misses"),
        "{log}"
    );
    // Monitoring again: a new round's first good ping, the daemon still running,
    // status PING_OK.
    wait_until("a new monitoring round", 60, || {
        m.text().matches(MONITORING).count() >= 2
    });
    assert!(m.is_running(), "{}", m.text());
    wait_until("status PING_OK", 15, || {
        ha_manager(&["status", "--conf", &conf()]).code == 0
    });
    assert!(
        !lab_dir().join("manager/app1.failover.error").exists(),
        "a failover that changed nothing leaves no error marker"
    );
    for host in ["db2", "db3"] {
        let slave = crate::util::slave_status(host);
        assert!(
            slave.contains("Master_Host: 198.18.0.11") && slave.contains("Slave_IO_Running: Yes"),
            "{host} still replicates from db1:\n{slave}"
        );
    }
    // Now the master dies for real: the same daemon fails over.
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(90), 0, "{}", m.text());
    assert!(m.text().contains("completed successfully"), "{}", m.text());
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let acks = writer.finish();
    eprintln!(
        "blip-then-kill9: {} rows acknowledged; write gap {:?}",
        acks.rows.len(),
        acks.longest_gap()
    );
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn a_second_config_file_for_the_same_cluster_cannot_start_a_second_manager() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let mut first = Manager::start(&conf(), &[]);
    // The same servers under another file name, so another application name.
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("same_cluster.cnf");
    std::fs::copy(conf(), &copy).expect("copy the config");
    let mut second = Manager::spawn(&copy.to_string_lossy(), &[], None);
    let code = second.wait_exit(30);
    assert_ne!(code, 0, "{}", second.text());
    let text = second.text();
    assert!(
        text.contains("another ha-manager already manages 198.18.0.11:3306")
            && text.contains("ha-manager.server.198.18.0.11_3306.lock"),
        "{text}"
    );
    assert!(first.is_running(), "the first manager is untouched");
    // A lock file deleted under the running manager: it stops rather than run
    // beside a manager that could now start.
    std::fs::remove_file(lab_dir().join("manager/app1.lock")).expect("rm lock");
    assert_ne!(first.wait_exit(30), 0, "{}", first.text());
    assert!(
        first.text().contains("app1.lock was deleted"),
        "{}",
        first.text()
    );
}
