//! Phase 3.3, determining the new master: the pure election
//! (`topology::select`) on the slaves as phase 3.1 left them, with every
//! passed-over slave's reason logged.

use super::latest::Latest;
use super::{Ctx, Phase};
use crate::config::ServerId;
use crate::recovery::{self, host_ref, StepError};
use crate::topology::select;

/// Returns the new master's index.
pub(super) fn elect(ctx: &Ctx, master: ServerId, latest: &Latest) -> Result<ServerId, StepError> {
    let log = ctx.log(Phase::MasterRecovery);
    log.info(None, "* Phase 3.3: Determining New Master Phase..");
    let current = &latest.current;
    let rules = recovery::election_rules(&ctx.kit.config, ctx.options.new_master_host.clone());
    let election = select::select_new_master(current, master, &rules);
    for (i, verdict) in &election.verdicts {
        if Some(*i) != election.chosen {
            log.info(
                Some(&current.label(*i)),
                &format!("not promoted — {verdict}"),
            );
        }
    }
    let Some(new_master) = election.chosen else {
        let why = election
            .refusal
            .map(|r| r.to_string())
            .unwrap_or_else(|| "no eligible slave".into());
        return Err(StepError::state(
            current.label(master),
            format!("None of the existing slaves can be the new master: {why}"),
        ));
    };
    let new_label = current.label(new_master);
    log.ok(
        Some(&new_label),
        &format!(
            "Selected as the new master ({}).",
            election.rule.map(|r| r.to_string()).unwrap_or_default()
        ),
    );
    log.info(
        None,
        &format!(
            "From: {} (dead master) To: {new_label}",
            current.label(master)
        ),
    );
    ctx.kit
        .log
        .facts(|f| f.new_master = Some(host_ref(&current.node(new_master).spec)));
    Ok(new_master)
}
