//! What one server reports about itself: typed replica status and server facts.
//!
//! Built by the MySQL adapter from real rows; parsed here (pure) so the
//! parsing is table-tested against rows captured from MariaDB and built from
//! the MySQL 8.0/8.4 documentation.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

use crate::topology::gtid::{GtidError, GtidSet, MariaGtidPos, MariaGtidState};
use crate::topology::position::BinlogPos;

/// One result row as (column name, value or NULL), in server order.
pub(crate) type Columns = Vec<(String, Option<String>)>;

/// Server family; decides the SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    MySql,
    MariaDb,
}

/// A server version, e.g. 10.11.6 or 8.4.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// State of the IO (receiver) thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoState {
    Yes,
    Connecting,
    No,
}

/// MariaDB `Using_Gtid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MariaUsingGtid {
    No,
    SlavePos,
    CurrentPos,
}

/// The replication filters a replica applies (`Replicate_*` columns).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReplFilters {
    pub do_db: String,
    pub ignore_db: String,
    pub do_table: String,
    pub ignore_table: String,
    pub wild_do_table: String,
    pub wild_ignore_table: String,
}

/// Typed `SHOW SLAVE STATUS` / `SHOW REPLICA STATUS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaStatus {
    pub master_host: String,
    pub master_port: u16,
    pub master_user: String,
    pub master_server_id: Option<u32>,
    /// MySQL only: `Master_UUID` / `Source_UUID` (lower case), when known.
    pub master_uuid: Option<String>,
    /// IO thread position in the master's binlog (`Master_Log_File:Read_Master_Log_Pos`).
    pub read: BinlogPos,
    /// SQL thread position in the master's binlog (`Relay_Master_Log_File:Exec_Master_Log_Pos`).
    pub exec: BinlogPos,
    /// The replica's own relay log file and offset (`Relay_Log_File:Relay_Log_Pos`).
    pub relay_log_file: String,
    pub relay_log_pos: u64,
    pub io: IoState,
    pub sql_running: bool,
    pub seconds_behind: Option<u64>,
    pub last_io_errno: u32,
    pub last_io_error: String,
    pub last_sql_errno: u32,
    pub last_sql_error: String,
    pub filters: ReplFilters,
    /// MariaDB only.
    pub using_gtid: Option<MariaUsingGtid>,
    /// MariaDB only: `Gtid_IO_Pos`.
    pub gtid_io_pos: Option<MariaGtidPos>,
    /// MySQL only: `Auto_Position`.
    pub auto_position: Option<bool>,
    /// MySQL only.
    pub retrieved_gtid_set: Option<GtidSet>,
    /// MySQL only.
    pub executed_gtid_set: Option<GtidSet>,
    /// `Master_SSL_Allowed` / `Source_SSL_Allowed`: the link is set to use TLS
    /// (MySQL's `Ignored`, a replica built without TLS, reads as `false`).
    pub ssl_allowed: Option<bool>,
    /// `Master_SSL_Verify_Server_Cert` / `Source_SSL_Verify_Server_Cert`.
    pub ssl_verify_server_cert: Option<bool>,
}

/// GTID state of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GtidFacts {
    MariaDb {
        binlog_pos: MariaGtidPos,
        slave_pos: MariaGtidPos,
        current_pos: MariaGtidPos,
        /// `gtid_binlog_state`: the last GTID of each (domain, server_id) in the binlog.
        binlog_state: MariaGtidState,
    },
    MySql {
        /// `@@gtid_mode` is ON.
        enabled: bool,
        executed: GtidSet,
    },
}

/// Everything the manager reads from one reachable server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerFacts {
    pub flavor: Flavor,
    pub version: Version,
    /// The full `SELECT VERSION()` text.
    pub version_text: String,
    pub server_id: u32,
    pub log_bin: bool,
    pub log_slave_updates: bool,
    pub read_only: bool,
    /// `None` where the server has no such variable (MariaDB, MySQL < 5.7).
    pub super_read_only: Option<bool>,
    pub relay_log_purge: bool,
    pub binlog_format: String,
    /// `SHOW MASTER STATUS` / `SHOW BINARY LOG STATUS`; `None` when binlog is off.
    pub binlog: Option<BinlogPos>,
    /// `Binlog_Do_DB`/`Binlog_Ignore_DB` of that status.
    pub binlog_do_db: String,
    pub binlog_ignore_db: String,
    pub gtid: GtidFacts,
    /// Directory of the relay logs (from `@@relay_log_basename` or the datadir).
    pub relay_log_dir: String,
    pub datadir: String,
    /// `None` when the server is not a replica.
    pub replica: Option<ReplicaStatus>,
    /// What bounds how fast this server, as a replica, notices a vanished source.
    pub replica_net: ReplicaNet,
    /// Semi-sync settings and status, as a master and as a replica.
    pub semi_sync: crate::topology::semisync::SemiSync,
}

/// How a replica keeps in touch with its source: the settings that bound how
/// fast it notices a silent loss, and the heartbeats it has counted. Each is
/// `None` where the server does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReplicaNet {
    /// `slave_net_timeout` (`replica_net_timeout` on MySQL 8.0.26+): how long
    /// the IO thread waits for data before it gives the connection up.
    pub net_timeout: Option<Duration>,
    /// The heartbeat period of the replication connection (MariaDB
    /// `Slave_heartbeat_period`; MySQL `HEARTBEAT_INTERVAL`); zero: no heartbeats.
    pub heartbeat_period: Option<Duration>,
    /// Heartbeats received so far (`Slave_received_heartbeats`).
    pub received_heartbeats: Option<u64>,
}

/// Why a status row or version text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum StatusError {
    #[error("replica status has no {0} column")]
    MissingColumn(String),
    #[error("replica status column {column} has the value {value:?}; expected {expected}")]
    BadValue {
        column: String,
        value: String,
        expected: &'static str,
    },
    #[error("replica status column {column}: {source}")]
    BadGtid {
        column: String,
        #[source]
        source: GtidError,
    },
    #[error("cannot read a server version from {0:?}")]
    Version(String),
}

impl Flavor {
    /// Detects the family from `SELECT VERSION()` or a handshake banner:
    /// MariaDB says so (`10.11.6-MariaDB-log`), and its handshake banner
    /// carries the `5.5.5-` prefix that no MySQL sends.
    pub(crate) fn detect(version_text: &str) -> Flavor {
        let text = version_text.trim();
        if text.to_ascii_lowercase().contains("mariadb") || text.starts_with("5.5.5-") {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavor::MySql => "MySQL",
            Flavor::MariaDb => "MariaDB",
        })
    }
}

impl Version {
    pub(crate) fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Reads the leading `major.minor[.patch]` of a version text:
    /// `10.11.6-MariaDB-0+deb12u1-log` → 10.11.6, `8.0.36-28` → 8.0.36,
    /// `5.5.5-10.11.6-MariaDB` → 10.11.6 (MariaDB's handshake prefix, which
    /// exists only to please old clients, is dropped).
    pub(crate) fn parse(text: &str) -> Result<Version, StatusError> {
        let bad = || StatusError::Version(text.to_string());
        let trimmed = text.trim();
        let body = match trimmed.strip_prefix("5.5.5-") {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
            _ => trimmed,
        };
        let numeric_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let mut parts = body[..numeric_end].split('.');
        let mut number = |required: bool| -> Result<u32, StatusError> {
            match parts.next() {
                Some(p) if !p.is_empty() => p.parse().map_err(|_| bad()),
                None if !required => Ok(0),
                _ => Err(bad()),
            }
        };
        Ok(Version::new(number(true)?, number(true)?, number(false)?))
    }

    /// MHA's "major version" for the election: major and minor together
    /// (10.6 and 10.11 differ, 8.0.36 and 8.0.40 do not).
    pub(crate) fn major_minor(&self) -> (u32, u32) {
        (self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl IoState {
    /// `Slave_IO_Running` / `Replica_IO_Running`. MariaDB also shows
    /// `Preparing` while the thread starts; it is not reading yet, so it
    /// counts as connecting.
    fn parse(value: &str) -> Option<IoState> {
        match value.trim().to_ascii_lowercase().as_str() {
            "yes" => Some(IoState::Yes),
            "no" => Some(IoState::No),
            "connecting" | "preparing" => Some(IoState::Connecting),
            _ => None,
        }
    }
}

impl fmt::Display for IoState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoState::Yes => "Yes",
            IoState::Connecting => "Connecting",
            IoState::No => "No",
        })
    }
}

impl MariaUsingGtid {
    fn parse(value: &str) -> Option<MariaUsingGtid> {
        match value.trim().to_ascii_lowercase().as_str() {
            "no" => Some(MariaUsingGtid::No),
            "slave_pos" => Some(MariaUsingGtid::SlavePos),
            "current_pos" => Some(MariaUsingGtid::CurrentPos),
            _ => None,
        }
    }
}

impl fmt::Display for MariaUsingGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MariaUsingGtid::No => "No",
            MariaUsingGtid::SlavePos => "Slave_Pos",
            MariaUsingGtid::CurrentPos => "Current_Pos",
        })
    }
}

impl ReplFilters {
    /// Each filter with its `SHOW SLAVE STATUS` column name.
    pub(crate) fn named(&self) -> [(&'static str, &str); 6] {
        [
            ("Replicate_Do_DB", &self.do_db),
            ("Replicate_Ignore_DB", &self.ignore_db),
            ("Replicate_Do_Table", &self.do_table),
            ("Replicate_Ignore_Table", &self.ignore_table),
            ("Replicate_Wild_Do_Table", &self.wild_do_table),
            ("Replicate_Wild_Ignore_Table", &self.wild_ignore_table),
        ]
    }

    /// `Column='mine' vs 'theirs'` for every filter that differs.
    pub(crate) fn differences(&self, other: &ReplFilters) -> Vec<String> {
        self.named()
            .iter()
            .zip(other.named().iter())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((name, a), (_, b))| format!("{name}='{a}' vs '{b}'"))
            .collect()
    }
}

impl ServerFacts {
    /// True when the server has a replica status naming a source host (a
    /// `RESET SLAVE` without `ALL` can leave an empty one behind).
    pub(crate) fn is_replica(&self) -> bool {
        self.replica
            .as_ref()
            .is_some_and(|r| !r.master_host.is_empty())
    }

    /// MySQL `@@gtid_mode=ON`; MariaDB always records GTIDs.
    pub(crate) fn gtid_enabled(&self) -> bool {
        match &self.gtid {
            GtidFacts::MariaDb { .. } => true,
            GtidFacts::MySql { enabled, .. } => *enabled,
        }
    }
}

impl ReplicaStatus {
    /// True when this replica follows its source by GTID: MariaDB
    /// `Using_Gtid` other than `No`, or MySQL `Auto_Position=1`.
    pub(crate) fn uses_gtid(&self) -> bool {
        matches!(
            self.using_gtid,
            Some(MariaUsingGtid::SlavePos | MariaUsingGtid::CurrentPos)
        ) || self.auto_position == Some(true)
    }

    /// Maps one `SHOW SLAVE STATUS` / `SHOW REPLICA STATUS` /
    /// `SHOW ALL SLAVES STATUS` row by column name. Both spellings are
    /// accepted (`Master_*`/`Slave_*` of MariaDB and MySQL ≤ 8.0,
    /// `Source_*`/`Replica_*` of MySQL 8.0.22+); columns a version lacks are
    /// empty or `None`. A missing required column is an error naming it.
    pub(crate) fn from_columns(columns: &Columns) -> Result<ReplicaStatus, StatusError> {
        let row = Row(columns);
        let (last_sql_errno, last_sql_error) = sql_error(&row)?;
        Ok(ReplicaStatus {
            master_host: row.required_text(&["Master_Host", "Source_Host"])?,
            master_port: row.required_number(&["Master_Port", "Source_Port"])?,
            master_user: row.text(&["Master_User", "Source_User"]),
            // 0 means "never connected": the source's id is not known yet.
            master_server_id: row
                .number(&["Master_Server_Id", "Source_Server_Id"])?
                .filter(|&id| id != 0),
            master_uuid: Some(
                row.text(&["Master_UUID", "Source_UUID"])
                    .trim()
                    .to_ascii_lowercase(),
            )
            .filter(|u| !u.is_empty()),
            read: BinlogPos::new(
                row.required_text(&["Master_Log_File", "Source_Log_File"])?,
                row.required_number(&["Read_Master_Log_Pos", "Read_Source_Log_Pos"])?,
            ),
            exec: BinlogPos::new(
                row.required_text(&["Relay_Master_Log_File", "Relay_Source_Log_File"])?,
                row.required_number(&["Exec_Master_Log_Pos", "Exec_Source_Log_Pos"])?,
            ),
            relay_log_file: row.text(&["Relay_Log_File"]),
            relay_log_pos: row.number(&["Relay_Log_Pos"])?.unwrap_or(0),
            io: row.required_parsed(
                &["Slave_IO_Running", "Replica_IO_Running"],
                IoState::parse,
                "Yes, No or Connecting",
            )?,
            sql_running: row.required_parsed(
                &["Slave_SQL_Running", "Replica_SQL_Running"],
                parse_yes_no,
                "Yes or No",
            )?,
            // NULL when the SQL or IO thread is not running.
            seconds_behind: row.number(&["Seconds_Behind_Master", "Seconds_Behind_Source"])?,
            last_io_errno: row.number(&["Last_IO_Errno"])?.unwrap_or(0),
            last_io_error: row.text(&["Last_IO_Error"]),
            last_sql_errno,
            last_sql_error,
            filters: ReplFilters {
                do_db: row.text(&["Replicate_Do_DB"]),
                ignore_db: row.text(&["Replicate_Ignore_DB"]),
                do_table: row.text(&["Replicate_Do_Table"]),
                ignore_table: row.text(&["Replicate_Ignore_Table"]),
                wild_do_table: row.text(&["Replicate_Wild_Do_Table"]),
                wild_ignore_table: row.text(&["Replicate_Wild_Ignore_Table"]),
            },
            using_gtid: row.parsed(
                &["Using_Gtid"],
                MariaUsingGtid::parse,
                "No, Slave_Pos or Current_Pos",
            )?,
            gtid_io_pos: row.gtid(&["Gtid_IO_Pos"], MariaGtidPos::parse)?,
            auto_position: row.parsed(&["Auto_Position"], parse_yes_no, "0 or 1")?,
            retrieved_gtid_set: row.gtid(&["Retrieved_Gtid_Set"], GtidSet::parse)?,
            executed_gtid_set: row.gtid(&["Executed_Gtid_Set"], GtidSet::parse)?,
            // Informational (check-repl's repl_ssl warning): a value not
            // understood reads as unknown rather than failing the whole row.
            ssl_allowed: match row.text(&["Master_SSL_Allowed", "Source_SSL_Allowed"]) {
                v if v.trim().eq_ignore_ascii_case("ignored") => Some(false),
                v => parse_yes_no(&v),
            },
            ssl_verify_server_cert: parse_yes_no(&row.text(&[
                "Master_SSL_Verify_Server_Cert",
                "Source_SSL_Verify_Server_Cert",
            ])),
        })
    }
}

/// MySQL's `ER_MTA_INCONSISTENT_DATA`: what a multi-threaded applier stopped
/// or killed inside a transaction reports when no worker failed (a worker's
/// own error stays the reported one). Its data is not in error: the
/// incomplete transaction was rolled back and a start redoes it. It is read
/// as a plain stop, so a slave whose SQL thread ha-manager itself killed
/// ([`super::applied::stuck_sql_thread`]) is started again, not taken for
/// one that failed.
const MTA_STOPPED_IN_GROUP: u32 = 1756;

/// The SQL thread's last error, (errno, text); [`MTA_STOPPED_IN_GROUP`] reads as none.
fn sql_error(row: &Row<'_>) -> Result<(u32, String), StatusError> {
    let errno: u32 = row.number(&["Last_SQL_Errno"])?.unwrap_or(0);
    Ok(if errno == MTA_STOPPED_IN_GROUP {
        (0, String::new())
    } else {
        (errno, row.text(&["Last_SQL_Error"]))
    })
}

/// `Yes`/`No` and `1`/`0`.
fn parse_yes_no(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "1" | "on" => Some(true),
        "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// Column lookup by any of several names (the spellings of one column).
struct Row<'a>(&'a Columns);

impl Row<'_> {
    /// The first column matching one of `names` (case-insensitively, as
    /// MySQL treats column names): its actual name and value.
    fn find(&self, names: &[&str]) -> Option<(&str, Option<&str>)> {
        self.0.iter().find_map(|(name, value)| {
            names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name))
                .then_some((name.as_str(), value.as_deref()))
        })
    }

    fn require(&self, names: &[&str]) -> Result<(&str, Option<&str>), StatusError> {
        self.find(names)
            .ok_or_else(|| StatusError::MissingColumn(names.join(" or ")))
    }

    /// Text of an optional column; missing or NULL is empty.
    fn text(&self, names: &[&str]) -> String {
        self.find(names)
            .and_then(|(_, v)| v)
            .unwrap_or_default()
            .to_string()
    }

    fn required_text(&self, names: &[&str]) -> Result<String, StatusError> {
        Ok(self.require(names)?.1.unwrap_or_default().to_string())
    }

    /// An optional number: missing, NULL or empty is `None`.
    fn number<T: FromStr>(&self, names: &[&str]) -> Result<Option<T>, StatusError> {
        match self.find(names) {
            Some((column, Some(v))) if !v.trim().is_empty() => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad(column, v, "a number")),
            _ => Ok(None),
        }
    }

    fn required_number<T: FromStr>(&self, names: &[&str]) -> Result<T, StatusError> {
        let (column, value) = self.require(names)?;
        let v = value.unwrap_or_default();
        v.trim().parse().map_err(|_| bad(column, v, "a number"))
    }

    fn parsed<T>(
        &self,
        names: &[&str],
        parse: fn(&str) -> Option<T>,
        expected: &'static str,
    ) -> Result<Option<T>, StatusError> {
        match self.find(names) {
            Some((column, Some(v))) if !v.trim().is_empty() => {
                parse(v).map(Some).ok_or_else(|| bad(column, v, expected))
            }
            _ => Ok(None),
        }
    }

    fn required_parsed<T>(
        &self,
        names: &[&str],
        parse: fn(&str) -> Option<T>,
        expected: &'static str,
    ) -> Result<T, StatusError> {
        let (column, value) = self.require(names)?;
        let v = value.unwrap_or_default();
        parse(v).ok_or_else(|| bad(column, v, expected))
    }

    /// A GTID column: `None` when the server has no such column (the other
    /// flavor), the parsed value (possibly empty) when it has.
    fn gtid<T>(
        &self,
        names: &[&str],
        parse: fn(&str) -> Result<T, GtidError>,
    ) -> Result<Option<T>, StatusError> {
        match self.find(names) {
            Some((column, value)) => parse(value.unwrap_or_default())
                .map(Some)
                .map_err(|source| StatusError::BadGtid {
                    column: column.to_string(),
                    source,
                }),
            None => Ok(None),
        }
    }
}

fn bad(column: &str, value: &str, expected: &'static str) -> StatusError {
    StatusError::BadValue {
        column: column.to_string(),
        value: value.to_string(),
        expected,
    }
}

#[cfg(test)]
mod tests;
