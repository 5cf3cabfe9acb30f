//! The context every check reads: the topology, the rules, and who is master, slave and
//! managed slave, worked out once.

use crate::config::model::ServerId;
use crate::topology::snapshot::{Node, Topology};
use crate::topology::status::ReplicaStatus;
use crate::topology::validate::{replication_mode, Discovery, ReplMode, Rules};

/// What every check reads.
pub(super) struct Ctx<'a> {
    pub(super) topo: &'a Topology,
    pub(super) rules: &'a Rules,
    pub(super) master: Option<ServerId>,
    pub(super) slaves: &'a [ServerId],
    pub(super) managed: Vec<ServerId>,
    pub(super) mode: ReplMode,
    /// The master is unreachable: named because every slave replicates from
    /// it (`start` with a master already dead).
    pub(super) master_dead: bool,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(topo: &'a Topology, disc: &'a Discovery, rules: &'a Rules) -> Ctx<'a> {
        let master = disc.master;
        let unmanaged = |s: ServerId| {
            rules.multi_tier_slave && topo.source_of(s).is_some_and(|src| Some(src) != master)
        };
        Ctx {
            topo,
            rules,
            master,
            slaves: &disc.slaves,
            managed: disc
                .slaves
                .iter()
                .copied()
                .filter(|&s| !unmanaged(s))
                .collect(),
            mode: replication_mode(topo, disc),
            master_dead: master.is_some_and(|m| topo.node(m).unreachable_reason().is_some()),
        }
    }

    /// Managed slaves with their node and replica status.
    pub(super) fn managed(
        &self,
    ) -> impl Iterator<Item = (ServerId, &'a Node, &'a ReplicaStatus)> + '_ {
        self.managed.iter().filter_map(|&i| {
            let node = self.topo.node(i);
            Some((i, node, node.replica()?))
        })
    }

    pub(super) fn label(&self, index: ServerId) -> String {
        self.topo.label(index)
    }
}
