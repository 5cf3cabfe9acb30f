//! Tier-2 tests of MHA's failover options and `ignore_fail` through the
//! phases, against the scripted fake cluster.

use super::tests::{dead, made_writable, setup};
use super::*;
use crate::mysql::fake::FakeCluster;
use crate::topology::fixture::slave_facts;
use crate::transport::fake::{remote, FakeRemote};

/// File/position mode, both slaves at the same point (no difference to apply).
fn setup_filepos_even(remote: FakeRemote) -> (Ctx, FakeCluster) {
    let (ctx, cluster) = setup("", remote);
    for n in [2, 3] {
        let mut facts = slave_facts(n, 1, "mysql-bin.000010:1000");
        if let Some(r) = facts.replica.as_mut() {
            r.using_gtid = None;
        }
        cluster.add(&format!("198.18.0.1{n}:3306"), facts);
    }
    (ctx, cluster)
}

fn ops(cluster: &FakeCluster, host: &str, op: &str) -> usize {
    cluster
        .log()
        .iter()
        .filter(|l| l.starts_with(&format!("{host}:3306: {op}")))
        .count()
}

#[tokio::test]
async fn skip_disable_read_only_leaves_the_new_master_read_only() {
    let (mut ctx, cluster) = setup("", remote(false, false));
    ctx.options.skip_disable_read_only = true;
    let outcome = run(&ctx, dead()).await;
    assert!(matches!(outcome, Outcome::Complete(_)), "{outcome:?}");
    assert!(made_writable(&cluster).is_empty(), "{:#?}", cluster.log());
    assert_eq!(
        ops(&cluster, "198.18.0.13", "change_master"),
        1,
        "slaves repointed as usual"
    );
    let journal = ctx.kit.log.journal();
    assert!(
        journal
            .entries()
            .iter()
            .any(|e| e.action.contains("--skip-disable-read-only")),
        "{:#?}",
        journal.entries()
    );
}

#[tokio::test]
async fn skip_change_master_leaves_the_slaves_stopped_and_skips_the_cleanup() {
    for filepos in [false, true] {
        let (mut ctx, cluster) = if filepos {
            setup_filepos_even(remote(false, false))
        } else {
            setup("", remote(false, false))
        };
        ctx.options.skip_change_master = true;
        let outcome = run(&ctx, dead()).await;
        let Outcome::Complete(summary) = outcome else {
            panic!("{outcome:?}\n{:#?}", cluster.log())
        };
        let (new, other) = ("198.18.0.12", "198.18.0.13");
        assert_eq!(
            made_writable(&cluster),
            [format!("{new}:3306: set_read_only false")],
            "the new master is opened"
        );
        assert_eq!(
            ops(&cluster, other, "change_master"),
            0,
            "not repointed: {:#?}",
            cluster.log()
        );
        assert!(
            ops(&cluster, other, "stop_replica") >= 1,
            "{:#?}",
            cluster.log()
        );
        assert_eq!(
            ops(&cluster, new, "reset_replica"),
            0,
            "no phase 5: {:#?}",
            cluster.log()
        );
        let r = &summary.replicas[0];
        let want = if filepos { "at mysql-bin." } else { "by GTID" };
        assert!(
            r.result
                .as_ref()
                .is_ok_and(|t| t.contains("--skip-change-master") && t.contains(want)),
            "{r:?}"
        );
    }
}

/// A `[binlog1]` server on 198.18.0.14 whose sshd refuses; the master's host is gone too.
fn setup_binlog_server_down() -> (Ctx, FakeCluster) {
    let mut ssh = remote(false, false);
    ssh.down_hosts = vec!["198.18.0.14".into()];
    setup("\n[binlog1]\nhostname=198.18.0.14\n", ssh)
}

#[tokio::test]
async fn every_binlog_server_failing_stops_the_failover_before_any_promotion() {
    let (ctx, cluster) = setup_binlog_server_down();
    let outcome = run(&ctx, dead()).await;
    match &outcome {
        Outcome::Failed { phase, error, .. } => {
            assert_eq!(*phase, Phase::MasterRecovery);
            assert!(
                error.to_string().contains("--ignore-binlog-server-error"),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(made_writable(&cluster).is_empty(), "{:#?}", cluster.log());
    assert_eq!(ops(&cluster, "198.18.0.13", "change_master"), 0);
}

#[tokio::test]
async fn ignore_binlog_server_error_makes_their_failure_a_warning() {
    let (mut ctx, cluster) = setup_binlog_server_down();
    ctx.options.ignore_binlog_server_error = true;
    let outcome = run(&ctx, dead()).await;
    let Outcome::Complete(summary) = outcome else {
        panic!("{outcome:?}\n{:#?}", cluster.log())
    };
    assert!(
        summary.possibly_lost.is_some(),
        "the loss is still reported"
    );
    let journal = ctx.kit.log.journal();
    assert!(
        journal
            .entries()
            .iter()
            .any(|e| e.action.contains("--ignore-binlog-server-error")),
        "{:#?}",
        journal.entries()
    );
}
