//! After phase 4: the repointed slaves' errant GTIDs (transactions the new
//! master lacks), read from the servers, logged and kept for the report.

use futures_util::future::join_all;

use super::{Ctx, Phase};
use crate::config::ServerId;
use crate::journal::ErrantLeft;
use crate::recovery::{host_ref, ReplicaResult};
use crate::topology::errant::{self, Reference};
use crate::topology::snapshot::Topology;
use crate::topology::status::ServerFacts;

/// Reads the new master and each repointed slave (`results` ok) and
/// records every slave with transactions the new master lacks. A server
/// that cannot be read is skipped with a note: this is a report, not a step.
pub(super) async fn record(
    ctx: &Ctx,
    topo: &Topology,
    new_master: ServerId,
    slaves: &[ServerId],
    results: &[ReplicaResult],
) {
    let log = ctx.log(Phase::Cleanup);
    let repointed: Vec<ServerId> = slaves
        .iter()
        .copied()
        .filter(|&i| {
            i != new_master && results.iter().any(|r| r.host == topo.label(i) && r.is_ok())
        })
        .collect();
    if repointed.is_empty() {
        return;
    }
    let read = |i: ServerId| async move { (i, facts_of(ctx, topo, i).await) };
    let Some(master_facts) = facts_of(ctx, topo, new_master).await else {
        log.info(
            None,
            "errant GTIDs on the slaves not checked: the new master could not be read",
        );
        return;
    };
    let reference = Reference::of_master(&master_facts.gtid);
    let master_label = topo.label(new_master);
    let mut left = Vec::new();
    for (i, facts) in join_all(repointed.into_iter().map(read)).await {
        let Some(facts) = facts else { continue };
        // Read after the new master, a slave may have more of its own GTIDs.
        let reference = Reference {
            origin: errant::origin_of(&facts, Some(master_facts.server_id)),
            ..reference.clone()
        };
        let Some(found) = errant::errant(&facts.gtid, &reference) else {
            continue;
        };
        let label = topo.label(i);
        let fix = found.fix(&label, &master_label);
        log.warn(
            Some(&label),
            &format!(
                "has {} errant GTID(s), transactions the new master {master_label} lacks: \
                 {found}. Fix: {fix}",
                found.count()
            ),
        );
        left.push(ErrantLeft {
            host: host_ref(topo.spec(i)),
            gtids: found.to_string(),
            fix,
        });
    }
    if !left.is_empty() {
        ctx.kit.log.facts(|f| f.errant_left = left);
    }
}

async fn facts_of(ctx: &Ctx, topo: &Topology, i: ServerId) -> Option<ServerFacts> {
    let db = ctx.kit.connect(topo.spec(i)).await.ok()?;
    let facts = db.facts().await.ok();
    db.close().await;
    facts
}
