//! The validated configuration model that both front ends (MHA INI and TOML) resolve into.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// One application's whole configuration, after precedence, defaults and validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Config {
    /// Application name: the config file's basename without extension (MHA's `<app>`).
    pub app: String,
    /// The files read, global first.
    pub files: Vec<PathBuf>,
    /// Application-wide settings (MHA scopes A and G).
    pub settings: AppSettings,
    /// `[serverN]` blocks in config order (numeric when every name is `server<digits>`).
    pub servers: Vec<ServerSpec>,
    /// `[binlogN]` blocks (binlog servers), in config order.
    pub binlog_servers: Vec<ServerSpec>,
    /// Every parameter name that was set anywhere (files or init_conf_load_script).
    pub keys_set: BTreeSet<String>,
    /// Things the user should know that are not errors (a per-server key in
    /// `[server default]`, an application key inside a server block, ...).
    pub notes: Vec<ConfigNote>,
}

/// A non-fatal remark about the configuration, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigNote {
    pub origin: Origin,
    pub message: String,
}

/// A configured server's identity: its place in config order (`[server1]`
/// is the first). Ids are made only by the configuration ([`Config::ids`])
/// and by a `Topology`, which holds every configured server in that order;
/// they cannot be mixed up with counts or other indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ServerId(usize);

impl ServerId {
    /// The id of the `n`-th server in config order (0-based).
    pub(crate) fn nth(n: usize) -> ServerId {
        ServerId(n)
    }

    /// The position in config order (0-based).
    pub(crate) fn index(self) -> usize {
        self.0
    }
}

impl Config {
    /// Every configured server's id, in config order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = ServerId> + '_ {
        (0..self.servers.len()).map(ServerId)
    }

    /// The server `id` names.
    pub(crate) fn server(&self, id: ServerId) -> &ServerSpec {
        &self.servers[id.0]
    }
}

/// A place in a config file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Origin {
    pub file: PathBuf,
    /// 1-based line number; 0 when unknown.
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}", self.file.display(), self.line)
        }
    }
}

/// Application-wide settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppSettings {
    pub log_level: LogLevel,
    /// MHA default `/var/tmp`.
    pub manager_workdir: PathBuf,
    /// `None` = standard error.
    pub manager_log: Option<PathBuf>,
    /// Default true: exclude slaves too far behind from promotion.
    pub check_repl_delay: bool,
    /// Default true: abort when replication/binlog filters differ.
    pub check_repl_filter: bool,
    /// Default true: prefer the latest slaves in the election.
    pub latest_priority: bool,
    /// Default false.
    pub multi_tier_slave: bool,
    /// Default 3 s.
    pub ping_interval: Duration,
    /// Default SELECT.
    pub ping_type: PingType,
    /// Ours: consecutive missed pings before confirming death (default 3).
    pub ping_misses: u32,
    /// Ours: a slave with errant GTIDs may be promoted (default false: it is passed over).
    pub allow_errant_promotion: bool,
    pub secondary_check_script: Option<HookCommand>,
    pub master_ip_failover_script: Option<HookCommand>,
    pub master_ip_online_change_script: Option<HookCommand>,
    pub shutdown_script: Option<HookCommand>,
    pub report_script: Option<HookCommand>,
    pub init_conf_load_script: Option<HookCommand>,
    /// Where `mysql`/`mysqlbinlog` live on the nodes (searched first).
    pub client_bindir: Option<String>,
    pub client_libdir: Option<String>,
    /// Ours: known_hosts file for host-key checking (`None` = ssh's default).
    pub known_hosts_file: Option<PathBuf>,
    /// Ours: host-key policy; strict by default.
    pub host_key_check: HostKeyCheck,
    /// Ours: bound on connecting to and each statement sent to a MySQL server (default 5 s).
    pub mysql_timeout: Duration,
    /// Ours: bound on each remote command over SSH (default 60 s).
    pub command_timeout: Duration,
    /// Ours: built-in SMTP reporting; `None` when `smtp_host` is unset.
    pub smtp: Option<SmtpSettings>,
}

/// How the monitor pings the master (MHA `ping_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PingType {
    Select,
    Connect,
    Insert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
}

/// SSH host-key policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostKeyCheck {
    /// The host key must already be in known_hosts (default).
    Strict,
    /// Unknown hosts are added on first contact; changed keys are refused.
    AcceptNew,
}

/// A hook script as argv: the config value split by shell-like word rules
/// (quotes honoured), never run through a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HookCommand {
    pub argv: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SmtpSettings {
    pub host: String,
    /// Default 25.
    pub port: u16,
    pub from: String,
    pub to: Vec<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub tls: SmtpTls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmtpTls {
    None,
    StartTls,
    Tls,
}

/// One `[serverN]` (or `[binlogN]`) block after precedence and defaults.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServerSpec {
    /// The block name, e.g. `server1`.
    pub name: String,
    /// Where the block starts.
    pub origin: Origin,
    pub hostname: String,
    pub ip: Option<String>,
    /// Default 3306.
    pub port: u16,
    pub ssh: SshSpec,
    pub node_label: Option<String>,
    pub candidate_master: bool,
    pub no_master: bool,
    pub ignore_fail: bool,
    pub skip_init_ssh_check: bool,
    pub skip_reset_slave: bool,
    /// Admin user; default `root`.
    pub user: String,
    pub password: Secret,
    /// `None` = the current `Master_User`.
    pub repl_user: Option<String>,
    pub repl_password: Option<Secret>,
    pub disable_log_bin: bool,
    pub master_pid_file: Option<String>,
    /// Default true.
    pub handle_raw_binlog: bool,
    /// Default `/var/tmp`.
    pub remote_workdir: String,
    /// Default `/var/lib/mysql,/var/log/mysql`.
    pub master_binlog_dir: Vec<String>,
    /// Default true.
    pub use_gtid_auto_pos: bool,
    /// TLS of the manager's MySQL connections to this server.
    pub tls: TlsSpec,
    /// `repl_ssl=1`: TLS of this server's own replication link, written into
    /// every CHANGE MASTER that repoints it. `None`: its TLS settings are left as
    /// they are.
    pub repl_tls: Option<ReplTls>,
}

/// `repl_ssl_ca`, `repl_ssl_cert`, `repl_ssl_key`, `repl_ssl_verify_server_cert`
/// of one server (with `repl_ssl=1`). The paths are on that server's host: they
/// are handed to the server in CHANGE MASTER, never opened by the manager.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ReplTls {
    pub ca: Option<String>,
    /// Client certificate and its key (both or neither).
    pub cert: Option<String>,
    pub key: Option<String>,
    /// `None`: not given, the replica keeps its own setting.
    pub verify_server_cert: Option<bool>,
}

/// `ssl_mode`, as the MySQL client's `--ssl-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SslMode {
    /// Plain TCP (the default, as before TLS support).
    #[default]
    Disabled,
    /// TLS when the server offers it, plain otherwise; the certificate is not checked.
    Preferred,
    /// TLS or no connection; the certificate is not checked.
    Required,
    /// TLS with a certificate signed by `ssl_ca`; the name is not checked.
    VerifyCa,
    /// As `VerifyCa`, and the certificate names the address connected to.
    VerifyIdentity,
}

/// `ssl_mode`, `ssl_ca`, `ssl_cert`, `ssl_key` of one server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct TlsSpec {
    pub mode: SslMode,
    pub ca: Option<PathBuf>,
    /// Client certificate chain and its key (both or neither).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl ServerSpec {
    /// The address used for MySQL connections: `ip` when set, else `hostname`.
    pub(crate) fn mysql_addr(&self) -> &str {
        self.ip.as_deref().unwrap_or(&self.hostname)
    }

    /// MHA's display form, `host(ip:port)`.
    pub(crate) fn label(&self) -> String {
        format!("{}({}:{})", self.hostname, self.mysql_addr(), self.port)
    }
}

/// How to reach a server's host over SSH.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SshSpec {
    /// `ssh_ip`, else `ssh_host`, else the server's `ip`, else its `hostname`.
    pub host: String,
    /// Default 22.
    pub port: u16,
    /// `None` = the OS user running the manager.
    pub user: Option<String>,
    /// `ssh_options` split into words (no shell).
    pub options: Vec<String>,
    /// Default 5 s.
    pub connection_timeout: Duration,
}

/// A password. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The clear text, for handing to a driver; never log it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
