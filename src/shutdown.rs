//! SIGTERM/SIGINT (and, for `switch`, SIGHUP): one handler for the whole life
//! of the process. The first signal is kept (even when nothing is waiting yet,
//! e.g. during the start-up checks) under its name, for whoever acts on it:
//! the monitor stops between pings, a switch rolls back its write freeze or
//! finishes past the point of no return. A second one stops the process at
//! once (exit 130): every hook still running is killed with its process group
//! first, and a caller that asked for it ([`Shutdown::forced`]) gets a short
//! grace to write down where it stopped.

use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// How long the process waits, after a second signal, for a caller listening
/// on [`Shutdown::forced`] to write its journal and exit by itself.
const FORCE_GRACE: Duration = Duration::from_secs(2);

/// The name of the signal that arrived (`"SIGTERM"`), `None` before one did.
pub(crate) type Arrived = Option<&'static str>;

/// Set once when a signal arrives; cheap to clone.
#[derive(Clone)]
pub(crate) struct Shutdown {
    first: Arc<watch::Sender<Arrived>>,
    second: Arc<watch::Sender<Arrived>>,
}

impl Shutdown {
    /// Installs the handlers for SIGTERM and SIGINT (needs a running tokio runtime).
    pub(crate) fn install() -> anyhow::Result<Shutdown> {
        Shutdown::install_for(false)
    }

    /// [`Shutdown::install`], and SIGHUP too (a closed terminal or SSH session
    /// must not kill a switch in the middle of its write freeze).
    pub(crate) fn install_with_hangup() -> anyhow::Result<Shutdown> {
        Shutdown::install_for(true)
    }

    fn install_for(hangup: bool) -> anyhow::Result<Shutdown> {
        let first = Arc::new(watch::channel(None).0);
        let second = Arc::new(watch::channel(None).0);
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = if hangup {
            Some(signal(SignalKind::hangup())?)
        } else {
            None
        };
        let (f, s) = (first.clone(), second.clone());
        tokio::spawn(async move {
            let mut seen = 0u32;
            loop {
                let name = tokio::select! {
                    Some(()) = term.recv() => "SIGTERM",
                    Some(()) = int.recv() => "SIGINT",
                    Some(()) = async { hup.as_mut()?.recv().await } => "SIGHUP",
                    else => return,
                };
                seen += 1;
                if seen == 1 {
                    tracing::warn!("{name} received: stopping once the current step is done (send it again to stop at once)");
                    // Stored even when no one is subscribed yet.
                    f.send_replace(Some(name));
                } else {
                    forced_exit(name, &s).await;
                }
            }
        });
        Ok(Shutdown { first, second })
    }

    /// A flag that no signal sets, for tests of code that waits on one.
    #[cfg(test)]
    pub(crate) fn never() -> Shutdown {
        Shutdown {
            first: Arc::new(watch::channel(None).0),
            second: Arc::new(watch::channel(None).0),
        }
    }

    /// Has a signal arrived?
    pub(crate) fn requested(&self) -> bool {
        self.first.borrow().is_some()
    }

    /// Completes when a signal has arrived.
    pub(crate) async fn wait(&self) {
        let mut rx = self.first.subscribe();
        while rx.borrow_and_update().is_none() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// The first signal, as a value a use case can watch without knowing
    /// this module (`None` until one arrives).
    pub(crate) fn first(&self) -> watch::Receiver<Arrived> {
        self.first.subscribe()
    }

    /// Completes with the second signal's name. While a caller waits here, a
    /// second signal does not end the process at once: the caller has
    /// [`FORCE_GRACE`] to record where it stopped and exit (130) itself.
    pub(crate) async fn forced(&self) -> &'static str {
        let mut rx = self.second.subscribe();
        loop {
            if let Some(name) = *rx.borrow_and_update() {
                return name;
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// The second signal: every hook's process group is killed, then the
/// process exits (130), at once or after a listener's grace.
async fn forced_exit(name: &'static str, second: &watch::Sender<Arrived>) {
    tracing::error!("{name} received again: exiting now");
    // The listener hears of it before its hook dies: it must not take the
    // killed hook for a step that failed and go on.
    let listening = second.receiver_count() > 0;
    second.send_replace(Some(name));
    let killed = crate::notify::hooks::kill_running();
    if killed > 0 {
        tracing::error!("killed {killed} running hook(s) and their process groups");
    }
    if listening {
        tokio::time::sleep(FORCE_GRACE).await;
        tracing::error!(
            "not stopped {} s after {name}: exiting",
            FORCE_GRACE.as_secs()
        );
    }
    std::process::exit(130);
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
        // A waiter that comes later still sees it, and its name.
        tokio::time::timeout(Duration::from_secs(1), shutdown.wait())
            .await
            .expect("wait() returns at once");
        assert_eq!(*shutdown.first().borrow(), Some("SIGTERM"));
    }
}
