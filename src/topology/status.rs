//! What one server reports about itself: typed replica status and server facts.
//!
//! Built by the MySQL adapter from real rows; parsed here (pure) so the
//! parsing is table-tested against rows captured from MariaDB and built from
//! the MySQL 8.0/8.4 documentation.

use crate::topology::gtid::{GtidSet, MariaGtidPos};
use crate::topology::position::BinlogPos;

/// One result row as (column name, value or NULL), in server order.
pub type Columns = Vec<(String, Option<String>)>;

/// Server family; decides the SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    MySql,
    MariaDb,
}

/// A server version, e.g. 10.11.6 or 8.4.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// State of the IO (receiver) thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoState {
    Yes,
    Connecting,
    No,
}

/// MariaDB `Using_Gtid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MariaUsingGtid {
    No,
    SlavePos,
    CurrentPos,
}

/// The replication filters a replica applies (`Replicate_*` columns).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplFilters {
    pub do_db: String,
    pub ignore_db: String,
    pub do_table: String,
    pub ignore_table: String,
    pub wild_do_table: String,
    pub wild_ignore_table: String,
}

/// Typed `SHOW SLAVE STATUS` / `SHOW REPLICA STATUS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    pub master_host: String,
    pub master_port: u16,
    pub master_user: String,
    pub master_server_id: Option<u32>,
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
}

/// GTID state of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtidFacts {
    MariaDb {
        binlog_pos: MariaGtidPos,
        slave_pos: MariaGtidPos,
        current_pos: MariaGtidPos,
    },
    MySql {
        /// `@@gtid_mode` is ON.
        enabled: bool,
        executed: GtidSet,
    },
}

/// Everything the manager reads from one reachable server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFacts {
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
}
