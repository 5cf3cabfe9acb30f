//! SIGTERM/SIGINT for the daemon: a flag that the monitor awaits between
//! pings, so a signal never stops a failover in the middle of a phase. One
//! handler for the whole life of the process: the first signal sets the
//! flag (kept even when nothing is waiting yet, e.g. during the start-up
//! checks); a second one ends the process at once (exit 130).

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
            let mut seen = 0u32;
            loop {
                let name = tokio::select! {
                    Some(()) = term.recv() => "SIGTERM",
                    Some(()) = int.recv() => "SIGINT",
                    else => return,
                };
                seen += 1;
                if seen == 1 {
                    tracing::warn!("{name} received: stopping once the current step is done (send it again to stop at once)");
                    // Stored even when no one is subscribed yet.
                    f.send_replace(true);
                } else {
                    tracing::error!("{name} received again: exiting now");
                    std::process::exit(130);
                }
            }
        });
        Ok(Shutdown { flag })
    }

    /// A flag that no signal sets, for tests of code that waits on one.
    #[cfg(test)]
    pub(crate) fn never() -> Shutdown {
        let (tx, _) = watch::channel(false);
        Shutdown { flag: Arc::new(tx) }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_signal_before_anyone_waits_is_kept() {
        let shutdown = Shutdown::install().expect("handlers");
        assert!(!shutdown.requested());
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let waited = tokio::time::timeout(Duration::from_secs(5), async {
            while !shutdown.requested() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "the signal was lost");
        // A waiter that comes later still sees it.
        tokio::time::timeout(Duration::from_secs(1), shutdown.wait())
            .await
            .expect("wait() returns at once");
    }
}
