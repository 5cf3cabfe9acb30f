//! What the failover did, step by step: logged as it happens and kept for the report.

use std::sync::Mutex;

/// MHA's phases (their numbers are the banners' numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    Check = 1,
    Shutdown = 2,
    MasterRecovery = 3,
    SlavesRecovery = 4,
    Cleanup = 5,
}

impl Phase {
    /// MHA's banner text.
    pub fn banner(self) -> &'static str {
        match self {
            Phase::Check => "* Phase 1: Configuration Check Phase..",
            Phase::Shutdown => "* Phase 2: Dead Master Shutdown Phase..",
            Phase::MasterRecovery => "* Phase 3: Master Recovery Phase..",
            Phase::SlavesRecovery => "* Phase 4: Slaves Recovery Phase..",
            Phase::Cleanup => "* Phase 5: New master cleanup phase..",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StepResult {
    Ok,
    Info,
    Warning,
    Failed,
}

/// One recorded step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub at: chrono::DateTime<chrono::Utc>,
    pub phase: Phase,
    pub host: Option<String>,
    pub result: StepResult,
    pub text: String,
}

/// The steps so far; shared by the phases (and their parallel tasks).
#[derive(Debug, Default)]
pub struct Steps {
    steps: Mutex<Vec<Step>>,
}

impl Steps {
    pub fn all(&self) -> Vec<Step> {
        self.steps.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn banner(&self, phase: Phase) {
        tracing::info!("");
        tracing::info!("{}", phase.banner());
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
        if let Ok(mut steps) = self.steps.lock() {
            steps.push(Step {
                at: chrono::Utc::now(),
                phase,
                host: host.map(str::to_owned),
                result,
                text: text.to_owned(),
            });
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
