//! The SQL catalogue: every statement the manager sends, spelled per dialect.
//!
//! No other module builds SQL. Values that come from configuration are sent
//! as bound parameters, never spliced into statement text.

use crate::config::ReplTls;
use crate::topology::position::BinlogPos;
use crate::topology::status::{Flavor, Version};

/// Global variables read for `ServerFacts`. Read with `SHOW GLOBAL VARIABLES`
/// so that a variable a server lacks (`super_read_only` on MariaDB) is simply
/// absent instead of an error.
pub(crate) const FACT_VARIABLES: &str = "SHOW GLOBAL VARIABLES WHERE Variable_name IN (\
'server_id','log_bin','log_slave_updates','log_replica_updates','read_only',\
'super_read_only','relay_log_purge','binlog_format','datadir','relay_log_basename',\
'relay_log','gtid_binlog_pos','gtid_binlog_state','gtid_slave_pos','gtid_current_pos','gtid_mode',\
'gtid_executed','gtid_strict_mode','slave_net_timeout','replica_net_timeout',\
'rpl_semi_sync_master_enabled','rpl_semi_sync_source_enabled','rpl_semi_sync_slave_enabled',\
'rpl_semi_sync_replica_enabled','rpl_semi_sync_master_timeout','rpl_semi_sync_source_timeout')";

/// The semi-sync status counters, both the MySQL 8.0.26+ names and the older
/// ones MariaDB keeps; a server without semi-sync answers no rows.
pub(crate) const SEMI_SYNC_STATUS: &str = "SHOW GLOBAL STATUS WHERE Variable_name IN (\
'Rpl_semi_sync_source_status','Rpl_semi_sync_master_status','Rpl_semi_sync_source_clients',\
'Rpl_semi_sync_master_clients','Rpl_semi_sync_source_yes_tx','Rpl_semi_sync_master_yes_tx',\
'Rpl_semi_sync_source_no_tx','Rpl_semi_sync_master_no_tx','Rpl_semi_sync_source_no_times',\
'Rpl_semi_sync_master_no_times','Rpl_semi_sync_replica_status','Rpl_semi_sync_slave_status')";

/// The replication connection's heartbeat period and count, as
/// (name, value) rows: MariaDB keeps them in global status (for the default
/// connection); MySQL in performance_schema, for the default channel.
/// Read best-effort: a server that refuses this query just does not say.
pub(crate) fn replica_heartbeats(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::MariaDb => {
            "SHOW GLOBAL STATUS WHERE Variable_name IN \
('Slave_heartbeat_period','Slave_received_heartbeats')"
        }
        Flavor::MySql => {
            "SELECT 'Slave_heartbeat_period', HEARTBEAT_INTERVAL \
FROM performance_schema.replication_connection_configuration WHERE CHANNEL_NAME = '' \
UNION ALL SELECT 'Slave_received_heartbeats', COUNT_RECEIVED_HEARTBEATS \
FROM performance_schema.replication_connection_status WHERE CHANNEL_NAME = ''"
        }
    }
}

pub(crate) const VERSION: &str = "SELECT VERSION()";

pub(crate) const PING: &str = "SELECT 1";

/// Does `user` (any host part) hold REPLICATION SLAVE? Bound parameter: the user name.
pub(crate) const REPL_PRIVILEGE: &str =
    "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Repl_slave_priv = 'Y'";

/// Our session must read `\\` as an escaped backslash for [`quote`] to hold.
pub(crate) const SESSION_SETUP: &str =
    "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')";

pub(crate) const PROCESSLIST: &str = "SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, INFO \
FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()";

/// Sessions with an open InnoDB transaction.
pub(crate) const TRANSACTION_THREADS: &str =
    "SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX";

/// Accounts that may write while `read_only=1`: SUPER (MySQL without
/// super_read_only, MariaDB before 11.0) and MariaDB's READ_ONLY ADMIN (10.5.2+).
/// ALL PRIVILEGES includes them.
pub(crate) const READ_ONLY_EXEMPT_GRANTEES: &str = "SELECT DISTINCT GRANTEE FROM \
information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN ('SUPER', 'READ_ONLY ADMIN', \
'READ ONLY ADMIN', 'CONNECTION_ADMIN')";

pub(crate) const FLUSH_TABLES_WITH_READ_LOCK: &str = "FLUSH TABLES WITH READ LOCK";

pub(crate) const UNLOCK_TABLES: &str = "UNLOCK TABLES";

/// The user name of an information_schema `GRANTEE` (`'app'@'10.0.%'` → `app`).
pub(crate) fn grantee_user(grantee: &str) -> Option<String> {
    let body = grantee.trim().strip_prefix('\'')?;
    let (user, _host) = body.rsplit_once("'@'")?;
    Some(user.replace("''", "'"))
}

/// MHA's `ping_type=INSERT` table, created on first use.
pub(crate) const PING_INSERT: [&str; 3] = [
    "CREATE DATABASE IF NOT EXISTS infra",
    "CREATE TABLE IF NOT EXISTS infra.chk_masterha (`key` TINYINT NOT NULL PRIMARY KEY, \
val INT UNSIGNED NOT NULL DEFAULT 0)",
    "INSERT INTO infra.chk_masterha VALUES (1, UNIX_TIMESTAMP()) \
ON DUPLICATE KEY UPDATE val = UNIX_TIMESTAMP()",
];

/// A string literal for statements that cannot take bound parameters
/// (`CHANGE MASTER`, `MASTER_GTID_WAIT` is fine bound but kept uniform).
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x1a' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Replication thread control, per dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplicaCmd {
    StopIo,
    Stop,
    Start,
    StartSql,
    ResetAll,
}

pub(crate) fn replica_cmd(flavor: Flavor, version: Version, cmd: ReplicaCmd) -> &'static str {
    let modern = flavor == Flavor::MySql && version >= v(8, 0, 22);
    match (cmd, modern) {
        (ReplicaCmd::StopIo, false) => "STOP SLAVE IO_THREAD",
        (ReplicaCmd::StopIo, true) => "STOP REPLICA IO_THREAD",
        (ReplicaCmd::Stop, false) => "STOP SLAVE",
        (ReplicaCmd::Stop, true) => "STOP REPLICA",
        (ReplicaCmd::Start, false) => "START SLAVE",
        (ReplicaCmd::Start, true) => "START REPLICA",
        (ReplicaCmd::StartSql, false) => "START SLAVE SQL_THREAD",
        (ReplicaCmd::StartSql, true) => "START REPLICA SQL_THREAD",
        (ReplicaCmd::ResetAll, false) => "RESET SLAVE ALL",
        (ReplicaCmd::ResetAll, true) => "RESET REPLICA ALL",
    }
}

/// Where a replica starts reading from its new source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplicateFrom {
    /// MariaDB `MASTER_USE_GTID=slave_pos`.
    MariaSlavePos,
    /// For a former master, whose own binlog (not `gtid_slave_pos`) says how
    /// far it is: MariaDB 10.10+ `MASTER_USE_GTID=slave_pos,
    /// MASTER_DEMOTE_TO_SLAVE=1` (it copies `gtid_binlog_pos` into
    /// `gtid_slave_pos`; `current_pos` is deprecated there), older
    /// `MASTER_USE_GTID=current_pos`.
    MariaCurrentPos,
    /// MySQL `MASTER_AUTO_POSITION=1`.
    MySqlAutoPosition,
    /// Binlog coordinates on the new source.
    Position(BinlogPos),
}

/// `CHANGE MASTER TO` / `CHANGE REPLICATION SOURCE TO`, with quoted literals.
///
/// `tls` (`repl_ssl=1`) adds `MASTER_SSL=1` and the TLS options given. Without
/// it no TLS option is written, and the replica keeps the ones it has: MySQL
/// ("options that you do not specify retain their value", CHANGE REPLICATION
/// SOURCE TO) and MariaDB (CHANGE MASTER TO: an option not given keeps its old
/// value) both keep every unspecified `*_SSL*` option; only the binlog and relay
/// log coordinates are reset by a new host or port. The lab test
/// `lab_tls::failover_keeps_replication_over_tls_with_a_require_ssl_account`
/// checks this on MariaDB 10.11 and MySQL 9.7.
pub(crate) fn change_master(
    flavor: Flavor,
    version: Version,
    host: &str,
    port: u16,
    credentials: Option<(&str, &str)>,
    tls: Option<&ReplTls>,
    from: &ReplicateFrom,
) -> String {
    let modern = flavor == Flavor::MySql && version >= v(8, 0, 23);
    let (head, key) = if modern {
        ("CHANGE REPLICATION SOURCE TO", "SOURCE")
    } else {
        ("CHANGE MASTER TO", "MASTER")
    };
    let mut sql = format!("{head} {key}_HOST={}, {key}_PORT={port}", quote(host));
    if let Some((user, password)) = credentials {
        sql.push_str(&format!(
            ", {key}_USER={}, {key}_PASSWORD={}",
            quote(user),
            quote(password)
        ));
    }
    sql.push_str(&format!(", {key}_CONNECT_RETRY=1"));
    // MySQL 8's default caching_sha2_password: without TLS the replica needs the
    // source's RSA public key to send the password (else "Authentication requires
    // secure connection" once the new source has no cached hash for the user).
    if flavor == Flavor::MySql && version >= v(8, 0, 0) {
        let word = if modern { "SOURCE" } else { "MASTER" };
        sql.push_str(&format!(", GET_{word}_PUBLIC_KEY=1"));
    }
    if let Some(tls) = tls {
        sql.push_str(&format!(", {key}_SSL=1"));
        for (option, path) in [("CA", &tls.ca), ("CERT", &tls.cert), ("KEY", &tls.key)] {
            if let Some(path) = path {
                sql.push_str(&format!(", {key}_SSL_{option}={}", quote(path)));
            }
        }
        if let Some(verify) = tls.verify_server_cert {
            sql.push_str(&format!(
                ", {key}_SSL_VERIFY_SERVER_CERT={}",
                u8::from(verify)
            ));
        }
    }
    let demote = flavor == Flavor::MariaDb && version >= v(10, 10, 0);
    match (from, flavor) {
        (ReplicateFrom::MariaSlavePos, _) => sql.push_str(", MASTER_USE_GTID=slave_pos"),
        (ReplicateFrom::MariaCurrentPos, _) if demote => {
            sql.push_str(", MASTER_USE_GTID=slave_pos, MASTER_DEMOTE_TO_SLAVE=1")
        }
        (ReplicateFrom::MariaCurrentPos, _) => sql.push_str(", MASTER_USE_GTID=current_pos"),
        (ReplicateFrom::MySqlAutoPosition, _) => sql.push_str(&format!(", {key}_AUTO_POSITION=1")),
        (ReplicateFrom::Position(pos), Flavor::MariaDb) => sql.push_str(&format!(
            ", MASTER_LOG_FILE={}, MASTER_LOG_POS={}, MASTER_USE_GTID=no",
            quote(&pos.file),
            pos.pos
        )),
        (ReplicateFrom::Position(pos), Flavor::MySql) => sql.push_str(&format!(
            ", {key}_LOG_FILE={}, {key}_LOG_POS={}, {key}_AUTO_POSITION=0",
            quote(&pos.file),
            pos.pos
        )),
    }
    sql
}

/// Waits for the SQL thread to reach a source position; bound: (file, pos, timeout seconds).
pub(crate) fn wait_for_pos(flavor: Flavor, version: Version) -> &'static str {
    if flavor == Flavor::MySql && version >= v(8, 0, 26) {
        "SELECT SOURCE_POS_WAIT(?, ?, ?)"
    } else {
        "SELECT MASTER_POS_WAIT(?, ?, ?)"
    }
}

/// MariaDB: waits until `gtid_slave_pos` reaches a position; bound: (pos, timeout seconds).
/// The global `max_allowed_packet` (raised for an apply, then put back).
pub(crate) const MAX_ALLOWED_PACKET: &str = "SELECT @@GLOBAL.max_allowed_packet";

pub(crate) const MARIA_GTID_WAIT: &str = "SELECT MASTER_GTID_WAIT(?, ?)";

/// MySQL: waits until a GTID set is executed; bound: (set, timeout seconds).
pub(crate) const MYSQL_GTID_WAIT: &str = "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)";

/// `SHOW SLAVE STATUS` or `SHOW REPLICA STATUS`.
pub(crate) fn show_replica_status(flavor: Flavor, version: Version) -> &'static str {
    match flavor {
        // MariaDB accepts both; the SLAVE spelling works on every 10.x/11.x.
        Flavor::MariaDb => "SHOW SLAVE STATUS",
        Flavor::MySql if version >= v(8, 0, 22) => "SHOW REPLICA STATUS",
        Flavor::MySql => "SHOW SLAVE STATUS",
    }
}

/// `SHOW MASTER STATUS`, or `SHOW BINARY LOG STATUS` where the former is gone (MySQL 8.2+).
pub(crate) fn show_binlog_status(flavor: Flavor, version: Version) -> &'static str {
    match flavor {
        Flavor::MySql if version >= v(8, 2, 0) => "SHOW BINARY LOG STATUS",
        _ => "SHOW MASTER STATUS",
    }
}

fn v(major: u32, minor: u32, patch: u32) -> Version {
    Version {
        major,
        minor,
        patch,
    }
}

/// `SET GLOBAL gtid_slave_pos = '0-1-100,1-2-5'` (MariaDB).
pub(crate) fn set_gtid_slave_pos(pos: &crate::topology::gtid::MariaGtidPos) -> String {
    format!("SET GLOBAL gtid_slave_pos = '{pos}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_everything_that_could_end_the_literal() {
        let cases = [
            ("repl", "'repl'"),
            ("it's", "'it\\'s'"),
            ("back\\slash", "'back\\\\slash'"),
            ("a\nb\0c\rd\x1a", "'a\\nb\\0c\\rd\\Z'"),
            ("x'; DROP TABLE t; --", "'x\\'; DROP TABLE t; --'"),
            ("pässwörd", "'pässwörd'"),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "{input:?}");
        }
    }

    #[test]
    fn change_master_per_dialect() {
        let pos = ReplicateFrom::Position(BinlogPos::new("mysql-bin.000003", 1234));
        let cases = [
            (
                Flavor::MariaDb,
                v(10, 11, 6),
                ReplicateFrom::MariaSlavePos,
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='p\\'w', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos",
            ),
            (
                Flavor::MariaDb,
                v(10, 11, 6),
                pos.clone(),
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='p\\'w', MASTER_CONNECT_RETRY=1, MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=1234, MASTER_USE_GTID=no",
            ),
            (
                Flavor::MySql,
                v(8, 4, 0),
                ReplicateFrom::MySqlAutoPosition,
                "CHANGE REPLICATION SOURCE TO SOURCE_HOST='h', SOURCE_PORT=3306, SOURCE_USER='repl', SOURCE_PASSWORD='p\\'w', SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_AUTO_POSITION=1",
            ),
            (
                Flavor::MySql,
                v(8, 0, 20),
                ReplicateFrom::MySqlAutoPosition,
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='p\\'w', MASTER_CONNECT_RETRY=1, GET_MASTER_PUBLIC_KEY=1, MASTER_AUTO_POSITION=1",
            ),
            (
                Flavor::MySql,
                v(5, 7, 44),
                pos,
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='p\\'w', MASTER_CONNECT_RETRY=1, MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=1234, MASTER_AUTO_POSITION=0",
            ),
        ];
        for (flavor, version, from, want) in cases {
            assert_eq!(
                change_master(
                    flavor,
                    version,
                    "h",
                    3306,
                    Some(("repl", "p'w")),
                    None,
                    &from
                ),
                want
            );
        }
    }

    #[test]
    fn change_master_without_credentials_keeps_the_current_ones() {
        let sql = change_master(
            Flavor::MariaDb,
            v(10, 11, 6),
            "h",
            3306,
            None,
            None,
            &ReplicateFrom::MariaSlavePos,
        );
        assert_eq!(sql, "CHANGE MASTER TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos");
    }

    #[test]
    fn change_master_with_repl_ssl_per_dialect() {
        let full = ReplTls {
            ca: Some("/etc/mysql/tls/ca.pem".into()),
            cert: Some("/etc/mysql/tls/db2.pem".into()),
            key: Some("/etc/mysql/tls/db2.key".into()),
            verify_server_cert: Some(true),
        };
        let ssl_only = ReplTls::default();
        let no_verify = ReplTls {
            ca: Some("/ca's.pem".into()),
            verify_server_cert: Some(false),
            ..ReplTls::default()
        };
        let pos = ReplicateFrom::Position(BinlogPos::new("mysql-bin.000003", 1234));
        let cases = [
            (
                Flavor::MariaDb,
                v(10, 11, 6),
                &full,
                ReplicateFrom::MariaSlavePos,
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_CONNECT_RETRY=1, MASTER_SSL=1, MASTER_SSL_CA='/etc/mysql/tls/ca.pem', MASTER_SSL_CERT='/etc/mysql/tls/db2.pem', MASTER_SSL_KEY='/etc/mysql/tls/db2.key', MASTER_SSL_VERIFY_SERVER_CERT=1, MASTER_USE_GTID=slave_pos",
            ),
            (
                Flavor::MariaDb,
                v(11, 8, 3),
                &ssl_only,
                pos.clone(),
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_CONNECT_RETRY=1, MASTER_SSL=1, MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=1234, MASTER_USE_GTID=no",
            ),
            (
                Flavor::MySql,
                v(8, 4, 0),
                &full,
                ReplicateFrom::MySqlAutoPosition,
                "CHANGE REPLICATION SOURCE TO SOURCE_HOST='h', SOURCE_PORT=3306, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_SSL=1, SOURCE_SSL_CA='/etc/mysql/tls/ca.pem', SOURCE_SSL_CERT='/etc/mysql/tls/db2.pem', SOURCE_SSL_KEY='/etc/mysql/tls/db2.key', SOURCE_SSL_VERIFY_SERVER_CERT=1, SOURCE_AUTO_POSITION=1",
            ),
            (
                Flavor::MySql,
                v(8, 0, 22),
                &no_verify,
                ReplicateFrom::MySqlAutoPosition,
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_CONNECT_RETRY=1, GET_MASTER_PUBLIC_KEY=1, MASTER_SSL=1, MASTER_SSL_CA='/ca\\'s.pem', MASTER_SSL_VERIFY_SERVER_CERT=0, MASTER_AUTO_POSITION=1",
            ),
            (
                Flavor::MySql,
                v(5, 7, 44),
                &ssl_only,
                pos,
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_CONNECT_RETRY=1, MASTER_SSL=1, MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=1234, MASTER_AUTO_POSITION=0",
            ),
        ];
        for (flavor, version, tls, from, want) in cases {
            assert_eq!(
                change_master(flavor, version, "h", 3306, None, Some(tls), &from),
                want,
                "{flavor:?} {version:?}"
            );
        }
        // Without repl_ssl: no TLS word at all (the replica keeps its own settings).
        for (flavor, version) in [(Flavor::MariaDb, v(10, 11, 6)), (Flavor::MySql, v(8, 4, 0))] {
            let sql = change_master(
                flavor,
                version,
                "h",
                3306,
                Some(("repl", "p")),
                None,
                &ReplicateFrom::MySqlAutoPosition,
            );
            assert!(!sql.contains("SSL"), "{sql}");
        }
    }

    #[test]
    fn grantee_user_names() {
        assert_eq!(grantee_user("'hauser'@'198.18.0.%'"), Some("hauser".into()));
        assert_eq!(grantee_user("'o''brien'@'%'"), Some("o'brien".into()));
        assert_eq!(grantee_user("'a@b'@'localhost'"), Some("a@b".into()));
        assert_eq!(grantee_user("PUBLIC"), None);
    }

    #[test]
    fn change_master_current_pos_for_a_former_master() {
        let former = |version| {
            change_master(
                Flavor::MariaDb,
                version,
                "h",
                3306,
                None,
                None,
                &ReplicateFrom::MariaCurrentPos,
            )
        };
        // current_pos is deprecated from 10.10: the demotion form there.
        for version in [v(10, 11, 6), v(11, 8, 9)] {
            let sql = former(version);
            assert!(
                sql.ends_with("MASTER_USE_GTID=slave_pos, MASTER_DEMOTE_TO_SLAVE=1"),
                "{sql}"
            );
        }
        let sql = former(v(10, 6, 20));
        assert!(sql.ends_with("MASTER_USE_GTID=current_pos"), "{sql}");
    }

    #[test]
    fn replica_commands_per_dialect() {
        assert_eq!(
            replica_cmd(Flavor::MariaDb, v(11, 4, 0), ReplicaCmd::StopIo),
            "STOP SLAVE IO_THREAD"
        );
        assert_eq!(
            replica_cmd(Flavor::MySql, v(8, 4, 0), ReplicaCmd::ResetAll),
            "RESET REPLICA ALL"
        );
        assert_eq!(
            replica_cmd(Flavor::MySql, v(8, 0, 21), ReplicaCmd::Start),
            "START SLAVE"
        );
        assert_eq!(
            wait_for_pos(Flavor::MySql, v(8, 4, 0)),
            "SELECT SOURCE_POS_WAIT(?, ?, ?)"
        );
        assert_eq!(
            wait_for_pos(Flavor::MariaDb, v(10, 11, 0)),
            "SELECT MASTER_POS_WAIT(?, ?, ?)"
        );
    }

    #[test]
    fn dialect_table() {
        let cases = [
            (
                Flavor::MariaDb,
                v(10, 11, 6),
                "SHOW SLAVE STATUS",
                "SHOW MASTER STATUS",
            ),
            (
                Flavor::MariaDb,
                v(11, 4, 2),
                "SHOW SLAVE STATUS",
                "SHOW MASTER STATUS",
            ),
            (
                Flavor::MySql,
                v(5, 7, 44),
                "SHOW SLAVE STATUS",
                "SHOW MASTER STATUS",
            ),
            (
                Flavor::MySql,
                v(8, 0, 21),
                "SHOW SLAVE STATUS",
                "SHOW MASTER STATUS",
            ),
            (
                Flavor::MySql,
                v(8, 0, 22),
                "SHOW REPLICA STATUS",
                "SHOW MASTER STATUS",
            ),
            (
                Flavor::MySql,
                v(8, 4, 0),
                "SHOW REPLICA STATUS",
                "SHOW BINARY LOG STATUS",
            ),
        ];
        for (flavor, version, replica, binlog) in cases {
            assert_eq!(
                show_replica_status(flavor, version),
                replica,
                "{flavor:?} {version:?}"
            );
            assert_eq!(
                show_binlog_status(flavor, version),
                binlog,
                "{flavor:?} {version:?}"
            );
        }
    }
}
