//! The table of every configuration parameter: MHA 0.58's 42 names plus ours, with
//! scope, default, meaning and value kind (L0). The resolver validates against it and
//! `docs/config-reference.md` is kept in step with it by a test below.

use super::model::Config;

/// Where a parameter may be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Only in a `[serverN]`/`[binlogN]` block (MHA "L only"). In `[server default]` it
    /// has no effect: MHA does not inherit these.
    PerServerOnly,
    /// In a server block, `[server default]` or the global file (MHA "L/A/G").
    Any,
    /// Only in `[server default]` of the application or global file (MHA "A"/"A/G").
    AppOnly,
}

impl Scope {
    /// The short form used in the reference table.
    #[cfg(test)]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Scope::PerServerOnly => "server only",
            Scope::Any => "server/default/global",
            Scope::AppOnly => "default/global",
        }
    }
}

/// Who defined the parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provenance {
    /// One of the 42 names in MHA 0.58's `@PARAM_ARRAY`.
    Mha,
    /// An ha-manager addition.
    Ours,
}

/// What text a parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Free text; an empty value means "not set".
    Text,
    /// `0`/`1` as in MHA, also `true`/`false`, `yes`/`no`, `on`/`off`; empty = false.
    Bool,
    /// A TCP port, 1-65535.
    Port,
    /// An integer of at least 1 (seconds or a count).
    PositiveInt,
    /// One of these words, case-insensitive.
    Enum(&'static [&'static str]),
    /// Comma-separated list.
    List,
    /// A command line split into argv by shell-like word rules (never run by a shell).
    Argv,
    /// `ssh_options`: argv words, each option on the allow-list (`config::ssh_options`).
    SshOptions,
    /// A host name or an IP address literal.
    Host,
    /// An absolute path.
    AbsPath,
    /// Comma-separated absolute paths.
    AbsPathList,
    /// A login name (`ssh_user`): no blanks, no `@`, not starting with `-`.
    LoginName,
    /// A password in clear text.
    Secret,
    /// The name of an environment variable holding a password.
    SecretEnv,
    /// The path of a 0600 file holding a password.
    SecretFile,
}

/// One parameter's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyInfo {
    pub name: &'static str,
    pub scope: Scope,
    /// The default, as text for people.
    pub default: &'static str,
    /// One line: what it does.
    pub meaning: &'static str,
    pub provenance: Provenance,
    pub kind: Kind,
}

/// `ping_type` values (MHA `PING_TYPE_*`).
pub(crate) const PING_TYPES: &[&str] = &["SELECT", "CONNECT", "INSERT"];
/// `log_level` values.
pub(crate) const LOG_LEVELS: &[&str] = &["debug", "info", "warning", "error"];
/// `host_key_check` values.
pub(crate) const HOST_KEY_CHECKS: &[&str] = &["strict", "accept-new"];
/// `smtp_tls` values.
pub(crate) const SMTP_TLS: &[&str] = &["none", "starttls", "tls"];

/// `ssl_mode`: the MySQL client's `--ssl-mode` words.
pub(crate) const SSL_MODES: &[&str] = &[
    "disabled",
    "preferred",
    "required",
    "verify_ca",
    "verify_identity",
];

const fn k(
    name: &'static str,
    scope: Scope,
    default: &'static str,
    meaning: &'static str,
    provenance: Provenance,
    kind: Kind,
) -> KeyInfo {
    KeyInfo {
        name,
        scope,
        default,
        meaning,
        provenance,
        kind,
    }
}

use Kind::*;
use Provenance::{Mha, Ours};
use Scope::{Any, AppOnly, PerServerOnly};

/// Every parameter, MHA's first in `@PARAM_ARRAY` order, then ours.
#[rustfmt::skip]
pub(crate) const KEYS: &[KeyInfo] = &[
    k("hostname", PerServerOnly, "(required)", "MySQL host name or IP address of this server", Mha, Host),
    k("ip", PerServerOnly, "(hostname)", "IP address used for MySQL (and SSH unless ssh_host/ssh_ip are set)", Mha, Host),
    k("port", Any, "3306", "MySQL port", Mha, Port),
    k("ssh_host", PerServerOnly, "(ip, else hostname)", "separate SSH address, e.g. a management network", Mha, Host),
    k("ssh_ip", PerServerOnly, "(ssh_host)", "IP address for SSH; wins over ssh_host", Mha, Host),
    k("ssh_port", Any, "22", "SSH port", Mha, Port),
    k("ssh_connection_timeout", Any, "5", "seconds allowed to establish an SSH connection", Mha, PositiveInt),
    k("ssh_options", Any, "(none)", "extra ssh arguments, split into words", Mha, SshOptions),
    k("node_label", PerServerOnly, "(none)", "free text shown next to the host in the topology", Mha, Text),
    k("candidate_master", PerServerOnly, "0", "prefer this server as the new master", Mha, Bool),
    k("no_master", PerServerOnly, "0", "never promote this server", Mha, Bool),
    k("ignore_fail", PerServerOnly, "0", "go on with failover although this slave is dead or broken", Mha, Bool),
    k("skip_init_ssh_check", PerServerOnly, "0", "leave this server out of the start-up SSH check", Mha, Bool),
    k("skip_reset_slave", Any, "0", "do not reset replication on the new master", Mha, Bool),
    k("user", Any, "root", "administrative MySQL user", Mha, Text),
    k("password", Any, "(empty)", "password of user, in clear text", Mha, Secret),
    k("repl_user", Any, "(current Master_User)", "replication user given to CHANGE MASTER", Mha, Text),
    k("repl_password", Any, "(none)", "password of repl_user, in clear text", Mha, Secret),
    k("disable_log_bin", Any, "0", "apply recovered events without binary logging them", Mha, Bool),
    k("master_pid_file", Any, "(none)", "mysqld pid file, passed to shutdown_script", Mha, AbsPath),
    k("handle_raw_binlog", Any, "1", "ship raw binlog files and decode them only when applying", Mha, Bool),
    k("ssh_user", Any, "(OS user running ha-manager)", "SSH login user on the database hosts", Mha, LoginName),
    k("remote_workdir", Any, "/var/tmp", "work directory on the database hosts", Mha, AbsPath),
    k("master_binlog_dir", Any, "/var/lib/mysql,/var/log/mysql", "comma-separated directories holding the master's binlogs", Mha, AbsPathList),
    k("log_level", AppOnly, "info", "log verbosity: debug, info, warning or error", Mha, Enum(LOG_LEVELS)),
    k("manager_workdir", AppOnly, "/var/lib/ha-manager", "manager's directory for status files and saved binlogs", Mha, AbsPath),
    k("manager_log", AppOnly, "(standard error)", "manager log file", Mha, AbsPath),
    k("check_repl_delay", AppOnly, "1", "exclude slaves too far behind from promotion", Mha, Bool),
    k("check_repl_filter", AppOnly, "1", "refuse to run when replication or binlog filters differ", Mha, Bool),
    k("latest_priority", AppOnly, "1", "prefer the most up-to-date slaves in the election", Mha, Bool),
    k("multi_tier_slave", AppOnly, "0", "allow slaves of slaves (left unmanaged)", Mha, Bool),
    k("ping_interval", AppOnly, "3", "seconds between pings of the master", Mha, PositiveInt),
    k("ping_type", AppOnly, "SELECT", "how the master is pinged: SELECT, CONNECT or INSERT", Mha, Enum(PING_TYPES)),
    k("secondary_check_script", AppOnly, "(none)", "extra reachability check of the master over other routes", Mha, Argv),
    k("master_ip_failover_script", AppOnly, "(none)", "hook that moves the service address on failover", Mha, Argv),
    k("master_ip_online_change_script", AppOnly, "(none)", "hook that moves the service address on online switch", Mha, Argv),
    k("shutdown_script", AppOnly, "(none)", "fencing hook that powers off the dead master", Mha, Argv),
    k("report_script", AppOnly, "(none)", "hook that sends the failover report", Mha, Argv),
    k("init_conf_load_script", AppOnly, "(none)", "command whose name=value output overrides [server default]", Mha, Argv),
    k("client_bindir", AppOnly, "(none)", "directory of mysql/mysqlbinlog on the database hosts", Mha, AbsPath),
    k("client_libdir", AppOnly, "(none)", "MySQL client library directory on the database hosts (the client tools run with it as `LD_LIBRARY_PATH`)", Mha, AbsPath),
    k("use_gtid_auto_pos", Any, "1", "with GTID on everywhere, repoint slaves by GTID auto-position", Mha, Bool),
    k("ssl_mode", Any, "disabled", "TLS to the MySQL servers: disabled, preferred, required, verify_ca or verify_identity", Ours, Enum(SSL_MODES)),
    k("ssl_ca", Any, "(none)", "PEM file of the CA that signed the servers' certificates (verify_ca, verify_identity)", Ours, AbsPath),
    k("ssl_cert", Any, "(none)", "PEM client certificate chain, for accounts that REQUIRE X509", Ours, AbsPath),
    k("ssl_key", Any, "(none)", "PEM private key of ssl_cert", Ours, AbsPath),
    k("repl_ssl", Any, "0", "slaves replicate over TLS: every CHANGE MASTER ha-manager sends sets MASTER_SSL=1 and the repl_ssl_* given (0: the replica's own TLS settings are kept)", Ours, Bool),
    k("repl_ssl_ca", Any, "(none)", "CA file on the slave's host for verifying its master (MASTER_SSL_CA)", Ours, AbsPath),
    k("repl_ssl_cert", Any, "(none)", "client certificate file on the slave's host (MASTER_SSL_CERT), for repl accounts that REQUIRE X509", Ours, AbsPath),
    k("repl_ssl_key", Any, "(none)", "private key file of repl_ssl_cert on the slave's host (MASTER_SSL_KEY)", Ours, AbsPath),
    k("repl_ssl_verify_server_cert", Any, "(the replica's own setting)", "slaves check their master's certificate and name (MASTER_SSL_VERIFY_SERVER_CERT)", Ours, Bool),
    k("ping_misses", AppOnly, "3", "consecutive missed pings before the master's death is confirmed", Ours, PositiveInt),
    k("allow_errant_promotion", AppOnly, "0", "let a slave with errant GTIDs (transactions its master lacks) be promoted", Ours, Bool),
    k("known_hosts_file", AppOnly, "(ssh default)", "known_hosts file used to check host keys", Ours, AbsPath),
    k("host_key_check", AppOnly, "strict", "SSH host-key policy: strict or accept-new", Ours, Enum(HOST_KEY_CHECKS)),
    k("password_env", Any, "(none)", "environment variable holding the password of user", Ours, SecretEnv),
    k("password_file", Any, "(none)", "0600 file holding the password of user", Ours, SecretFile),
    k("repl_password_env", Any, "(none)", "environment variable holding repl_password", Ours, SecretEnv),
    k("repl_password_file", Any, "(none)", "0600 file holding repl_password", Ours, SecretFile),
    k("mysql_timeout", AppOnly, "5", "seconds allowed for a MySQL connect or statement", Ours, PositiveInt),
    k("command_timeout", AppOnly, "60", "seconds allowed for one remote command over SSH", Ours, PositiveInt),
    k("smtp_host", AppOnly, "(none: no mail)", "SMTP server for the failover report", Ours, Host),
    k("smtp_port", AppOnly, "25", "SMTP port", Ours, Port),
    k("smtp_from", AppOnly, "(required with smtp_host)", "sender address of the report", Ours, Text),
    k("smtp_to", AppOnly, "(required with smtp_host)", "comma-separated recipients of the report", Ours, List),
    k("smtp_user", AppOnly, "(none)", "SMTP login user", Ours, Text),
    k("smtp_password", AppOnly, "(none)", "SMTP password in clear text", Ours, Secret),
    k("smtp_password_env", AppOnly, "(none)", "environment variable holding the SMTP password", Ours, SecretEnv),
    k("smtp_password_file", AppOnly, "(none)", "0600 file holding the SMTP password", Ours, SecretFile),
    k("smtp_tls", AppOnly, "none", "SMTP transport security: none, starttls or tls", Ours, Enum(SMTP_TLS)),
];

/// Parameters ha-manager recognises and validates but does not act on yet. Later work
/// implements them; until then the CLI can warn when one is set (see [`not_yet_acted_on`]).
pub(crate) const NOT_YET_ACTED_ON: &[&str] = &["disable_log_bin", "handle_raw_binlog"];

/// The description of `name`, if it is a parameter (names are case-sensitive, as in MHA).
pub(crate) fn lookup(name: &str) -> Option<&'static KeyInfo> {
    KEYS.iter().find(|k| k.name == name)
}

/// Whether ha-manager acts on `name` today.
#[cfg(test)]
pub(crate) fn is_acted_on(name: &str) -> bool {
    !NOT_YET_ACTED_ON.contains(&name)
}

/// The parameters set in `cfg` (anywhere) that are not acted on yet, in table order.
pub(crate) fn not_yet_acted_on(cfg: &Config) -> Vec<&'static str> {
    NOT_YET_ACTED_ON
        .iter()
        .copied()
        .filter(|k| cfg.keys_set.contains(*k))
        .collect()
}

/// The known parameter closest to `unknown`, if one is close enough to be a typo.
pub(crate) fn did_you_mean(unknown: &str) -> Option<&'static str> {
    // Case and `-` versus `_` are the commonest slips; compare without them.
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let wanted = norm(unknown.trim());
    let (best, distance) = KEYS
        .iter()
        .map(|k| (k.name, edit_distance(&wanted, k.name)))
        .min_by_key(|&(_, d)| d)?;
    let allowed = (wanted.chars().count() / 3).clamp(1, 3);
    (distance <= allowed).then_some(best)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur.push(substitute.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The Markdown rows of the parameter reference (`docs/config-reference.md`), one per key.
#[cfg(test)]
pub(crate) fn reference_rows() -> Vec<String> {
    KEYS.iter()
        .map(|k| {
            // Placeholders such as "(none)" are prose, real values are code.
            let default = if k.default.starts_with('(') {
                k.default.to_string()
            } else {
                format!("`{}`", k.default)
            };
            format!(
                "| `{}` | {} | {} | {} | {} | {} |",
                k.name,
                k.scope.label(),
                default,
                k.meaning,
                match k.provenance {
                    Mha => "MHA",
                    Ours => "ours",
                },
                if is_acted_on(k.name) {
                    "yes"
                } else {
                    "not yet"
                },
            )
        })
        .collect()
}

/// The three ways to give one password.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trio {
    pub clear: &'static str,
    pub env: &'static str,
    pub file: &'static str,
}

impl Trio {
    pub(crate) fn keys(&self) -> [&'static str; 3] {
        [self.clear, self.env, self.file]
    }
}

pub(crate) const PASSWORD: Trio = Trio {
    clear: "password",
    env: "password_env",
    file: "password_file",
};
pub(crate) const REPL_PASSWORD: Trio = Trio {
    clear: "repl_password",
    env: "repl_password_env",
    file: "repl_password_file",
};
pub(crate) const SMTP_PASSWORD: Trio = Trio {
    clear: "smtp_password",
    env: "smtp_password_env",
    file: "smtp_password_file",
};
pub(crate) const TRIOS: [Trio; 3] = [PASSWORD, REPL_PASSWORD, SMTP_PASSWORD];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn all_42_mha_names_are_present_and_unique() {
        let mha: Vec<_> = KEYS.iter().filter(|k| k.provenance == Mha).collect();
        assert_eq!(mha.len(), 42);
        let names: BTreeSet<_> = KEYS.iter().map(|k| k.name).collect();
        assert_eq!(names.len(), KEYS.len(), "duplicate name in KEYS");
    }

    #[test]
    fn per_server_only_keys_are_the_mha_l_only_ones() {
        let got: BTreeSet<_> = KEYS
            .iter()
            .filter(|k| k.scope == PerServerOnly)
            .map(|k| k.name)
            .collect();
        let want: BTreeSet<_> = [
            "hostname",
            "ip",
            "ssh_host",
            "ssh_ip",
            "node_label",
            "candidate_master",
            "no_master",
            "ignore_fail",
            "skip_init_ssh_check",
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn not_yet_acted_on_names_are_known_keys() {
        for name in NOT_YET_ACTED_ON {
            assert!(lookup(name).is_some(), "{name} is not in KEYS");
        }
        // The failover acts on its hooks and on SMTP reporting.
        for name in [
            "master_ip_failover_script",
            "shutdown_script",
            "smtp_host",
            "ping_type",
        ] {
            assert!(is_acted_on(name), "{name} is acted on");
        }
    }

    #[test]
    fn did_you_mean_cases() {
        let cases = [
            ("pasword", Some("password")),
            ("Password", Some("password")),
            ("ping-interval", Some("ping_interval")),
            ("candidate_mastr", Some("candidate_master")),
            ("hostnmae", Some("hostname")),
            ("repl_passwd", Some("repl_password")),
            ("zzz", None),
            ("completely_unrelated_thing", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(did_you_mean(input), want, "input {input:?}");
        }
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "abd"), 1);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn reference_doc_lists_every_key_exactly() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config-reference.md");
        let doc = std::fs::read_to_string(path).expect("docs/config-reference.md is readable");
        let lines: BTreeSet<&str> = doc.lines().map(str::trim_end).collect();
        for (key, row) in KEYS.iter().zip(reference_rows()) {
            assert!(
                doc.contains(&format!("| `{}` |", key.name)),
                "{} is missing from docs/config-reference.md",
                key.name
            );
            assert!(
                lines.contains(row.as_str()),
                "row for {} differs from keys.rs; expected:\n{row}",
                key.name
            );
        }
        // And nothing in the doc's table that keys.rs does not know.
        for line in doc.lines().filter(|l| l.starts_with("| `")) {
            let name = line
                .trim_start_matches("| `")
                .split('`')
                .next()
                .unwrap_or_default();
            assert!(lookup(name).is_some(), "doc lists unknown key {name}");
        }
    }

    #[test]
    fn readme_carries_the_same_reference_table() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .expect("README.md is readable");
        for row in reference_rows() {
            assert!(readme.contains(&row), "README.md lacks the row: {row}");
        }
    }

    /// Prints the table rows for `docs/config-reference.md`:
    /// `cargo test --lib print_reference_rows -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn print_reference_rows() {
        for row in reference_rows() {
            println!("{row}");
        }
    }
}
