//! Discovery and check-repl validation, one case per rule.

use super::*;
use crate::topology::fixture::*;
use crate::topology::snapshot::Node;
use crate::topology::status::MariaUsingGtid;

const AT: &str = "mysql-bin.000010:1000";

/// A healthy caught-up slave `n` of server 1.
fn s(n: usize) -> Node {
    slave(n, 1, AT)
}

fn label(n: usize) -> String {
    spec(n).label()
}

/// Expected problem: (server numbers whose labels form `host`, severity, fragment of `what`).
type Want<'a> = (&'a [usize], Severity, &'a str);

fn assert_problems(case: &str, got: &[Problem], want: &[Want<'_>]) {
    let shown = || got.iter().map(|p| format!("\n  {p}")).collect::<String>();
    assert_eq!(got.len(), want.len(), "{case}: got{}", shown());
    for (hosts, severity, fragment) in want {
        let host = hosts
            .iter()
            .map(|&n| label(n))
            .collect::<Vec<_>>()
            .join(", ");
        let found = got
            .iter()
            .any(|p| p.host == host && p.severity == *severity && p.what.contains(fragment));
        assert!(
            found,
            "{case}: no {severity} for {host} with {fragment:?}; got{}",
            shown()
        );
    }
    for p in got {
        assert!(!p.fix.is_empty(), "{case}: no fix in {p}");
    }
}

fn run(nodes: Vec<Node>, rules: Rules) -> (Discovery, Vec<Problem>) {
    check(&topology(nodes), &rules)
}

/// `repl_ssl=1` with a CA.
fn repl_ssl(x: &mut crate::config::ServerSpec) {
    x.repl_tls = Some(crate::config::ReplTls {
        ca: Some("/etc/mysql/tls/ca.pem".into()),
        ..Default::default()
    });
}

/// `repl_ssl=1`, `repl_ssl_verify_server_cert=1`.
fn repl_ssl_verify(x: &mut crate::config::ServerSpec) {
    x.repl_tls = Some(crate::config::ReplTls {
        verify_server_cert: Some(true),
        ..Default::default()
    });
}

#[test]
fn the_repl_ssl_warning_gives_the_statement_with_the_configured_options() {
    let (_, problems) = run(
        vec![
            master(1),
            s(2).with_spec(repl_ssl)
                .with_replica(|r| r.ssl_allowed = Some(false)),
        ],
        Rules::default(),
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].fix.contains(
            "STOP SLAVE; CHANGE MASTER TO MASTER_SSL=1, MASTER_SSL_CA='/etc/mysql/tls/ca.pem'; \
             START SLAVE"
        ),
        "{}",
        problems[0]
    );
    assert!(is_healthy(&problems), "a warning, not an error");
}

#[test]
fn healthy_topology_has_no_problems() {
    let (disc, problems) = run(vec![master(1), s(2), s(3)], Rules::default());
    assert_eq!(disc.master, Some(id(0)));
    assert_eq!(disc.slaves, ids(&[1, 2]));
    assert_problems("healthy", &problems, &[]);
    assert!(is_healthy(&problems));
}

#[test]
fn validation_table() {
    use Severity::{Error as E, Warning as W};
    let multi = Rules {
        multi_tier_slave: true,
        ..Rules::default()
    };
    let no_filter_check = Rules {
        check_repl_filter: false,
        ..Rules::default()
    };
    let d = Rules::default();
    let from_slave = format!("replicates from {}, not from the master", label(2));
    let filters = format!(
        "replication filters differ from {}: Replicate_Ignore_DB='skipme' vs ''",
        label(2)
    );
    let cases: Vec<(&str, Vec<Node>, Rules, Vec<Want<'_>>)> = vec![
        ("unreachable slave", vec![master(1), s(2), down(3, "Connection refused (111)")], d,
            vec![(&[3], E, "cannot connect: Connection refused (111)")]),
        ("unreachable ignore_fail slave", vec![master(1), s(2), down(3, "timeout").with_spec(|x| x.ignore_fail = true)], d,
            vec![(&[3], W, "cannot connect: timeout")]),
        ("slave of a slave", vec![master(1), s(2), slave(3, 2, "mysql-bin.000003:100")], d,
            vec![(&[3], E, &from_slave)]),
        ("slave of a slave, multi-tier: unmanaged and not health-checked",
            vec![master(1), s(2), slave(3, 2, "mysql-bin.000003:100").with_replica(|r| r.sql_running = false)], multi,
            vec![(&[3], W, "unmanaged")]),
        ("slave of an unknown host", vec![master(1), s(2), s(3).with_replica(|r| { r.master_host = "10.9.9.9".into(); r.master_server_id = Some(99) })], d,
            vec![(&[3], E, "10.9.9.9:3306, which is neither the master")]),
        ("slave through an alias of the master", vec![master(1), s(2).with_replica(|r| r.master_host = "db-vip".into())], d,
            vec![(&[2], E, "has the master's server_id")]),
        ("master address answered by another server", vec![master(1), s(2).with_replica(|r| r.master_server_id = Some(7))], d,
            vec![(&[2], E, "Master_Server_Id is 7 while the master's server_id is 1")]),
        ("another port of the master's host", vec![master(1), s(2).with_replica(|r| { r.master_port = 3307; r.master_server_id = Some(7) })], d,
            vec![(&[2], E, "198.18.0.11:3307, which is neither")]),
        ("another port but the master's server_id", vec![master(1), s(2).with_replica(|r| r.master_port = 3307)], d,
            vec![(&[2], E, "198.18.0.11:3307, which has the master's server_id")]),
        ("IO thread connecting with an error", vec![master(1), s(2).with_replica(|r| { r.io = IoState::Connecting; r.seconds_behind = None; r.last_io_errno = 1045; r.last_io_error = "Access denied for user 'repl'".into() })], d,
            vec![(&[2], E, "IO thread is still connecting (not receiving events); last error 1045: Access denied for user 'repl'")]),
        ("SQL thread stopped with an error", vec![master(1), s(2).with_replica(|r| { r.sql_running = false; r.seconds_behind = None; r.last_sql_errno = 1062; r.last_sql_error = "Duplicate entry '10'".into() })], d,
            vec![(&[2], E, "SQL thread is stopped; last error 1062: Duplicate entry '10'")]),
        ("both threads stopped", vec![master(1), s(2).with_replica(|r| { r.io = IoState::No; r.sql_running = false; r.seconds_behind = None })], d,
            vec![(&[2], E, "IO thread is stopped"), (&[2], W, "SQL thread is stopped (no error)")]),
        ("SQL thread stopped by a backup job: monitored with a warning", vec![master(1), s(2).with_replica(|r| { r.sql_running = false; r.seconds_behind = None })], d,
            vec![(&[2], W, "SQL thread is stopped (no error); a failover starts it")]),
        ("lag over the limit", vec![master(1), s(2).with_replica(|r| r.seconds_behind = Some(31)), s(3).with_replica(|r| r.seconds_behind = Some(30))], d,
            vec![(&[2], E, "31 s behind the master (limit 30 s)")]),
        ("lag NULL while running", vec![master(1), s(2).with_replica(|r| r.seconds_behind = None)], d,
            vec![(&[2], E, "lag is unknown")]),
        ("duplicate server_id", vec![master(1), s(2), s(3).with_facts(|f| f.server_id = 2)], d,
            vec![(&[2, 3], E, "server_id 2 is used by 2 servers")]),
        ("replication filters differ", vec![master(1), s(2), s(3).with_replica(|r| r.filters.ignore_db = "skipme".into())], d,
            vec![(&[3], E, &filters)]),
        ("replication filters differ, check off", vec![master(1), s(2), s(3).with_replica(|r| r.filters.ignore_db = "skipme".into())], no_filter_check,
            vec![]),
        ("binlog filters differ", vec![master(1), s(2).with_facts(|f| f.binlog_ignore_db = "tmp".into())], d,
            vec![(&[2], E, "Binlog_Ignore_DB='tmp' vs ''")]),
        ("master binlog_do_db differs from slaves' replicate_do_db",
            vec![master(1).with_facts(|f| f.binlog_do_db = "app".into()), s(2).with_facts(|f| f.binlog_do_db = "app".into()).with_replica(|r| r.filters.do_db = "other".into())], d,
            vec![(&[2], E, "Replicate_Do_DB='other' differs from the master's Binlog_Do_DB='app'")]),
        ("master binlog_ignore_db equal to replicate_ignore_db", vec![master(1).with_facts(|f| f.binlog_ignore_db = "tmp".into()), s(2).with_facts(|f| f.binlog_ignore_db = "tmp".into()).with_replica(|r| r.filters.ignore_db = "tmp".into())], d,
            vec![]),
        ("binlog filters on a binlog-less slave do not count", vec![master(1), s(2), s(3).with_facts(|f| { f.log_bin = false; f.binlog_do_db = "x".into() }).with_spec(|x| x.no_master = true)], d,
            vec![]),
        ("read_only off on a slave", vec![master(1), s(2).with_facts(|f| f.read_only = false)], d,
            vec![(&[2], W, "read_only is OFF on a slave")]),
        ("read_only on on the master", vec![master(1).with_facts(|f| f.read_only = true), s(2)], d,
            vec![(&[1], W, "read_only is ON on the master")]),
        ("relay_log_purge on in file/position mode", vec![master(1), s(2).with_facts(|f| f.relay_log_purge = true)], d,
            vec![(&[2], W, "relay_log_purge is ON")]),
        ("relay_log_purge on in GTID mode is fine", vec![master(1), s(2).with_facts(|f| f.relay_log_purge = true).with_replica(|r| r.using_gtid = Some(MariaUsingGtid::SlavePos))], d,
            vec![]),
        ("log_bin off on a candidate", vec![master(1), s(2), s(3).with_facts(|f| f.log_bin = false)], d,
            vec![(&[3], W, "cannot become master")]),
        ("log_bin off on a no_master slave is fine", vec![master(1), s(2), s(3).with_facts(|f| f.log_bin = false).with_spec(|x| x.no_master = true)], d,
            vec![]),
        ("log_slave_updates off", vec![master(1), s(2).with_facts(|f| f.log_slave_updates = false)], d,
            vec![(&[2], W, "log_slave_updates is OFF")]),
        ("missing REPLICATION SLAVE on a promotable slave", vec![master(1), s(2).with_grant(Some(false)), s(3).with_grant(Some(true)), s(4).with_grant(None)], d,
            vec![(&[2], E, "the replication user 'repl' lacks REPLICATION SLAVE")]),
        ("missing grant on a no_master slave is fine", vec![master(1), s(2), s(3).with_grant(Some(false)).with_spec(|x| x.no_master = true)], d,
            vec![]),
        ("configured repl_user is named", vec![master(1), s(2).with_grant(Some(false)).with_spec(|x| x.repl_user = Some("mha_repl".into()))], d,
            vec![(&[2], E, "'mha_repl' lacks")]),
        ("repl_ssl=1 but the link is plain", vec![master(1), s(2).with_spec(repl_ssl).with_replica(|r| r.ssl_allowed = Some(false)), s(3).with_spec(repl_ssl).with_replica(|r| r.ssl_allowed = Some(true))], d,
            vec![(&[2], W, "replicates from its master without TLS (Master_SSL_Allowed: No)")]),
        ("repl_ssl_verify_server_cert=1 but the slave does not verify", vec![master(1), s(2).with_spec(repl_ssl_verify).with_replica(|r| { r.ssl_allowed = Some(true); r.ssl_verify_server_cert = Some(false) })], d,
            vec![(&[2], W, "does not verify its master's certificate")]),
        ("repl_ssl=1, TLS and verification on: fine", vec![master(1), s(2).with_spec(repl_ssl_verify).with_replica(|r| { r.ssl_allowed = Some(true); r.ssl_verify_server_cert = Some(true) })], d,
            vec![]),
        ("a plain link without repl_ssl is fine", vec![master(1), s(2).with_replica(|r| r.ssl_allowed = Some(false))], d,
            vec![]),
        ("repl_ssl=1 on a server that does not say (no column)", vec![master(1), s(2).with_spec(repl_ssl_verify)], d,
            vec![]),
        ("no promotable slave", vec![master(1), s(2).with_spec(|x| x.no_master = true), s(3).with_spec(|x| x.no_master = true)], d,
            vec![(&[1], E, "no slave can become master")]),
        ("only slave is binlog-less", vec![master(1), s(2).with_facts(|f| f.log_bin = false)], d,
            vec![(&[2], W, "cannot become master"), (&[1], E, "no slave can become master")]),
        ("no slaves at all", vec![master(1)], d,
            vec![(&[1], E, "no reachable slave")]),
        ("only slave unreachable", vec![master(1), down(2, "timeout")], d,
            vec![(&[2], E, "cannot connect"), (&[1], E, "no reachable slave")]),
    ];
    for (case, nodes, rules, want) in cases {
        let (_, problems) = run(nodes, rules);
        assert_problems(case, &problems, &want);
    }
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let (_, problems) = run(
        vec![
            master(1),
            s(2).with_facts(|f| {
                f.read_only = false;
                f.relay_log_purge = true;
            }),
            s(3).with_replica(|r| {
                r.sql_running = false;
                r.seconds_behind = None;
            })
            .with_facts(|f| f.server_id = 2),
            down(4, "timeout"),
        ],
        Rules::default(),
    );
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    // db3's SQL thread stopped without an error is a warning (a backup job).
    assert_eq!((errors, warnings), (2, 3), "{problems:#?}");
    assert!(!is_healthy(&problems));
}

/// (case, nodes, master index, slave indices, problems)
type DiscoveryCase<'a> = (&'a str, Vec<Node>, Option<usize>, Vec<usize>, Vec<Want<'a>>);

#[test]
fn discovery_table() {
    use Severity::Error as E;
    let dual = |a_writable: bool, b_writable: bool| {
        vec![
            master(1).with_facts(|f| {
                f.replica = Some(replica_status(2, AT, AT));
                f.read_only = !a_writable;
            }),
            s(2).with_facts(|f| f.read_only = !b_writable),
            s(3),
        ]
    };
    let two_roots = format!("{} (1 replicas), {} (0 replicas)", label(1), label(3));
    let dead = format!(
        "every reachable server replicates from {}, which is unreachable",
        label(1)
    );
    let cases: Vec<DiscoveryCase<'_>> = vec![
        (
            "plain",
            vec![s(2), master(1), s(3)],
            Some(1),
            vec![0, 2],
            vec![],
        ),
        (
            "dual master, first writable",
            dual(true, false),
            Some(0),
            vec![1, 2],
            vec![],
        ),
        (
            "dual master, second writable",
            dual(false, true),
            Some(1),
            vec![0, 2],
            vec![],
        ),
        (
            "dual master, both writable",
            dual(true, true),
            None,
            vec![0, 1, 2],
            vec![(&[1, 2], E, "more than one writable master")],
        ),
        (
            "dual master, both read-only",
            dual(false, false),
            None,
            vec![0, 1, 2],
            vec![(&[1, 2], E, "every master is read_only")],
        ),
        (
            "two non-slaves",
            vec![master(1), s(2), master(3)],
            None,
            vec![1],
            vec![(&[1, 3], E, &two_roots)],
        ),
        (
            "master down",
            vec![down(1, "timeout"), s(2), s(3)],
            None,
            vec![1, 2],
            vec![(&[2, 3], E, &dead)],
        ),
        (
            "master outside the configuration",
            vec![
                slave(2, 9, AT),
                s(3).with_replica(|r| r.master_host = ip(2)),
            ],
            None,
            vec![0, 1],
            vec![(&[2, 3], E, "no master found")],
        ),
        (
            "nothing reachable",
            vec![down(1, "x"), down(2, "y")],
            None,
            vec![],
            vec![(&[1, 2], E, "no configured server could be reached")],
        ),
    ];
    for (case, nodes, want_master, want_slaves, want) in cases {
        let disc = discover(&topology(nodes));
        assert_eq!(disc.master, want_master.map(id), "{case}");
        assert_eq!(disc.slaves, ids(&want_slaves), "{case}");
        assert_problems(case, &disc.problems, &want);
    }
}

#[test]
fn replication_mode_table() {
    use ReplMode::{FilePos, Gtid};
    let maria_gtid = |n| s(n).with_replica(|r| r.using_gtid = Some(MariaUsingGtid::CurrentPos));
    let my = |n: usize| s(n).mysql("8.4.0");
    let cases: Vec<(&str, Vec<Node>, ReplMode)> = vec![
        (
            "MariaDB file/position",
            vec![master(1), s(2), s(3)],
            FilePos,
        ),
        (
            "MariaDB GTID everywhere",
            vec![master(1), maria_gtid(2), maria_gtid(3)],
            Gtid,
        ),
        (
            "MariaDB mixed",
            vec![master(1), maria_gtid(2), s(3)],
            FilePos,
        ),
        ("no slaves", vec![master(1)], FilePos),
        ("no master", vec![down(1, "x"), maria_gtid(2)], FilePos),
        (
            "MySQL auto-position",
            vec![master(1).mysql("8.4.0"), my(2), my(3)],
            Gtid,
        ),
        (
            "MySQL gtid_mode off on the master",
            vec![
                master(1).mysql("8.4.0").with_facts(|f| {
                    f.gtid = crate::topology::status::GtidFacts::MySql {
                        enabled: false,
                        executed: Default::default(),
                    }
                }),
                my(2),
            ],
            FilePos,
        ),
        (
            "MySQL without auto-position, use_gtid_auto_pos=1",
            vec![
                master(1).mysql("8.0.36"),
                my(2).with_replica(|r| r.auto_position = Some(false)),
            ],
            Gtid,
        ),
        (
            "MySQL without auto-position, use_gtid_auto_pos=0",
            vec![
                master(1).mysql("8.0.36"),
                my(2)
                    .with_replica(|r| r.auto_position = Some(false))
                    .with_spec(|x| x.use_gtid_auto_pos = false),
            ],
            FilePos,
        ),
        // A slave of a slave does not decide the mode.
        (
            "MariaDB GTID with a file/position third tier",
            vec![master(1), maria_gtid(2), slave(3, 2, AT)],
            Gtid,
        ),
    ];
    for (case, nodes, want) in cases {
        let topo = topology(nodes);
        assert_eq!(replication_mode(&topo, &discover(&topo)), want, "{case}");
    }
}

/// A dead-master failover: the master has no facts, the discovery is the
/// failover's own (master named, the alive slaves listed). With two MySQL
/// slaves on gtid_mode=ON and auto-position the answer must be GTID (it was
/// file/position, issue 12); one slave without GTID still makes it
/// file/position; MariaDB still decides from `Using_Gtid`.
#[test]
fn replication_mode_with_a_dead_master() {
    use ReplMode::{FilePos, Gtid};
    let my = |n: usize| s(n).mysql("9.7.4");
    let maria_gtid = |n| s(n).with_replica(|r| r.using_gtid = Some(MariaUsingGtid::SlavePos));
    let no_gtid = |n: usize| {
        my(n).with_facts(|f| {
            f.gtid = crate::topology::status::GtidFacts::MySql {
                enabled: false,
                executed: Default::default(),
            }
        })
    };
    let cases: Vec<(&str, Vec<Node>, ReplMode)> = vec![
        (
            "MySQL, two auto-position slaves",
            vec![down(1, "refused"), my(2), my(3)],
            Gtid,
        ),
        (
            "MySQL, one slave with gtid_mode OFF",
            vec![down(1, "refused"), my(2), no_gtid(3)],
            FilePos,
        ),
        (
            "MySQL, a slave without auto-position, use_gtid_auto_pos=0",
            vec![
                down(1, "refused"),
                my(2),
                my(3)
                    .with_replica(|r| r.auto_position = Some(false))
                    .with_spec(|x| x.use_gtid_auto_pos = false),
            ],
            FilePos,
        ),
        (
            "MariaDB, two GTID slaves",
            vec![down(1, "refused"), maria_gtid(2), maria_gtid(3)],
            Gtid,
        ),
        (
            "MariaDB, file/position slaves",
            vec![down(1, "refused"), s(2), s(3)],
            FilePos,
        ),
    ];
    for (case, nodes, want) in cases {
        let topo = topology(nodes);
        let disc = Discovery {
            master: Some(id(0)),
            slaves: ids(&[1, 2]),
            problems: Vec::new(),
        };
        assert_eq!(replication_mode(&topo, &disc), want, "{case}");
    }
}

#[test]
fn rules_and_display() {
    assert_eq!(Rules::default().seconds_behind_master, 30);
    let p = Problem::warning("h(h:1)", "read_only is OFF", "SET GLOBAL read_only=ON");
    assert_eq!(
        p.to_string(),
        "[warning] h(h:1): read_only is OFF. Fix: SET GLOBAL read_only=ON"
    );
    assert!(!p.is_error());
    assert_eq!(ReplMode::FilePos.to_string(), "binlog file/position");
    assert!(is_promotable(&topology(vec![master(1), s(2)]), id(1)));
    assert!(!is_promotable(&topology(vec![master(1), s(2)]), id(0)));
}

/// (case, nodes, rules, the master named (server number), problems).
type StartCase<'a> = (&'a str, Vec<Node>, Rules, Option<usize>, Vec<Want<'a>>);

/// `start`'s checks: a master already dead at start, and `--ignore-fail-on-start`
/// (MHA's `validate_num_alive_servers`).
#[test]
fn start_up_table() {
    use Severity::{Error as E, Warning as W};
    let start = |flag: bool| Rules {
        master_may_be_dead: true,
        ignore_fail_on_start: Some(flag),
        ..Rules::default()
    };
    let check_repl = Rules {
        ignore_fail_on_start: Some(false),
        ..Rules::default()
    };
    // A slave whose master vanished: IO thread reconnecting with error 2003.
    let orphan = |n: usize| {
        s(n).with_replica(|r| {
            r.io = IoState::Connecting;
            r.seconds_behind = None;
            r.last_io_errno = 2003;
            r.last_io_error = "Can't connect to server on '198.18.0.11'".into();
        })
    };
    let ignored = |node: Node| node.with_spec(|x| x.ignore_fail = true);
    let sql_stopped = |node: Node| node.with_replica(|r| r.sql_running = false);
    // A failed slave: its SQL thread stopped on an error (a stop without one
    // is a backup job's, and only a warning).
    let sql_failed = |node: Node| {
        node.with_replica(|r| {
            r.sql_running = false;
            r.last_sql_errno = 1146;
            r.last_sql_error = "Table 't' doesn't exist".into();
        })
    };
    let cases: Vec<StartCase<'_>> = vec![
        (
            "master dead at start: named, its slaves' IO threads tolerated",
            vec![down(1, "refused"), orphan(2), orphan(3)],
            start(false),
            Some(1),
            vec![],
        ),
        (
            "master dead, check-repl refuses",
            vec![down(1, "refused"), orphan(2), orphan(3)],
            check_repl,
            None,
            vec![
                (&[2, 3], E, "every reachable server replicates from"),
                (&[1], E, "cannot connect"),
                (&[2], E, "IO thread is still connecting"),
                (&[3], E, "IO thread is still connecting"),
            ],
        ),
        (
            "master dead, a slave's SQL thread stopped (no error) is a warning: the failover starts it",
            vec![down(1, "refused"), orphan(2), sql_stopped(orphan(3))],
            start(false),
            Some(1),
            vec![(&[3], W, "SQL thread is stopped (no error)")],
        ),
        (
            "master dead, a slave's SQL thread stopped with an error is still an error",
            vec![
                down(1, "refused"),
                orphan(2),
                orphan(3).with_replica(|r| {
                    r.sql_running = false;
                    r.last_sql_errno = 1062;
                    r.last_sql_error = "Duplicate entry '10'".into();
                }),
            ],
            start(false),
            Some(1),
            vec![(&[3], E, "SQL thread is stopped; last error 1062")],
        ),
        (
            "master dead and a slave down",
            vec![down(1, "refused"), orphan(2), down(3, "timeout")],
            start(false),
            Some(1),
            vec![(&[3], E, "cannot connect: timeout")],
        ),
        (
            "slaves of different sources: no master named",
            vec![
                down(1, "refused"),
                orphan(2),
                orphan(3).with_replica(|r| r.master_host = "198.18.0.12".into()),
            ],
            start(false),
            None,
            vec![
                (&[2, 3], E, "no master found"),
                (&[1], E, "cannot connect"),
                (&[2], E, "IO thread"),
                (&[3], E, "IO thread"),
            ],
        ),
        (
            "slaves of a host outside the configuration: no master named",
            vec![
                orphan(1).with_replica(|r| r.master_host = "10.9.9.9".into()),
                orphan(2).with_replica(|r| r.master_host = "10.9.9.9".into()),
            ],
            start(false),
            None,
            vec![
                (
                    &[1, 2],
                    E,
                    "replicates from 10.9.9.9:3306, which is not in the configuration",
                ),
                (&[1], E, "IO thread"),
                (&[2], E, "IO thread"),
            ],
        ),
        (
            "a server that is not replicating beside the dead master's slaves",
            vec![down(1, "refused"), orphan(2), master(3)],
            start(false),
            Some(3),
            vec![
                (&[1], E, "cannot connect"),
                (&[2], E, "not from the master 198.18.0.13"),
                (&[2], E, "IO thread"),
            ],
        ),
        (
            "ignore_fail slave down, start without --ignore-fail-on-start",
            vec![master(1), s(2), ignored(down(3, "timeout"))],
            start(false),
            Some(1),
            vec![(&[3], E, "start-up needs every server")],
        ),
        (
            "ignore_fail slave down, start with --ignore-fail-on-start",
            vec![master(1), s(2), ignored(down(3, "timeout"))],
            start(true),
            Some(1),
            vec![(&[3], W, "cannot connect: timeout")],
        ),
        (
            "ignore_fail slave down, check-repl (MHA's check_repl has no such option)",
            vec![master(1), s(2), ignored(down(3, "timeout"))],
            check_repl,
            Some(1),
            vec![(&[3], E, "start-up needs every server")],
        ),
        (
            "ignore_fail slave not replicating, without the option",
            vec![master(1), s(2), ignored(sql_failed(s(3)))],
            start(false),
            Some(1),
            vec![(&[3], E, "SQL thread is stopped")],
        ),
        (
            "ignore_fail slave not replicating, with the option",
            vec![master(1), s(2), ignored(sql_failed(s(3)))],
            start(true),
            Some(1),
            vec![(
                &[3],
                W,
                "tolerated: ignore_fail=1 and --ignore-fail-on-start",
            )],
        ),
        (
            "a slave without ignore_fail down, even with the option",
            vec![master(1), s(2), down(3, "timeout")],
            start(true),
            Some(1),
            vec![(&[3], E, "cannot connect: timeout")],
        ),
        (
            "ignore_fail master dead at start is still the master",
            vec![ignored(down(1, "refused")), orphan(2)],
            start(false),
            Some(1),
            vec![],
        ),
    ];
    for (case, nodes, rules, want_master, want) in cases {
        let (disc, problems) = run(nodes, rules);
        assert_eq!(disc.master, want_master.map(|n| id(n - 1)), "{case}");
        assert_problems(case, &problems, &want);
    }
}
