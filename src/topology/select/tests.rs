//! Election table: one row per rule, bad reason and tie, as MHA decides.

use super::*;
use crate::topology::fixture::*;
use crate::topology::snapshot::Node;

const LATEST: &str = "mysql-bin.000010:5000";
const BEHIND: &str = "mysql-bin.000010:4000";

/// Slave `n` of server 1 read (and executed) up to `at`.
fn s(n: usize, at: &str) -> Node {
    slave(n, 1, at)
}

fn cand(node: Node) -> Node {
    node.with_spec(|x| x.candidate_master = true)
}

fn no_master(node: Node) -> Node {
    node.with_spec(|x| x.no_master = true)
}

struct Row {
    case: &'static str,
    nodes: Vec<Node>,
    rules: ElectionRules,
    /// Server number chosen (server n is index n-1).
    chosen: Option<usize>,
    rule: Option<ChosenBy>,
    /// (server number, fragment of the verdict's Display).
    verdicts: Vec<(usize, &'static str)>,
    /// Fragment of the refusal's Display, when nothing is chosen.
    refusal: Option<&'static str>,
}

/// MariaDB `gtid_binlog_state` (and the positions it implies) of a server.
fn maria_at(node: Node, state: &str) -> Node {
    use crate::topology::gtid::{MariaGtidPos, MariaGtidState};
    use crate::topology::status::GtidFacts;
    let pos = MariaGtidPos::parse(state).expect("pos");
    let binlog_state = MariaGtidState::parse(state).expect("state");
    node.with_facts(move |f| {
        f.gtid = GtidFacts::MariaDb {
            binlog_pos: pos.clone(),
            slave_pos: pos.clone(),
            current_pos: pos,
            binlog_state,
        }
    })
}

const UM: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const US: &str = "8a94f357-aab4-11df-86ab-c80aa9429563";

/// A MySQL 8.4 server with `gtid_executed` = `executed` (`M`/`S` are UUIDs).
fn mysql_at(node: Node, executed: &str) -> Node {
    use crate::topology::gtid::GtidSet;
    use crate::topology::status::GtidFacts;
    let set = GtidSet::parse(&executed.replace('M', UM).replace('S', US)).expect("set");
    node.mysql("8.4.0").with_facts(move |f| {
        f.gtid = GtidFacts::MySql {
            enabled: true,
            executed: set,
        }
    })
}

fn allow_errant() -> ElectionRules {
    ElectionRules {
        allow_errant: true,
        ..ElectionRules::default()
    }
}

fn rules() -> ElectionRules {
    ElectionRules::default()
}

fn no_latest_priority() -> ElectionRules {
    ElectionRules {
        latest_priority: false,
        ..ElectionRules::default()
    }
}

fn forced(host: &str) -> ElectionRules {
    ElectionRules {
        forced: Some(host.to_string()),
        ..ElectionRules::default()
    }
}

/// Servers `ns` (numbers) acknowledged the dead master's semi-sync.
fn acked(ns: &[usize]) -> ElectionRules {
    ElectionRules {
        semi_sync_ackers: ns.iter().map(|&n| id(n - 1)).collect(),
        ..ElectionRules::default()
    }
}

fn no_delay_check() -> ElectionRules {
    ElectionRules {
        check_repl_delay: false,
        ..ElectionRules::default()
    }
}

fn table() -> Vec<Row> {
    use ChosenBy::*;
    vec![
        Row {
            case: "rule 1: latest candidate beats an earlier latest slave and an earlier candidate",
            nodes: vec![master(1), s(2, LATEST), cand(s(3, BEHIND)), cand(s(4, LATEST))],
            rules: rules(),
            chosen: Some(4), rule: Some(LatestCandidate),
            verdicts: vec![
                (2, "not a candidate_master; 198.18.0.14(198.18.0.14:3306) is a candidate_master with the latest relay log"),
                (3, "does not have the latest relay log; 198.18.0.14"),
                (4, "chosen: a candidate_master with the latest relay log"),
            ],
            refusal: None,
        },
        Row {
            case: "rule 2: a behind candidate beats a latest non-candidate",
            nodes: vec![master(1), s(2, LATEST), cand(s(3, BEHIND))],
            rules: rules(),
            chosen: Some(3), rule: Some(Candidate),
            verdicts: vec![(2, "not a candidate_master; 198.18.0.13(198.18.0.13:3306) is the first eligible candidate_master")],
            refusal: None,
        },
        Row {
            case: "rule 2: candidates in config order",
            nodes: vec![master(1), cand(s(2, BEHIND)), cand(s(3, BEHIND)), s(4, LATEST)],
            rules: rules(),
            chosen: Some(2), rule: Some(Candidate),
            verdicts: vec![(3, "also eligible, but 198.18.0.12(198.18.0.12:3306) comes first in config order")],
            refusal: None,
        },
        Row {
            case: "rule 3: latest when no candidate is eligible",
            nodes: vec![master(1), s(2, BEHIND), s(3, LATEST), no_master(cand(s(4, LATEST)))],
            rules: rules(),
            chosen: Some(3), rule: Some(Latest),
            verdicts: vec![
                (2, "does not have the latest relay log; 198.18.0.13(198.18.0.13:3306) is the first eligible slave with the latest relay log"),
                (4, "no_master=1"),
            ],
            refusal: None,
        },
        Row {
            case: "tie among latest slaves: config order",
            nodes: vec![master(1), s(2, LATEST), s(3, LATEST)],
            rules: rules(),
            chosen: Some(2), rule: Some(Latest),
            verdicts: vec![(3, "also eligible, but 198.18.0.12(198.18.0.12:3306) comes first")],
            refusal: None,
        },
        Row {
            case: "tie among latest candidates: config order",
            nodes: vec![master(1), cand(s(2, LATEST)), cand(s(3, LATEST))],
            rules: rules(),
            chosen: Some(2), rule: Some(LatestCandidate),
            verdicts: vec![(3, "also eligible, but 198.18.0.12")],
            refusal: None,
        },
        Row {
            case: "rule 4: the latest slave is no_master, so config order among the rest",
            nodes: vec![master(1), no_master(s(2, LATEST)), s(3, BEHIND), s(4, BEHIND)],
            rules: rules(),
            chosen: Some(3), rule: Some(ConfigOrder),
            verdicts: vec![
                (2, "cannot be master: no_master=1 is set"),
                (4, "198.18.0.13(198.18.0.13:3306) comes first in config order"),
            ],
            refusal: None,
        },
        Row {
            case: "latest_priority=0: first slave in config order, not the latest",
            nodes: vec![master(1), s(2, BEHIND), s(3, LATEST)],
            rules: no_latest_priority(),
            chosen: Some(2), rule: Some(ConfigOrder),
            verdicts: vec![(3, "comes first in config order")],
            refusal: None,
        },
        Row {
            case: "latest_priority=0: candidates in config order, latest ignored",
            nodes: vec![master(1), cand(s(2, BEHIND)), cand(s(3, LATEST))],
            rules: no_latest_priority(),
            chosen: Some(2), rule: Some(Candidate),
            verdicts: vec![(3, "also eligible, but 198.18.0.12")],
            refusal: None,
        },
        Row {
            case: "bad: unreachable and binlog off",
            nodes: vec![master(1), down(2, "Can't connect (111)"), s(3, LATEST).with_facts(|f| f.log_bin = false), s(4, BEHIND)],
            rules: rules(),
            chosen: Some(4), rule: Some(ConfigOrder),
            verdicts: vec![(2, "unreachable (Can't connect (111))"), (3, "binary logging is off")],
            refusal: None,
        },
        Row {
            case: "bad: a newer major version than the oldest slave (10.11 vs 10.6)",
            nodes: vec![master(1), s(2, LATEST), s(3, BEHIND).version("10.6.16-MariaDB-log")],
            rules: rules(),
            chosen: Some(3), rule: Some(ConfigOrder),
            verdicts: vec![(2, "it runs 10.11, newer than the oldest slave's 10.6")],
            refusal: None,
        },
        Row {
            case: "patch versions do not matter",
            nodes: vec![master(1), s(2, LATEST).version("10.11.8-MariaDB"), s(3, BEHIND)],
            rules: rules(),
            chosen: Some(2), rule: Some(Latest),
            verdicts: vec![(3, "does not have the latest relay log")],
            refusal: None,
        },
        Row {
            case: "bad: SQL thread in an older binlog file than the latest read",
            nodes: vec![master(1), cand(s(2, LATEST).exec_at("mysql-bin.000009:99999")), s(3, LATEST)],
            rules: rules(),
            chosen: Some(3), rule: Some(Latest),
            verdicts: vec![(2, "executed up to mysql-bin.000009:99999, while the latest slave has read up to mysql-bin.000010:5000 (an older binlog file)")],
            refusal: None,
        },
        Row {
            case: "bad: more than 100,000,000 bytes behind in the same file",
            nodes: vec![master(1), cand(s(2, "mysql-bin.000010:100000200").exec_at("mysql-bin.000010:100")), s(3, "mysql-bin.000010:100000200").exec_at("mysql-bin.000010:200")],
            rules: rules(),
            chosen: Some(3), rule: Some(Latest),
            verdicts: vec![(2, "(100000100 bytes, more than 100000000)")],
            refusal: None,
        },
        Row {
            case: "check_repl_delay=0 keeps the lagging candidate",
            nodes: vec![master(1), cand(s(2, LATEST).exec_at("mysql-bin.000009:99999")), s(3, LATEST)],
            rules: no_delay_check(),
            chosen: Some(2), rule: Some(LatestCandidate),
            verdicts: vec![(3, "not a candidate_master")],
            refusal: None,
        },
        Row {
            case: "numeric file order: .1000000 is newer than .999999",
            nodes: vec![master(1), s(2, "mysql-bin.999999:9000"), s(3, "mysql-bin.1000000:4")],
            rules: no_delay_check(),
            chosen: Some(3), rule: Some(Latest),
            verdicts: vec![(2, "does not have the latest relay log")],
            refusal: None,
        },
        Row {
            case: "bad: not a replica, SQL thread failed, slave of a slave",
            nodes: vec![
                master(1),
                master(2),
                s(3, LATEST).with_replica(|r| { r.sql_running = false; r.last_sql_errno = 1062; r.last_sql_error = "Duplicate entry".into() }),
                slave(4, 5, "mysql-bin.000001:4"),
                s(5, BEHIND),
            ],
            rules: rules(),
            chosen: Some(5), rule: Some(Latest),
            verdicts: vec![(2, "not replicating"), (3, "stopped on error 1062: Duplicate entry"), (4, "replicates from 198.18.0.15(198.18.0.15:3306), not from the master")],
            refusal: None,
        },
        Row {
            case: "forced host, good, beats a latest candidate",
            nodes: vec![master(1), cand(s(2, LATEST)), s(3, BEHIND)],
            rules: forced("198.18.0.13"),
            chosen: Some(3), rule: Some(Forced),
            verdicts: vec![(2, "198.18.0.13(198.18.0.13:3306) was named with --new-master-host"), (3, "chosen: named with --new-master-host")],
            refusal: None,
        },
        Row {
            case: "forced by block name",
            nodes: vec![master(1), s(2, LATEST), s(3, BEHIND)],
            rules: forced("server3"),
            chosen: Some(3), rule: Some(Forced),
            verdicts: vec![],
            refusal: None,
        },
        Row {
            case: "forced by ip:port",
            nodes: vec![master(1), s(2, LATEST), s(3, BEHIND)],
            rules: forced("198.18.0.13:3306"),
            chosen: Some(3), rule: Some(Forced),
            verdicts: vec![],
            refusal: None,
        },
        Row {
            case: "forced host is bad: nothing chosen, reason given",
            nodes: vec![master(1), s(2, LATEST), no_master(s(3, BEHIND))],
            rules: forced("198.18.0.13"),
            chosen: None, rule: None,
            verdicts: vec![(2, "not considered: --new-master-host named 198.18.0.13"), (3, "no_master=1")],
            refusal: Some("--new-master-host 198.18.0.13(198.18.0.13:3306) cannot be the new master: no_master=1"),
        },
        Row {
            case: "forced host is unreachable",
            nodes: vec![master(1), s(2, LATEST), down(3, "timeout")],
            rules: forced("198.18.0.13"),
            chosen: None, rule: None,
            verdicts: vec![(3, "unreachable (timeout)")],
            refusal: Some("cannot be the new master: unreachable (timeout)"),
        },
        Row {
            case: "forced host unknown",
            nodes: vec![master(1), s(2, LATEST)],
            rules: forced("db9"),
            chosen: None, rule: None,
            verdicts: vec![(2, "not considered")],
            refusal: Some("--new-master-host db9 names no configured server"),
        },
        Row {
            case: "forced host is the master",
            nodes: vec![master(1), s(2, LATEST)],
            rules: forced("198.18.0.11"),
            chosen: None, rule: None,
            verdicts: vec![],
            refusal: Some("is the current master"),
        },
        Row {
            case: "forced host ambiguous without a port",
            nodes: vec![master(1), s(2, LATEST), s(3, BEHIND).with_spec(|x| { x.hostname = "db2".into(); x.ip = Some("10.0.0.2".into()); }), s(4, BEHIND).with_spec(|x| { x.hostname = "db2".into(); x.ip = Some("10.0.0.2".into()); x.port = 3307; })],
            rules: forced("db2"),
            chosen: None, rule: None,
            verdicts: vec![],
            refusal: Some("matches several servers"),
        },
        Row {
            case: "all bad: nothing chosen",
            nodes: vec![master(1), no_master(s(2, LATEST)), s(3, BEHIND).with_facts(|f| f.log_bin = false), down(4, "x")],
            rules: rules(),
            chosen: None, rule: None,
            verdicts: vec![(2, "no_master"), (3, "binary logging is off"), (4, "unreachable")],
            refusal: Some("none of the slaves can be the new master"),
        },
        Row {
            case: "errant candidate (live master): passed over with its GTIDs, the latest slave chosen",
            nodes: vec![maria_at(master(1), "0-1-100"), maria_at(cand(s(2, LATEST)), "0-1-100,0-2-3"), maria_at(s(3, LATEST), "0-1-100")],
            rules: rules(),
            chosen: Some(3), rule: Some(Latest),
            verdicts: vec![(2, "cannot be master: it has 1 errant GTID(s), transactions its master lacks (0-2-3)"), (2, "allow_errant_promotion=1")],
            refusal: None,
        },
        Row {
            case: "allow_errant_promotion=1: the errant candidate is promoted",
            nodes: vec![maria_at(master(1), "0-1-100"), maria_at(cand(s(2, LATEST)), "0-1-100,0-2-3"), maria_at(s(3, LATEST), "0-1-100")],
            rules: allow_errant(),
            chosen: Some(2), rule: Some(LatestCandidate),
            verdicts: vec![],
            refusal: None,
        },
        Row {
            case: "semi-sync: among equally latest slaves the acknowledging one beats config order",
            nodes: vec![down(1, "dead"), s(2, LATEST), s(3, LATEST)],
            rules: acked(&[3]),
            chosen: Some(3), rule: Some(Latest),
            verdicts: vec![],
            refusal: None,
        },
        Row {
            case: "dead master: an errant candidate, told by its peer, is passed over",
            nodes: vec![down(1, "dead"), maria_at(cand(s(2, LATEST)), "0-1-120,0-2-3"), maria_at(s(3, BEHIND), "0-1-100")],
            rules: rules(),
            chosen: Some(3), rule: Some(ConfigOrder),
            verdicts: vec![(2, "errant GTID(s), transactions its master lacks (0-2-3)")],
            refusal: None,
        },
        Row {
            case: "dead master: the latest candidate has more of the master's own GTIDs, not errant",
            nodes: vec![down(1, "dead"), maria_at(cand(s(2, LATEST)), "0-1-120"), maria_at(s(3, BEHIND), "0-1-100")],
            rules: rules(),
            chosen: Some(2), rule: Some(LatestCandidate),
            verdicts: vec![],
            refusal: None,
        },
        Row {
            case: "semi-sync: among candidates the acknowledging one comes first",
            nodes: vec![down(1, "dead"), cand(s(2, LATEST)), cand(s(3, LATEST))],
            rules: acked(&[3]),
            chosen: Some(3), rule: Some(LatestCandidate),
            verdicts: vec![],
            refusal: None,
        },
        Row {
            case: "semi-sync does not outrank the candidate flag",
            nodes: vec![down(1, "dead"), s(2, LATEST), cand(s(3, LATEST))],
            rules: acked(&[2]),
            chosen: Some(3), rule: Some(LatestCandidate),
            verdicts: vec![],
            refusal: None,
        },
        Row {
            case: "semi-sync does not outrank freshness",
            nodes: vec![down(1, "dead"), s(2, LATEST), s(3, BEHIND)],
            rules: acked(&[3]),
            chosen: Some(2), rule: Some(Latest),
            verdicts: vec![],
            refusal: None,
        },
        Row {
            case: "semi-sync without latest_priority: the acknowledging one beats config order",
            nodes: vec![down(1, "dead"), s(2, LATEST), s(3, BEHIND)],
            rules: ElectionRules { semi_sync_ackers: vec![id(2)], ..no_latest_priority() },
            chosen: Some(3), rule: Some(ConfigOrder),
            verdicts: vec![],
            refusal: None,
        },
        Row {
            case: "MySQL: a lagging slave is not errant; the errant latest one is passed over",
            nodes: vec![mysql_at(master(1), "M:1-100"), mysql_at(s(2, LATEST), "M:1-100,S:1-2"), mysql_at(s(3, BEHIND), "M:1-90")],
            rules: rules(),
            chosen: Some(3), rule: Some(ConfigOrder),
            verdicts: vec![(2, "it has 2 errant GTID(s), transactions its master lacks (8a94f357-aab4-11df-86ab-c80aa9429563:1-2)")],
            refusal: None,
        },
        Row {
            case: "MySQL: --new-master-host names an errant slave: refused with the GTIDs",
            nodes: vec![mysql_at(master(1), "M:1-100"), mysql_at(s(2, LATEST), "M:1-100,S:1-2"), mysql_at(s(3, LATEST), "M:1-100")],
            rules: forced("198.18.0.12"),
            chosen: None, rule: None,
            verdicts: vec![],
            refusal: Some("--new-master-host 198.18.0.12(198.18.0.12:3306) cannot be the new master: it has 2 errant GTID(s)"),
        },
        Row {
            case: "semi-sync: a bad acknowledging slave is still bad",
            nodes: vec![down(1, "dead"), s(2, LATEST), no_master(s(3, LATEST))],
            rules: acked(&[3]),
            chosen: Some(2), rule: Some(Latest),
            verdicts: vec![(3, "no_master")],
            refusal: None,
        },
        Row {
            case: "dead master (unreachable) is excluded, not judged",
            nodes: vec![down(1, "dead"), s(2, BEHIND), s(3, LATEST)],
            rules: rules(),
            chosen: Some(3), rule: Some(Latest),
            verdicts: vec![],
            refusal: None,
        },
    ]
}

#[test]
fn election_table() {
    for row in table() {
        let topo = topology(row.nodes);
        let election = select_new_master(&topo, id(0), &row.rules);
        let case = row.case;
        let shown = election
            .verdicts
            .iter()
            .map(|(i, v)| format!("\n  server{}: {v}", i.index() + 1))
            .collect::<String>();
        assert_eq!(
            election.chosen,
            row.chosen.map(|n| id(n - 1)),
            "{case}{shown}"
        );
        assert_eq!(election.rule, row.rule, "{case}");
        assert_eq!(
            election.verdicts.len(),
            topo.len() - 1,
            "{case}: every other server judged"
        );
        assert!(
            election.verdicts.iter().all(|(i, _)| *i != id(0)),
            "{case}: master judged"
        );
        for (n, fragment) in row.verdicts {
            let verdict = election
                .verdict(id(n - 1))
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                verdict.contains(fragment),
                "{case}: server{n}: {verdict:?} lacks {fragment:?}"
            );
        }
        match (row.refusal, &election.refusal) {
            (None, None) => {}
            (Some(want), Some(got)) => assert!(got.to_string().contains(want), "{case}: {got}"),
            (want, got) => panic!("{case}: refusal {got:?}, wanted {want:?}"),
        }
        // Every non-chosen server has a non-Chosen verdict.
        for (i, v) in &election.verdicts {
            assert_eq!(
                matches!(v, Verdict::Chosen(_)),
                Some(*i) == election.chosen,
                "{case}"
            );
        }
    }
}

#[test]
fn latest_and_oldest_sets() {
    let topo = topology(vec![
        master(1),
        s(2, "mysql-bin.000010:5000"),
        s(3, "mysql-bin.000009:9000"),
        s(4, "mysql-bin.000010:5000"),
        s(5, "mysql-bin.000009:9000"),
        down(6, "x"),
    ]);
    assert_eq!(
        latest_and_oldest(&topo, &ids(&[1, 2, 3, 4, 5])),
        (ids(&[1, 3]), ids(&[2, 4]))
    );
    assert_eq!(latest_and_oldest(&topo, &ids(&[2])), (ids(&[2]), ids(&[2])));
    // The master and an unreachable server have no read position.
    assert_eq!(latest_and_oldest(&topo, &ids(&[0, 5])), (vec![], vec![]));
    let e = select_new_master(&topo, id(0), &ElectionRules::default());
    assert_eq!((e.latest, e.oldest), (ids(&[1, 3]), ids(&[2, 4])));
}

#[test]
fn latest_excludes_failed_and_unmanaged_slaves() {
    // A slave whose SQL thread failed is not an "alive slave" (MHA): it
    // neither is nor defines the latest.
    let topo = topology(vec![
        master(1),
        s(2, BEHIND),
        s(3, LATEST).with_replica(|r| {
            r.sql_running = false;
            r.last_sql_errno = 1032;
        }),
    ]);
    let e = select_new_master(&topo, id(0), &ElectionRules::default());
    assert_eq!(e.latest, ids(&[1]));
    assert_eq!(e.chosen, Some(id(1)));
    // A stopped SQL thread without an error is fine (e.g. a paused slave).
    let topo = topology(vec![
        master(1),
        s(2, LATEST).with_replica(|r| r.sql_running = false),
    ]);
    assert_eq!(
        select_new_master(&topo, id(0), &ElectionRules::default()).chosen,
        Some(id(1))
    );
}

#[test]
fn oldest_version_ignores_bad_slaves() {
    // The oldest version is over alive slaves, including no_master ones.
    let topo = topology(vec![
        master(1),
        s(2, LATEST),
        no_master(s(3, BEHIND)).version("10.6.16-MariaDB"),
    ]);
    let e = select_new_master(&topo, id(0), &ElectionRules::default());
    assert_eq!(e.chosen, None);
    assert!(matches!(
        e.verdict(id(1)),
        Some(Verdict::Bad(Reason::NewerMajorVersion { .. }))
    ));
    // ...but not unreachable ones.
    let topo = topology(vec![master(1), s(2, LATEST), down(3, "x")]);
    assert_eq!(
        select_new_master(&topo, id(0), &ElectionRules::default()).chosen,
        Some(id(1))
    );
}

#[test]
fn odd_inputs_do_not_panic() {
    let empty = topology(vec![]);
    let e = select_new_master(&empty, id(0), &ElectionRules::default());
    assert_eq!((e.chosen, e.refusal), (None, Some(Refusal::NoneEligible)));
    let topo = topology(vec![master(1), s(2, LATEST)]);
    // A master id that names no server in the topology (ids come from the
    // configuration, so only a test can make one): every server is judged.
    assert_eq!(
        select_new_master(&topo, id(7), &ElectionRules::default())
            .verdicts
            .len(),
        2
    );
}

#[test]
fn display_texts() {
    assert_eq!(
        Verdict::Chosen(ChosenBy::Candidate).to_string(),
        "chosen: the first eligible candidate_master in config order"
    );
    assert_eq!(
        Verdict::Outranked { winner: "server2".into(), rule: ChosenBy::LatestCandidate, candidate: false, latest: false }.to_string(),
        "not chosen: not a candidate_master and does not have the latest relay log; server2 is a candidate_master with the latest relay log"
    );
    assert_eq!(
        Reason::TooFarBehind { exec: pos("b.000002:10"), latest_read: pos("b.000002:500"), limit: 100 }.to_string(),
        "its SQL thread is too far behind: executed up to b.000002:10, while the latest slave has read up to b.000002:500 (490 bytes, more than 100), so recovery would take long"
    );
    assert_eq!(ElectionRules::default().max_delay_bytes, 100_000_000);
}
