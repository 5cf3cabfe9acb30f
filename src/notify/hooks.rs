//! Running hook scripts the way MHA's users expect, but without a shell.
//!
//! A hook is the configured argv (`master_ip_failover_script = /path/x --vip 10.0.0.5`)
//! with MHA's `--key=value` arguments appended. The same facts are also put in
//! `HA_*` environment variables, and secrets go *only* there: a password in argv is
//! readable by every local user through `/proc/<pid>/cmdline` and lands in logs.
//!
//! The child runs in its own process group under a timeout; on timeout the whole
//! group is killed, so a hook that started `ssh` or `arping` does not leave them
//! behind. Standard output and error are captured (the last [`OUTPUT_LIMIT`] bytes
//! of each) and handed back for the log. What the exit code means is decided by the
//! pure function [`verdict`] (the secondary check's exit codes are read by
//! `policy::death::SecondaryResult::meaning`).

use std::io;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::task::JoinHandle;

use crate::config::model::{HookCommand, Secret};
use crate::journal::HookRan;
use crate::render::hook_args::{env_name, HookArgs, ENV_PREFIX};

/// How much of each of stdout and stderr is kept: the tail, where errors usually are.
pub(crate) const OUTPUT_LIMIT: usize = 64 * 1024;

/// After the hook exits (or is killed) we keep reading its pipes this long, then give
/// up: a daemon it started in the background may hold them open for ever.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// The command line as it would be typed, for the log. Safe to log because secrets
/// are never in argv; words that need it are single-quoted.
pub(crate) fn command_line(command: &HookCommand, args: &HookArgs) -> String {
    command
        .argv
        .iter()
        .cloned()
        .chain(args.to_argv())
        .map(|w| quote_for_display(&w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote_for_display(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,@%+".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What happened when a hook ran.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct HookOutcome {
    /// The exit code; `None` when killed by a signal, timed out or never started.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// The tail of standard output (at most [`OUTPUT_LIMIT`] bytes, lossy UTF-8).
    pub stdout: String,
    /// The tail of standard error.
    pub stderr: String,
    /// From start to exit (or to the kill), not counting the wait for its pipes.
    pub elapsed: Duration,
    /// The timeout expired and the process group was killed.
    pub timed_out: bool,
    /// Why the script could not be started (not found, not executable, ...).
    pub start_error: Option<String>,
}

impl HookOutcome {
    /// A short description for the log: `exit code 10`, `timed out after 5s`, ...
    pub(crate) fn describe(&self) -> String {
        if let Some(err) = &self.start_error {
            return format!("could not run: {err}");
        }
        if self.timed_out {
            return format!(
                "timed out after {:.1}s; its process group was killed",
                self.elapsed.as_secs_f64()
            );
        }
        match (self.code, self.signal) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            (None, None) => "ended without an exit code".to_string(),
        }
    }

    /// The part the journal keeps.
    pub(crate) fn fact(&self) -> HookRan {
        HookRan {
            code: self.code,
            note: if self.code.is_some() {
                None
            } else {
                Some(self.describe())
            },
        }
    }
}

/// MHA's reading of a hook's exit code (`master_ip_failover_script`,
/// `shutdown_script`, `master_ip_online_change_script`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookVerdict {
    /// Exit 0. (For `shutdown_script`: the host is powered off.)
    Done,
    /// Exit 10: failed, but the failover goes on. (For `shutdown_script`: only
    /// mysqld was killed; SSH still works.)
    FailedButContinue,
    /// Any other code, a signal, a timeout, or the script could not start.
    Abort,
}

/// Exit 0 = done, 10 = failed but continue, anything else = abort.
pub(crate) fn verdict(outcome: &HookOutcome) -> HookVerdict {
    if outcome.timed_out || outcome.start_error.is_some() {
        return HookVerdict::Abort;
    }
    match outcome.code {
        Some(0) => HookVerdict::Done,
        Some(10) => HookVerdict::FailedButContinue,
        _ => HookVerdict::Abort,
    }
}

/// Runs `command` with `args` appended, no shell, under `timeout`.
///
/// `secret_env` holds MHA-style keys (`new_master_password`) whose values go only
/// to the environment (`HA_NEW_MASTER_PASSWORD`). Inherited `HA_*` variables are
/// removed first, so a hook never sees a stale fact from the manager's own
/// environment. Never fails: a script that cannot start is an outcome too.
pub(crate) async fn run_hook(
    command: &HookCommand,
    args: &HookArgs,
    secret_env: &[(String, Secret)],
    timeout: Duration,
) -> HookOutcome {
    let started = Instant::now();
    let Some((program, extra)) = command.argv.split_first() else {
        return not_started("the hook command is empty".to_string(), started);
    };

    let mut cmd = Command::new(program);
    cmd.args(extra).args(args.to_argv());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with(ENV_PREFIX) {
            cmd.env_remove(key);
        }
    }
    cmd.envs(args.to_env());
    for (key, secret) in secret_env {
        cmd.env(env_name(key), secret.expose());
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group, so that a timeout can kill everything it started.
        .process_group(0)
        .kill_on_drop(true);

    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(err) => return not_started(format!("{program}: {err}"), started),
    };
    // The group id equals the child's pid (process_group(0)). Read it now: it is
    // gone once the child has been reaped.
    let pgid = child.id();
    let mut guard = GroupGuard::arm(pgid);

    let stdout = Arc::new(Mutex::new(Tail::new(OUTPUT_LIMIT)));
    let stderr = Arc::new(Mutex::new(Tail::new(OUTPUT_LIMIT)));
    let readers = [
        spawn_reader(child.stdout.take(), Arc::clone(&stdout)),
        spawn_reader(child.stderr.take(), Arc::clone(&stderr)),
    ];

    let mut outcome = HookOutcome::default();
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => Some(status),
        Ok(Err(err)) => {
            outcome.start_error = Some(format!("waiting for {program} failed: {err}"));
            kill_everything(&mut child, pgid).await
        }
        Err(_) => {
            outcome.timed_out = true;
            kill_everything(&mut child, pgid).await
        }
    };
    if let Some(status) = status {
        // Reaped: from here the group id may be reused, so never signal it again.
        guard.disarm();
        set_status(&mut outcome, status);
    }

    // Measured before draining: how long the hook ran, not how long a daemon it
    // left behind kept its pipes open.
    outcome.elapsed = started.elapsed();
    drain(readers).await;
    outcome.stdout = lock(&stdout).text();
    outcome.stderr = lock(&stderr).text();
    outcome
}

fn not_started(reason: String, started: Instant) -> HookOutcome {
    HookOutcome {
        start_error: Some(reason),
        elapsed: started.elapsed(),
        ..HookOutcome::default()
    }
}

fn set_status(outcome: &mut HookOutcome, status: std::process::ExitStatus) {
    use std::os::unix::process::ExitStatusExt;
    outcome.code = status.code();
    outcome.signal = status.signal();
}

/// Kills the hook's process group (and the hook itself, in case the group kill
/// failed) and reaps it.
async fn kill_everything(
    child: &mut tokio::process::Child,
    pgid: Option<u32>,
) -> Option<std::process::ExitStatus> {
    if let Some(pgid) = pgid {
        // ESRCH (group already gone) is fine; anything else is covered by start_kill.
        let _ = kill_process_group(pgid);
    }
    let _ = child.start_kill();
    child.wait().await.ok()
}

/// Kills the hook's process group when `run_hook` is cancelled (its future
/// dropped, e.g. by the caller's own `select!`) while the hook still runs;
/// `kill_on_drop` alone would reach only the hook, not what it started.
/// While armed, the group is also listed in [`RUNNING`] for [`kill_running`].
struct GroupGuard(Option<u32>);

/// The process groups of the hooks running now (not reaped yet).
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl GroupGuard {
    fn arm(pgid: Option<u32>) -> GroupGuard {
        if let Some(pgid) = pgid {
            running().push(pgid);
        }
        GroupGuard(pgid)
    }

    fn disarm(&mut self) {
        if let Some(pgid) = self.0.take() {
            running().retain(|p| *p != pgid);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            running().retain(|p| *p != pgid);
            let _ = kill_process_group(pgid);
        }
    }
}

/// Kills the process group of every hook still running, for a process that
/// is about to exit without unwinding (`std::process::exit` runs no
/// destructors, so no [`GroupGuard`] would): no hook outlives the manager.
/// Returns how many groups were signalled.
pub(crate) fn kill_running() -> usize {
    let groups = std::mem::take(&mut *running());
    groups
        .iter()
        .filter(|pgid| kill_process_group(**pgid).is_ok())
        .count()
}

/// `killpg(pgid, SIGKILL)`.
///
/// The crate denies `unsafe_code`; this is the one exception in the notify
/// module: neither std nor tokio can signal a process group, and spawning
/// `kill(1)` would depend on a binary a minimal host may lack.
#[allow(unsafe_code)]
fn kill_process_group(pgid: u32) -> io::Result<()> {
    let pgid = libc::pid_t::try_from(pgid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    if pgid <= 1 {
        // Never signal "every process" (0 is our own group; 1 is init's).
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing pgid <= 1",
        ));
    }
    // SAFETY: killpg only takes two integers and touches no memory of ours. The
    // group is the one our own child leads, and the child is not reaped yet, so
    // the id cannot have been reused by an unrelated group.
    let rc = unsafe { libc::killpg(pgid, libc::SIGKILL) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Waits a little for the pipe readers, then abandons them (see [`DRAIN_GRACE`]).
async fn drain(readers: [JoinHandle<()>; 2]) {
    let aborts: Vec<_> = readers.iter().map(|r| r.abort_handle()).collect();
    let all = async {
        for reader in readers {
            let _ = reader.await;
        }
    };
    if tokio::time::timeout(DRAIN_GRACE, all).await.is_err() {
        for abort in aborts {
            abort.abort();
        }
    }
}

fn spawn_reader<R>(pipe: Option<R>, tail: Arc<Mutex<Tail>>) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let Some(mut pipe) = pipe else { return };
        let mut buf = vec![0u8; 8192];
        loop {
            match pipe.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => lock(&tail).push(&buf[..n]),
            }
        }
    })
}

/// A poisoned lock only means a reader panicked mid-push; the bytes are still usable.
fn lock(tail: &Mutex<Tail>) -> std::sync::MutexGuard<'_, Tail> {
    tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The last `limit` bytes of a stream, and how many were dropped before them.
#[derive(Debug)]
struct Tail {
    buf: Vec<u8>,
    dropped: u64,
    limit: usize,
}

impl Tail {
    fn new(limit: usize) -> Self {
        Tail {
            buf: Vec::new(),
            dropped: 0,
            limit,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > self.limit {
            let excess = self.buf.len() - self.limit;
            self.buf.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    fn text(&self) -> String {
        let body = String::from_utf8_lossy(&self.buf);
        if self.dropped == 0 {
            body.into_owned()
        } else {
            format!("[... {} earlier bytes dropped ...]\n{body}", self.dropped)
        }
    }
}

#[cfg(test)]
#[path = "hooks_tests.rs"]
mod tests;
