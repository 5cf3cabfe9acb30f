//! Failover with gigabyte logs on the real lab: the dead master's binlog,
//! or the latest slave's relay log, is about 1 GB, yet only the bytes that
//! are really missing are copied, and the manager's peak memory (VmHWM,
//! read from /proc while it runs) stays under 64 MB. The writer runs, the
//! master is killed with -9, and every acknowledged row is counted on the
//! new master. Heavy (a gigabyte in each host's tmpfs): MariaDB only in CI.

use std::time::{Duration, Instant};

use crate::lab_failover::{assert_no_loss, conf, lag, start_writer, HOSTS};
use crate::manager::Manager;
use crate::util::{fault, lab_dir, lab_lock, repo, slave_status, sql, wait_until};

/// The manager's peak resident memory must stay under this.
const PEAK_LIMIT_KB: u64 = 64 * 1024;

/// About 1 GB of binlog (one file: max_binlog_size is 1G by default): 480
/// times a 1 MiB row inserted and deleted (row format logs both images), so
/// the tables stay empty and only the logs are big.
const BIG_ROUNDS: usize = 480;

/// A fresh lab whose hosts' datadirs can hold the big logs (relay log and
/// the slave's own binlog); rebuilt small again when dropped.
struct BigLab;

impl BigLab {
    fn up(mode: &str) -> BigLab {
        let out = std::process::Command::new("bash")
            .arg(repo().join("scripts/lab/up.sh"))
            .args(["--hosts", "3", "--mode", mode, "--server"])
            .arg(crate::util::lab_server())
            .arg("--dir")
            .arg(lab_dir())
            .env("LAB_DATA_SIZE", "3g")
            .output()
            .expect("run up.sh");
        assert!(
            out.status.success(),
            "up.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        BigLab
    }
}

impl Drop for BigLab {
    fn drop(&mut self) {
        // Give the memory back: the next test gets a normal lab anyway.
        crate::util::rebuild_lab("gtid");
    }
}

/// Writes about 1 GB to db1's binlog and waits until both slaves have it.
fn make_big_binlog() -> u64 {
    let started = Instant::now();
    sql(
        "db1",
        "CREATE TABLE test.big (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB",
    );
    let round = "INSERT INTO test.big VALUES (1, REPEAT('x', 1048576)); \
                 DELETE FROM test.big WHERE id = 1; ";
    for _ in 0..4 {
        sql("db1", &round.repeat(BIG_ROUNDS / 4));
    }
    let pos = sql("db1", "SELECT @@gtid_binlog_pos").trim().to_owned();
    for slave in ["db2", "db3"] {
        let waited = sql(slave, &format!("SELECT MASTER_GTID_WAIT('{pos}', 120)"));
        assert_eq!(waited.trim(), "0", "{slave} did not reach {pos}");
    }
    let status = sql("db1", "SHOW MASTER STATUS");
    let binlog_pos: u64 = status
        .split('\t')
        .nth(1)
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0);
    eprintln!(
        "big binlog: {} MB in {:.1}s ({})",
        binlog_pos >> 20,
        started.elapsed().as_secs_f64(),
        status.trim()
    );
    assert!(binlog_pos > 900 << 20, "the binlog is {binlog_pos} bytes");
    binlog_pos
}

/// The manager's pid: the `ha-manager` process this test started.
fn manager_pid() -> u32 {
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let ppid = rest.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok());
        if comm.ends_with("(ha-manager") && ppid == Some(me) {
            return pid;
        }
    }
    panic!("no ha-manager child of this test is running")
}

/// Polls a process's VmHWM (peak resident set, kB) until it exits; the highest seen.
fn watch_peak(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    })
}

/// The bytes the manager says it copied from the hosts.
fn copied_bytes(log: &str) -> u64 {
    log.lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once(": copied ")?;
            let n = rest.split(' ').next()?;
            // "copied 3 relay log(s), N bytes" or "copied N bytes of ..."
            if rest.contains(" relay log(s), ") {
                rest.split(", ").nth(1)?.split(' ').next()?.parse().ok()
            } else {
                n.parse::<u64>().ok()
            }
        })
        .sum()
}

/// Runs the failover of a killed db1 under the writer, with the manager's
/// peak memory watched; returns (seconds from the fault to its exit, peak kB, log).
fn kill9_failover(writer: &crate::writer::Writer, lagging: &[&str]) -> (f64, u64, String) {
    let mut m = Manager::start(&conf(), &["--exit-after-failover"]);
    let peak = watch_peak(manager_pid());
    lag(writer, lagging, 100);
    let fault_at = Instant::now();
    fault("kill-mysqld", "db1");
    let code = m.wait_exit(120);
    let secs = fault_at.elapsed().as_secs_f64();
    let peak = peak.join().expect("peak watcher");
    let log = m.text();
    assert_eq!(code, 0, "{log}");
    (secs, peak, log)
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn kill9_with_a_1gb_master_binlog_copies_only_the_tail_in_bounded_memory_gtid() {
    let _lab = lab_lock();
    let _big = BigLab::up("gtid");
    let binlog = make_big_binlog();
    let writer = start_writer();
    // Rows from here on reach no slave: only the dead master's binlog has them.
    let (secs, peak_kb, log) = kill9_failover(&writer, &["db2", "db3"]);
    assert!(
        log.contains("saved") && log.contains("events of binlog"),
        "{log}"
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
    let copied = copied_bytes(&log);
    eprintln!(
        "BIGLOG kill9-1gb-binlog-gtid: fault→exit {secs:.2}s, manager peak RSS {} MB, \
         copied {copied} bytes of a {} MB binlog, {} rows acknowledged",
        peak_kb >> 10,
        binlog >> 20,
        acks.rows.len()
    );
    assert!(
        peak_kb < PEAK_LIMIT_KB,
        "the manager's peak RSS was {peak_kb} kB"
    );
    assert!(
        copied > 0 && copied < 16 << 20,
        "copied {copied} bytes of the {binlog}-byte binlog:\n{log}"
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn filepos_with_a_1gb_relay_log_gives_the_lagging_slave_its_diff_in_bounded_memory() {
    let _lab = lab_lock();
    let _big = BigLab::up("filepos");
    let binlog = make_big_binlog();
    let writer = start_writer();
    // db3 stops receiving: db2 (the latest) holds in its ~1 GB relay log the
    // rows db3 lacks.
    let (secs, peak_kb, log) = kill9_failover(&writer, &["db3"]);
    assert!(log.contains("file/position mode"), "{log}");
    assert!(
        log.contains("Saved a relay-log difference to "),
        "the report names the relay-log difference db3 was given:\n{log}"
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
    assert!(
        slave_status("db3").contains("Master_Host: 198.18.0.12"),
        "db3 follows the new master"
    );
    let copied = copied_bytes(&log);
    eprintln!(
        "BIGLOG filepos-1gb-relay: fault→exit {secs:.2}s, manager peak RSS {} MB, \
         copied {copied} bytes (relay log of about {} MB), {} rows acknowledged",
        peak_kb >> 10,
        binlog >> 20,
        acks.rows.len()
    );
    assert!(
        peak_kb < PEAK_LIMIT_KB,
        "the manager's peak RSS was {peak_kb} kB"
    );
    assert!(
        copied > 0 && copied < 16 << 20,
        "copied {copied} bytes:\n{log}"
    );
}
