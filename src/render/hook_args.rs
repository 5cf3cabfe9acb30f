//! MHA 0.58's argument lists for each hook, as pure functions.
//!
//! Names and order follow `MasterFailover.pm`, `MasterMonitor.pm`,
//! `MasterRotate.pm` and `HealthCheck.pm`, so existing scripts (usually Perl with
//! `GetOptions`) parse them unchanged. One deliberate difference: MHA appended
//! `--new_master_password=…`, `--orig_master_password=…` and `--master_password=…`
//! to argv; we never do. Callers pass those secrets to
//! [`run_hook`](crate::notify::hooks::run_hook) in `secret_env` under the keys below, and
//! the script reads `HA_NEW_MASTER_PASSWORD` and so on.

use std::path::Path;

use crate::config::model::{PingType, ServerSpec};

/// `secret_env` key for the new master's admin password (`HA_NEW_MASTER_PASSWORD`).
pub(crate) const NEW_MASTER_PASSWORD: &str = "new_master_password";
/// `secret_env` key for the original master's admin password (`HA_ORIG_MASTER_PASSWORD`).
pub(crate) const ORIG_MASTER_PASSWORD: &str = "orig_master_password";
/// `secret_env` key for `secondary_check_script` (`HA_MASTER_PASSWORD`).
pub(crate) const MASTER_PASSWORD: &str = "master_password";

/// Prefix of every environment variable we set for a hook.
pub(crate) const ENV_PREFIX: &str = "HA_";

/// MHA's arguments for one hook call, in MHA's order, plus facts that go only to
/// the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HookArgs {
    values: Vec<(String, String)>,
    flags: Vec<String>,
    env_only: Vec<(String, String)>,
}

impl HookArgs {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `--key=value` (and `HA_KEY=value`).
    pub(crate) fn value(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.push((key.into(), value.into()));
        self
    }

    /// Adds a bare `--name` (and `HA_NAME=1`). Flags follow all values in argv,
    /// which is where MHA puts its only flag, `--orig_master_is_new_slave`.
    pub(crate) fn flag(mut self, name: impl Into<String>) -> Self {
        self.flags.push(name.into());
        self
    }

    /// Adds `HA_KEY=value` to the environment only. For facts MHA never passed
    /// (e.g. `app`), so that argv stays exactly what existing scripts parse: a
    /// Perl script using `GetOptions` without `pass_through` rejects unknown options.
    pub(crate) fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env_only.push((key.into(), value.into()));
        self
    }

    #[cfg(test)]
    pub(crate) fn flags(&self) -> &[String] {
        &self.flags
    }

    /// The value of `--key`, if present.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The words appended to the configured argv.
    pub(crate) fn to_argv(&self) -> Vec<String> {
        let values = self.values.iter().map(|(k, v)| format!("--{k}={v}"));
        let flags = self.flags.iter().map(|f| format!("--{f}"));
        values.chain(flags).collect()
    }

    /// The `HA_*` variables: every value, every flag (`1`), every env-only fact.
    pub(crate) fn to_env(&self) -> Vec<(String, String)> {
        let values = self.values.iter().map(|(k, v)| (env_name(k), v.clone()));
        let flags = self.flags.iter().map(|f| (env_name(f), "1".to_string()));
        let extra = self.env_only.iter().map(|(k, v)| (env_name(k), v.clone()));
        values.chain(flags).chain(extra).collect()
    }
}

/// `orig_master_host` → `HA_ORIG_MASTER_HOST`. Anything but ASCII letters and
/// digits becomes `_`, so the name is always a valid shell variable name.
pub(crate) fn env_name(key: &str) -> String {
    let body: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{ENV_PREFIX}{body}")
}

/// What a hook needs to know about one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HookServer {
    pub hostname: String,
    pub ip: String,
    pub port: u16,
    /// The MySQL admin user (MHA `user`), passed as `--new_master_user` etc.
    pub user: String,
    /// The address used for SSH (MHA `ssh_ip`/`ssh_host`).
    pub ssh_host: String,
    pub ssh_port: u16,
    pub ssh_user: String,
}

impl HookServer {
    /// From a configured server. `os_user` stands in for an unset `ssh_user`,
    /// as in MHA (the user running the manager).
    pub(crate) fn from_spec(spec: &ServerSpec, os_user: &str) -> Self {
        HookServer {
            hostname: spec.hostname.clone(),
            ip: spec.mysql_addr().to_string(),
            port: spec.port,
            user: spec.user.clone(),
            ssh_host: spec.ssh.host.clone(),
            ssh_port: spec.ssh.port,
            ssh_user: spec.ssh.user.clone().unwrap_or_else(|| os_user.to_string()),
        }
    }
}

/// `master_ip_failover_script --command=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailoverCommand {
    /// At monitor start: is the hook usable? (`start` refuses when it is not.)
    Status,
    /// Phase 2, the dead master is not reachable over SSH.
    Stop,
    /// Phase 2, the dead master is reachable over SSH.
    StopSsh,
    /// Phase 3, after the new master is up to date.
    Start,
}

impl FailoverCommand {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailoverCommand::Status => "status",
            FailoverCommand::Stop => "stop",
            FailoverCommand::StopSsh => "stopssh",
            FailoverCommand::Start => "start",
        }
    }
}

/// `shutdown_script --command=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShutdownCommand {
    Status,
    Stop,
    StopSsh,
}

impl ShutdownCommand {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ShutdownCommand::Status => "status",
            ShutdownCommand::Stop => "stop",
            ShutdownCommand::StopSsh => "stopssh",
        }
    }
}

/// `master_ip_online_change_script --command=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnlineChangeCommand {
    /// Freeze writes on the current master.
    Stop,
    /// Allow writes on the new master.
    Start,
    /// Ours (MHA never asks): is the hook usable?
    // Not yet called: the --command=status check (see review-2 §4a); kept for it.
    #[allow(dead_code)]
    Status,
}

impl OnlineChangeCommand {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OnlineChangeCommand::Stop => "stop",
            OnlineChangeCommand::Start => "start",
            OnlineChangeCommand::Status => "status",
        }
    }
}

/// MHA's `get_ssh_args_if`: `--<prefix>ssh_host/ssh_ip` only when SSH goes to
/// another address than MySQL, `--<prefix>ssh_port` only when it is not 22.
/// (MHA's `--ssh_options` is off by default in 0.58 and not passed.)
fn ssh_args(mut args: HookArgs, prefix: &str, server: &HookServer) -> HookArgs {
    if server.ssh_host != server.hostname && server.ssh_host != server.ip {
        args = args
            .value(format!("{prefix}ssh_host"), &server.ssh_host)
            .value(format!("{prefix}ssh_ip"), &server.ssh_host);
    }
    if server.ssh_port != 22 {
        args = args.value(format!("{prefix}ssh_port"), server.ssh_port.to_string());
    }
    args
}

fn orig_master(args: HookArgs, orig: &HookServer) -> HookArgs {
    args.value("orig_master_host", &orig.hostname)
        .value("orig_master_ip", &orig.ip)
        .value("orig_master_port", orig.port.to_string())
}

/// `master_ip_failover_script` arguments, in MHA 0.58's order:
///
/// - status: `--command=status --ssh_user=<orig> --orig_master_host/ip/port`
/// - stop: `--orig_master_host/ip/port --command=stop`
/// - stopssh: `--orig_master_host/ip/port --command=stopssh --ssh_user=<orig>`
/// - start: `--command=start --ssh_user=<new> --orig_master_host/ip/port
///   --new_master_host/ip/port/user` (password in `HA_NEW_MASTER_PASSWORD`)
///
/// then the SSH extras of the original (and, for start, the new) master. `new`
/// is only used by `Start`; a `Start` without it lists only the original master.
pub(crate) fn master_ip_failover_args(
    command: FailoverCommand,
    orig: &HookServer,
    new: Option<&HookServer>,
) -> HookArgs {
    let cmd = command.as_str();
    let mut args = match command {
        FailoverCommand::Status => orig_master(
            HookArgs::new()
                .value("command", cmd)
                .value("ssh_user", &orig.ssh_user),
            orig,
        ),
        FailoverCommand::Stop => orig_master(HookArgs::new(), orig).value("command", cmd),
        FailoverCommand::StopSsh => orig_master(HookArgs::new(), orig)
            .value("command", cmd)
            .value("ssh_user", &orig.ssh_user),
        FailoverCommand::Start => {
            let ssh_user = new.map_or(&orig.ssh_user, |n| &n.ssh_user);
            let mut args = orig_master(
                HookArgs::new()
                    .value("command", cmd)
                    .value("ssh_user", ssh_user),
                orig,
            );
            if let Some(new) = new {
                args = args
                    .value("new_master_host", &new.hostname)
                    .value("new_master_ip", &new.ip)
                    .value("new_master_port", new.port.to_string())
                    .value("new_master_user", &new.user);
            }
            args
        }
    };
    args = ssh_args(args, "orig_master_", orig);
    if let (FailoverCommand::Start, Some(new)) = (command, new) {
        args = ssh_args(args, "new_master_", new);
    }
    args
}

/// `shutdown_script` arguments, in MHA 0.58's order:
///
/// - status: `--command=status --ssh_user --host --ip` (MHA passes no port here)
/// - stop: `--command=stop --host --ip --port [--pid_file]`
/// - stopssh: `--command=stopssh --ssh_user --host --ip --port [--pid_file]`
///
/// then `--ssh_host/--ssh_ip/--ssh_port` when they differ from the defaults.
pub(crate) fn shutdown_args(
    command: ShutdownCommand,
    host: &HookServer,
    pid_file: Option<&str>,
) -> HookArgs {
    let mut args = HookArgs::new().value("command", command.as_str());
    if command != ShutdownCommand::Stop {
        args = args.value("ssh_user", &host.ssh_user);
    }
    args = args.value("host", &host.hostname).value("ip", &host.ip);
    if command != ShutdownCommand::Status {
        args = args.value("port", host.port.to_string());
        if let Some(pid_file) = pid_file.filter(|p| !p.is_empty()) {
            args = args.value("pid_file", pid_file);
        }
    }
    ssh_args(args, "", host)
}

/// `master_ip_online_change_script` arguments (MHA `MasterRotate.pm`):
/// `--command --orig_master_host/ip/port/user --new_master_host/ip/port/user
/// --orig_master_ssh_user --new_master_ssh_user`, the SSH extras of both, then
/// `--orig_master_is_new_slave` when set. Both passwords go in the environment.
pub(crate) fn online_change_args(
    command: OnlineChangeCommand,
    orig: &HookServer,
    new: &HookServer,
    orig_master_is_new_slave: bool,
) -> HookArgs {
    let mut args = orig_master(HookArgs::new().value("command", command.as_str()), orig)
        .value("orig_master_user", &orig.user)
        .value("new_master_host", &new.hostname)
        .value("new_master_ip", &new.ip)
        .value("new_master_port", new.port.to_string())
        .value("new_master_user", &new.user)
        .value("orig_master_ssh_user", &orig.ssh_user)
        .value("new_master_ssh_user", &new.ssh_user);
    args = ssh_args(args, "orig_master_", orig);
    args = ssh_args(args, "new_master_", new);
    if orig_master_is_new_slave {
        args = args.flag("orig_master_is_new_slave");
    }
    args
}

/// `report_script` arguments (MHA `send_report`): `--orig_master_host`, then
/// `--new_master_host --new_slave_hosts=a,b` only when a new master was
/// activated, then `--conf --subject --body`. Without a shell, a body with
/// newlines and quotes arrives as one intact argument (MHA's shell quoting broke
/// on a `"` in the body).
pub(crate) fn report_args(
    orig_master_host: &str,
    new_master_host: Option<&str>,
    new_slave_hosts: &[String],
    subject: &str,
    body: &str,
    conf: &Path,
) -> HookArgs {
    let mut args = HookArgs::new().value("orig_master_host", orig_master_host);
    if let Some(new) = new_master_host {
        args = args
            .value("new_master_host", new)
            .value("new_slave_hosts", new_slave_hosts.join(","));
    }
    args.value("conf", conf.display().to_string())
        .value("subject", subject)
        .value("body", body)
}

/// `secondary_check_script` arguments (MHA `HealthCheck::secondary_check`):
/// `--user=<ssh user> --master_host --master_ip --master_port --master_user
/// --ping_type`; the password goes in `HA_MASTER_PASSWORD`. Read the exit code
/// with [`SecondaryResult::meaning`](crate::policy::death::SecondaryResult::meaning).
pub(crate) fn secondary_check_args(master: &HookServer, ping_type: PingType) -> HookArgs {
    HookArgs::new()
        .value("user", &master.ssh_user)
        .value("master_host", &master.hostname)
        .value("master_ip", &master.ip)
        .value("master_port", master.port.to_string())
        .value("master_user", &master.user)
        .value("ping_type", ping_type_str(ping_type))
}

fn ping_type_str(ping_type: PingType) -> &'static str {
    match ping_type {
        PingType::Select => "SELECT",
        PingType::Connect => "CONNECT",
        PingType::Insert => "INSERT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, last: u8) -> HookServer {
        HookServer {
            hostname: name.into(),
            ip: format!("198.18.0.{last}"),
            port: 3306,
            user: "admin".into(),
            ssh_host: format!("198.18.0.{last}"),
            ssh_port: 22,
            ssh_user: "root".into(),
        }
    }

    fn argv(args: &HookArgs) -> String {
        args.to_argv().join(" ")
    }

    #[test]
    fn master_ip_failover_argv_per_command() {
        let orig = server("db1", 11);
        let new = server("db2", 12);
        let cases = [
            (
                FailoverCommand::Status,
                None,
                "--command=status --ssh_user=root --orig_master_host=db1 \
                 --orig_master_ip=198.18.0.11 --orig_master_port=3306",
            ),
            (
                FailoverCommand::Stop,
                None,
                "--orig_master_host=db1 --orig_master_ip=198.18.0.11 \
                 --orig_master_port=3306 --command=stop",
            ),
            (
                FailoverCommand::StopSsh,
                None,
                "--orig_master_host=db1 --orig_master_ip=198.18.0.11 \
                 --orig_master_port=3306 --command=stopssh --ssh_user=root",
            ),
            (
                FailoverCommand::Start,
                Some(&new),
                "--command=start --ssh_user=root --orig_master_host=db1 \
                 --orig_master_ip=198.18.0.11 --orig_master_port=3306 \
                 --new_master_host=db2 --new_master_ip=198.18.0.12 \
                 --new_master_port=3306 --new_master_user=admin",
            ),
        ];
        for (command, new, expected) in cases {
            let args = master_ip_failover_args(command, &orig, new);
            assert_eq!(argv(&args), expected, "{command:?}");
            assert!(!argv(&args).contains("password"));
        }
    }

    #[test]
    fn start_uses_the_new_masters_ssh_user_and_both_ssh_extras() {
        let orig = HookServer {
            ssh_host: "10.9.0.11".into(),
            ..server("db1", 11)
        };
        let new = HookServer {
            ssh_port: 2222,
            ssh_user: "mha".into(),
            ..server("db2", 12)
        };
        let args = master_ip_failover_args(FailoverCommand::Start, &orig, Some(&new));
        assert_eq!(args.get("ssh_user"), Some("mha"));
        assert_eq!(args.get("orig_master_ssh_host"), Some("10.9.0.11"));
        assert_eq!(args.get("orig_master_ssh_ip"), Some("10.9.0.11"));
        assert_eq!(args.get("new_master_ssh_port"), Some("2222"));
        assert_eq!(args.get("new_master_ssh_host"), None);
        // The SSH extras come after MHA's fixed arguments.
        let words = args.to_argv();
        assert_eq!(words[words.len() - 3], "--orig_master_ssh_host=10.9.0.11");
        assert_eq!(words[words.len() - 1], "--new_master_ssh_port=2222");
    }

    #[test]
    fn shutdown_argv_per_command() {
        let host = server("db1", 11);
        let cases = [
            (
                ShutdownCommand::Status,
                Some("/run/mysqld/mysqld.pid"),
                "--command=status --ssh_user=root --host=db1 --ip=198.18.0.11",
            ),
            (
                ShutdownCommand::Stop,
                None,
                "--command=stop --host=db1 --ip=198.18.0.11 --port=3306",
            ),
            (
                ShutdownCommand::StopSsh,
                Some("/run/mysqld/mysqld.pid"),
                "--command=stopssh --ssh_user=root --host=db1 --ip=198.18.0.11 \
                 --port=3306 --pid_file=/run/mysqld/mysqld.pid",
            ),
        ];
        for (command, pid_file, expected) in cases {
            assert_eq!(
                argv(&shutdown_args(command, &host, pid_file)),
                expected,
                "{command:?}"
            );
        }
        let other_ssh = HookServer {
            ssh_host: "mgmt-db1".into(),
            ssh_port: 2200,
            ..host
        };
        assert!(
            argv(&shutdown_args(ShutdownCommand::Stop, &other_ssh, None))
                .ends_with("--port=3306 --ssh_host=mgmt-db1 --ssh_ip=mgmt-db1 --ssh_port=2200")
        );
    }

    #[test]
    fn online_change_argv() {
        let orig = server("db1", 11);
        let new = server("db2", 12);
        let args = online_change_args(OnlineChangeCommand::Stop, &orig, &new, true);
        assert_eq!(
            argv(&args),
            "--command=stop --orig_master_host=db1 --orig_master_ip=198.18.0.11 \
             --orig_master_port=3306 --orig_master_user=admin --new_master_host=db2 \
             --new_master_ip=198.18.0.12 --new_master_port=3306 --new_master_user=admin \
             --orig_master_ssh_user=root --new_master_ssh_user=root --orig_master_is_new_slave"
        );
        let start = online_change_args(OnlineChangeCommand::Start, &orig, &new, false);
        assert_eq!(start.get("command"), Some("start"));
        assert!(start.flags().is_empty());
    }

    #[test]
    fn report_argv_keeps_the_body_as_one_word() {
        let body = "Master db1 is down!\n\n\"quoted\" and 'single'\n";
        let args = report_args(
            "db1",
            Some("db2"),
            &["db3".to_string(), "db4".to_string()],
            "app1: MySQL Master failover db1 to db2 succeeded",
            body,
            Path::new("/etc/ha/app1.cnf"),
        );
        let words = args.to_argv();
        assert_eq!(
            words,
            [
                "--orig_master_host=db1",
                "--new_master_host=db2",
                "--new_slave_hosts=db3,db4",
                "--conf=/etc/ha/app1.cnf",
                "--subject=app1: MySQL Master failover db1 to db2 succeeded",
                &format!("--body={body}"),
            ]
        );
        let without_new = report_args("db1", None, &[], "s", "b", Path::new("c"));
        assert_eq!(
            argv(&without_new),
            "--orig_master_host=db1 --conf=c --subject=s --body=b"
        );
    }

    #[test]
    fn secondary_check_argv() {
        let args = secondary_check_args(&server("db1", 11), PingType::Insert);
        assert_eq!(
            argv(&args),
            "--user=root --master_host=db1 --master_ip=198.18.0.11 --master_port=3306 \
             --master_user=admin --ping_type=INSERT"
        );
    }

    #[test]
    fn env_mirrors_argv() {
        let args = master_ip_failover_args(FailoverCommand::StopSsh, &server("db1", 11), None)
            .env("app", "app1");
        let env = args.to_env();
        assert!(env.contains(&("HA_COMMAND".into(), "stopssh".into())));
        assert!(env.contains(&("HA_ORIG_MASTER_HOST".into(), "db1".into())));
        assert!(env.contains(&("HA_SSH_USER".into(), "root".into())));
        assert!(env.contains(&("HA_APP".into(), "app1".into())));
        assert!(!args.to_argv().iter().any(|w| w.contains("app1")));
    }
}
