//! `ha-manager start` on the real lab: monitor, detect, fail over, keep watching.
//! Each scenario runs a writer, makes a real fault, and counts acknowledged rows.

use std::time::Duration;

use crate::lab_failover::{
    assert_no_loss, checksum, conf, fresh_lab, ids_on, lag, start_writer, HOSTS,
};
use crate::manager::{now, secs, Manager};
use crate::util::{
    fault, ha_manager, lab_dir, lab_lock, slave_status, sql, ssh_masters, variant, wait_until,
};

/// The lab config's detection goal: `ping_interval=1` × `ping_misses=3`, plus 2 s.
const DETECTION_GOAL_S: f64 = 5.0;

/// Prints the scenario's timings (fault → death declared → every slave repointed).
/// "Declared" is the monitor's verdict line (`Master … is down: …`).
fn timings(name: &str, m: &Manager, fault_at: chrono::NaiveDateTime) {
    let dead = m.time_of(" is down: ");
    let done = m
        .time_of("completed successfully")
        .or_else(|| m.time_of("Master failover completed"));
    eprintln!(
        "TIMING {name}: fault→dead {:.3}s, dead→all repointed {:.3}s, total {:.3}s",
        secs(fault_at, dead),
        dead.map(|d| secs(d, done)).unwrap_or(f64::NAN),
        secs(fault_at, done)
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn kill9_master_gtid_no_acknowledged_row_lost() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &["--exit-after-failover"]);
    // From here on, rows reach no slave: only the master's binlog has them.
    lag(&writer, &["db2", "db3"], 100);
    let fault_at = now();
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    timings("kill9-gtid", &m, fault_at);
    let log = m.text();
    assert!(
        log.contains("events of binlog"),
        "the dead master's binlog was saved:\n{log}"
    );
    assert!(log.contains("----- Failover Report -----"), "{log}");
    assert!(
        log.contains("Why: declared dead at ")
            && log.contains("Evidence: every reachable replica lost the master"),
        "the report says why the master was declared dead:\n{log}"
    );
    // The saved tail is kept in manager_workdir (MHA's file name) and named in the report.
    let kept = log
        .lines()
        .find_map(|l| {
            l.split_once("the binlog tail is kept in ")
                .map(|(_, p)| p.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("the tail's file is logged:\n{log}"));
    assert!(
        kept.contains("saved_master_binlog_from_198.18.0.11_3306_"),
        "{kept}"
    );
    let bytes = std::fs::read(&kept).unwrap_or_else(|e| panic!("{kept}: {e}"));
    assert!(
        bytes.starts_with(b"\xfebin") && bytes.len() > 4,
        "{kept} holds a binlog"
    );
    assert!(
        log.contains(&format!("Saved the dead master's binlog tail to {kept}")),
        "{log}"
    );
    assert!(
        !lab_dir().join("manager/app1.failover.error").exists()
            && lab_dir().join("manager/app1.failover.complete").exists(),
        "a finished failover leaves failover.complete and no failover.error"
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    eprintln!(
        "kill9-gtid: {} rows acknowledged; write gap {:?}",
        acks.rows.len(),
        acks.longest_gap()
    );
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
    let status = ha_manager(&["status", "--conf", &conf()]);
    assert_eq!(
        status.code,
        2,
        "manager exited: NOT_RUNNING: {}",
        status.all()
    );
}

/// A daemon keeps its ssh masters between commands; they end on their own
/// (`ControlPersist` expired, or a network cut ended them through
/// `ServerAliveInterval`). The failover must reconnect, not take a dead
/// master for a host it cannot reach: that would skip saving the dead
/// master's binlog and pass over every candidate.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn ssh_masters_that_ended_while_monitoring_are_reconnected_at_failover() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let before = ssh_masters();
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &["--exit-after-failover"]);
    // The start-up SSH check left one master per host; end them (ours, by pid).
    let ours: Vec<u32> = ssh_masters()
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    assert!(!ours.is_empty(), "start left ssh masters to reuse");
    for pid in &ours {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    std::thread::sleep(Duration::from_millis(1500));
    lag(&writer, &["db2", "db3"], 100);
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    let log = m.text();
    assert!(
        log.contains("events of binlog"),
        "the dead master's binlog was saved over a new ssh master:\n{log}"
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn candidate_without_ssh_is_passed_over_and_no_acknowledged_row_is_lost() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &["--exit-after-failover"]);
    // The last rows reach no slave: the dead master's binlog tail must be
    // applied on the new master, over SSH. db2 (candidate_master) loses its sshd,
    // and the manager's connection from the start-up check with it.
    lag(&writer, &["db2", "db3"], 100);
    fault("kill-sshd", "db2");
    fault("kill-mysqld", "db1");
    let code = m.wait_exit(60);
    fault("start-sshd", "db2");
    assert_eq!(code, 0, "{}", m.text());
    let log = m.text();
    assert!(
        log.contains("passed over before anything was changed"),
        "db2 was checked before the point of no return:\n{log}"
    );
    assert!(
        log.contains("198.18.0.13(198.18.0.13:3306): Selected as the new master"),
        "{log}"
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[2]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    // db2 gets the tail by replication from db3 (GTID), so it has every row too.
    assert_no_loss(&acks, HOSTS[2], &[HOSTS[1]]);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn host_down_then_back_is_fenced_read_only() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &[]);
    let fault_at = now();
    fault("link-down", "db1");
    m.wait_log("completed successfully", 60);
    timings("host-down", &m, fault_at);
    let log = m.text();
    assert!(
        log.contains("may be lost"),
        "the report names what may be lost:\n{log}"
    );
    let journal = std::fs::read_to_string(lab_dir().join("manager/app1.journal.jsonl")).unwrap();
    assert!(
        journal.contains("possibly_lost") && journal.contains("mysql-bin."),
        "journal: {journal}"
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    let acks = writer.finish();
    // Rows acknowledged by db1 after the link went down cannot be anywhere else;
    // every row acknowledged by the new master must be there.
    let on_new: Vec<u64> = acks
        .rows
        .iter()
        .filter(|r| r.1 == HOSTS[1])
        .map(|r| r.0)
        .collect();
    let present = crate::lab_failover::ids_on(HOSTS[1]);
    assert!(on_new.iter().all(|id| present.contains(id)));
    let lost = acks.ids().iter().filter(|id| !present.contains(id)).count();
    eprintln!(
        "host-down: {} rows acknowledged, {lost} acknowledged by the isolated master never left it (the report names the range)",
        acks.rows.len()
    );
    assert!(
        m.is_running(),
        "the manager keeps running after the failover:\n{}",
        m.text()
    );

    // The old master comes back with mysqld still writable: it must be fenced.
    fault("link-up", "db1");
    wait_until("db1 set read-only by the manager", 20, || {
        sql("db1", "SELECT @@read_only").trim() == "1"
    });
    m.wait_log("came back WRITABLE", 10);
    let stop = ha_manager(&["stop", "--conf", &conf()]);
    assert_eq!(stop.code, 0, "{}", stop.all());
    assert_eq!(m.wait_exit(15), 0, "{}", m.text());
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn lagging_slave_catches_up_gtid() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &["--exit-after-failover"]);
    lag(&writer, &["db3"], 300);
    let fault_at = now();
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    timings("lagging-gtid", &m, fault_at);
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn lagging_slave_gets_relay_log_diff_filepos() {
    let _lab = lab_lock();
    fresh_lab("filepos");
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &["--exit-after-failover"]);
    lag(&writer, &["db3"], 300);
    let fault_at = now();
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    timings("lagging-filepos", &m, fault_at);
    let log = m.text();
    assert!(log.contains("file/position mode"), "{log}");
    // The difference db3 was given is kept in manager_workdir (0600) and named in the report.
    let kept = log
        .lines()
        .find_map(|l| {
            l.split_once("Saved a relay-log difference to ")
                .map(|(_, p)| p.trim_end_matches(" before applying it.").to_owned())
        })
        .unwrap_or_else(|| panic!("the report names the kept relay-log difference:\n{log}"));
    assert!(
        kept.contains("saved_relay_diff_for_198.18.0.13_3306_"),
        "{kept}"
    );
    let bytes = std::fs::read(&kept).unwrap_or_else(|e| panic!("{kept}: {e}"));
    assert!(
        bytes.starts_with(b"\xfebin") && bytes.len() > 4,
        "{kept} holds a binlog"
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
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn no_master_latest_slave_still_feeds_the_candidate() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let dir = tempfile::tempdir().unwrap();
    // db2 (the latest) may never be master; db3 (lagging) is the candidate.
    let cnf = variant(&lab_dir().join("app1.cnf"), dir.path(), |t| {
        t.replace(
            "[server2]\nhostname=198.18.0.12\ncandidate_master=1",
            "[server2]\nhostname=198.18.0.12\nno_master=1",
        )
        .replace(
            "[server3]\nhostname=198.18.0.13",
            "[server3]\nhostname=198.18.0.13\ncandidate_master=1",
        )
    });
    let cnf = cnf.to_string_lossy().into_owned();
    assert!(std::fs::read_to_string(&cnf)
        .unwrap()
        .contains("no_master=1"));
    let writer = start_writer();
    let mut m = Manager::start(&cnf, &["--exit-after-failover"]);
    lag(&writer, &["db3"], 300);
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    let log = m.text();
    assert!(
        log.contains("198.18.0.13(198.18.0.13:3306): Selected as the new master"),
        "{log}"
    );
    assert!(log.contains("caught up from 198.18.0.12"), "{log}");
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[2]).is_some()
    });
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[2], &[HOSTS[1]]);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn cut_path_to_master_only_is_no_failover() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    assert_eq!(
        sql("db2", "SELECT @@slave_net_timeout").trim(),
        "60",
        "the lab runs on server defaults"
    );
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &[]);
    fault("cut-manager", "db1");
    m.wait_log("reachable from replicas", 30);
    // Three detection windows with only the manager's path cut: no failover.
    std::thread::sleep(Duration::from_secs_f64(3.0 * DETECTION_GOAL_S));
    let log = m.text();
    assert!(
        !log.contains("Phase 1: Configuration Check") && !log.contains(" is down: "),
        "no failover started:\n{log}"
    );
    assert!(
        log.contains(
            "198.18.0.12 IO thread running and the master answered a connect from that host"
        ) && log.contains(
            "198.18.0.13 IO thread running and the master answered a connect from that host"
        ),
        "the log says why: the replicas' hosts still reach the master:\n{log}"
    );
    assert_eq!(
        sql("db1", "SELECT @@read_only").trim(),
        "0",
        "db1 is still the writable master"
    );
    assert_eq!(
        sql("db2", "SELECT @@read_only").trim(),
        "1",
        "db2 was not promoted"
    );
    assert!(slave_status("db2").contains("Master_Host: 198.18.0.11"));
    fault("heal-manager", "db1");
    wait_until("PING_OK again", 30, || {
        ha_manager(&["status", "--conf", &conf()]).code == 0
    });
    assert!(m.is_running(), "{}", m.text());
    let before = writer.acks().rows.len();
    wait_until("the writer goes on on db1", 30, || {
        writer.acks().rows.len() > before + 100
    });
    let acks = writer.finish();
    assert!(
        acks.rows.iter().all(|r| r.1 == HOSTS[0]),
        "only db1 took writes"
    );
    assert_no_loss(&acks, HOSTS[0], &[HOSTS[1], HOSTS[2]]);
    let stop = ha_manager(&["stop", "--conf", &conf()]);
    assert_eq!(stop.code, 0, "{}", stop.all());
    m.wait_exit(15);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn host_down_on_server_defaults_is_dead_within_the_detection_window() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    assert_eq!(
        sql("db2", "SELECT @@slave_net_timeout").trim(),
        "60",
        "the lab runs on server defaults"
    );
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &[]);
    let fault_at = now();
    fault("link-down", "db1");
    m.wait_log("completed successfully", 60);
    timings("host-down-defaults", &m, fault_at);
    let log = m.text();
    let detect = secs(fault_at, m.time_of(" is down: "));
    assert!(
        detect <= DETECTION_GOAL_S,
        "declared dead {detect:.3}s after the link went down; the goal is ping_interval × \
         ping_misses + 2 s = {DETECTION_GOAL_S}s:\n{log}"
    );
    assert!(
        log.contains("198.18.0.12 (IO thread Yes, nothing received for")
            && log.contains("connect from its host: no answer"),
        "the evidence is the replicas' fresh view, not their IO threads giving up:\n{log}"
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    eprintln!(
        "host-down-defaults: fault→dead {detect:.3}s, {} rows acknowledged; write gap {:?}",
        acks.rows.len(),
        acks.longest_gap()
    );
    // With the master's host cut off, what it committed and acknowledged but
    // had not yet sent to any slave cannot be saved (asynchronous
    // replication): such rows may be missing, and only such rows.
    let present = ids_on(HOSTS[1]);
    let missing: Vec<u64> = acks
        .ids()
        .into_iter()
        .filter(|id| !present.contains(id))
        .collect();
    if !missing.is_empty() {
        assert!(
            log.contains("could not be saved") && log.contains("may be lost"),
            "{} acknowledged rows are missing and the log does not say they may be lost:\n{log}",
            missing.len()
        );
        let on_db3 = ids_on(HOSTS[2]);
        assert!(
            missing.iter().all(|id| !on_db3.contains(id)),
            "a row db3 held is missing on the new master: {missing:?}"
        );
    }
    fault("link-up", "db1");
    if !missing.is_empty() {
        let on_old = ids_on(HOSTS[0]);
        assert!(
            missing.iter().all(|id| on_old.contains(id)),
            "the missing rows are the ones only the cut-off master held: {missing:?}"
        );
        eprintln!(
            "host-down-defaults: {} acknowledged row(s) only the cut-off master held: {missing:?}",
            missing.len()
        );
    }
    wait_until("db3 to match the new master", 30, || {
        checksum(HOSTS[2]).split('\t').nth(1) == checksum(HOSTS[1]).split('\t').nth(1)
    });
    let stop = ha_manager(&["stop", "--conf", &conf()]);
    assert_eq!(stop.code, 0, "{}", stop.all());
    m.wait_exit(15);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let mut m = Manager::start(&conf(), &["--dry-run"]);
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    let log = m.text();
    assert!(log.contains("Selected as the new master"), "{log}");
    assert!(
        log.contains("Plan: promote 198.18.0.12(198.18.0.12:3306)"),
        "{log}"
    );
    assert!(
        log.contains("Plan: repoint 198.18.0.13(198.18.0.13:3306)"),
        "{log}"
    );
    assert!(log.contains("nothing was changed"), "{log}");
    assert_eq!(
        sql("db2", "SELECT @@read_only").trim(),
        "1",
        "db2 not promoted"
    );
    for host in ["db2", "db3"] {
        let status = slave_status(host);
        assert!(
            status.contains("Master_Host: 198.18.0.11"),
            "{host} untouched: {status}"
        );
        assert!(
            !status.contains("Slave_IO_Running: No"),
            "{host}'s IO thread not stopped: {status}"
        );
    }
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn manager_log_holds_the_whole_failover_log() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let dir = tempfile::tempdir().unwrap();
    let manager_log = dir.path().join("manager.log");
    let cnf = variant(&lab_dir().join("app1.cnf"), dir.path(), |t| {
        t.replacen(
            "[server default]\n",
            &format!("[server default]\nmanager_log={}\n", manager_log.display()),
            1,
        )
    });
    let cnf = cnf.to_string_lossy().into_owned();
    assert!(std::fs::read_to_string(&cnf)
        .unwrap()
        .contains("manager_log="));
    let mut m = Manager::start_with_log(&cnf, &["--exit-after-failover"], Some(&manager_log));
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    let log = m.text();
    assert!(log.contains("is dead:"), "{log}");
    assert!(log.contains("Phase 1: Configuration Check"), "{log}");
    assert!(log.contains("----- Failover Report -----"), "{log}");
    let terminal = m.terminal_text();
    assert!(
        !terminal.contains("Phase 1") && !terminal.contains("Failover Report"),
        "only in manager_log, as MHA's masterha_manager: {terminal}"
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn start_refuses_a_failover_hook_that_cannot_run() {
    let _lab = crate::util::pristine_lab();
    let dir = tempfile::tempdir().expect("tempdir");
    let edited = variant(&lab_dir().join("app1.cnf"), dir.path(), |text| {
        text.replacen(
            "[server default]\n",
            "[server default]\nmaster_ip_failover_script=/usr/local/bin/master_ip_failvoer --vip=198.18.0.100\n",
            1,
        )
    });
    let mut m = Manager::spawn(&edited.to_string_lossy(), &[], None);
    // It must refuse at once, not monitor (and find the typo mid-failover).
    let code = m.wait_exit(30);
    let log = m.text();
    assert_ne!(code, 0, "{log}");
    assert!(
        log.contains("master_ip_failover_script failed (--command=status: could not run"),
        "{log}"
    );
    assert!(log.contains("Refusing to monitor"), "{log}");
    assert!(!log.contains("Monitoring 198.18.0.11"), "{log}");
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn a_manager_killed_mid_failover_leaves_a_marker_that_status_reports() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let dir = tempfile::tempdir().expect("tempdir");
    // A failover hook that takes its time on --command=stop: the manager is
    // killed while it runs, in phase 2, after the slaves' IO threads stopped.
    let hook = dir.path().join("master_ip_failover");
    std::fs::write(
        &hook,
        "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --command=stop*) sleep 3;; esac; done\nexit 0\n",
    )
    .expect("hook");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let edited = variant(&lab_dir().join("app1.cnf"), dir.path(), |text| {
        text.replacen(
            "[server default]\n",
            &format!(
                "[server default]\nmaster_ip_failover_script={}\n",
                hook.display()
            ),
            1,
        )
    });
    let conf = edited.to_string_lossy().into_owned();
    let mut m = Manager::start(&conf, &[]);
    let marker = lab_dir().join("manager/app1.failover.error");
    fault("kill-mysqld", "db1");
    m.wait_log("Executing master_ip_failover_script", 30);
    assert!(
        marker.exists(),
        "the marker is written before the failover changes anything"
    );
    m.kill();
    let status = ha_manager(&["status", "--conf", &conf]);
    let _ = std::fs::remove_file(&marker);
    assert_eq!(
        status.code,
        51,
        "FAILOVER_ERROR, not NOT_RUNNING: {}",
        status.all()
    );
    assert!(
        status
            .stdout
            .contains("a failover did not finish(51:FAILOVER_ERROR)"),
        "{}",
        status.all()
    );
    assert!(
        status.stdout.contains("app1.failover.error exists"),
        "{}",
        status.all()
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn remove_dead_master_conf_drops_only_the_dead_masters_block() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = variant(&lab_dir().join("app1.cnf"), dir.path(), |text| text);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let conf = copy.to_string_lossy().into_owned();
    let mut m = Manager::start(
        &conf,
        &["--exit-after-failover", "--remove-dead-master-conf"],
    );
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    let log = m.text();
    assert!(
        log.contains(&format!("Removed [server1] from {conf}.")),
        "{log}"
    );
    let text = std::fs::read_to_string(&copy).expect("read");
    assert!(
        !text.contains("[server1]") && !text.contains("198.18.0.11"),
        "{text}"
    );
    assert!(
        text.contains("[server2]") && text.contains("[server3]"),
        "{text}"
    );
    assert!(text.contains("password=hapass"), "the rest is kept: {text}");
    let mode = std::fs::metadata(&copy).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
}
