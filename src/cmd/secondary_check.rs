//! `secondary-check`: MHA's `masterha_secondary_check`, same arguments, same exit codes.
//!
//! For each `-s` host in turn, over SSH: does a TCP connect from there to
//! `--master_host:--master_port` succeed? Exit codes, as MHA's script:
//! 0 the master answered from none of them (all were reached), 3 it answered
//! from one (we stop there), 2 a secondary host could not be reached or could
//! not run the probe (we stop there), 1 any other error (bad arguments).
//! `ping_type=INSERT` also tries a write from the host where the port
//! answered; a failed write counts as "not reachable from there", as in MHA.
//!
//! Unlike MHA's script: host keys are checked (`StrictHostKeyChecking=yes`
//! unless `--options` says otherwise), the remote command is built from
//! validated, quoted words, and the password goes over SSH's standard input
//! as a client option file, never on a command line.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::cli::SecondaryCheckArgs;
use crate::config::words;
use crate::exit::Exit;

/// MHA's exit codes.
const MASTER_DOWN: u8 = 0;
const ERROR: u8 = 1;
const HOST_UNREACHABLE: u8 = 2;
const MASTER_REACHABLE: u8 = 3;

/// The remote probe's own exit codes: 0 no connect, 3 connected, 1 cannot probe.
const PROBE_CONNECTED: i32 = 3;

/// What one secondary host said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostSays {
    /// Reached it; from there the master's port does not answer.
    MasterUnreachable,
    /// Reached it; from there the master's port answers.
    MasterReachable,
    /// Could not reach it (ssh failed) or it could not run the probe.
    HostUnreachable(String),
}

/// What the remote probe's exit code (`None`: killed or timed out) means.
pub(crate) fn host_says(code: Option<i32>, stderr: &str) -> HostSays {
    match code {
        Some(0) => HostSays::MasterUnreachable,
        Some(PROBE_CONNECTED) => HostSays::MasterReachable,
        Some(255) => HostSays::HostUnreachable(format!("ssh failed: {}", stderr.trim())),
        Some(c) => HostSays::HostUnreachable(format!(
            "the probe could not run there (exit code {c}{})",
            if stderr.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", stderr.trim())
            }
        )),
        None => HostSays::HostUnreachable("no answer in time".into()),
    }
}

/// Whether the loop over the hosts goes on, or ends with an exit code.
pub(crate) fn next(says: &HostSays) -> Option<u8> {
    match says {
        HostSays::MasterUnreachable => None,
        HostSays::MasterReachable => Some(MASTER_REACHABLE),
        HostSays::HostUnreachable(_) => Some(HOST_UNREACHABLE),
    }
}

/// A hostname or IP that is safe as one word anywhere in a remote shell line.
fn plain_host(host: &str) -> bool {
    !host.is_empty()
        && !host.starts_with('-')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
}

/// The remote shell line that connects to `host:port` within `timeout`
/// seconds: exit 3 when it connects, 0 when it does not, 1 when it cannot try.
pub(crate) fn probe_line(host: &str, port: u16, timeout: u64) -> Result<String, String> {
    if !plain_host(host) {
        return Err(format!(
            "--master_host={host:?} is not a hostname or IP address (letters, digits, '.', '-', \
             '_', ':' only)"
        ));
    }
    let connect = words::quote(&format!("exec 3<>/dev/tcp/{host}/{port}"));
    Ok(format!(
        "command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1 || \
         {{ echo 'bash and timeout are needed on this host' >&2; exit 1; }}; \
         if timeout {timeout} bash -c {connect} 2>/dev/null; then exit 3; fi; exit 0"
    ))
}

/// MHA's write check, run from a host where the port answered.
const INSERT_SQL: &str = "CREATE DATABASE IF NOT EXISTS infra; \
     CREATE TABLE IF NOT EXISTS infra.chk_masterha (`key` tinyint NOT NULL primary key, \
     `val` int(10) unsigned NOT NULL DEFAULT '0'); \
     INSERT INTO infra.chk_masterha values (1,unix_timestamp()) ON DUPLICATE KEY UPDATE \
     val=unix_timestamp()";

/// The remote shell line for the write check: the client reads user and
/// password from standard input (an option file), so neither is in argv.
pub(crate) fn insert_line(host: &str, port: u16, timeout: u64) -> Result<String, String> {
    if !plain_host(host) {
        return Err(format!(
            "--master_host={host:?} is not a hostname or IP address"
        ));
    }
    Ok(format!(
        "c=$(command -v mariadb || command -v mysql) || exit 1; \
         exec \"$c\" --defaults-extra-file=/dev/stdin --connect-timeout={timeout} -h {host} -P {port} \
         -e {}",
        words::quote(INSERT_SQL)
    ))
}

/// `[client]` option file with `user` and `password`, values double-quoted.
pub(crate) fn client_option_file(user: &str, password: &str) -> String {
    let q = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "[client]\nuser=\"{}\"\npassword=\"{}\"\n",
        q(user),
        q(password)
    )
}

/// `ssh` argv for one host: the user's options first (ssh keeps the first
/// value of an option, so theirs win), then ours.
pub(crate) fn ssh_argv(
    args: &SecondaryCheckArgs,
    host: &str,
    line: &str,
) -> Result<Vec<String>, String> {
    let mut argv = Vec::new();
    if let Some(options) = &args.options {
        argv.extend(
            words::split(options).map_err(|e| format!("--options: expected {}", e.expected()))?,
        );
    }
    for o in [
        "BatchMode=yes".to_owned(),
        "StrictHostKeyChecking=yes".to_owned(),
        "PasswordAuthentication=no".to_owned(),
        format!("ConnectTimeout={}", args.timeout),
    ] {
        argv.push("-o".into());
        argv.push(o);
    }
    argv.extend([
        "-p".into(),
        args.port.to_string(),
        "-l".into(),
        args.user.clone(),
        "--".into(),
        host.to_owned(),
        line.to_owned(),
    ]);
    Ok(argv)
}

/// Runs `ssh argv` with `stdin`, bounded by `limit`: exit code (`None` on
/// time-out or signal) and standard error.
async fn ssh(argv: &[String], stdin: Option<String>, limit: Duration) -> (Option<i32>, String) {
    let mut cmd = Command::new("ssh");
    cmd.args(argv)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (Some(255), format!("cannot run ssh: {e}")),
    };
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A failed write shows as the client's own error.
        let _ = pipe.write_all(text.as_bytes()).await;
        drop(pipe);
    }
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(out)) => (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
        Ok(Err(e)) => (None, e.to_string()),
        Err(_) => (None, format!("no answer within {}s", limit.as_secs())),
    }
}

pub(crate) async fn run(args: &SecondaryCheckArgs) -> Exit {
    let Some(master) = args.master_host.as_deref() else {
        eprintln!("secondary-check: --master_host is required");
        return Exit::Code(ERROR);
    };
    let probe = match probe_line(master, args.master_port, args.timeout) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("secondary-check: {e}");
            return Exit::Code(ERROR);
        }
    };
    let insert = args
        .ping_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("INSERT"));
    // ssh's own connect, then the probe's bounded connect, plus slack.
    let limit = Duration::from_secs(2 * args.timeout + 5);
    if args.secondary_host.is_empty() {
        eprintln!(
            "secondary-check: no -s host given: nothing to check from (MHA's script exits 0)"
        );
    }
    for host in &args.secondary_host {
        let argv = match ssh_argv(args, host, &probe) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("secondary-check: {e}");
                return Exit::Code(ERROR);
            }
        };
        let (code, stderr) = ssh(&argv, None, limit).await;
        let says = host_says(code, &stderr);
        if says == HostSays::MasterReachable && insert && !writable(args, host, master).await {
            println!(
                "Monitoring server {host} is reachable, Master is not writable from {host}. OK."
            );
            continue;
        }
        match &says {
            HostSays::MasterUnreachable => println!(
                "Monitoring server {host} is reachable, Master is not reachable from {host}. OK."
            ),
            HostSays::MasterReachable => println!("Master is reachable from {host}!"),
            HostSays::HostUnreachable(why) => {
                println!("Monitoring server {host} is NOT reachable!");
                eprintln!("secondary-check: {host}: {why}");
            }
        }
        if let Some(code) = next(&says) {
            return Exit::Code(code);
        }
    }
    Exit::Code(MASTER_DOWN)
}

/// `ping_type=INSERT`: does MHA's write succeed from `host` within 3 s (MHA's bound)?
async fn writable(args: &SecondaryCheckArgs, host: &str, master: &str) -> bool {
    let password = args
        .master_password
        .clone()
        .or_else(|| std::env::var("HA_MASTER_PASSWORD").ok())
        .unwrap_or_default();
    let user = args.master_user.clone().unwrap_or_else(|| "root".into());
    let Ok(line) = insert_line(master, args.master_port, args.timeout) else {
        return false;
    };
    let Ok(argv) = ssh_argv(args, host, &line) else {
        return false;
    };
    let (code, _) = ssh(
        &argv,
        Some(client_option_file(&user, &password)),
        Duration::from_secs(3),
    )
    .await;
    code == Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(words: &[&str]) -> SecondaryCheckArgs {
        let mut argv = vec!["ha-manager", "masterha_secondary_check"];
        argv.extend(words);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::SecondaryCheck(a) => a,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn takes_mhas_arguments_and_what_the_manager_appends() {
        let a = parse(&[
            "-s",
            "db2",
            "-s",
            "db3",
            "--user=admin",
            "--options=-i /k -o UserKnownHostsFile=/kh",
            "--master_host=db1",
            "--master_ip=198.18.0.11",
            "--master_port=3307",
            "--master_user=hauser",
            "--ping_type=SELECT",
        ]);
        assert_eq!(a.secondary_host, ["db2", "db3"]);
        assert_eq!(a.user, "admin");
        assert_eq!(a.master_host.as_deref(), Some("db1"));
        assert_eq!(a.master_port, 3307);
        assert_eq!(a.timeout, 5);
        let d = parse(&["--master_host=db1"]);
        assert_eq!((d.user.as_str(), d.port, d.master_port), ("root", 22, 3306));
    }

    #[test]
    fn exit_codes_follow_mhas_script() {
        let cases = [
            (Some(0), HostSays::MasterUnreachable, None),
            (Some(3), HostSays::MasterReachable, Some(3)),
        ];
        for (code, says, exit) in cases {
            assert_eq!(host_says(code, ""), says);
            assert_eq!(next(&says), exit);
        }
        for code in [Some(255), Some(1), Some(127), None] {
            let says = host_says(code, "Connection timed out");
            assert!(matches!(says, HostSays::HostUnreachable(_)), "{code:?}");
            assert_eq!(next(&says), Some(2));
        }
    }

    #[test]
    fn the_remote_line_quotes_its_words_and_refuses_odd_hosts() {
        let l = probe_line("198.18.0.11", 3306, 5).unwrap();
        assert!(
            l.contains("timeout 5 bash -c 'exec 3<>/dev/tcp/198.18.0.11/3306'"),
            "{l}"
        );
        for bad in ["db1;reboot", "$(id)", "", "-oProxyCommand=x", "a b", "db'1"] {
            assert!(probe_line(bad, 3306, 5).is_err(), "{bad}");
            assert!(insert_line(bad, 3306, 5).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_options_come_first_and_host_keys_are_checked() {
        let a = parse(&["-s", "db2", "--options=-i /k", "--master_host=db1"]);
        let argv = ssh_argv(&a, "db2", "true").unwrap();
        assert_eq!(&argv[..2], ["-i", "/k"]);
        assert!(argv.contains(&"StrictHostKeyChecking=yes".to_owned()));
        assert_eq!(&argv[argv.len() - 3..], ["--", "db2", "true"]);
    }

    #[test]
    fn the_password_goes_in_an_option_file_never_in_argv() {
        let f = client_option_file("u", r#"p"w\x"#);
        assert_eq!(f, "[client]\nuser=\"u\"\npassword=\"p\\\"w\\\\x\"\n");
        let l = insert_line("db1", 3306, 5).unwrap();
        assert!(l.contains("--defaults-extra-file=/dev/stdin"), "{l}");
        assert!(!l.contains("password"), "{l}");
    }
}
