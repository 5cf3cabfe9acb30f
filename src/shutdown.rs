//! SIGTERM/SIGINT for the daemon: a flag that the monitor awaits between
//! pings, so a signal never stops a failover in the middle of a phase.

use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// Set once when SIGTERM or SIGINT arrives; cheap to clone.
#[derive(Clone)]
pub(crate) struct Shutdown {
    flag: Arc<watch::Sender<bool>>,
}

impl Shutdown {
    /// Installs the handlers (needs a running tokio runtime).
    pub(crate) fn install() -> anyhow::Result<Shutdown> {
        let (tx, _) = watch::channel(false);
        let flag = Arc::new(tx);
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let f = flag.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            let _ = f.send(true);
        });
        Ok(Shutdown { flag })
    }

    /// Has a signal arrived?
    pub(crate) fn requested(&self) -> bool {
        *self.flag.borrow()
    }

    /// Completes when a signal has arrived.
    pub(crate) async fn wait(&self) {
        let mut rx = self.flag.subscribe();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}
