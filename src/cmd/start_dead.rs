//! `start` with the master already dead: the monitor confirms the death with its
//! usual rule, and a master that only the manager cannot reach is refused.
//!
//! `masterha_manager` started after the master died finds every slave
//! replicating from the one unreachable server, takes it for the master and
//! fails over (most of MHA's test scenarios start it that way). `start` names
//! that master in discovery (`Rules::master_may_be_dead`) and runs the
//! ordinary monitor on it: `ping_misses` fresh pings, then the replicas' view,
//! SSH and the secondary check, decided by `policy::death::confirm`. When that
//! confirmation says "alive" before the master ever answered (its slaves still
//! reach it: only the manager's path is cut), [`FirstVerdict`] stops the
//! monitor and `start` refuses instead of monitoring a master it cannot see.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use crate::state::{HealthUpdate, StateSink, StatusCode};

/// A health sink that passes every update on and notices the monitor's first
/// "alive" verdict (`RETRYING_MONITOR`) given before any answered ping.
pub(in crate::cmd) struct FirstVerdict {
    inner: Arc<dyn StateSink>,
    alive: AtomicBool,
    notify: Notify,
}

impl FirstVerdict {
    pub(in crate::cmd) fn new(inner: Arc<dyn StateSink>) -> Arc<FirstVerdict> {
        Arc::new(FirstVerdict {
            inner,
            alive: AtomicBool::new(false),
            notify: Notify::new(),
        })
    }

    /// Completes once the confirmation said "alive" while the master had never
    /// answered the manager.
    pub(in crate::cmd) async fn alive_but_unreachable(&self) {
        loop {
            let notified = self.notify.notified();
            if self.said_alive() {
                return;
            }
            notified.await;
        }
    }

    pub(in crate::cmd) fn said_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }
}

impl StateSink for FirstVerdict {
    fn update(&self, update: &HealthUpdate) {
        self.inner.update(update);
        if update.code == StatusCode::RetryingMonitor && update.pings_ok == 0 {
            self.alive.store(true, Ordering::SeqCst);
            self.notify.notify_waiters();
        }
    }
}

/// The refusal when the master looks dead to the manager only.
pub(in crate::cmd) fn refusal(master_label: &str) -> String {
    format!(
        "Not failing over: {master_label} was unreachable when ha-manager started, but the \
         confirmation found it alive (see the line above: its slaves still reach it), so only \
         the manager's path to it is cut. Restore the manager's access to {master_label} \
         (network, firewall, MySQL user and password), then start ha-manager again; if it \
         really is dead, fail over with ha-manager switch --master-state dead"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn update(code: StatusCode, pings_ok: u64) -> HealthUpdate {
        HealthUpdate {
            code,
            master: "198.18.0.11".into(),
            consecutive_misses: 0,
            pings_ok,
            pings_missed: 3,
            last_error: None,
        }
    }

    #[tokio::test]
    async fn an_alive_verdict_before_any_answered_ping_is_noticed_and_passed_on() {
        let seen: Arc<Mutex<Vec<StatusCode>>> = Arc::default();
        let log = seen.clone();
        let inner: Arc<dyn StateSink> =
            Arc::new(move |u: &HealthUpdate| log.lock().unwrap().push(u.code));
        let sink = FirstVerdict::new(inner);
        // (update, does it count as "alive but unreachable")
        let table = [
            (update(StatusCode::PingFailing, 0), false),
            (update(StatusCode::PingOk, 1), false),
            // The master answered once: a later alive verdict is ordinary monitoring.
            (update(StatusCode::RetryingMonitor, 1), false),
            (update(StatusCode::RetryingMonitor, 0), true),
        ];
        for (u, want) in table {
            sink.update(&u);
            assert_eq!(
                sink.said_alive(),
                want,
                "{:?} pings_ok={}",
                u.code,
                u.pings_ok
            );
        }
        assert_eq!(seen.lock().unwrap().len(), 4, "every update is passed on");
        // Already said: the wait completes at once.
        tokio::time::timeout(
            std::time::Duration::from_secs(1),
            sink.alive_but_unreachable(),
        )
        .await
        .expect("completes");
    }
}
