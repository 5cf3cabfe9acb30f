//! Failover on the real lab, the way a DBA would prove it: a writer running,
//! a real fault, then every acknowledged row counted on the new master and
//! the surviving servers compared.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::util::{fault, ha_manager, lab_conf, lab_lock, slave_status, sql, wait_until};
use crate::writer::{Acks, Writer};

pub(crate) const HOSTS: [&str; 3] = ["198.18.0.11", "198.18.0.12", "198.18.0.13"];

/// A fresh lab for each failover test (about 3 s), so no test inherits another's topology.
pub(crate) fn fresh_lab(mode: &str) {
    crate::util::rebuild_lab(mode);
}

pub(crate) fn start_writer() -> Writer {
    let writer = Writer::start(HOSTS.iter().map(|h| h.to_string()).collect(), 1);
    wait_until("the writer's first 200 rows", 30, || {
        writer.acks().rows.len() >= 200
    });
    writer
}

pub(crate) fn ids_on(host: &str) -> BTreeSet<u64> {
    sql(host, "SELECT id FROM test.t")
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

pub(crate) fn checksum(host: &str) -> String {
    sql(host, "CHECKSUM TABLE test.t").trim().to_owned()
}

/// Every acknowledged row is on `new_master`, and `others` hold exactly the same table.
pub(crate) fn assert_no_loss(acks: &Acks, new_master: &str, others: &[&str]) {
    let present = ids_on(new_master);
    let missing: Vec<u64> = acks
        .ids()
        .into_iter()
        .filter(|id| !present.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged rows missing on the new master {new_master}: {:?}",
        missing.len(),
        acks.rows.len(),
        &missing[..missing.len().min(20)]
    );
    for other in others {
        wait_until(
            &format!("{other} to catch up with {new_master}"),
            30,
            || checksum(other).split('\t').nth(1) == checksum(new_master).split('\t').nth(1),
        );
    }
}

/// Stops the IO thread of `slaves`, then waits until the writer has `rows` more
/// acknowledged rows that those slaves never received. Returns how many rows
/// were acknowledged when they stopped.
pub(crate) fn lag(writer: &Writer, slaves: &[&str], rows: usize) -> usize {
    for slave in slaves {
        fault("stop-io", slave);
    }
    let before = writer.acks().rows.len();
    wait_until(
        &format!("{rows} rows {} lack", slaves.join(", ")),
        30,
        || writer.acks().rows.len() >= before + rows,
    );
    before
}

pub(crate) fn conf() -> String {
    lab_conf().to_string_lossy().into_owned()
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn manual_failover_after_kill9_loses_no_acknowledged_row_gtid() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    // Rows written from now on reach no slave: only the dead master's binlog has them.
    let before = lag(&writer, &["db2", "db3"], 100);
    fault("kill-mysqld", "db1");
    let unreplicated = writer.acks().rows.len() - before;

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
    assert!(
        unreplicated >= 100,
        "{unreplicated} rows were written after the IO threads stopped"
    );
    eprintln!(
        "kill -9 failover: {} rows acknowledged, {unreplicated} of them on no slave; longest write gap {:?}",
        acks.rows.len(),
        acks.longest_gap()
    );
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
    assert!(
        slave_status("db3").contains("Master_Host: 198.18.0.12"),
        "db3 follows the new master"
    );
    // Recorded as the daemon records its failovers.
    let workdir = crate::util::lab_dir().join("manager");
    assert!(
        run.stderr.contains("----- Failover Report -----"),
        "{}",
        run.all()
    );
    assert!(
        workdir.join("app1.failover.complete").exists()
            && !workdir.join("app1.failover.error").exists()
    );
    let journal = std::fs::read_to_string(workdir.join("app1.journal.jsonl")).expect("journal");
    assert!(journal.contains("\"mode\":\"manual\""), "{journal}");
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn manual_failover_refuses_to_run_over_an_unfinished_one() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    fault("kill-mysqld", "db1");
    let marker = crate::util::lab_dir().join("manager/app1.failover.error");
    std::fs::write(&marker, "failover from db1 in progress\n").expect("marker");
    let conf_path = conf();
    let switch = |extra: &[&str]| {
        let mut args = vec![
            "switch",
            "--conf",
            &conf_path,
            "--master-state",
            "dead",
            "--yes",
        ];
        args.extend_from_slice(extra);
        ha_manager(&args)
    };
    let run = switch(&[]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains("a previous failover did not finish"),
        "{}",
        run.all()
    );
    assert!(
        slave_status("db2").contains("Master_Host: 198.18.0.11"),
        "nothing was changed"
    );
    let run = switch(&["--ignore-last-failover"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!marker.exists());
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn manual_failover_to_a_lagging_slave_brings_it_fully_up_to_date() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    // db3 falls behind; db2 stays the latest slave.
    lag(&writer, &["db3"], 300);
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
        run.stderr.contains("caught up from 198.18.0.12"),
        "{}",
        run.all()
    );
    wait_until("writes on db3", 30, || {
        writer.acks().first_on(HOSTS[2]).is_some()
    });
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[2], &[HOSTS[1]]);
    assert!(
        slave_status("db2").contains("Master_Host: 198.18.0.13"),
        "db2 follows db3"
    );
}
