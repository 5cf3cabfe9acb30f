//! `stop`: signal a running manager and wait for it to exit (MHA's `masterha_stop`).
//!
//! Only a pid whose manager holds the application lock (`state::AppLock`) is
//! signalled; the printed lines are MHA's.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cli::StopArgs;
use crate::config::Config;
use crate::exit::Exit;
use crate::state::{LockHolder, MarkerKind, StateError, StatusCode, Workdir};

use super::pid::{pid_alive, raw_kill};

/// `ha-manager stop`: blocks a worker thread while it waits, then prints MHA's line.
pub(super) async fn run(config: Config, args: StopArgs) -> anyhow::Result<Exit> {
    let timeout = Duration::from_secs(args.abort_timeout);
    let outcome = tokio::task::spawn_blocking(move || {
        stop(&config, args.abort, timeout).map(|o| (o, config.app.clone()))
    })
    .await??;
    println!("{}", outcome.0.message(&outcome.1));
    Ok(Exit::Ok)
}

/// How `stop` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StopOutcome {
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
    pub(super) fn message(&self, app: &str) -> String {
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

/// Why `stop` could not do its job.
#[derive(Debug, thiserror::Error)]
pub(super) enum StopError {
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

/// `ha-manager stop`: SIGTERM the running manager and wait up to `timeout`
/// for it to exit; with `abort`, also stop it during a failover and SIGKILL
/// it when the timeout passes.
///
/// Blocks the calling thread while it waits (it is meant for the `stop`
/// command, which does nothing else).
pub(super) fn stop(
    config: &Config,
    abort: bool,
    timeout: Duration,
) -> Result<StopOutcome, StopError> {
    stop_in(&Workdir::of(config), abort, timeout)
}

/// [`stop`] for a workdir.
pub(super) fn stop_in(
    workdir: &Workdir,
    abort: bool,
    timeout: Duration,
) -> Result<StopOutcome, StopError> {
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
            return Err(StopError::PidMismatch {
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
        return Err(StopError::BadPid { app, pid });
    }
    if !pid_alive(pid) {
        return Ok(StopOutcome::NotRunning);
    }
    let failing_over = record.code == StatusCode::FailoverRunning;
    if failing_over && !abort {
        return Err(StopError::FailoverRunning { app, pid });
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
        return Err(StopError::DidNotStop {
            app,
            pid,
            waited: timeout,
        });
    }
    send_signal(pid, libc::SIGKILL)?;
    // SIGKILL cannot be caught; a few seconds cover a busy machine.
    if !wait_gone(pid, Duration::from_secs(5)) {
        return Err(StopError::Unkillable { app, pid });
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

fn send_signal(pid: u32, signal: libc::c_int) -> Result<(), StopError> {
    let p = i32::try_from(pid).map_err(|_| StopError::Signal {
        pid,
        source: io::Error::from(io::ErrorKind::InvalidInput),
    })?;
    match raw_kill(p, signal) {
        Ok(()) => Ok(()),
        // It exited between our check and the signal: that is what we wanted.
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
        Err(source) => Err(StopError::Signal { pid, source }),
    }
}
