//! Errant-transaction tables on both flavours: in sync, lagging, after a
//! failover (old masters' ids), local writes, other domains, dead master.

use super::*;
use crate::topology::fixture::*;
use crate::topology::gtid::MariaGtidPos;
use crate::topology::snapshot::Node;

const M: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const S: &str = "8a94f357-aab4-11df-86ab-c80aa9429563";
const OLD: &str = "2ccfc25b-ed86-11f1-9865-ee1355b1710e";

fn maria(binlog_state: &str, slave_pos: &str) -> GtidFacts {
    let state = MariaGtidState::parse(binlog_state).expect("state");
    let last = MariaGtidPos::parse(binlog_state).expect("pos");
    let slave_pos = MariaGtidPos::parse(slave_pos).expect("pos");
    let mut current_pos = last.clone();
    for g in slave_pos.domains.values() {
        current_pos.insert(*g);
    }
    GtidFacts::MariaDb {
        current_pos,
        binlog_pos: last,
        slave_pos,
        binlog_state: state,
    }
}

fn mysql(executed: &str) -> GtidFacts {
    GtidFacts::MySql {
        enabled: true,
        executed: GtidSet::parse(&expand(executed)).expect("set"),
    }
}

/// `M`, `S` and `OLD` stand for the UUIDs above.
fn expand(text: &str) -> String {
    text.replace("OLD", OLD).replace('M', M).replace('S', S)
}

/// (case, slave, reference servers, origin, errant as text or "" for none)
type Case = (
    &'static str,
    GtidFacts,
    Vec<GtidFacts>,
    Option<Origin>,
    &'static str,
);

fn maria_table() -> Vec<Case> {
    let none = None;
    vec![
        (
            "in sync",
            maria("0-1-100", "0-1-100"),
            vec![maria("0-1-100", "")],
            none.clone(),
            "",
        ),
        (
            "slave lags: lower sequence",
            maria("0-1-90", "0-1-90"),
            vec![maria("0-1-100", "")],
            none.clone(),
            "",
        ),
        (
            "local write on the slave (server_id 2)",
            maria("0-1-100,0-2-101", "0-1-100"),
            vec![maria("0-1-105", "")],
            none.clone(),
            "0-2-101",
        ),
        (
            "after a failover: the old master's id is on the new master too",
            maria("0-1-100,0-2-140", "0-2-140"),
            vec![maria("0-1-100,0-2-150", "0-1-100")],
            none.clone(),
            "",
        ),
        (
            "after two failovers: the slave was master once, the master has its ids",
            maria("0-1-100,0-2-150,0-3-50", "0-2-150"),
            vec![maria("0-1-100,0-2-150,0-3-50", "")],
            none.clone(),
            "",
        ),
        (
            "a former master writes again as a slave: higher seq than the master's for its id",
            maria("0-2-150,0-3-151", "0-2-150"),
            vec![maria("0-2-160,0-3-50", "")],
            none.clone(),
            "0-3-151",
        ),
        (
            "a domain the master never had",
            maria("0-1-100,1-3-5", "0-1-100"),
            vec![maria("0-1-100", "")],
            none.clone(),
            "1-3-5",
        ),
        (
            "no binlog on the slave: nothing to tell",
            maria("", "0-1-100"),
            vec![maria("0-1-100", "")],
            none.clone(),
            "",
        ),
        (
            "master without log_slave_updates: its gtid_slave_pos covers the old master's id",
            maria("0-1-100,0-2-150", "0-2-150"),
            vec![maria("0-2-160", "0-1-100")],
            none.clone(),
            "",
        ),
        (
            "dead master: the latest slave is ahead of the others in the master's id",
            maria("0-1-120", "0-1-120"),
            vec![maria("0-1-100", "0-1-100"), maria("0-1-110", "0-1-110")],
            Some(Origin::ServerId(1)),
            "",
        ),
        (
            "dead master: the candidate wrote locally",
            maria("0-1-120,0-2-5", "0-1-120"),
            vec![maria("0-1-100", "0-1-100")],
            Some(Origin::ServerId(1)),
            "0-2-5",
        ),
        (
            "dead master after a failover: the old master's id is on the peers",
            maria("0-1-100,0-2-130", "0-2-130"),
            vec![maria("0-1-100,0-2-120", "0-2-120")],
            Some(Origin::ServerId(2)),
            "",
        ),
    ]
}

fn mysql_table() -> Vec<Case> {
    let none = None;
    vec![
        (
            "in sync",
            mysql("M:1-100"),
            vec![mysql("M:1-100")],
            none.clone(),
            "",
        ),
        (
            "slave lags",
            mysql("M:1-90"),
            vec![mysql("M:1-100")],
            none.clone(),
            "",
        ),
        (
            "local writes on the slave",
            mysql("M:1-100,S:1-2"),
            vec![mysql("M:1-105")],
            none.clone(),
            "8a94f357-aab4-11df-86ab-c80aa9429563:1-2",
        ),
        (
            "after a failover: the old master's UUID is on the master too",
            mysql("OLD:1-50,M:1-90"),
            vec![mysql("OLD:1-50,M:1-100")],
            none.clone(),
            "",
        ),
        (
            "the slave was master once and wrote again",
            mysql("OLD:1-50,M:1-90,S:1-20"),
            vec![mysql("OLD:1-50,M:1-100,S:1-17")],
            none.clone(),
            "8a94f357-aab4-11df-86ab-c80aa9429563:18-20",
        ),
        (
            "a tagged local write",
            mysql("M:1-100:fix:1"),
            vec![mysql("M:1-100")],
            none.clone(),
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:fix:1",
        ),
        (
            "gap: one transaction in the middle the master lacks",
            mysql("M:1-100,S:5"),
            vec![mysql("M:1-100,S:1-4:6-9")],
            none.clone(),
            "8a94f357-aab4-11df-86ab-c80aa9429563:5",
        ),
        (
            "dead master: the latest slave is ahead in the master's UUID (and its tags)",
            mysql("OLD:1-50,M:1-120:batch:1-3"),
            vec![mysql("OLD:1-50,M:1-100")],
            Some(Origin::Uuid(M.into())),
            "",
        ),
        (
            "dead master: the candidate wrote locally",
            mysql("M:1-120,S:7"),
            vec![mysql("M:1-100"), mysql("M:1-110")],
            Some(Origin::Uuid(M.into())),
            "8a94f357-aab4-11df-86ab-c80aa9429563:7",
        ),
        (
            "gtid_mode OFF: nothing to tell",
            GtidFacts::MySql {
                enabled: false,
                executed: GtidSet::default(),
            },
            vec![mysql("M:1-100")],
            none.clone(),
            "",
        ),
    ]
}

#[test]
fn errant_tables_on_both_flavours() {
    for (case, slave, refs, origin, want) in maria_table().into_iter().chain(mysql_table()) {
        let mut reference = Reference::default();
        for r in &refs {
            reference.add(r);
        }
        reference.origin = origin;
        let got = errant(&slave, &reference)
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(got, want, "{case}");
    }
}

/// A three-server MariaDB topology: master 1 at `m`, slaves 2 and 3.
fn maria_topo(m: Option<&str>, s2: &str, s3: &str) -> Topology {
    let set = |node: Node, state: &str| {
        let state = state.to_string();
        node.with_facts(move |f| f.gtid = maria(&state, ""))
    };
    let master_node = match m {
        Some(state) => set(master(1), state),
        None => down(1, "Can't connect to server on '198.18.0.11' (111)"),
    };
    topology(vec![
        master_node,
        set(slave(2, 1, "mysql-bin.000010:1000"), s2),
        set(slave(3, 1, "mysql-bin.000010:1000"), s3),
    ])
}

#[test]
fn of_slave_against_the_live_master_or_the_peers() {
    let t = maria_topo(Some("0-1-100"), "0-1-100,0-2-7", "0-1-90");
    assert_eq!(
        of_slave(&t, id(0), id(1)).map(|e| e.to_string()),
        Some("0-2-7".into())
    );
    assert_eq!(of_slave(&t, id(0), id(2)), None, "lagging is not errant");

    // Dead master: server 2 has the master's id beyond server 3 (latest), and its own.
    let t = maria_topo(None, "0-1-120,0-2-7", "0-1-100");
    assert_eq!(
        of_slave(&t, id(0), id(1)).map(|e| e.to_string()),
        Some("0-2-7".into())
    );
    assert_eq!(of_slave(&t, id(0), id(2)), None);

    // Dead master, one slave: nothing to compare with, nothing called errant.
    let t = topology(vec![
        down(1, "gone"),
        slave(2, 1, "mysql-bin.000010:1000").with_facts(|f| f.gtid = maria("0-1-100,0-2-7", "")),
    ]);
    assert_eq!(of_slave(&t, id(0), id(1)), None);
}

#[test]
fn problems_name_the_slave_the_gtids_and_the_fix() {
    let t = maria_topo(Some("0-1-100"), "0-1-100,0-2-7", "0-1-100");
    let problems = problems(&t, id(0), &[id(1), id(2)]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.severity, Severity::Warning);
    assert!(p.host.contains("198.18.0.12"), "{p:?}");
    assert!(
        p.what.contains("1 errant transaction(s)") && p.what.contains("0-2-7"),
        "{p:?}"
    );
    assert!(p.what.contains("198.18.0.11"), "names the master: {p:?}");
    assert!(
        p.fix.contains("RESET MASTER") && p.fix.contains("sql_log_bin=0"),
        "{p:?}"
    );

    let errant = Errant::MySql(GtidSet::parse(&expand("S:1-2")).expect("set"));
    let fix = errant.fix("s", "m");
    assert!(
        fix.contains(&format!("SET GTID_NEXT='{S}:1'; BEGIN; COMMIT; SET GTID_NEXT='{S}:2'; BEGIN; COMMIT; SET GTID_NEXT='AUTOMATIC';")),
        "{fix}"
    );
}

#[test]
fn inject_sql_is_bounded_and_says_how_many_more() {
    let set = GtidSet::parse(&expand("S:1-10,M:3")).expect("set");
    let text = inject_sql(&set, 2);
    assert_eq!(text.matches("BEGIN; COMMIT;").count(), 2, "{text}");
    assert!(text.contains("the 9 other GTIDs"), "{text}");
    assert!(text.ends_with("SET GTID_NEXT='AUTOMATIC';"), "{text}");
}
