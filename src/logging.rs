//! Logging set-up: MHA-style timestamped lines (`2026-11-22 10:00:00 - [info] ...`) on stderr.

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

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

/// Installs the global subscriber; `verbose` shows debug lines.
pub fn init(verbose: bool) {
    let level = if verbose { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("HA_MANAGER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("ha_manager={level},warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(MhaTime)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prefixes a report line with the time, as MHA's log lines are.
pub fn stamp(line: &str) -> String {
    format!(
        "{} - {line}",
        chrono::Local::now().format("%a %b %e %H:%M:%S %Y")
    )
}
