//! `Log`: the journal handle every recovery procedure writes through. Each step
//! is logged as it happens (MHA's wording) and recorded in the journal, from
//! which the JSON-lines file and the report are made.

use std::sync::Mutex;

use crate::journal::{Facts, Journal, Phase, StepResult};

use super::StepError;

/// The journal, shared by the phases and their parallel tasks.
#[derive(Debug, Default)]
pub(crate) struct Log {
    journal: Mutex<Journal>,
}

/// The log as one phase writes it: every step it records belongs to `phase`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PhaseLog<'a> {
    log: &'a Log,
    phase: Phase,
}

impl Log {
    pub(crate) fn new(journal: Journal) -> Self {
        Log {
            journal: Mutex::new(journal),
        }
    }

    /// A copy of the journal so far.
    pub(crate) fn journal(&self) -> Journal {
        self.journal.lock().map(|j| j.clone()).unwrap_or_default()
    }

    /// Changes the journal's facts (written through to its file).
    pub(crate) fn facts(&self, change: impl FnOnce(&mut Facts)) {
        if let Ok(mut j) = self.journal.lock() {
            if let Err(e) = j.update_facts(change) {
                tracing::warn!("journal: {e}");
            }
        }
    }

    /// MHA's `* Phase N: ... Phase..` banner.
    pub(crate) fn banner(&self, title: &str) {
        tracing::info!("");
        tracing::info!("* {title}..");
        tracing::info!("");
    }

    /// A plain log line, not a journal step (trees, plans).
    pub(crate) fn line(&self, text: &str) {
        tracing::info!("{text}");
    }

    /// The steps of `phase`.
    pub(crate) fn at(&self, phase: Phase) -> PhaseLog<'_> {
        PhaseLog { log: self, phase }
    }

    fn record(&self, phase: Phase, host: Option<&str>, result: StepResult, text: &str, kind: &str) {
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
            if let Err(e) = j.record_now(phase, host, text, result, kind) {
                tracing::warn!("journal: {e}");
            }
        }
    }
}

impl PhaseLog<'_> {
    pub(crate) fn ok(&self, host: Option<&str>, text: &str) {
        self.log.record(self.phase, host, StepResult::Ok, text, "");
    }

    pub(crate) fn info(&self, host: Option<&str>, text: &str) {
        self.log
            .record(self.phase, host, StepResult::Info, text, "");
    }

    pub(crate) fn warn(&self, host: Option<&str>, text: &str) {
        self.log
            .record(self.phase, host, StepResult::Warning, text, "");
    }

    pub(crate) fn fail(&self, host: Option<&str>, text: &str) {
        self.log
            .record(self.phase, host, StepResult::Failed, text, "");
    }

    /// Records a failed step once, with its kind in the journal entry's detail.
    pub(crate) fn error(&self, err: &StepError) {
        let kind = err.kind().as_str();
        self.log.record(
            self.phase,
            Some(err.host()),
            StepResult::Failed,
            &err.detail(),
            kind,
        );
    }

    /// Like [`PhaseLog::error`], as a warning: the procedure goes on without it.
    pub(crate) fn error_as_warning(&self, err: &StepError, then: &str) {
        let kind = err.kind().as_str();
        self.log.record(
            self.phase,
            Some(err.host()),
            StepResult::Warning,
            &format!("{}; {then}", err.detail()),
            kind,
        );
    }
}

impl PhaseLog<'_> {
    /// A plain log line, not a journal step.
    pub(crate) fn line(&self, text: &str) {
        self.log.line(text);
    }

    /// Changes the journal's facts.
    pub(crate) fn facts(&self, change: impl FnOnce(&mut Facts)) {
        self.log.facts(change);
    }
}
