//! Tests of `status` and `stop` against real workdir files and child processes.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::pid::pid_alive;
use super::status::{default_ping_limit, status, status_of};
use super::stop::{stop, stop_in, StopError, StopOutcome};
use crate::state::{AppLock, HealthRecord};
use crate::state::{MarkerKind, StatusCode, Workdir};
use std::process::{Child, Command};

fn write_health(w: &Workdir, pid: u32, code: StatusCode) {
    w.write_health(&HealthRecord {
        pid,
        code,
        master: Some("198.18.0.11".into()),
    })
    .expect("write health");
}

/// A child that stands in for a running manager. A thread reaps it so
/// that it does not linger as a zombie (which `kill(pid, 0)` still sees).
struct Spawned {
    pid: u32,
    reaper: std::thread::JoinHandle<Option<std::process::ExitStatus>>,
}

fn spawn(cmd: &mut Command) -> Spawned {
    let mut child: Child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let reaper = std::thread::spawn(move || child.wait().ok());
    Spawned { pid, reaper }
}

#[test]
fn default_limit() {
    let mut s =
        crate::config::resolve_str("app1.cnf", "[server1]\nhostname=198.18.0.11\n", false, None)
            .expect("config")
            .settings;
    assert_eq!(default_ping_limit(&s), Duration::from_secs(14));
    s.ping_interval = Duration::from_secs(1);
    s.mysql_timeout = Duration::from_secs(1);
    assert_eq!(default_ping_limit(&s), Duration::from_secs(10));
}

#[test]
fn status_without_file_is_not_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Workdir::new(dir.path(), "app1");
    let r = status_of(&w, Duration::from_secs(10), None).expect("status");
    assert_eq!(r.code, StatusCode::NotRunning);
    assert_eq!(r.line, "app1 is stopped(2:NOT_RUNNING).");
    assert_eq!(r.json["code"], 2);
    assert_eq!(r.json["running"], false);
}

#[test]
fn status_of_a_live_pid_and_of_a_stale_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Workdir::new(dir.path(), "app1");
    // Our own pid is certainly alive.
    let me = std::process::id();
    write_health(&w, me, StatusCode::PingOk);
    let r = status_of(&w, Duration::from_secs(10), None).expect("status");
    assert_eq!(r.code, StatusCode::PingOk);
    assert_eq!(
        r.line,
        format!("app1 (pid:{me}) is running(0:PING_OK), master:198.18.0.11")
    );
    assert_eq!(r.json["pid"], me);
    assert_eq!(r.json["master"], "198.18.0.11");

    // Backdate: the manager stopped touching it.
    let old = SystemTime::now() - Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(w.health())
        .and_then(|f| f.set_modified(old))
        .expect("backdate");
    let r = status_of(&w, Duration::from_secs(10), None).expect("status");
    assert_eq!(r.code, StatusCode::TimestampOld);
    assert!(r.line.contains("Maybe process hangs?"), "{}", r.line);
    assert_eq!(r.json["state"], "TIMESTAMP_OLD");

    write_health(&w, me, StatusCode::FailoverRunning);
    w.create_marker(MarkerKind::Error, "test").expect("marker");
    let r = status_of(
        &w,
        Duration::from_secs(10),
        Some(Path::new("/tmp/app1.log")),
    )
    .expect("status");
    assert_eq!(r.code, StatusCode::FailoverRunning);
    assert_eq!(
        r.extra,
        vec!["Check /tmp/app1.log for details.".to_string()]
    );
    assert!(r.json["failover_error_marker"]["path"]
        .as_str()
        .is_some_and(|p| p.ends_with("app1.failover.error")));
}

#[test]
fn status_of_a_dead_pid_is_not_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Workdir::new(dir.path(), "app1");
    let child = spawn(&mut Command::new("true"));
    let pid = child.pid;
    child.reaper.join().expect("reaped");
    write_health(&w, pid, StatusCode::PingOk);
    let r = status_of(&w, Duration::from_secs(10), None).expect("status");
    assert_eq!(r.code, StatusCode::NotRunning);
    assert_eq!(r.json["recorded_state"], "0:PING_OK");
}

#[test]
fn stop_terminates_the_manager() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Workdir::new(dir.path(), "app1");
    let child = spawn(Command::new("sleep").arg("30"));
    write_health(&w, child.pid, StatusCode::PingOk);
    // Stand in for the manager's lock, with the child's pid in it.
    let _lock = AppLock::acquire(&w).expect("lock");
    std::fs::write(w.lock(), format!("{}\n", child.pid)).expect("pid");
    let out = stop_in(&w, false, Duration::from_secs(5)).expect("stop");
    match out {
        StopOutcome::Stopped { pid, waited } => {
            assert_eq!(pid, child.pid);
            assert!(waited < Duration::from_secs(5));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(out.message("app1"), "Stopped app1 successfully.");
    let status = child.reaper.join().expect("reaped").expect("status");
    assert!(!status.success(), "killed by SIGTERM: {status:?}");
}

#[test]
fn stop_refuses_during_failover_and_aborts_with_kill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Workdir::new(dir.path(), "app1");
    // A child that ignores SIGTERM, as a manager stuck in a failover might.
    let child = spawn(Command::new("sh").args(["-c", "trap '' TERM; exec sleep 30"]));
    // Give sh time to install the trap before we signal it.
    std::thread::sleep(Duration::from_millis(200));
    write_health(&w, child.pid, StatusCode::FailoverRunning);
    let _lock = AppLock::acquire(&w).expect("lock");
    std::fs::write(w.lock(), format!("{}\n", child.pid)).expect("pid");

    let err = stop_in(&w, false, Duration::from_secs(1)).expect_err("refuse");
    assert!(matches!(err, StopError::FailoverRunning { .. }), "{err}");
    assert!(pid_alive(child.pid), "refusal must not signal");

    let out = stop_in(&w, true, Duration::from_millis(300)).expect("abort");
    match &out {
        StopOutcome::Killed {
            pid,
            error_marker: Some(marker),
        } => {
            assert_eq!(*pid, child.pid);
            assert!(marker.ends_with("app1.failover.error"));
        }
        other => panic!("{other:?}"),
    }
    assert!(w.read_marker(MarkerKind::Error).expect("read").is_some());
    child.reaper.join().expect("reaped");
}

#[test]
fn stop_without_timeout_reports_did_not_stop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Workdir::new(dir.path(), "app1");
    let child = spawn(Command::new("sh").args(["-c", "trap '' TERM; exec sleep 30"]));
    std::thread::sleep(Duration::from_millis(200));
    write_health(&w, child.pid, StatusCode::PingOk);
    let lock = AppLock::acquire(&w).expect("lock");
    std::fs::write(w.lock(), format!("{}\n", child.pid)).expect("pid");
    let err = stop_in(&w, false, Duration::from_millis(300)).expect_err("did not stop");
    assert!(matches!(err, StopError::DidNotStop { .. }), "{err}");
    // Clean up the child we started (it ignores TERM).
    drop(lock);
    let _lock = AppLock::acquire(&w).expect("lock");
    std::fs::write(w.lock(), format!("{}\n", child.pid)).expect("pid");
    let out = stop_in(&w, true, Duration::from_millis(100)).expect("abort");
    assert!(
        matches!(
            out,
            StopOutcome::Killed {
                error_marker: None,
                ..
            }
        ),
        "{out:?}"
    );
    child.reaper.join().expect("reaped");
}

#[test]
fn stop_never_signals_a_pid_without_the_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Workdir::new(dir.path(), "app1");
    let child = spawn(Command::new("sleep").arg("30"));
    // A stale health file naming a live, unrelated process; no lock held.
    write_health(&w, child.pid, StatusCode::PingOk);
    let out = stop_in(&w, true, Duration::from_millis(100)).expect("stop");
    assert_eq!(out, StopOutcome::NotRunning);
    assert!(pid_alive(child.pid), "must not have been signalled");

    // A lock held by a different pid than the health file names.
    let _lock = AppLock::acquire(&w).expect("lock");
    let err = stop_in(&w, true, Duration::from_millis(100)).expect_err("mismatch");
    assert!(matches!(err, StopError::PidMismatch { .. }), "{err}");
    assert!(pid_alive(child.pid));

    // Clean up our own child.
    std::fs::write(w.lock(), format!("{}\n", child.pid)).expect("pid");
    stop_in(&w, true, Duration::from_secs(5)).expect("stop");
    child.reaper.join().expect("reaped");
}

#[test]
fn stop_refuses_bad_pids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Workdir::new(dir.path(), "app1");
    let _lock = AppLock::acquire(&w).expect("lock");
    for pid in [0u32, 1, std::process::id()] {
        write_health(&w, pid, StatusCode::PingOk);
        std::fs::write(w.lock(), format!("{pid}\n")).expect("pid");
        let err = stop_in(&w, true, Duration::from_millis(10)).expect_err("bad pid");
        assert!(matches!(err, StopError::BadPid { .. }), "{pid}: {err}");
    }
    assert!(!pid_alive(0));
    assert!(pid_alive(std::process::id()));
}

#[test]
fn status_from_a_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[server default]\nmanager_workdir={}\n[server1]\nhostname=198.18.0.11\n",
        dir.path().display()
    );
    let config = crate::config::resolve_str("app1.cnf", &text, false, None).expect("config");
    let r = status(&config, None).expect("status");
    assert_eq!(r.code, StatusCode::NotRunning);
    assert_eq!(r.json["ping_limit_seconds"], 14);
    write_health(
        &Workdir::of(&config),
        std::process::id(),
        StatusCode::PingFailing,
    );
    let r = status(&config, Some(Duration::from_secs(30))).expect("status");
    assert_eq!(r.code, StatusCode::PingFailing);
    assert_eq!(
        r.line,
        "app1 master maybe down(20:PING_FAILING). master:198.18.0.11"
    );
    assert_eq!(
        stop(&config, false, Duration::from_secs(1)).expect("stop"),
        StopOutcome::NotRunning
    );
}

#[test]
fn stop_with_nothing_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Workdir::new(dir.path(), "app1");
    let out = stop_in(&w, false, Duration::from_secs(1)).expect("stop");
    assert_eq!(out, StopOutcome::NotRunning);
    assert_eq!(
        out.message("app1"),
        "ha-manager is not running on app1(2:NOT_RUNNING)."
    );
}
