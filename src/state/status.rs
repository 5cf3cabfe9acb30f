//! The pure half of the workdir: MHA's status codes, the health-file line and
//! [`judge_status`], which turns what was read into the `status` line. No I/O here;
//! it is tested on text.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::policy::death::MonitorState;

/// MHA's manager states (`ManagerConst.pm`); the number is also the exit
/// code of `ha-manager status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum StatusCode {
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
    pub(crate) const ALL: [StatusCode; 11] = [
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

    pub(crate) fn number(self) -> u8 {
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

    pub(crate) fn name(self) -> &'static str {
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

    pub(crate) fn from_number(n: u8) -> Option<StatusCode> {
        StatusCode::ALL.into_iter().find(|c| c.number() == n)
    }

    /// Parses MHA's `N:NAME` form; both halves must agree.
    pub(crate) fn parse(text: &str) -> Option<StatusCode> {
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
            MonitorState::PingOk => StatusCode::PingOk,
            MonitorState::PingFailing => StatusCode::PingFailing,
            MonitorState::PingFailed => StatusCode::PingFailed,
            MonitorState::RetryingMonitor => StatusCode::RetryingMonitor,
        }
    }
}

/// The content of the health file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HealthRecord {
    pub pid: u32,
    pub code: StatusCode,
    /// The master's hostname; `None` before one is known.
    pub master: Option<String>,
}

impl HealthRecord {
    /// MHA's format: `pid<TAB>N:NAME[<TAB>master:<host>]`, no trailing newline.
    pub(crate) fn render(&self) -> String {
        match &self.master {
            Some(host) => format!("{}\t{}\tmaster:{host}", self.pid, self.code),
            None => format!("{}\t{}", self.pid, self.code),
        }
    }

    /// Reads what [`render`](Self::render) (or MHA) wrote.
    pub(crate) fn parse(text: &str) -> Result<HealthRecord, String> {
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
    pub(crate) fn master_info(&self) -> String {
        self.master
            .as_deref()
            .map(|m| format!("master:{m}"))
            .unwrap_or_default()
    }
}

/// What `status` found on disk and in the process table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusInput<'a> {
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
    /// `<app>.failover.error` when it exists: a failover that did not finish
    /// (written before it starts, removed when it ends well).
    pub unfinished: Option<&'a Path>,
}

/// The state and MHA's printed lines (`ManagerAdmin.pm::check_status`).
pub(crate) fn judge_status(input: &StatusInput<'_>) -> (StatusCode, Vec<String>) {
    let app = input.app;
    let record = match input.record {
        Some(r) if input.pid_alive => r,
        // The manager is gone, but its record or the marker says a failover
        // did not finish: that is what the operator must hear, not "stopped".
        record
            if input.unfinished.is_some()
                || record.is_some_and(|r| {
                    matches!(
                        r.code,
                        StatusCode::FailoverRunning | StatusCode::FailoverError
                    )
                }) =>
        {
            let code = StatusCode::FailoverError;
            let master = record.map(HealthRecord::master_info).unwrap_or_default();
            let mut lines =
                vec![
                    format!("{app} is stopped, and a failover did not finish({code}). {master}")
                        .trim_end()
                        .to_owned(),
                ];
            if let Some(marker) = input.unfinished {
                lines.push(format!(
                    "{} exists: check every server (ha-manager check-repl), finish the \
                     failover by hand as its report says, then remove it.",
                    marker.display()
                ));
            }
            return (code, lines);
        }
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
pub(crate) struct HealthUpdate {
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
/// is [`HealthWriter`](super::HealthWriter); tests capture the updates with a closure.
pub(crate) trait StateSink: Send + Sync {
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
pub(crate) struct HealthJson {
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
            unfinished: None,
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
            // The manager died in a failover: not "stopped", a failover that did not finish.
            (rec(StatusCode::FailoverRunning), false, 1, StatusCode::FailoverError,
             "app1 is stopped, and a failover did not finish(51:FAILOVER_ERROR). master:198.18.0.11"),
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
    fn an_unfinished_failover_marker_is_reported_with_the_manager_gone() {
        let marker = Path::new("/var/tmp/app1.failover.error");
        for record in [None, Some(&rec(StatusCode::PingOk))] {
            let (code, lines) = judge_status(&StatusInput {
                unfinished: Some(marker),
                ..input(record, false, 1)
            });
            assert_eq!(code, StatusCode::FailoverError, "{record:?}");
            assert!(
                lines[0].contains("a failover did not finish(51:FAILOVER_ERROR)"),
                "{lines:?}"
            );
            assert!(
                lines[1].starts_with("/var/tmp/app1.failover.error exists: check every server"),
                "{lines:?}"
            );
        }
        // A running manager reports its own state.
        let running = rec(StatusCode::PingOk);
        let (code, _) = judge_status(&StatusInput {
            unfinished: Some(marker),
            ..input(Some(&running), true, 1)
        });
        assert_eq!(code, StatusCode::PingOk);
    }
}
