//! Phase 3.4, new master recovery: bring the new master up to the latest
//! slave — by GTID replication from it, or (file/position) by applying the
//! difference of the latest slave's relay logs.

use super::check::Checked;
use super::latest::Latest;
use super::{Ctx, Phase};
use crate::config::ServerId;
use crate::recovery::apply::CatchUpError;
use crate::recovery::fetch::{self, Fetched};
use crate::recovery::{apply, Kit, StepError};
use crate::topology::status::{GtidFacts, ServerFacts};
use crate::topology::validate::ReplMode;

/// What catching up fetched that phase 4 can reuse.
#[derive(Debug, Default)]
pub(super) struct CaughtUp {
    /// The latest slave's relay logs, copied once (file/position mode).
    pub relay_logs: Option<Fetched>,
}

/// Does the new master lack anything the latest slave has?
pub(super) fn needs_catch_up(latest: &Latest, new_master: ServerId) -> bool {
    new_master != latest.latest && latest.exec_of(new_master).as_ref() != Some(&latest.exec)
}

/// A replication error on the new master while it catches up by GTID is
/// [`CatchUpError::Stopped`] (seen within seconds): the election may then
/// try another slave.
pub(super) async fn catch_up(
    ctx: &Ctx,
    checked: &Checked,
    latest: &Latest,
    new_master: ServerId,
) -> Result<CaughtUp, CatchUpError> {
    let mode = checked.mode;
    let log = ctx.log(Phase::MasterRecovery);
    log.info(None, "* Phase 3.4: New Master Recovery Phase..");
    // MHA's notice, for the log only: it is not a step that warned.
    log.line("NOTICE: If any error happens from this phase, manual recovery is needed.");
    if !needs_catch_up(latest, new_master) {
        return Ok(CaughtUp::default());
    }
    let topo = &latest.current;
    let new_spec = &topo.node(new_master).spec;
    let new_label = new_spec.label();
    let latest_spec = &topo.node(latest.latest).spec;
    match mode {
        ReplMode::Gtid => {
            // Resuming: the interrupted failover may have caught it up (and
            // applied the tail) already; replicating from the latest slave
            // again would then ask it for transactions it never had.
            if checked.new_master.is_some() {
                let db = ctx.kit.connect(new_spec).await?;
                let facts = db.facts().await;
                db.close().await;
                let facts =
                    facts.map_err(|e| StepError::db(&new_label, "reading its GTID position", e))?;
                if has_all(&facts, latest.latest_facts()) {
                    log.ok(
                        Some(&new_label),
                        &format!(
                            "resuming: already has every transaction of {}",
                            latest_spec.label()
                        ),
                    );
                    return Ok(CaughtUp::default());
                }
            }
            // Replicating from a latest slave with errant GTIDs would copy
            // them to the new master, and from it to every slave: what the
            // election kept it from promoting for. Its relay logs hold only
            // the dead master's events: the difference comes from there.
            if let Some(errant) =
                crate::topology::errant::of_slave(topo, checked.master, latest.latest)
            {
                match from_relay_logs(ctx, latest, new_master).await {
                    Ok(_) => {
                        log.ok(
                            Some(&new_label),
                            &format!(
                                "caught up from the relay logs of {}, not by replicating from \
                                 it: its {} errant GTID(s) ({errant}) stay off the new master",
                                latest_spec.label(),
                                errant.count()
                            ),
                        );
                        return Ok(CaughtUp::default());
                    }
                    Err(CatchUpError::Step(e)) => log.warn(
                        Some(&new_label),
                        &format!(
                            "could not catch up from the relay logs of {} ({e}): catching up \
                             by GTID replication from it, which copies its {} errant GTID(s) \
                             ({errant}) to the new master",
                            latest_spec.label(),
                            errant.count()
                        ),
                    ),
                    Err(other) => return Err(other),
                }
            }
            apply::catch_up_by_gtid(&ctx.kit, new_spec, latest_spec, latest.latest_facts()).await?;
            log.ok(
                Some(&new_label),
                &format!("caught up from {} by GTID", latest_spec.label()),
            );
            Ok(CaughtUp::default())
        }
        ReplMode::FilePos => from_relay_logs(ctx, latest, new_master).await,
    }
}

/// Applies on the new master the difference of the latest slave's relay
/// logs from the new master's position (copied once, from where the
/// earliest slave behind needs, so phase 4 can reuse them).
async fn from_relay_logs(
    ctx: &Ctx,
    latest: &Latest,
    new_master: ServerId,
) -> Result<CaughtUp, CatchUpError> {
    let log = ctx.log(Phase::MasterRecovery);
    let topo = &latest.current;
    let new_spec = &topo.node(new_master).spec;
    let new_label = new_spec.label();
    let latest_spec = &topo.node(latest.latest).spec;
    let target = latest
        .exec_of(new_master)
        .ok_or_else(|| StepError::state(&new_label, "has no replication position"))?;
    let earliest = latest
        .slaves
        .iter()
        .filter(|&&i| latest.behind(i))
        .filter_map(|&i| latest.exec_of(i))
        .chain(std::iter::once(target.clone()))
        .min();
    let relay = fetch::fetch_relay_logs(
        &ctx.kit,
        latest_spec,
        latest.latest_facts(),
        earliest.as_ref(),
    )
    .await?;
    let (diff, file) = fetch::cut_relay_diff(&ctx.kit, &relay, &target, new_spec).await?;
    let tools = apply::tools(&ctx.kit, new_spec).await?;
    let applied = apply::apply_on(&ctx.kit, new_spec, &tools, "relay-diff", &file).await?;
    log.ok(
        Some(&new_label),
        &format!(
            "relay-log difference ({} events, {} to {}): {}",
            diff.events,
            diff.from,
            diff.to,
            applied.summary()
        ),
    );
    Ok(CaughtUp {
        relay_logs: Some(relay),
    })
}

/// Does a server (`mine`) have every transaction `other` has, by GTID?
pub(super) fn has_all(mine: &ServerFacts, other: &ServerFacts) -> bool {
    match (&mine.gtid, &other.gtid) {
        (
            GtidFacts::MariaDb {
                binlog_pos,
                slave_pos,
                ..
            },
            GtidFacts::MariaDb { current_pos, .. },
        ) => apply::merged(binlog_pos, slave_pos).contains(current_pos),
        (GtidFacts::MySql { executed: a, .. }, GtidFacts::MySql { executed: b, .. }) => {
            b.is_subset(a)
        }
        _ => false,
    }
}

/// Applies the dead master's saved binlog tail on `spec`'s host.
pub(super) async fn apply_tail(
    kit: &Kit,
    spec: &crate::config::ServerSpec,
    tools: Option<crate::transport::node::Tools>,
    tail: &std::path::Path,
) -> Result<apply::Applied, StepError> {
    let tools = match tools {
        Some(t) => t,
        None => apply::tools(kit, spec).await?,
    };
    apply::apply_on(kit, spec, &tools, "binlog-tail", tail).await
}
