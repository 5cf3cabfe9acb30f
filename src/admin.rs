//! `status` and `stop`: read the health file, signal a running manager.
//!
//! Edge helpers for the `status` and `stop` commands (MHA's
//! `masterha_check_status` and `masterha_stop`). They read the workdir files
//! written by `state::HealthWriter` and `state::AppLock`; the printed lines
//! and the numeric states are MHA's, so scripts that parse them keep working.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::config::{AppSettings, Config};
use crate::state::{
    judge_status, HealthRecord, LockHolder, MarkerKind, StateError, StatusCode, StatusInput,
    Workdir,
};

/// What `status` found: the state (also the exit code), MHA's line, and
/// the same facts as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub code: StatusCode,
    /// MHA's one-line summary, e.g. `app1 (pid:5057) is running(0:PING_OK), master:198.18.0.11`.
    pub line: String,
    /// Further lines MHA prints after it (`Check <log> for details.`).
    pub extra: Vec<String>,
    pub json: serde_json::Value,
}

/// How `stop` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    /// Nothing to stop.
    NotRunning,
    /// The manager exited after SIGTERM.
    Stopped { pid: u32, waited: Duration },
    /// `--abort`: it ignored SIGTERM and was killed. When it was failing
    /// over, `error_marker` is the `failover.error` file written so that no
    /// later automatic failover runs over a half-switched topology.
    Killed {
        pid: u32,
        error_marker: Option<PathBuf>,
    },
}

impl StopOutcome {
    /// MHA's `masterha_stop` wording.
    pub fn message(&self, app: &str) -> String {
        match self {
            StopOutcome::NotRunning => format!(
                "ha-manager is not running on {app}({}).",
                StatusCode::NotRunning
            ),
            StopOutcome::Stopped { .. } => format!("Stopped {app} successfully."),
            StopOutcome::Killed {
                pid,
                error_marker: None,
            } => format!("Forced stopped {app} (pid {pid} killed)."),
            StopOutcome::Killed {
                pid,
                error_marker: Some(marker),
            } => format!(
                "Forced stopped {app} (pid {pid} killed during a failover); wrote {} so that \
                 no automatic failover runs until the topology has been checked.",
                marker.display()
            ),
        }
    }
}

/// Why `status` or `stop` could not do their job.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("Currently failover is running on {app} (pid {pid}). Should not stop; use --abort to stop it anyway")]
    FailoverRunning { app: String, pid: u32 },
    #[error("Manager process {pid} of {app} didn't stop in {} seconds; use --abort to kill it", .waited.as_secs())]
    DidNotStop {
        app: String,
        pid: u32,
        waited: Duration,
    },
    #[error("Manager process {pid} of {app} is still there after SIGKILL")]
    Unkillable { app: String, pid: u32 },
    #[error(
        "the health file of {app} names pid {health_pid} but the lock is held by pid {lock_pid}; \
         not signalling either, check by hand"
    )]
    PidMismatch {
        app: String,
        health_pid: u32,
        lock_pid: u32,
    },
    #[error("the health file of {app} names pid {pid}, which cannot be a manager")]
    BadPid { app: String, pid: u32 },
    #[error("cannot signal pid {pid}: {source}")]
    Signal {
        pid: u32,
        #[source]
        source: io::Error,
    },
}

/// `status`'s staleness limit when none is given: three pings plus a
/// connect timeout, at least 10 s (MHA's default `ping_limit`).
pub fn default_ping_limit(settings: &AppSettings) -> Duration {
    (settings.ping_interval * 3 + settings.mysql_timeout).max(Duration::from_secs(10))
}

/// `ha-manager status`; `ping_limit` `None` = [`default_ping_limit`].
pub fn status(config: &Config, ping_limit: Option<Duration>) -> Result<StatusReport, AdminError> {
    let limit = ping_limit.unwrap_or_else(|| default_ping_limit(&config.settings));
    status_of(
        &Workdir::of(config),
        limit,
        config.settings.manager_log.as_deref(),
    )
}

/// [`status`] for a workdir, for tests and callers without a config.
pub fn status_of(
    workdir: &Workdir,
    ping_limit: Duration,
    manager_log: Option<&Path>,
) -> Result<StatusReport, AdminError> {
    let found = workdir.read_health()?;
    let (record, modified) = match &found {
        Some((record, modified)) => (Some(record), Some(*modified)),
        None => (None, None),
    };
    let pid_alive = record.is_some_and(|r| pid_alive(r.pid));
    // An mtime in the future (clock stepped back) counts as fresh.
    let age = modified
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .unwrap_or_default();
    let health_path = workdir.health();
    let health_file = health_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (code, mut lines) = judge_status(&StatusInput {
        app: workdir.app(),
        record,
        pid_alive,
        age,
        ping_limit,
        health_file: &health_file,
        manager_log,
    });
    let line = if lines.is_empty() {
        String::new()
    } else {
        lines.remove(0)
    };
    let json = status_json(
        workdir,
        code,
        &line,
        record,
        pid_alive,
        modified.map(|_| age),
        ping_limit,
    );
    Ok(StatusReport {
        code,
        line,
        extra: lines,
        json,
    })
}

fn status_json(
    workdir: &Workdir,
    code: StatusCode,
    line: &str,
    record: Option<&HealthRecord>,
    running: bool,
    age: Option<Duration>,
    ping_limit: Duration,
) -> serde_json::Value {
    let marker = |kind| {
        workdir
            .read_marker(kind)
            .ok()
            .flatten()
            .map(|m| {
                serde_json::json!({
                    "path": m.path.display().to_string(),
                    "modified": m.modified.to_rfc3339(),
                })
            })
            .unwrap_or(serde_json::Value::Null)
    };
    serde_json::json!({
        "app": workdir.app(),
        "code": code.number(),
        "state": code.name(),
        "line": line,
        "running": running,
        "pid": record.map(|r| r.pid),
        "master": record.and_then(|r| r.master.clone()),
        "recorded_state": record.map(|r| r.code.to_string()),
        "health_file": workdir.health().display().to_string(),
        "health_age_seconds": age.map(|a| a.as_secs()),
        "ping_limit_seconds": ping_limit.as_secs(),
        // The monitor's own details (counters, last error), when it wrote them.
        "monitor": workdir.read_health_json(),
        "failover_error_marker": marker(MarkerKind::Error),
        "failover_complete_marker": marker(MarkerKind::Complete),
    })
}

/// `ha-manager stop`: SIGTERM the running manager and wait up to `timeout`
/// for it to exit; with `abort`, also stop it during a failover and SIGKILL
/// it when the timeout passes.
///
/// Blocks the calling thread while it waits (it is meant for the `stop`
/// command, which does nothing else).
pub fn stop(config: &Config, abort: bool, timeout: Duration) -> Result<StopOutcome, AdminError> {
    stop_in(&Workdir::of(config), abort, timeout)
}

/// [`stop`] for a workdir.
pub fn stop_in(
    workdir: &Workdir,
    abort: bool,
    timeout: Duration,
) -> Result<StopOutcome, AdminError> {
    let app = workdir.app().to_string();
    let Some((record, _)) = workdir.read_health()? else {
        return Ok(StopOutcome::NotRunning);
    };
    // The pid in a health file left by a crashed manager may since belong
    // to any process; only a pid whose manager still holds the application
    // lock is signalled.
    match workdir.lock_holder()? {
        LockHolder::Free => return Ok(StopOutcome::NotRunning),
        LockHolder::Held {
            pid: Some(lock_pid),
        } if lock_pid != record.pid => {
            return Err(AdminError::PidMismatch {
                app,
                health_pid: record.pid,
                lock_pid,
            })
        }
        LockHolder::Held { .. } => {}
    }
    let pid = record.pid;
    // 0 and negative pids address process groups, 1 is init, and we never
    // stop ourselves.
    if pid <= 1 || i32::try_from(pid).is_err() || pid == std::process::id() {
        return Err(AdminError::BadPid { app, pid });
    }
    if !pid_alive(pid) {
        return Ok(StopOutcome::NotRunning);
    }
    let failing_over = record.code == StatusCode::FailoverRunning;
    if failing_over && !abort {
        return Err(AdminError::FailoverRunning { app, pid });
    }
    let started = Instant::now();
    send_signal(pid, libc::SIGTERM)?;
    if wait_gone(pid, timeout) {
        return Ok(StopOutcome::Stopped {
            pid,
            waited: started.elapsed(),
        });
    }
    if !abort {
        return Err(AdminError::DidNotStop {
            app,
            pid,
            waited: timeout,
        });
    }
    send_signal(pid, libc::SIGKILL)?;
    // SIGKILL cannot be caught; a few seconds cover a busy machine.
    if !wait_gone(pid, Duration::from_secs(5)) {
        return Err(AdminError::Unkillable { app, pid });
    }
    let error_marker = if failing_over {
        Some(workdir.create_marker(
            MarkerKind::Error,
            &format!("manager pid {pid} was killed by `ha-manager stop --abort` during a failover"),
        )?)
    } else {
        None
    };
    Ok(StopOutcome::Killed { pid, error_marker })
}

/// Polls until `pid` is gone or `limit` passes; true when gone.
fn wait_gone(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !pid_alive(pid) {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
    }
}

/// `kill(pid, 0)`: does a process with this pid exist? (EPERM means it
/// exists but belongs to someone else.)
pub fn pid_alive(pid: u32) -> bool {
    match i32::try_from(pid) {
        // 0 would probe our own process group, not a process.
        Ok(p) if p > 0 => match raw_kill(p, 0) {
            Ok(()) => !is_zombie(pid),
            Err(e) => e.raw_os_error() == Some(libc::EPERM),
        },
        _ => false,
    }
}

/// A zombie has exited and only waits for its parent to reap it: it is not
/// running, although signal 0 still reaches it.
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The state follows the command name, which is in parentheses and may contain spaces.
            let after = stat.rsplit_once(')')?.1;
            after.split_whitespace().next().map(|state| state == "Z")
        })
        .unwrap_or(false)
}

fn send_signal(pid: u32, signal: libc::c_int) -> Result<(), AdminError> {
    let p = i32::try_from(pid).map_err(|_| AdminError::Signal {
        pid,
        source: io::Error::from(io::ErrorKind::InvalidInput),
    })?;
    match raw_kill(p, signal) {
        Ok(()) => Ok(()),
        // It exited between our check and the signal: that is what we wanted.
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
        Err(source) => Err(AdminError::Signal { pid, source }),
    }
}

/// `kill(2)` for one positive pid.
#[allow(unsafe_code)]
fn raw_kill(pid: i32, signal: libc::c_int) -> io::Result<()> {
    if pid <= 0 {
        // Never let a bad pid turn into "every process in the group" (0)
        // or "every process we may signal" (-1).
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    // SAFETY: kill takes two integers and touches no memory of ours.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod zombie_tests {
    use super::*;

    #[test]
    fn an_exited_unreaped_child_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // It stays a zombie until we wait for it; give it (bounded) time to exit.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !is_zombie(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(is_zombie(pid), "the child did not exit within 10 s");
        assert!(!pid_alive(pid), "zombie counted as alive");
        child.wait().unwrap();
        assert!(pid_alive(std::process::id()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{AppLock, HealthRecord};
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
        let mut s = crate::config::resolve_str(
            "app1.cnf",
            "[server1]\nhostname=198.18.0.11\n",
            false,
            None,
        )
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
        assert!(matches!(err, AdminError::FailoverRunning { .. }), "{err}");
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
        assert!(matches!(err, AdminError::DidNotStop { .. }), "{err}");
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
        assert!(matches!(err, AdminError::PidMismatch { .. }), "{err}");
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
            assert!(matches!(err, AdminError::BadPid { .. }), "{pid}: {err}");
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
}
