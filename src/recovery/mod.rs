//! The recovery toolkit: the machinery every recovery procedure (failover,
//! online switch, and the ones to come) acts through, so that each mechanism
//! exists once (MHA's `ServerManager`, orchestrator's `TopologyRecovery`).
//!
//! - [`Log`]: the journal handle; [`StepError`]: why a step failed, typed.
//! - [`hook`]: one hook call with MHA's exit-code contract.
//! - [`repoint`]: point replica X at source Y from position P and wait until it runs.
//! - [`apply`]: wait for SQL threads, catch up by GTID, fetch logs and apply
//!   binlog bytes on a host.
//! - [`ReplicaResult`]: one replica's fate, journaled once.
//! - [`election_rules`]: the election rules from the settings.
//!
//! `failover/` and `switch/` keep only their phase sequences.

pub(crate) mod apply;
mod error;
pub(crate) mod fetch;
mod header;
pub(crate) mod hook;
mod log;
mod replica;
pub(crate) mod repoint;

use std::sync::Arc;

use crate::config::{Config, ServerSpec};
use crate::mysql::{Connector, Db};
use crate::topology::select::ElectionRules;
use crate::transport::node::Node;
use crate::transport::Remote;

pub(crate) use error::StepError;
pub(crate) use header::{begin, host_ref, os_user};
pub(crate) use log::{Log, PhaseLog};
pub(crate) use replica::{journal_replicas, ReplicaResult};

/// What a recovery procedure acts through: the configuration, the adapters and
/// the journal. Passed explicitly; nothing is global.
pub(crate) struct Kit {
    pub config: Arc<Config>,
    pub connector: Arc<dyn Connector>,
    pub remote: Arc<dyn Remote>,
    pub log: Log,
}

impl Kit {
    /// Operations on `spec`'s host over SSH, bounded by `command_timeout`.
    pub(crate) fn node<'a>(&'a self, spec: &'a ServerSpec) -> Node<'a> {
        Node {
            remote: self.remote.as_ref(),
            spec,
            timeout: self.config.settings.command_timeout,
            bindir: self.config.settings.client_bindir.as_deref(),
            libdir: self.config.settings.client_libdir.as_deref(),
        }
    }

    /// A fresh connection to `spec`, bounded by `mysql_timeout`.
    pub(crate) async fn connect(&self, spec: &ServerSpec) -> Result<Box<dyn Db>, StepError> {
        self.connector
            .connect(spec, self.config.settings.mysql_timeout)
            .await
            .map_err(|e| StepError::db(spec.label(), "", e))
    }
}

/// The election rules the settings give, with `--new-master-host` if given.
pub(crate) fn election_rules(config: &Config, forced: Option<String>) -> ElectionRules {
    ElectionRules {
        forced,
        ..ElectionRules::from_settings(&config.settings)
    }
}
