//! TLS lines of the `[client]` option file for the `mysql`/`mariadb` client run on a host.
//!
//! The host-side client (applying recovered events, fencing) logs in as the
//! admin user, so when that account needs TLS (`ssl_mode` `required` or
//! stricter) the client must use TLS too. Its CA is `repl_ssl_ca`, a path on
//! the database hosts (`ssl_ca` is a file on the manager host). MySQL's client
//! and MariaDB's spell the options differently (an option the client does not
//! know makes it refuse the file), so the client's own `--version` line picks
//! the words.

use crate::config::model::SslMode;
use crate::config::ServerSpec;

/// The option lines (each ending in a newline) for the client whose
/// `--version` line is `client_version`; empty when no TLS is asked for
/// (`disabled`, and `preferred`, which each client's default covers).
pub(crate) fn client_tls_lines(spec: &ServerSpec, client_version: &str) -> String {
    let ca = spec.repl_tls.as_ref().and_then(|t| t.ca.as_deref());
    // Without a CA on the host nothing can be verified there: encrypted only.
    let mode = match (spec.tls.mode, ca) {
        (SslMode::Disabled | SslMode::Preferred, _) => return String::new(),
        (SslMode::Required, _) | (_, None) => SslMode::Required,
        (mode, Some(_)) => mode,
    };
    let mut lines = String::new();
    if mode != SslMode::Required {
        if let Some(ca) = ca {
            lines.push_str(&format!("ssl-ca={}\n", super::node::option_value(ca)));
        }
    }
    if client_version.contains("MariaDB") {
        // MariaDB: `ssl` on; the name check is its verify-server-cert (11.4+
        // turns it on by default, so it is always said).
        let verify = u8::from(mode == SslMode::VerifyIdentity);
        lines.push_str(&format!("ssl=1\nssl-verify-server-cert={verify}\n"));
    } else {
        let word = match mode {
            SslMode::VerifyCa => "VERIFY_CA",
            SslMode::VerifyIdentity => "VERIFY_IDENTITY",
            _ => "REQUIRED",
        };
        lines.push_str(&format!("ssl-mode={word}\n"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{ReplTls, TlsSpec};
    use crate::topology::fixture::spec;

    const MARIADB: &str =
        "mariadb  Ver 15.1 Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)";
    const MARIADB_11: &str =
        "mariadb from 11.8.3-MariaDB, client 15.2 for debian-linux-gnu (x86_64)";
    const MYSQL: &str = "mysql  Ver 9.7.0 for Linux on x86_64 (MySQL Community Server - GPL)";

    #[test]
    fn client_tls_lines_per_mode_and_client() {
        let ca = Some("/etc/mysql/tls/ca.pem");
        let cases = [
            (SslMode::Disabled, ca, MYSQL, ""),
            (SslMode::Preferred, ca, MARIADB, ""),
            (SslMode::Required, ca, MYSQL, "ssl-mode=REQUIRED\n"),
            (
                SslMode::Required,
                ca,
                MARIADB,
                "ssl=1\nssl-verify-server-cert=0\n",
            ),
            (
                SslMode::VerifyCa,
                ca,
                MYSQL,
                "ssl-ca=\"/etc/mysql/tls/ca.pem\"\nssl-mode=VERIFY_CA\n",
            ),
            (
                SslMode::VerifyCa,
                ca,
                MARIADB_11,
                "ssl-ca=\"/etc/mysql/tls/ca.pem\"\nssl=1\nssl-verify-server-cert=0\n",
            ),
            (
                SslMode::VerifyIdentity,
                ca,
                MYSQL,
                "ssl-ca=\"/etc/mysql/tls/ca.pem\"\nssl-mode=VERIFY_IDENTITY\n",
            ),
            (
                SslMode::VerifyIdentity,
                ca,
                MARIADB,
                "ssl-ca=\"/etc/mysql/tls/ca.pem\"\nssl=1\nssl-verify-server-cert=1\n",
            ),
            // No CA on the hosts: encrypted, not verified.
            (SslMode::VerifyIdentity, None, MYSQL, "ssl-mode=REQUIRED\n"),
            (
                SslMode::VerifyCa,
                None,
                MARIADB,
                "ssl=1\nssl-verify-server-cert=0\n",
            ),
        ];
        for (mode, ca, client, want) in cases {
            let mut s = spec(2);
            s.tls = TlsSpec {
                mode,
                ca: Some("/manager/ca.pem".into()),
                ..TlsSpec::default()
            };
            s.repl_tls = ca.map(|ca| ReplTls {
                ca: Some(ca.into()),
                ..ReplTls::default()
            });
            assert_eq!(
                client_tls_lines(&s, client),
                want,
                "{mode:?} {ca:?} {client}"
            );
        }
    }
}
