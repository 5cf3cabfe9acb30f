//! Where a replica is repointed: `STOP SLAVE`, `CHANGE MASTER` to the new
//! source from a position (or by GTID), `START SLAVE`, and a bounded wait until
//! both threads run. The one implementation failover and switch share, so what
//! CHANGE MASTER keeps (credentials, `relay_log_purge`) is decided here only.

use std::time::{Duration, Instant};

use super::StepError;
use crate::config::{ReplTls, Secret, ServerSpec};
use crate::mysql::{ChangeMaster, Db, ReplicateFrom};
use crate::topology::status::{Flavor, IoState};

/// Poll interval while waiting for the threads to run.
const POLL: Duration = Duration::from_millis(20);

/// What a replica should replicate from now on, and how.
pub(crate) struct Repoint<'a> {
    /// The new source.
    pub source: &'a ServerSpec,
    pub from: ReplicateFrom,
    /// The replication user and password to write; `None` keeps the current ones.
    pub credentials: Option<(String, Secret)>,
    /// The replica's `repl_ssl` options (`None`: its own TLS settings stay).
    pub tls: Option<ReplTls>,
    /// `STOP SLAVE` first (a former master has no replication to stop, and
    /// MariaDB refuses `STOP SLAVE` then).
    pub stop_first: bool,
    /// The replica ran with `relay_log_purge=0` (a future file/position
    /// failover needs its relay logs); CHANGE MASTER turns purging back on.
    pub keep_relay_logs: bool,
    /// How long both threads may take to show running.
    pub start_check: Duration,
}

/// How the replica looked at the end of the start check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Running {
    /// Both threads run.
    Yes,
    /// No error, but not both running yet when the check ended (still connecting).
    NotYet { io: IoState, sql: bool },
}

/// `at mysql-bin.000004:777` or `by GTID`.
pub(crate) fn how(from: &ReplicateFrom) -> String {
    match from {
        ReplicateFrom::Position(p) => format!("at {p}"),
        _ => "by GTID".to_string(),
    }
}

/// How a replica should start from a new source in GTID mode.
pub(crate) fn gtid_from(flavor: Flavor) -> ReplicateFrom {
    match flavor {
        Flavor::MariaDb => ReplicateFrom::MariaSlavePos,
        Flavor::MySql => ReplicateFrom::MySqlAutoPosition,
    }
}

/// The replication credentials to write into CHANGE MASTER: the configured
/// ones, or none (the replica keeps its current user and password).
pub(crate) fn credentials(spec: &ServerSpec) -> Option<(String, Secret)> {
    match (&spec.repl_user, &spec.repl_password) {
        (Some(user), Some(password)) => Some((user.clone(), password.clone())),
        _ => None,
    }
}

/// Repoints the replica behind `db` (named `host`) as `to` says.
pub(crate) async fn repoint(
    db: &dyn Db,
    host: &str,
    to: Repoint<'_>,
) -> Result<Running, StepError> {
    let source = to.source.label();
    if to.stop_first {
        db.stop_replica()
            .await
            .map_err(|e| StepError::db(host, "STOP SLAVE failed", e))?;
    }
    db.change_master(&ChangeMaster {
        host: to.source.mysql_addr().to_owned(),
        port: to.source.port,
        credentials: to.credentials,
        tls: to.tls,
        from: to.from,
    })
    .await
    .map_err(|e| StepError::db(host, format!("CHANGE MASTER to {source} failed"), e))?;
    db.start_replica()
        .await
        .map_err(|e| StepError::db(host, "START SLAVE failed", e))?;
    if to.keep_relay_logs {
        db.set_relay_log_purge(false)
            .await
            .map_err(|e| StepError::db(host, "SET GLOBAL relay_log_purge=0 failed", e))?;
    }
    wait_running(db, host, to.start_check).await
}

/// Polls the replica status until both threads run, a thread stops with an
/// error, or `within` passes.
pub(crate) async fn wait_running(
    db: &dyn Db,
    host: &str,
    within: Duration,
) -> Result<Running, StepError> {
    let deadline = Instant::now() + within;
    loop {
        let facts = db
            .facts()
            .await
            .map_err(|e| StepError::db(host, "reading its status after START SLAVE", e))?;
        let Some(r) = facts.replica else {
            return Err(StepError::state(
                host,
                "no replica status after START SLAVE",
            ));
        };
        if !r.sql_running && r.last_sql_errno != 0 {
            return Err(StepError::state(
                host,
                format!(
                    "SQL thread stopped: error {}: {}",
                    r.last_sql_errno, r.last_sql_error
                ),
            ));
        }
        if r.io == IoState::No && r.last_io_errno != 0 {
            return Err(StepError::state(
                host,
                format!(
                    "IO thread stopped: error {}: {}",
                    r.last_io_errno, r.last_io_error
                ),
            ));
        }
        if r.io == IoState::Yes && r.sql_running {
            return Ok(Running::Yes);
        }
        if Instant::now() >= deadline {
            if r.last_io_errno != 0 {
                return Err(StepError::state(
                    host,
                    format!(
                        "IO thread not connected after {} s: error {}: {}",
                        within.as_secs(),
                        r.last_io_errno,
                        r.last_io_error
                    ),
                ));
            }
            return Ok(Running::NotYet {
                io: r.io,
                sql: r.sql_running,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
