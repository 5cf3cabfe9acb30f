//! The failover journal: timestamped steps, kept as JSON lines and rendered into the report.
//!
//! A [`Journal`] holds the typed [`Facts`] the report needs (who died, who was
//! promoted, what each slave ended as, which positions were used, what may be
//! lost) and the list of [`Entry`] steps. With [`Journal::append_jsonl`] every
//! recorded step and every change of the facts is appended to a file as one JSON
//! line, opened, written and closed each time, so a manager that crashes
//! mid-failover leaves a journal complete up to its last step.
//! [`load_jsonl`] reads it back: the last facts line wins, entries accumulate.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A failover (or switch) phase, as MHA's banners number them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Phase {
    /// Watching the master, before any failover.
    Monitor,
    /// Phase 1: Configuration Check.
    Check,
    /// Phase 2: Dead Master Shutdown.
    Shutdown,
    /// Phase 3: Master Recovery.
    MasterRecovery,
    /// Phase 4: Slaves Recovery.
    SlavesRecovery,
    /// Phase 5: New master cleanup.
    Cleanup,
    /// An online switch (`switch --master-state alive`).
    Switch,
}

impl Phase {
    /// MHA's phase number, for the five failover phases.
    #[cfg(test)]
    pub(crate) fn number(self) -> Option<u8> {
        match self {
            Phase::Check => Some(1),
            Phase::Shutdown => Some(2),
            Phase::MasterRecovery => Some(3),
            Phase::SlavesRecovery => Some(4),
            Phase::Cleanup => Some(5),
            Phase::Monitor | Phase::Switch => None,
        }
    }

    /// The banner text operators know, e.g. `Phase 3: Master Recovery Phase`.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Phase::Monitor => "Monitoring",
            Phase::Check => "Phase 1: Configuration Check Phase",
            Phase::Shutdown => "Phase 2: Dead Master Shutdown Phase",
            Phase::MasterRecovery => "Phase 3: Master Recovery Phase",
            Phase::SlavesRecovery => "Phase 4: Slaves Recovery Phase",
            Phase::Cleanup => "Phase 5: New master cleanup phase",
            Phase::Switch => "Online master switch",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepResult {
    Ok,
    Warning,
    Failed,
    Info,
}

/// One step of the failover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    pub phase: Phase,
    /// The server the step acted on, e.g. `db2(198.18.0.12:3306)`.
    pub host: Option<String>,
    /// What was done, e.g. `stop IO thread`.
    pub action: String,
    pub result: StepResult,
    pub detail: String,
    /// For a failed step: what kind of failure it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FailureKind>,
}

/// What kind of failure stopped a step, so that the report (and code) can tell
/// "access denied" from "apply timed out".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FailureKind {
    /// A server refused or failed a call.
    Db,
    /// A command on a host over SSH could not run or failed.
    Remote,
    /// Binlog or relay-log bytes could not be read or cut.
    Binlog,
    /// A hook script refused.
    Hook,
    /// A bound ran out; trying again may succeed.
    Timeout,
    /// A server was not in a state the step could work with.
    State,
}

impl FailureKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailureKind::Db => "database error",
            FailureKind::Remote => "remote command error",
            FailureKind::Binlog => "binlog error",
            FailureKind::Hook => "hook refused",
            FailureKind::Timeout => "timed out",
            FailureKind::State => "server state",
        }
    }
}

/// How the failover was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    /// By the monitor (MHA: "automated(non-interactive)").
    #[default]
    Automatic,
    /// By an operator (`switch --master-state dead`).
    Manual,
    /// A planned online switch (`switch --master-state alive`).
    Switch,
}

/// A server as the report names it: MHA's `host(ip:port)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HostRef {
    pub host: String,
    pub ip: String,
    pub port: u16,
}

impl HostRef {
    pub(crate) fn new(host: impl Into<String>, ip: impl Into<String>, port: u16) -> Self {
        HostRef {
            host: host.into(),
            ip: ip.into(),
            port,
        }
    }

    /// `host(ip:port)`, as MHA 0.58 prints servers.
    pub(crate) fn label(&self) -> String {
        format!("{}({}:{})", self.host, self.ip, self.port)
    }
}

/// A hook that ran: its exit code, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HookRan {
    pub code: Option<i32>,
    /// Set when there is no code: `timed out after 30.0s ...`, `could not run: ...`.
    pub note: Option<String>,
}

impl HookRan {
    #[cfg(test)]
    pub(crate) fn exited(code: i32) -> Self {
        HookRan {
            code: Some(code),
            note: None,
        }
    }
}

/// A slave left with errant GTIDs: transactions the new master lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ErrantLeft {
    pub host: HostRef,
    /// The GTIDs (MariaDB: binlog-state entries), as the servers write them.
    pub gtids: String,
    /// What to do about them.
    pub fix: String,
}

/// What became of one slave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SlaveOutcome {
    pub host: HostRef,
    /// It had received the latest relay-log events (needed no diff).
    pub has_latest_relay_log: bool,
    pub result: SlaveResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SlaveResult {
    /// Replicating from the new master.
    Ok,
    /// Not recovered; `reason` is what the operator reads.
    Lost {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<FailureKind>,
    },
}

/// Binlog coordinates at the switch, as text (`mysql-bin.000003:1234`, GTID sets).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct SwitchPositions {
    /// The old master's last position known to the slaves (the latest slave's read position).
    pub old_master: Option<String>,
    /// The GTID set the latest slave had received from the old master.
    pub old_master_gtid: Option<String>,
    /// The new master's `SHOW MASTER STATUS` used for `CHANGE MASTER`.
    pub new_master: Option<String>,
    /// The new master's executed GTID set.
    pub new_master_gtid: Option<String>,
}

impl SwitchPositions {
    pub(crate) fn is_empty(&self) -> bool {
        self == &SwitchPositions::default()
    }
}

/// Events on the dead master that no slave received and that could not be saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LostRange {
    /// Events after this `file:pos` of the dead master's binlog may be lost.
    pub from_pos: Option<String>,
    /// Events not in this GTID set may be lost.
    pub after_gtid: Option<String>,
    /// Why the binlog could not be saved, e.g. `SSH to db1 failed: connection refused`.
    pub reason: String,
    /// What to do; `None` = the report's default advice (mysqlbinlog from the position).
    pub to_check: Option<String>,
}

/// Where and why the failover stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoppedAt {
    pub phase: Phase,
    /// The step that failed, e.g. `apply relay-log diff on db2`.
    pub step: String,
    /// What the operator must do by hand; `None` = the report's default for the phase.
    pub to_finish: Option<String>,
    /// What kind of failure stopped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FailureKind>,
}

/// Why the master was declared dead: the monitor's evidence (or that an
/// operator declared it), the first thing asked after an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Detection {
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// Consecutive missed pings (0: declared by an operator).
    pub misses: u32,
    /// From the first missed ping to the verdict, in milliseconds.
    pub since_first_miss_ms: u64,
    /// SSH to the master's host: `reachable`, `unreachable`, `unknown`.
    pub ssh: String,
    /// What every other server said during the confirmation.
    pub replicas: Vec<String>,
    /// Who agreed that it is dead, in one line.
    pub evidence: String,
}

/// The typed facts the report is built from. Filled in as the failover goes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct Facts {
    pub app: String,
    pub mode: Mode,
    /// GTID auto-position failover (no relay-log diffs).
    pub gtid: bool,
    /// The manager's host name, for `Check ha-manager logs at <host>:<log>`.
    pub manager_host: String,
    pub manager_log: Option<String>,
    /// The dead (or, for a switch, the old) master.
    pub dead_master: Option<HostRef>,
    /// Why it was declared dead (failovers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<Detection>,
    pub new_master: Option<HostRef>,
    /// The latest slave that has all relay logs for recovery.
    pub latest_slave: Option<HostRef>,
    /// `master_ip_failover_script --command=stop|stopssh`, if it ran.
    pub ip_stop: Option<HookRan>,
    /// `shutdown_script --command=stop|stopssh`, if it ran.
    pub shutdown: Option<HookRan>,
    /// The new master applied every log and is up to date.
    pub new_master_recovered: bool,
    /// `master_ip_failover_script --command=start`, if it ran.
    pub ip_start: Option<HookRan>,
    /// Every other slave, in config order.
    pub slaves: Vec<SlaveOutcome>,
    /// Third-tier slaves left under their intermediate master (`multi_tier_slave=1`):
    /// `slave label` → `intermediate master label`, config order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged: Vec<(String, String)>,
    /// `RESET SLAVE ALL` on the new master: `Some(true)` done, `Some(false)` failed.
    pub new_master_reset: Option<bool>,
    pub positions: SwitchPositions,
    pub possibly_lost: Option<LostRange>,
    /// What semi-sync says of acknowledged transactions (`topology::semisync`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semi_sync: Option<String>,
    /// Where the dead master's saved binlog tail was kept (manager_workdir).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_binlog: Option<String>,
    /// Where each relay-log difference was kept before it was applied (manager_workdir).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saved_diffs: Vec<String>,
    /// Repointed slaves with errant GTIDs (transactions the new master lacks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errant_left: Vec<ErrantLeft>,
    /// Every phase ran (some slaves may still be lost).
    pub finished: bool,
    /// One line per time this failover was resumed after an interruption.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed: Vec<String>,
    pub stopped_at: Option<StoppedAt>,
}

/// Facts plus steps; optionally mirrored to a JSON-lines file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Journal {
    facts: Facts,
    entries: Vec<Entry>,
    file: Option<PathBuf>,
}

/// A journal file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JournalError {
    #[error("cannot append to the journal {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the journal {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}:{line}: not a journal line")]
    Parse {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
}

/// One line of the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    // Boxed: a facts snapshot is several times larger than a step.
    Facts(Box<Facts>),
    Entry(Entry),
}

impl Journal {
    pub(crate) fn new(facts: Facts) -> Self {
        Journal {
            facts,
            entries: Vec::new(),
            file: None,
        }
    }

    pub(crate) fn facts(&self) -> &Facts {
        &self.facts
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// From now on, append every step and facts change to `path` (created if
    /// missing). Writes the current facts and any steps so far first.
    ///
    /// An existing file is appended to, and [`load_jsonl`] would merge both runs:
    /// start each failover with a fresh file (archive the previous one). If the
    /// file ends in a line torn by a crash, that line is closed first so the
    /// next record does not run into it.
    pub(crate) fn append_jsonl(&mut self, path: impl Into<PathBuf>) -> Result<(), JournalError> {
        let path = path.into();
        self.file = Some(path.clone());
        let torn = std::fs::read(&path)
            .map(|bytes| bytes.last().is_some_and(|b| *b != b'\n'))
            .unwrap_or(false);
        let mut lines = vec![Line::Facts(Box::new(self.facts.clone()))];
        lines.extend(self.entries.iter().cloned().map(Line::Entry));
        append_lines(&path, &lines, torn)
    }

    /// Records a step. The step is kept in memory even when the file write fails;
    /// the error only says the file is behind (the failover should go on).
    pub(crate) fn record(&mut self, entry: Entry) -> Result<(), JournalError> {
        self.entries.push(entry.clone());
        match &self.file {
            Some(path) => append_lines(path, &[Line::Entry(entry)], false),
            None => Ok(()),
        }
    }

    /// Records a step stamped with the current time.
    pub(crate) fn record_now(
        &mut self,
        phase: Phase,
        host: Option<&str>,
        action: impl Into<String>,
        result: StepResult,
        detail: impl Into<String>,
    ) -> Result<(), JournalError> {
        self.record(Entry {
            at: Utc::now(),
            phase,
            host: host.map(str::to_string),
            action: action.into(),
            result,
            detail: detail.into(),
            kind: None,
        })
    }

    /// Changes the facts and appends the new snapshot to the file.
    pub(crate) fn update_facts(
        &mut self,
        change: impl FnOnce(&mut Facts),
    ) -> Result<(), JournalError> {
        change(&mut self.facts);
        match &self.file {
            Some(path) => append_lines(path, &[Line::Facts(Box::new(self.facts.clone()))], false),
            None => Ok(()),
        }
    }
}

/// Reads a journal written by [`Journal::append_jsonl`]. A line cut short by a
/// crash (JSON that ends too early) is skipped; any other bad line is an error.
/// The returned journal does not write back to the file.
pub(crate) fn load_jsonl(path: &Path) -> Result<Journal, JournalError> {
    let text = std::fs::read_to_string(path).map_err(|source| JournalError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut journal = Journal::default();
    for (index, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(raw) {
            Ok(Line::Facts(facts)) => journal.facts = *facts,
            Ok(Line::Entry(entry)) => journal.entries.push(entry),
            Err(err) if err.is_eof() => continue,
            Err(source) => {
                return Err(JournalError::Parse {
                    path: path.to_path_buf(),
                    line: index + 1,
                    source,
                })
            }
        }
    }
    Ok(journal)
}

/// Opens, appends, closes. One `write_all` per call, so each line lands whole
/// (O_APPEND). No fsync: this survives a crash of the manager, not of the host,
/// and keeps the failover free of disk-latency stalls.
fn append_lines(path: &Path, lines: &[Line], close_torn_line: bool) -> Result<(), JournalError> {
    let mut text = String::new();
    if close_torn_line {
        text.push('\n');
    }
    for line in lines {
        // Serializing our own plain structs cannot fail (no maps with non-string keys).
        let json = serde_json::to_string(line).map_err(|err| JournalError::Write {
            path: path.to_path_buf(),
            source: io::Error::other(err),
        })?;
        text.push_str(&json);
        text.push('\n');
    }
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        file.write_all(text.as_bytes())?;
        file.flush()
    };
    write().map_err(|source| JournalError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// `DateTime<Utc>` as RFC 3339 text; the crate's chrono has no serde feature.
mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(sec: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, sec)
            .single()
            .expect("valid time")
    }

    fn entry(sec: u32, action: &str) -> Entry {
        Entry {
            at: at(sec),
            phase: Phase::Shutdown,
            host: Some("db1(198.18.0.11:3306)".into()),
            action: action.into(),
            result: StepResult::Ok,
            detail: "done".into(),
            kind: None,
        }
    }

    #[test]
    fn phase_numbers_and_titles() {
        assert_eq!(Phase::Check.number(), Some(1));
        assert_eq!(Phase::Cleanup.number(), Some(5));
        assert_eq!(Phase::Switch.number(), None);
        assert_eq!(
            Phase::MasterRecovery.title(),
            "Phase 3: Master Recovery Phase"
        );
    }

    #[test]
    fn entry_serializes_as_one_json_object_with_rfc3339_time() {
        let json = serde_json::to_string(&Line::Entry(entry(5, "stop IO thread"))).expect("json");
        assert_eq!(
            json,
            r#"{"entry":{"at":"2026-03-01T12:00:05.000Z","phase":"shutdown","host":"db1(198.18.0.11:3306)","action":"stop IO thread","result":"ok","detail":"done"}}"#
        );
    }

    #[test]
    fn append_then_load_round_trips_facts_and_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app1.journal.jsonl");
        let mut journal = Journal::new(Facts {
            app: "app1".into(),
            ..Facts::default()
        });
        journal
            .record(entry(1, "before the file"))
            .expect("in memory");
        journal.append_jsonl(&path).expect("open");
        journal.record(entry(2, "stop IO thread")).expect("append");
        journal
            .update_facts(|f| {
                f.dead_master = Some(HostRef::new("db1", "198.18.0.11", 3306));
                f.slaves.push(SlaveOutcome {
                    host: HostRef::new("db3", "198.18.0.13", 3306),
                    has_latest_relay_log: true,
                    result: SlaveResult::Lost {
                        reason: "Applying logs failed.".into(),
                        kind: None,
                    },
                });
            })
            .expect("facts");
        journal.record(entry(3, "shutdown_script")).expect("append");

        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text.lines().count(),
            5,
            "facts, 1 old entry, entry, facts, entry"
        );

        let loaded = load_jsonl(&path).expect("load");
        assert_eq!(loaded.facts(), journal.facts());
        assert_eq!(loaded.entries(), journal.entries());
    }

    #[test]
    fn each_record_is_on_disk_immediately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::default();
        journal.append_jsonl(&path).expect("open");
        for n in 0..3 {
            journal.record(entry(n, "step")).expect("append");
            let on_disk = load_jsonl(&path).expect("load");
            assert_eq!(on_disk.entries().len(), n as usize + 1);
        }
    }

    #[test]
    fn a_line_torn_by_a_crash_is_skipped_but_garbage_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("j.jsonl");
        let mut journal = Journal::default();
        journal.append_jsonl(&path).expect("open");
        journal.record(entry(1, "step")).expect("append");

        // The manager dies in the middle of writing a line.
        let mut torn = std::fs::read_to_string(&path).expect("read");
        torn.push_str(r#"{"entry":{"at":"2026-03-01T12:00:0"#);
        std::fs::write(&path, &torn).expect("write");
        assert_eq!(load_jsonl(&path).expect("load").entries().len(), 1);

        // A restarted manager appends after it; the torn line stays on its own.
        let mut again = Journal::default();
        again.append_jsonl(&path).expect("reopen");
        again.record(entry(2, "after restart")).expect("append");
        let loaded = load_jsonl(&path).expect("load");
        let actions: Vec<&str> = loaded.entries().iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["step", "after restart"]);

        std::fs::write(&path, format!("garbage\n{torn}\n")).expect("write");
        match load_jsonl(&path) {
            Err(JournalError::Parse { line, .. }) => assert_eq!(line, 1),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn write_failure_keeps_the_entry_in_memory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::default();
        // A directory cannot be opened for appending.
        let err = journal.append_jsonl(dir.path()).expect_err("a directory");
        assert!(matches!(err, JournalError::Write { .. }));
        assert!(journal.record(entry(1, "step")).is_err());
        assert_eq!(journal.entries().len(), 1);
    }

    #[test]
    fn record_now_stamps_the_current_time() {
        let before = Utc::now();
        let mut journal = Journal::default();
        journal
            .record_now(Phase::Check, None, "connect", StepResult::Info, "")
            .expect("no file");
        let stamped = journal.entries()[0].at;
        assert!(stamped >= before && stamped <= Utc::now());
    }
}
