//! Turns what a server answered (version, variables, status rows) into typed `ServerFacts`.
//!
//! Pure: the rows come in as plain values so that this is tested with rows
//! captured from real servers.

use std::collections::HashMap;

use super::error::DbError;
use crate::topology::gtid::{GtidSet, MariaGtidPos};
use crate::topology::position::BinlogPos;
use crate::topology::status::{Columns, Flavor, GtidFacts, ReplicaStatus, ServerFacts, Version};

/// The answers `assemble_facts` works from.
pub struct RawFacts {
    pub version_text: String,
    /// Lower-case variable name → value, from `SHOW GLOBAL VARIABLES`.
    pub variables: HashMap<String, String>,
    /// First row of `SHOW MASTER STATUS`; `None` when binlog is off.
    pub binlog: Option<Columns>,
    /// First row of `SHOW SLAVE STATUS`; `None` when not a replica.
    pub replica: Option<Columns>,
}

/// Flavor and version from `SELECT VERSION()`.
pub fn flavor_and_version(text: &str) -> Result<(Flavor, Version), DbError> {
    let version = Version::parse(text)
        .map_err(|e| DbError::Protocol(format!("cannot parse server version '{text}': {e}")))?;
    Ok((Flavor::detect(text), version))
}

pub fn assemble_facts(raw: RawFacts) -> Result<ServerFacts, DbError> {
    let (flavor, version) = flavor_and_version(&raw.version_text)?;
    let vars = &raw.variables;
    let flag = |name: &str| vars.get(name).map(|v| is_on(v));
    let text = |name: &str| vars.get(name).cloned().unwrap_or_default();

    let server_id = text("server_id")
        .parse::<u32>()
        .map_err(|_| DbError::Protocol(format!("bad server_id '{}'", text("server_id"))))?;
    let binlog = raw.binlog.as_ref().and_then(|row| {
        let file = col(row, "File")?;
        let pos = col(row, "Position")?.parse().ok()?;
        Some(BinlogPos { file, pos })
    });
    let gtid = match flavor {
        Flavor::MariaDb => GtidFacts::MariaDb {
            binlog_pos: maria_pos(&text("gtid_binlog_pos"))?,
            slave_pos: maria_pos(&text("gtid_slave_pos"))?,
            current_pos: maria_pos(&text("gtid_current_pos"))?,
        },
        Flavor::MySql => GtidFacts::MySql {
            enabled: text("gtid_mode").eq_ignore_ascii_case("ON"),
            executed: GtidSet::parse(&text("gtid_executed"))
                .map_err(|e| DbError::Protocol(format!("bad gtid_executed: {e}")))?,
        },
    };
    let replica = raw
        .replica
        .as_ref()
        .map(ReplicaStatus::from_columns)
        .transpose()
        .map_err(|e| DbError::Protocol(format!("replica status: {e}")))?;
    let datadir = text("datadir");
    Ok(ServerFacts {
        flavor,
        version,
        version_text: raw.version_text.clone(),
        server_id,
        log_bin: flag("log_bin").unwrap_or(false),
        log_slave_updates: flag("log_slave_updates")
            .or_else(|| flag("log_replica_updates"))
            .unwrap_or(false),
        read_only: flag("read_only").unwrap_or(false),
        super_read_only: flag("super_read_only"),
        relay_log_purge: flag("relay_log_purge").unwrap_or(true),
        binlog_format: text("binlog_format"),
        binlog,
        binlog_do_db: raw
            .binlog
            .as_ref()
            .and_then(|r| col(r, "Binlog_Do_DB"))
            .unwrap_or_default(),
        binlog_ignore_db: raw
            .binlog
            .as_ref()
            .and_then(|r| col(r, "Binlog_Ignore_DB"))
            .unwrap_or_default(),
        gtid,
        relay_log_dir: relay_log_dir(vars, &datadir),
        datadir,
        replica,
    })
}

fn maria_pos(text: &str) -> Result<MariaGtidPos, DbError> {
    MariaGtidPos::parse(text)
        .map_err(|e| DbError::Protocol(format!("bad GTID position '{text}': {e}")))
}

fn col(row: &Columns, name: &str) -> Option<String> {
    row.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.clone())
}

fn is_on(value: &str) -> bool {
    matches!(
        value.to_ascii_uppercase().as_str(),
        "ON" | "1" | "YES" | "TRUE"
    )
}

/// The relay logs' directory: from `relay_log_basename` when the server has
/// it, else from `relay_log` when that is absolute, else the datadir.
fn relay_log_dir(vars: &HashMap<String, String>, datadir: &str) -> String {
    let from = |path: &str| {
        std::path::Path::new(path)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| !p.is_empty())
    };
    vars.get("relay_log_basename")
        .filter(|v| v.starts_with('/'))
        .and_then(|v| from(v))
        .or_else(|| {
            vars.get("relay_log")
                .filter(|v| v.starts_with('/'))
                .and_then(|v| from(v))
        })
        .unwrap_or_else(|| datadir.trim_end_matches('/').to_owned())
}
