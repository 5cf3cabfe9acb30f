//! One hook call with MHA's exit-code contract, shared by every procedure:
//! 0 = done, 10 = failed but go on, anything else (or no exit at all) = stop.
//! The script's output goes to the log, its exit to the journal's facts.

use std::time::Duration;

use super::{PhaseLog, StepError};
use crate::config::{HookCommand, Secret};
use crate::journal::{Facts, HookRan};
use crate::notify::hooks::{self, HookVerdict};
use crate::render::hook_args::HookArgs;

/// A hook to run: which one, with what, about which server.
pub(crate) struct Hook<'a> {
    /// The parameter name, e.g. `master_ip_failover_script`.
    pub name: &'static str,
    pub script: &'a HookCommand,
    pub args: HookArgs,
    /// Passed in the environment only, never in argv.
    pub secrets: Vec<(String, Secret)>,
    /// The server the call is about, as the log names it.
    pub host: String,
}

/// Where the journal keeps this call's exit (`ip_stop`, `shutdown`, `ip_start`).
pub(crate) type FactSlot = fn(&mut Facts) -> &mut Option<HookRan>;

/// Runs `hook` under `timeout`, its output into the log (no verdict, no journal).
pub(crate) async fn run_logged(hook: &Hook<'_>, timeout: Duration) -> hooks::HookOutcome {
    let outcome = hooks::run_hook(hook.script, &hook.args, &hook.secrets, timeout).await;
    for (stream, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        for l in text.lines().filter(|l| !l.trim().is_empty()) {
            tracing::info!("  {} [{stream}] {l}", hook.name);
        }
    }
    outcome
}

/// Runs `hook` under `timeout`. `Ok(Done)` or `Ok(FailedButContinue)` go on;
/// a refusal is `Err(StepError::Hook)`, not logged here (the caller records it
/// once, as it stops). `dry_run` only says what would run.
pub(crate) async fn call(
    log: PhaseLog<'_>,
    hook: Hook<'_>,
    slot: FactSlot,
    timeout: Duration,
    dry_run: bool,
) -> Result<HookVerdict, StepError> {
    let line = hooks::command_line(hook.script, &hook.args);
    let host = Some(hook.host.as_str());
    if dry_run {
        log.info(host, &format!("would run {}: {line}", hook.name));
        return Ok(HookVerdict::Done);
    }
    log.line(&format!("Executing {}: {line}", hook.name));
    let outcome = run_logged(&hook, timeout).await;
    let ran = outcome.fact();
    log.facts(|f| *slot(f) = Some(ran));
    match hooks::verdict(&outcome) {
        HookVerdict::Done => {
            log.ok(host, &format!("{} done: {line}", hook.name));
            Ok(HookVerdict::Done)
        }
        HookVerdict::FailedButContinue => {
            log.warn(
                host,
                &format!("{} failed but asked to go on (exit 10): {line}", hook.name),
            );
            Ok(HookVerdict::FailedButContinue)
        }
        HookVerdict::Abort => Err(StepError::Hook {
            host: hook.host,
            name: hook.name,
            outcome: outcome.describe(),
        }),
    }
}
