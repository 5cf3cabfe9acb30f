//! Connects to every configured server in parallel and builds a `Topology` snapshot.

use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

use super::Connector;
use crate::config::{Config, ServerId, ServerSpec};
use crate::topology::snapshot::{Node, NodeState, Observed, Topology};

/// Reads every server at once; an unreachable one is recorded with the reason, not an error.
pub(crate) async fn topology(config: &Config, connector: Arc<dyn Connector>) -> Topology {
    topology_with(config, connector, |_| config.settings.mysql_timeout).await
}

/// As [`topology`], with a connect/read bound per server (a server believed
/// dead gets a short one, as MHA's 1 s double check).
pub(crate) async fn topology_with(
    config: &Config,
    connector: Arc<dyn Connector>,
    timeout_of: impl Fn(ServerId) -> Duration,
) -> Topology {
    let mut tasks = JoinSet::new();
    let mut ids = std::collections::HashMap::new();
    for (index, (id, spec)) in config.ids().zip(config.servers.iter().cloned()).enumerate() {
        let connector = connector.clone();
        let timeout = timeout_of(id);
        let handle =
            tasks.spawn(async move { (index, observe(&spec, connector.as_ref(), timeout).await) });
        ids.insert(handle.id(), index);
    }
    // One state per configured server, in config order: a probe that failed
    // (panicked) is recorded as unreachable, never dropped, so that index i
    // always names config.servers[i].
    let mut states: Vec<Option<NodeState>> = vec![None; config.servers.len()];
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((_, (index, state))) => states[index] = Some(state),
            Err(e) => {
                tracing::error!("a probe task failed: {e}");
                if let Some(&index) = ids.get(&e.id()) {
                    states[index] = Some(probe_failed(&e.to_string()));
                }
            }
        }
    }
    let nodes = config
        .servers
        .iter()
        .zip(states)
        .map(|(spec, state)| Node {
            spec: spec.clone(),
            state: state.unwrap_or_else(|| probe_failed("it did not finish")),
        })
        .collect();
    Topology::new(nodes)
}

fn probe_failed(why: &str) -> NodeState {
    NodeState::Unreachable {
        reason: format!("the manager's probe of it failed: {why}"),
    }
}

async fn observe(spec: &ServerSpec, connector: &dyn Connector, timeout: Duration) -> NodeState {
    let db = match connector.connect(spec, timeout).await {
        Ok(db) => db,
        Err(e) => {
            let hint = if e.is_access_denied() {
                format!("{e} (check user/password for this server in the config)")
            } else {
                e.to_string()
            };
            return NodeState::Unreachable { reason: hint };
        }
    };
    let state = match db.facts().await {
        Err(e) => NodeState::Unreachable {
            reason: format!("connected, but reading its state failed: {e}"),
        },
        Ok(facts) => {
            // The user a new master's replicas would connect as.
            let repl_user = spec
                .repl_user
                .clone()
                .or_else(|| facts.replica.as_ref().map(|r| r.master_user.clone()))
                .filter(|u| !u.is_empty());
            let repl_grant = match repl_user {
                Some(user) => db.has_repl_privilege(&user).await.ok(),
                None => None,
            };
            NodeState::Reachable(Box::new(Observed { facts, repl_grant }))
        }
    };
    db.close().await;
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::fake::FakeCluster;
    use crate::mysql::{Db, DbError};
    use crate::topology::fixture::{id, master_facts, slave_facts};

    /// Panics while probing the second server; the others answer.
    struct PanicsOnSecond(FakeCluster);

    #[async_trait::async_trait]
    impl Connector for PanicsOnSecond {
        async fn connect(&self, spec: &ServerSpec, t: Duration) -> Result<Box<dyn Db>, DbError> {
            if spec.hostname == "198.18.0.12" {
                panic!("probe bug");
            }
            self.0.connect(spec, t).await
        }
    }

    #[tokio::test]
    async fn a_probe_that_panics_is_recorded_as_unreachable_in_its_place() {
        let text = "[server default]\nuser=root\npassword=x\n[server1]\nhostname=198.18.0.11\n\
                    [server2]\nhostname=198.18.0.12\n[server3]\nhostname=198.18.0.13\n";
        let config = crate::config::resolve_str("app1.cnf", text, false, None).unwrap();
        let cluster = FakeCluster::new();
        cluster.add("198.18.0.11:3306", master_facts(1));
        cluster.add("198.18.0.13:3306", slave_facts(3, 1, "mysql-bin.000001:4"));
        let topo = topology(&config, Arc::new(PanicsOnSecond(cluster))).await;
        assert_eq!(topo.len(), 3, "no server dropped");
        let hosts: Vec<&str> = topo.iter().map(|(_, n)| n.spec.hostname.as_str()).collect();
        assert_eq!(hosts, ["198.18.0.11", "198.18.0.12", "198.18.0.13"]);
        assert!(matches!(topo.node(id(0)).state, NodeState::Reachable(_)));
        assert!(
            matches!(&topo.node(id(1)).state, NodeState::Unreachable { reason } if reason.contains("probe")),
            "{:?}",
            topo.node(id(1)).state
        );
        assert!(matches!(topo.node(id(2)).state, NodeState::Reachable(_)));
    }
}
