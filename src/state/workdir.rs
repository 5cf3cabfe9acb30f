//! The file I/O half of the workdir: paths, the health file and its writer, failover
//! markers, the directory's own safety and the per-application and per-server locks.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, Local};

use super::status::{HealthJson, HealthRecord, HealthUpdate, StateSink, StatusCode};
use crate::policy::guard::{Marker, MarkerAction};

/// What went wrong with a workdir file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StateError {
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
    #[error(
        "another ha-manager already manages {server} ({holder}; it holds the lock on {path}), \
         perhaps from another config file or under another application name; one cluster \
         must have one manager. Stop it first (ha-manager stop --conf <its config>)",
        holder = match .pid { Some(p) => format!("pid {p}"), None => "pid unknown".to_string() },
        path = .path.display()
    )]
    ServerTaken {
        server: String,
        pid: Option<u32>,
        path: PathBuf,
    },
    #[error("manager_workdir {path} is not safe: {reason}; {fix}", path = .path.display())]
    UnsafeDir {
        path: PathBuf,
        reason: String,
        fix: String,
    },
    #[error(
        "the lock file {path} {reason}: another ha-manager may now run for this cluster; \
         this one stops so that two managers never act at once. Check with ha-manager \
         status, then start one manager again",
        path = .path.display()
    )]
    LockLost { path: PathBuf, reason: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The two failover markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkerKind {
    Complete,
    Error,
}

/// The files of one application in `manager_workdir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Workdir {
    dir: PathBuf,
    app: String,
    /// `host:port` of every server of the cluster, sorted: [`AppLock`] locks each,
    /// so that two config files (or application names) for one cluster cannot run
    /// two managers.
    servers: Vec<String>,
}

impl Workdir {
    pub(crate) fn new(dir: impl Into<PathBuf>, app: impl Into<String>) -> Workdir {
        Workdir {
            dir: dir.into(),
            app: app.into(),
            servers: Vec::new(),
        }
    }

    /// `manager_workdir`, the application name and the servers of a config.
    pub(crate) fn of(config: &crate::config::Config) -> Workdir {
        Workdir::new(&config.settings.manager_workdir, &config.app).with_servers(
            config
                .servers
                .iter()
                .map(|s| format!("{}:{}", s.mysql_addr(), s.port)),
        )
    }

    /// The cluster's servers (`host:port`), whose locks [`AppLock`] takes too.
    pub(crate) fn with_servers(mut self, servers: impl IntoIterator<Item = String>) -> Workdir {
        let mut servers: Vec<String> = servers.into_iter().collect();
        servers.sort();
        servers.dedup();
        self.servers = servers;
        self
    }

    /// The lock file of one server, shared by every application in this directory.
    pub(crate) fn server_lock(&self, server: &str) -> PathBuf {
        let safe = file_safe(server);
        self.dir.join(format!("ha-manager.server.{safe}.lock"))
    }

    /// Creates `manager_workdir` (0700, as the manager's user) when it is missing,
    /// and refuses one that others could write into: whoever can create or delete
    /// files there can plant a lock, remove a failover marker or swap a saved
    /// binlog tail before it is applied.
    pub(crate) fn ensure_private(&self) -> Result<(), StateError> {
        let dir = &self.dir;
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_err(dir))?;
            tracing::info!("created manager_workdir {} (0700)", dir.display());
        }
        let meta = std::fs::metadata(dir).map_err(io_err(dir))?;
        let unsafe_dir = |reason: String, fix: String| StateError::UnsafeDir {
            path: dir.clone(),
            reason,
            fix,
        };
        if !meta.is_dir() {
            return Err(unsafe_dir(
                "it is not a directory".into(),
                "set manager_workdir to a directory".into(),
            ));
        }
        let mode = meta.mode() & 0o7777;
        if let Err(reason) = judge_dir(meta.uid(), mode, effective_uid()) {
            return Err(unsafe_dir(
                reason,
                format!(
                    "use a directory only the manager's user can write, e.g. \
                     manager_workdir=/var/lib/ha-manager (created 0700 when missing), \
                     or fix this one: chown root {d} && chmod 0700 {d}",
                    d = dir.display()
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn app(&self) -> &str {
        &self.app
    }

    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", self.app))
    }

    pub(crate) fn health(&self) -> PathBuf {
        self.file("master_status.health")
    }

    pub(crate) fn health_json(&self) -> PathBuf {
        self.file("master_status.json")
    }

    pub(crate) fn lock(&self) -> PathBuf {
        self.file("lock")
    }

    pub(crate) fn marker(&self, kind: MarkerKind) -> PathBuf {
        match kind {
            MarkerKind::Complete => self.file("failover.complete"),
            MarkerKind::Error => self.file("failover.error"),
        }
    }

    pub(crate) fn journal(&self) -> PathBuf {
        self.file("journal.jsonl")
    }

    /// The health record and the file's mtime; `None` when there is no file.
    pub(crate) fn read_health(&self) -> Result<Option<(HealthRecord, SystemTime)>, StateError> {
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
    pub(crate) fn read_health_json(&self) -> Option<HealthJson> {
        let text = std::fs::read_to_string(self.health_json()).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the health file atomically (temp file + rename).
    pub(crate) fn write_health(&self, record: &HealthRecord) -> Result<(), StateError> {
        write_atomic(&self.health(), record.render().as_bytes())
    }

    /// Refreshes the health file's mtime (MHA's `utime` on every good ping).
    pub(crate) fn touch_health(&self) -> Result<(), StateError> {
        let path = self.health();
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        file.set_modified(SystemTime::now()).map_err(io_err(&path))
    }

    /// Removes the health file (clean shutdown); a missing file is fine.
    pub(crate) fn remove_health(&self) -> Result<(), StateError> {
        remove_if_exists(&self.health())?;
        remove_if_exists(&self.health_json())
    }

    /// Creates (or refreshes) a marker with a short body: time, pid, reason.
    pub(crate) fn create_marker(
        &self,
        kind: MarkerKind,
        reason: &str,
    ) -> Result<PathBuf, StateError> {
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

    /// A new file for the dead master's binlog tail, written as it is cut:
    /// 0600 in the workdir under a temporary name until [`SavedLog::keep`]
    /// gives it its name (`saved_master_binlog_from_<host>_<port>_<time>.binlog`).
    pub(crate) fn new_master_binlog(&self, host: &str, port: u16) -> Result<SavedLog, StateError> {
        self.new_log("saved_master_binlog_from", host, port)
    }

    /// A new file for a relay-log difference cut for a slave, as
    /// [`Workdir::new_master_binlog`] (`saved_relay_diff_for_<host>_<port>_<time>.binlog`).
    pub(crate) fn new_relay_diff(&self, host: &str, port: u16) -> Result<SavedLog, StateError> {
        self.new_log("saved_relay_diff_for", host, port)
    }

    fn new_log(&self, prefix: &str, host: &str, port: u16) -> Result<SavedLog, StateError> {
        let safe = file_safe(host);
        let name = format!(
            "{prefix}_{safe}_{port}_{}.binlog",
            Local::now().format("%Y%m%d%H%M%S")
        );
        // A workdir that cannot be written to (missing, full) falls back to
        // the system's temporary directory: the file is still kept, and its
        // path reported.
        let dir = if self.usable() {
            self.dir.clone()
        } else {
            std::env::temp_dir()
        };
        let path = dir.join(name);
        let tmp = tempfile::Builder::new()
            .prefix(".ha-manager.")
            .tempfile_in(&dir)
            .map_err(io_err(&path))?;
        let (file, temp) = tmp.into_parts();
        Ok(SavedLog {
            out: FileOut::new(file),
            temp,
            path,
        })
    }

    /// A private (0700) directory in the workdir for the copies of log files
    /// fetched from the hosts; removed with everything in it when dropped.
    /// (In the system's temporary directory when the workdir is not usable.)
    pub(crate) fn scratch_dir(&self) -> Result<tempfile::TempDir, StateError> {
        let dir = if self.usable() {
            self.dir.clone()
        } else {
            std::env::temp_dir()
        };
        tempfile::Builder::new()
            .prefix(".ha-manager.fetched.")
            .tempdir_in(&dir)
            .map_err(io_err(&dir))
    }

    /// Is the workdir a directory this process can write in?
    fn usable(&self) -> bool {
        std::fs::metadata(&self.dir).is_ok_and(|m| m.is_dir())
            && tempfile::Builder::new()
                .prefix(".ha-manager.probe.")
                .tempfile_in(&self.dir)
                .is_ok()
    }

    /// Removes a marker; a missing one is fine.
    pub(crate) fn remove_marker(&self, kind: MarkerKind) -> Result<(), StateError> {
        remove_if_exists(&self.marker(kind))
    }

    /// The marker's path and mtime, when it exists.
    pub(crate) fn read_marker(&self, kind: MarkerKind) -> Result<Option<Marker>, StateError> {
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

    /// Carries out what `policy::guard::may_fail_over` asked for.
    pub(crate) fn apply(&self, actions: &[MarkerAction]) -> Result<(), StateError> {
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
pub(crate) enum LockHolder {
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
    pub(crate) fn lock_holder(&self) -> Result<LockHolder, StateError> {
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
        Ok(LockHolder::Held {
            pid: read_pid(&mut file),
        })
    }
}

/// Whether a directory owned by `owner` with permission bits `mode` is safe for a
/// manager running as `me`: owned by root or by `me`, and not writable by others
/// (the sticky bit does not help: others can still create the lock file first).
pub(crate) fn judge_dir(owner: u32, mode: u32, me: u32) -> Result<(), String> {
    if mode & 0o002 != 0 {
        return Err(format!("it is world-writable (mode {mode:04o})"));
    }
    if owner != 0 && owner != me {
        return Err(format!(
            "it is owned by uid {owner}, neither root nor the manager's user (uid {me})"
        ));
    }
    Ok(())
}

#[allow(unsafe_code)]
fn effective_uid() -> u32 {
    // SAFETY: geteuid takes no arguments, touches no memory and cannot fail.
    unsafe { libc::geteuid() }
}

/// The pid a lock holder wrote into the lock file, if it can be read.
fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    Read::by_ref(file)
        .take(64)
        .read_to_string(&mut text)
        .ok()
        .and_then(|_| text.trim().parse().ok())
}

/// "Now" in the form `policy::guard` takes.
pub(crate) fn now() -> DateTime<FixedOffset> {
    Local::now().fixed_offset()
}

fn remove_if_exists(path: &Path) -> Result<(), StateError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Writes `bytes` to a temp file beside `path` (0600 as created, then `mode`)
/// and renames it over `path`, so a reader sees the old content or the new,
/// never half. `sync`: on disk before it takes the name.
fn write_via_temp(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> Result<(), StateError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".ha-manager.")
        .tempfile_in(dir)
        .map_err(io_err(path))?;
    tmp.write_all(bytes).map_err(io_err(path))?;
    if mode != 0o600 {
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(io_err(path))?;
    }
    if sync {
        tmp.as_file().sync_all().map_err(io_err(path))?;
    }
    tmp.persist(path).map_err(|e| io_err(path)(e.error))?;
    Ok(())
}

/// The health file and markers: for `status` run by anyone, as MHA's
/// (created under the usual umask) are.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    write_via_temp(path, bytes, 0o644, false)
}

/// Records a state outside the ping loop (start-up checks, failover) in any
/// sink: counters are zero; a [`HealthWriter`] logs its errors as by
/// [`StateSink::update`].
pub(crate) fn set_state(sink: &dyn StateSink, code: StatusCode, master: &str) {
    sink.update(&HealthUpdate {
        code,
        master: master.to_string(),
        consecutive_misses: 0,
        pings_ok: 0,
        pings_missed: 0,
        last_error: None,
    });
}

/// Writes the monitor's (and the failover's) state into the workdir.
///
/// The health file is rewritten when the state or master changes and only
/// touched otherwise (its mtime is what `status` checks against
/// `ping_limit`); the JSON twin is rewritten on every update.
#[derive(Debug)]
pub(crate) struct HealthWriter {
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
    pub(crate) fn new(workdir: Workdir) -> HealthWriter {
        HealthWriter {
            workdir,
            pid: std::process::id(),
            last: Mutex::new(Last::default()),
        }
    }

    /// Writes one update; errors are returned (see [`StateSink`] for the
    /// logging variant).
    pub(crate) fn try_update(&self, update: &HealthUpdate) -> Result<(), StateError> {
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

/// The per-application lock, and one lock per server of the cluster: held (by
/// open, `flock`ed files) as long as this value lives, so a second manager for the
/// same application, or for any of the same servers under another config file or
/// name, refuses to start. The files are left in place on drop: removing a lock
/// file that another process may be opening at that moment would let two managers
/// each lock a different file. [`AppLock::check_held`] notices when one was deleted
/// or replaced under us.
#[derive(Debug)]
pub(crate) struct AppLock {
    /// The application lock first, then the servers' (sorted).
    held: Vec<Held>,
}

#[derive(Debug)]
struct Held {
    file: File,
    path: PathBuf,
}

impl AppLock {
    /// Takes the locks or says who holds one; writes our pid into each file.
    /// Refuses an unsafe `manager_workdir` first (and creates a missing one 0700).
    pub(crate) fn acquire(workdir: &Workdir) -> Result<AppLock, StateError> {
        workdir.ensure_private()?;
        let app = lock_file(&workdir.lock())?.ok_or_else(|| StateError::AlreadyRunning {
            app: workdir.app.clone(),
            pid: read_pid_at(&workdir.lock()),
            path: workdir.lock(),
        })?;
        let mut held = vec![app];
        for server in &workdir.servers {
            let path = workdir.server_lock(server);
            match lock_file(&path)? {
                Some(h) => held.push(h),
                None => {
                    return Err(StateError::ServerTaken {
                        server: server.clone(),
                        pid: read_pid_at(&path),
                        path,
                    })
                }
            }
        }
        Ok(AppLock { held })
    }

    /// Checks that every lock file is still the one we locked (same file, our
    /// pid inside). A deleted or replaced file means another manager could take
    /// the lock now; the caller must stop.
    pub(crate) fn check_held(&self) -> Result<(), StateError> {
        for h in &self.held {
            let lost = |reason: &str| StateError::LockLost {
                path: h.path.clone(),
                reason: reason.to_string(),
            };
            let ours = h.file.metadata().map_err(io_err(&h.path))?;
            let now = match std::fs::metadata(&h.path) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(lost("was deleted")),
                Err(e) => return Err(io_err(&h.path)(e)),
            };
            if (now.dev(), now.ino()) != (ours.dev(), ours.ino()) {
                return Err(lost("was replaced by another file"));
            }
            if read_pid_at(&h.path) != Some(std::process::id()) {
                return Err(lost("no longer holds our pid"));
            }
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.held[0].path
    }
}

/// Opens (0600) and `flock`s `path`, writing our pid; `None` when another holds it.
fn lock_file(path: &Path) -> Result<Option<Held>, StateError> {
    // Not truncated on open: until we hold the lock, the pid inside is
    // the holder's, and the refusal message wants it.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        // Only the manager's user reads it (the pid inside is not for others).
        .mode(0o600)
        .open(path)
        .map_err(io_err(path))?;
    if !try_lock_exclusive(&file).map_err(io_err(path))? {
        return Ok(None);
    }
    file.set_len(0).map_err(io_err(path))?;
    // `set_len` does not move the cursor, and nothing was read.
    writeln!(file, "{}", std::process::id()).map_err(io_err(path))?;
    Ok(Some(Held {
        file,
        path: path.to_path_buf(),
    }))
}

/// The pid written in the lock file at `path`, if it can be read.
fn read_pid_at(path: &Path) -> Option<u32> {
    File::open(path).ok().and_then(|mut f| read_pid(&mut f))
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

/// A host name made safe for a file name: letters, digits, `.` and `-`
/// kept, anything else `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A file written through a bounded buffer, as a [`crate::binlog::Out`].
pub(crate) struct FileOut {
    w: io::BufWriter<std::fs::File>,
    len: u64,
}

impl FileOut {
    pub(crate) fn new(file: std::fs::File) -> FileOut {
        FileOut {
            w: io::BufWriter::with_capacity(1 << 16, file),
            len: 0,
        }
    }

    /// Flushes and syncs; the file.
    pub(crate) fn finish(self) -> io::Result<std::fs::File> {
        let file = self.w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(file)
    }
}

impl crate::binlog::Out for FileOut {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.w.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    fn written(&self) -> u64 {
        self.len
    }

    fn cut(&mut self, len: u64) -> io::Result<()> {
        use std::io::Seek;
        if len >= self.len {
            return Ok(());
        }
        self.w.flush()?;
        self.w.get_mut().set_len(len)?;
        self.w.get_mut().seek(io::SeekFrom::Start(len))?;
        self.len = len;
        Ok(())
    }
}

/// A saved binlog tail or relay-log difference being written (0600, under
/// a temporary name in the workdir until it is kept).
pub(crate) struct SavedLog {
    pub(crate) out: FileOut,
    temp: tempfile::TempPath,
    path: PathBuf,
}

impl SavedLog {
    /// Syncs the file and gives it its name; its path. Dropped without
    /// this, the file is removed.
    pub(crate) fn keep(self) -> Result<PathBuf, StateError> {
        let path = self.path;
        self.out.finish().map_err(io_err(&path))?;
        self.temp
            .persist(&path)
            .map_err(|e| io_err(&path)(e.error))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_relay_diff_is_kept_private_and_named_for_its_slave() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = Workdir::new(dir.path(), "app1");
        let mut saved = w.new_relay_diff("db3", 3306).expect("new");
        crate::binlog::Out::put(&mut saved.out, b"\xfebin diff").expect("put");
        let path = saved.keep().expect("saved");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("saved_relay_diff_for_db3_3306_") && name.ends_with(".binlog"),
            "{name}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"\xfebin diff");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn the_saved_binlog_tail_is_kept_private_under_mhas_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = Workdir::new(dir.path(), "app1");
        let mut saved = w.new_master_binlog("db1.example/x", 3306).expect("new");
        let out = &mut saved.out;
        crate::binlog::Out::put(out, b"\xfebin tail and more").expect("put");
        // An unfinished transaction is taken back by cutting the file short.
        crate::binlog::Out::cut(out, 9).expect("cut");
        assert_eq!(crate::binlog::Out::written(out), 9);
        let path = saved.keep().expect("saved");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("saved_master_binlog_from_db1.example_x_3306_")
                && name.ends_with(".binlog"),
            "{name}"
        );
        assert_eq!(path.parent(), Some(dir.path()));
        assert_eq!(std::fs::read(&path).unwrap(), b"\xfebin tail");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
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

        set_state(&writer, StatusCode::FailoverRunning, "198.18.0.11");
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
        let mode = std::fs::metadata(lock.path())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the lock file is private: {mode:o}");
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
    fn a_workdir_others_can_write_is_refused() {
        let me = effective_uid();
        let cases: &[(u32, u32, Option<&str>)] = &[
            (0, 0o700, None),
            (0, 0o755, None),
            (me, 0o750, None),
            (0, 0o777, Some("world-writable (mode 0777)")),
            (0, 0o1777, Some("world-writable (mode 1777)")),
            (0, 0o703, Some("world-writable")),
            (me + 1000, 0o700, Some("owned by uid")),
        ];
        for (owner, mode, want) in cases {
            let got = judge_dir(*owner, *mode, if me == 0 { 0 } else { me });
            match (want, got) {
                (None, Ok(())) => {}
                (Some(w), Err(e)) => assert!(e.contains(w), "{owner} {mode:o}: {e}"),
                (w, g) => panic!("{owner} {mode:o}: want {w:?}, got {g:?}"),
            }
        }

        let dir = tempfile::tempdir().expect("tempdir");
        let open = dir.path().join("open");
        std::fs::create_dir(&open).expect("mkdir");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        let w = Workdir::new(&open, "app1");
        let err = AppLock::acquire(&w)
            .expect_err("world-writable")
            .to_string();
        assert!(
            err.contains(&format!("manager_workdir {} is not safe", open.display()))
                && err.contains("world-writable (mode 1777)")
                && err.contains("chmod 0700"),
            "{err}"
        );
        assert!(!w.lock().exists(), "no lock file was created in it");
        // A file is not a workdir.
        let file = dir.path().join("file");
        std::fs::write(&file, "x").expect("write");
        let err = Workdir::new(&file, "app1")
            .ensure_private()
            .expect_err("file");
        assert!(err.to_string().contains("not a directory"), "{err}");
    }

    #[test]
    fn a_missing_workdir_is_created_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let new = dir.path().join("a/b");
        let w = Workdir::new(&new, "app1");
        let _lock = AppLock::acquire(&w).expect("created and locked");
        let meta = std::fs::metadata(&new).expect("exists");
        assert_eq!(meta.mode() & 0o777, 0o700, "{:o}", meta.mode());
        assert_eq!(meta.uid(), effective_uid());
    }

    #[test]
    fn one_cluster_one_manager_whatever_the_config_file_is_called() {
        let dir = tempfile::tempdir().expect("tempdir");
        let servers = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = Workdir::new(dir.path(), "app1")
            .with_servers(servers(&["198.18.0.12:3306", "198.18.0.11:3306"]));
        let _lock = AppLock::acquire(&a).expect("first");
        // Another name, the same servers listed in another order: refused.
        let b = Workdir::new(dir.path(), "copy_of_app1")
            .with_servers(servers(&["198.18.0.11:3306", "198.18.0.12:3306"]));
        let err = AppLock::acquire(&b).expect_err("same cluster").to_string();
        assert!(
            err.contains("already manages 198.18.0.11:3306")
                && err.contains(&format!("pid {}", std::process::id()))
                && err.contains("ha-manager.server.198.18.0.11_3306.lock"),
            "{err}"
        );
        // Sharing a single server is enough to refuse.
        let c = Workdir::new(dir.path(), "app3")
            .with_servers(servers(&["198.18.0.13:3306", "198.18.0.12:3306"]));
        let err = AppLock::acquire(&c)
            .expect_err("shares a server")
            .to_string();
        assert!(err.contains("already manages 198.18.0.12:3306"), "{err}");
        // The same host on another port is another server.
        let d = Workdir::new(dir.path(), "app4").with_servers(servers(&["198.18.0.11:3307"]));
        assert!(AppLock::acquire(&d).is_ok());
        // A refused attempt took nothing: once the first is gone, c starts.
        drop(_lock);
        assert!(AppLock::acquire(&c).is_ok());
    }

    #[test]
    fn a_deleted_or_replaced_lock_file_is_noticed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = Workdir::new(dir.path(), "app1").with_servers(["198.18.0.11:3306".to_string()]);
        let lock = AppLock::acquire(&w).expect("lock");
        lock.check_held().expect("held");

        std::fs::remove_file(w.lock()).expect("rm");
        let err = lock.check_held().expect_err("deleted").to_string();
        assert!(
            err.contains("app1.lock was deleted") && err.contains("stops"),
            "{err}"
        );
        // ... and a second manager could now take a new file: it must not
        // look held to us either.
        let second = AppLock::acquire(&Workdir::new(dir.path(), "app1"));
        assert!(
            second.is_ok(),
            "the new file is free: this is why we must stop"
        );
        let err = lock.check_held().expect_err("replaced").to_string();
        assert!(err.contains("was replaced"), "{err}");

        let lock = {
            drop(second);
            let w2 =
                Workdir::new(dir.path(), "app2").with_servers(["198.18.0.12:3306".to_string()]);
            AppLock::acquire(&w2).expect("lock")
        };
        let server = dir.path().join("ha-manager.server.198.18.0.12_3306.lock");
        std::fs::write(&server, "1\n").expect("overwrite pid");
        let err = lock.check_held().expect_err("pid").to_string();
        assert!(err.contains("no longer holds our pid"), "{err}");
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

        let actions = crate::policy::guard::may_fail_over(
            now(),
            w.read_marker(MarkerKind::Complete).expect("read").as_ref(),
            Some(&marker),
            crate::policy::guard::DEFAULT_WINDOW,
            true,
        )
        .expect("ignore allows");
        w.apply(&actions).expect("apply");
        assert_eq!(w.read_marker(MarkerKind::Error).expect("read"), None);
        assert_eq!(w.read_marker(MarkerKind::Complete).expect("read"), None);
    }
}
