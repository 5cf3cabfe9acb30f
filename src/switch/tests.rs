//! Tier 1 (the pure rules) and tier 2 (whole switches against `FakeCluster`).

use super::*;
use crate::switch::interrupt::{self, Interrupt, OnSignal, Point};
use std::sync::Arc;

use crate::config::Config;
use crate::recovery::{Kit, Log};
use crate::transport::fake::remote;

use crate::config::resolve_str;
use crate::mysql::fake::{FakeCluster, FakeError};
use crate::mysql::Process;
use crate::topology::fixture::{id, ids, master_facts, slave, slave_facts, topology};
use crate::topology::gtid::MariaGtidPos;
use crate::topology::status::{GtidFacts, IoState, MariaUsingGtid};

const M: &str = "198.18.0.11:3306";
const S2: &str = "198.18.0.12:3306";
const S3: &str = "198.18.0.13:3306";

fn proc(id: u64, user: &str, command: &str, time: u64, info: Option<&str>) -> Process {
    Process {
        id,
        user: user.into(),
        host: "198.18.0.1:40000".into(),
        db: None,
        command: command.into(),
        time,
        state: None,
        info: info.map(str::to_owned),
    }
}

// ---------------------------------------------------------------- tier 1

#[test]
fn long_updates_follow_mhas_rule() {
    let procs = vec![
        proc(1, "app", "Query", 5, Some("UPDATE t SET v = SLEEP(5)")),
        proc(2, "app", "Query", 1, Some("UPDATE t SET v = 1")),
        proc(3, "app", "Query", 9, Some("  select * from t")),
        proc(4, "app", "Query", 9, Some("SHOW PROCESSLIST")),
        proc(5, "app", "Sleep", 99, None),
        proc(6, "repl", "Binlog Dump GTID", 999, None),
        proc(7, "system user", "Slave_SQL", 999, Some("INSERT")),
        proc(8, "app", "Query", 2, Some("DO SLEEP(5)")),
        proc(
            9,
            "app",
            "Query",
            2,
            Some("INSERT INTO t SELECT 1, SLEEP(3)"),
        ),
    ];
    let ids = |limit| {
        rules::long_updates(&procs, limit)
            .iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    // limit 1: running at least 2 s.
    assert_eq!(ids(1), vec![1, 8, 9]);
    assert_eq!(ids(4), vec![1]);
    assert_eq!(ids(5), Vec::<u64>::new());
}

#[test]
fn long_queries_count_every_busy_client_thread() {
    let procs = vec![
        proc(1, "app", "Query", 10, Some("SELECT SLEEP(20)")),
        proc(2, "app", "Query", 9, Some("SELECT 1")),
        proc(3, "app", "Sleep", 100, None),
        proc(4, "system user", "Slave_IO", 100, None),
    ];
    let ids: Vec<u64> = rules::long_queries(&procs, 10)
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, vec![1]);
}

#[test]
fn the_freeze_kills_sessions_that_could_still_write() {
    let procs = vec![
        proc(10, "app", "Query", 0, Some("INSERT INTO t VALUES (1)")),
        proc(11, "app", "Sleep", 3, None),
        proc(12, "app", "Sleep", 3, None),
        proc(13, "report", "Query", 40, Some("SELECT COUNT(*) FROM t")),
        proc(14, "root", "Sleep", 1, None),
        proc(15, "repl", "Binlog Dump GTID", 50, None),
        proc(16, "system user", "Slave_SQL", 50, None),
        proc(17, "app", "Killed", 0, Some("INSERT INTO t VALUES (2)")),
    ];
    let in_trx = [12];
    let exempt = rules::Exempt::Users(vec!["root".into()]);
    assert_eq!(
        rules::sessions_to_kill(&procs, &in_trx, &exempt),
        vec![
            (10, rules::KillWhy::Writing),
            (12, rules::KillWhy::InTransaction),
            (14, rules::KillWhy::MayWrite),
        ]
    );
    // The grace period waits for the write read_only stops, not for root's.
    assert_eq!(rules::writes_to_wait_for(&procs, &exempt), vec![10]);
    let root_writes = vec![proc(
        20,
        "root",
        "Query",
        0,
        Some("INSERT INTO t VALUES (3)"),
    )];
    assert!(rules::writes_to_wait_for(&root_writes, &exempt).is_empty());
    // super_read_only / FTWRL: nobody is exempt.
    assert_eq!(
        rules::sessions_to_kill(&procs, &in_trx, &rules::Exempt::Nobody),
        vec![
            (10, rules::KillWhy::Writing),
            (12, rules::KillWhy::InTransaction)
        ]
    );
    // Unknown privileges: every client session could write.
    let all: Vec<u64> = rules::sessions_to_kill(&procs, &in_trx, &rules::Exempt::Everybody)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(all, vec![10, 11, 12, 13, 14]);
}

#[test]
fn a_timed_out_freeze_statement_is_recognised() {
    let pending = |user: &str, info: &str| {
        rules::is_pending_freeze(&proc(1, user, "Query", 3, Some(info)), "hauser")
    };
    assert!(pending("hauser", "SET GLOBAL read_only = 1"));
    assert!(pending("hauser", "set global super_read_only = 1"));
    assert!(pending("hauser", "FLUSH TABLES WITH READ LOCK"));
    assert!(!pending("app", "SET GLOBAL read_only = 1"));
    assert!(!pending("hauser", "SELECT 1"));
}

fn gpos(text: &str) -> MariaGtidPos {
    MariaGtidPos::parse(text).unwrap()
}

#[test]
fn gtid_wait_skips_domains_the_server_already_has() {
    let cases = [
        ("0-1-100", "0-1-90", "0-1-100"),
        ("0-1-100", "0-1-100", ""),
        // Domain 0 last written by the new master itself while it was master.
        ("0-2-50,1-1-7", "0-2-50,1-1-3", "1-1-7"),
        ("0-1-100", "", "0-1-100"),
        ("0-1-100", "0-2-120", ""),
    ];
    for (freeze, have, want) in cases {
        assert_eq!(
            rules::gtid_to_wait(&gpos(freeze), &gpos(have)),
            gpos(want),
            "{freeze} vs {have}"
        );
    }
}

#[test]
fn every_slave_counts_as_latest() {
    let topo = topology(vec![
        crate::topology::fixture::master(1),
        slave(2, 1, "mysql-bin.000010:900"),
        slave(3, 1, "mysql-bin.000010:1000"),
    ]);
    let equal = rules::all_latest(&topo, &ids(&[1, 2]));
    assert_eq!(
        equal.replica(id(1)).unwrap().read,
        equal.replica(id(2)).unwrap().read
    );
    let election = crate::topology::select::select_new_master(
        &equal,
        id(0),
        &crate::topology::select::ElectionRules {
            check_repl_delay: false,
            ..Default::default()
        },
    );
    assert_eq!(election.latest, ids(&[1, 2]));
    assert_eq!(election.chosen, Some(id(1)));
}

#[test]
fn migration_tree_shows_before_and_after() {
    let topo = topology(vec![
        crate::topology::fixture::master(1),
        slave(2, 1, "mysql-bin.000010:1000"),
        slave(3, 1, "mysql-bin.000010:1000"),
    ]);
    let lines = rules::migration_tree(&topo, id(0), id(1), &ids(&[2]), true);
    assert_eq!(
        lines,
        vec![
            "From:",
            "198.18.0.11(198.18.0.11:3306) (current master)",
            " +--198.18.0.12(198.18.0.12:3306)",
            " +--198.18.0.13(198.18.0.13:3306)",
            "",
            "To:",
            "198.18.0.12(198.18.0.12:3306) (new master)",
            " +--198.18.0.13(198.18.0.13:3306)",
            " +--198.18.0.11(198.18.0.11:3306)",
        ]
    );
}

// ---------------------------------------------------------------- tier 2

fn config(extra: &str) -> Arc<Config> {
    let text = format!(
        "[server default]\nrepl_user=repl\nrepl_password=replpass\n{extra}\n\
         [server1]\nhostname=198.18.0.11\n\
         [server2]\nhostname=198.18.0.12\n\
         [server3]\nhostname=198.18.0.13\n"
    );
    Arc::new(resolve_str("app1.cnf", &text, false, None).expect("test config"))
}

/// db1 master at 0-1-100, db2 and db3 GTID slaves caught up.
fn gtid_cluster() -> FakeCluster {
    let c = FakeCluster::new();
    let mut m = master_facts(1);
    m.gtid = GtidFacts::MariaDb {
        binlog_pos: gpos("0-1-100"),
        slave_pos: MariaGtidPos::default(),
        current_pos: gpos("0-1-100"),
        binlog_state: Default::default(),
    };
    c.add(M, m);
    for (addr, n) in [(S2, 2), (S3, 3)] {
        let mut f = slave_facts(n, 1, "mysql-bin.000010:1000");
        f.gtid = GtidFacts::MariaDb {
            binlog_pos: gpos("0-1-100"),
            slave_pos: gpos("0-1-100"),
            current_pos: gpos("0-1-100"),
            binlog_state: Default::default(),
        };
        if let Some(r) = f.replica.as_mut() {
            r.using_gtid = Some(MariaUsingGtid::SlavePos);
        }
        c.add(addr, f);
    }
    c.with(M, |s| {
        s.exempt_users = vec!["root".into()];
        s.processes = vec![
            proc(31, "repl", "Binlog Dump GTID", 100, None),
            proc(32, "repl", "Binlog Dump GTID", 100, None),
            proc(40, "root", "Sleep", 0, None),
            proc(41, "app", "Sleep", 5, None),
        ];
    });
    c
}

fn ctx(cluster: &FakeCluster, config: Arc<Config>, options: Options) -> Ctx {
    Ctx {
        kit: Kit {
            config,
            connector: Arc::new(cluster.clone()),
            remote: Arc::new(remote(true, false)),
            log: Log::default(),
        },
        options,
        interrupt: Interrupt::default(),
    }
}

/// `repl_ssl=1`: every CHANGE MASTER of the switch (the slaves and the old
/// master made a slave) carries the TLS options; without it, none does (above).
#[tokio::test]
async fn a_switch_writes_repl_ssl_into_every_change_master() {
    let c = gtid_cluster();
    let options = Options {
        orig_master_is_new_slave: true,
        ..Options::default()
    };
    let conf =
        config("repl_ssl=1\nrepl_ssl_ca=/etc/mysql/tls/ca.pem\nrepl_ssl_verify_server_cert=1");
    let ctx = ctx(&c, conf, options);
    let outcome = run(&ctx, None).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    let tls = r#"ReplTls { ca: Some("/etc/mysql/tls/ca.pem"), cert: None, key: None, verify_server_cert: Some(true) }"#;
    let log = changes(&c);
    for (host, from) in [(S3, "MariaSlavePos"), (M, "MariaCurrentPos")] {
        let want = format!("{host}: change_master 198.18.0.12:3306 {from} {tls}");
        assert!(log.contains(&want), "{want} not in {log:#?}");
    }
}

/// The changing calls, in order (reads left out).
fn changes(cluster: &FakeCluster) -> Vec<String> {
    cluster
        .log()
        .into_iter()
        .filter(|l| {
            [
                "set_read_only",
                "kill_connection",
                "wait_for",
                "stop_replica",
                "start_replica",
                "change_master",
                "reset_replica_all",
                "flush_tables",
                "unlock_tables",
            ]
            .iter()
            .any(|op| l.contains(op))
        })
        .collect()
}

#[tokio::test]
async fn a_switch_freezes_promotes_and_repoints_in_order() {
    let c = gtid_cluster();
    let options = Options {
        orig_master_is_new_slave: true,
        ..Options::default()
    };
    let ctx = ctx(&c, config(""), options);
    let outcome = run(&ctx, None).await;
    let Outcome::Complete(summary) = &outcome else {
        panic!("{outcome:?}\n{:#?}", c.log());
    };
    assert_eq!(
        summary.killed, 1,
        "root's session: may write despite read_only"
    );
    assert!(summary.freeze_window.is_some());
    let log = changes(&c);
    let at = |needle: &str| {
        log.iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {log:#?}"))
    };
    assert!(at(&format!("{M}: set_read_only true")) < at(&format!("{M}: kill_connection 40")));
    assert!(at("kill_connection 40") < at(&format!("{S2}: stop_replica")));
    assert!(at(&format!("{S2}: stop_replica")) < at(&format!("{S2}: set_read_only false")));
    assert!(at(&format!("{S2}: set_read_only false")) < at(&format!("{S3}: change_master")));
    assert!(at(&format!("{S2}: set_read_only false")) < at(&format!("{S2}: reset_replica_all")));
    assert!(log
        .iter()
        .any(|l| l == &format!("{S3}: change_master 198.18.0.12:3306 MariaSlavePos")));
    assert!(log
        .iter()
        .any(|l| l == &format!("{M}: change_master 198.18.0.12:3306 MariaCurrentPos")));
    assert!(!log.iter().any(|l| l.contains("kill_connection 41")));
    assert!(!log
        .iter()
        .any(|l| l.contains(&format!("{M}: set_read_only false"))));
    // Caught up already: nothing to wait for by GTID on the new master.
    assert!(!c
        .log()
        .iter()
        .any(|l| l.starts_with(&format!("{S2}: wait_for"))));
}

#[tokio::test]
async fn a_new_master_behind_waits_for_the_missing_gtids() {
    let c = gtid_cluster();
    c.with(S2, |s| {
        s.facts.gtid = GtidFacts::MariaDb {
            binlog_pos: gpos("0-1-90"),
            slave_pos: gpos("0-1-90"),
            current_pos: gpos("0-1-90"),
            binlog_state: Default::default(),
        }
    });
    let ctx = ctx(&c, config(""), Options::default());
    let outcome = run(&ctx, None).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    assert!(c
        .log()
        .iter()
        .any(|l| l.starts_with(&format!("{S2}: wait_for MariaGtid")) && l.contains("seq: 100")));
}

#[tokio::test]
async fn a_catch_up_timeout_rolls_back() {
    let c = gtid_cluster();
    c.with(S2, |s| {
        s.facts.gtid = GtidFacts::MariaDb {
            binlog_pos: gpos("0-1-90"),
            slave_pos: gpos("0-1-90"),
            current_pos: gpos("0-1-90"),
            binlog_state: Default::default(),
        };
        s.wait_times_out = true;
    });
    let ctx = ctx(&c, config(""), Options::default());
    let outcome = run(&ctx, None).await;
    let Outcome::RolledBack { reason, undone, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        reason
            .to_string()
            .contains("did not execute everything up to"),
        "{reason}"
    );
    assert!(undone.iter().all(|u| u.result.is_ok()), "{undone:?}");
    let log = changes(&c);
    assert_eq!(
        log.iter()
            .filter(|l| l.contains("set_read_only"))
            .collect::<Vec<_>>(),
        vec![
            &format!("{M}: set_read_only true"),
            &format!("{M}: set_read_only false")
        ]
    );
    assert!(!log.iter().any(|l| l.contains("change_master")));
    assert!(!log
        .iter()
        .any(|l| l.contains(&format!("{S2}: stop_replica"))));
    assert!(!c.facts(M).read_only);
}

#[tokio::test]
async fn a_failure_after_stopping_the_new_master_restarts_its_replication() {
    let c = gtid_cluster();
    c.with(S2, |s| {
        s.failing.insert(
            "set_read_only".into(),
            FakeError::Server(1227, "Access denied; you need SUPER".into()),
        );
    });
    let ctx = ctx(&c, config(""), Options::default());
    let outcome = run(&ctx, None).await;
    let Outcome::RolledBack { undone, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    let whats: Vec<&str> = undone.iter().map(|u| u.what.as_str()).collect();
    assert_eq!(whats.len(), 3, "{whats:?}");
    assert!(whats[0].contains("read_only=1") && undone[0].result.is_err());
    assert!(whats[1].contains("START SLAVE") && undone[1].result.is_ok());
    assert!(whats[2].contains("read_only=0") && undone[2].result.is_ok());
    assert!(!c.facts(M).read_only);
    assert!(c.facts(S2).replica.unwrap().sql_running);
}

#[tokio::test]
async fn read_only_failing_falls_back_to_a_table_lock() {
    let c = gtid_cluster();
    c.with(M, |s| {
        s.failing.insert(
            "set_read_only".into(),
            FakeError::Server(1227, "Access denied".into()),
        );
    });
    let ctx = ctx(&c, config(""), Options::default());
    let outcome = run(&ctx, None).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    let log = changes(&c);
    assert!(log.contains(&format!("{M}: flush_tables_with_read_lock")));
    assert!(log.contains(&format!("{M}: unlock_tables")));
    // Under the table lock nobody can write: root's idle session is left alone.
    assert!(!log.iter().any(|l| l.contains("kill_connection")));
}

#[tokio::test]
async fn refusals_name_the_host_and_change_nothing() {
    let c = gtid_cluster();
    c.with(S3, |s| {
        if let Some(r) = s.facts.replica.as_mut() {
            r.io = IoState::No;
        }
    });
    c.with(M, |s| {
        s.processes.push(proc(
            50,
            "app",
            "Query",
            4,
            Some("UPDATE test.t SET v = SLEEP(10)"),
        ))
    });
    c.with(S2, |s| {
        s.processes
            .push(proc(60, "report", "Query", 12, Some("SELECT SLEEP(20)")))
    });
    let options = Options {
        orig_master_is_new_slave: true,
        ..Options::default()
    };
    let ctx = ctx(
        &c,
        config("").as_ref().clone().into_without_repl_password(),
        options,
    );
    let outcome = run(&ctx, None).await;
    let Outcome::Refused(problems) = &outcome else {
        panic!("{outcome:?}");
    };
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let has = |host: &str, what: &str| {
        assert!(
            text.iter().any(|t| t.contains(host) && t.contains(what)),
            "no problem with {host} and {what:?} in {text:#?}"
        )
    };
    has("198.18.0.13", "IO thread is stopped");
    has("198.18.0.11", "running_updates_limit");
    has("198.18.0.11", "id 50");
    has("198.18.0.12", "running_seconds_limit");
    has("198.18.0.11", "repl_password");
    assert!(changes(&c).is_empty(), "{:#?}", changes(&c));
}

#[tokio::test]
async fn a_running_manager_is_a_refusal() {
    let c = gtid_cluster();
    let blocked = vec![Problem::error(
        "app1",
        "ha-manager is monitoring this application (pid 7)",
        "stop it first",
    )];
    let ctx = ctx(
        &c,
        config(""),
        Options {
            blocked,
            ..Options::default()
        },
    );
    let outcome = run(&ctx, None).await;
    assert!(
        matches!(&outcome, Outcome::Refused(p) if p.len() == 1 && p[0].what.contains("monitoring")),
        "{outcome:?}"
    );
    assert!(changes(&c).is_empty());
}

#[tokio::test]
async fn dry_run_and_no_confirmation_change_nothing() {
    let c = gtid_cluster();
    let dry = ctx(
        &c,
        config(""),
        Options {
            dry_run: true,
            ..Options::default()
        },
    );
    assert!(matches!(run(&dry, None).await, Outcome::DryRun { .. }));
    let asked = ctx(&c, config(""), Options::default());
    let no = |_: &str| false;
    assert!(matches!(run(&asked, Some(&no)).await, Outcome::Aborted(_)));
    assert!(changes(&c).is_empty(), "{:#?}", changes(&c));
}

#[tokio::test]
async fn a_failing_stop_hook_aborts_before_the_freeze() {
    let c = gtid_cluster();
    let config = config("master_ip_online_change_script=/bin/sh -c 'exit 1' hook");
    let ctx = ctx(&c, config, Options::default());
    let outcome = run(&ctx, None).await;
    assert!(matches!(outcome, Outcome::Aborted(_)), "{outcome:?}");
    assert!(changes(&c).is_empty());
}

#[tokio::test]
async fn a_failing_start_hook_rolls_back_and_gives_writes_back() {
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    let script = dir.path().join("hook.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> {}\ncase \"$*\" in *--command=start*--new_master_host=198.18.0.12*) exit 1;; esac\nexit 0\n",
            calls.display()
        ),
    )
    .unwrap();
    let c = gtid_cluster();
    let config = config(&format!(
        "master_ip_online_change_script=/bin/sh {}",
        script.display()
    ));
    let ctx = ctx(&c, config, Options::default());
    let outcome = run(&ctx, None).await;
    assert!(
        matches!(&outcome, Outcome::RolledBack { undone, .. } if undone.iter().all(|u| u.result.is_ok())),
        "{outcome:?}"
    );
    let calls = std::fs::read_to_string(&calls).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines.len(), 3, "{calls}");
    assert!(lines[0].starts_with("--command=stop"));
    assert!(
        lines[1].starts_with("--command=start")
            && lines[1].contains("--new_master_host=198.18.0.12")
    );
    assert!(
        lines[2].starts_with("--command=start")
            && lines[2].contains("--new_master_host=198.18.0.11")
    );
    assert!(!c.facts(M).read_only);
    assert!(c.facts(S2).read_only);
}

#[tokio::test]
async fn a_slave_that_cannot_be_repointed_is_partial() {
    let c = gtid_cluster();
    c.with(S3, |s| {
        s.failing.insert(
            "change_master".into(),
            FakeError::Server(1198, "This operation cannot be performed".into()),
        );
    });
    let ctx = ctx(&c, config(""), Options::default());
    let outcome = run(&ctx, None).await;
    let Outcome::Partial(summary) = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(summary.slaves[0].result.is_err());
    assert!(!c.facts(S2).read_only, "the new master takes writes");
}

#[tokio::test]
async fn file_position_slaves_move_to_the_new_masters_binlog_position() {
    let c = FakeCluster::new();
    c.add(M, master_facts(1));
    c.add(S2, slave_facts(2, 1, "mysql-bin.000010:1000"));
    c.add(S3, slave_facts(3, 1, "mysql-bin.000010:1000"));
    c.with(S2, |s| {
        s.facts.binlog = Some(crate::topology::fixture::pos("mysql-bin.000004:777"))
    });
    let ctx = ctx(&c, config(""), Options::default());
    let outcome = run(&ctx, None).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    let log = c.log();
    assert!(log
        .iter()
        .any(|l| l.starts_with(&format!("{S2}: wait_for Position")) && l.contains("000010")));
    assert!(log.iter().any(|l| l
        .starts_with(&format!("{S3}: change_master 198.18.0.12:3306 Position"))
        && l.contains("mysql-bin.000004")
        && l.contains("777")));
}

// ------------------------------------------------- signals (tier 1 and 2)

#[test]
fn a_signal_rolls_back_before_the_point_of_no_return_and_finishes_after() {
    let cases = [
        (Point::Checked, OnSignal::Abort),
        (Point::StopHook, OnSignal::RollBack),
        (Point::Frozen, OnSignal::RollBack),
        (Point::CaughtUp, OnSignal::RollBack),
        (Point::ReplicationStopped, OnSignal::RollBack),
        (Point::StartHook, OnSignal::RollBack),
        (Point::Writable, OnSignal::Finish),
        (Point::SlavesSwitched, OnSignal::Finish),
    ];
    for (at, want) in cases {
        assert_eq!(interrupt::on_signal(at), want, "{at:?}");
    }
}

/// A ctx whose signal arrives (SIGTERM) when the switch reaches `at`.
fn signalled_at(cluster: &FakeCluster, config: Arc<Config>, at: Point) -> Ctx {
    let (tx, rx) = tokio::sync::watch::channel(None);
    let mut ctx = ctx(cluster, config, Options::default());
    ctx.interrupt = Interrupt::probed(rx, move |reached| {
        if reached == at {
            tx.send_replace(Some("SIGTERM"));
        }
    });
    ctx
}

#[tokio::test]
async fn a_sigterm_at_each_point_of_the_switch_rolls_back_or_finishes() {
    let points = [
        Point::Checked,
        Point::StopHook,
        Point::Frozen,
        Point::CaughtUp,
        Point::ReplicationStopped,
        Point::StartHook,
        Point::Writable,
        Point::SlavesSwitched,
    ];
    for at in points {
        let c = gtid_cluster();
        // Behind, so that the catch-up wait runs too.
        c.with(S2, |s| {
            s.facts.gtid = GtidFacts::MariaDb {
                binlog_pos: gpos("0-1-90"),
                slave_pos: gpos("0-1-90"),
                current_pos: gpos("0-1-90"),
                binlog_state: Default::default(),
            }
        });
        let ctx = signalled_at(&c, config(""), at);
        let outcome = run(&ctx, None).await;
        let log = changes(&c);
        match interrupt::on_signal(at) {
            OnSignal::Abort => {
                assert!(
                    matches!(&outcome, Outcome::Aborted(why) if why.contains("SIGTERM")),
                    "{at:?}: {outcome:?}"
                );
                assert!(log.is_empty(), "{at:?}: {log:#?}");
            }
            OnSignal::RollBack => {
                let Outcome::RolledBack {
                    reason,
                    undone,
                    interrupted,
                } = &outcome
                else {
                    panic!("{at:?}: {outcome:?}");
                };
                assert_eq!(*interrupted, Some("SIGTERM"), "{at:?}");
                assert!(
                    reason.to_string().contains("interrupted by SIGTERM"),
                    "{reason}"
                );
                assert!(
                    undone.iter().all(|u| u.result.is_ok()),
                    "{at:?}: {undone:?}"
                );
                // The orig master takes writes again, the candidate never did,
                // and it replicates from the orig master as before.
                assert!(!c.facts(M).read_only, "{at:?}: {log:#?}");
                assert!(c.facts(S2).read_only, "{at:?}");
                assert!(!log
                    .iter()
                    .any(|l| l == &format!("{S2}: set_read_only false")));
                let replica = c.facts(S2).replica.expect("still a replica");
                assert!(
                    replica.sql_running && replica.io == IoState::Yes,
                    "{at:?}: {log:#?}"
                );
                assert!(!log.iter().any(|l| l.contains("change_master")), "{at:?}");
                let stopped = log.iter().any(|l| l == &format!("{S2}: stop_replica"));
                assert_eq!(
                    stopped,
                    at >= Point::ReplicationStopped,
                    "{at:?}: the candidate's replication is stopped only from that point: {log:#?}"
                );
                if stopped {
                    assert!(log.iter().any(|l| l == &format!("{S2}: start_replica")));
                }
                let journal = ctx.kit.log.journal();
                let to_finish = journal
                    .facts()
                    .stopped_at
                    .as_ref()
                    .and_then(|s| s.to_finish.clone())
                    .unwrap_or_default();
                assert!(
                    to_finish.contains("rolled back: the switch was interrupted by SIGTERM"),
                    "{to_finish}"
                );
            }
            OnSignal::Finish => {
                let Outcome::Complete(summary) = &outcome else {
                    panic!("{at:?}: {outcome:?}");
                };
                assert_eq!(summary.signal_after_no_return, Some("SIGTERM"));
                assert!(
                    !c.facts(S2).read_only,
                    "{at:?}: the new master takes writes"
                );
                assert!(log
                    .iter()
                    .any(|l| l.starts_with(&format!("{S3}: change_master 198.18.0.12"))));
            }
        }
    }
}

#[tokio::test]
async fn a_sigterm_during_the_start_hook_kills_it_and_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let (calls, pid, started) = (
        dir.path().join("calls"),
        dir.path().join("pid"),
        dir.path().join("started"),
    );
    let script = dir.path().join("hook.sh");
    // On the new master, --command=start hangs (60 s, the hook's bound) in
    // a child of the script: the whole process group must go.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> {calls}\ncase \"$*\" in *--command=start*--new_master_host=198.18.0.12*) \
             sleep 60 & echo $! > {pid}; touch {started}; wait;; esac\nexit 0\n",
            calls = calls.display(),
            pid = pid.display(),
            started = started.display()
        ),
    )
    .unwrap();
    let c = gtid_cluster();
    let config = config(&format!(
        "master_ip_online_change_script=/bin/sh {}",
        script.display()
    ));
    let (tx, rx) = tokio::sync::watch::channel(None);
    let mut ctx = ctx(&c, config, Options::default());
    ctx.interrupt = Interrupt::watching(rx);
    let signal = {
        let started = started.clone();
        tokio::spawn(async move {
            while !started.exists() {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            tx.send_replace(Some("SIGINT"));
            tx
        })
    };
    let begun = std::time::Instant::now();
    let outcome = run(&ctx, None).await;
    let _tx = signal.await.unwrap();
    assert!(
        begun.elapsed() < std::time::Duration::from_secs(20),
        "the rollback waited for the hook: {:?}",
        begun.elapsed()
    );
    let Outcome::RolledBack {
        undone,
        interrupted,
        ..
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(*interrupted, Some("SIGINT"));
    assert!(undone.iter().all(|u| u.result.is_ok()), "{undone:?}");
    let sleeper = std::fs::read_to_string(&pid).unwrap();
    let alive = || {
        std::path::Path::new(&format!("/proc/{}", sleeper.trim())).exists()
            && !std::fs::read_to_string(format!("/proc/{}/stat", sleeper.trim()))
                .unwrap_or_default()
                .contains(") Z ")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while alive() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        !alive(),
        "the hook's child {} outlived the switch",
        sleeper.trim()
    );
    let calls = std::fs::read_to_string(&calls).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines.len(), 3, "{calls}");
    assert!(
        lines[2].starts_with("--command=start")
            && lines[2].contains("--new_master_host=198.18.0.11"),
        "the writes are given back to the orig master: {calls}"
    );
    assert!(!c.facts(M).read_only);
    assert!(c.facts(S2).read_only);
}

trait WithoutReplPassword {
    fn into_without_repl_password(self) -> Arc<Config>;
}

impl WithoutReplPassword for Config {
    fn into_without_repl_password(mut self) -> Arc<Config> {
        for s in &mut self.servers {
            s.repl_password = None;
        }
        Arc::new(self)
    }
}
