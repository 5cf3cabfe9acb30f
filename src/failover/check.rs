//! Phase 1, configuration check: the master is really unreachable, every alive
//! slave replicates from it, and dead slaves are tolerated only with `ignore_fail`.
//! With `multi_tier_slave=1` a slave of a slave (third tier) is left under its
//! intermediate master, as MHA does; without it the failover refuses, as MHA does.

use super::{Ctx, DeadMaster, Phase, Stop};
use crate::config::ServerId;
use crate::mysql::gather;
use crate::recovery::StepError;
use crate::topology::semisync::SemiSyncWatch;
use crate::topology::snapshot::{NodeState, Topology};
use crate::topology::tiers;
use crate::topology::validate::{self, Discovery, ReplMode};

/// Resuming re-applies a diff or the saved tail only where the target tells,
/// by GTID, what an interrupted apply already applied (MariaDB always does;
/// MySQL with gtid_mode=ON). A server without GTIDs cannot tell: refused
/// here, before this run changes anything, with what to do by hand. Nor can
/// a MariaDB slave without a binlog once phase 4 may have begun applying on
/// it (`slaves_applied`: file/position mode, new master opened): a
/// client-side apply shows in `gtid_binlog_pos` only, and `gtid_slave_pos`
/// is moved only after the whole apply succeeded.
fn refuse_without_gtids(
    topology: &Topology,
    slaves: &[ServerId],
    pinned: Option<ServerId>,
    kept: Option<&str>,
    slaves_applied: bool,
) -> Result<(), StepError> {
    let blind = slaves.iter().copied().chain(pinned).find(|&i| {
        topology.facts(i).is_some_and(|f| {
            !f.gtid_enabled() || (slaves_applied && Some(i) != pinned && !f.log_bin)
        })
    });
    let Some(i) = blind else {
        return Ok(());
    };
    let tail = kept.unwrap_or("the dead master's binlog");
    Err(StepError::state(
        topology.label(i),
        format!(
            "has no GTIDs (gtid_mode=OFF) or no binlog, so what the interrupted failover had already \
             applied on it cannot be told and this failover cannot be resumed exactly; nothing \
             was changed by this run. By hand: on each server that was given a relay-log \
             difference or the tail ({tail}), find the last of its transactions present \
             (mysqlbinlog --verbose {tail}), apply only the ones after it (mysqlbinlog \
             --start-position=<the next transaction> {tail} | mysql), set read_only=0 on the \
             new master, CHANGE MASTER the other slaves to its SHOW MASTER STATUS, then remove \
             the failover.error marker"
        ),
    ))
}

/// MHA's double check: a fresh connection to the dead master, bounded by 1 s.
const DOUBLE_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// The topology as phase 1 found it.
pub(super) struct Checked {
    pub topology: Topology,
    pub master: ServerId,
    /// Alive slaves of the dead master, config order.
    pub slaves: Vec<ServerId>,
    pub mode: ReplMode,
    /// Resuming: the new master the interrupted failover elected (kept).
    pub new_master: Option<ServerId>,
    /// Resuming: slaves the interrupted failover already pointed at the new master.
    pub repointed: Vec<ServerId>,
    /// Resuming: the new master was already opened for writes.
    pub recovered: bool,
    /// Third-tier slaves left under their intermediate master (`multi_tier_slave=1`):
    /// (slave, the server it replicates from), config order.
    pub unmanaged: Vec<(ServerId, ServerId)>,
    /// What the monitor saw of the dead master's semi-sync (`None`: not watched).
    pub semi_sync: Option<SemiSyncWatch>,
}

pub(super) async fn check(ctx: &Ctx, dead: &DeadMaster) -> Result<Checked, Stop> {
    let stop = |host: &str, what: String| Stop::at(Phase::Check)(StepError::state(host, what));
    let log = ctx.log(Phase::Check);
    let master = dead.index;
    let normal = ctx.kit.config.settings.mysql_timeout;
    let topology = gather::topology_with(&ctx.kit.config, ctx.kit.connector.clone(), |i| {
        if i == master {
            DOUBLE_CHECK.min(normal)
        } else {
            normal
        }
    })
    .await;
    let master_label = topology.label(master);

    // Double check: a fresh connection to the master must fail.
    match &topology.node(master).state {
        NodeState::Reachable(_) => {
            return Err(stop(
                &master_label,
                "answered a fresh connection: the master is alive, not failing over".into(),
            ))
        }
        NodeState::Unreachable { reason } => log.info(
            Some(&master_label),
            &format!("master is unreachable from the manager: {reason}"),
        ),
    }

    let resume = ctx.options.resume.as_ref();
    let pinned = resume.and_then(|r| r.new_master);
    let slaves = topology.replicas_of(master);
    let mut repointed = Vec::new();
    if let Some(n) = pinned {
        let label = topology.label(n);
        if let NodeState::Unreachable { reason } = &topology.node(n).state {
            return Err(stop(
                &label,
                format!(
                    "the new master the interrupted failover elected is unreachable ({reason}); \
                     bring it back, then run the same command again"
                ),
            ));
        }
        repointed = topology
            .replicas_of(n)
            .into_iter()
            .filter(|&i| i != master)
            .collect();
        let state = match topology.source_of(n) {
            Some(s) if s == master => "still a slave of the dead master".to_owned(),
            Some(s) => format!("replicating from {} (catching up)", topology.label(s)),
            None => "replicating from no configured server".to_owned(),
        };
        log.info(
            Some(&label),
            &format!("resuming: the new master the interrupted failover elected; {state}"),
        );
        for &i in &repointed {
            log.info(
                Some(&topology.label(i)),
                "resuming: already a slave of the new master (the interrupted failover \
                 repointed it)",
            );
        }
    }
    let multi_tier = ctx.kit.config.settings.multi_tier_slave;
    let mut unmanaged = Vec::new();
    for (i, node) in topology.iter() {
        if i == master || slaves.contains(&i) || Some(i) == pinned || repointed.contains(&i) {
            continue;
        }
        let label = node.spec.label();
        let under = tiers::intermediate_master(&topology, master, i);
        if let (Some(under), true) = (under, multi_tier) {
            log.info(
                Some(&label),
                &format!(
                    "third-tier slave of {}: left replicating from it (multi_tier_slave=1); \
                     this failover does not recover it",
                    topology.label(under)
                ),
            );
            unmanaged.push((i, under));
            continue;
        }
        let why = match (&node.state, under) {
            (NodeState::Unreachable { reason }, _) => format!("is unreachable: {reason}"),
            (NodeState::Reachable(_), Some(under)) => format!(
                "replicates from {}, a slave of the dead master (a third-tier slave), and \
                 multi_tier_slave is not set. Set multi_tier_slave=1 in [server default] to \
                 leave it under its intermediate master (MHA's rule)",
                topology.label(under)
            ),
            (NodeState::Reachable(_), None) => "does not replicate from the dead master".to_owned(),
        };
        if node.spec.ignore_fail {
            log.warn(
                Some(&label),
                &format!("{why}; ignored (ignore_fail=1), it will not be recovered"),
            );
        } else {
            return Err(stop(
                &label,
                format!("{why}. Fix it, or set ignore_fail=1 in its block to fail over without it"),
            ));
        }
    }
    if slaves.is_empty() && pinned.is_none() {
        return Err(stop(&master_label, "has no alive slave to promote".into()));
    }
    let discovery = Discovery {
        master: Some(master),
        slaves: slaves.clone(),
        problems: Vec::new(),
    };
    // A half-done topology cannot tell the mode: the record does.
    let mode = match resume {
        Some(r) if r.gtid => ReplMode::Gtid,
        Some(_) => ReplMode::FilePos,
        None => validate::replication_mode(&topology, &discovery),
    };
    if let Some(r) = resume {
        let kept = r.saved_binlog.as_ref().map(|p| p.display().to_string());
        let slaves_applied = mode == ReplMode::FilePos && r.recovered;
        refuse_without_gtids(&topology, &slaves, pinned, kept.as_deref(), slaves_applied)
            .map_err(Stop::at(Phase::Check))?;
    }
    log.info(
        None,
        &format!(
            "{} alive slave(s) of {master_label}; {} mode",
            slaves.len(),
            match mode {
                ReplMode::Gtid => "GTID",
                ReplMode::FilePos => "file/position",
            }
        ),
    );
    Ok(Checked {
        topology,
        master,
        slaves,
        mode,
        new_master: pinned,
        repointed,
        recovered: resume.is_some_and(|r| r.recovered),
        unmanaged,
        semi_sync: dead.semi_sync.as_deref().cloned(),
    })
}
