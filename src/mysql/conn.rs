//! The real `Db`: a mysql_async connection with every call under a timeout.

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{ClientIdentity, Conn, OptsBuilder, Row, SslOpts, Value};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::Mutex;

use super::error::DbError;
use super::facts::{assemble_facts, flavor_and_version, RawFacts};
use super::sql::{self, ReplicaCmd};
use super::{ChangeMaster, Connector, Db, Process, WaitTarget};
use crate::config::model::{SslMode, TlsSpec};
use crate::config::ServerSpec;
use crate::topology::applied;
use crate::topology::gtid::MariaGtidPos;
use crate::topology::semisync::SemiSync;
use crate::topology::status::{Columns, Flavor, IoState, ServerFacts, Version};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type DriverResult<T> = Result<T, mysql_async::Error>;

/// Builds real connections.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MysqlConnector;

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
        let tls = ssl_opts(&spec.tls);
        let attempt = bounded(
            timeout,
            "connecting",
            Conn::new(opts.clone().ssl_opts(tls.clone())),
        )
        .await;
        let mut conn = match attempt {
            // ssl_mode=preferred: a server that offers no TLS gets a plain connection.
            Err(DbError::Connect(why))
                if spec.tls.mode == SslMode::Preferred && why.contains(NO_SERVER_TLS) =>
            {
                bounded(timeout, "connecting", Conn::new(opts)).await?
            }
            other => other?,
        };
        bounded(
            timeout,
            "setting up the session",
            conn.query_drop(sql::SESSION_SETUP),
        )
        .await?;
        let version_text: Option<String> = bounded(
            timeout,
            "reading the version",
            conn.query_first(sql::VERSION),
        )
        .await?;
        let (flavor, version) = flavor_and_version(version_text.as_deref().unwrap_or(""))?;
        Ok(Box::new(MysqlDb {
            conn: Mutex::new(Some(conn)),
            label: spec.label(),
            timeout,
            flavor,
            version,
        }))
    }
}

/// How mysql_async says the server offers no TLS (`DriverError::NoClientSslFlagFromServer`).
const NO_SERVER_TLS: &str = "server does not have this capability";

/// The driver's TLS options for `ssl_mode` (as the mysql client's `--ssl-mode`):
/// `required` and `preferred` encrypt without checking the certificate,
/// `verify_ca` checks it against `ssl_ca` only, `verify_identity` also
/// checks that it names the address connected to.
fn ssl_opts(tls: &TlsSpec) -> Option<SslOpts> {
    let roots = || tls.ca.iter().map(|p| p.clone().into()).collect::<Vec<_>>();
    let base = SslOpts::default().with_client_identity(
        tls.cert
            .as_ref()
            .zip(tls.key.as_ref())
            .map(|(c, k)| ClientIdentity::new(c.clone().into(), k.clone().into())),
    );
    match tls.mode {
        SslMode::Disabled => None,
        SslMode::Preferred | SslMode::Required => Some(
            base.with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
        SslMode::VerifyCa => Some(
            base.with_root_certs(roots())
                .with_disable_built_in_roots(true)
                .with_danger_skip_domain_validation(true),
        ),
        SslMode::VerifyIdentity => Some(
            base.with_root_certs(roots())
                .with_disable_built_in_roots(true),
        ),
    }
}

/// How long a replication command may take. MySQL's `STOP REPLICA` waits
/// (documented: up to 60 s) for the SQL thread to finish the event group it
/// is in; in the lab, after a kill -9 of the master, it was seen taking more
/// than the 5 s `mysql_timeout`: a stop is given 65 s there.
fn stop_limit(flavor: Flavor, cmd: ReplicaCmd, timeout: Duration) -> Duration {
    let stops = matches!(cmd, ReplicaCmd::Stop | ReplicaCmd::StopIo);
    if stops && flavor == Flavor::MySql {
        timeout.max(Duration::from_secs(65))
    } else {
        timeout
    }
}

/// One connection. `None` once a call timed out or failed at the I/O level.
struct MysqlDb {
    conn: Mutex<Option<Conn>>,
    /// The server, as logs name it.
    label: String,
    timeout: Duration,
    flavor: Flavor,
    version: Version,
}

impl MysqlDb {
    /// Runs one driver call under `limit`; a connection whose call timed out
    /// or whose link broke is dropped, never reused.
    async fn call<T, F>(&self, what: &'static str, limit: Duration, f: F) -> Result<T, DbError>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, DriverResult<T>>,
    {
        let mut guard = self.conn.lock().await;
        // Taken out for the call and put back only when it completes: a call
        // abandoned half-way (its future dropped, e.g. the losing branch of a
        // select) drops the connection with it, whose next answer would
        // otherwise be the abandoned query's.
        let mut conn = guard
            .take()
            .ok_or_else(|| DbError::Io("connection was dropped after an earlier failure".into()))?;
        let result = bounded(limit, what, f(&mut conn)).await;
        if !matches!(result, Err(DbError::Timeout { .. } | DbError::Io(_))) {
            *guard = Some(conn);
        }
        result
    }

    /// Runs a text query and returns every row as named columns.
    async fn rows(&self, what: &'static str, query: &str) -> Result<Vec<Columns>, DbError> {
        let query = query.to_owned();
        let rows = self
            .call(what, self.timeout, move |c| {
                Box::pin(c.query::<Row, _>(query))
            })
            .await?;
        Ok(rows.into_iter().map(columns).collect())
    }

    async fn first_row(&self, what: &'static str, query: &str) -> Result<Option<Columns>, DbError> {
        Ok(self.rows(what, query).await?.into_iter().next())
    }

    /// Runs statements that return nothing, in order.
    async fn exec(&self, what: &'static str, statements: &[&str]) -> Result<(), DbError> {
        for statement in statements {
            let statement = (*statement).to_owned();
            self.call(what, self.timeout, move |c| {
                Box::pin(c.query_drop(statement))
            })
            .await?;
        }
        Ok(())
    }

    /// The semi-sync status counters; best-effort like the heartbeats.
    async fn semi_sync_status(&self) -> Result<HashMap<String, String>, DbError> {
        match self
            .rows("reading the semi-sync status", sql::SEMI_SYNC_STATUS)
            .await
        {
            Ok(rows) => Ok(name_value(rows)),
            Err(DbError::Server { .. }) => Ok(HashMap::new()),
            Err(e) => Err(e),
        }
    }

    /// Before a MySQL `STOP REPLICA`: stops the IO thread, and kills the SQL
    /// thread if it waits inside a transaction its relay log can never
    /// complete ([`applied::stuck_sql_thread`]), which the stop would
    /// otherwise wait 60 s for.
    async fn kill_stuck_sql_thread(&self) -> Result<(), DbError> {
        let facts = self.facts().await?;
        let Some(r) = facts.replica.as_ref().filter(|r| r.sql_running) else {
            return Ok(());
        };
        if r.exec == r.read {
            return Ok(());
        }
        if r.io != IoState::No {
            self.replica("stopping the IO thread", ReplicaCmd::StopIo)
                .await?;
        }
        let facts = self.facts().await?;
        let Some(r) = facts.replica.as_ref().filter(|r| r.sql_running) else {
            return Ok(());
        };
        let threads = self.processlist().await?;
        let system = super::replication_threads(&threads);
        let state = applied::applied(
            r,
            &facts.gtid,
            applied::sql_activity(system.clone().map(|(_, c, s)| (c, s))),
        );
        if let Some(id) = applied::stuck_sql_thread(&state, system) {
            tracing::warn!(
                "{}: its SQL thread waits inside a transaction that its relay log ends in \
                 (executed {} of {} received); STOP REPLICA would wait 60 s for it: killing \
                 the SQL thread (thread {id}) instead; the transaction is rolled back and \
                 applied whole from the binlogs",
                self.label,
                r.exec,
                r.read
            );
            self.kill_connection(id).await?;
        }
        Ok(())
    }

    async fn replica(&self, what: &'static str, cmd: ReplicaCmd) -> Result<(), DbError> {
        let statement = sql::replica_cmd(self.flavor, self.version, cmd).to_owned();
        let limit = stop_limit(self.flavor, cmd, self.timeout);
        self.call(what, limit, move |c| Box::pin(c.query_drop(statement)))
            .await
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
        let variables = name_value(self.rows("reading variables", sql::FACT_VARIABLES).await?);
        let binlog = self
            .first_row(
                "reading the binlog status",
                sql::show_binlog_status(self.flavor, self.version),
            )
            .await?;
        let replica = self
            .first_row(
                "reading the replica status",
                sql::show_replica_status(self.flavor, self.version),
            )
            .await?;
        // Best-effort: a server that refuses it (no performance_schema) just does not say.
        let heartbeats = match self
            .rows(
                "reading the heartbeat status",
                sql::replica_heartbeats(self.flavor),
            )
            .await
        {
            Ok(rows) => name_value(rows),
            Err(DbError::Server { .. }) => HashMap::new(),
            Err(e) => return Err(e),
        };
        let semi_sync_status = self.semi_sync_status().await?;
        assemble_facts(RawFacts {
            version_text,
            variables,
            binlog,
            replica,
            heartbeats,
            semi_sync_status,
        })
    }

    async fn semi_sync(&self) -> Result<SemiSync, DbError> {
        let variables = name_value(
            self.rows("reading the semi-sync settings", sql::FACT_VARIABLES)
                .await?,
        );
        let status = self.semi_sync_status().await?;
        Ok(SemiSync::from_maps(&variables, &status))
    }

    async fn has_repl_privilege(&self, user: &str) -> Result<bool, DbError> {
        let user = user.to_owned();
        let count: Option<u64> = self
            .call("reading privileges", self.timeout, move |c| {
                Box::pin(c.exec_first(sql::REPL_PRIVILEGE, (user,)))
            })
            .await?;
        Ok(count.unwrap_or(0) > 0)
    }

    async fn ping(&self) -> Result<(), DbError> {
        self.rows("pinging", sql::PING).await.map(|_| ())
    }

    async fn ping_insert(&self) -> Result<(), DbError> {
        self.exec("writing the ping row", &sql::PING_INSERT).await
    }

    async fn stop_replica_io(&self) -> Result<(), DbError> {
        self.replica("stopping the IO thread", ReplicaCmd::StopIo)
            .await
    }

    async fn stop_replica(&self) -> Result<(), DbError> {
        if self.flavor == Flavor::MySql {
            self.kill_stuck_sql_thread().await?;
        }
        self.replica("stopping replication", ReplicaCmd::Stop).await
    }

    async fn start_replica(&self) -> Result<(), DbError> {
        self.replica("starting replication", ReplicaCmd::Start)
            .await
    }

    async fn start_replica_sql(&self) -> Result<(), DbError> {
        self.replica("starting the SQL thread", ReplicaCmd::StartSql)
            .await
    }

    async fn reset_replica_all(&self) -> Result<(), DbError> {
        self.replica("resetting replication", ReplicaCmd::ResetAll)
            .await
    }

    async fn change_master(&self, to: &ChangeMaster) -> Result<(), DbError> {
        let statement = sql::change_master(
            self.flavor,
            self.version,
            &to.host,
            to.port,
            to.credentials
                .as_ref()
                .map(|(u, p)| (u.as_str(), p.expose())),
            to.tls.as_ref(),
            &to.from,
        );
        self.exec("changing the replication source", &[&statement])
            .await
    }

    async fn set_read_only(&self, on: bool) -> Result<(), DbError> {
        let has_super = self.flavor == Flavor::MySql && self.version >= Version::new(5, 7, 8);
        let statements: &[&str] = match (on, has_super) {
            (true, true) => &["SET GLOBAL read_only = 1", "SET GLOBAL super_read_only = 1"],
            (true, false) => &["SET GLOBAL read_only = 1"],
            (false, true) => &["SET GLOBAL super_read_only = 0", "SET GLOBAL read_only = 0"],
            (false, false) => &["SET GLOBAL read_only = 0"],
        };
        self.exec("setting read_only", statements).await
    }

    async fn set_relay_log_purge(&self, on: bool) -> Result<(), DbError> {
        let statement = if on {
            "SET GLOBAL relay_log_purge = 1"
        } else {
            "SET GLOBAL relay_log_purge = 0"
        };
        self.exec("setting relay_log_purge", &[statement]).await
    }

    async fn max_allowed_packet(&self) -> Result<u64, DbError> {
        let value: Option<u64> = self
            .call("reading max_allowed_packet", self.timeout, |c| {
                Box::pin(c.query_first(sql::MAX_ALLOWED_PACKET))
            })
            .await?;
        Ok(value.unwrap_or(0))
    }

    async fn set_max_allowed_packet(&self, bytes: u64) -> Result<(), DbError> {
        // A number of our own: no quoting needed.
        let statement = format!("SET GLOBAL max_allowed_packet = {bytes}");
        self.exec("setting max_allowed_packet", &[statement.as_str()])
            .await
    }

    async fn set_gtid_slave_pos(&self, pos: &MariaGtidPos) -> Result<(), DbError> {
        // The text is our own rendering of parsed numbers: digits, '-' and ','.
        let statement = sql::set_gtid_slave_pos(pos);
        self.exec("setting gtid_slave_pos", &[statement.as_str()])
            .await
    }

    async fn wait_for(&self, target: &WaitTarget, limit: Duration) -> Result<bool, DbError> {
        let secs = limit.as_secs().max(1);
        // The server gives up after `secs`; our own bound allows for the round trip.
        let bound = Duration::from_secs(secs) + self.timeout;
        let (flavor, version) = (self.flavor, self.version);
        let answer: Option<Option<i64>> = match target.clone() {
            WaitTarget::Position(pos) => {
                self.call("waiting for a position", bound, move |c| {
                    Box::pin(c.exec_first(
                        sql::wait_for_pos(flavor, version),
                        (pos.file, pos.pos, secs),
                    ))
                })
                .await?
            }
            WaitTarget::MariaGtid(pos) => {
                self.call("waiting for a GTID position", bound, move |c| {
                    Box::pin(c.exec_first(sql::MARIA_GTID_WAIT, (pos.to_string(), secs)))
                })
                .await?
            }
            WaitTarget::MySqlGtid(set) => {
                self.call("waiting for a GTID set", bound, move |c| {
                    Box::pin(c.exec_first(sql::MYSQL_GTID_WAIT, (set.to_string(), secs)))
                })
                .await?
            }
        };
        match answer.flatten() {
            // MASTER_POS_WAIT: events waited for (>= 0), -1 timeout, NULL not replicating.
            // MASTER_GTID_WAIT: 0 reached, -1 timeout. WAIT_FOR_EXECUTED_GTID_SET: 0 reached, 1 timeout.
            Some(n) => Ok(match target {
                WaitTarget::Position(_) => n >= 0,
                _ => n == 0,
            }),
            None => Err(DbError::Protocol(
                "the replica is not replicating, so it cannot reach the position".into(),
            )),
        }
    }

    async fn processlist(&self) -> Result<Vec<Process>, DbError> {
        let rows = self
            .rows("reading the process list", sql::PROCESSLIST)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let get = |i: usize| row.get(i).and_then(|(_, v)| v.clone());
                Some(Process {
                    id: get(0)?.parse().ok()?,
                    user: get(1).unwrap_or_default(),
                    host: get(2).unwrap_or_default(),
                    db: get(3),
                    command: get(4).unwrap_or_default(),
                    time: get(5).and_then(|t| t.parse().ok()).unwrap_or(0),
                    state: get(6),
                    info: get(7),
                })
            })
            .collect())
    }

    async fn kill_connection(&self, id: u64) -> Result<(), DbError> {
        let statement = format!("KILL CONNECTION {id}");
        self.exec("killing a connection", &[&statement]).await
    }

    async fn transaction_threads(&self) -> Result<Vec<u64>, DbError> {
        let rows = self
            .rows("reading open transactions", sql::TRANSACTION_THREADS)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.into_iter().next()?.1?.parse().ok())
            .collect())
    }

    async fn read_only_exempt_users(&self) -> Result<Vec<String>, DbError> {
        let rows = self
            .rows(
                "reading who may write despite read_only",
                sql::READ_ONLY_EXEMPT_GRANTEES,
            )
            .await?;
        let mut users: Vec<String> = rows
            .into_iter()
            .filter_map(|row| sql::grantee_user(&row.into_iter().next()?.1?))
            .collect();
        users.sort();
        users.dedup();
        Ok(users)
    }

    async fn flush_tables_with_read_lock(&self) -> Result<(), DbError> {
        self.exec("locking all tables", &[sql::FLUSH_TABLES_WITH_READ_LOCK])
            .await
    }

    async fn unlock_tables(&self) -> Result<(), DbError> {
        self.exec("unlocking tables", &[sql::UNLOCK_TABLES]).await
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
    fut: impl Future<Output = DriverResult<T>>,
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
    names
        .into_iter()
        .zip(row.unwrap())
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

/// (name, value) rows as lower-case name → value.
fn name_value(rows: Vec<Columns>) -> HashMap<String, String> {
    rows.into_iter()
        .filter_map(|row| {
            let mut it = row.into_iter();
            let name = it.next()?.1?;
            let value = it.next()?.1.unwrap_or_default();
            Some((name.to_ascii_lowercase(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn ssl_mode_maps_to_the_drivers_checks() {
        let ca = Some(PathBuf::from("/etc/mysql/ca.pem"));
        let spec = |mode| TlsSpec {
            mode,
            ca: ca.clone(),
            ..TlsSpec::default()
        };
        assert_eq!(ssl_opts(&spec(SslMode::Disabled)), None);
        // (mode, accepts any certificate, skips the name, trusts only ssl_ca)
        let cases = [
            (SslMode::Preferred, true, true, false),
            (SslMode::Required, true, true, false),
            (SslMode::VerifyCa, false, true, true),
            (SslMode::VerifyIdentity, false, false, true),
        ];
        for (mode, any_cert, any_name, only_ca) in cases {
            let opts = ssl_opts(&spec(mode)).expect("TLS");
            assert_eq!(opts.accept_invalid_certs(), any_cert, "{mode:?}");
            assert_eq!(opts.skip_domain_validation(), any_name, "{mode:?}");
            assert_eq!(opts.disable_built_in_roots(), only_ca, "{mode:?}");
            assert_eq!(opts.root_certs().len(), usize::from(only_ca), "{mode:?}");
        }
        let with_cert = TlsSpec {
            cert: Some("/etc/ha/client.pem".into()),
            key: Some("/etc/ha/client.key".into()),
            ..spec(SslMode::Required)
        };
        assert!(ssl_opts(&with_cert).unwrap().client_identity().is_some());
        assert!(ssl_opts(&spec(SslMode::Required))
            .unwrap()
            .client_identity()
            .is_none());
    }

    #[test]
    fn a_stop_on_mysql_may_wait_for_the_event_group() {
        let five = Duration::from_secs(5);
        let long = Duration::from_secs(65);
        assert_eq!(stop_limit(Flavor::MySql, ReplicaCmd::Stop, five), long);
        assert_eq!(stop_limit(Flavor::MySql, ReplicaCmd::StopIo, five), long);
        assert_eq!(stop_limit(Flavor::MySql, ReplicaCmd::Start, five), five);
        assert_eq!(stop_limit(Flavor::MariaDb, ReplicaCmd::Stop, five), five);
    }
}
