//! MHA's command-line options and tools on the real lab: `masterha_secondary_check`
//! (our `secondary-check`) on its own and as `secondary_check_script`, and the
//! failover options `--skip-change-master`, `--skip-disable-read-only`,
//! `--ignore-binlog-server-error`, and binlog servers (`[binlogN]`).

use std::time::Duration;

use crate::lab_failover::{checksum, conf, fresh_lab, ids_on, lag, start_writer, HOSTS};
use crate::manager::Manager;
use crate::util::{
    fault, ha_manager, lab_conf, lab_dir, lab_lock, slave_status, sql, variant, wait_until, Restore,
};

/// `--options` for ssh from the manager to the lab's hosts (key, host keys checked).
fn ssh_options() -> String {
    let dir = lab_dir();
    format!(
        "-i {}/id_ed25519 -o UserKnownHostsFile={}/known_hosts",
        dir.display(),
        dir.display()
    )
}

/// `ha-manager secondary-check` from `hosts` to db1, as MHA's users call it.
fn secondary_check(hosts: &[&str]) -> crate::util::Run {
    let options = format!("--options={}", ssh_options());
    let mut args = vec!["masterha_secondary_check"];
    for h in hosts {
        args.extend(["-s", h]);
    }
    args.extend([
        "--user=root",
        &options,
        "--master_host=198.18.0.11",
        "--master_ip=198.18.0.11",
        "--master_port=3306",
        "--timeout=2",
    ]);
    ha_manager(&args)
}

/// MHA's `masterha_secondary_check` exit codes against real routes: 3 when a
/// secondary host reaches the master (also with only the manager's path cut),
/// 2 when a secondary host itself cannot be reached, 0 when no route reaches it.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn masterha_secondary_check_exit_codes_on_real_routes() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let both = [HOSTS[1], HOSTS[2]];
    let r = secondary_check(&both);
    assert_eq!(r.code, 3, "healthy master: {}", r.all());
    assert!(
        r.stdout.contains("Master is reachable from 198.18.0.12!"),
        "{}",
        r.all()
    );

    fault("cut-manager", "db1");
    let _heal = Restore(|| fault("heal-manager", "db1"));
    let r = secondary_check(&both);
    assert_eq!(r.code, 3, "only the manager's path is cut: {}", r.all());
    fault("heal-manager", "db1");

    fault("stop-sshd", "db2");
    let r = secondary_check(&both);
    fault("start-sshd", "db2");
    assert_eq!(r.code, 2, "db2's sshd is down: {}", r.all());
    assert!(
        r.stdout
            .contains("Monitoring server 198.18.0.12 is NOT reachable!"),
        "{}",
        r.all()
    );

    fault("link-down", "db1");
    let _up = Restore(|| fault("link-up", "db1"));
    let r = secondary_check(&both);
    assert_eq!(r.code, 0, "db1 isolated: {}", r.all());
    assert!(
        r.stdout
            .contains("Master is not reachable from 198.18.0.12. OK.")
            && r.stdout
                .contains("Master is not reachable from 198.18.0.13. OK."),
        "{}",
        r.all()
    );
}

/// `secondary_check_script = masterha_secondary_check -s db2 -s db3 ...` pointed
/// at us: the master's host isolated (link cut), both secondary routes fail to
/// reach it, the check exits 0 and the failover runs with no acknowledged row lost.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn secondary_check_script_masterha_secondary_check_link_cut_fails_over() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let dir = tempfile::tempdir().unwrap();
    let line = format!(
        "secondary_check_script={} secondary-check -s {} -s {} --timeout=2 --options=\"{}\"\n",
        env!("CARGO_BIN_EXE_ha-manager"),
        HOSTS[1],
        HOSTS[2],
        ssh_options()
    );
    let conf = variant(&lab_conf(), dir.path(), |t| {
        t.replacen(
            "[server default]\n",
            &format!("[server default]\n{line}"),
            1,
        )
    });
    let conf = conf.to_string_lossy().into_owned();
    let writer = start_writer();
    let mut m = Manager::start(&conf, &["--exit-after-failover"]);
    fault("link-down", "db1");
    let _up = Restore(|| fault("link-up", "db1"));
    m.wait_log("completed successfully", 90);
    let log = m.text();
    assert!(
        log.contains("secondary check says the master is down"),
        "the secondary check decided:\n{log}"
    );
    crate::util::wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    let present = crate::lab_failover::ids_on(HOSTS[1]);
    let on_new: Vec<u64> = acks
        .rows
        .iter()
        .filter(|r| r.1 == HOSTS[1])
        .map(|r| r.0)
        .collect();
    assert!(
        on_new.iter().all(|id| present.contains(id)),
        "rows acknowledged by the new master are on it"
    );
    assert_eq!(m.wait_exit(30), 0, "{log}");
    crate::util::wait_until("db3 to hold what the new master holds", 30, || {
        checksum(HOSTS[2]).split('\t').nth(1) == checksum(HOSTS[1]).split('\t').nth(1)
    });
    assert_eq!(
        sql("db2", "SELECT @@read_only").trim(),
        "0",
        "db2 is the writable master"
    );
}

/// `switch --master-state dead` after a crash, with `extra` options.
fn dead_switch(conf: &str, extra: &[&str]) -> crate::util::Run {
    let mut args = vec!["switch", "--conf", conf, "--master-state", "dead", "--yes"];
    args.extend_from_slice(extra);
    ha_manager(&args)
}

/// MHA's `t_needsync_1_nocm` (file/position): db3 lags, db1 crashes with rows
/// only in its binlog; `--skip_change_master --skip_disable_read_only`: the
/// slaves are given everything but left stopped on their old settings, the new
/// master stays read-only and keeps its replication settings (no phase 5).
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_needsync_1_nocm_skip_change_master_and_skip_disable_read_only_filepos() {
    let _lab = lab_lock();
    fresh_lab("filepos");
    let writer = start_writer();
    lag(&writer, &["db3"], 100);
    fault("kill-mysqld", "db1");
    let acks = writer.finish();
    let run = dead_switch(
        &conf(),
        &["--skip_change_master", "--skip_disable_read_only"],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        sql("db2", "SELECT @@read_only").trim(),
        "1",
        "--skip-disable-read-only: the new master stays read-only\n{}",
        run.all()
    );
    for host in ["db2", "db3"] {
        let status = slave_status(host);
        assert!(
            status.contains("Master_Host: 198.18.0.11"),
            "{host} keeps its replication settings (not repointed, no RESET SLAVE):\n{status}\n{}",
            run.all()
        );
    }
    let db3 = slave_status("db3");
    assert!(
        db3.contains("Slave_IO_Running: No") && db3.contains("Slave_SQL_Running: No"),
        "db3 is left stopped:\n{db3}"
    );
    // Every acknowledged row reached both: db3 by the relay-log difference and the tail.
    for host in [HOSTS[1], HOSTS[2]] {
        let present = ids_on(host);
        let missing = acks
            .ids()
            .into_iter()
            .filter(|id| !present.contains(id))
            .count();
        assert_eq!(
            missing,
            0,
            "{missing} acknowledged rows missing on {host}\n{}",
            run.all()
        );
    }
    assert_eq!(
        checksum(HOSTS[1]).split('\t').nth(1),
        checksum(HOSTS[2]).split('\t').nth(1)
    );
}

/// MHA's `skip_reset_slave=1` (a server parameter, not an option; MHA's
/// `mha_test_reset.cnf`): after a GTID failover the new master keeps its old
/// replication settings, the other slave follows it, no acknowledged row is lost.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_reset_skip_reset_slave_keeps_the_new_masters_settings_gtid() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let dir = tempfile::tempdir().unwrap();
    let conf = variant(&lab_conf(), dir.path(), |t| {
        t.replacen(
            "[server default]\n",
            "[server default]\nskip_reset_slave=1\n",
            1,
        )
    });
    let conf = conf.to_string_lossy().into_owned();
    let writer = start_writer();
    fault("kill-mysqld", "db1");
    let run = dead_switch(&conf, &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    crate::lab_failover::assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
    let db2 = slave_status("db2");
    assert!(
        db2.contains("Master_Host: 198.18.0.11"),
        "skip_reset_slave=1: no RESET SLAVE ALL on the new master:\n{db2}\n{}",
        run.all()
    );
    assert!(slave_status("db3").contains("Master_Host: 198.18.0.12"));
}

/// Starts a binlog server on db3 copying db1's binlogs (scripts/lab/binlog-server.sh).
fn binlog_server(action: &str) {
    let out = std::process::Command::new("bash")
        .arg(crate::util::repo().join("scripts/lab/binlog-server.sh"))
        .arg("--dir")
        .arg(lab_dir())
        .args([action, "db3"])
        .output()
        .expect("run binlog-server.sh");
    assert!(
        out.status.success(),
        "binlog-server.sh {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the binlog server on db3 holds: `name size` lines.
fn binlog_server_files() -> String {
    let out = std::process::Command::new("bash")
        .arg(crate::util::repo().join("scripts/lab/binlog-server.sh"))
        .arg("--dir")
        .arg(lab_dir())
        .args(["files", "db3"])
        .output()
        .expect("run binlog-server.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lab's config with `[binlog1]` on db3 (where binlog-server.sh keeps its copies).
fn binlog_server_conf(dir: &std::path::Path) -> String {
    let conf = variant(&lab_conf(), dir, |t| {
        format!(
            "{t}\n[binlog1]\nhostname={}\nmaster_binlog_dir=/tmp/binlogsrv\n",
            HOSTS[2]
        )
    });
    conf.to_string_lossy().into_owned()
}

/// db1's current binlog position (`file\tpos`).
fn master_pos() -> String {
    let statement = if crate::util::lab_is_mysql() {
        "SHOW BINARY LOG STATUS"
    } else {
        "SHOW MASTER STATUS"
    };
    let status = sql("db1", statement);
    let mut f = status.split('\t');
    format!(
        "{}\t{}",
        f.next().unwrap_or(""),
        f.next().unwrap_or("").trim()
    )
}

/// Binlog server (MHA's `[binlogN]`): both slaves stop receiving, the master
/// writes on (the binlog server copies it), then the master's host is cut off
/// (no SSH, no mysqld). Only the binlog server has those rows: the failover
/// saves the tail from it and every acknowledged row is on the new master.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn binlog_server_saves_the_tail_when_the_masters_host_is_cut_gtid() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    binlog_server("start");
    let _stop = Restore(|| binlog_server("stop"));
    let dir = tempfile::tempdir().unwrap();
    let conf = binlog_server_conf(dir.path());
    let writer = start_writer();
    let before = lag(&writer, &["db2", "db3"], 200);
    let acks = writer.finish();
    let only_there = acks.rows.len() - before;
    // The binlog server has everything the master wrote (it copies as it goes).
    let pos = master_pos();
    let (file, size) = pos.split_once('\t').unwrap();
    wait_until("the binlog server to hold all of db1's binlog", 20, || {
        binlog_server_files().contains(&format!("{file} {size}\n"))
    });
    fault("link-down", "db1");
    let _up = Restore(|| fault("link-up", "db1"));
    let run = dead_switch(&conf, &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("from binlog server 198.18.0.13"),
        "the tail came from the binlog server:\n{}",
        run.all()
    );
    assert!(only_there >= 200, "{only_there} rows reached no slave");
    crate::lab_failover::assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
    eprintln!(
        "binlog server: {} rows acknowledged, {only_there} of them only on the master and the binlog server",
        acks.rows.len()
    );
}

/// `--ignore-binlog-server-error`: the master's host is cut and the only
/// binlog server (db3, running no binlog client) holds no copies. Without the option the failover stops before
/// promoting anyone; with it the failover goes on and reports what may be lost.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn ignore_binlog_server_error_fails_over_without_a_dead_binlog_server() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let dir = tempfile::tempdir().unwrap();
    let conf = variant(&lab_conf(), dir.path(), |t| {
        format!(
            "{t}\n[binlog1]\nhostname={}\nmaster_binlog_dir=/tmp/binlogsrv\n",
            HOSTS[2]
        )
    });
    let conf = conf.to_string_lossy().into_owned();
    let writer = start_writer();
    fault("link-down", "db1");
    let _up = Restore(|| fault("link-up", "db1"));
    let run = dead_switch(&conf, &[]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("--ignore-binlog-server-error"),
        "{}",
        run.all()
    );
    assert_eq!(
        sql("db2", "SELECT @@read_only").trim(),
        "1",
        "no one promoted"
    );
    let run = dead_switch(
        &conf,
        &["--ignore-binlog-server-error", "--ignore-last-failover"],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("may be lost"), "{}", run.all());
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    let acks = writer.finish();
    let present = ids_on(HOSTS[1]);
    assert!(
        acks.rows
            .iter()
            .filter(|r| r.1 == HOSTS[1])
            .all(|r| present.contains(&r.0)),
        "rows the new master acknowledged are on it"
    );
}
