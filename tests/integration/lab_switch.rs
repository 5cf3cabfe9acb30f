//! `switch --master-state alive` on the real lab: a planned switchover under a
//! writer that records every acknowledged row, refusals that change nothing,
//! and a real fault after the freeze that must be rolled back.

use std::time::{Duration, Instant};

use crate::lab_failover::{assert_no_loss, conf, start_writer, HOSTS};
use crate::manager::Manager;
use crate::util::{
    fault, ha_manager, lab_dir, lab_lock, rebuild_lab, repo, slave_status, sql, variant,
    wait_until, Run,
};
use crate::writer::Acks;

/// `switch --master-state alive --yes` with `extra` options.
fn switch(conf: &str, extra: &[&str]) -> Run {
    let mut args = vec!["switch", "--conf", conf, "--master-state", "alive", "--yes"];
    args.extend_from_slice(extra);
    ha_manager(&args)
}

/// A number printed after `label` on stdout (`Write freeze: 0.012 s`).
fn number_after(run: &Run, label: &str) -> f64 {
    run.stdout
        .split(label)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in the output:\n{}", run.all()))
}

fn read_only(host: &str) -> bool {
    sql(host, "SELECT @@global.read_only").trim() == "1"
}

/// The longest gap between two acknowledgements that ends within `[from, to]`:
/// the write freeze as the writer saw it around one switch.
fn gap_within(acks: &Acks, from: Instant, to: Instant) -> Duration {
    acks.rows
        .windows(2)
        .filter(|w| w[1].2 >= from && w[1].2 <= to)
        .map(|w| w[1].2.duration_since(w[0].2))
        .max()
        .unwrap_or_default()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn assert_follows(host: &str, master_ip: &str) {
    let status = slave_status(host);
    assert!(
        status.contains(&format!("Master_Host: {master_ip}"))
            && status.contains("Slave_IO_Running: Yes")
            && status.contains("Slave_SQL_Running: Yes"),
        "{host} should replicate from {master_ip}:\n{status}"
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn switchover_under_writes_loses_nothing_and_old_master_follows() {
    let _lab = lab_lock();
    rebuild_lab("gtid");
    let writer = start_writer();
    let before = Instant::now();
    let run = switch(&conf(), &["--orig-master-is-new-slave"]);
    let after = Instant::now();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("Switching master to 198.18.0.12"),
        "{}",
        run.all()
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    let freeze = number_after(&run, "Write freeze: ");
    let total = number_after(&run, "total switch time ");
    eprintln!(
        "SWITCH gap {:.3} s as the writer saw it (longest over the run {:.3} s); freeze window \
         {freeze:.3} s (read_only=1 → read_only=0); switch total {total:.3} s; command ran \
         {:.3} s; {} rows acknowledged",
        gap_within(&acks, before, after + Duration::from_secs(2)).as_secs_f64(),
        acks.longest_gap().as_secs_f64(),
        (after - before).as_secs_f64(),
        acks.rows.len()
    );
    assert!(acks.rows.iter().any(|r| r.1 == HOSTS[0]));
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[0], HOSTS[2]]);
    assert!(read_only("db1"), "the old master stays read-only");
    assert!(!read_only("db2"), "the new master takes writes");
    assert_follows("db1", HOSTS[1]);
    assert_follows("db3", HOSTS[1]);
    assert!(
        slave_status("db2").trim().is_empty(),
        "RESET SLAVE ALL on the new master"
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn switchover_filepos_under_writes_loses_nothing() {
    let _lab = lab_lock();
    rebuild_lab("filepos");
    let writer = start_writer();
    let run = switch(&conf(), &["--orig-master-is-new-slave"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("(at mysql-bin."), "{}", run.all());
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    eprintln!(
        "SWITCH filepos: freeze window {:.3} s, total {:.3} s, writer gap {:.3} s",
        number_after(&run, "Write freeze: "),
        number_after(&run, "total switch time "),
        acks.longest_gap().as_secs_f64()
    );
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[0], HOSTS[2]]);
    assert_follows("db1", HOSTS[1]);
    assert_follows("db3", HOSTS[1]);
    assert!(slave_status("db3").contains(crate::util::lab_filepos_marker()));
}

/// Switches back and forth under writes to measure the freeze window.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn repeated_switchovers_freeze_window() {
    let _lab = lab_lock();
    rebuild_lab("gtid");
    let writer = start_writer();
    let rounds = 6;
    let (mut freezes, mut gaps, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut windows = Vec::new();
    for round in 0..rounds {
        // db1 → db2 → db1 → ...; the old master always becomes a slave.
        let (from, to) = if round % 2 == 0 { (0, 1) } else { (1, 0) };
        let before = Instant::now();
        let run = switch(
            &conf(),
            &["--orig-master-is-new-slave", "--new-master-host", HOSTS[to]],
        );
        let after = Instant::now();
        assert_eq!(run.code, 0, "round {round}: {}", run.all());
        wait_until("writes on the new master", 30, || {
            writer
                .acks()
                .rows
                .last()
                .is_some_and(|r| r.1 == HOSTS[to] && r.2 > after)
        });
        freezes.push(number_after(&run, "Write freeze: "));
        totals.push(number_after(&run, "total switch time "));
        windows.push((before, after, HOSTS[from]));
        // Let replication settle before the next round's lag check.
        std::thread::sleep(Duration::from_millis(500));
    }
    let acks = writer.finish();
    for (before, after, _) in &windows {
        gaps.push(gap_within(&acks, *before, *after + Duration::from_secs(2)).as_secs_f64());
    }
    let describe = |name: &str, values: &mut Vec<f64>| {
        let text = format!(
            "{name}: median {:.3} s, min {:.3} s, max {:.3} s over {} switchovers ({})",
            median(values),
            values.iter().cloned().fold(f64::INFINITY, f64::min),
            values.iter().cloned().fold(0.0, f64::max),
            values.len(),
            values
                .iter()
                .map(|v| format!("{v:.3}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        eprintln!("SWITCH {text}");
        median(values)
    };
    let freeze_median = describe("freeze window (read_only=1 → read_only=0)", &mut freezes);
    describe("gap as the writer saw it", &mut gaps);
    describe("total switch time", &mut totals);
    eprintln!("SWITCH {} rows acknowledged", acks.rows.len());
    let last = if rounds % 2 == 0 { HOSTS[0] } else { HOSTS[1] };
    let others: Vec<&str> = HOSTS.iter().copied().filter(|h| *h != last).collect();
    assert_no_loss(&acks, last, &others);
    assert!(
        freeze_median < 0.3,
        "median freeze window {freeze_median:.3} s is over the 0.3 s target"
    );
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn switch_refused_when_a_slave_lags() {
    let _lab = lab_lock();
    rebuild_lab("gtid");
    fault("stop-io", "db3");
    for id in 1..=20 {
        sql("db1", &format!("INSERT INTO test.t VALUES ({id}, 'lag')"));
    }
    let run = switch(&conf(), &[]);
    eprintln!("SWITCH refused (lag):\n{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("refused")
            && run
                .stdout
                .lines()
                .any(|l| l.contains("198.18.0.13") && l.contains("IO thread")),
        "the refusal names db3 and its IO thread:\n{}",
        run.all()
    );
    assert!(!read_only("db1"), "db1 still takes writes");
    assert!(slave_status("db2").contains("Master_Host: 198.18.0.11"));
    assert!(slave_status("db3").contains("Master_Host: 198.18.0.11"));
    assert!(!run.stderr.contains("write freeze starts"), "{}", run.all());
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn switch_refused_while_long_write_on_master_or_long_query_on_new_master() {
    let _lab = lab_lock();
    rebuild_lab("gtid");
    sql("db1", "INSERT INTO test.t VALUES (1, 'x')");
    let update = std::thread::spawn(|| sql("db1", "UPDATE test.t SET v = SLEEP(8) WHERE id = 1"));
    let select = std::thread::spawn(|| sql("db2", "SELECT SLEEP(8)"));
    wait_until("the UPDATE to run for 2 s", 10, || {
        sql(
            "db1",
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE INFO LIKE 'UPDATE test.t%' AND TIME >= 2",
        )
        .trim()
            == "1"
    });
    wait_until("the SELECT on db2 to run for 2 s", 10, || {
        sql(
            "db2",
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE INFO = 'SELECT SLEEP(8)' AND TIME >= 2",
        )
        .trim()
            == "1"
    });
    let run = switch(&conf(), &["--running-seconds-limit", "2"]);
    eprintln!("SWITCH refused (long threads):\n{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.all());
    let line = |host: &str, what: &str| {
        run.stdout
            .lines()
            .any(|l| l.contains(host) && l.contains(what))
    };
    assert!(
        line("198.18.0.11", "running_updates_limit") && line("198.18.0.11", "UPDATE test.t"),
        "the refusal names db1 and the UPDATE:\n{}",
        run.all()
    );
    assert!(
        line("198.18.0.12", "running_seconds_limit") && line("198.18.0.12", "SLEEP"),
        "the refusal names db2 and the query:\n{}",
        run.all()
    );
    assert!(!read_only("db1"));
    assert!(slave_status("db2").contains("Master_Host: 198.18.0.11"));
    assert!(slave_status("db3").contains("Master_Host: 198.18.0.11"));
    update.join().unwrap();
    select.join().unwrap();
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn switch_refused_while_the_manager_runs() {
    let _lab = lab_lock();
    rebuild_lab("gtid");
    let manager = Manager::start(&conf(), &[]);
    let run = switch(&conf(), &[]);
    eprintln!("SWITCH refused (manager):\n{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout
            .contains("ha-manager is monitoring this application")
            && run.stdout.contains("ha-manager stop --conf"),
        "{}",
        run.all()
    );
    assert!(!read_only("db1"));
    drop(manager);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn failure_after_the_freeze_rolls_back_without_loss() {
    let _lab = lab_lock();
    rebuild_lab("gtid");
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    let hook = dir.path().join("online_change.sh");
    // The real fault: once the checks have passed, the new master's SQL thread
    // stops, so it cannot reach the frozen position.
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\necho \"$*\" >> {calls}\ncase \"$*\" in\n  --command=stop*) bash {fault} \
             --dir {lab} stop-sql db2 >/dev/null ;;\nesac\nexit 0\n",
            calls = calls.display(),
            fault = repo().join("scripts/lab/fault.sh").display(),
            lab = lab_dir().display()
        ),
    )
    .unwrap();
    let cnf = variant(&crate::util::lab_conf(), dir.path(), |text| {
        text.replace(
            "[server default]\n",
            &format!(
                "[server default]\nmaster_ip_online_change_script=/bin/sh {}\n",
                hook.display()
            ),
        )
    });
    let cnf = cnf.to_string_lossy().into_owned();
    let writer = start_writer();
    let run = switch(
        &cnf,
        &[
            "--new-master-host",
            HOSTS[1],
            "--catchup-timeout",
            "2",
            "--orig-master-is-new-slave",
        ],
    );
    let after = Instant::now();
    eprintln!("SWITCH rolled back:\n{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout
            .contains("did not execute everything up to the frozen position")
            && run.stdout.contains("rolled back"),
        "{}",
        run.all()
    );
    assert!(!read_only("db1"), "the old master takes writes again");
    assert!(read_only("db2"), "the candidate stays read-only");
    wait_until("the writer back on db1", 30, || {
        writer
            .acks()
            .rows
            .last()
            .is_some_and(|r| r.1 == HOSTS[0] && r.2 > after)
    });
    let hook_calls = std::fs::read_to_string(&calls).unwrap();
    let lines: Vec<&str> = hook_calls.lines().collect();
    assert_eq!(lines.len(), 2, "{hook_calls}");
    assert!(lines[0].starts_with("--command=stop"), "{hook_calls}");
    assert!(
        lines[1].starts_with("--command=start")
            && lines[1].contains("--new_master_host=198.18.0.11"),
        "the rollback gives the writes back to db1: {hook_calls}"
    );
    fault("start-slave", "db2");
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    eprintln!(
        "SWITCH rollback: {} rows acknowledged, longest write gap {:.3} s",
        acks.rows.len(),
        acks.longest_gap().as_secs_f64()
    );
    assert_no_loss(&acks, HOSTS[0], &[HOSTS[1], HOSTS[2]]);
    assert_follows("db2", HOSTS[0]);
    assert_follows("db3", HOSTS[0]);
}

/// A hook whose calls matching a `case` pattern (e.g. `--command=start` for
/// the new master, db2) hang in a child process (the write freeze is then
/// held open, observable): it records its calls, its own pid and its
/// child's (one line per hanging call), and touches `started`.
struct HangingStartHook {
    dir: tempfile::TempDir,
    conf: String,
}

impl HangingStartHook {
    fn new(pattern: &str) -> HangingStartHook {
        let dir = tempfile::tempdir().unwrap();
        let hook = dir.path().join("online_change.sh");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\necho \"$*\" >> {d}/calls\ncase \"$*\" in\n  {pattern})\n    \
                 echo $$ >> {d}/hook.pid\n    sleep 40 &\n    echo $! >> {d}/sleep.pid\n    \
                 touch {d}/started\n    wait ;;\nesac\nexit 0\n",
                d = dir.path().display()
            ),
        )
        .unwrap();
        let cnf = variant(&crate::util::lab_conf(), dir.path(), |text| {
            text.replace(
                "[server default]\n",
                &format!(
                    "[server default]\nmaster_ip_online_change_script=/bin/sh {}\n",
                    hook.display()
                ),
            )
        });
        let conf = cnf.to_string_lossy().into_owned();
        HangingStartHook { dir, conf }
    }

    fn file(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.file("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Neither the hook nor its child is left (a zombie counts as gone).
    fn assert_gone(&self) {
        let pids = ["hook.pid", "sleep.pid"].map(|name| {
            let text = std::fs::read_to_string(self.file(name)).unwrap();
            text.lines()
                .map(|l| (name, l.trim().to_owned()))
                .collect::<Vec<_>>()
        });
        for (name, pid) in pids.iter().flatten() {
            let running = || {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|stat| !stat.contains(") Z "))
            };
            let deadline = Instant::now() + Duration::from_secs(3);
            while running() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(
                !running(),
                "the hook's process {pid} ({name}) outlived the manager"
            );
        }
    }
}

/// `switch --master-state alive` in the background, with the hook above.
fn spawn_switch(hook: &HangingStartHook) -> Manager {
    Manager::spawn_command(
        &[
            "switch",
            "--conf",
            &hook.conf,
            "--master-state",
            "alive",
            "--yes",
            "--new-master-host",
            HOSTS[1],
            "--orig-master-is-new-slave",
        ],
        None,
    )
}

/// Waits until the switch is inside the start hook: the write freeze is on.
fn wait_in_freeze(hook: &HangingStartHook, m: &Manager) {
    wait_until("the switch to run the start hook", 60, || {
        hook.file("started").exists()
    });
    assert!(read_only("db1"), "the orig master is frozen:\n{}", m.text());
    assert!(
        slave_status("db2").contains("Slave_SQL_Running: No"),
        "the candidate's replication is stopped:\n{}",
        m.text()
    );
}

/// SIGTERM/SIGINT/SIGHUP once, in the write freeze (inside the start hook,
/// before read_only=0 on the new master): the switch rolls back, the orig
/// master takes the writer's inserts again, the candidate replicates from it,
/// nothing acknowledged is lost, and the hook does not outlive the manager.
fn a_signal_in_the_freeze_rolls_back(signal: &str) {
    let _lab = lab_lock();
    rebuild_lab("gtid");
    let hook = HangingStartHook::new("--command=start*--new_master_host=198.18.0.12*");
    let writer = start_writer();
    let mut m = spawn_switch(&hook);
    wait_in_freeze(&hook, &m);
    let signalled = Instant::now();
    m.signal(signal);
    let code = m.wait_exit(30);
    let exited = Instant::now();
    let out = m.text();
    eprintln!(
        "SWITCH SIG{signal} in the freeze: exit {code} after {:.3} s\n{out}",
        (exited - signalled).as_secs_f64()
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "Rolled back: the switch was interrupted by SIG{signal}; the orig master \
             198.18.0.11(198.18.0.11:3306) accepts writes again."
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "rolled back: the switch was interrupted by SIG{signal}"
        )),
        "the report says it: {out}"
    );
    let journal = std::fs::read_to_string(lab_dir().join("manager/app1.switch.journal.jsonl"))
        .expect("the switch's journal file");
    assert!(
        journal.contains(&format!(
            "rolled back: the switch was interrupted by SIG{signal}"
        )),
        "the journal records the rollback: {journal}"
    );
    hook.assert_gone();
    assert!(!read_only("db1"), "the orig master takes writes again");
    assert!(read_only("db2"), "the candidate stays read-only");
    assert_follows("db2", HOSTS[0]);
    assert_follows("db3", HOSTS[0]);
    wait_until("the writer's inserts on db1 again", 30, || {
        writer
            .acks()
            .rows
            .last()
            .is_some_and(|r| r.1 == HOSTS[0] && r.2 > exited)
    });
    std::thread::sleep(Duration::from_millis(300));
    let acks = writer.finish();
    let calls = hook.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert!(calls[0].starts_with("--command=stop"), "{calls:#?}");
    assert!(
        calls[2].starts_with("--command=start")
            && calls[2].contains("--new_master_host=198.18.0.11"),
        "the writes are given back to db1: {calls:#?}"
    );
    eprintln!(
        "SWITCH SIG{signal} rollback: {} rows acknowledged, longest write gap {:.3} s",
        acks.rows.len(),
        acks.longest_gap().as_secs_f64()
    );
    assert_no_loss(&acks, HOSTS[0], &[HOSTS[1], HOSTS[2]]);
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn sigterm_during_the_write_freeze_rolls_back_without_loss() {
    a_signal_in_the_freeze_rolls_back("TERM");
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn sigint_during_the_write_freeze_rolls_back_without_loss() {
    a_signal_in_the_freeze_rolls_back("INT");
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn sighup_during_the_write_freeze_rolls_back_without_loss() {
    a_signal_in_the_freeze_rolls_back("HUP");
}

/// A second SIGTERM while the rollback waits on a hanging hook (the one that
/// gives the writes back to db1): the manager exits at once (130) and says
/// where it stopped; the hook dies with it.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn a_second_sigterm_exits_at_once_and_the_hook_dies_with_the_manager() {
    let _lab = lab_lock();
    rebuild_lab("gtid");
    let hook = HangingStartHook::new("--command=start*");
    let mut m = spawn_switch(&hook);
    wait_in_freeze(&hook, &m);
    m.signal("TERM");
    wait_until("the rollback's hook to hang", 30, || {
        std::fs::read_to_string(hook.file("sleep.pid")).is_ok_and(|t| t.lines().count() == 2)
    });
    m.signal("TERM");
    let code = m.wait_exit(10);
    let out = m.text();
    eprintln!("SWITCH two SIGTERMs: exit {code}\n{out}");
    assert_eq!(code, 130, "{out}");
    hook.assert_gone();
    assert!(
        out.contains("INTERRUPTED by a second SIGTERM") && out.contains("make sure exactly one"),
        "it says where it stopped and what to check: {out}"
    );
}
