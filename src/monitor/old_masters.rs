//! Fencing the masters the manager failed over from: one that comes back
//! writable is made read-only at once.

use std::sync::Arc;

use crate::config::{Config, ServerSpec};
use crate::mysql::Connector;

/// A previous master that comes back writable is made read-only at once: two
/// writable masters would split the data. Runs until the task is aborted
/// (returns at once when `old` is empty).
pub(crate) async fn watch(
    old: Vec<ServerSpec>,
    connector: Arc<dyn Connector>,
    config: Arc<Config>,
) {
    if old.is_empty() {
        return;
    }
    loop {
        for spec in &old {
            let timeout = config.settings.mysql_timeout;
            if let Ok(db) = connector.connect(spec, timeout).await {
                if let Ok(facts) = db.facts().await {
                    if !facts.read_only {
                        match db.set_read_only(true).await {
                            Ok(()) => tracing::error!(
                                "{} (the old master) came back WRITABLE: set read_only=1. Rebuild it as a slave of the new master.",
                                spec.label()
                            ),
                            Err(e) => tracing::error!(
                                "{} (the old master) came back WRITABLE and setting read_only failed: {e}. Stop it by hand!",
                                spec.label()
                            ),
                        }
                    }
                }
                db.close().await;
            }
        }
        tokio::time::sleep(config.settings.ping_interval).await;
    }
}
