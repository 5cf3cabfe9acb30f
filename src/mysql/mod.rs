//! MySQL/MariaDB adapter: the `Db` trait and its mysql_async implementation.
//!
//! Every call is bounded by a timeout; a connection whose call timed out is
//! dropped, never reused (mysql_async would wait for the abandoned result).

mod conn;
pub(crate) mod error;
pub(crate) mod facts;
#[cfg(test)]
pub(crate) mod fake;
pub(crate) mod gather;
pub(crate) mod sql;

use async_trait::async_trait;
use std::time::Duration;

use crate::config::ServerSpec;
use crate::topology::status::ServerFacts;

pub(crate) use conn::MysqlConnector;
pub(crate) use error::DbError;
pub(crate) use sql::ReplicateFrom;

use crate::config::{ReplTls, Secret};
use crate::topology::gtid::{GtidSet, MariaGtidPos};
use crate::topology::position::BinlogPos;

/// Where to point a replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangeMaster {
    pub host: String,
    pub port: u16,
    /// `None` keeps the credentials the replica already has (MHA without `repl_password`).
    pub credentials: Option<(String, Secret)>,
    /// `repl_ssl=1` of the replica: TLS options to write; `None` keeps its own.
    pub tls: Option<ReplTls>,
    pub from: ReplicateFrom,
}

/// What a server should wait for before answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WaitTarget {
    /// The SQL thread reaches this source position.
    Position(BinlogPos),
    /// MariaDB `gtid_slave_pos` reaches this position.
    MariaGtid(MariaGtidPos),
    /// MySQL has executed this GTID set.
    MySqlGtid(GtidSet),
}

/// One client thread from the process list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Process {
    pub id: u64,
    pub user: String,
    pub host: String,
    pub db: Option<String>,
    pub command: String,
    pub time: u64,
    pub state: Option<String>,
    pub info: Option<String>,
}

/// The replication threads in a process list (`system user`), as
/// (id, command, state): what the applied-ness rules in
/// [`crate::topology::applied`] read.
pub(crate) fn replication_threads(
    processes: &[Process],
) -> impl Iterator<Item = (u64, &str, &str)> + Clone {
    processes
        .iter()
        .filter(|p| p.user.eq_ignore_ascii_case("system user"))
        .map(|p| (p.id, p.command.as_str(), p.state.as_deref().unwrap_or("")))
}

/// One open connection to one server.
#[async_trait]
pub(crate) trait Db: Send + Sync {
    /// Everything `check-repl` and the failover need to know about the server.
    async fn facts(&self) -> Result<ServerFacts, DbError>;
    /// The semi-sync settings and counters only (what the monitor reads of the master).
    async fn semi_sync(&self) -> Result<crate::topology::semisync::SemiSync, DbError>;
    /// Does some account named `user` hold REPLICATION SLAVE on this server?
    async fn has_repl_privilege(&self, user: &str) -> Result<bool, DbError>;
    /// `SELECT 1`.
    async fn ping(&self) -> Result<(), DbError>;
    /// MHA `ping_type=INSERT`: a write proves the master can commit.
    async fn ping_insert(&self) -> Result<(), DbError>;
    /// Stops the replication receiver (IO) thread.
    async fn stop_replica_io(&self) -> Result<(), DbError>;
    async fn stop_replica(&self) -> Result<(), DbError>;
    async fn start_replica(&self) -> Result<(), DbError>;
    /// Starts the applier (SQL) thread only.
    // Kept for applying relay logs with the IO thread stopped during recovery (upcoming).
    #[allow(dead_code)]
    async fn start_replica_sql(&self) -> Result<(), DbError>;
    /// `RESET SLAVE ALL`: forget the replication source.
    async fn reset_replica_all(&self) -> Result<(), DbError>;
    async fn change_master(&self, to: &ChangeMaster) -> Result<(), DbError>;
    /// `read_only` (and `super_read_only` where the server has it).
    async fn set_read_only(&self, on: bool) -> Result<(), DbError>;
    async fn set_relay_log_purge(&self, on: bool) -> Result<(), DbError>;
    /// The server's global `max_allowed_packet`, in bytes.
    async fn max_allowed_packet(&self) -> Result<u64, DbError>;
    /// Sets the global `max_allowed_packet` (sessions opened after take it).
    async fn set_max_allowed_packet(&self, bytes: u64) -> Result<(), DbError>;
    /// MariaDB `SET GLOBAL gtid_slave_pos` (replication must be stopped).
    async fn set_gtid_slave_pos(&self, pos: &MariaGtidPos) -> Result<(), DbError>;
    /// Waits server-side, at most `limit`; `Ok(false)` when the limit passed first.
    async fn wait_for(&self, target: &WaitTarget, limit: Duration) -> Result<bool, DbError>;
    async fn processlist(&self) -> Result<Vec<Process>, DbError>;
    async fn kill_connection(&self, id: u64) -> Result<(), DbError>;
    /// Thread ids of the sessions with an open InnoDB transaction (`INNODB_TRX`).
    async fn transaction_threads(&self) -> Result<Vec<u64>, DbError>;
    /// Names of the accounts whose sessions may write while `read_only=1`
    /// (SUPER, MariaDB's READ_ONLY ADMIN); `super_read_only`, where set, stops them too.
    async fn read_only_exempt_users(&self) -> Result<Vec<String>, DbError>;
    /// `FLUSH TABLES WITH READ LOCK`: held as long as this connection lives or
    /// until [`Db::unlock_tables`].
    async fn flush_tables_with_read_lock(&self) -> Result<(), DbError>;
    async fn unlock_tables(&self) -> Result<(), DbError>;
    /// Close the connection politely.
    async fn close(self: Box<Self>);
}

/// Opens connections; the seam the use cases are written against.
#[async_trait]
pub(crate) trait Connector: Send + Sync {
    async fn connect(&self, spec: &ServerSpec, timeout: Duration) -> Result<Box<dyn Db>, DbError>;
}
