//! Turns what a server answered (version, variables, status rows) into typed `ServerFacts`.
//!
//! Pure: the rows come in as plain values so that this is tested with rows
//! captured from real servers.

use std::collections::HashMap;
use std::time::Duration;

use super::error::DbError;
use crate::topology::gtid::{GtidSet, MariaGtidPos, MariaGtidState};
use crate::topology::position::BinlogPos;
use crate::topology::semisync::SemiSync;
use crate::topology::status::{
    Columns, Flavor, GtidFacts, ReplicaNet, ReplicaStatus, ServerFacts, Version,
};

/// The answers `assemble_facts` works from.
pub(crate) struct RawFacts {
    pub version_text: String,
    /// Lower-case variable name → value, from `SHOW GLOBAL VARIABLES`.
    pub variables: HashMap<String, String>,
    /// First row of `SHOW MASTER STATUS`; `None` when binlog is off.
    pub binlog: Option<Columns>,
    /// First row of `SHOW SLAVE STATUS`; `None` when not a replica.
    pub replica: Option<Columns>,
    /// Lower-case name → value of the heartbeat status (`sql::replica_heartbeats`);
    /// empty when the server did not say.
    pub heartbeats: HashMap<String, String>,
    /// Lower-case name → value of the semi-sync status (`sql::SEMI_SYNC_STATUS`);
    /// empty when the server did not say.
    pub semi_sync_status: HashMap<String, String>,
}

/// Flavor and version from `SELECT VERSION()`.
pub(crate) fn flavor_and_version(text: &str) -> Result<(Flavor, Version), DbError> {
    let version = Version::parse(text)
        .map_err(|e| DbError::Protocol(format!("cannot parse server version '{text}': {e}")))?;
    Ok((Flavor::detect(text), version))
}

pub(crate) fn assemble_facts(raw: RawFacts) -> Result<ServerFacts, DbError> {
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
            binlog_state: MariaGtidState::parse(&text("gtid_binlog_state")).map_err(|e| {
                DbError::Protocol(format!(
                    "bad gtid_binlog_state '{}': {e}",
                    text("gtid_binlog_state")
                ))
            })?,
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
        replica_net: replica_net(vars, &raw.heartbeats),
        semi_sync: SemiSync::from_maps(vars, &raw.semi_sync_status),
    })
}

/// `slave_net_timeout` and the heartbeat status; a value that does not parse
/// is left unknown (these only feed warnings and the monitor's freshness view).
fn replica_net(vars: &HashMap<String, String>, heartbeats: &HashMap<String, String>) -> ReplicaNet {
    let seconds = |text: &String| {
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9)
            .map(Duration::from_secs_f64)
    };
    ReplicaNet {
        net_timeout: vars
            .get("replica_net_timeout")
            .or_else(|| vars.get("slave_net_timeout"))
            .and_then(seconds),
        heartbeat_period: heartbeats.get("slave_heartbeat_period").and_then(seconds),
        received_heartbeats: heartbeats
            .get("slave_received_heartbeats")
            .and_then(|v| v.trim().parse().ok()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::fixture::columns_from_tsv;
    use crate::topology::status::IoState;

    fn fixture(name: &str) -> Columns {
        let path = format!(
            "{}/tests/fixtures/replica_status/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        columns_from_tsv(&std::fs::read_to_string(path).unwrap())
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn mariadb_slave_vars() -> HashMap<String, String> {
        vars(&[
            ("server_id", "2"),
            ("log_bin", "ON"),
            ("log_slave_updates", "ON"),
            ("read_only", "ON"),
            ("relay_log_purge", "OFF"),
            ("binlog_format", "ROW"),
            ("datadir", "/var/lib/mysql/"),
            ("relay_log_basename", "/var/lib/mysql/relay-bin"),
            ("gtid_binlog_pos", "0-1-15"),
            ("gtid_slave_pos", "0-1-15"),
            ("gtid_current_pos", "0-1-15"),
            ("slave_net_timeout", "60"),
        ])
    }

    #[test]
    fn mariadb_gtid_slave_assembles() {
        let facts = assemble_facts(RawFacts {
            version_text: "10.11.19-MariaDB-0+deb12u1-log".into(),
            variables: mariadb_slave_vars(),
            binlog: Some(vec![
                ("File".into(), Some("mysql-bin.000002".into())),
                ("Position".into(), Some("1234".into())),
                ("Binlog_Do_DB".into(), Some(String::new())),
                ("Binlog_Ignore_DB".into(), Some(String::new())),
            ]),
            replica: Some(fixture("mariadb-10.11-gtid.tsv")),
            heartbeats: vars(&[
                ("slave_heartbeat_period", "30.000"),
                ("slave_received_heartbeats", "17"),
            ]),
            semi_sync_status: HashMap::new(),
        })
        .unwrap();
        assert_eq!(facts.flavor, Flavor::MariaDb);
        assert_eq!((facts.version.major, facts.version.minor), (10, 11));
        assert_eq!(facts.server_id, 2);
        assert!(
            facts.log_bin && facts.log_slave_updates && facts.read_only && !facts.relay_log_purge
        );
        assert_eq!(
            facts.super_read_only, None,
            "MariaDB has no super_read_only"
        );
        assert_eq!(facts.binlog, Some(BinlogPos::new("mysql-bin.000002", 1234)));
        assert_eq!(facts.relay_log_dir, "/var/lib/mysql");
        match &facts.gtid {
            GtidFacts::MariaDb { slave_pos, .. } => assert_eq!(slave_pos.to_string(), "0-1-15"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            facts.replica_net,
            ReplicaNet {
                net_timeout: Some(Duration::from_secs(60)),
                heartbeat_period: Some(Duration::from_secs(30)),
                received_heartbeats: Some(17),
            }
        );
        let replica = facts.replica.expect("a replica");
        assert_eq!(replica.io, IoState::Yes);
        assert!(replica.uses_gtid());
    }

    #[test]
    fn mysql_84_master_assembles() {
        let facts = assemble_facts(RawFacts {
            version_text: "8.4.0".into(),
            variables: vars(&[
                ("server_id", "1"),
                ("log_bin", "1"),
                ("log_replica_updates", "ON"),
                ("read_only", "OFF"),
                ("super_read_only", "OFF"),
                ("relay_log_purge", "ON"),
                ("datadir", "/var/lib/mysql/"),
                ("gtid_mode", "ON"),
                ("gtid_executed", "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5"),
                ("slave_net_timeout", "60"),
                ("replica_net_timeout", "4"),
            ]),
            binlog: None,
            replica: None,
            heartbeats: HashMap::new(),
            semi_sync_status: HashMap::new(),
        })
        .unwrap();
        assert_eq!(facts.flavor, Flavor::MySql);
        assert!(
            facts.log_slave_updates,
            "log_replica_updates is the 8.x name"
        );
        assert_eq!(facts.super_read_only, Some(false));
        assert!(facts.replica.is_none() && facts.binlog.is_none());
        assert_eq!(
            facts.replica_net,
            ReplicaNet {
                net_timeout: Some(Duration::from_secs(4)),
                ..ReplicaNet::default()
            },
            "replica_net_timeout is the 8.0.26+ name; heartbeats unknown when not said"
        );
        assert_eq!(
            facts.relay_log_dir, "/var/lib/mysql",
            "falls back to the datadir"
        );
        match &facts.gtid {
            GtidFacts::MySql { enabled, executed } => {
                assert!(enabled);
                assert_eq!(executed.count(), 5);
            }
            other => panic!("{other:?}"),
        }
    }

    /// A real MySQL 9.7.4 replica of the lab (`up.sh --server mysql-8.4`):
    /// `SHOW REPLICA STATUS` and the variables it answers. These are the facts
    /// a dead-master failover decides its replication mode from.
    #[test]
    fn mysql_97_replica_from_the_real_server_assembles() {
        let facts = assemble_facts(RawFacts {
            version_text: "9.7.4-2".into(),
            variables: vars(&[
                ("server_id", "2"),
                ("log_bin", "ON"),
                ("log_replica_updates", "ON"),
                ("read_only", "ON"),
                ("super_read_only", "OFF"),
                ("relay_log_purge", "OFF"),
                ("binlog_format", "ROW"),
                ("datadir", "/var/lib/mysql/"),
                ("relay_log_basename", "/var/lib/mysql/relay-bin"),
                ("gtid_mode", "ON"),
                ("gtid_executed", "2ccfc25b-ed86-11f1-9865-ee1355b1710e:1-8"),
            ]),
            binlog: None,
            replica: Some(fixture("mysql-9.7-gtid.tsv")),
            heartbeats: HashMap::new(),
            semi_sync_status: HashMap::new(),
        })
        .unwrap();
        assert_eq!(facts.flavor, Flavor::MySql);
        assert_eq!((facts.version.major, facts.version.minor), (9, 7));
        assert!(facts.gtid_enabled());
        let replica = facts.replica.expect("a replica");
        assert_eq!(replica.master_host, "198.18.0.11");
        assert_eq!(replica.master_server_id, Some(1));
        assert_eq!(replica.io, IoState::Yes);
        assert!(replica.sql_running);
        assert_eq!(replica.auto_position, Some(true));
        assert_eq!(replica.read, BinlogPos::new("mysql-bin.000001", 2290));
        assert_eq!(replica.exec, BinlogPos::new("mysql-bin.000001", 2290));
        assert_eq!(replica.seconds_behind, Some(0));
        let executed = replica.executed_gtid_set.expect("Executed_Gtid_Set");
        assert_eq!(executed.count(), 8);
        assert_eq!(
            executed.to_string(),
            "2ccfc25b-ed86-11f1-9865-ee1355b1710e:1-8"
        );
    }

    /// The same replica after tagged transactions (MySQL 8.3+): its sets hold
    /// the tagged GTIDs as their own `uuid:tag` members.
    #[test]
    fn mysql_97_replica_with_tagged_gtids_assembles() {
        let replica = crate::topology::status::ReplicaStatus::from_columns(&fixture(
            "mysql-9.7-gtid-tagged.tsv",
        ))
        .expect("parses");
        let executed = replica.executed_gtid_set.expect("Executed_Gtid_Set");
        assert_eq!(executed.count(), 11);
        assert!(executed.contains_gtid("2ccfc25b-ed86-11f1-9865-ee1355b1710e:ha_tag", 1));
        assert!(executed.contains_gtid("2ccfc25b-ed86-11f1-9865-ee1355b1710e:batch_2", 1));
    }

    #[test]
    fn bad_answers_are_errors_not_panics() {
        let cases: Vec<(&str, HashMap<String, String>)> = vec![
            ("not a version", mariadb_slave_vars()),
            ("10.11.19-MariaDB", vars(&[("server_id", "x")])),
            ("10.11.19-MariaDB", {
                let mut v = mariadb_slave_vars();
                v.insert("gtid_slave_pos".into(), "garbage".into());
                v
            }),
        ];
        for (version, variables) in cases {
            let result = assemble_facts(RawFacts {
                version_text: version.into(),
                variables,
                binlog: None,
                replica: None,
                heartbeats: HashMap::new(),
                semi_sync_status: HashMap::new(),
            });
            assert!(result.is_err(), "{version}");
        }
    }
}
