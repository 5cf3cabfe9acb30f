//! Shared recovery steps: wait for SQL threads, fetch logs over SSH, catch a
//! server up by GTID, apply a binlog on a host.

use std::time::{Duration, Instant};

use super::{Ctx, APPLY_WAIT};
use crate::binlog::LogFile;
use crate::config::ServerSpec;
use crate::mysql::{ChangeMaster, DbError, ReplicateFrom, WaitTarget};
use crate::topology::position::BinlogPos;
use crate::topology::status::{Flavor, GtidFacts, ServerFacts};
use crate::transport::node::{Node, NodeError, Tools};

pub fn node<'a>(ctx: &'a Ctx, spec: &'a ServerSpec) -> Node<'a> {
    Node {
        remote: ctx.remote.as_ref(),
        spec,
        timeout: ctx.config.settings.command_timeout,
        bindir: ctx.config.settings.client_bindir.as_deref(),
    }
}

/// Waits until the slave's SQL thread has applied everything its IO thread
/// received (exec = read), or has stopped moving for 2 s (the relay log ends
/// inside a transaction it cannot finish), bounded by `APPLY_WAIT`.
pub async fn wait_applied(ctx: &Ctx, spec: &ServerSpec) -> Result<ServerFacts, DbError> {
    let db = ctx
        .connector
        .connect(spec, ctx.config.settings.mysql_timeout)
        .await?;
    let started = Instant::now();
    let mut last: Option<(BinlogPos, Instant)> = None;
    let result = loop {
        let facts = match db.facts().await {
            Ok(f) => f,
            Err(e) => break Err(e),
        };
        let Some(r) = facts.replica.as_ref() else {
            break Ok(facts);
        };
        if r.exec == r.read || !r.sql_running {
            break Ok(facts);
        }
        let now = Instant::now();
        match &last {
            Some((pos, since))
                if *pos == r.exec && now.duration_since(*since) >= Duration::from_secs(2) =>
            {
                break Ok(facts)
            }
            Some((pos, _)) if *pos == r.exec => {}
            _ => last = Some((r.exec.clone(), now)),
        }
        if started.elapsed() > APPLY_WAIT {
            break Err(DbError::Protocol(format!(
                "SQL thread still applying after {}s (at {})",
                APPLY_WAIT.as_secs(),
                r.exec
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    db.close().await;
    result
}

/// The GTID position a server has applied, as a wait target for another server.
pub fn gtid_target(facts: &ServerFacts) -> Option<WaitTarget> {
    match &facts.gtid {
        GtidFacts::MariaDb { current_pos, .. } => Some(WaitTarget::MariaGtid(current_pos.clone())),
        GtidFacts::MySql {
            enabled: true,
            executed,
        } => Some(WaitTarget::MySqlGtid(executed.clone())),
        GtidFacts::MySql { .. } => None,
    }
}

/// How a replica should start from a new source in GTID mode.
pub fn gtid_from(flavor: Flavor) -> ReplicateFrom {
    match flavor {
        Flavor::MariaDb => ReplicateFrom::MariaSlavePos,
        Flavor::MySql => ReplicateFrom::MySqlAutoPosition,
    }
}

/// The replication credentials to write into CHANGE MASTER: the configured
/// ones, or none (the replica keeps its current user and password).
pub fn credentials(spec: &ServerSpec) -> Option<(String, crate::config::Secret)> {
    match (&spec.repl_user, &spec.repl_password) {
        (Some(user), Some(password)) => Some((user.clone(), password.clone())),
        _ => None,
    }
}

/// Makes `target` replicate from `source` until it has applied everything
/// `source` has, then stops it (GTID catch-up of a new master that is not the latest).
pub async fn catch_up_by_gtid(
    ctx: &Ctx,
    target: &ServerSpec,
    source: &ServerSpec,
    source_facts: &ServerFacts,
) -> Result<(), String> {
    let wait = gtid_target(source_facts).ok_or("the latest slave has no GTID position")?;
    let db = ctx
        .connector
        .connect(target, ctx.config.settings.mysql_timeout)
        .await
        .map_err(|e| e.to_string())?;
    let result = async {
        db.stop_replica().await?;
        db.change_master(&ChangeMaster {
            host: source.mysql_addr().to_owned(),
            port: source.port,
            credentials: credentials(target),
            from: gtid_from(source_facts.flavor),
        })
        .await?;
        db.start_replica().await?;
        let reached = db.wait_for(&wait, APPLY_WAIT).await?;
        db.stop_replica().await?;
        Ok::<bool, DbError>(reached)
    }
    .await;
    db.close().await;
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "did not reach {wait:?} within {}s",
            APPLY_WAIT.as_secs()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// The log files in `dir` named `<stem>.<digits>`, oldest first, from `first` on.
pub fn log_files_from(names: &[String], stem: &str, first_seq: u64) -> Vec<String> {
    let mut files: Vec<(u64, String)> = names
        .iter()
        .filter_map(|n| {
            let (s, seq) = n.rsplit_once('.')?;
            (s == stem && !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()))
                .then(|| Some((seq.parse::<u64>().ok()?, n.clone())))?
        })
        .filter(|(seq, _)| *seq >= first_seq)
        .collect();
    files.sort();
    files.into_iter().map(|(_, n)| n).collect()
}

/// Fetches every relay log of a slave, oldest first.
pub async fn fetch_relay_logs(
    ctx: &Ctx,
    spec: &ServerSpec,
    facts: &ServerFacts,
) -> Result<Vec<LogFile>, NodeError> {
    let node = node(ctx, spec);
    let current = facts
        .replica
        .as_ref()
        .map(|r| r.relay_log_file.clone())
        .unwrap_or_default();
    let current = current.rsplit('/').next().unwrap_or("").to_owned();
    let stem = current
        .rsplit_once('.')
        .map(|(s, _)| s.to_owned())
        .unwrap_or_default();
    let dir = facts.relay_log_dir.clone();
    let names = node.list(&dir).await?;
    let mut logs = Vec::new();
    for name in log_files_from(&names, &stem, 0) {
        let bytes = node.fetch(&format!("{dir}/{name}")).await?;
        logs.push(LogFile { name, bytes });
    }
    Ok(logs)
}

/// Applies binlog bytes on a host with its own tools.
pub async fn apply_on(
    ctx: &Ctx,
    spec: &ServerSpec,
    tools: &Tools,
    what: &str,
    bytes: Vec<u8>,
) -> Result<(), NodeError> {
    let name = format!("ha-manager-{}-{what}", ctx.config.app);
    node(ctx, spec).apply_binlog(&name, bytes, tools).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_files_are_ordered_numerically_and_filtered() {
        let names: Vec<String> = [
            "relay-bin.000010",
            "relay-bin.index",
            "relay-bin.000002",
            "mysql-bin.000003",
            "relay-bin.000009",
            "relay-bin.info",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            log_files_from(&names, "relay-bin", 0),
            ["relay-bin.000002", "relay-bin.000009", "relay-bin.000010"]
        );
        assert_eq!(
            log_files_from(&names, "relay-bin", 9),
            ["relay-bin.000009", "relay-bin.000010"]
        );
        assert_eq!(log_files_from(&names, "mysql-bin", 3), ["mysql-bin.000003"]);
    }
}
