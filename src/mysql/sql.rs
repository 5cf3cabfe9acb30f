//! The SQL catalogue: every statement the manager sends, spelled per dialect.
//!
//! No other module builds SQL. Values that come from configuration are sent
//! as bound parameters, never spliced into statement text.

use crate::topology::status::{Flavor, Version};

/// Global variables read for `ServerFacts`. Read with `SHOW GLOBAL VARIABLES`
/// so that a variable a server lacks (`super_read_only` on MariaDB) is simply
/// absent instead of an error.
pub const FACT_VARIABLES: &str = "SHOW GLOBAL VARIABLES WHERE Variable_name IN (\
'server_id','log_bin','log_slave_updates','log_replica_updates','read_only',\
'super_read_only','relay_log_purge','binlog_format','datadir','relay_log_basename',\
'relay_log','gtid_binlog_pos','gtid_slave_pos','gtid_current_pos','gtid_mode',\
'gtid_executed','gtid_strict_mode')";

pub const VERSION: &str = "SELECT VERSION()";

pub const PING: &str = "SELECT 1";

/// Does `user` (any host part) hold REPLICATION SLAVE? Bound parameter: the user name.
pub const REPL_PRIVILEGE: &str =
    "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Repl_slave_priv = 'Y'";

/// `SHOW SLAVE STATUS` or `SHOW REPLICA STATUS`.
pub fn show_replica_status(flavor: Flavor, version: Version) -> &'static str {
    match flavor {
        // MariaDB accepts both; the SLAVE spelling works on every 10.x/11.x.
        Flavor::MariaDb => "SHOW SLAVE STATUS",
        Flavor::MySql if version >= v(8, 0, 22) => "SHOW REPLICA STATUS",
        Flavor::MySql => "SHOW SLAVE STATUS",
    }
}

/// `SHOW MASTER STATUS`, or `SHOW BINARY LOG STATUS` where the former is gone (MySQL 8.2+).
pub fn show_binlog_status(flavor: Flavor, version: Version) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

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
