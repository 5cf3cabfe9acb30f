//! The real `Db`: a mysql_async connection with every call under a timeout.

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, Value};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use tokio::sync::Mutex;

use super::error::DbError;
use super::facts::{assemble_facts, RawFacts};
use super::{sql, Connector, Db};
use crate::config::ServerSpec;
use crate::topology::status::{Columns, ServerFacts};

/// Builds real connections.
#[derive(Debug, Default, Clone, Copy)]
pub struct MysqlConnector;

#[async_trait]
impl Connector for MysqlConnector {
    async fn connect(&self, spec: &ServerSpec, timeout: Duration) -> Result<Box<dyn Db>, DbError> {
        let opts = OptsBuilder::default()
            .ip_or_hostname(spec.mysql_addr())
            .tcp_port(spec.port)
            .user(Some(spec.user.clone()))
            .pass(Some(spec.password.expose().to_owned()))
            // mysql_async switches to the Unix socket for local addresses unless told not to.
            .prefer_socket(false)
            .stmt_cache_size(0);
        let conn = bounded(timeout, "connecting", Conn::new(opts)).await?;
        Ok(Box::new(MysqlDb {
            conn: Mutex::new(Some(conn)),
            timeout,
        }))
    }
}

/// One connection. `None` once a call timed out or failed at the I/O level.
struct MysqlDb {
    conn: Mutex<Option<Conn>>,
    timeout: Duration,
}

impl MysqlDb {
    /// Runs a text query and returns every row as named columns.
    async fn rows(&self, what: &'static str, query: &str) -> Result<Vec<Columns>, DbError> {
        let mut guard = self.conn.lock().await;
        let conn = guard
            .as_mut()
            .ok_or_else(|| DbError::Io("connection was dropped after an earlier failure".into()))?;
        let result = bounded(self.timeout, what, conn.query::<Row, _>(query)).await;
        if matches!(result, Err(DbError::Timeout { .. } | DbError::Io(_))) {
            *guard = None;
        }
        Ok(result?.into_iter().map(columns).collect())
    }

    async fn first_row(&self, what: &'static str, query: &str) -> Result<Option<Columns>, DbError> {
        Ok(self.rows(what, query).await?.into_iter().next())
    }
}

#[async_trait]
impl Db for MysqlDb {
    async fn facts(&self) -> Result<ServerFacts, DbError> {
        let version_row = self.first_row("reading the version", sql::VERSION).await?;
        let version_text = version_row
            .and_then(|row| row.into_iter().next())
            .and_then(|(_, value)| value)
            .ok_or_else(|| DbError::Protocol("SELECT VERSION() returned nothing".into()))?;
        let variables: HashMap<String, String> = self
            .rows("reading variables", sql::FACT_VARIABLES)
            .await?
            .into_iter()
            .filter_map(|row| {
                let mut it = row.into_iter();
                let name = it.next()?.1?;
                let value = it.next()?.1.unwrap_or_default();
                Some((name.to_ascii_lowercase(), value))
            })
            .collect();
        let (flavor, version) = super::facts::flavor_and_version(&version_text)?;
        let binlog = self
            .first_row(
                "reading the binlog status",
                sql::show_binlog_status(flavor, version),
            )
            .await?;
        let replica = self
            .first_row(
                "reading the replica status",
                sql::show_replica_status(flavor, version),
            )
            .await?;
        assemble_facts(RawFacts {
            version_text,
            variables,
            binlog,
            replica,
        })
    }

    async fn has_repl_privilege(&self, user: &str) -> Result<bool, DbError> {
        let mut guard = self.conn.lock().await;
        let conn = guard
            .as_mut()
            .ok_or_else(|| DbError::Io("connection was dropped after an earlier failure".into()))?;
        let count: Option<u64> = bounded(
            self.timeout,
            "reading privileges",
            conn.exec_first(sql::REPL_PRIVILEGE, (user,)),
        )
        .await?;
        Ok(count.unwrap_or(0) > 0)
    }

    async fn ping(&self) -> Result<(), DbError> {
        self.rows("pinging", sql::PING).await.map(|_| ())
    }

    async fn close(self: Box<Self>) {
        if let Some(conn) = self.conn.into_inner() {
            let _ = tokio::time::timeout(self.timeout, conn.disconnect()).await;
        }
    }
}

/// Awaits a driver future under a timeout, mapping both failure kinds to `DbError`.
async fn bounded<T>(
    limit: Duration,
    what: &'static str,
    fut: impl Future<Output = Result<T, mysql_async::Error>>,
) -> Result<T, DbError> {
    match tokio::time::timeout(limit, fut).await {
        Err(_) => Err(DbError::Timeout { what, after: limit }),
        Ok(Err(e)) if what == "connecting" => match DbError::from_driver(e) {
            server @ DbError::Server { .. } => Err(server),
            other => Err(DbError::Connect(other.to_string())),
        },
        Ok(result) => result.map_err(DbError::from_driver),
    }
}

/// A text-protocol row as (column name, value) pairs.
fn columns(row: Row) -> Columns {
    let names: Vec<String> = row
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    let values = row.unwrap();
    names
        .into_iter()
        .zip(values)
        .map(|(name, value)| (name, text(value)))
        .collect()
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::NULL => None,
        Value::Bytes(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true)),
    }
}
