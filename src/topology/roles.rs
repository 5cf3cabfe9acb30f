//! Every server's role and state at a glance, for `status --servers` (like `mmm_control show`).
//!
//! The roles follow from who replicates from whom: the master; its standby
//! (the other half of a dual-master pair); its slaves; slaves of slaves
//! (third tier, unmanaged by the failover); servers replicating from no one
//! or from outside the tree; and servers that cannot be reached. Flags from
//! the configuration (`ignore_fail`, `no_master`, `candidate_master`) ride along.

use crate::config::model::ServerId;
use crate::topology::snapshot::Topology;
use crate::topology::status::IoState;
use crate::topology::tiers;

/// What a server is in the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Master,
    /// Replicates from the master, which replicates from it (dual master, active-passive).
    StandbyMaster,
    Slave,
    /// Replicates from another slave of the master (multi-tier, unmanaged).
    ThirdTier,
    /// Reachable, but a replica of no server (and not the master).
    NotReplicating,
    /// Reachable, replicating from a server outside the master's tree.
    Elsewhere,
    /// Unreachable: its role cannot be seen.
    Unknown,
}

impl Role {
    /// The name `status` prints and `--json` carries.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::StandbyMaster => "standby master",
            Role::Slave => "slave",
            Role::ThirdTier => "third-tier slave (unmanaged)",
            Role::NotReplicating => "not replicating",
            Role::Elsewhere => "replicates outside the master's tree",
            Role::Unknown => "unknown",
        }
    }
}

/// One server's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerRole {
    pub label: String,
    pub role: Role,
    /// `Some(reason)`: it cannot be reached.
    pub down: Option<String>,
    /// Who it replicates from: a configured server's label, else `host:port`.
    pub source: Option<String>,
    pub read_only: Option<bool>,
    pub io: Option<IoState>,
    pub sql_running: Option<bool>,
    pub seconds_behind: Option<u64>,
    pub ignore_fail: bool,
    pub no_master: bool,
    pub candidate_master: bool,
}

/// The role and state of every configured server, config order; `master` is
/// the current master as discovery named it (alive or dead), if any.
pub(crate) fn roles(topo: &Topology, master: Option<ServerId>) -> Vec<ServerRole> {
    topo.iter()
        .map(|(i, node)| {
            let replica = node.replica();
            let source_id = topo.source_of(i);
            let role = match (node.is_reachable(), master) {
                (_, Some(m)) if m == i => Role::Master,
                (false, _) => Role::Unknown,
                (true, _) if replica.is_none() => Role::NotReplicating,
                (true, Some(m)) if source_id == Some(m) => {
                    if topo.source_of(m) == Some(i) {
                        Role::StandbyMaster
                    } else {
                        Role::Slave
                    }
                }
                (true, Some(m)) if tiers::intermediate_master(topo, m, i).is_some() => {
                    Role::ThirdTier
                }
                (true, _) => Role::Elsewhere,
            };
            let source = replica.map(|r| match source_id {
                Some(s) => topo.label(s),
                None => format!("{}:{}", r.master_host, r.master_port),
            });
            ServerRole {
                label: node.label(),
                role,
                down: node.unreachable_reason().map(str::to_owned),
                source,
                read_only: node.facts().map(|f| f.read_only),
                io: replica.map(|r| r.io),
                sql_running: replica.map(|r| r.sql_running),
                seconds_behind: replica.and_then(|r| r.seconds_behind),
                ignore_fail: node.spec.ignore_fail,
                no_master: node.spec.no_master,
                candidate_master: node.spec.candidate_master,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::fixture::*;
    use crate::topology::snapshot::Node;

    const AT: &str = "mysql-bin.000010:1000";

    /// (case, servers, the master (1-based), the roles in config order).
    type Case = (&'static str, Vec<Node>, Option<usize>, Vec<Role>);

    fn roles_of(nodes: Vec<Node>, master: Option<usize>) -> Vec<Role> {
        roles(&topology(nodes), master.map(|m| id(m - 1)))
            .into_iter()
            .map(|r| r.role)
            .collect()
    }

    #[test]
    fn role_table() {
        use Role::*;
        let cases: Vec<Case> = vec![
            (
                "star",
                vec![master(1), slave(2, 1, AT), slave(3, 1, AT)],
                Some(1),
                vec![Master, Slave, Slave],
            ),
            (
                "dual master: the passive one is the standby",
                vec![
                    slave(1, 2, AT).with_facts(|f| f.read_only = false),
                    slave(2, 1, AT),
                    slave(3, 1, AT),
                ],
                Some(1),
                vec![Master, StandbyMaster, Slave],
            ),
            (
                "three tiers",
                vec![master(1), slave(2, 1, AT), slave(3, 2, AT), slave(4, 1, AT)],
                Some(1),
                vec![Master, Slave, ThirdTier, Slave],
            ),
            (
                "a down slave and a dead master",
                vec![down(1, "refused"), slave(2, 1, AT), down(3, "timeout")],
                Some(1),
                vec![Master, Slave, Unknown],
            ),
            (
                "not replicating, and replicating from outside",
                vec![master(1), master(2), slave(3, 9, AT)],
                Some(1),
                vec![Master, NotReplicating, Elsewhere],
            ),
            (
                "no master known",
                vec![master(1), master(2)],
                None,
                vec![NotReplicating, NotReplicating],
            ),
        ];
        for (case, nodes, m, want) in cases {
            assert_eq!(roles_of(nodes, m), want, "{case}");
        }
    }

    #[test]
    fn a_line_carries_the_state_and_the_flags() {
        let topo = topology(vec![
            master(1),
            slave(2, 1, AT).with_spec(|s| s.candidate_master = true),
            down(3, "Connection refused").with_spec(|s| {
                s.ignore_fail = true;
                s.no_master = true;
            }),
        ]);
        let got = roles(&topo, Some(id(0)));
        assert_eq!(got[0].read_only, Some(false));
        assert_eq!(got[1].source.as_deref(), Some(topo.label(id(0)).as_str()));
        assert_eq!(got[1].io, Some(IoState::Yes));
        assert!(got[1].candidate_master && !got[1].ignore_fail);
        assert_eq!(got[2].down.as_deref(), Some("Connection refused"));
        assert!(got[2].ignore_fail && got[2].no_master);
        assert_eq!(got[2].read_only, None);
    }
}
