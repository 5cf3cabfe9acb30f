//! Tier-2 tests: whole failovers against the scripted fake cluster, a fake SSH
//! transport and real hook scripts, for fault paths the lab cannot make.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::config::resolve_str;
use crate::mysql::fake::{FakeCluster, FakeError};
use crate::recovery::{Kit, Log};
use crate::topology::fixture::{master_facts, slave_facts};
use crate::topology::status::MariaUsingGtid;
use crate::transport::fake::{remote, FakeRemote};

/// A hook script that logs each `--command` and exits with `stop`/`start` codes.
fn hook(dir: &Path, stop: i32, start: i32) -> String {
    let log = dir.join("hook.log");
    let path = dir.join("master_ip_failover");
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --command=*) cmd=\"${{a#--command=}}\";; esac; done\n\
         echo \"$cmd\" >> {}\ncase \"$cmd\" in stop|stopssh) exit {stop};; start) exit {start};; esac\nexit 0\n",
        log.display()
    );
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// Three servers, GTID mode, the master refusing connections.
pub(super) fn setup(extra: &str, remote: FakeRemote) -> (Ctx, FakeCluster) {
    let text = format!(
        "[server default]\nuser=root\npassword=secret\n{extra}\n\
         [server1]\nhostname=198.18.0.11\n[server2]\nhostname=198.18.0.12\ncandidate_master=1\n\
         [server3]\nhostname=198.18.0.13\n"
    );
    let config = resolve_str("app1.cnf", &text, false, None).unwrap();
    let cluster = FakeCluster::new();
    cluster.add("198.18.0.11:3306", master_facts(1));
    cluster.with("198.18.0.11:3306", |s| s.refuse = Some(FakeError::Refused));
    for n in [2, 3] {
        let mut facts = slave_facts(n, 1, "mysql-bin.000010:1000");
        if let Some(r) = facts.replica.as_mut() {
            r.using_gtid = Some(MariaUsingGtid::SlavePos);
        }
        cluster.add(&format!("198.18.0.1{n}:3306"), facts);
    }
    let ctx = Ctx {
        kit: Kit {
            config: Arc::new(config),
            connector: Arc::new(cluster.clone()),
            remote: Arc::new(remote),
            log: Log::default(),
        },
        options: Options::default(),
    };
    (ctx, cluster)
}

pub(super) fn dead() -> DeadMaster {
    DeadMaster::declared(
        crate::topology::fixture::id(0),
        std::time::SystemTime::UNIX_EPOCH,
    )
}

pub(super) fn made_writable(cluster: &FakeCluster) -> Vec<String> {
    cluster
        .log()
        .into_iter()
        .filter(|l| l.ends_with("set_read_only false"))
        .collect()
}

#[tokio::test]
async fn hook_exit_10_on_stop_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let script = hook(dir.path(), 10, 0);
    let (ctx, cluster) = setup(
        &format!("master_ip_failover_script={script}"),
        remote(false, false),
    );
    let outcome = run(&ctx, dead()).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    assert_eq!(
        made_writable(&cluster),
        ["198.18.0.12:3306: set_read_only false"]
    );
    let calls = std::fs::read_to_string(dir.path().join("hook.log")).unwrap();
    assert_eq!(
        calls, "stop\nstart\n",
        "stop (no SSH), then start before writes"
    );
    assert_eq!(
        ctx.kit
            .log
            .journal()
            .facts()
            .ip_stop
            .as_ref()
            .and_then(|h| h.code),
        Some(10)
    );
}

#[tokio::test]
async fn hook_exit_1_on_stop_aborts_before_any_promotion() {
    let dir = tempfile::tempdir().unwrap();
    let script = hook(dir.path(), 1, 0);
    let (ctx, cluster) = setup(
        &format!("master_ip_failover_script={script}"),
        remote(false, false),
    );
    let outcome = run(&ctx, dead()).await;
    match outcome {
        Outcome::Failed { phase, changed, .. } => {
            assert_eq!(phase, Phase::Shutdown);
            assert!(changed, "IO threads were stopped: an error marker is due");
        }
        other => panic!("{other:?}"),
    }
    assert!(made_writable(&cluster).is_empty(), "{:?}", cluster.log());
    assert!(!cluster.log().iter().any(|l| l.contains("change_master")));
}

#[tokio::test]
async fn hook_failing_on_start_leaves_the_new_master_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let script = hook(dir.path(), 0, 1);
    let (ctx, cluster) = setup(
        &format!("master_ip_failover_script={script}"),
        remote(false, false),
    );
    let outcome = run(&ctx, dead()).await;
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                phase: Phase::MasterRecovery,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(
        made_writable(&cluster).is_empty(),
        "no writes without the IP: {:?}",
        cluster.log()
    );
    let report = crate::render::report::render(&ctx.kit.log.journal());
    assert!(report.body.contains("Got Error"), "{}", report.body);
}

/// File/position mode: db2 (candidate_master) behind db3 (the latest), so
/// promoting db2 means applying db3's relay-log difference on db2 over SSH.
pub(super) fn setup_filepos(remote: FakeRemote) -> (Ctx, FakeCluster) {
    let (ctx, cluster) = setup("", remote);
    for (n, read) in [(2, "mysql-bin.000010:900"), (3, "mysql-bin.000010:1000")] {
        let mut facts = slave_facts(n, 1, read);
        if let Some(r) = facts.replica.as_mut() {
            r.using_gtid = None;
        }
        cluster.add(&format!("198.18.0.1{n}:3306"), facts);
    }
    (ctx, cluster)
}

#[tokio::test]
async fn a_candidate_that_cannot_take_the_diff_is_passed_over_before_any_change() {
    let mut ssh = remote(false, false);
    ssh.down_hosts = vec!["198.18.0.12".into()];
    let (ctx, cluster) = setup_filepos(ssh);
    let outcome = run(&ctx, dead()).await;
    // db3 has everything: promoted without a diff; db2 (whose SSH is down)
    // cannot be given the difference and is reported lost, not half-promoted.
    let Outcome::Partial(summary) = outcome else {
        panic!(
            "expected a partial failover, got {outcome:?}\n{:#?}",
            cluster.log()
        )
    };
    assert_eq!(
        summary.new_master.as_deref(),
        Some("198.18.0.13(198.18.0.13:3306)")
    );
    assert_eq!(
        made_writable(&cluster),
        ["198.18.0.13:3306: set_read_only false"]
    );
    assert!(
        !cluster
            .log()
            .iter()
            .any(|l| l.starts_with("198.18.0.12:3306: change_master")),
        "nothing was changed on the passed-over candidate: {:#?}",
        cluster.log()
    );
    let journal = ctx.kit.log.journal();
    assert!(
        journal
            .entries()
            .iter()
            .any(|e| e.action.contains("passed over before anything was changed")),
        "{:#?}",
        journal.entries()
    );
}

#[tokio::test]
async fn a_slave_dying_mid_recovery_is_lost_and_the_others_go_on() {
    let (ctx, cluster) = setup("", remote(false, false));
    cluster.with("198.18.0.13:3306", |s| {
        s.failing.insert("change_master".into(), FakeError::Timeout);
    });
    let outcome = run(&ctx, dead()).await;
    let Outcome::Partial(summary) = outcome else {
        panic!("expected a partial failover")
    };
    assert_eq!(
        summary.new_master.as_deref(),
        Some("198.18.0.12(198.18.0.12:3306)")
    );
    let lost: Vec<_> = summary
        .replicas
        .iter()
        .filter(|r| r.result.is_err())
        .collect();
    assert_eq!(lost.len(), 1);
    assert!(lost[0].host.contains("198.18.0.13"));
    assert_eq!(
        made_writable(&cluster),
        ["198.18.0.12:3306: set_read_only false"]
    );
    let report = crate::render::report::render(&ctx.kit.log.journal());
    assert!(
        !report.headline.ends_with("succeeded"),
        "{}",
        report.headline
    );
}

#[tokio::test]
async fn ssh_dropping_during_the_binlog_copy_is_reported_as_possible_loss() {
    let (ctx, _cluster) = setup("", remote(true, true));
    let outcome = run(&ctx, dead()).await;
    let Outcome::Complete(summary) = outcome else {
        panic!("the failover goes on without the binlog")
    };
    let lost = summary.possibly_lost.expect("the range that may be lost");
    assert!(lost.contains("mysql-bin.000010:1000"), "{lost}");
    assert!(lost.contains("terminated"), "says why: {lost}");
    let facts = ctx.kit.log.journal().facts().clone();
    assert!(facts.possibly_lost.is_some());
    let detection = facts.detection.expect("the death evidence is journaled");
    assert!(detection.evidence.contains("operator"), "{detection:?}");
}

#[tokio::test]
async fn a_master_that_answers_is_never_failed_over() {
    let (ctx, cluster) = setup("", remote(true, false));
    cluster.with("198.18.0.11:3306", |s| s.refuse = None);
    let outcome = run(&ctx, dead()).await;
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                phase: Phase::Check,
                changed: false,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(!cluster.log().iter().any(|l| l.contains("stop_replica_io")));
}

#[tokio::test]
async fn hooks_are_checked_with_command_status_before_monitoring() {
    let dir = tempfile::tempdir().unwrap();
    let script = hook(dir.path(), 0, 0);
    let (ctx, _) = setup(
        &format!("master_ip_failover_script={script}"),
        remote(true, false),
    );
    let master = ctx.kit.config.server(crate::topology::fixture::id(0));
    check_hooks(&ctx.kit.config, master)
        .await
        .expect("a working script passes");
    let calls = std::fs::read_to_string(dir.path().join("hook.log")).unwrap();
    assert_eq!(calls, "status\n");

    let (ctx, _) = setup(
        "master_ip_failover_script=/nonexistent/master_ip_failover --vip=10.0.0.5",
        remote(true, false),
    );
    let master = ctx.kit.config.server(crate::topology::fixture::id(0));
    let err = check_hooks(&ctx.kit.config, master)
        .await
        .expect_err("a typo in the path is refused");
    let text = err.to_string();
    assert!(
        text.contains("master_ip_failover_script failed (--command=status: could not run"),
        "{text}"
    );
    assert_eq!(err.kind(), crate::journal::FailureKind::Hook);
}

#[tokio::test]
async fn mhas_notice_is_not_a_step_that_warned() {
    let (ctx, _) = setup("", remote(false, false));
    let outcome = run(&ctx, dead()).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    let journal = ctx.kit.log.journal();
    assert!(
        !journal
            .entries()
            .iter()
            .any(|e| e.action.contains("NOTICE")),
        "{:#?}",
        journal.entries()
    );
    let report = crate::render::report::render(&journal);
    assert!(!report.body.contains("NOTICE"), "{}", report.body);
}

#[tokio::test]
async fn fencing_says_what_it_did() {
    // The master's host answers SSH, and its mysqld answers there (the fake
    // runs every command successfully): it is set read-only, and the journal says so.
    let (ctx, _) = setup("", remote(true, false));
    let _ = run(&ctx, dead()).await;
    let journal = ctx.kit.log.journal();
    let fencing: Vec<&str> = journal
        .entries()
        .iter()
        .filter(|e| e.action.starts_with("fencing:"))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        fencing,
        [
            "fencing: mysqld was still running: set read_only=1 on it",
            "fencing: set super_read_only=1 on it"
        ]
    );
}

fn resume_of(new_master: Option<usize>, recovered: bool) -> Resume {
    Resume {
        new_master: new_master.map(crate::topology::fixture::id),
        recovered,
        new_master_pos: None,
        saved_binlog: None,
        gtid: true,
        stopped: "Phase 3: Master Recovery Phase".into(),
        done: Vec::new(),
    }
}

#[tokio::test]
async fn a_resumed_failover_keeps_the_new_master_the_interrupted_one_elected() {
    // Without the record, db2 (candidate_master=1) would be elected.
    let (mut ctx, cluster) = setup("", remote(false, false));
    ctx.options.resume = Some(resume_of(Some(2), false));
    let outcome = run(&ctx, dead()).await;
    let Outcome::Complete(summary) = outcome else {
        panic!("{outcome:?}\n{:#?}", cluster.log())
    };
    assert_eq!(
        summary.new_master.as_deref(),
        Some("198.18.0.13(198.18.0.13:3306)")
    );
    assert_eq!(
        made_writable(&cluster),
        ["198.18.0.13:3306: set_read_only false"]
    );
    let facts = ctx.kit.log.journal().facts().clone();
    assert_eq!(facts.resumed.len(), 1, "the journal says it was resumed");
    assert_eq!(
        facts.new_master.map(|h| h.ip).as_deref(),
        Some("198.18.0.13")
    );

    // The same without the record: db2.
    let (ctx, cluster) = setup("", remote(false, false));
    let _ = run(&ctx, dead()).await;
    assert_eq!(
        made_writable(&cluster),
        ["198.18.0.12:3306: set_read_only false"]
    );
}

#[tokio::test]
async fn a_resumed_failover_accepts_a_slave_already_on_the_new_master_and_leaves_it() {
    // The interrupted failover opened db3 and repointed db2 to it, then died
    // before the cleanup: a topology phase 1 refuses without the record.
    let (mut ctx, cluster) = setup("", remote(false, false));
    let mut on_new = slave_facts(2, 3, "mysql-bin.000001:400");
    if let Some(r) = on_new.replica.as_mut() {
        r.using_gtid = Some(MariaUsingGtid::SlavePos);
    }
    cluster.add("198.18.0.12:3306", on_new);
    let mut opened = slave_facts(3, 1, "mysql-bin.000010:1000");
    if let Some(r) = opened.replica.as_mut() {
        r.using_gtid = Some(MariaUsingGtid::SlavePos);
        r.io = crate::topology::status::IoState::No;
        r.sql_running = false;
    }
    opened.read_only = false;
    cluster.add("198.18.0.13:3306", opened);
    let fresh = run(&ctx, dead()).await;
    assert!(
        matches!(
            fresh,
            Outcome::Failed {
                phase: Phase::Check,
                ..
            }
        ),
        "{fresh:?}"
    );

    ctx.options.resume = Some(resume_of(Some(2), true));
    let before = cluster.log().len();
    let outcome = run(&ctx, dead()).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    let calls: Vec<String> = cluster.log()[before..].to_vec();
    assert!(
        !calls
            .iter()
            .any(|l| l.contains("change_master") || l.contains("stop_replica")),
        "nothing redone: {calls:#?}"
    );
    assert!(
        calls
            .iter()
            .any(|l| l.starts_with("198.18.0.13:3306: reset_replica_all")),
        "the cleanup runs: {calls:#?}"
    );
    let facts = ctx.kit.log.journal().facts().clone();
    assert_eq!(facts.slaves.len(), 1);
    assert_eq!(facts.slaves[0].result, crate::journal::SlaveResult::Ok);
}

#[tokio::test]
async fn a_resume_where_a_server_cannot_tell_what_was_applied_stops_before_changing_anything() {
    let (mut ctx, cluster) = setup("", remote(false, false));
    for n in [2, 3] {
        cluster.with(&format!("198.18.0.1{n}:3306"), |s| {
            s.facts.flavor = crate::topology::status::Flavor::MySql;
            s.facts.gtid = crate::topology::status::GtidFacts::MySql {
                enabled: false,
                executed: Default::default(),
            };
        });
    }
    let mut resume = resume_of(Some(1), false);
    resume.gtid = false;
    ctx.options.resume = Some(resume);
    let outcome = run(&ctx, dead()).await;
    let Outcome::Failed { phase, error, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(phase, Phase::Check);
    assert!(
        error.to_string().contains("cannot be resumed exactly"),
        "{error}"
    );
    assert!(
        !cluster
            .log()
            .iter()
            .any(|l| l.contains("stop_replica") || l.contains("change_master")),
        "nothing changed: {:#?}",
        cluster.log()
    );
}

#[tokio::test]
async fn a_file_position_resume_after_the_open_refuses_a_slave_without_binlog() {
    let (mut ctx, cluster) = setup("", remote(false, false));
    cluster.with("198.18.0.12:3306", |s| s.facts.log_bin = false);
    let mut resume = resume_of(Some(2), true);
    resume.gtid = false;
    resume.new_master_pos = Some(crate::topology::fixture::pos("mysql-bin.000001:400"));
    ctx.options.resume = Some(resume.clone());
    let outcome = run(&ctx, dead()).await;
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                phase: Phase::Check,
                ..
            }
        ),
        "{outcome:?}"
    );
    // Before the new master was opened, phase 4 had not begun: resumable.
    let (mut ctx, cluster) = setup("", remote(false, false));
    cluster.with("198.18.0.12:3306", |s| s.facts.log_bin = false);
    resume.recovered = false;
    resume.new_master_pos = None;
    ctx.options.resume = Some(resume);
    let outcome = run(&ctx, dead()).await;
    assert!(
        !matches!(
            outcome,
            Outcome::Failed {
                phase: Phase::Check,
                ..
            }
        ),
        "{outcome:?}"
    );
}

/// db3 replicates from db2, not from the dead master db1 (a third tier).
fn third_tier(cluster: &FakeCluster) {
    cluster.with("198.18.0.13:3306", |s| {
        if let Some(r) = s.facts.replica.as_mut() {
            r.master_host = "198.18.0.12".into();
        }
    });
}

#[tokio::test]
async fn a_third_tier_slave_without_multi_tier_slave_stops_the_failover_before_any_change() {
    let (ctx, cluster) = setup("", remote(false, false));
    third_tier(&cluster);
    let outcome = run(&ctx, dead()).await;
    let Outcome::Failed {
        phase: Phase::Check,
        changed: false,
        error,
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    let text = error.to_string();
    assert!(
        text.contains("198.18.0.13") && text.contains("multi_tier_slave=1"),
        "{text}"
    );
    assert!(!cluster.log().iter().any(|l| l.contains("stop_replica_io")));
}

#[tokio::test]
async fn with_multi_tier_slave_the_third_tier_stays_under_its_intermediate_master() {
    let (ctx, cluster) = setup("multi_tier_slave=1", remote(false, false));
    third_tier(&cluster);
    let outcome = run(&ctx, dead()).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    assert_eq!(
        made_writable(&cluster),
        ["198.18.0.12:3306: set_read_only false"]
    );
    assert!(
        cluster
            .log()
            .iter()
            .filter_map(|l| l.strip_prefix("198.18.0.13:3306: "))
            .all(|call| ["connect", "facts", "has_repl_privilege repl"].contains(&call)),
        "the third tier is only read: {:#?}",
        cluster.log()
    );
    let facts = ctx.kit.log.journal().facts().clone();
    assert_eq!(
        facts.unmanaged,
        [(
            "198.18.0.13(198.18.0.13:3306)".to_string(),
            "198.18.0.12(198.18.0.12:3306)".to_string()
        )]
    );
    assert!(facts.slaves.is_empty(), "{:?}", facts.slaves);
}

/// The candidate (db2, behind) meets a conflicting row while it catches up
/// from the latest slave (db3) by GTID: its SQL thread stops on error 1062.
/// The wait sees it within seconds (the server-side GTID wait would run its
/// whole timeout), db2 is passed over before anything a client sees changed,
/// db3 is promoted, and db2 is reported not recovered with how to finish.
#[tokio::test]
async fn a_candidate_whose_sql_thread_fails_while_catching_up_is_passed_over_fast() {
    let (ctx, cluster) = setup("", remote(false, false));
    for (n, read) in [(2, "mysql-bin.000010:900"), (3, "mysql-bin.000010:1000")] {
        let mut facts = slave_facts(n, 1, read);
        if let Some(r) = facts.replica.as_mut() {
            r.using_gtid = Some(MariaUsingGtid::SlavePos);
        }
        cluster.add(&format!("198.18.0.1{n}:3306"), facts);
    }
    cluster.with("198.18.0.12:3306", |s| {
        s.wait_times_out = true;
        s.sql_error_on_start = Some((1062, "Duplicate entry '7' for key 'PRIMARY'".into()));
    });
    let started = std::time::Instant::now();
    let outcome = run(&ctx, dead()).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "seen within seconds, took {:?}",
        started.elapsed()
    );
    let Outcome::Partial(summary) = outcome else {
        panic!("expected db3 promoted and db2 not recovered: {outcome:?}")
    };
    assert_eq!(
        summary.new_master.as_deref(),
        Some("198.18.0.13(198.18.0.13:3306)")
    );
    assert_eq!(
        made_writable(&cluster),
        ["198.18.0.13:3306: set_read_only false"],
        "db2 never writable"
    );
    let lost: Vec<_> = summary
        .replicas
        .iter()
        .filter(|r| r.result.is_err())
        .collect();
    assert_eq!(lost.len(), 1, "{:?}", summary.replicas);
    let why = lost[0].result.as_ref().unwrap_err().detail();
    assert!(lost[0].host.contains("198.18.0.12"), "{lost:?}");
    assert!(
        why.contains("error 1062") && why.contains("SOURCE_AUTO_POSITION=1"),
        "{why}"
    );
    let report = crate::render::report::render(&ctx.kit.log.journal());
    assert!(report.body.contains("Duplicate entry"), "{}", report.body);
    let repoints = cluster
        .log()
        .into_iter()
        .filter(|l| l.starts_with("198.18.0.12:3306: change_master"))
        .count();
    assert_eq!(repoints, 1, "only the catch-up's: {:?}", cluster.log());
}

/// `skip_reset_slave=1` on the candidate (a dual master's standby): it is
/// repointed at the latest slave (db3) only to catch up, then put back on its
/// own source, the dead master, stopped — the settings it keeps to rejoin.
#[tokio::test]
async fn skip_reset_slave_puts_the_catch_up_repoint_back_on_the_old_master() {
    let (ctx, cluster) = setup("", remote(false, false));
    for (n, read) in [(2, "mysql-bin.000010:900"), (3, "mysql-bin.000010:1000")] {
        let mut facts = slave_facts(n, 1, read);
        if let Some(r) = facts.replica.as_mut() {
            r.using_gtid = Some(MariaUsingGtid::SlavePos);
        }
        cluster.add(&format!("198.18.0.1{n}:3306"), facts);
    }
    let mut ctx = ctx;
    let mut config = (*ctx.kit.config).clone();
    config.servers[1].skip_reset_slave = true;
    ctx.kit.config = std::sync::Arc::new(config);
    let outcome = run(&ctx, dead()).await;
    let Outcome::Complete(summary) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        summary.new_master.as_deref(),
        Some("198.18.0.12(198.18.0.12:3306)")
    );
    let repoints: Vec<String> = cluster
        .log()
        .into_iter()
        .filter(|l| l.starts_with("198.18.0.12:3306: change_master"))
        .collect();
    assert_eq!(repoints.len(), 2, "{repoints:?}");
    assert!(repoints[0].contains("198.18.0.13:3306"), "{repoints:?}");
    assert!(repoints[1].contains("198.18.0.11:3306"), "{repoints:?}");
    assert!(
        !cluster
            .log()
            .iter()
            .any(|l| l.starts_with("198.18.0.12:3306: reset_replica_all")),
        "{:?}",
        cluster.log()
    );
}

/// MHA's `ignore_fail`: a slave so marked that dies while it is being
/// repointed is left behind with a warning; the failover is complete (exit
/// 0), and the report says why the slave was not recovered and that it was
/// not counted.
#[tokio::test]
async fn an_ignore_fail_slave_dying_mid_recovery_is_left_behind_and_the_failover_completes() {
    let (mut ctx, cluster) = setup("", remote(false, false));
    let mut config = (*ctx.kit.config).clone();
    config.servers[2].ignore_fail = true;
    ctx.kit.config = std::sync::Arc::new(config);
    cluster.with("198.18.0.13:3306", |s| {
        s.failing.insert("change_master".into(), FakeError::Timeout);
    });
    let outcome = run(&ctx, dead()).await;
    let Outcome::Complete(summary) = outcome else {
        panic!("expected a complete failover: {outcome:?}")
    };
    let lost: Vec<_> = summary
        .replicas
        .iter()
        .filter(|r| r.result.is_err())
        .collect();
    assert_eq!(lost.len(), 1, "{:?}", summary.replicas);
    assert!(lost[0].host.contains("198.18.0.13"));
    let report = crate::render::report::render(&ctx.kit.log.journal());
    assert!(
        report
            .body
            .contains("ignore_fail=1: left behind, not counted"),
        "{}",
        report.body
    );
}
