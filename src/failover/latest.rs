//! Phase 3.1, getting latest slaves: every slave applies what it received;
//! then the latest one (greatest read position or GTID set) is known.

use crate::config::ServerId;
use futures_util::future::join_all;
use std::collections::HashMap;

use super::check::Checked;
use super::{Ctx, Phase};
use crate::recovery::{apply, host_ref, StepError};
use crate::topology::position::BinlogPos;
use crate::topology::select;
use crate::topology::snapshot::{NodeState, Observed, Topology};
use crate::topology::status::ServerFacts;

/// The slaves as they are once their SQL threads are done.
pub(super) struct Latest {
    /// Slaves still being recovered (a failed `ignore_fail` slave is dropped).
    pub slaves: Vec<ServerId>,
    /// Each slave's facts once its SQL thread applied what it had.
    pub facts: HashMap<ServerId, ServerFacts>,
    /// The topology with those facts.
    pub current: Topology,
    /// The latest slave: it has all relay logs for recovery.
    pub latest: ServerId,
    /// What the latest slave executed of the dead master's binlog.
    pub exec: BinlogPos,
}

impl Latest {
    pub(super) fn latest_facts(&self) -> &ServerFacts {
        &self.facts[&self.latest]
    }

    /// What slave `i` executed of the dead master's binlog.
    pub(super) fn exec_of(&self, i: ServerId) -> Option<BinlogPos> {
        self.facts
            .get(&i)
            .and_then(|f| f.replica.as_ref())
            .map(|r| r.exec.clone())
    }

    /// Is slave `i` behind the latest slave (so it needs a relay-log diff)?
    pub(super) fn behind(&self, i: ServerId) -> bool {
        self.exec_of(i) < self.exec_of(self.latest)
    }
}

pub(super) async fn find(ctx: &Ctx, checked: &Checked) -> Result<Latest, StepError> {
    let log = ctx.log(Phase::MasterRecovery);
    let topo = &checked.topology;
    log.info(None, "* Phase 3.1: Getting Latest Slaves Phase..");
    let waits = checked.slaves.iter().map(|&i| async move {
        let spec = &topo.node(i).spec;
        (i, apply::wait_applied(&ctx.kit, log, spec).await)
    });
    let mut facts = HashMap::new();
    let mut slaves = Vec::new();
    for (i, result) in join_all(waits).await {
        match result {
            Ok(f) => {
                facts.insert(i, f);
                slaves.push(i);
            }
            Err(e) if topo.node(i).spec.ignore_fail => {
                log.error_as_warning(&e, "left out (ignore_fail=1)")
            }
            Err(e) => return Err(e),
        }
    }
    let current = with_facts(topo, &facts);
    let (latest_all, _) = select::latest_and_oldest(&current, &slaves);
    let master_label = topo.label(checked.master);
    let latest = *latest_all.first().ok_or_else(|| {
        StepError::state(&master_label, "no slave has a usable replication position")
    })?;
    let exec = facts[&latest]
        .replica
        .as_ref()
        .map(|r| r.exec.clone())
        .ok_or_else(|| {
            StepError::state(
                current.label(latest),
                "the latest slave is not a replica any more",
            )
        })?;
    for &i in &slaves {
        if let Some(r) = facts[&i].replica.as_ref() {
            let mark = if latest_all.contains(&i) {
                " (latest)"
            } else {
                ""
            };
            log.info(
                Some(&current.label(i)),
                &format!("read {} exec {}{mark}", r.read, r.exec),
            );
        }
    }
    log.ok(
        Some(&current.label(latest)),
        &format!("The latest slave has all relay logs for recovery (up to {exec})."),
    );
    let gtid = apply::gtid_target(&facts[&latest])
        .map(|t| gtid_text(&t))
        .filter(|t| !t.is_empty());
    ctx.kit.log.facts(|f| {
        f.latest_slave = Some(host_ref(&topo.node(latest).spec));
        f.positions.old_master = Some(exec.to_string());
        f.positions.old_master_gtid = gtid;
    });
    Ok(Latest {
        slaves,
        facts,
        current,
        latest,
        exec,
    })
}

/// A wait target as the journal writes it.
pub(super) fn gtid_text(target: &crate::mysql::WaitTarget) -> String {
    match target {
        crate::mysql::WaitTarget::MariaGtid(p) => p.to_string(),
        crate::mysql::WaitTarget::MySqlGtid(s) => s.to_string(),
        crate::mysql::WaitTarget::Position(p) => p.to_string(),
    }
}

/// The topology with each slave's refreshed facts.
fn with_facts(topo: &Topology, facts: &HashMap<ServerId, ServerFacts>) -> Topology {
    let mut t = topo.clone();
    for (i, f) in facts {
        let grant = match &t.node(*i).state {
            NodeState::Reachable(o) => o.repl_grant,
            NodeState::Unreachable { .. } => None,
        };
        t.node_mut(*i).state = NodeState::Reachable(Box::new(Observed {
            facts: f.clone(),
            repl_grant: grant,
        }));
    }
    t
}
