//! `check-repl`'s semi-sync lines: whether the master waits for acknowledgements,
//! whether it has fallen back to async, and which replicas acknowledge.

use crate::config::ServerId;
use crate::topology::semisync;
use crate::topology::snapshot::Topology;

/// The lines for `master` and its replicas; empty when the master's facts are unknown.
pub(crate) fn lines(topology: &Topology, master: ServerId) -> Vec<String> {
    let Some(facts) = topology.facts(master) else {
        return Vec::new();
    };
    let s = &facts.semi_sync;
    let label = topology.label(master);
    let ackers: Vec<String> = semisync::acknowledging(topology, master)
        .into_iter()
        .map(|i| topology.label(i))
        .collect();
    let others: Vec<String> = topology
        .ids()
        .filter(|&i| i != master && topology.source_of(i) == Some(master))
        .map(|i| topology.label(i))
        .filter(|l| !ackers.contains(l))
        .collect();
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    let counters = {
        let n = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
        format!(
            "{} semi-sync client(s), timeout {} ms; acknowledged commits {}, unacknowledged {}, \
             fell back to async {} time(s)",
            n(s.clients),
            n(s.timeout_ms),
            n(s.yes_tx),
            n(s.no_tx),
            n(s.no_times)
        )
    };
    if !s.source_enabled() {
        let note = if ackers.is_empty() {
            String::new()
        } else {
            format!(
                " ({} would acknowledge, but the master does not wait)",
                list(&ackers)
            )
        };
        return vec![format!(
            "[info] Semi-sync: off on master {label}: asynchronous replication{note}."
        )];
    }
    if !s.in_effect() {
        return vec![format!(
            "[warning] {label}: semi-sync is enabled but has fallen back to asynchronous \
             replication ({counters}); commits do not wait for any replica, so a failover may \
             lose them. Acknowledging replicas: {}. Fix: find why no replica acknowledges \
             within the timeout (replica semi-sync enabled? IO thread running?).",
            list(&ackers)
        )];
    }
    let mut out = vec![format!(
        "[info] Semi-sync: on on master {label} ({counters}). Acknowledging: {}; not \
         acknowledging: {}.",
        list(&ackers),
        list(&others)
    )];
    if ackers.is_empty() {
        out.push(format!(
            "[warning] {label}: semi-sync is on, but no configured replica acknowledges: an \
             acknowledged commit may be on a server this manager does not know. Fix: enable \
             semi-sync on a configured replica (rpl_semi_sync_replica_enabled / \
             rpl_semi_sync_slave_enabled)."
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::fixture::{id, master, slave};
    use crate::topology::semisync::SemiSync;
    use crate::topology::snapshot::{NodeState, Topology};

    fn with(mut topo: Topology, index: usize, s: SemiSync) -> Topology {
        if let NodeState::Reachable(o) = &mut topo.node_mut(id(index)).state {
            o.facts.semi_sync = s;
        }
        topo
    }

    fn source(on: bool) -> SemiSync {
        SemiSync {
            source_enabled: Some(true),
            source_on: Some(on),
            clients: Some(1),
            yes_tx: Some(10),
            no_tx: Some(if on { 0 } else { 3 }),
            no_times: Some(u64::from(!on)),
            timeout_ms: Some(10000),
            ..SemiSync::default()
        }
    }

    fn acker() -> SemiSync {
        SemiSync {
            replica_enabled: Some(true),
            replica_on: Some(true),
            ..SemiSync::default()
        }
    }

    fn three() -> Topology {
        Topology::new(vec![
            master(1),
            slave(2, 1, "mysql-bin.000010:1000"),
            slave(3, 1, "mysql-bin.000010:1000"),
        ])
    }

    #[test]
    fn says_what_semi_sync_does_and_who_acknowledges() {
        // (master's state, replica 2, replica 3, expected fragments, warning?)
        let cases: Vec<(SemiSync, SemiSync, SemiSync, &[&str], bool)> = vec![
            (
                SemiSync::default(),
                SemiSync::default(),
                SemiSync::default(),
                &["Semi-sync: off on master", "asynchronous replication."],
                false,
            ),
            (
                SemiSync::default(),
                acker(),
                SemiSync::default(),
                &["would acknowledge, but the master does not wait"],
                false,
            ),
            (
                source(true),
                acker(),
                SemiSync::default(),
                &[
                    "Semi-sync: on on master",
                    "Acknowledging: 198.18.0.12(198.18.0.12:3306)",
                    "not acknowledging: 198.18.0.13(198.18.0.13:3306)",
                    "acknowledged commits 10",
                ],
                false,
            ),
            (
                source(false),
                acker(),
                SemiSync::default(),
                &[
                    "fallen back to asynchronous",
                    "unacknowledged 3",
                    "fell back to async 1",
                ],
                true,
            ),
            (
                source(true),
                SemiSync::default(),
                SemiSync::default(),
                &["no configured replica acknowledges"],
                true,
            ),
            // Enabled on the replica but its receiver runs without semi-sync: not an acker.
            (
                source(true),
                SemiSync {
                    replica_on: Some(false),
                    ..acker()
                },
                acker(),
                &["Acknowledging: 198.18.0.13(198.18.0.13:3306)"],
                false,
            ),
        ];
        for (m, r2, r3, want, warns) in cases {
            let topo = with(with(with(three(), 0, m.clone()), 1, r2), 2, r3);
            let text = lines(&topo, id(0)).join("\n");
            for w in want {
                assert!(text.contains(w), "{m:?}: {w:?} not in\n{text}");
            }
            assert_eq!(text.contains("[warning]"), warns, "{text}");
        }
    }
}
