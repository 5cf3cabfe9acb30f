//! Multi-tier topologies: which slaves sit below the master's direct slaves (MHA `multi_tier_slave`).
//!
//! MHA recovers only the master's direct slaves; with `multi_tier_slave=1` a
//! slave of a slave (a third-tier slave) is "unmanaged": the failover leaves it
//! replicating from its intermediate master, which keeps its place (or becomes
//! the new master). These functions say who is such a slave; the phases act.

use crate::config::model::ServerId;
use crate::topology::snapshot::Topology;

/// The intermediate master of `id` when `id` replicates, through one or more
/// configured reachable slaves, from `master`: the server it replicates from
/// directly. `None` when it is not a replica, replicates from `master` itself,
/// from a server outside the configuration or one that cannot be reached, or
/// when its chain of sources never reaches `master` (a ring of slaves).
pub(crate) fn intermediate_master(
    topo: &Topology,
    master: ServerId,
    id: ServerId,
) -> Option<ServerId> {
    let under = topo.source_of(id)?;
    if under == master {
        return None;
    }
    let mut current = under;
    // Each step moves one tier up; more steps than servers means a ring.
    for _ in 0..topo.ids().count() {
        if !topo.node(current).is_reachable() {
            return None;
        }
        match topo.source_of(current)? {
            up if up == master => return Some(under),
            up if up == id => return None,
            up => current = up,
        }
    }
    None
}

/// The top of `id`'s chain of sources: the first server up the chain that is
/// unreachable or replicates from no configured server (the master of its
/// tree, alive or dead). `None` when `id` is not a replica or the chain is a
/// ring whose members are all reachable (a dual-master pair, both alive).
pub(crate) fn top_source(topo: &Topology, id: ServerId) -> Option<ServerId> {
    let mut current = topo.source_of(id)?;
    for _ in 0..topo.ids().count() {
        if !topo.node(current).is_reachable() {
            return Some(current);
        }
        match topo.source_of(current) {
            None => return Some(current),
            Some(up) => current = up,
        }
    }
    None
}

/// The masters at the top of every reachable replica's chain, distinct, in
/// config order: one entry when the slaves (of every tier) agree on the
/// master. A manual failover of a dead master fails over that one.
pub(crate) fn tops(topo: &Topology) -> Vec<ServerId> {
    let mut tops: Vec<ServerId> = topo
        .reachable()
        .into_iter()
        .filter_map(|i| top_source(topo, i))
        .collect();
    tops.sort_unstable();
    tops.dedup();
    tops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::fixture::*;

    const AT: &str = "mysql-bin.000010:1000";

    /// (case, servers, master, server asked about, want): server numbers, 1-based.
    type Case = (
        &'static str,
        Vec<crate::topology::snapshot::Node>,
        usize,
        usize,
        Option<usize>,
    );

    #[test]
    fn intermediate_master_table() {
        let cases: Vec<Case> = vec![
            ("direct slave", vec![master(1), slave(2, 1, AT)], 1, 2, None),
            (
                "the master itself",
                vec![master(1), slave(2, 1, AT)],
                1,
                1,
                None,
            ),
            (
                "third tier",
                vec![master(1), slave(2, 1, AT), slave(3, 2, AT)],
                1,
                3,
                Some(2),
            ),
            (
                "fourth tier names its own source",
                vec![master(1), slave(2, 1, AT), slave(3, 2, AT), slave(4, 3, AT)],
                1,
                4,
                Some(3),
            ),
            (
                "third tier under a dead master (unreachable, dual master)",
                vec![down(1, "refused"), slave(2, 1, AT), slave(3, 2, AT)],
                1,
                3,
                Some(2),
            ),
            (
                "intermediate master unreachable: chain unknown",
                vec![master(1), down(2, "refused"), slave(3, 2, AT)],
                1,
                3,
                None,
            ),
            (
                "ring of slaves that never reaches the master",
                vec![master(1), slave(2, 3, AT), slave(3, 2, AT)],
                1,
                3,
                None,
            ),
            (
                "source outside the configuration",
                vec![master(1), slave(2, 1, AT), slave(3, 9, AT)],
                1,
                3,
                None,
            ),
        ];
        for (case, nodes, m, asked, want) in cases {
            let topo = topology(nodes);
            let got = intermediate_master(&topo, id(m - 1), id(asked - 1));
            assert_eq!(got, want.map(|w| id(w - 1)), "{case}");
        }
    }

    #[test]
    fn tops_table() {
        // (case, servers, the masters at the top of the chains: 1-based)
        let cases: Vec<(&str, Vec<crate::topology::snapshot::Node>, Vec<usize>)> = vec![
            (
                "star, master alive",
                vec![master(1), slave(2, 1, AT), slave(3, 1, AT)],
                vec![1],
            ),
            (
                "star, master dead",
                vec![down(1, "refused"), slave(2, 1, AT), slave(3, 1, AT)],
                vec![1],
            ),
            (
                "tiers, master dead",
                vec![
                    down(1, "refused"),
                    slave(2, 1, AT),
                    slave(3, 2, AT),
                    slave(4, 1, AT),
                ],
                vec![1],
            ),
            (
                "dual master, active dead",
                vec![down(1, "refused"), slave(2, 1, AT), slave(3, 1, AT)],
                vec![1],
            ),
            (
                "dual master, both alive: a ring, no top",
                vec![slave(1, 2, AT), slave(2, 1, AT), slave(3, 1, AT)],
                vec![],
            ),
            (
                "two trees",
                vec![master(1), slave(2, 1, AT), master(3), slave(4, 3, AT)],
                vec![1, 3],
            ),
            (
                "intermediate master dead: two tops",
                vec![
                    down(1, "refused"),
                    down(2, "refused"),
                    slave(3, 2, AT),
                    slave(4, 1, AT),
                ],
                vec![1, 2],
            ),
        ];
        for (case, nodes, want) in cases {
            let topo = topology(nodes);
            let want: Vec<ServerId> = want.into_iter().map(|w| id(w - 1)).collect();
            assert_eq!(tops(&topo), want, "{case}");
        }
    }
}
