//! check-ssh and check-repl against the real lab: a healthy cluster passes, and
//! each broken cluster fails with the right host and reason named.

use crate::util::{
    fault, ha_manager, lab_binlog_tool, lab_conf, lab_gtid_variable, lab_heartbeat_sql,
    lab_net_timeout_variable, lab_repoint_sql, lab_start_replica, lab_stop_replica, pristine_lab,
    slave_status, sql, ssh_masters, variant, wait_until, Restore,
};

const DB1: &str = "198.18.0.11(198.18.0.11:3306)";
const DB2: &str = "198.18.0.12(198.18.0.12:3306)";
const DB3: &str = "198.18.0.13(198.18.0.13:3306)";

fn conf() -> String {
    lab_conf().to_string_lossy().into_owned()
}

/// Lines of the output that mention `needle`.
fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

fn slave_running(host: &str) -> bool {
    let out = slave_status(host);
    out.contains("Slave_IO_Running: Yes") && out.contains("Slave_SQL_Running: Yes")
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn check_ssh_leaves_no_ssh_master_behind() {
    let _lab = pristine_lab();
    let before = ssh_masters();
    let ssh = ha_manager(&["check-ssh", "--conf", &conf()]);
    assert_eq!(ssh.code, 0, "{}", ssh.all());
    // The masters are told to exit when the command ends; give them a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let left = loop {
        let left: Vec<u32> = ssh_masters()
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        if left.is_empty() || std::time::Instant::now() > deadline {
            break left;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(left.is_empty(), "ssh masters left running: {left:?}");
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn healthy_cluster_passes_both_checks() {
    let _lab = pristine_lab();
    let ssh = ha_manager(&["check-ssh", "--conf", &conf()]);
    assert_eq!(ssh.code, 0, "{}", ssh.all());
    assert!(
        ssh.stdout
            .contains("All SSH connection tests passed successfully."),
        "{}",
        ssh.all()
    );
    for host in [DB1, DB2, DB3] {
        let line = lines_with(&ssh.stdout, host).join("\n");
        assert!(line.contains("OK"), "{host}: {}", ssh.all());
        assert!(
            line.contains(lab_binlog_tool()),
            "binlog tool reported: {line}"
        );
        assert!(
            line.contains("relay-log dir /var/lib/mysql readable"),
            "{line}"
        );
        assert!(line.contains("remote_workdir /tmp writable"), "{line}");
    }

    let repl = ha_manager(&["check-repl", "--conf", &conf()]);
    assert_eq!(repl.code, 0, "{}", repl.all());
    assert!(
        repl.stdout.contains("MySQL Replication Health is OK."),
        "{}",
        repl.all()
    );
    assert!(
        lines_with(&repl.stdout, DB1)
            .iter()
            .any(|l| l.contains("(current master)")),
        "tree shows the master: {}",
        repl.all()
    );
    for host in [DB2, DB3] {
        assert!(
            repl.stdout
                .lines()
                .any(|l| l.contains("+--") && l.contains(host)),
            "tree shows {host} under the master: {}",
            repl.all()
        );
    }
    // db2 is the only candidate_master among the slaves.
    assert!(
        lines_with(&repl.stdout, "would be promoted")
            .iter()
            .any(|l| l.contains(DB2)),
        "election dry run: {}",
        repl.all()
    );
    assert!(
        lines_with(&repl.stdout, DB3)
            .iter()
            .any(|l| l.contains("not promoted")),
        "every other slave says why not: {}",
        repl.all()
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn stopped_sql_thread_is_named() {
    let _lab = pristine_lab();
    fault("stop-sql", "db3");
    let _restore = Restore(|| {
        fault("start-slave", "db3");
        wait_until("db3 replicating again", 20, || slave_running("db3"));
    });
    // A SQL thread stopped without an error (a backup job's) is monitored with a
    // warning, as MHA does: a failover starts it and waits for it (issue 10).
    let repl = ha_manager(&["check-repl", "--conf", &conf()]);
    assert_eq!(repl.code, 0, "{}", repl.all());
    let warnings = lines_with(&repl.stdout, "[warning]");
    assert!(
        warnings.iter().any(|l| l.contains(DB3)
            && l.contains("SQL thread is stopped (no error)")
            && l.contains("a failover starts it")),
        "names db3 and the SQL thread: {}",
        repl.all()
    );
    assert!(
        !lines_with(&repl.stdout, "[error]")
            .iter()
            .any(|l| l.contains(DB2)),
        "db2 is healthy: {}",
        repl.all()
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn slave_of_the_wrong_master_is_named() {
    let _lab = pristine_lab();
    // db3 replicates from db2 instead of db1 (GTID keeps it consistent).
    let repoint = |host: &str| {
        sql("db3", &lab_repoint_sql(host));
    };
    repoint("198.18.0.12");
    let _restore = Restore(|| {
        repoint("198.18.0.11");
        wait_until("db3 back under db1", 20, || slave_running("db3"));
    });
    wait_until("db3 replicating from db2", 20, || slave_running("db3"));
    let repl = ha_manager(&["check-repl", "--conf", &conf()]);
    assert_ne!(repl.code, 0, "{}", repl.all());
    assert!(
        repl.stdout.contains("MySQL Replication Health is NOT OK!"),
        "{}",
        repl.all()
    );
    assert!(
        lines_with(&repl.stdout, "[error]")
            .iter()
            .any(|l| l.contains(DB3) && l.contains("198.18.0.12")),
        "names db3 and the master it really follows: {}",
        repl.all()
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn stopped_sshd_is_named() {
    let _lab = pristine_lab();
    fault("stop-sshd", "db2");
    let _restore = Restore(|| fault("start-sshd", "db2"));
    let ssh = ha_manager(&["check-ssh", "--conf", &conf()]);
    assert_ne!(ssh.code, 0, "{}", ssh.all());
    let failed = lines_with(&ssh.stdout, "FAILED");
    assert!(
        failed.iter().any(|l| l.contains(DB2)),
        "db2 named: {}",
        ssh.all()
    );
    assert!(
        !failed.iter().any(|l| l.contains(DB1) || l.contains(DB3)),
        "only db2: {}",
        ssh.all()
    );
    assert!(ssh.stdout.contains("failed on 1 host(s)"), "{}", ssh.all());
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn wrong_admin_password_is_named() {
    let _lab = pristine_lab();
    let dir = tempfile::tempdir().unwrap();
    let bad = variant(&lab_conf(), dir.path(), |t| {
        t.replace("password=hapass", "password=wrong-pass")
    });
    let repl = ha_manager(&["check-repl", "--conf", bad.to_str().unwrap()]);
    assert_ne!(repl.code, 0, "{}", repl.all());
    assert!(
        repl.stdout.contains("MySQL Replication Health is NOT OK!"),
        "{}",
        repl.all()
    );
    for host in [DB1, DB2, DB3] {
        assert!(
            lines_with(&repl.stdout, host)
                .iter()
                .any(|l| l.contains("Access denied")),
            "{host} named with the reason: {}",
            repl.all()
        );
    }
    assert!(
        !repl.all().contains("wrong-pass"),
        "password never printed: {}",
        repl.all()
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn all_slaves_no_master_is_refused() {
    let _lab = pristine_lab();
    let dir = tempfile::tempdir().unwrap();
    let conf = variant(&lab_conf(), dir.path(), |t| {
        t.replace("[server2]", "[server2]\nno_master=1")
            .replace("[server3]", "[server3]\nno_master=1")
    });
    let repl = ha_manager(&["check-repl", "--conf", conf.to_str().unwrap()]);
    assert_ne!(repl.code, 0, "{}", repl.all());
    assert!(
        repl.stdout.contains("MySQL Replication Health is NOT OK!"),
        "{}",
        repl.all()
    );
    assert!(
        lines_with(&repl.stdout, "[error]")
            .iter()
            .any(|l| l.contains("promot")),
        "says no slave can be promoted: {}",
        repl.all()
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn unknown_key_in_a_lab_config_changes_nothing() {
    let _lab = pristine_lab();
    let before = sql(
        "db1",
        &format!("SELECT @@read_only, {}", lab_gtid_variable()),
    );
    let dir = tempfile::tempdir().unwrap();
    let conf = variant(&lab_conf(), dir.path(), |t| {
        t.replace("[server3]", "[server3]\ncandidate_mastr=1")
    });
    let repl = ha_manager(&["check-repl", "--conf", conf.to_str().unwrap()]);
    assert_eq!(repl.code, 3, "{}", repl.all());
    assert!(repl.stderr.contains("candidate_mastr"), "{}", repl.all());
    assert!(
        repl.stderr.contains("candidate_master"),
        "did-you-mean: {}",
        repl.all()
    );
    assert_eq!(
        sql(
            "db1",
            &format!("SELECT @@read_only, {}", lab_gtid_variable())
        ),
        before
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn slow_detection_settings_are_named_with_the_fix() {
    let _lab = pristine_lab();
    // Server defaults: slave_net_timeout=60, heartbeat period 30 s.
    let repl = ha_manager(&["check-repl", "--conf", &conf()]);
    assert_eq!(repl.code, 0, "a warning, not a refusal: {}", repl.all());
    for host in [DB2, DB3] {
        let warned: Vec<&str> = lines_with(&repl.stdout, "slow to notice a dead master")
            .into_iter()
            .filter(|l| l.contains("[warning]") && l.contains(host))
            .collect();
        assert_eq!(warned.len(), 1, "{host}: {}", repl.all());
        let line = warned[0];
        // In the server's own words (MySQL: replica_net_timeout, CHANGE REPLICATION SOURCE).
        let var = lab_net_timeout_variable();
        let fix = format!(
            "Fix: SET GLOBAL {var}=5; put {var}=5 under [mysqld] in its my.cnf; then {}; {}; {}",
            lab_stop_replica(),
            lab_heartbeat_sql(2.5),
            lab_start_replica()
        );
        assert!(
            line.contains(&format!("{var}=60s"))
                && line.contains("heartbeat period is 30s")
                && line.contains(&fix),
            "{line}"
        );
    }
    assert!(
        !lines_with(&repl.stdout, "slow to notice")
            .iter()
            .any(|l| l.contains(DB1)),
        "the master is not a replica: {}",
        repl.all()
    );

    // Tuned as the warning says: no warning.
    let tune = |timeout: u32, heartbeat: f64| {
        for host in ["db2", "db3"] {
            sql(
                host,
                &format!(
                    "{}; SET GLOBAL {}={timeout}; {}; {}",
                    lab_stop_replica(),
                    lab_net_timeout_variable(),
                    lab_heartbeat_sql(heartbeat),
                    lab_start_replica()
                ),
            );
            wait_until(&format!("{host} replicating"), 20, || slave_running(host));
        }
    };
    let _restore = Restore(|| tune(60, 30.0));
    tune(5, 2.5);
    let repl = ha_manager(&["check-repl", "--conf", &conf()]);
    assert_eq!(repl.code, 0, "{}", repl.all());
    assert!(
        lines_with(&repl.stdout, "slow to notice").is_empty(),
        "{}",
        repl.all()
    );
}
