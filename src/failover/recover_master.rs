//! Phase 3, master recovery, as MHA's sub-phases: latest slaves (3.1), save
//! the dead master's binlog (3.2), elect (3.3), catch the new master up (3.4),
//! open it for writes (3.5). Each is a function returning a typed value.

use super::catch_up::CaughtUp;
use super::check::Checked;
use super::fence::Fenced;
use super::latest::{self, Latest};
use super::save_binlog::{self, Saved};
use super::{binlog_server, elect, open, Ctx, Phase, Stop};
use crate::config::ServerId;
use crate::topology::position::BinlogPos;
use crate::topology::validate::ReplMode;

/// What phase 4 needs from phase 3.
pub(super) struct Promoted {
    pub new_master: ServerId,
    pub latest: Latest,
    pub saved: Saved,
    pub caught_up: CaughtUp,
    /// The new master's binlog position once it had everything.
    pub position: Option<BinlogPos>,
    /// Elected slaves passed over when their replication stopped on an
    /// error while catching up (not repointed in phase 4).
    pub passed_over: Vec<(ServerId, crate::recovery::StepError)>,
}

pub(super) async fn recover(
    ctx: &Ctx,
    checked: &Checked,
    fenced: &Fenced,
) -> Result<Promoted, Stop> {
    let stop = Stop::at(Phase::MasterRecovery);
    let master_spec = &checked.topology.node(checked.master).spec;
    let latest = latest::find(ctx, checked).await.map_err(&stop)?;
    let kept = ctx
        .options
        .resume
        .as_ref()
        .and_then(|r| r.saved_binlog.as_deref());
    let saved = match kept {
        Some(path) => save_binlog::from_file(ctx, path).map_err(&stop)?,
        None => {
            let saved = save_binlog::save(ctx, master_spec, fenced, &latest).await;
            binlog_server::rescue(ctx, master_spec, &latest, saved)
                .await
                .map_err(&stop)?
        }
    };
    if checked.recovered {
        return resumed(ctx, checked, latest, saved).map_err(&stop);
    }
    if ctx.options.dry_run {
        let new_master = elect::elect(ctx, checked, &latest, &saved)
            .await
            .map_err(&stop)?;
        let promoted = Promoted {
            new_master,
            latest,
            saved,
            caught_up: CaughtUp::default(),
            position: None,
            passed_over: Vec::new(),
        };
        plan(ctx, checked.mode, &promoted);
        return Ok(promoted);
    }
    let elected = elect::elect_and_catch_up(ctx, checked, &latest, &saved)
        .await
        .map_err(&stop)?;
    let new_master = elected.new_master;
    let mut promoted = Promoted {
        new_master,
        latest,
        saved,
        caught_up: elected.caught_up,
        position: None,
        passed_over: elected.passed_over,
    };
    // Passed-over candidates stay as they are: not repointed in phase 4.
    let left_out: Vec<ServerId> = promoted.passed_over.iter().map(|(i, _)| *i).collect();
    promoted.latest.slaves.retain(|i| !left_out.contains(i));
    let new_spec = &checked.topology.node(new_master).spec;
    promoted.position = open::open(ctx, master_spec, new_spec, promoted.saved.tail.as_deref())
        .await
        .map_err(&stop)?;
    Ok(promoted)
}

/// Resuming after the new master was opened: 3.3-3.5 were done; phase 4
/// repoints from the recorded position.
fn resumed(
    ctx: &Ctx,
    checked: &Checked,
    latest: Latest,
    saved: Saved,
) -> Result<Promoted, crate::recovery::StepError> {
    let n = checked
        .new_master
        .ok_or_else(|| crate::recovery::StepError::state("manager", "no recorded new master"))?;
    let position = ctx
        .options
        .resume
        .as_ref()
        .and_then(|r| r.new_master_pos.clone());
    if checked.mode == ReplMode::FilePos && position.is_none() {
        return Err(crate::recovery::StepError::state(
            checked.topology.label(n),
            "the interrupted failover recorded no binlog position of the new master: the \
             slaves cannot be repointed exactly; repoint them by hand (CHANGE MASTER to the \
             new master at the position matching each slave's data)",
        ));
    }
    ctx.log(Phase::MasterRecovery).info(
        Some(&checked.topology.label(n)),
        "resuming: elected, caught up and opened for writes by the interrupted failover",
    );
    Ok(Promoted {
        new_master: n,
        latest,
        saved,
        caught_up: CaughtUp::default(),
        position,
        passed_over: Vec::new(),
    })
}

/// `--dry-run`: say what would be done.
fn plan(ctx: &Ctx, mode: ReplMode, p: &Promoted) {
    let topo = &p.latest.current;
    let new_label = topo.label(p.new_master);
    let mut lines = vec![format!("Plan: promote {new_label}")];
    if p.new_master != p.latest.latest {
        lines.push(format!(
            "Plan: bring {new_label} up to {} ({})",
            topo.label(p.latest.latest),
            match mode {
                ReplMode::Gtid => "replicate by GTID until caught up",
                ReplMode::FilePos => "apply the relay-log difference",
            }
        ));
    }
    if p.saved.tail.is_some() {
        lines.push(format!(
            "Plan: apply the dead master's saved binlog tail on {new_label}"
        ));
    }
    for &i in &p.latest.slaves {
        if i != p.new_master {
            lines.push(format!("Plan: repoint {} to {new_label}", topo.label(i)));
        }
    }
    let log = ctx.log(Phase::MasterRecovery);
    for l in lines {
        log.info(None, &l);
    }
}
