//! Server-dialect behaviour on the real lab, on whichever server it runs
//! (`up.sh --server`): what a dead-master failover keeps of GTID replication.

use std::time::Duration;

use crate::lab_failover::{assert_no_loss, conf, fresh_lab, lag, start_writer, HOSTS};
use crate::manager::Manager;
use crate::util::{fault, lab_is_mysql, lab_lock, lab_server, slave_status, wait_until};

/// Two replicas replicating by GTID, kill -9 of the master: the failover must
/// run in GTID mode and repoint the other replica by GTID (MySQL
/// `Auto_Position: 1`, MariaDB `Using_Gtid: Slave_Pos`). Before issue 12 the
/// mode came from the dead master's (missing) `gtid_mode`, so on MySQL this
/// ran in file/position mode and left db3 on `Auto_Position: 0`.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn dead_master_failover_keeps_gtid_with_two_replicas() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &["--exit-after-failover"]);
    m.wait_log("Replication mode: GTID", 30);
    lag(&writer, &["db2", "db3"], 50);
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    let log = m.text();
    assert!(
        log.contains("2 alive slave(s) of 198.18.0.11(198.18.0.11:3306); GTID mode"),
        "{}: the dead-master failover runs in GTID mode:\n{log}",
        lab_server()
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
    let status = slave_status("db3");
    let by_gtid = if lab_is_mysql() {
        "Auto_Position: 1"
    } else {
        "Using_Gtid: Slave_Pos"
    };
    assert!(
        status.contains("Master_Host: 198.18.0.12") && status.contains(by_gtid),
        "{}: db3 follows the new master with {by_gtid}:\n{status}",
        lab_server()
    );
}
