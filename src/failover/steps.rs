//! What the failover did, step by step: logged as it happens and recorded in
//! the journal (the JSON-lines file and the report are made from it).

use std::sync::Mutex;

use crate::config::ServerSpec;
use crate::journal::{Facts, HostRef, Journal};

pub use crate::journal::{Phase, StepResult};

/// The journal, shared by the phases and their parallel tasks.
#[derive(Debug, Default)]
pub struct Steps {
    journal: Mutex<Journal>,
}

/// A journal `HostRef` for a configured server.
pub fn host_ref(spec: &ServerSpec) -> HostRef {
    HostRef::new(spec.hostname.clone(), spec.mysql_addr(), spec.port)
}

impl Steps {
    pub fn new(journal: Journal) -> Self {
        Steps {
            journal: Mutex::new(journal),
        }
    }

    /// A copy of the journal so far.
    pub fn journal(&self) -> Journal {
        self.journal.lock().map(|j| j.clone()).unwrap_or_default()
    }

    /// Changes the journal's facts (written through to its file).
    pub fn facts(&self, change: impl FnOnce(&mut Facts)) {
        if let Ok(mut j) = self.journal.lock() {
            if let Err(e) = j.update_facts(change) {
                tracing::warn!("journal: {e}");
            }
        }
    }

    /// MHA's phase banner.
    pub fn banner(&self, phase: Phase) {
        tracing::info!("");
        tracing::info!("* {}..", phase.title());
        tracing::info!("");
    }

    fn record(&self, phase: Phase, host: Option<&str>, result: StepResult, text: &str) {
        let line = match host {
            Some(h) => format!("{h}: {text}"),
            None => text.to_owned(),
        };
        match result {
            StepResult::Ok | StepResult::Info => tracing::info!("{line}"),
            StepResult::Warning => tracing::warn!("{line}"),
            StepResult::Failed => tracing::error!("{line}"),
        }
        if let Ok(mut j) = self.journal.lock() {
            if let Err(e) = j.record_now(phase, host, text, result, "") {
                tracing::warn!("journal: {e}");
            }
        }
    }

    pub fn ok(&self, phase: Phase, host: Option<&str>, text: &str) {
        self.record(phase, host, StepResult::Ok, text);
    }

    pub fn info(&self, phase: Phase, host: Option<&str>, text: &str) {
        self.record(phase, host, StepResult::Info, text);
    }

    pub fn warn(&self, phase: Phase, host: Option<&str>, text: &str) {
        self.record(phase, host, StepResult::Warning, text);
    }

    pub fn fail(&self, phase: Phase, host: Option<&str>, text: &str) {
        self.record(phase, host, StepResult::Failed, text);
    }
}
