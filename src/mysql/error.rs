//! `DbError`: what went wrong talking to a server, and whether it proves the server alive.

use std::time::Duration;

/// MySQL error codes that prove the server process is up and answering
/// (MHA's `ALIVE_ERROR_CODES`): too many connections, access denied, host
/// blocked, and so on. A ping failing with one of these is not a miss.
pub(crate) const ALIVE_ERROR_CODES: &[u16] = &[
    1040, // ER_CON_COUNT_ERROR: too many connections
    1042, // ER_BAD_HOST_ERROR
    1043, // ER_HANDSHAKE_ERROR
    1044, // ER_DBACCESS_DENIED_ERROR
    1045, // ER_ACCESS_DENIED_ERROR
    1129, // ER_HOST_IS_BLOCKED
    1130, // ER_HOST_NOT_PRIVILEGED
    1203, // ER_TOO_MANY_USER_CONNECTIONS
    1226, // ER_USER_LIMIT_REACHED
    1251, // ER_NOT_SUPPORTED_AUTH_MODE
    1275, // ER_SERVER_IS_IN_SECURE_AUTH_MODE
];

/// A failure of one call to one server.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error("no answer within {}s while {what}", .after.as_secs_f64())]
    Timeout { what: &'static str, after: Duration },
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("server error {code} ({state}): {message}")]
    Server {
        code: u16,
        state: String,
        message: String,
    },
    #[error("connection lost: {0}")]
    Io(String),
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

impl DbError {
    /// True when the error could only have come from a live server.
    pub(crate) fn proves_alive(&self) -> bool {
        matches!(self, DbError::Server { code, .. } if ALIVE_ERROR_CODES.contains(code))
    }

    /// True for access-denied errors (wrong user or password).
    pub(crate) fn is_access_denied(&self) -> bool {
        matches!(
            self,
            DbError::Server {
                code: 1045 | 1044 | 1698,
                ..
            }
        )
    }

    pub(crate) fn from_driver(err: mysql_async::Error) -> Self {
        match err {
            mysql_async::Error::Server(e) => DbError::Server {
                code: e.code,
                state: e.state,
                message: e.message,
            },
            mysql_async::Error::Io(e) => DbError::Io(e.to_string()),
            other => DbError::Protocol(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16) -> DbError {
        DbError::Server {
            code,
            state: "HY000".into(),
            message: "x".into(),
        }
    }

    #[test]
    fn alive_codes_prove_alive_and_others_do_not() {
        let cases = [
            (server(1040), true),
            (server(1045), true),
            (server(1130), true),
            (server(2013), false),
            (server(1064), false),
            (DbError::Connect("refused".into()), false),
            (
                DbError::Timeout {
                    what: "connecting",
                    after: Duration::from_secs(1),
                },
                false,
            ),
        ];
        for (err, alive) in cases {
            assert_eq!(err.proves_alive(), alive, "{err}");
        }
    }

    #[test]
    fn access_denied_is_recognised() {
        assert!(server(1045).is_access_denied());
        assert!(!server(1040).is_access_denied());
    }
}
