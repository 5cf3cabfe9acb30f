//! Command line: clap definitions, with MHA underscore spellings as aliases.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ha-manager",
    version,
    about = "Failover manager for MySQL and MariaDB replication (MHA-compatible)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// SSH from the manager to every node: login, tools, binlog/relay-log dirs, remote workdir.
    #[command(name = "check-ssh", alias = "check_ssh")]
    CheckSsh(ConfArgs),
    /// Connect to every server, validate replication and show who would be promoted.
    #[command(name = "check-repl", alias = "check_repl")]
    CheckRepl(CheckReplArgs),
    /// Check, then monitor the master and fail over automatically when it dies.
    #[command(alias = "manager")]
    Start(StartArgs),
    /// Is the manager running, and what does it see (exit code = MHA state number).
    #[command(alias = "check_status")]
    Status(StatusArgs),
    /// Stop a running manager cleanly (refused during a failover unless --abort).
    Stop(StopArgs),
    /// Manual failover of a dead master (`--master-state dead`), or a planned online
    /// switchover of a healthy one (`--master-state alive`).
    Switch(SwitchArgs),
    /// MHA's `masterha_secondary_check`: from each `-s` host, over SSH, does the
    /// master's port answer? Exit 0: unreachable from all; 3: reachable from one;
    /// 2: a secondary host could not be reached; 1: any other error.
    #[command(
        name = "secondary-check",
        aliases = ["secondary_check", "masterha_secondary_check"]
    )]
    SecondaryCheck(SecondaryCheckArgs),
}

/// `masterha_secondary_check`'s arguments, under MHA's names (the manager
/// appends `--user`, `--master_host`, `--master_ip`, `--master_port`,
/// `--master_user` and `--ping_type` to a `secondary_check_script` line).
#[derive(Debug, Args)]
pub struct SecondaryCheckArgs {
    /// A host to check from (repeat: `-s db2 -s db3`).
    #[arg(
        short = 's',
        long = "secondary_host",
        alias = "secondary-host",
        value_name = "HOST"
    )]
    pub secondary_host: Vec<String>,
    /// SSH user on the secondary hosts.
    #[arg(long, default_value = "root")]
    pub user: String,
    /// SSH port of the secondary hosts.
    #[arg(long, default_value_t = 22)]
    pub port: u16,
    /// SSH options (shell-like words, e.g. `-i KEY -o UserKnownHostsFile=FILE`);
    /// they come before ours, so they win (host keys are checked unless they say otherwise).
    #[arg(long, value_name = "SSH_OPTIONS", allow_hyphen_values = true)]
    pub options: Option<String>,
    /// The master's hostname or IP, connected to from each secondary host.
    #[arg(long = "master_host", alias = "master-host", value_name = "HOST")]
    pub master_host: Option<String>,
    /// The master's IP (accepted for MHA's argument list; the probe connects to --master_host).
    #[arg(long = "master_ip", alias = "master-ip", value_name = "IP")]
    pub master_ip: Option<String>,
    /// The master's port.
    #[arg(
        long = "master_port",
        alias = "master-port",
        value_name = "PORT",
        default_value_t = 3306
    )]
    pub master_port: u16,
    /// `ping_type=INSERT`: the MySQL user for the write check.
    #[arg(long = "master_user", alias = "master-user", value_name = "USER")]
    pub master_user: Option<String>,
    /// `ping_type=INSERT`: the password (better: `HA_MASTER_PASSWORD` in the
    /// environment, which the manager sets; a command line is readable by every user).
    #[arg(
        long = "master_password",
        alias = "master-password",
        value_name = "PASSWORD"
    )]
    pub master_password: Option<String>,
    /// `INSERT`: when the port answers, also try a write from that host.
    #[arg(long = "ping_type", alias = "ping-type", value_name = "TYPE")]
    pub ping_type: Option<String>,
    /// Seconds for each SSH connect and each probe.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub conf: ConfArgs,
    #[command(flatten)]
    pub lag: LagArgs,
    /// No second automatic failover within this many minutes of the last one.
    #[arg(
        long = "last-failover-minute",
        alias = "last_failover_minute",
        default_value_t = 480
    )]
    pub last_failover_minute: u64,
    /// Remove the failover markers first (allows a failover inside the window or after an error).
    #[arg(long = "ignore-last-failover", alias = "ignore_last_failover")]
    pub ignore_last_failover: bool,
    /// After a successful failover, delete the dead master's block from the config file.
    #[arg(
        long = "remove-dead-master-conf",
        aliases = ["remove_dead_master_conf", "remove_orig_master_conf"]
    )]
    pub remove_dead_master_conf: bool,
    /// Exit after one failover (MHA's behaviour) instead of monitoring the new master.
    #[arg(long = "exit-after-failover", alias = "exit_after_failover")]
    pub exit_after_failover: bool,
    /// Monitor; when the master dies, print the failover plan and change nothing.
    #[arg(long = "dry-run", alias = "dry_run")]
    pub dry_run: bool,
    /// Start even though a server with ignore_fail=1 is down or not replicating
    /// (without it, start refuses, as MHA does).
    #[arg(long = "ignore-fail-on-start", alias = "ignore_fail_on_start")]
    pub ignore_fail_on_start: bool,
    #[command(flatten)]
    pub failover: FailoverArgs,
}

/// MHA's failover options, taken by `start` and `switch --master-state dead`.
#[derive(Debug, Clone, Default, Args)]
pub struct FailoverArgs {
    /// Give the slaves what they lack but do not point them at the new master
    /// (left stopped), and keep the new master's replication settings.
    #[arg(long = "skip-change-master", alias = "skip_change_master")]
    pub skip_change_master: bool,
    /// Leave the new master read-only (`read_only=1`) after the failover.
    #[arg(long = "skip-disable-read-only", alias = "skip_disable_read_only")]
    pub skip_disable_read_only: bool,
    /// When every binlog server fails to give the dead master's binlog tail,
    /// warn and go on (without it, the failover stops before any change).
    #[arg(
        long = "ignore-binlog-server-error",
        alias = "ignore_binlog_server_error"
    )]
    pub ignore_binlog_server_error: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub conf: ConfArgs,
    /// Print the state as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also connect to every server and show its role and state (master,
    /// standby master, slave, third tier, down; ignore_fail/no_master/candidate
    /// flags), as `mmm_control show` does; `--json` gets a `servers` array.
    #[arg(long)]
    pub servers: bool,
    /// Seconds after which a silent health file means the manager hangs.
    #[arg(long = "ping-limit", alias = "ping_limit", value_name = "SECONDS")]
    pub ping_limit: Option<u64>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    #[command(flatten)]
    pub conf: ConfArgs,
    /// Stop even during a failover (SIGKILL after the timeout).
    #[arg(long)]
    pub abort: bool,
    /// Seconds to wait for the manager to exit.
    #[arg(long = "abort-timeout", alias = "abort_timeout", default_value_t = 5)]
    pub abort_timeout: u64,
}

/// Which kind of switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MasterState {
    /// The master is dead: run the failover recovery by hand.
    Dead,
    /// The master is healthy: planned online switchover with a short write freeze.
    Alive,
}

#[derive(Debug, Args)]
pub struct SwitchArgs {
    #[command(flatten)]
    pub conf: ConfArgs,
    /// The state of the current master.
    #[arg(long = "master-state", alias = "master_state", value_enum)]
    pub master_state: MasterState,
    /// The dead master, as hostname, ip or block name; must be the master the slaves follow.
    #[arg(
        long = "dead-master-host",
        alias = "dead_master_host",
        value_name = "HOST"
    )]
    pub dead_master_host: Option<String>,
    /// The dead master's port (with --dead-master-host, when several servers share a host).
    #[arg(
        long = "dead-master-port",
        alias = "dead_master_port",
        value_name = "PORT"
    )]
    pub dead_master_port: Option<u16>,
    /// Promote this slave; refused with the reason if it is not eligible.
    #[arg(
        long = "new-master-host",
        alias = "new_master_host",
        value_name = "HOST"
    )]
    pub new_master_host: Option<String>,
    /// Show the plan and ask before acting (the default when a terminal is attached).
    #[arg(long)]
    pub manual: bool,
    /// `--master-state dead`: fail over although a previous failover did not
    /// finish (`<app>.failover.error` exists; it is removed).
    #[arg(long = "ignore-last-failover", alias = "ignore_last_failover")]
    pub ignore_last_failover: bool,
    /// Do not ask; act.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// MHA's spelling: --interactive=0 is --yes.
    #[arg(long, value_name = "0|1")]
    pub interactive: Option<u8>,
    /// Print the checks, the election and the plan; change nothing (MHA: --check_only).
    #[arg(long = "dry-run", aliases = ["dry_run", "check-only", "check_only"])]
    pub dry_run: bool,
    /// Do not try to copy the dead master's binlog (dead only).
    #[arg(long = "skip-save-master-binlog", alias = "skip_save_master_binlog")]
    pub skip_save_master_binlog: bool,
    #[command(flatten)]
    pub failover: FailoverArgs,
    /// alive: make the old master a slave of the new one (needs repl_password in the config).
    #[arg(long = "orig-master-is-new-slave", alias = "orig_master_is_new_slave")]
    pub orig_master_is_new_slave: bool,
    /// alive: refuse while a write on the master has run for this many seconds + 1.
    #[arg(
        long = "running-updates-limit",
        alias = "running_updates_limit",
        value_name = "SECONDS",
        default_value_t = 1
    )]
    pub running_updates_limit: u64,
    /// alive: refuse while a query on the new master has run for this many seconds.
    #[arg(
        long = "running-seconds-limit",
        alias = "running_seconds_limit",
        value_name = "SECONDS",
        default_value_t = 10
    )]
    pub running_seconds_limit: u64,
    #[command(flatten)]
    pub lag: LagArgs,
    /// alive: how long the new master may take to execute everything up to the
    /// frozen position; past it the switch is rolled back.
    #[arg(
        long = "catchup-timeout",
        alias = "catchup_timeout",
        value_name = "SECONDS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub catchup_timeout: u64,
    /// alive: after read_only=1, how long writes that read_only stops may finish
    /// before their connections are killed.
    #[arg(
        long = "kill-grace-ms",
        alias = "kill_grace_ms",
        value_name = "MS",
        default_value_t = 100
    )]
    pub kill_grace_ms: u64,
}

/// Options every command that reads a configuration takes.
#[derive(Debug, Args)]
pub struct ConfArgs {
    /// The application's config file (MHA INI, or TOML when it ends in .toml).
    #[arg(long, value_name = "FILE")]
    pub conf: PathBuf,
    /// Global defaults file; default /etc/masterha_default.cnf when it exists.
    #[arg(long = "global-conf", alias = "global_conf", value_name = "FILE")]
    pub global_conf: Option<PathBuf>,
    /// Show debug detail on standard error.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct CheckReplArgs {
    #[command(flatten)]
    pub conf: ConfArgs,
    #[command(flatten)]
    pub lag: LagArgs,
}

/// `--seconds-behind-master`, shared by `start`, `switch` and `check-repl`.
#[derive(Debug, Args)]
pub struct LagArgs {
    /// Largest acceptable replication lag of a slave, in seconds (`switch`: alive only).
    #[arg(
        long = "seconds-behind-master",
        alias = "seconds_behind_master",
        value_name = "SECONDS",
        default_value_t = 30
    )]
    pub seconds_behind_master: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mha_spellings_are_accepted() {
        let cli = Cli::try_parse_from([
            "ha-manager",
            "check_repl",
            "--conf=/etc/app1.cnf",
            "--global_conf=/etc/g.cnf",
            "--seconds_behind_master=5",
        ])
        .unwrap();
        match cli.command {
            Command::CheckRepl(a) => {
                assert_eq!(a.conf.conf, PathBuf::from("/etc/app1.cnf"));
                assert_eq!(a.conf.global_conf, Some(PathBuf::from("/etc/g.cnf")));
                assert_eq!(a.lag.seconds_behind_master, 5);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn online_switch_takes_mhas_spellings() {
        let cli = Cli::try_parse_from([
            "ha-manager",
            "switch",
            "--conf=/etc/app1.cnf",
            "--master_state=alive",
            "--orig_master_is_new_slave",
            "--running_updates_limit=2",
            "--new_master_host=db2",
            "--check_only",
            "--interactive=0",
        ])
        .unwrap();
        match cli.command {
            Command::Switch(a) => {
                assert_eq!(a.master_state, MasterState::Alive);
                assert!(a.orig_master_is_new_slave && a.dry_run);
                assert_eq!(a.running_updates_limit, 2);
                assert_eq!(a.running_seconds_limit, 10);
                assert_eq!(a.catchup_timeout, 10);
                assert_eq!(a.new_master_host.as_deref(), Some("db2"));
                assert_eq!(a.interactive, Some(0));
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from([
            "ha-manager",
            "switch",
            "--conf=x",
            "--master-state=alive",
            "--catchup-timeout=0",
        ])
        .is_err());
    }

    #[test]
    fn lag_flag_is_shared_by_start_switch_and_check_repl() {
        let lag = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Command::Start(a) => a.lag.seconds_behind_master,
            Command::Switch(a) => a.lag.seconds_behind_master,
            Command::CheckRepl(a) => a.lag.seconds_behind_master,
            other => panic!("parsed as {other:?}"),
        };
        assert_eq!(lag(&["ha-manager", "start", "--conf=x"]), 30);
        assert_eq!(lag(&["ha-manager", "check-repl", "--conf=x"]), 30);
        assert_eq!(
            lag(&["ha-manager", "switch", "--conf=x", "--master-state=alive"]),
            30
        );
        assert_eq!(
            lag(&[
                "ha-manager",
                "manager",
                "--conf=x",
                "--seconds_behind_master=7"
            ]),
            7
        );
        assert_eq!(
            lag(&[
                "ha-manager",
                "switch",
                "--conf=x",
                "--master-state=dead",
                "--seconds-behind-master=9"
            ]),
            9
        );
    }

    #[test]
    fn mhas_failover_options_on_start_and_switch() {
        let flags = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Command::Start(a) => a.failover,
            Command::Switch(a) => a.failover,
            other => panic!("parsed as {other:?}"),
        };
        let f = flags(&[
            "ha-manager",
            "manager",
            "--conf=x",
            "--skip_change_master",
            "--skip_disable_read_only",
            "--ignore_binlog_server_error",
        ]);
        assert!(f.skip_change_master && f.skip_disable_read_only && f.ignore_binlog_server_error);
        let f = flags(&[
            "ha-manager",
            "switch",
            "--conf=x",
            "--master-state=dead",
            "--skip-change-master",
        ]);
        assert!(f.skip_change_master && !f.skip_disable_read_only && !f.ignore_binlog_server_error);
    }

    #[test]
    fn conf_is_required() {
        assert!(Cli::try_parse_from(["ha-manager", "check-ssh"]).is_err());
    }
}
