//! Replica status rows (captured MariaDB 10.11, documented MySQL 8.0/8.4) and version texts.

use super::*;
use crate::topology::fixture::{columns, columns_from_tsv, pos};

macro_rules! row {
    ($file:literal) => {
        columns_from_tsv(include_str!(concat!(
            "../../../tests/fixtures/replica_status/",
            $file
        )))
    };
}

fn parse(cols: &Columns) -> ReplicaStatus {
    ReplicaStatus::from_columns(cols).expect("row parses")
}

#[test]
fn version_table() {
    let cases = [
        (
            "10.11.6-MariaDB-0+deb12u1-log",
            (10, 11, 6),
            Flavor::MariaDb,
        ),
        (
            "10.11.19-MariaDB-0+deb12u1-log",
            (10, 11, 19),
            Flavor::MariaDb,
        ),
        ("5.5.5-10.11.6-MariaDB", (10, 11, 6), Flavor::MariaDb),
        ("5.5.5-10.6.16-MariaDB-log", (10, 6, 16), Flavor::MariaDb),
        ("11.4.2-MariaDB", (11, 4, 2), Flavor::MariaDb),
        ("8.4.0", (8, 4, 0), Flavor::MySql),
        ("8.0.36-28", (8, 0, 36), Flavor::MySql),
        ("8.0.36-0ubuntu0.22.04.1", (8, 0, 36), Flavor::MySql),
        ("5.7.44-log", (5, 7, 44), Flavor::MySql),
        // A bare 5.5.5 (an old MySQL) is not a MariaDB prefix.
        ("5.5.5", (5, 5, 5), Flavor::MySql),
        ("10.11", (10, 11, 0), Flavor::MySql),
        (" 8.4.2 \n", (8, 4, 2), Flavor::MySql),
    ];
    for (text, (major, minor, patch), flavor) in cases {
        assert_eq!(
            Version::parse(text),
            Ok(Version::new(major, minor, patch)),
            "{text}"
        );
        assert_eq!(Flavor::detect(text), flavor, "{text}");
    }
    for text in ["", "MariaDB", "10", "10.x.1", ".11.6", "99999999999.1.1"] {
        assert_eq!(
            Version::parse(text),
            Err(StatusError::Version(text.into())),
            "{text:?}"
        );
    }
}

#[test]
fn version_order_and_major() {
    let v = |t| Version::parse(t).expect("valid");
    assert!(v("10.6.16") < v("10.11.6"));
    assert!(v("8.0.40") < v("8.4.0"));
    assert_eq!(v("8.0.36").major_minor(), v("8.0.40").major_minor());
    assert_ne!(v("10.6.1").major_minor(), v("10.11.1").major_minor());
    assert_eq!(v("10.11.6-MariaDB").to_string(), "10.11.6");
}

#[test]
fn mariadb_file_position_row() {
    let r = parse(&row!("mariadb-10.11-filepos.tsv"));
    assert_eq!(r.master_host, "127.0.0.1");
    assert_eq!(r.master_port, 23301);
    assert_eq!(r.master_user, "repl");
    assert_eq!(r.master_server_id, Some(1));
    assert_eq!(r.read, pos("mysql-bin.000001:1148"));
    assert_eq!(r.exec, pos("mysql-bin.000001:1148"));
    assert_eq!(
        (r.relay_log_file.as_str(), r.relay_log_pos),
        ("relay-bin.000002", 1447)
    );
    assert_eq!(r.io, IoState::Yes);
    assert!(r.sql_running);
    assert_eq!(r.seconds_behind, Some(0));
    assert_eq!(r.filters.ignore_db, "skipme");
    assert_eq!(r.using_gtid, Some(MariaUsingGtid::No));
    assert_eq!(r.gtid_io_pos, Some(MariaGtidPos::default()));
    assert_eq!(r.auto_position, None);
    assert_eq!(r.executed_gtid_set, None);
    assert!(!r.uses_gtid());
}

#[test]
fn mariadb_gtid_rows() {
    for cols in [
        row!("mariadb-10.11-gtid.tsv"),
        row!("mariadb-10.11-all-slaves-gtid.tsv"),
    ] {
        let r = parse(&cols);
        assert_eq!(r.using_gtid, Some(MariaUsingGtid::SlavePos));
        assert!(r.uses_gtid());
        let io_pos = r.gtid_io_pos.expect("MariaDB has Gtid_IO_Pos");
        assert_eq!(io_pos.to_string(), "0-1-6,1-1-1");
        assert_eq!(r.read, pos("mysql-bin.000002:606"));
        assert_eq!(r.exec, pos("mysql-bin.000002:606"));
    }
}

#[test]
fn mariadb_broken_rows() {
    let sql = parse(&row!("mariadb-10.11-sql-error.tsv"));
    assert_eq!((sql.io, sql.sql_running), (IoState::Yes, false));
    assert_eq!(sql.seconds_behind, None);
    assert_eq!(sql.last_sql_errno, 1062);
    assert!(sql.last_sql_error.contains("Duplicate entry '10'"));
    assert!(sql.read > sql.exec);

    let io = parse(&row!("mariadb-10.11-io-connecting.tsv"));
    assert_eq!((io.io, io.sql_running), (IoState::Connecting, true));
    assert_eq!(io.seconds_behind, None);
    assert_eq!(io.last_io_errno, 1045);
    assert!(io.last_io_error.contains("Access denied"));

    let stopped = parse(&row!("mariadb-10.11-stopped.tsv"));
    assert_eq!((stopped.io, stopped.sql_running), (IoState::No, false));
}

#[test]
fn mysql_80_show_slave_status_row() {
    let r = parse(&row!("mysql-8.0-show-slave-status.tsv"));
    assert_eq!(
        (r.master_host.as_str(), r.master_port),
        ("198.18.0.11", 3306)
    );
    assert_eq!(r.master_server_id, Some(11));
    assert_eq!(r.read, pos("mysql-bin.000042:73112"));
    assert_eq!(r.exec, pos("mysql-bin.000041:98001"));
    assert_eq!(r.seconds_behind, Some(12));
    assert_eq!(r.filters.wild_do_table, "app.%");
    assert_eq!(r.auto_position, Some(true));
    assert_eq!(r.using_gtid, None);
    assert_eq!(r.gtid_io_pos, None);
    assert!(r.uses_gtid());
    let executed = r.executed_gtid_set.expect("MySQL has Executed_Gtid_Set");
    assert_eq!(
        executed.to_string(),
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-245,8f5a0c3e-2b1d-11ef-a001-0242c0a80002:1-7"
    );
    let retrieved = r.retrieved_gtid_set.expect("MySQL has Retrieved_Gtid_Set");
    assert_eq!(
        retrieved.to_string(),
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:101-250"
    );
}

#[test]
fn mysql_84_show_replica_status_row() {
    let r = parse(&row!("mysql-8.4-show-replica-status.tsv"));
    assert_eq!(
        (r.master_host.as_str(), r.master_port),
        ("db1.example.com", 3307)
    );
    assert_eq!(r.io, IoState::Connecting);
    assert!(r.sql_running);
    assert_eq!(r.seconds_behind, None);
    // Source_Server_Id 0: never connected, the id is unknown.
    assert_eq!(r.master_server_id, None);
    assert_eq!(r.last_io_errno, 2003);
    assert_eq!(r.read, pos("binlog.000003:157"));
    assert_eq!(r.retrieved_gtid_set, Some(GtidSet::default()));
    let executed = r.executed_gtid_set.expect("present");
    assert_eq!(
        executed.to_string(),
        "8f5a0c3e-2b1d-11ef-a001-0242c0a80002:1-7:9-12,8f5a0c3e-2b1d-11ef-a001-0242c0a80002:tag_a:1-3"
    );
}

/// The minimal row: only the required columns; everything else defaults.
fn minimal() -> Vec<(&'static str, Option<&'static str>)> {
    vec![
        ("Master_Host", Some("db1")),
        ("Master_Port", Some("3306")),
        ("Master_Log_File", Some("mysql-bin.000002")),
        ("Read_Master_Log_Pos", Some("400")),
        ("Relay_Master_Log_File", Some("mysql-bin.000002")),
        ("Exec_Master_Log_Pos", Some("300")),
        ("Slave_IO_Running", Some("Yes")),
        ("Slave_SQL_Running", Some("Yes")),
    ]
}

#[test]
fn minimal_row_defaults_optional_columns() {
    let r = parse(&columns(&minimal()));
    assert_eq!(r.master_user, "");
    assert_eq!(r.master_server_id, None);
    assert_eq!(r.seconds_behind, None);
    assert_eq!(r.relay_log_file, "");
    assert_eq!(r.filters, ReplFilters::default());
    assert_eq!((r.using_gtid, r.auto_position), (None, None));
    assert_eq!((r.last_io_errno, r.last_sql_errno), (0, 0));
    assert_eq!((r.ssl_allowed, r.ssl_verify_server_cert), (None, None));
}

/// `Master_SSL_Allowed`/`Source_SSL_Allowed` as the captured servers show them:
/// MariaDB 10.11 plain by default, MariaDB 11.8 TLS and verification by default,
/// MySQL 9.7 TLS by default without verification.
#[test]
fn replication_tls_columns() {
    let cases = [
        (row!("mariadb-10.11-gtid.tsv"), Some(false), Some(false)),
        (row!("mariadb-11.8-gtid.tsv"), Some(true), Some(true)),
        (
            row!("mysql-8.4-show-replica-status.tsv"),
            Some(false),
            Some(false),
        ),
        (row!("mysql-9.7-gtid.tsv"), Some(true), Some(false)),
    ];
    for (cols, allowed, verify) in cases {
        let r = parse(&cols);
        assert_eq!((r.ssl_allowed, r.ssl_verify_server_cert), (allowed, verify));
    }
    for (value, want) in [
        ("Yes", Some(true)),
        ("No", Some(false)),
        ("Ignored", Some(false)),
        ("what", None),
    ] {
        let mut cols = minimal();
        cols.push(("Source_SSL_Allowed", Some(value)));
        assert_eq!(parse(&columns(&cols)).ssl_allowed, want, "{value}");
    }
}

#[test]
fn every_missing_required_column_is_named() {
    let full = minimal();
    for (i, (name, _)) in full.iter().enumerate() {
        let mut cols = full.clone();
        cols.remove(i);
        let err = ReplicaStatus::from_columns(&columns(&cols)).expect_err(name);
        assert!(
            matches!(&err, StatusError::MissingColumn(c) if c.contains(name)),
            "{err}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn bad_values_are_named() {
    let cases = [
        ("Master_Port", Some("port"), "Master_Port"),
        ("Master_Port", Some("70000"), "Master_Port"),
        ("Master_Port", None, "Master_Port"),
        ("Read_Master_Log_Pos", Some("-1"), "Read_Master_Log_Pos"),
        ("Slave_IO_Running", Some("Maybe"), "Yes, No or Connecting"),
        ("Slave_SQL_Running", Some(""), "Yes or No"),
        (
            "Seconds_Behind_Master",
            Some("soon"),
            "Seconds_Behind_Master",
        ),
        ("Using_Gtid", Some("Sometimes"), "Slave_Pos"),
        ("Auto_Position", Some("2"), "0 or 1"),
        ("Gtid_IO_Pos", Some("0-1"), "Gtid_IO_Pos"),
        ("Executed_Gtid_Set", Some("nonsense:1"), "Executed_Gtid_Set"),
    ];
    for (column, value, msg) in cases {
        let mut cols: Vec<_> = minimal()
            .into_iter()
            .filter(|(n, _)| *n != column)
            .collect();
        cols.push((column, value));
        let err = ReplicaStatus::from_columns(&columns(&cols)).expect_err(column);
        assert!(err.to_string().contains(msg), "{column}={value:?}: {err}");
    }
}

#[test]
fn io_states_and_case() {
    for (text, want) in [
        ("Yes", IoState::Yes),
        ("yes", IoState::Yes),
        ("No", IoState::No),
        ("Connecting", IoState::Connecting),
        ("Preparing", IoState::Connecting),
    ] {
        let mut cols = minimal();
        cols[6] = ("SLAVE_IO_RUNNING", Some(text));
        assert_eq!(parse(&columns(&cols)).io, want, "{text}");
    }
}

#[test]
fn filters_differences() {
    let a = ReplFilters {
        ignore_db: "skipme".into(),
        ..ReplFilters::default()
    };
    assert_eq!(a.differences(&a), Vec::<String>::new());
    assert_eq!(
        a.differences(&ReplFilters::default()),
        vec!["Replicate_Ignore_DB='skipme' vs ''".to_string()]
    );
}

#[test]
fn no_panic_on_odd_rows() {
    let odd = [
        columns(&[]),
        columns(&[("Master_Host", None)]),
        columns(&[("", Some(""))]),
        columns_from_tsv("garbage\nMaster_Port\t\\"),
    ];
    for cols in odd {
        assert!(ReplicaStatus::from_columns(&cols).is_err());
    }
}

#[test]
fn a_multi_threaded_applier_killed_inside_a_transaction_reads_as_stopped() {
    let text = include_str!("../../../tests/fixtures/replica_status/mysql-9.7-gtid.tsv");
    let killed = |errno: &str| {
        let mut out = String::new();
        for line in text.lines() {
            let line = match line.split_once('\t') {
                Some(("Replica_SQL_Running", _)) => "Replica_SQL_Running\tNo".to_owned(),
                Some(("Last_SQL_Errno", _)) => format!("Last_SQL_Errno\t{errno}"),
                Some(("Last_SQL_Error", _)) => "Last_SQL_Error\t... The replica coordinator \
                     and worker threads are stopped, possibly leaving data in inconsistent state."
                    .to_owned(),
                _ => line.to_owned(),
            };
            out.push_str(&line);
            out.push('\n');
        }
        parse(&columns_from_tsv(&out))
    };
    // ER_MTA_INCONSISTENT_DATA: the stop (or KILL) of the coordinator itself.
    let r = killed("1756");
    assert!(!r.sql_running);
    assert_eq!((r.last_sql_errno, r.last_sql_error.as_str()), (0, ""));
    // Any other error stays an error.
    let r = killed("1062");
    assert_eq!(r.last_sql_errno, 1062);
    assert!(r.last_sql_error.contains("coordinator"));
}
