//! Topology snapshot: every configured server with what was observed of it.
//!
//! The adapters fill this in (connect to each server, read its facts); the
//! pure validation and election read it. Servers are named by their
//! [`ServerId`] (config order); a lookup by id cannot miss.

use crate::config::model::{ServerId, ServerSpec};
use crate::topology::status::{ReplicaStatus, ServerFacts};

/// Every configured server, in config order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Topology {
    /// One per configured server, in config order: `nodes[id]` is server `id`.
    nodes: Vec<Node>,
}

/// One configured server and what the manager saw of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub spec: ServerSpec,
    pub state: NodeState,
}

/// Whether the manager could read the server.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeState {
    Reachable(Box<Observed>),
    /// `reason` is the connection error as a DBA should read it.
    Unreachable {
        reason: String,
    },
}

/// What was read from a reachable server.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Observed {
    pub facts: ServerFacts,
    /// Does the configured/current repl user hold REPLICATION SLAVE here
    /// (`None` = not checked).
    pub repl_grant: Option<bool>,
}

impl Node {
    #[cfg(test)]
    pub(crate) fn reachable(spec: ServerSpec, facts: ServerFacts) -> Node {
        Node {
            spec,
            state: NodeState::Reachable(Box::new(Observed {
                facts,
                repl_grant: None,
            })),
        }
    }

    pub(crate) fn unreachable(spec: ServerSpec, reason: impl Into<String>) -> Node {
        Node {
            spec,
            state: NodeState::Unreachable {
                reason: reason.into(),
            },
        }
    }

    pub(crate) fn observed(&self) -> Option<&Observed> {
        match &self.state {
            NodeState::Reachable(observed) => Some(observed),
            NodeState::Unreachable { .. } => None,
        }
    }

    pub(crate) fn facts(&self) -> Option<&ServerFacts> {
        self.observed().map(|o| &o.facts)
    }

    /// The replica status, when the server is reachable and replicating
    /// from somewhere (see [`ServerFacts::is_replica`]).
    pub(crate) fn replica(&self) -> Option<&ReplicaStatus> {
        self.facts()
            .filter(|f| f.is_replica())
            .and_then(|f| f.replica.as_ref())
    }

    pub(crate) fn is_reachable(&self) -> bool {
        self.observed().is_some()
    }

    /// The connection error of an unreachable server.
    pub(crate) fn unreachable_reason(&self) -> Option<&str> {
        match &self.state {
            NodeState::Unreachable { reason } => Some(reason),
            NodeState::Reachable(_) => None,
        }
    }

    /// MHA's `host(ip:port)`.
    pub(crate) fn label(&self) -> String {
        self.spec.label()
    }

    /// True when a replica's `Master_Host`/`Master_Port` name this server:
    /// the host equals its configured hostname or ip (case-insensitively,
    /// as DNS names are), and the port matches.
    pub(crate) fn is_addressed_by(&self, host: &str, port: u16) -> bool {
        let host = host.trim();
        let names_it = host.eq_ignore_ascii_case(&self.spec.hostname)
            || self
                .spec
                .ip
                .as_deref()
                .is_some_and(|ip| host.eq_ignore_ascii_case(ip));
        names_it && port == self.spec.port
    }

    /// True when `host` (as given on a command line: hostname, ip, block
    /// name, or any of those with `:port`) names this server.
    pub(crate) fn matches_name(&self, given: &str) -> bool {
        let given = given.trim();
        if let Some((host, port)) = given.rsplit_once(':') {
            if let Ok(port) = port.parse::<u16>() {
                return port == self.spec.port && self.matches_host(host);
            }
        }
        self.matches_host(given)
    }

    fn matches_host(&self, host: &str) -> bool {
        host.eq_ignore_ascii_case(&self.spec.hostname)
            || host.eq_ignore_ascii_case(&self.spec.name)
            || self
                .spec
                .ip
                .as_deref()
                .is_some_and(|ip| host.eq_ignore_ascii_case(ip))
    }
}

impl Topology {
    /// Every configured server, in config order (the ids are their places).
    pub(crate) fn new(nodes: Vec<Node>) -> Topology {
        Topology { nodes }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Every server's id, in config order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = ServerId> + '_ {
        (0..self.nodes.len()).map(ServerId::nth)
    }

    /// Every server with its id, in config order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ServerId, &Node)> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (ServerId::nth(i), n))
    }

    /// The server `id` names. Ids come from the configuration the topology
    /// was read from, which has one node per server: this cannot miss.
    pub(crate) fn node(&self, id: ServerId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The server `id` names, mutably.
    pub(crate) fn node_mut(&mut self, id: ServerId) -> &mut Node {
        &mut self.nodes[id.index()]
    }

    /// The server's configuration.
    pub(crate) fn spec(&self, id: ServerId) -> &ServerSpec {
        &self.node(id).spec
    }

    pub(crate) fn facts(&self, id: ServerId) -> Option<&ServerFacts> {
        self.node(id).facts()
    }

    pub(crate) fn replica(&self, id: ServerId) -> Option<&ReplicaStatus> {
        self.node(id).replica()
    }

    /// MHA's `host(ip:port)` of server `id`.
    pub(crate) fn label(&self, id: ServerId) -> String {
        self.node(id).label()
    }

    /// The block name of server `id` (`server2`).
    #[cfg(test)]
    pub(crate) fn name(&self, id: ServerId) -> String {
        self.node(id).spec.name.clone()
    }

    /// The reachable servers, in config order.
    pub(crate) fn reachable(&self) -> Vec<ServerId> {
        self.ids_where(Node::is_reachable)
    }

    /// The unreachable servers, in config order.
    pub(crate) fn unreachable(&self) -> Vec<ServerId> {
        self.ids_where(|n| !n.is_reachable())
    }

    fn ids_where(&self, keep: impl Fn(&Node) -> bool) -> Vec<ServerId> {
        self.iter()
            .filter(|(_, n)| keep(n))
            .map(|(id, _)| id)
            .collect()
    }

    /// Servers that `given` names (see [`Node::matches_name`]), in config
    /// order; several when a host runs several configured servers.
    pub(crate) fn find(&self, given: &str) -> Vec<ServerId> {
        self.ids_where(|n| n.matches_name(given))
    }

    /// The configured server that replica `id` replicates from, by its
    /// `Master_Host`/`Master_Port`; `None` when it is not a replica or the
    /// source is not in the configuration.
    pub(crate) fn source_of(&self, id: ServerId) -> Option<ServerId> {
        let replica = self.replica(id)?;
        self.iter()
            .find(|(other, n)| {
                *other != id && n.is_addressed_by(&replica.master_host, replica.master_port)
            })
            .map(|(other, _)| other)
    }

    /// The reachable replicas whose source is server `id`.
    pub(crate) fn replicas_of(&self, id: ServerId) -> Vec<ServerId> {
        self.ids()
            .filter(|&i| self.source_of(i) == Some(id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::topology::fixture::*;

    #[test]
    fn helpers_by_id() {
        let topo = topology(vec![
            master(1),
            slave(2, 1, "mysql-bin.000010:1000"),
            down(3, "connect timeout"),
            slave(4, 2, "mysql-bin.000003:400"),
        ]);
        let id = ServerId::nth;
        assert_eq!(topo.len(), 4);
        assert_eq!(topo.reachable(), vec![id(0), id(1), id(3)]);
        assert_eq!(topo.unreachable(), vec![id(2)]);
        assert_eq!(topo.label(id(1)), "198.18.0.12(198.18.0.12:3306)");
        assert_eq!(topo.name(id(3)), "server4");
        assert_eq!(topo.source_of(id(0)), None);
        assert_eq!(topo.source_of(id(1)), Some(id(0)));
        assert_eq!(topo.source_of(id(3)), Some(id(1)));
        assert_eq!(topo.source_of(id(2)), None);
        assert_eq!(topo.replicas_of(id(0)), vec![id(1)]);
        assert_eq!(
            topo.node(id(2)).unreachable_reason(),
            Some("connect timeout")
        );
        assert!(topo.facts(id(2)).is_none());
        assert!(topo.replica(id(0)).is_none());
    }

    #[test]
    fn addressing_by_hostname_ip_and_port() {
        let node = master(1).with_spec(|s| s.hostname = "DB1.example".into());
        assert!(node.is_addressed_by("db1.example", 3306));
        assert!(node.is_addressed_by("198.18.0.11", 3306));
        assert!(!node.is_addressed_by("198.18.0.11", 3307));
        assert!(!node.is_addressed_by("db2.example", 3306));
        for (given, want) in [
            ("db1.example", true),
            ("198.18.0.11", true),
            ("server1", true),
            ("198.18.0.11:3306", true),
            ("198.18.0.11:3307", false),
            ("198.18.0.12", false),
        ] {
            assert_eq!(node.matches_name(given), want, "{given}");
        }
    }

    #[test]
    fn empty_master_host_is_not_a_replica() {
        let node = slave(2, 1, "mysql-bin.000001:4").with_replica(|r| r.master_host.clear());
        assert!(node.replica().is_none());
    }
}
