//! The real adapters (MySQL connector, OpenSSH remote), built in one place
//! from the configuration for every command that needs them.

use anyhow::Context;
use std::sync::Arc;

use crate::config::Config;
use crate::mysql::{Connector, MysqlConnector};
use crate::transport::{Remote, SshRemote};

/// The production implementations of the adapter traits.
pub(super) struct Adapters {
    pub connector: Arc<dyn Connector>,
    pub remote: Arc<dyn Remote>,
}

impl Adapters {
    /// The connector and an SSH remote with the configured host-key policy.
    /// The remote makes a private directory in /tmp for its control sockets.
    pub(super) fn real(config: &Config) -> anyhow::Result<Adapters> {
        let remote = SshRemote::new(
            config.settings.known_hosts_file.clone(),
            config.settings.host_key_check,
        )
        .context("cannot create a private directory for ssh control sockets in /tmp")?;
        Ok(Adapters {
            connector: connector(),
            remote: Arc::new(remote),
        })
    }
}

/// The MySQL connector alone, for the commands that use no SSH (`check-repl`,
/// `switch --master-state alive`): they need no socket directory in /tmp.
pub(super) fn connector() -> Arc<dyn Connector> {
    Arc::new(MysqlConnector)
}
