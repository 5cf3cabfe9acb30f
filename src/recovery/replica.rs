//! One replica's fate in a recovery, the one shape failover and switch report
//! and journal.

use super::{host_ref, Log, StepError};
use crate::config::ServerSpec;
use crate::journal::{SlaveOutcome, SlaveResult};

/// What became of one replica.
#[derive(Debug, Clone)]
pub(crate) struct ReplicaResult {
    /// As the log names it: `host(ip:port)`.
    pub host: String,
    /// `Ok(what was done)`, or why it was not recovered (the others went on).
    pub result: Result<String, StepError>,
}

impl ReplicaResult {
    pub(crate) fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The journal's record of it.
    pub(crate) fn outcome(&self, spec: &ServerSpec, has_latest_relay_log: bool) -> SlaveOutcome {
        SlaveOutcome {
            host: host_ref(spec),
            has_latest_relay_log,
            result: match &self.result {
                Ok(_) => SlaveResult::Ok,
                Err(e) if spec.ignore_fail => SlaveResult::Lost {
                    reason: format!(
                        "{} (ignore_fail=1: left behind, not counted as a failure)",
                        e.detail()
                    ),
                    kind: Some(e.kind()),
                },
                Err(e) => SlaveResult::Lost {
                    reason: e.detail(),
                    kind: Some(e.kind()),
                },
            },
        }
    }
}

/// Records replicas' fates in the journal, in the order given.
pub(crate) fn journal_replicas<'a>(
    log: &Log,
    results: impl IntoIterator<Item = (&'a ServerSpec, &'a ReplicaResult, bool)>,
) {
    let outcomes: Vec<SlaveOutcome> = results
        .into_iter()
        .map(|(spec, r, latest)| r.outcome(spec, latest))
        .collect();
    log.facts(|f| f.slaves.extend(outcomes));
}
