//! `repl_ssl` and its options: the TLS a server's replication link gets in CHANGE MASTER.
//!
//! The paths are on the database hosts (the server opens them), so only their
//! form is checked here (absolute), never their presence on the manager host.

use super::{boolean, text, Found};
use crate::config::error::ConfigError;
use crate::config::model::ReplTls;

/// The options that only mean something with `repl_ssl=1`.
const OPTIONS: [&str; 4] = [
    "repl_ssl_ca",
    "repl_ssl_cert",
    "repl_ssl_key",
    "repl_ssl_verify_server_cert",
];

/// `None` unless `repl_ssl=1`. An option given while `repl_ssl` is set nowhere
/// is an error (it would silently do nothing); with an explicit `repl_ssl=0`
/// (a server opting out of a `[server default]` `repl_ssl=1`) they are unused.
pub(super) fn repl_tls<'a>(
    get: &impl Fn(&str) -> Option<Found<'a>>,
) -> Result<Option<ReplTls>, ConfigError> {
    let needs = |key: &str, missing: &str| ConfigError::MissingKey {
        origin: get(key).map(|f| f.origin()).unwrap_or_default(),
        key: key.to_string(),
        missing: missing.to_string(),
    };
    let Some(ssl) = get("repl_ssl") else {
        return match OPTIONS.iter().find(|k| get(k).is_some()) {
            Some(key) => Err(needs(key, "repl_ssl")),
            None => Ok(None),
        };
    };
    if !boolean(Some(ssl), false)? {
        return Ok(None);
    }
    let verify = get("repl_ssl_verify_server_cert");
    let tls = ReplTls {
        ca: text(get("repl_ssl_ca")),
        cert: text(get("repl_ssl_cert")),
        key: text(get("repl_ssl_key")),
        verify_server_cert: match verify {
            Some(f) => Some(boolean(Some(f), false)?),
            None => None,
        },
    };
    match (&tls.cert, &tls.key) {
        (Some(_), None) => Err(needs("repl_ssl_cert", "repl_ssl_key")),
        (None, Some(_)) => Err(needs("repl_ssl_key", "repl_ssl_cert")),
        _ => Ok(Some(tls)),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::model::{Config, ReplTls};
    use crate::config::resolve_str;

    fn ini(text: &str) -> Result<Config, String> {
        resolve_str("app1.cnf", text, false, None).map_err(|e| e.to_string())
    }

    fn toml(text: &str) -> Result<Config, String> {
        resolve_str("app1.toml", text, true, None).map_err(|e| e.to_string())
    }

    #[test]
    fn repl_ssl_per_server_and_default_in_both_formats() {
        let cnf = ini("[server default]\nrepl_ssl=1\nrepl_ssl_ca=/etc/mysql/tls/ca.pem\n\
             repl_ssl_verify_server_cert=1\n\
             [server1]\nhostname=h1\n\
             [server2]\nhostname=h2\nrepl_ssl_cert=/etc/mysql/tls/c.pem\nrepl_ssl_key=/etc/mysql/tls/c.key\n\
             repl_ssl_verify_server_cert=0\n\
             [server3]\nhostname=h3\nrepl_ssl=0\n")
        .unwrap();
        let ca = Some("/etc/mysql/tls/ca.pem".to_string());
        assert_eq!(
            cnf.servers[0].repl_tls,
            Some(ReplTls {
                ca: ca.clone(),
                verify_server_cert: Some(true),
                ..ReplTls::default()
            })
        );
        assert_eq!(
            cnf.servers[1].repl_tls,
            Some(ReplTls {
                ca,
                cert: Some("/etc/mysql/tls/c.pem".into()),
                key: Some("/etc/mysql/tls/c.key".into()),
                verify_server_cert: Some(false),
            })
        );
        assert_eq!(cnf.servers[2].repl_tls, None, "repl_ssl=0 opts out");
        let t = toml(
            "[default]\nrepl_ssl = true\n\
             [servers.server1]\nhostname = \"h1\"\nrepl_ssl_ca = \"/ca.pem\"\n\
             [servers.server2]\nhostname = \"h2\"\n",
        )
        .unwrap();
        assert_eq!(
            t.servers[0].repl_tls.as_ref().unwrap().ca.as_deref(),
            Some("/ca.pem")
        );
        assert_eq!(t.servers[1].repl_tls, Some(ReplTls::default()));
        // Not set: nothing, as before.
        let plain = ini("[server1]\nhostname=h1\n").unwrap();
        assert_eq!(plain.servers[0].repl_tls, None);
    }

    #[test]
    fn bad_repl_ssl_settings_name_the_file_and_line() {
        let cases = [
            (
                "[server1]\nhostname=h1\nrepl_ssl_ca=/ca.pem\n",
                "app1.cnf:3: 'repl_ssl_ca' is set but 'repl_ssl' is not",
            ),
            (
                "[server default]\nrepl_ssl_verify_server_cert=1\n[server1]\nhostname=h1\n",
                "app1.cnf:2: 'repl_ssl_verify_server_cert' is set but 'repl_ssl' is not",
            ),
            (
                "[server1]\nhostname=h1\nrepl_ssl=1\nrepl_ssl_cert=/c.pem\n",
                "app1.cnf:4: 'repl_ssl_cert' is set but 'repl_ssl_key' is not",
            ),
            (
                "[server1]\nhostname=h1\nrepl_ssl=1\nrepl_ssl_key=/c.key\n",
                "app1.cnf:4: 'repl_ssl_key' is set but 'repl_ssl_cert' is not",
            ),
            (
                "[server1]\nhostname=h1\nrepl_ssl=1\nrepl_ssl_ca=ca.pem\n",
                "app1.cnf:4: bad value 'ca.pem' for 'repl_ssl_ca'",
            ),
            (
                "[server1]\nhostname=h1\nrepl_ssl=maybe\n",
                "app1.cnf:3: bad value 'maybe' for 'repl_ssl'",
            ),
            (
                "[server1]\nhostname=h1\nrepl_ssl=1\nrepl_ssl_verify_server_cert=always\n",
                "app1.cnf:4: bad value 'always' for 'repl_ssl_verify_server_cert'",
            ),
        ];
        for (text, want) in cases {
            let got = ini(text).expect_err(text);
            assert!(got.starts_with(want), "{got}\n--- wanted ---\n{want}");
        }
        let got =
            toml("[servers.server1]\nhostname = \"h1\"\nrepl_ssl_key = \"/k\"\n").unwrap_err();
        assert!(
            got.contains("app1.toml:3:") && got.contains("'repl_ssl' is not"),
            "{got}"
        );
    }
}
