//! The operator's signal (SIGTERM, SIGINT, SIGHUP) as the switch sees it, and
//! what it does with one: before the point of no return (`read_only=0` on the
//! new master) the switch stops and rolls back to the old master taking
//! writes; from there on it finishes. The signal handler itself lives at the
//! edge (`shutdown.rs`); this is only the value it sets.

use tokio::sync::watch;

/// Where in the switch a signal is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Point {
    /// The checks passed; nothing was changed yet.
    Checked,
    /// `master_ip_online_change_script --command=stop` ran (or was interrupted).
    StopHook,
    /// The old master rejects updates and its position is recorded.
    Frozen,
    /// The new master executed everything up to the frozen position.
    CaughtUp,
    /// The new master's replication is stopped.
    ReplicationStopped,
    /// `master_ip_online_change_script --command=start` ran (or was interrupted).
    StartHook,
    /// `read_only=0` on the new master: the point of no return.
    Writable,
    /// Every slave was switched.
    SlavesSwitched,
}

/// What a signal at a [`Point`] leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnSignal {
    /// Nothing was changed: stop here.
    Abort,
    /// Put the old master back (it takes writes, the candidate follows it).
    RollBack,
    /// The new master may already have taken writes: going back would lose
    /// them, so the switch is finished.
    Finish,
}

/// The rollback decision: the new master's `read_only=0` is the point of no
/// return.
pub(crate) fn on_signal(at: Point) -> OnSignal {
    match at {
        Point::Checked => OnSignal::Abort,
        Point::StopHook
        | Point::Frozen
        | Point::CaughtUp
        | Point::ReplicationStopped
        | Point::StartHook => OnSignal::RollBack,
        Point::Writable | Point::SlavesSwitched => OnSignal::Finish,
    }
}

/// The first signal, if one arrived; `Interrupt::default()` never fires.
#[derive(Clone, Default)]
pub(crate) struct Interrupt {
    rx: Option<watch::Receiver<Option<&'static str>>>,
    probe: Probe,
}

/// Tests: called at every point, before the signal is read.
#[cfg(test)]
type Probe = Option<std::sync::Arc<dyn Fn(Point) + Send + Sync>>;
#[cfg(not(test))]
type Probe = ();

#[cfg(test)]
fn probe(probe: &Probe, at: Point) {
    if let Some(probe) = probe {
        probe(at);
    }
}

#[cfg(not(test))]
fn probe(_: &Probe, _: Point) {}

impl Interrupt {
    /// Watches the value the signal handler sets (`None` until a signal arrives).
    pub(crate) fn watching(rx: watch::Receiver<Option<&'static str>>) -> Interrupt {
        Interrupt {
            rx: Some(rx),
            probe: Probe::default(),
        }
    }

    /// Tests: `probe` sees every point the switch reaches, e.g. to send the
    /// signal at one of them.
    #[cfg(test)]
    pub(crate) fn probed(
        rx: watch::Receiver<Option<&'static str>>,
        probe: impl Fn(Point) + Send + Sync + 'static,
    ) -> Interrupt {
        Interrupt {
            rx: Some(rx),
            probe: Some(std::sync::Arc::new(probe)),
        }
    }

    /// The signal that arrived, looked at when the switch reached `at`.
    pub(crate) fn at(&self, at: Point) -> Option<&'static str> {
        probe(&self.probe, at);
        self.signal()
    }

    /// The signal that arrived, if one did.
    pub(crate) fn signal(&self) -> Option<&'static str> {
        self.rx.as_ref().and_then(|rx| *rx.borrow())
    }

    /// Completes with the signal's name once one arrives; never without one.
    pub(crate) async fn wait(&self) -> &'static str {
        let Some(mut rx) = self.rx.clone() else {
            return std::future::pending().await;
        };
        loop {
            if let Some(name) = *rx.borrow_and_update() {
                return name;
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Runs `step` unless a signal arrives first: `Err(name)` then, and
    /// `step` is dropped (a hook it ran is killed with its process group).
    pub(crate) async fn or_signal<T>(
        &self,
        step: impl std::future::Future<Output = T>,
    ) -> Result<T, &'static str> {
        tokio::select! {
            biased;
            out = step => Ok(out),
            name = self.wait() => Err(name),
        }
    }
}
