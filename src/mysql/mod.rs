//! MySQL/MariaDB adapter: the `Db` trait and its mysql_async implementation.
//!
//! Every call is bounded by a timeout; a connection whose call timed out is
//! dropped, never reused (mysql_async would wait for the abandoned result).

mod conn;
pub mod error;
pub mod facts;
pub mod sql;

use async_trait::async_trait;
use std::time::Duration;

use crate::config::ServerSpec;
use crate::topology::status::ServerFacts;

pub use conn::MysqlConnector;
pub use error::DbError;

/// One open connection to one server.
#[async_trait]
pub trait Db: Send + Sync {
    /// Everything `check-repl` and the failover need to know about the server.
    async fn facts(&self) -> Result<ServerFacts, DbError>;
    /// Does some account named `user` hold REPLICATION SLAVE on this server?
    async fn has_repl_privilege(&self, user: &str) -> Result<bool, DbError>;
    /// `SELECT 1`.
    async fn ping(&self) -> Result<(), DbError>;
    /// Close the connection politely.
    async fn close(self: Box<Self>);
}

/// Opens connections; the seam the use cases are written against.
#[async_trait]
pub trait Connector: Send + Sync {
    async fn connect(&self, spec: &ServerSpec, timeout: Duration) -> Result<Box<dyn Db>, DbError>;
}
