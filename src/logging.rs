//! Logging set-up: MHA-style timestamped lines (`2026-11-22 10:00:00 - [info] ...`)
//! on stderr, or appended to the `manager_log` file for `start` and `switch`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::config::LogLevel;

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::writer::{EitherWriter, MakeWriter};

struct MhaTime;

impl FormatTime for MhaTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(
            w,
            "{} -",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f")
        )
    }
}

/// Where the log lines go: standard error, or the `manager_log` file.
#[derive(Clone, Debug)]
pub(crate) enum Sink {
    Stderr,
    /// Opened for append; every line is one `write`, so lines from several
    /// tasks do not interleave.
    File(Arc<File>),
}

/// Why `manager_log` could not be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LogFileError {
    #[error("manager_log={}: the directory {} does not exist; create it or change manager_log", .path.display(), .dir.display())]
    NoDirectory { path: PathBuf, dir: PathBuf },
    #[error("manager_log={}: cannot open it for appending: {source}", .path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Sink {
    /// Opens `path` for appending, creating it with mode 0600 when missing
    /// (the log names hosts and positions). Its directory must exist.
    pub(crate) fn open(path: &Path) -> Result<Sink, LogFileError> {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = match path.parent() {
            Some(d) if d.as_os_str().is_empty() => Path::new("."),
            Some(d) => d,
            None => Path::new("/"),
        };
        if !dir.is_dir() {
            return Err(LogFileError::NoDirectory {
                path: path.to_path_buf(),
                dir: dir.to_path_buf(),
            });
        }
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map(|f| Sink::File(Arc::new(f)))
            .map_err(|source| LogFileError::Open {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Writes an already formatted line (a stamped check line, the failover
    /// report) where the log goes.
    pub(crate) fn line(&self, text: &str) {
        match self {
            Sink::Stderr => eprintln!("{text}"),
            Sink::File(file) => {
                let _ = (&**file).write_all(format!("{text}\n").as_bytes());
            }
        }
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = EitherWriter<std::io::Stderr, &'a File>;

    fn make_writer(&'a self) -> Self::Writer {
        match self {
            Sink::Stderr => EitherWriter::A(std::io::stderr()),
            Sink::File(file) => EitherWriter::B(&**file),
        }
    }
}

/// The sink [`init`] installed, for [`line()`].
static SINK: OnceLock<Sink> = OnceLock::new();

/// The level to log at: `--verbose` shows debug lines; else the config's
/// `log_level` (MHA's debug/info/warning/error), info without a config.
pub(crate) fn level(verbose: bool, configured: Option<LogLevel>) -> &'static str {
    match (verbose, configured) {
        (true, _) | (false, Some(LogLevel::Debug)) => "debug",
        (false, Some(LogLevel::Info) | None) => "info",
        (false, Some(LogLevel::Warning)) => "warn",
        (false, Some(LogLevel::Error)) => "error",
    }
}

/// The subscriber at `level` (see [`level`]); `HA_MANAGER_LOG` overrides the filter.
pub(crate) fn subscriber(level: &str, sink: Sink) -> impl tracing::Subscriber + Send + Sync {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HA_MANAGER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("ha_manager={level},warn")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(MhaTime)
        .with_target(false)
        .with_ansi(false)
        .with_writer(sink)
        .finish()
}

/// Installs the global subscriber writing to `sink` (first call wins).
pub(crate) fn init(level: &str, sink: Sink) {
    if SINK.set(sink.clone()).is_ok() {
        let _ = tracing::subscriber::set_global_default(subscriber(level, sink));
    }
}

/// Writes an already formatted line where the log goes (stderr before [`init`]).
pub(crate) fn line(text: &str) {
    SINK.get().unwrap_or(&Sink::Stderr).line(text);
}

/// Prefixes a report line with the time, as MHA's log lines are.
pub(crate) fn stamp(line: &str) -> String {
    format!(
        "{} - {line}",
        chrono::Local::now().format("%a %b %e %H:%M:%S %Y")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn log_level_is_acted_on() {
        let cases = [
            (false, None, "info"),
            (false, Some(LogLevel::Debug), "debug"),
            (false, Some(LogLevel::Info), "info"),
            (false, Some(LogLevel::Warning), "warn"),
            (false, Some(LogLevel::Error), "error"),
            (true, Some(LogLevel::Error), "debug"),
        ];
        for (verbose, configured, want) in cases {
            assert_eq!(level(verbose, configured), want, "{verbose} {configured:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manager.log");
        let sink = Sink::open(&path).expect("open");
        tracing::subscriber::with_default(subscriber("warn", sink), || {
            tracing::info!("an info line");
            tracing::warn!("a warning");
            tracing::error!("an error");
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("an info line"), "{text}");
        assert!(
            text.contains("a warning") && text.contains("an error"),
            "{text}"
        );
    }

    #[test]
    fn log_lines_are_appended_to_the_file_created_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manager.log");
        let sink = Sink::open(&path).expect("open");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "created 0600: {mode:o}");
        tracing::subscriber::with_default(subscriber("info", sink.clone()), || {
            tracing::info!("Monitoring db1 every 3s.");
            tracing::debug!("not shown without --verbose");
        });
        sink.line("----- Failover Report -----");
        drop(sink);

        // A second run appends and does not change the mode of an existing file.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let again = Sink::open(&path).expect("reopen");
        tracing::subscriber::with_default(subscriber("info", again), || {
            tracing::warn!("second run");
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        // MHA's timestamp, then the level and the message.
        let stamp = chrono::NaiveDateTime::parse_from_str(&lines[0][..23], "%Y-%m-%d %H:%M:%S%.3f");
        assert!(stamp.is_ok(), "timestamp first: {text}");
        assert!(
            lines[0].ends_with("INFO Monitoring db1 every 3s."),
            "{text}"
        );
        assert_eq!(lines[1], "----- Failover Report -----");
        assert!(lines[2].ends_with("WARN second run"), "{text}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn a_missing_directory_names_the_key_and_the_path() {
        let err = Sink::open(Path::new("/nonexistent-ha-dir/app1/manager.log"))
            .expect_err("no directory");
        assert!(matches!(err, LogFileError::NoDirectory { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("manager_log=/nonexistent-ha-dir/app1/manager.log")
                && text.contains("/nonexistent-ha-dir/app1 does not exist"),
            "{text}"
        );
    }
}
