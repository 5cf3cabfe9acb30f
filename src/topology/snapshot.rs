//! Topology snapshot: every configured server with what was observed of it.
//!
//! The adapters fill this in (connect to each server, read its facts); the
//! pure validation and election read it. Indices are config order and are
//! how the rest of the core names servers.

use crate::config::model::ServerSpec;
use crate::topology::status::{ReplicaStatus, ServerFacts};

/// Every configured server, in config order.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    pub nodes: Vec<Node>,
}

/// One configured server and what the manager saw of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub spec: ServerSpec,
    pub state: NodeState,
}

/// Whether the manager could read the server.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeState {
    Reachable(Box<Observed>),
    /// `reason` is the connection error as a DBA should read it.
    Unreachable {
        reason: String,
    },
}

/// What was read from a reachable server.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub facts: ServerFacts,
    /// Does the configured/current repl user hold REPLICATION SLAVE here
    /// (`None` = not checked).
    pub repl_grant: Option<bool>,
}

impl Node {
    #[cfg(test)]
    pub fn reachable(spec: ServerSpec, facts: ServerFacts) -> Node {
        Node {
            spec,
            state: NodeState::Reachable(Box::new(Observed {
                facts,
                repl_grant: None,
            })),
        }
    }

    pub fn unreachable(spec: ServerSpec, reason: impl Into<String>) -> Node {
        Node {
            spec,
            state: NodeState::Unreachable {
                reason: reason.into(),
            },
        }
    }

    pub fn observed(&self) -> Option<&Observed> {
        match &self.state {
            NodeState::Reachable(observed) => Some(observed),
            NodeState::Unreachable { .. } => None,
        }
    }

    pub fn facts(&self) -> Option<&ServerFacts> {
        self.observed().map(|o| &o.facts)
    }

    /// The replica status, when the server is reachable and replicating
    /// from somewhere (see [`ServerFacts::is_replica`]).
    pub fn replica(&self) -> Option<&ReplicaStatus> {
        self.facts()
            .filter(|f| f.is_replica())
            .and_then(|f| f.replica.as_ref())
    }

    pub fn is_reachable(&self) -> bool {
        self.observed().is_some()
    }

    /// The connection error of an unreachable server.
    pub fn unreachable_reason(&self) -> Option<&str> {
        match &self.state {
            NodeState::Unreachable { reason } => Some(reason),
            NodeState::Reachable(_) => None,
        }
    }

    /// MHA's `host(ip:port)`.
    pub fn label(&self) -> String {
        self.spec.label()
    }

    /// True when a replica's `Master_Host`/`Master_Port` name this server:
    /// the host equals its configured hostname or ip (case-insensitively,
    /// as DNS names are), and the port matches.
    pub fn is_addressed_by(&self, host: &str, port: u16) -> bool {
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
    pub fn matches_name(&self, given: &str) -> bool {
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
    #[cfg(test)]
    pub fn new(nodes: Vec<Node>) -> Topology {
        Topology { nodes }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn node(&self, index: usize) -> Option<&Node> {
        self.nodes.get(index)
    }

    pub fn facts(&self, index: usize) -> Option<&ServerFacts> {
        self.node(index).and_then(Node::facts)
    }

    pub fn replica(&self, index: usize) -> Option<&ReplicaStatus> {
        self.node(index).and_then(Node::replica)
    }

    /// The label of server `index`, or `#index` when out of range (labels
    /// are for messages; a bad index must not panic).
    pub fn label(&self, index: usize) -> String {
        self.node(index)
            .map(Node::label)
            .unwrap_or_else(|| format!("#{index}"))
    }

    /// The block name of server `index` (`server2`), or `#index`.
    #[cfg(test)]
    pub fn name(&self, index: usize) -> String {
        self.node(index)
            .map(|n| n.spec.name.clone())
            .unwrap_or_else(|| format!("#{index}"))
    }

    /// Indices of the reachable servers, in config order.
    pub fn reachable(&self) -> Vec<usize> {
        self.indices(Node::is_reachable)
    }

    /// Indices of the unreachable servers, in config order.
    pub fn unreachable(&self) -> Vec<usize> {
        self.indices(|n| !n.is_reachable())
    }

    fn indices(&self, keep: impl Fn(&Node) -> bool) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| keep(&self.nodes[i]))
            .collect()
    }

    /// Servers that `given` names (see [`Node::matches_name`]), in config
    /// order; several when a host runs several configured servers.
    pub fn find(&self, given: &str) -> Vec<usize> {
        self.indices(|n| n.matches_name(given))
    }

    /// The configured server that replica `index` replicates from, by its
    /// `Master_Host`/`Master_Port`; `None` when it is not a replica or the
    /// source is not in the configuration.
    pub fn source_of(&self, index: usize) -> Option<usize> {
        let replica = self.replica(index)?;
        (0..self.nodes.len()).find(|&i| {
            i != index && self.nodes[i].is_addressed_by(&replica.master_host, replica.master_port)
        })
    }

    /// The reachable replicas whose source is server `index`.
    pub fn replicas_of(&self, index: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.source_of(i) == Some(index))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::fixture::*;

    #[test]
    fn helpers_by_index() {
        let topo = topology(vec![
            master(1),
            slave(2, 1, "mysql-bin.000010:1000"),
            down(3, "connect timeout"),
            slave(4, 2, "mysql-bin.000003:400"),
        ]);
        assert_eq!(topo.len(), 4);
        assert_eq!(topo.reachable(), vec![0, 1, 3]);
        assert_eq!(topo.unreachable(), vec![2]);
        assert_eq!(topo.label(1), "198.18.0.12(198.18.0.12:3306)");
        assert_eq!(topo.label(9), "#9");
        assert_eq!(topo.name(3), "server4");
        assert_eq!(topo.source_of(0), None);
        assert_eq!(topo.source_of(1), Some(0));
        assert_eq!(topo.source_of(3), Some(1));
        assert_eq!(topo.source_of(2), None);
        assert_eq!(topo.replicas_of(0), vec![1]);
        assert_eq!(
            topo.node(2).and_then(Node::unreachable_reason),
            Some("connect timeout")
        );
        assert!(topo.facts(2).is_none());
        assert!(topo.replica(0).is_none());
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
