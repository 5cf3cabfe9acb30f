//! A running `ha-manager start` in the background, its log, and its timings.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Manager {
    child: Option<Child>,
    /// The manager's log: what it printed, or its `manager_log` file.
    pub log: PathBuf,
    /// What it printed on stdout and stderr.
    pub terminal: PathBuf,
    _dir: tempfile::TempDir,
}

impl Manager {
    /// Starts `ha-manager start --conf CONF EXTRA...` and waits until it reports PING_OK.
    pub(crate) fn start(conf: &str, extra: &[&str]) -> Manager {
        Manager::start_with_log(conf, extra, None)
    }

    /// [`Manager::start`] for a config that sets `manager_log`: the log is read from that file.
    pub(crate) fn start_with_log(
        conf: &str,
        extra: &[&str],
        manager_log: Option<&Path>,
    ) -> Manager {
        let m = Manager::spawn(conf, extra, manager_log);
        m.wait_log("Monitoring ", 30);
        crate::util::wait_until("status PING_OK", 15, || {
            crate::util::ha_manager(&["status", "--conf", conf]).code == 0
        });
        m
    }

    /// Starts `ha-manager start` without waiting for anything (for a start that must refuse).
    pub(crate) fn spawn(conf: &str, extra: &[&str], manager_log: Option<&Path>) -> Manager {
        let mut args = vec!["start", "--conf", conf];
        args.extend_from_slice(extra);
        Manager::spawn_command(&args, manager_log)
    }

    /// Starts `ha-manager ARGS...` (e.g. a `switch`) in the background.
    pub(crate) fn spawn_command(args: &[&str], manager_log: Option<&Path>) -> Manager {
        let dir = tempfile::tempdir().unwrap();
        let terminal = dir.path().join("manager.log");
        let file = std::fs::File::create(&terminal).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_ha-manager"))
            .args(args)
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .expect("start ha-manager");
        Manager {
            child: Some(child),
            log: manager_log.map_or_else(|| terminal.clone(), Path::to_path_buf),
            terminal,
            _dir: dir,
        }
    }

    /// What the manager printed on stdout and stderr.
    pub(crate) fn terminal_text(&self) -> String {
        std::fs::read_to_string(&self.terminal).unwrap_or_default()
    }

    pub(crate) fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub(crate) fn wait_log(&self, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.text().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "timed out after {secs}s waiting for '{needle}' in the manager log:\n{}",
            self.text()
        );
    }

    /// Waits for the manager to exit on its own; returns its exit code.
    pub(crate) fn wait_exit(&mut self, secs: u64) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                panic!("manager still running after {secs}s:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL (the manager gets no chance to clean up), then reap it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (`TERM`, `INT`, `HUP`) to the manager this test started.
    pub(crate) fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// The log line timestamp (`2026-11-22 02:01:41.662`) of the first line containing `needle`.
    pub(crate) fn time_of(&self, needle: &str) -> Option<chrono::NaiveDateTime> {
        self.text()
            .lines()
            .find(|l| l.contains(needle))
            .and_then(|l| {
                chrono::NaiveDateTime::parse_from_str(l.get(..23)?, "%Y-%m-%d %H:%M:%S%.3f").ok()
            })
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        // Only the child this test started.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Local wall time in the log's format, for timing from a fault.
pub(crate) fn now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

pub(crate) fn secs(from: chrono::NaiveDateTime, to: Option<chrono::NaiveDateTime>) -> f64 {
    to.map(|t| (t - from).num_milliseconds() as f64 / 1000.0)
        .unwrap_or(f64::NAN)
}
