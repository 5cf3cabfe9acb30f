//! `check-ssh`: log in to every host and check the tools and directories failover needs.
//!
//! No node-to-node SSH: data moves node → manager → node, so only the
//! manager's own path to each host is checked.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::Report;
use crate::config::{Config, ServerSpec};
use crate::mysql::Connector;
use crate::transport::node::Node;
use crate::transport::{describe, Remote};

/// Hosts checked at once (each is a handful of commands over one session).
const PARALLEL_HOSTS: usize = 8;

/// What was found on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostResult {
    pub server: String,
    pub ssh: String,
    /// Facts that passed, for the OK line.
    pub found: Vec<String>,
    /// Each failure, with what to do.
    pub failures: Vec<String>,
    pub skipped: bool,
}

pub(crate) async fn run(
    config: &Config,
    remote: Arc<dyn Remote>,
    connector: Arc<dyn Connector>,
) -> Report {
    let limit = Arc::new(Semaphore::new(PARALLEL_HOSTS));
    let mut tasks = JoinSet::new();
    for (index, spec) in config.servers.iter().cloned().enumerate() {
        let (remote, connector, limit) = (remote.clone(), connector.clone(), limit.clone());
        let settings = (
            (
                config.settings.client_bindir.clone(),
                config.settings.client_libdir.clone(),
            ),
            config.settings.command_timeout,
            config.settings.mysql_timeout,
        );
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let result = check_host(&spec, remote.as_ref(), connector.as_ref(), settings).await;
            (index, result)
        });
    }
    let mut results: Vec<(usize, HostResult)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(pair) = joined {
            results.push(pair);
        }
    }
    results.sort_by_key(|(i, _)| *i);
    render(results.into_iter().map(|(_, r)| r).collect())
}

/// The report: one line per host, then the verdict.
pub(crate) fn render(results: Vec<HostResult>) -> Report {
    let mut lines = Vec::new();
    let mut failed = Vec::new();
    for r in &results {
        if r.skipped {
            lines.push(format!(
                "[info] {} ({}): skipped (skip_init_ssh_check=1)",
                r.server, r.ssh
            ));
        } else if r.failures.is_empty() {
            lines.push(format!(
                "[info] {} ({}): OK: {}",
                r.server,
                r.ssh,
                r.found.join("; ")
            ));
        } else {
            for f in &r.failures {
                lines.push(format!("[error] {} ({}): FAILED: {}", r.server, r.ssh, f));
            }
            failed.push(r.server.clone());
        }
    }
    let ok = failed.is_empty();
    if ok {
        lines.push("All SSH connection tests passed successfully.".to_owned());
    } else {
        lines.push(format!(
            "SSH connection tests failed on {} host(s): {}",
            failed.len(),
            failed.join(", ")
        ));
    }
    Report { lines, ok }
}

async fn check_host(
    spec: &ServerSpec,
    remote: &dyn Remote,
    connector: &dyn Connector,
    ((bindir, libdir), timeout, mysql_timeout): (
        (Option<String>, Option<String>),
        Duration,
        Duration,
    ),
) -> HostResult {
    let mut result = HostResult {
        server: spec.label(),
        ssh: describe(&spec.ssh),
        found: Vec::new(),
        failures: Vec::new(),
        skipped: spec.skip_init_ssh_check,
    };
    if result.skipped {
        return result;
    }
    let run = |argv: Vec<String>| async move { remote.run(&spec.ssh, &argv, timeout).await };
    let node = Node {
        remote,
        spec,
        timeout,
        bindir: bindir.as_deref(),
        libdir: libdir.as_deref(),
    };

    // Login.
    match run(argv(&["true"])).await {
        Ok(out) if out.success() => result.found.push("login".into()),
        Ok(out) => {
            result.failures.push(format!(
                "login works but 'true' failed: {}",
                out.stderr_reason()
            ));
            return result;
        }
        Err(e) => {
            result.failures.push(format!(
                "{e} (check that sshd runs, the manager's key is authorized and the host key is in known_hosts)"
            ));
            return result;
        }
    }

    // Tools: prefer MariaDB's names, fall back to MySQL's.
    for (role, names) in [
        ("binlog tool", ["mariadb-binlog", "mysqlbinlog"]),
        ("client", ["mariadb", "mysql"]),
    ] {
        match node.find_tool(&names).await {
            Some((path, version)) => result.found.push(format!("{role} {path} ({version})")),
            None => result.failures.push(format!(
                "no {role} ({}) found{}; install the MySQL/MariaDB client tools or set client_bindir",
                names.join(" or "),
                bindir.as_deref().map(|d| format!(" in {d} or on PATH")).unwrap_or_default()
            )),
        }
    }

    // The binlog directory: at least one configured directory must be readable.
    let mut readable = Vec::new();
    for dir in &spec.master_binlog_dir {
        if node.readable_dir(dir).await {
            readable.push(dir.clone());
        }
    }
    if readable.is_empty() {
        result.failures.push(format!(
            "master_binlog_dir ({}) is not a readable directory; set master_binlog_dir to where this server writes its binlogs",
            spec.master_binlog_dir.join(",")
        ));
    } else {
        result
            .found
            .push(format!("binlog dir {} readable", readable.join(",")));
    }

    // The relay-log directory, as the server itself reports it.
    match relay_log_dir(spec, connector, mysql_timeout).await {
        Ok(dir) if node.readable_dir(&dir).await => result.found.push(format!("relay-log dir {dir} readable")),
        Ok(dir) => result.failures.push(format!(
            "relay-log dir {dir} (from the server) is not readable by {}; give the ssh user read access",
            spec.ssh.user.as_deref().unwrap_or("the ssh user")
        )),
        Err(e) => result
            .found
            .push(format!("relay-log dir not checked (cannot ask the server: {e})")),
    }

    // The remote workdir: created if missing, and really writable.
    let dir = &spec.remote_workdir;
    let writable = match run(argv(&["mkdir", "-p", dir])).await {
        Ok(out) if out.success() => {
            match run(argv(&["mktemp", "-p", dir, "ha-manager-check.XXXXXX"])).await {
                Ok(out) if out.success() => {
                    let file = out.stdout_text();
                    let _ = run(vec!["rm".into(), "-f".into(), file]).await;
                    Ok(())
                }
                Ok(out) => Err(out.stderr_reason()),
                Err(e) => Err(e.to_string()),
            }
        }
        Ok(out) => Err(out.stderr_reason()),
        Err(e) => Err(e.to_string()),
    };
    match writable {
        Ok(()) => result.found.push(format!("remote_workdir {dir} writable")),
        Err(reason) => result.failures.push(format!(
            "remote_workdir {dir} is not writable ({reason}); create it or set remote_workdir"
        )),
    }
    result
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

async fn relay_log_dir(
    spec: &ServerSpec,
    connector: &dyn Connector,
    timeout: Duration,
) -> Result<String, String> {
    let db = connector
        .connect(spec, timeout)
        .await
        .map_err(|e| e.to_string())?;
    let facts = db.facts().await.map_err(|e| e.to_string());
    db.close().await;
    Ok(facts?.relay_log_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, failures: &[&str], skipped: bool) -> HostResult {
        HostResult {
            server: name.into(),
            ssh: format!("root@{name}:22"),
            found: vec!["login".into()],
            failures: failures.iter().map(|f| f.to_string()).collect(),
            skipped,
        }
    }

    #[test]
    fn all_ok_ends_with_mha_sentence() {
        let r = render(vec![host("a", &[], false), host("b", &[], true)]);
        assert!(r.ok);
        assert_eq!(
            r.lines.last().unwrap(),
            "All SSH connection tests passed successfully."
        );
        assert!(r.lines[1].contains("skipped"));
    }

    #[test]
    fn every_failure_is_named() {
        let r = render(vec![
            host("a", &[], false),
            host(
                "b",
                &["no binlog tool", "remote_workdir not writable"],
                false,
            ),
        ]);
        assert!(!r.ok);
        assert_eq!(
            r.lines
                .iter()
                .filter(|l| l.contains("b (") && l.contains("FAILED"))
                .count(),
            2
        );
        assert_eq!(
            r.lines.last().unwrap(),
            "SSH connection tests failed on 1 host(s): b"
        );
    }
}
