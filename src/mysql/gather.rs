//! Connects to every configured server in parallel and builds a `Topology` snapshot.

use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

use super::Connector;
use crate::config::{Config, ServerSpec};
use crate::topology::snapshot::{Node, NodeState, Observed, Topology};

/// Reads every server at once; an unreachable one is recorded with the reason, not an error.
pub async fn topology(config: &Config, connector: Arc<dyn Connector>) -> Topology {
    topology_with(config, connector, |_| config.settings.mysql_timeout).await
}

/// As [`topology`], with a connect/read bound per server (a server believed
/// dead gets a short one, as MHA's 1 s double check).
pub async fn topology_with(
    config: &Config,
    connector: Arc<dyn Connector>,
    timeout_of: impl Fn(usize) -> Duration,
) -> Topology {
    let mut tasks = JoinSet::new();
    for (index, spec) in config.servers.iter().cloned().enumerate() {
        let connector = connector.clone();
        let timeout = timeout_of(index);
        tasks.spawn(async move {
            let state = observe(&spec, connector.as_ref(), timeout).await;
            (index, Node { spec, state })
        });
    }
    let mut nodes: Vec<(usize, Node)> = Vec::with_capacity(config.servers.len());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(pair) => nodes.push(pair),
            Err(e) => tracing::error!("a probe task failed: {e}"),
        }
    }
    nodes.sort_by_key(|(i, _)| *i);
    Topology {
        nodes: nodes.into_iter().map(|(_, n)| n).collect(),
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
