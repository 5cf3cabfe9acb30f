//! An interrupted failover finished by `switch --master-state dead`, on the
//! real lab: the manager SIGKILLed at a phase boundary or in the middle of
//! applying the dead master's binlog tail; `start` refuses in between with
//! the exact command; that command finishes the job with nothing lost and
//! nothing applied twice. Also: switching back to the old master after a
//! failover that applied a tail (MariaDB `gtid_slave_pos`; MySQL `gtid_executed`).

use std::path::Path;
use std::time::Duration;

use crate::lab_failover::{assert_no_loss, fresh_lab, lag, start_writer, HOSTS};
use crate::manager::Manager;
use crate::util::{
    fault, ha_manager, lab_dir, lab_is_mysql, lab_lock, lab_name, lab_repoint_sql, slave_status,
    sql, variant, wait_until,
};

/// Where the first manager is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KillAt {
    /// Inside `master_ip_failover_script --command=stop` (phase 2, after every IO thread stopped).
    StopHook,
    /// While the new master applies the dead master's binlog tail (phase 3.5).
    TailApply,
    /// Inside `--command=start`: the tail applied, before `read_only=0` and any slave repointed.
    StartHook,
    /// After `read_only=0` (the writer writes on the new master), before the
    /// other slave is repointed: that slave hangs (SIGSTOP) while the manager
    /// connects to it, and the manager is killed then.
    AfterOpen,
}

/// Rows written to a table without a primary key, into the tail only: a
/// transaction applied twice shows as a count above this.
const NOPK_ROWS: usize = 300;

/// A master_ip_failover_script that sleeps (once) on the command the test kills in.
fn hook(dir: &Path, at: KillAt) -> String {
    // `stop*`: `stopssh` when the dead master's host answers SSH.
    let (sleep_on, secs) = match at {
        KillAt::StopHook => ("stop*", 60),
        KillAt::StartHook => ("start", 60),
        KillAt::AfterOpen => ("start", 3),
        KillAt::TailApply => ("none", 0),
    };
    let flag = dir.join("slept");
    let path = dir.join("master_ip_failover");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --command={sleep_on}) \
             if [ ! -e {f} ]; then touch {f}; sleep {secs}; fi;; esac; done\nexit 0\n",
            f = flag.display()
        ),
    )
    .expect("hook");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.display().to_string()
}

fn count(host: &str, query: &str) -> u64 {
    sql(host, query).trim().parse().unwrap_or(0)
}

fn rows(host: &str) -> u64 {
    count(host, "SELECT COUNT(*) FROM test.t")
}

/// The one server of `hosts` that takes writes.
fn writable(hosts: &[&str]) -> Vec<String> {
    hosts
        .iter()
        .filter(|h| sql(h, "SELECT @@read_only").trim() == "0")
        .map(|h| h.to_string())
        .collect()
}

/// The command `start` printed to finish the failover, as argv.
fn finish_command(refusal: &str) -> Vec<String> {
    let line = refusal
        .lines()
        .find_map(|l| l.split_once("Finish it with: ").map(|(_, c)| c.trim()))
        .unwrap_or_else(|| panic!("no command in:\n{refusal}"));
    let argv: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    assert_eq!(argv[0], "ha-manager", "{line}");
    argv[1..].to_vec()
}

fn killed_then_resumed(mode: &str, at: KillAt) {
    let _lab = lab_lock();
    fresh_lab(mode);
    let dir = tempfile::tempdir().expect("tempdir");
    let script = hook(dir.path(), at);
    let edited = variant(&lab_dir().join("app1.cnf"), dir.path(), |text| {
        text.replacen(
            "[server default]\n",
            &format!("[server default]\nmaster_ip_failover_script={script}\n"),
            1,
        )
    });
    let conf = edited.to_string_lossy().into_owned();
    sql("db1", "CREATE TABLE test.nopk (id INT)");
    let writer = start_writer();
    let mut m = Manager::start(&conf, &[]);
    // From here on, rows reach no slave: only the dead master's binlog has them.
    let tail_rows = if at == KillAt::TailApply { 30_000 } else { 300 };
    let before = lag(&writer, &["db2", "db3"], tail_rows) as u64;
    let inserts: Vec<String> = (1..=NOPK_ROWS)
        .map(|i| format!("INSERT INTO test.nopk VALUES ({i});"))
        .collect();
    sql("db1", &inserts.join(" "));
    let base = [rows("db2"), rows("db3")];
    fault("kill-mysqld", "db1");
    let on_master = writer.acks().rows.len() as u64;
    match at {
        KillAt::StopHook => {
            m.wait_log("--command=stop", 60);
            std::thread::sleep(Duration::from_millis(300));
        }
        KillAt::StartHook => {
            m.wait_log("--command=start", 90);
            std::thread::sleep(Duration::from_millis(300));
        }
        KillAt::AfterOpen => {
            m.wait_log("--command=start", 90);
            fault("freeze-mysqld", "db3");
            wait_until("writes on the opened new master", 60, || {
                writer.acks().first_on(HOSTS[1]).is_some()
            });
            std::thread::sleep(Duration::from_millis(300));
        }
        KillAt::TailApply => wait_until("the tail half applied", 120, || {
            [rows("db2") - base[0], rows("db3") - base[1]]
                .iter()
                .any(|&n| n > 500)
        }),
    }
    m.kill();
    if at == KillAt::AfterOpen {
        fault("thaw-mysqld", "db3");
        assert!(
            slave_status("db3").contains("Master_Host: 198.18.0.11"),
            "killed before db3 was repointed"
        );
    }
    if at == KillAt::TailApply {
        // The remote client may still run what had reached it; then it stops.
        std::thread::sleep(Duration::from_secs(2));
        let applied = (rows("db2") - base[0]).max(rows("db3") - base[1]);
        assert!(
            applied + 100 < on_master - before,
            "killed in the middle of the apply: {applied} rows of the tail applied"
        );
    }

    // In between: status and start name where it stopped and the exact command.
    let status = ha_manager(&["status", "--conf", &conf]);
    assert_eq!(status.code, 51, "{}", status.all());
    let mut refused = Manager::spawn(&conf, &[], None);
    assert_ne!(refused.wait_exit(30), 0, "start refuses");
    let refusal = refused.text();
    let want = format!(
        "Finish it with: ha-manager switch --conf {conf} --master-state dead --dead-master-host \
         198.18.0.11 --dead-master-port 3306 --interactive=0"
    );
    assert!(refusal.contains(&want), "{refusal}");
    assert!(status.stdout.contains(&want), "{}", status.all());

    // The exact command finishes the job.
    let argv = finish_command(&refusal);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let run = ha_manager(&argv);
    if mode == "filepos" && lab_is_mysql() {
        // MySQL with gtid_mode=OFF: nothing tells which tail transactions the
        // killed apply had committed, so the resume refuses before changing
        // anything and says how to finish by hand (MariaDB keeps GTIDs in
        // file/position mode too, so it resumes exactly).
        let out = run.all();
        assert_ne!(run.code, 0, "{out}");
        assert!(
            out.contains("cannot be resumed exactly; nothing was changed by this run")
                && out.contains("mysqlbinlog --start-position="),
            "{out}"
        );
        writer.finish();
        return;
    }
    assert_eq!(run.code, 0, "{}", run.all());
    let out = run.all();
    assert!(out.contains("Resuming an interrupted failover"), "{out}");
    assert!(out.contains("Resumed: "), "the report says so: {out}");
    if at == KillAt::AfterOpen {
        assert!(
            out.contains("resuming: elected, caught up and opened for writes"),
            "phases 2-3 are not redone: {out}"
        );
    }
    if at == KillAt::TailApply {
        assert!(
            out.contains("already there were skipped"),
            "what the killed apply had applied is skipped: {out}"
        );
    }
    for line in out
        .lines()
        .filter(|l| l.contains("resuming") || l.contains("applied "))
    {
        eprintln!("  {line}");
    }
    if at == KillAt::StopHook {
        assert!(
            !out.contains("resuming: kept as the new master"),
            "killed before the election: elected afresh: {out}"
        );
    } else if at != KillAt::AfterOpen {
        assert!(
            out.contains("resuming: kept as the new master"),
            "the elected new master is kept: {out}"
        );
    }
    let new = writable(&HOSTS[1..]);
    assert_eq!(new.len(), 1, "one writable master: {new:?}");
    let new = new[0].as_str();
    let other = if new == HOSTS[1] { HOSTS[2] } else { HOSTS[1] };
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(new).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    assert_no_loss(&acks, new, &[other]);
    assert!(
        slave_status(&lab_name(other)).contains(&format!("Master_Host: {new}")),
        "{other} follows {new}"
    );
    assert!(
        slave_status(&lab_name(new)).trim().is_empty(),
        "RESET SLAVE ALL on the new master"
    );
    for host in [new, other] {
        assert_eq!(
            count(host, "SELECT COUNT(*) - COUNT(DISTINCT id) FROM test.t"),
            0,
            "{host}: no row twice"
        );
        assert_eq!(
            count(host, "SELECT COUNT(*) FROM test.nopk") as usize,
            NOPK_ROWS,
            "{host}: every tail transaction once, none twice"
        );
    }
    assert!(!lab_dir().join("manager/app1.failover.error").exists());
    eprintln!(
        "resume after kill at {at:?} ({mode}): {} rows acknowledged, {} of them after the IO \
         threads stopped",
        acks.rows.len(),
        on_master - before
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn killed_in_the_stop_hook_the_failover_is_finished_by_switch_gtid() {
    killed_then_resumed("gtid", KillAt::StopHook);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn killed_while_applying_the_tail_the_failover_is_finished_without_applying_twice_gtid() {
    killed_then_resumed("gtid", KillAt::TailApply);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn killed_in_the_start_hook_the_failover_is_finished_by_switch_gtid() {
    killed_then_resumed("gtid", KillAt::StartHook);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn killed_after_the_new_master_opened_the_failover_is_finished_by_switch_gtid() {
    killed_then_resumed("gtid", KillAt::AfterOpen);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn killed_while_applying_the_tail_the_failover_is_finished_without_applying_twice_filepos() {
    killed_then_resumed("filepos", KillAt::TailApply);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn switching_back_after_a_failover_that_applied_a_tail_replicates_without_1062() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let conf = lab_dir().join("app1.cnf").to_string_lossy().into_owned();
    let writer = start_writer();
    lag(&writer, &["db2", "db3"], 300);
    // No write on the new master after the failover: its gtid_binlog_pos
    // then ends with the tail's GTIDs, which are not its own.
    let first = writer.finish();
    fault("kill-mysqld", "db1");
    let run = ha_manager(&[
        "switch",
        "--conf",
        &conf,
        "--master-state",
        "dead",
        "--new-master-host",
        "198.18.0.12",
        "--yes",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let out = run.all();
    // MariaDB: a client-side apply moves gtid_binlog_pos only, so gtid_slave_pos is
    // reconciled; MySQL's client keeps each transaction's GTID in gtid_executed.
    assert!(
        out.contains("the dead master's binlog tail: applied")
            && (lab_is_mysql() || out.contains("gtid_slave_pos set to")),
        "the tail was applied client-side and gtid_slave_pos reconciled: {out}"
    );
    assert_no_loss(&first, HOSTS[1], &[HOSTS[2]]);

    // The old master comes back and rejoins as a slave of db2, as a DBA would.
    fault("start-mysqld", "db1");
    let rejoin = if lab_is_mysql() {
        format!(
            "SET GLOBAL super_read_only = 1; {}",
            lab_repoint_sql("198.18.0.12")
        )
    } else {
        "SET GLOBAL read_only = 1; CHANGE MASTER TO MASTER_HOST='198.18.0.12', MASTER_PORT=3306, \
         MASTER_USER='repl', MASTER_PASSWORD='replpass', MASTER_USE_GTID=current_pos; START SLAVE"
            .to_owned()
    };
    sql("db1", &rejoin);
    wait_until("db1 replicating from db2", 30, || {
        let s = slave_status("db1");
        s.contains("Slave_IO_Running: Yes") && s.contains("Slave_SQL_Running: Yes")
    });
    let run = ha_manager(&[
        "switch",
        "--conf",
        &conf,
        "--master-state",
        "alive",
        "--new-master-host",
        "198.18.0.11",
        "--orig-master-is-new-slave",
        "--yes",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let next_id = first.ids().into_iter().max().unwrap_or(0) + 1;
    let writer =
        crate::writer::Writer::start(HOSTS.iter().map(|h| h.to_string()).collect(), next_id);
    wait_until("200 rows on db1", 30, || {
        writer
            .acks()
            .rows
            .iter()
            .filter(|r| r.1 == HOSTS[0])
            .count()
            >= 200
    });
    let second = writer.finish();
    let mut all = first.clone();
    all.rows.extend(second.rows);
    assert_no_loss(&all, HOSTS[0], &[HOSTS[1], HOSTS[2]]);
    let db2 = slave_status("db2");
    assert!(
        db2.contains("Master_Host: 198.18.0.11")
            && db2.contains("Slave_SQL_Running: Yes")
            && db2.contains("Last_SQL_Errno: 0"),
        "db2 replicates from db1 with no error (no 1062):\n{db2}"
    );
}
