//! The manager workdir: health file, per-application lock, failover markers.
//!
//! Files of application `<app>` in `manager_workdir` (MHA's names where MHA has them):
//!
//! | file | what |
//! |---|---|
//! | `<app>.master_status.health` | MHA's health file: `pid<TAB>0:PING_OK<TAB>master:<host>`, no newline; its mtime is refreshed on every ping |
//! | `<app>.master_status.json` | the same and more (counters, last error, time) for `status --json` |
//! | `<app>.lock` | `flock`ed while a manager runs; holds its pid |
//! | `<app>.failover.complete` | written after a successful failover; the 8-hour rule reads its mtime |
//! | `<app>.failover.error` | written when a failover stopped half-way; blocks later failovers |
//! | `<app>.journal.jsonl` | the failover journal (written elsewhere) |
//!
//! The pure parts ([`StatusCode`], [`HealthRecord`] formatting and parsing,
//! [`judge_status`] for the `status` line) are kept apart from the file I/O
//! ([`Workdir`], [`HealthWriter`], [`AppLock`]) so they are tested on text.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, FixedOffset, Local};
use serde::Serialize;

use crate::failover::guard::{Marker, MarkerAction};
use crate::monitor::verdict::MonitorState;

// ---------------------------------------------------------------- pure part

/// MHA's manager states (`ManagerConst.pm`); the number is also the exit
/// code of `ha-manager status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    PingOk,
    NotRunning,
    PartiallyRunning,
    InitializingMonitor,
    PingFailing,
    PingFailed,
    RetryingMonitor,
    ConfigError,
    TimestampOld,
    FailoverRunning,
    FailoverError,
}

impl StatusCode {
    pub const ALL: [StatusCode; 11] = [
        StatusCode::PingOk,
        StatusCode::NotRunning,
        StatusCode::PartiallyRunning,
        StatusCode::InitializingMonitor,
        StatusCode::PingFailing,
        StatusCode::PingFailed,
        StatusCode::RetryingMonitor,
        StatusCode::ConfigError,
        StatusCode::TimestampOld,
        StatusCode::FailoverRunning,
        StatusCode::FailoverError,
    ];

    pub fn number(self) -> u8 {
        match self {
            StatusCode::PingOk => 0,
            StatusCode::NotRunning => 2,
            StatusCode::PartiallyRunning => 3,
            StatusCode::InitializingMonitor => 10,
            StatusCode::PingFailing => 20,
            StatusCode::PingFailed => 21,
            StatusCode::RetryingMonitor => 30,
            StatusCode::ConfigError => 31,
            StatusCode::TimestampOld => 32,
            StatusCode::FailoverRunning => 50,
            StatusCode::FailoverError => 51,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StatusCode::PingOk => "PING_OK",
            StatusCode::NotRunning => "NOT_RUNNING",
            StatusCode::PartiallyRunning => "PARTIALLY_RUNNING",
            StatusCode::InitializingMonitor => "INITIALIZING_MONITOR",
            StatusCode::PingFailing => "PING_FAILING",
            StatusCode::PingFailed => "PING_FAILED",
            StatusCode::RetryingMonitor => "RETRYING_MONITOR",
            StatusCode::ConfigError => "CONFIG_ERROR",
            StatusCode::TimestampOld => "TIMESTAMP_OLD",
            StatusCode::FailoverRunning => "FAILOVER_RUNNING",
            StatusCode::FailoverError => "FAILOVER_ERROR",
        }
    }

    pub fn from_number(n: u8) -> Option<StatusCode> {
        StatusCode::ALL.into_iter().find(|c| c.number() == n)
    }

    /// Parses MHA's `N:NAME` form; both halves must agree.
    pub fn parse(text: &str) -> Option<StatusCode> {
        let (number, name) = text.trim().split_once(':')?;
        let code = StatusCode::from_number(number.trim().parse().ok()?)?;
        (code.name() == name.trim()).then_some(code)
    }
}

/// `0:PING_OK`.
impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.number(), self.name())
    }
}

impl From<MonitorState> for StatusCode {
    fn from(state: MonitorState) -> StatusCode {
        match state {
            MonitorState::Initializing => StatusCode::InitializingMonitor,
            MonitorState::PingOk => StatusCode::PingOk,
            MonitorState::PingFailing => StatusCode::PingFailing,
            MonitorState::PingFailed => StatusCode::PingFailed,
            MonitorState::RetryingMonitor => StatusCode::RetryingMonitor,
        }
    }
}

/// The content of the health file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthRecord {
    pub pid: u32,
    pub code: StatusCode,
    /// The master's hostname; `None` before one is known.
    pub master: Option<String>,
}

impl HealthRecord {
    /// MHA's format: `pid<TAB>N:NAME[<TAB>master:<host>]`, no trailing newline.
    pub fn render(&self) -> String {
        match &self.master {
            Some(host) => format!("{}\t{}\tmaster:{host}", self.pid, self.code),
            None => format!("{}\t{}", self.pid, self.code),
        }
    }

    /// Reads what [`render`](Self::render) (or MHA) wrote.
    pub fn parse(text: &str) -> Result<HealthRecord, String> {
        let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
        let mut fields = line.split('\t');
        let pid_text = fields.next().unwrap_or("").trim();
        let pid: u32 = pid_text
            .parse()
            .map_err(|_| format!("expected a pid, found {pid_text:?}"))?;
        let status_text = fields.next().unwrap_or("").trim();
        let code = StatusCode::parse(status_text)
            .ok_or_else(|| format!("expected a state like 0:PING_OK, found {status_text:?}"))?;
        let master = fields
            .next()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|m| m.strip_prefix("master:").unwrap_or(m).to_string());
        Ok(HealthRecord { pid, code, master })
    }

    /// `master:<host>` as MHA prints it, or empty.
    pub fn master_info(&self) -> String {
        self.master
            .as_deref()
            .map(|m| format!("master:{m}"))
            .unwrap_or_default()
    }
}

/// What `status` found on disk and in the process table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusInput<'a> {
    pub app: &'a str,
    /// `None`: no health file.
    pub record: Option<&'a HealthRecord>,
    /// Does the recorded pid still run?
    pub pid_alive: bool,
    /// Time since the health file was last touched.
    pub age: Duration,
    pub ping_limit: Duration,
    /// The health file's name, for the "too old" line.
    pub health_file: &'a str,
    pub manager_log: Option<&'a Path>,
}

/// The state and MHA's printed lines (`ManagerAdmin.pm::check_status`).
pub fn judge_status(input: &StatusInput<'_>) -> (StatusCode, Vec<String>) {
    let app = input.app;
    let record = match input.record {
        Some(r) if input.pid_alive => r,
        _ => {
            let code = StatusCode::NotRunning;
            return (code, vec![format!("{app} is stopped({code}).")]);
        }
    };
    let pid = record.pid;
    let master = record.master_info();
    let check_log = input
        .manager_log
        .map(|log| format!("Check {} for details.", log.display()));
    let code = match record.code {
        StatusCode::PingOk if input.age > input.ping_limit => StatusCode::TimestampOld,
        other => other,
    };
    let mut lines = Vec::new();
    match code {
        StatusCode::PingOk => lines.push(format!("{app} (pid:{pid}) is running({code}), {master}")),
        StatusCode::NotRunning => lines.push(format!("{app} is stopped({code}).")),
        StatusCode::PartiallyRunning => lines.push(format!(
            "Main process is not running, but child process is running on {app} ({code}). \
             Check ps output for details and kill it."
        )),
        StatusCode::InitializingMonitor => lines.push(format!(
            "{app} monitoring program is now on initialization phase({code}). \
             Wait for a while and try checking again."
        )),
        StatusCode::PingFailing | StatusCode::PingFailed => {
            lines.push(format!("{app} master maybe down({code}). {master}"));
            lines.extend(check_log);
        }
        StatusCode::RetryingMonitor => lines.push(format!(
            "{app} monitoring waits for retrying to monitor master again({code}). \
             Wait for a while and try checking again."
        )),
        StatusCode::ConfigError => {
            lines.push(format!(
                "{app} servers are not correctly configured({code})."
            ));
            lines.extend(check_log);
        }
        StatusCode::TimestampOld => {
            let mut line = format!(
                "{app} is running, but {} is too old({code}). Maybe process hangs?",
                input.health_file
            );
            if !master.is_empty() {
                line.push(' ');
                line.push_str(&master);
            }
            lines.push(line);
            lines.push(format!(
                "{} was last updated {} seconds ago (limit {} seconds).",
                input.health_file,
                input.age.as_secs(),
                input.ping_limit.as_secs()
            ));
        }
        StatusCode::FailoverRunning => {
            lines.push(format!(
                "{app} master is down and failover is running({code}). {master}"
            ));
            lines.extend(check_log);
        }
        StatusCode::FailoverError => {
            lines.push(format!(
                "{app} master is down and failover was not successful({code}). {master}"
            ));
            lines.extend(check_log);
        }
    }
    (code, lines)
}

/// One monitor report for the state sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthUpdate {
    pub code: StatusCode,
    /// The master's hostname.
    pub master: String,
    pub consecutive_misses: u32,
    pub pings_ok: u64,
    pub pings_missed: u64,
    /// The last ping error, if the last ping was not answered cleanly.
    pub last_error: Option<String>,
}

/// Where the monitor (and the failover) report their state. The real one
/// is [`HealthWriter`]; tests capture the updates with a closure.
pub trait StateSink: Send + Sync {
    fn update(&self, update: &HealthUpdate);
}

impl<F> StateSink for F
where
    F: Fn(&HealthUpdate) + Send + Sync,
{
    fn update(&self, update: &HealthUpdate) {
        self(update)
    }
}

/// The richer twin of the health file, for `status --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HealthJson {
    pub app: String,
    pub pid: u32,
    pub code: u8,
    pub state: String,
    pub master: String,
    pub updated_at: String,
    pub consecutive_misses: u32,
    pub pings_ok: u64,
    pub pings_missed: u64,
    pub last_error: Option<String>,
}

// ---------------------------------------------------------------- file I/O

/// What went wrong with a workdir file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is not a health file: {reason}", path = .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "another ha-manager for {app} is already running ({holder}); it holds the lock on {path}. \
         Stop it first (ha-manager stop), or use another manager_workdir",
        holder = match .pid { Some(p) => format!("pid {p}"), None => "pid unknown".to_string() },
        path = .path.display()
    )]
    AlreadyRunning {
        app: String,
        pid: Option<u32>,
        path: PathBuf,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The two failover markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    Complete,
    Error,
}

/// The files of one application in `manager_workdir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workdir {
    dir: PathBuf,
    app: String,
}

impl Workdir {
    pub fn new(dir: impl Into<PathBuf>, app: impl Into<String>) -> Workdir {
        Workdir {
            dir: dir.into(),
            app: app.into(),
        }
    }

    /// `manager_workdir` and the application name of a config.
    pub fn of(config: &crate::config::Config) -> Workdir {
        Workdir::new(&config.settings.manager_workdir, &config.app)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn app(&self) -> &str {
        &self.app
    }

    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", self.app))
    }

    pub fn health(&self) -> PathBuf {
        self.file("master_status.health")
    }

    pub fn health_json(&self) -> PathBuf {
        self.file("master_status.json")
    }

    pub fn lock(&self) -> PathBuf {
        self.file("lock")
    }

    pub fn marker(&self, kind: MarkerKind) -> PathBuf {
        match kind {
            MarkerKind::Complete => self.file("failover.complete"),
            MarkerKind::Error => self.file("failover.error"),
        }
    }

    pub fn journal(&self) -> PathBuf {
        self.file("journal.jsonl")
    }

    /// The health record and the file's mtime; `None` when there is no file.
    pub fn read_health(&self) -> Result<Option<(HealthRecord, SystemTime)>, StateError> {
        let path = self.health();
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let modified = file
            .metadata()
            .and_then(|m| m.modified())
            .map_err(io_err(&path))?;
        // A health file is one short line; more is not ours.
        let mut text = String::new();
        Read::by_ref(&mut file)
            .take(4096)
            .read_to_string(&mut text)
            .map_err(io_err(&path))?;
        let record = HealthRecord::parse(&text).map_err(|reason| StateError::Corrupt {
            path: path.clone(),
            reason,
        })?;
        Ok(Some((record, modified)))
    }

    /// The JSON twin, when present and readable (it is informational only).
    pub fn read_health_json(&self) -> Option<HealthJson> {
        let text = std::fs::read_to_string(self.health_json()).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the health file atomically (temp file + rename).
    pub fn write_health(&self, record: &HealthRecord) -> Result<(), StateError> {
        write_atomic(&self.health(), record.render().as_bytes())
    }

    /// Refreshes the health file's mtime (MHA's `utime` on every good ping).
    pub fn touch_health(&self) -> Result<(), StateError> {
        let path = self.health();
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        file.set_modified(SystemTime::now()).map_err(io_err(&path))
    }

    /// Removes the health file (clean shutdown); a missing file is fine.
    pub fn remove_health(&self) -> Result<(), StateError> {
        remove_if_exists(&self.health())?;
        remove_if_exists(&self.health_json())
    }

    /// Creates (or refreshes) a marker with a short body: time, pid, reason.
    pub fn create_marker(&self, kind: MarkerKind, reason: &str) -> Result<PathBuf, StateError> {
        let path = self.marker(kind);
        let body = format!(
            "{}\tpid {}\t{}\n",
            Local::now().format("%Y-%m-%d %H:%M:%S%:z"),
            std::process::id(),
            reason.replace('\n', " ")
        );
        write_atomic(&path, body.as_bytes())?;
        Ok(path)
    }

    /// The marker's path and mtime, when it exists.
    pub fn read_marker(&self, kind: MarkerKind) -> Result<Option<Marker>, StateError> {
        let path = self.marker(kind);
        match std::fs::metadata(&path).and_then(|m| m.modified()) {
            Ok(modified) => Ok(Some(Marker {
                modified: DateTime::<Local>::from(modified).fixed_offset(),
                path,
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Carries out what `failover::guard::may_fail_over` asked for.
    pub fn apply(&self, actions: &[MarkerAction]) -> Result<(), StateError> {
        for action in actions {
            match action {
                MarkerAction::Remove { path, why } => {
                    tracing::info!("removing {} ({why})", path.display());
                    remove_if_exists(path)?;
                }
            }
        }
        Ok(())
    }
}

/// Who holds the per-application lock, as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockHolder {
    /// Nobody: no manager of this application is running (whatever the
    /// health file says; its pid may since belong to another process).
    Free,
    /// A manager holds it; `pid` is what it wrote into the file.
    Held { pid: Option<u32> },
}

impl Workdir {
    /// Probes the lock without taking it for more than an instant (a shared
    /// lock, released at once), so `stop` signals only a pid that really is
    /// a running manager.
    pub fn lock_holder(&self) -> Result<LockHolder, StateError> {
        let path = self.lock();
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LockHolder::Free),
            Err(e) => return Err(io_err(&path)(e)),
        };
        if try_flock(&file, libc::LOCK_SH | libc::LOCK_NB).map_err(io_err(&path))? {
            // Closing the file (on return) releases the shared lock.
            return Ok(LockHolder::Free);
        }
        let mut text = String::new();
        let pid = Read::by_ref(&mut file)
            .take(64)
            .read_to_string(&mut text)
            .ok()
            .and_then(|_| text.trim().parse().ok());
        Ok(LockHolder::Held { pid })
    }
}

/// "Now" in the form `failover::guard` takes.
pub fn now() -> DateTime<FixedOffset> {
    Local::now().fixed_offset()
}

fn remove_if_exists(path: &Path) -> Result<(), StateError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Writes `bytes` to a temp file beside `path` and renames it over `path`,
/// so a reader sees the old content or the new, never half.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".ha-manager.")
        .tempfile_in(dir)
        .map_err(io_err(path))?;
    tmp.write_all(bytes).map_err(io_err(path))?;
    // tempfile creates 0600; the health file is for `status` run by anyone,
    // as MHA's (created under the usual umask) is.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
        .map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| io_err(path)(e.error))?;
    Ok(())
}

/// Writes the monitor's (and the failover's) state into the workdir.
///
/// The health file is rewritten when the state or master changes and only
/// touched otherwise (its mtime is what `status` checks against
/// `ping_limit`); the JSON twin is rewritten on every update.
#[derive(Debug)]
pub struct HealthWriter {
    workdir: Workdir,
    pid: u32,
    last: Mutex<Last>,
}

#[derive(Debug, Default)]
struct Last {
    written: Option<HealthRecord>,
    /// The last write error, so a full disk is logged once, not every ping.
    error: Option<String>,
}

impl HealthWriter {
    pub fn new(workdir: Workdir) -> HealthWriter {
        HealthWriter {
            workdir,
            pid: std::process::id(),
            last: Mutex::new(Last::default()),
        }
    }

    pub fn workdir(&self) -> &Workdir {
        &self.workdir
    }

    /// Records a state outside the ping loop (start-up checks, failover):
    /// counters are zero, errors are logged as by [`StateSink::update`].
    pub fn set(&self, code: StatusCode, master: &str) {
        self.update(&HealthUpdate {
            code,
            master: master.to_string(),
            consecutive_misses: 0,
            pings_ok: 0,
            pings_missed: 0,
            last_error: None,
        });
    }

    /// Writes one update; errors are returned (see [`StateSink`] for the
    /// logging variant).
    pub fn try_update(&self, update: &HealthUpdate) -> Result<(), StateError> {
        let record = HealthRecord {
            pid: self.pid,
            code: update.code,
            master: Some(update.master.clone()).filter(|m| !m.is_empty()),
        };
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let unchanged = last.written.as_ref() == Some(&record);
        let touched = unchanged && self.workdir.touch_health().is_ok();
        if !touched {
            self.workdir.write_health(&record)?;
            last.written = Some(record);
        }
        drop(last);
        let json = HealthJson {
            app: self.workdir.app.clone(),
            pid: self.pid,
            code: update.code.number(),
            state: update.code.name().to_string(),
            master: update.master.clone(),
            updated_at: Local::now().to_rfc3339(),
            consecutive_misses: update.consecutive_misses,
            pings_ok: update.pings_ok,
            pings_missed: update.pings_missed,
            last_error: update.last_error.clone(),
        };
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        write_atomic(&self.workdir.health_json(), text.as_bytes())
    }
}

impl StateSink for HealthWriter {
    fn update(&self, update: &HealthUpdate) {
        let result = self.try_update(update);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(()) => {
                if last.error.take().is_some() {
                    tracing::info!(
                        "health file {} is written again",
                        self.workdir.health().display()
                    );
                }
            }
            Err(e) => {
                let text = e.to_string();
                if last.error.as_deref() != Some(text.as_str()) {
                    tracing::warn!("cannot update the health file: {text}");
                    last.error = Some(text);
                }
            }
        }
    }
}

/// The per-application lock: held (by an open, `flock`ed file) as long as
/// this value lives, so a second manager for the same application refuses
/// to start. The file is left in place on drop: removing a lock file that
/// another process may be opening at that moment would let two managers
/// each lock a different file.
#[derive(Debug)]
pub struct AppLock {
    _file: File,
    path: PathBuf,
}

impl AppLock {
    /// Takes the lock or says who holds it; writes our pid into the file.
    pub fn acquire(workdir: &Workdir) -> Result<AppLock, StateError> {
        let path = workdir.lock();
        // Not truncated on open: until we hold the lock, the pid inside is
        // the holder's, and the refusal message wants it.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(&path)
            .map_err(io_err(&path))?;
        if !try_lock_exclusive(&file).map_err(io_err(&path))? {
            let mut text = String::new();
            let pid = Read::by_ref(&mut file)
                .take(64)
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| text.trim().parse().ok());
            return Err(StateError::AlreadyRunning {
                app: workdir.app.clone(),
                pid,
                path,
            });
        }
        file.set_len(0).map_err(io_err(&path))?;
        // `set_len` does not move the cursor, and nothing was read.
        writeln!(file, "{}", std::process::id()).map_err(io_err(&path))?;
        Ok(AppLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `flock(LOCK_EX | LOCK_NB)`: `Ok(false)` when someone else holds it.
fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    try_flock(file, libc::LOCK_EX | libc::LOCK_NB)
}

/// `flock(fd, operation)` with `LOCK_NB`: `Ok(false)` when it would block.
#[allow(unsafe_code)]
fn try_flock(file: &File, operation: libc::c_int) -> io::Result<bool> {
    // SAFETY: flock takes a descriptor number and flags and touches no
    // memory of ours; the descriptor stays open while `file` is borrowed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_numbers_and_names() {
        let want = [
            (0, "PING_OK"),
            (2, "NOT_RUNNING"),
            (3, "PARTIALLY_RUNNING"),
            (10, "INITIALIZING_MONITOR"),
            (20, "PING_FAILING"),
            (21, "PING_FAILED"),
            (30, "RETRYING_MONITOR"),
            (31, "CONFIG_ERROR"),
            (32, "TIMESTAMP_OLD"),
            (50, "FAILOVER_RUNNING"),
            (51, "FAILOVER_ERROR"),
        ];
        let got: Vec<(u8, &str)> = StatusCode::ALL
            .iter()
            .map(|c| (c.number(), c.name()))
            .collect();
        assert_eq!(got, want);
        for code in StatusCode::ALL {
            assert_eq!(StatusCode::parse(&code.to_string()), Some(code));
            assert_eq!(StatusCode::from_number(code.number()), Some(code));
        }
        assert_eq!(StatusCode::parse("0:PING_FAILED"), None);
        assert_eq!(StatusCode::parse("PING_OK"), None);
        assert_eq!(StatusCode::parse("99:PING_OK"), None);
        assert_eq!(
            StatusCode::from(MonitorState::PingFailed).to_string(),
            "21:PING_FAILED"
        );
        assert_eq!(
            StatusCode::from(MonitorState::Initializing),
            StatusCode::InitializingMonitor
        );
    }

    #[test]
    fn health_record_render_and_parse() {
        let r = HealthRecord {
            pid: 5057,
            code: StatusCode::PingOk,
            master: Some("198.18.0.11".into()),
        };
        assert_eq!(r.render(), "5057\t0:PING_OK\tmaster:198.18.0.11");
        assert_eq!(HealthRecord::parse(&r.render()), Ok(r.clone()));
        // MHA's own file, with a trailing newline someone added.
        assert_eq!(
            HealthRecord::parse("5057\t0:PING_OK\tmaster:198.18.0.11\n"),
            Ok(r)
        );
        let bare = HealthRecord {
            pid: 7,
            code: StatusCode::InitializingMonitor,
            master: None,
        };
        assert_eq!(bare.render(), "7\t10:INITIALIZING_MONITOR");
        assert_eq!(HealthRecord::parse(&bare.render()), Ok(bare));
        for bad in ["", "abc\t0:PING_OK", "12\tPING_OK", "12"] {
            assert!(HealthRecord::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn input<'a>(record: Option<&'a HealthRecord>, alive: bool, age: u64) -> StatusInput<'a> {
        StatusInput {
            app: "app1",
            record,
            pid_alive: alive,
            age: Duration::from_secs(age),
            ping_limit: Duration::from_secs(14),
            health_file: "app1.master_status.health",
            manager_log: Some(Path::new("/var/log/ha/app1.log")),
        }
    }

    fn rec(code: StatusCode) -> HealthRecord {
        HealthRecord {
            pid: 5057,
            code,
            master: Some("198.18.0.11".into()),
        }
    }

    #[test]
    fn status_lines_table() {
        let cases: Vec<(HealthRecord, bool, u64, StatusCode, &str)> = vec![
            (rec(StatusCode::PingOk), true, 1, StatusCode::PingOk,
             "app1 (pid:5057) is running(0:PING_OK), master:198.18.0.11"),
            (rec(StatusCode::PingOk), false, 1, StatusCode::NotRunning,
             "app1 is stopped(2:NOT_RUNNING)."),
            (rec(StatusCode::FailoverRunning), false, 1, StatusCode::NotRunning,
             "app1 is stopped(2:NOT_RUNNING)."),
            (rec(StatusCode::PingOk), true, 15, StatusCode::TimestampOld,
             "app1 is running, but app1.master_status.health is too old(32:TIMESTAMP_OLD). Maybe process hangs? master:198.18.0.11"),
            // Only PING_OK goes stale: a long confirmation or failover does not.
            (rec(StatusCode::PingFailed), true, 600, StatusCode::PingFailed,
             "app1 master maybe down(21:PING_FAILED). master:198.18.0.11"),
            (rec(StatusCode::PingFailing), true, 1, StatusCode::PingFailing,
             "app1 master maybe down(20:PING_FAILING). master:198.18.0.11"),
            (rec(StatusCode::FailoverRunning), true, 1, StatusCode::FailoverRunning,
             "app1 master is down and failover is running(50:FAILOVER_RUNNING). master:198.18.0.11"),
            (rec(StatusCode::FailoverError), true, 1, StatusCode::FailoverError,
             "app1 master is down and failover was not successful(51:FAILOVER_ERROR). master:198.18.0.11"),
            (rec(StatusCode::InitializingMonitor), true, 1, StatusCode::InitializingMonitor,
             "app1 monitoring program is now on initialization phase(10:INITIALIZING_MONITOR). Wait for a while and try checking again."),
            (rec(StatusCode::RetryingMonitor), true, 1, StatusCode::RetryingMonitor,
             "app1 monitoring waits for retrying to monitor master again(30:RETRYING_MONITOR). Wait for a while and try checking again."),
            (rec(StatusCode::ConfigError), true, 1, StatusCode::ConfigError,
             "app1 servers are not correctly configured(31:CONFIG_ERROR)."),
        ];
        for (record, alive, age, want_code, want_line) in cases {
            let (code, lines) = judge_status(&input(Some(&record), alive, age));
            assert_eq!(code, want_code, "{record:?}");
            assert_eq!(lines[0], want_line, "{record:?}");
        }
        let (code, lines) = judge_status(&input(None, false, 0));
        assert_eq!(code, StatusCode::NotRunning);
        assert_eq!(lines, vec!["app1 is stopped(2:NOT_RUNNING).".to_string()]);
        let (_, lines) = judge_status(&input(Some(&rec(StatusCode::PingFailing)), true, 1));
        assert_eq!(lines[1], "Check /var/log/ha/app1.log for details.");
        let (_, lines) = judge_status(&input(Some(&rec(StatusCode::PingOk)), true, 15));
        assert_eq!(
            lines[1],
            "app1.master_status.health was last updated 15 seconds ago (limit 14 seconds)."
        );
    }

    #[test]
    fn paths() {
        let w = Workdir::new("/var/tmp", "app1");
        assert_eq!(
            w.health(),
            PathBuf::from("/var/tmp/app1.master_status.health")
        );
        assert_eq!(
            w.health_json(),
            PathBuf::from("/var/tmp/app1.master_status.json")
        );
        assert_eq!(w.lock(), PathBuf::from("/var/tmp/app1.lock"));
        assert_eq!(
            w.marker(MarkerKind::Complete),
            PathBuf::from("/var/tmp/app1.failover.complete")
        );
        assert_eq!(
            w.marker(MarkerKind::Error),
            PathBuf::from("/var/tmp/app1.failover.error")
        );
        assert_eq!(w.journal(), PathBuf::from("/var/tmp/app1.journal.jsonl"));
    }

    fn update(code: StatusCode) -> HealthUpdate {
        HealthUpdate {
            code,
            master: "198.18.0.11".into(),
            consecutive_misses: 0,
            pings_ok: 3,
            pings_missed: 1,
            last_error: None,
        }
    }

    #[test]
    fn health_writer_writes_touches_and_rewrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = Workdir::new(dir.path(), "app1");
        assert_eq!(w.read_health().expect("read"), None);
        let writer = HealthWriter::new(w.clone());
        writer
            .try_update(&update(StatusCode::PingOk))
            .expect("write");
        let (rec, first) = w.read_health().expect("read").expect("exists");
        assert_eq!(rec.pid, std::process::id());
        assert_eq!(rec.code, StatusCode::PingOk);
        assert_eq!(rec.master.as_deref(), Some("198.18.0.11"));
        let text = std::fs::read_to_string(w.health()).expect("read");
        assert_eq!(
            text,
            format!("{}\t0:PING_OK\tmaster:198.18.0.11", std::process::id())
        );
        let mode = std::fs::metadata(w.health())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);

        // Same state: only touched. Backdate the file to see the touch.
        let old = SystemTime::now() - Duration::from_secs(100);
        File::options()
            .write(true)
            .open(w.health())
            .and_then(|f| f.set_modified(old))
            .expect("backdate");
        writer
            .try_update(&update(StatusCode::PingOk))
            .expect("touch");
        let (_, touched) = w.read_health().expect("read").expect("exists");
        assert!(
            touched > old + Duration::from_secs(50),
            "{touched:?} vs {first:?}"
        );

        writer
            .try_update(&update(StatusCode::PingFailing))
            .expect("write");
        let (rec, _) = w.read_health().expect("read").expect("exists");
        assert_eq!(rec.code, StatusCode::PingFailing);

        let json = w.read_health_json().expect("json");
        assert_eq!(json.code, 20);
        assert_eq!(json.state, "PING_FAILING");
        assert_eq!(json.pings_ok, 3);
        assert_eq!(json.app, "app1");

        // The health file vanished under us: the next update recreates it.
        std::fs::remove_file(w.health()).expect("rm");
        writer.update(&update(StatusCode::PingFailing));
        assert!(w.read_health().expect("read").is_some());

        writer.set(StatusCode::FailoverRunning, "198.18.0.11");
        let (rec, _) = w.read_health().expect("read").expect("exists");
        assert_eq!(rec.code, StatusCode::FailoverRunning);

        w.remove_health().expect("remove");
        assert_eq!(w.read_health().expect("read"), None);
        w.remove_health().expect("remove twice is fine");
    }

    #[test]
    fn corrupt_health_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = Workdir::new(dir.path(), "app1");
        std::fs::write(w.health(), "hello").expect("write");
        let err = w.read_health().expect_err("corrupt");
        assert!(err.to_string().contains("not a health file"), "{err}");
    }

    #[test]
    fn lock_refuses_a_second_manager_naming_the_pid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = Workdir::new(dir.path(), "app1");
        let lock = AppLock::acquire(&w).expect("first");
        let text = std::fs::read_to_string(lock.path()).expect("read");
        assert_eq!(text.trim(), std::process::id().to_string());
        // flock conflicts between open file descriptions, even in one process.
        let err = AppLock::acquire(&w).expect_err("second must fail");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("app1.lock"), "{msg}");
        // The refused attempt did not wipe the holder's pid.
        let text = std::fs::read_to_string(lock.path()).expect("read");
        assert_eq!(text.trim(), std::process::id().to_string());
        assert_eq!(
            w.lock_holder().expect("probe"),
            LockHolder::Held {
                pid: Some(std::process::id())
            }
        );
        // Another application is independent.
        let other = AppLock::acquire(&Workdir::new(dir.path(), "app2"));
        assert!(other.is_ok());
        drop(lock);
        assert_eq!(w.lock_holder().expect("probe"), LockHolder::Free);
        assert!(AppLock::acquire(&w).is_ok(), "released on drop");
        assert_eq!(
            Workdir::new(dir.path(), "app3")
                .lock_holder()
                .expect("probe"),
            LockHolder::Free,
            "no lock file at all"
        );
    }

    #[test]
    fn markers_create_read_and_apply() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = Workdir::new(dir.path(), "app1");
        assert_eq!(w.read_marker(MarkerKind::Error).expect("read"), None);
        let path = w
            .create_marker(MarkerKind::Error, "phase 3 failed:\nno slave")
            .expect("create");
        let body = std::fs::read_to_string(&path).expect("read");
        assert!(body.ends_with("\tphase 3 failed: no slave\n"), "{body:?}");
        let marker = w
            .read_marker(MarkerKind::Error)
            .expect("read")
            .expect("exists");
        assert_eq!(marker.path, path);
        let age = now().signed_duration_since(marker.modified);
        assert!(age.num_seconds().abs() < 60, "{age:?}");
        w.create_marker(MarkerKind::Complete, "ok").expect("create");

        let actions = crate::failover::guard::may_fail_over(
            now(),
            w.read_marker(MarkerKind::Complete).expect("read").as_ref(),
            Some(&marker),
            crate::failover::guard::DEFAULT_WINDOW,
            true,
        )
        .expect("ignore allows");
        w.apply(&actions).expect("apply");
        assert_eq!(w.read_marker(MarkerKind::Error).expect("read"), None);
        assert_eq!(w.read_marker(MarkerKind::Complete).expect("read"), None);
    }
}
