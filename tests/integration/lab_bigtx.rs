//! A big transaction only the dead master's binlog holds (MHA class D, large
//! transactions): decoded for the apply it is one statement larger than the
//! servers' default `max_allowed_packet` (16 MiB on MariaDB, 64 MiB on
//! MySQL), so the apply must raise it (as MHA does) and put it back. The
//! writer runs, the slaves stop receiving, the master commits ~60 MB in one
//! transaction and is killed with -9; every acknowledged row and the whole
//! transaction must be on the new master, exactly once.

use std::time::Duration;

use crate::lab_failover::{assert_no_loss, conf, fresh_lab, lag, start_writer, HOSTS};
use crate::util::{fault, ha_manager, lab_is_mysql, lab_lock, sql, wait_until};

/// Rows of the big transaction, ~1 KB each.
const BIG_ROWS: u64 = 60_000;

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_large_trx_only_in_the_dead_masters_binlog_is_applied_once_gtid() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    sql(
        "db1",
        "CREATE TABLE test.bigtx (id INT PRIMARY KEY, b VARCHAR(1000)) ENGINE=InnoDB",
    );
    let default_packet = sql("db2", "SELECT @@GLOBAL.max_allowed_packet")
        .trim()
        .to_owned();
    let writer = start_writer();
    // Everything from here on reaches no slave: only the dead master has it.
    lag(&writer, &["db2", "db3"], 50);
    let big = if lab_is_mysql() {
        format!(
            "SET SESSION cte_max_recursion_depth = {BIG_ROWS}; INSERT INTO test.bigtx \
             WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {BIG_ROWS}) \
             SELECT n, REPEAT('y', 1000) FROM s"
        )
    } else {
        // MariaDB's sequence engine.
        format!(
            "INSERT INTO test.bigtx SELECT seq, REPEAT('y', 1000) FROM test.seq_1_to_{BIG_ROWS}"
        )
    };
    sql("db1", &big);
    fault("kill-mysqld", "db1");

    let run = ha_manager(&[
        "switch",
        "--conf",
        &conf(),
        "--master-state",
        "dead",
        "--yes",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("saved") && run.stderr.contains("events of binlog"),
        "{}",
        run.all()
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(500));
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
    let whole = format!("{BIG_ROWS}\t{}", BIG_ROWS * 1000);
    let sums = "SELECT COUNT(*), SUM(LENGTH(b)) FROM test.bigtx";
    wait_until(
        "db3 to have the big transaction from the new master",
        60,
        || sql("db3", sums).trim() == whole,
    );
    for host in ["db2", "db3"] {
        let count = sql(host, sums);
        assert_eq!(
            count.trim(),
            whole,
            "{host}: the big transaction, whole and once"
        );
        // Put back after the apply.
        assert_eq!(
            sql(host, "SELECT @@GLOBAL.max_allowed_packet").trim(),
            default_packet,
            "{host}: max_allowed_packet restored"
        );
    }
}
