//! `StepError`: why one recovery step failed, kept typed (with the host and the
//! operation) until the journal and the report render it to text.

use std::sync::Arc;
use std::time::Duration;

use crate::binlog::{BinlogError, FindError};
use crate::journal::FailureKind;
use crate::mysql::DbError;
use crate::transport::node::NodeError;
use crate::transport::RemoteError;

/// What was wrong with binlog bytes: unreadable, or without the position sought.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum BinlogFault {
    #[error(transparent)]
    Read(#[from] BinlogError),
    #[error(transparent)]
    Find(#[from] FindError),
}

/// A failed step of a failover or a switch.
#[derive(Debug, Clone)]
pub(crate) enum StepError {
    /// A call to a server failed.
    Db {
        host: String,
        op: String,
        source: Arc<DbError>,
    },
    /// A command on a host could not run or failed.
    Remote {
        host: String,
        op: String,
        source: Arc<NodeError>,
    },
    /// Binlog or relay-log bytes could not be read or cut.
    Binlog {
        host: String,
        op: String,
        source: Arc<BinlogFault>,
    },
    /// A hook script refused (MHA's contract: any exit but 0 and 10).
    Hook {
        host: String,
        name: &'static str,
        outcome: String,
    },
    /// Something did not happen within its bound.
    Timeout {
        host: String,
        what: String,
        after: Duration,
    },
    /// The server is not in a state the step can work with (binary logging
    /// off, no replication position, a write after the freeze, ...).
    State { host: String, what: String },
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A source that names the host already (NodeError does) is not prefixed twice.
        let with_op =
            |f: &mut std::fmt::Formatter<'_>, host: &str, op: &str, e: &dyn std::fmt::Display| {
                let text = e.to_string();
                let e = text.strip_prefix(&format!("{host}: ")).unwrap_or(&text);
                if op.is_empty() {
                    write!(f, "{host}: {e}")
                } else {
                    write!(f, "{host}: {op}: {e}")
                }
            };
        match self {
            StepError::Db { host, op, source } => with_op(f, host, op, source),
            StepError::Remote { host, op, source } => with_op(f, host, op, source),
            StepError::Binlog { host, op, source } => with_op(f, host, op, source),
            StepError::Hook {
                host,
                name,
                outcome,
            } => write!(f, "{host}: {name} failed ({outcome})"),
            StepError::Timeout { host, what, after } => {
                write!(f, "{host}: {what} within {} s", after.as_secs())
            }
            StepError::State { host, what } => write!(f, "{host}: {what}"),
        }
    }
}

impl std::error::Error for StepError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StepError::Db { source, .. } => Some(source.as_ref()),
            StepError::Remote { source, .. } => Some(source.as_ref()),
            StepError::Binlog { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl StepError {
    pub(crate) fn db(host: impl Into<String>, op: impl Into<String>, source: DbError) -> Self {
        StepError::Db {
            host: host.into(),
            op: op.into(),
            source: Arc::new(source),
        }
    }

    pub(crate) fn remote(
        host: impl Into<String>,
        op: impl Into<String>,
        source: NodeError,
    ) -> Self {
        StepError::Remote {
            host: host.into(),
            op: op.into(),
            source: Arc::new(source),
        }
    }

    pub(crate) fn binlog(
        host: impl Into<String>,
        op: impl Into<String>,
        source: impl Into<BinlogFault>,
    ) -> Self {
        StepError::Binlog {
            host: host.into(),
            op: op.into(),
            source: Arc::new(source.into()),
        }
    }

    pub(crate) fn state(host: impl Into<String>, what: impl Into<String>) -> Self {
        StepError::State {
            host: host.into(),
            what: what.into(),
        }
    }

    pub(crate) fn timeout(
        host: impl Into<String>,
        what: impl Into<String>,
        after: Duration,
    ) -> Self {
        StepError::Timeout {
            host: host.into(),
            what: what.into(),
            after,
        }
    }

    /// The server or host the step acted on.
    pub(crate) fn host(&self) -> &str {
        match self {
            StepError::Db { host, .. }
            | StepError::Remote { host, .. }
            | StepError::Binlog { host, .. }
            | StepError::Hook { host, .. }
            | StepError::Timeout { host, .. }
            | StepError::State { host, .. } => host,
        }
    }

    /// The message without the host in front (for lines that name the host already).
    pub(crate) fn detail(&self) -> String {
        let text = self.to_string();
        let prefix = format!("{}: ", self.host());
        text.strip_prefix(&prefix)
            .map(str::to_owned)
            .unwrap_or(text)
    }

    /// What kind of failure, for the journal and the report.
    pub(crate) fn kind(&self) -> FailureKind {
        if self.is_timeout() {
            return FailureKind::Timeout;
        }
        match self {
            StepError::Db { .. } => FailureKind::Db,
            StepError::Remote { .. } => FailureKind::Remote,
            StepError::Binlog { .. } => FailureKind::Binlog,
            StepError::Hook { .. } => FailureKind::Hook,
            StepError::Timeout { .. } => FailureKind::Timeout,
            StepError::State { .. } => FailureKind::State,
        }
    }

    /// A bound ran out (ours, the driver's or ssh's): the same step may succeed
    /// when tried again. An SQL error or a refusing hook never does.
    pub(crate) fn is_timeout(&self) -> bool {
        match self {
            StepError::Timeout { .. } => true,
            StepError::Db { source, .. } => matches!(**source, DbError::Timeout { .. }),
            StepError::Remote { source, .. } => {
                matches!(**source, NodeError::Remote(RemoteError::Timeout { .. }))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_host_operation_and_kind() {
        let cases: Vec<(StepError, &str, FailureKind)> = vec![
            (
                StepError::db(
                    "db2",
                    "STOP SLAVE",
                    DbError::Server {
                        code: 1045,
                        state: "28000".into(),
                        message: "Access denied".into(),
                    },
                ),
                "db2: STOP SLAVE: server error 1045 (28000): Access denied",
                FailureKind::Db,
            ),
            (
                StepError::db(
                    "db2",
                    "waiting for the SQL thread",
                    DbError::Timeout {
                        what: "reading status",
                        after: Duration::from_secs(3),
                    },
                ),
                "db2: waiting for the SQL thread: no answer within 3s while reading status",
                FailureKind::Timeout,
            ),
            (
                StepError::timeout("db3", "not replicating from db2", Duration::from_secs(10)),
                "db3: not replicating from db2 within 10 s",
                FailureKind::Timeout,
            ),
            (
                StepError::Hook {
                    host: "db1".into(),
                    name: "master_ip_failover_script",
                    outcome: "exit code 1".into(),
                },
                "db1: master_ip_failover_script failed (exit code 1)",
                FailureKind::Hook,
            ),
            (
                StepError::state("db2", "binary logging is off"),
                "db2: binary logging is off",
                FailureKind::State,
            ),
        ];
        let named = StepError::remote(
            "db2",
            "",
            NodeError::Missing {
                host: "db2".into(),
                what: "no mariadb-binlog/mysqlbinlog found".into(),
            },
        );
        assert_eq!(
            named.to_string(),
            "db2: no mariadb-binlog/mysqlbinlog found",
            "the host is named once"
        );
        for (err, text, kind) in cases {
            assert_eq!(err.to_string(), text);
            assert_eq!(err.kind(), kind, "{text}");
            assert_eq!(err.detail(), text.split_once(": ").unwrap().1);
            assert_eq!(err.is_timeout(), kind == FailureKind::Timeout, "{text}");
        }
    }
}
