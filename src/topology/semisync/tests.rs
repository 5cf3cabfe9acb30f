//! Table tests of the semi-sync reading, the watch and the durability verdict.

use super::*;
use std::time::{Duration, SystemTime};

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000 + secs)
}

#[test]
fn reads_mysql_and_mariadb_names() {
    // MySQL 8.0.26+ plugin names.
    let mysql = SemiSync::from_maps(
        &map(&[
            ("rpl_semi_sync_source_enabled", "ON"),
            ("rpl_semi_sync_source_timeout", "10000"),
            ("rpl_semi_sync_replica_enabled", "OFF"),
        ]),
        &map(&[
            ("rpl_semi_sync_source_status", "ON"),
            ("rpl_semi_sync_source_clients", "2"),
            ("rpl_semi_sync_source_yes_tx", "41"),
            ("rpl_semi_sync_source_no_tx", "1"),
            ("rpl_semi_sync_source_no_times", "1"),
        ]),
    );
    assert_eq!(
        mysql,
        SemiSync {
            source_enabled: Some(true),
            source_on: Some(true),
            clients: Some(2),
            yes_tx: Some(41),
            no_tx: Some(1),
            no_times: Some(1),
            timeout_ms: Some(10000),
            replica_enabled: Some(false),
            replica_on: None,
        }
    );
    assert!(mysql.in_effect() && !mysql.acknowledges());
    // MariaDB's built-in names on a replica.
    let maria = SemiSync::from_maps(
        &map(&[
            ("rpl_semi_sync_master_enabled", "OFF"),
            ("rpl_semi_sync_slave_enabled", "ON"),
        ]),
        &map(&[
            ("rpl_semi_sync_master_status", "OFF"),
            ("rpl_semi_sync_slave_status", "ON"),
        ]),
    );
    assert!(!maria.source_enabled() && !maria.in_effect() && maria.acknowledges());
    // No plugin: nothing said, nothing assumed.
    let none = SemiSync::from_maps(&HashMap::new(), &HashMap::new());
    assert_eq!(none, SemiSync::default());
    assert!(!none.source_enabled() && !none.acknowledges());
}

fn master(enabled: bool, on: bool, no_tx: u64) -> SemiSync {
    SemiSync {
        source_enabled: Some(enabled),
        source_on: Some(on),
        no_tx: Some(no_tx),
        ..SemiSync::default()
    }
}

/// (second, enabled, on, no_tx) of one reading of the master.
type Reading = (u64, bool, bool, u64);
/// Readings, and the expected start of the fall-back (second, no_tx then).
type Case = (&'static [Reading], Option<(u64, u64)>);

#[test]
fn the_watch_remembers_since_when_it_is_off() {
    // Readings (second, enabled, on, no_tx) → expected off_since (second, no_tx).
    let cases: Vec<Case> = vec![
        (&[], None),
        (&[(0, true, true, 0), (1, true, true, 0)], None),
        (
            &[(0, true, true, 0), (1, true, false, 0), (2, true, false, 5)],
            Some((1, 0)),
        ),
        // Back on: the fall-back is over, its start forgotten.
        (&[(0, true, false, 2), (1, true, true, 2)], None),
        // Off again later: the new start.
        (
            &[(0, true, false, 2), (1, true, true, 2), (5, true, false, 2)],
            Some((5, 2)),
        ),
        // Disabled is not "fallen back".
        (&[(0, false, false, 0)], None),
    ];
    for (readings, want) in cases {
        let mut watch = SemiSyncWatch::default();
        for &(s, enabled, on, no_tx) in readings {
            watch.observe(at(s), master(enabled, on, no_tx));
        }
        assert_eq!(
            watch.off_since,
            want.map(|(s, n)| (at(s), Some(n))),
            "{readings:?}"
        );
    }
}

#[test]
fn durability_from_the_watch_and_the_acknowledgers() {
    let watch = |readings: &[Reading]| {
        let mut w = SemiSyncWatch::default();
        for &(s, e, on, n) in readings {
            w.observe(at(s), master(e, on, n));
        }
        w
    };
    let h2 = vec!["h2".to_string()];
    let cases: Vec<(SemiSyncWatch, Vec<String>, Durability)> = vec![
        (SemiSyncWatch::default(), h2.clone(), Durability::Unknown),
        (
            watch(&[(0, false, false, 0)]),
            h2.clone(),
            Durability::NotEnabled,
        ),
        (
            watch(&[(0, true, true, 0), (3, true, true, 0)]),
            h2.clone(),
            Durability::Safe {
                acked_by: h2.clone(),
                seen_at: at(3),
            },
        ),
        (
            watch(&[(0, true, true, 0)]),
            Vec::new(),
            Durability::AckersGone { seen_at: at(0) },
        ),
        (
            watch(&[(0, true, true, 0), (4, true, false, 0), (9, true, false, 7)]),
            h2.clone(),
            Durability::FellBack {
                since: at(4),
                no_tx_then: Some(0),
                no_tx_last: Some(7),
                last_seen: at(9),
            },
        ),
    ];
    for (w, ackers, want) in cases {
        assert_eq!(durability(&w, ackers), want);
    }
}

#[test]
fn sentences_say_what_may_be_lost_and_since_when() {
    assert_eq!(Durability::Unknown.sentence(), None);
    assert_eq!(Durability::NotEnabled.sentence(), None);
    let safe = Durability::Safe {
        acked_by: vec!["h2".into(), "h3".into()],
        seen_at: at(0),
    }
    .sentence()
    .unwrap();
    assert!(
        safe.contains("h2, h3 acknowledged") && safe.contains("can have been lost"),
        "{safe}"
    );
    let fell = Durability::FellBack {
        since: at(60),
        no_tx_then: Some(2),
        no_tx_last: Some(9),
        last_seen: at(120),
    }
    .sentence()
    .unwrap();
    assert!(fell.contains("since 2026-05-28 20:27:40 UTC"), "{fell}");
    assert!(fell.contains("7 commit(s) went unacknowledged"), "{fell}");
    assert!(fell.contains("may have been lost"), "{fell}");
}
