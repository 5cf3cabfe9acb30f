//! `status`: is the manager running, and what does it see (MHA's
//! `masterha_check_status`).
//!
//! It reads the workdir files written by `state::HealthWriter`; the printed
//! line and the numeric state (also the exit code) are MHA's, so scripts that
//! parse them keep working.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::cli::StatusArgs;
use crate::config::{AppSettings, Config};
use crate::exit::Exit;
use crate::state::{
    judge_status, HealthRecord, MarkerKind, StateError, StatusCode, StatusInput, Workdir,
};

use super::pid::pid_alive;
use crate::mysql::gather;
use crate::render::servers;
use crate::topology::roles::{self, ServerRole};
use crate::topology::validate::{self, Rules};

/// `ha-manager status`: prints MHA's line (or `--json`); exits with the state number.
pub(super) async fn run(config: &Config, args: &StatusArgs) -> anyhow::Result<Exit> {
    let mut report = status(config, args.ping_limit.map(Duration::from_secs))?;
    if args.servers {
        let roles = server_roles(config).await;
        report.extra.extend(servers::text(&roles));
        report.json["servers"] = servers::json(&roles);
    }
    // An unfinished failover: where it stopped and the command that finishes it.
    if let Ok(Some(u)) = super::record::unfinished(&Workdir::of(config)) {
        let command = u.finish_command(&args.conf.conf);
        report.extra.push(format!(
            "The failover from {} stopped in {}. Finish it with: {command}",
            u.dead.label(),
            u.stopped()
        ));
        report.json["finish_command"] = serde_json::Value::String(command);
    }
    if args.json {
        println!("{}", report.json);
    } else {
        println!("{}", report.line);
        for line in &report.extra {
            println!("{line}");
        }
    }
    Ok(Exit::Code(report.code.number()))
}

/// Every server's role and state, read now (each connect bounded by
/// `mysql_timeout`, all at once). The master is the one discovery names,
/// alive or dead (the top of every slave's chain when it is unreachable).
async fn server_roles(config: &Config) -> Vec<ServerRole> {
    let topology = gather::topology(config, super::adapters::connector()).await;
    let rules = Rules {
        master_may_be_dead: true,
        ..Rules::from_settings(&config.settings)
    };
    let master = validate::discover_with(&topology, &rules)
        .master
        .or_else(
            || match crate::topology::tiers::tops(&topology).as_slice() {
                [only] => Some(*only),
                _ => None,
            },
        );
    roles::roles(&topology, master)
}

/// What `status` found: the state (also the exit code), MHA's line, and
/// the same facts as JSON.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StatusReport {
    pub code: StatusCode,
    /// MHA's one-line summary, e.g. `app1 (pid:5057) is running(0:PING_OK), master:198.18.0.11`.
    pub line: String,
    /// Further lines MHA prints after it (`Check <log> for details.`).
    pub extra: Vec<String>,
    pub json: serde_json::Value,
}

/// `status`'s staleness limit when none is given: three pings plus a
/// connect timeout, at least 10 s (MHA's default `ping_limit`).
pub(super) fn default_ping_limit(settings: &AppSettings) -> Duration {
    (settings.ping_interval * 3 + settings.mysql_timeout).max(Duration::from_secs(10))
}

/// `ha-manager status`; `ping_limit` `None` = [`default_ping_limit`].
pub(super) fn status(
    config: &Config,
    ping_limit: Option<Duration>,
) -> Result<StatusReport, StateError> {
    let limit = ping_limit.unwrap_or_else(|| default_ping_limit(&config.settings));
    status_of(
        &Workdir::of(config),
        limit,
        config.settings.manager_log.as_deref(),
    )
}

/// [`status`] for a workdir, for tests and callers without a config.
pub(super) fn status_of(
    workdir: &Workdir,
    ping_limit: Duration,
    manager_log: Option<&Path>,
) -> Result<StatusReport, StateError> {
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
    let unfinished = workdir.read_marker(MarkerKind::Error)?.map(|m| m.path);
    let (code, mut lines) = judge_status(&StatusInput {
        app: workdir.app(),
        record,
        pid_alive,
        age,
        ping_limit,
        health_file: &health_file,
        manager_log,
        unfinished: unfinished.as_deref(),
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
