//! Reads the master's semi-sync status while it is monitored, so that a
//! failover knows whether semi-sync was in effect and, when it had fallen
//! back to async, since when (the pure fold is `topology::semisync::SemiSyncWatch`).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;

use crate::config::ServerSpec;
use crate::mysql::{Connector, Db};
use crate::topology::semisync::SemiSyncWatch;

/// A background reader of one master's semi-sync; stops when dropped.
pub(crate) struct Watcher {
    seen: Arc<Mutex<SemiSyncWatch>>,
    task: JoinHandle<()>,
}

impl Watcher {
    /// Reads `spec` every `every` (one kept connection, reopened after a failure).
    pub(crate) fn start(
        spec: ServerSpec,
        connector: Arc<dyn Connector>,
        every: Duration,
        timeout: Duration,
    ) -> Watcher {
        let seen = Arc::new(Mutex::new(SemiSyncWatch::default()));
        let shared = seen.clone();
        let task = tokio::spawn(async move {
            let label = spec.label();
            let mut conn: Option<Box<dyn Db>> = None;
            loop {
                if conn.is_none() {
                    conn = connector.connect(&spec, timeout).await.ok();
                }
                if let Some(db) = &conn {
                    match db.semi_sync().await {
                        Ok(now) => {
                            let mut watch = shared.lock().unwrap_or_else(PoisonError::into_inner);
                            let was_off = watch.off_since.is_some();
                            watch.observe(SystemTime::now(), now);
                            match (was_off, watch.off_since.is_some()) {
                                (false, true) => tracing::warn!(
                                    "Semi-sync on master {label} has fallen back to asynchronous \
                                     replication: commits no longer wait for a replica"
                                ),
                                (true, false) => {
                                    tracing::info!("Semi-sync on master {label} is in effect again")
                                }
                                _ => {}
                            }
                        }
                        Err(_) => conn = None,
                    }
                }
                tokio::time::sleep(every).await;
            }
        });
        Watcher { seen, task }
    }

    /// What it has seen so far.
    pub(crate) fn seen(&self) -> SemiSyncWatch {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}
