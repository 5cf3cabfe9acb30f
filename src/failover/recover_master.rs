//! Phase 3, master recovery: latest slaves, save the dead master's binlog tail,
//! elect, bring the new master up to the latest data, open it for writes.

use futures_util::future::join_all;
use std::collections::HashMap;

use super::apply::{self, node};
use super::check::Checked;
use super::fence::Fenced;
use super::{host_ref, Ctx, Phase, Stop};
use crate::binlog::{self, LogFile};
use crate::config::ServerSpec;
use crate::topology::position::BinlogPos;
use crate::topology::select::{self, ElectionRules};
use crate::topology::snapshot::{NodeState, Observed, Topology};
use crate::topology::status::ServerFacts;
use crate::topology::validate::ReplMode;

/// What phase 4 needs from phase 3.
pub struct Promoted {
    pub new_master: usize,
    pub latest: usize,
    /// Slaves still being recovered (a failed `ignore_fail` slave is dropped).
    pub slaves: Vec<usize>,
    /// Each slave's facts once its SQL thread applied what it had.
    pub facts: HashMap<usize, ServerFacts>,
    /// The dead master's binlog tail (a binlog file), when saved and not empty.
    pub tail: Option<Vec<u8>>,
    /// The latest slave's relay logs, fetched once (file/position mode).
    pub relay_logs: Option<Vec<LogFile>>,
    /// The new master's binlog position once it had everything.
    pub position: Option<BinlogPos>,
    pub possibly_lost: Option<String>,
}

pub async fn recover(ctx: &Ctx, checked: &Checked, fenced: &Fenced) -> Result<Promoted, Stop> {
    let stop = |reason: String| Stop::new(Phase::MasterRecovery, reason);
    let topo = &checked.topology;
    let master_spec = &topo.nodes[checked.master].spec;

    // 3.1: every slave applies what it received; then the latest is known.
    ctx.steps.info(
        Phase::MasterRecovery,
        None,
        "* Phase 3.1: Getting Latest Slaves Phase..",
    );
    let waits = checked.slaves.iter().map(|&i| async move {
        let spec = &topo.nodes[i].spec;
        (i, apply::wait_applied(ctx, spec).await)
    });
    let mut facts = HashMap::new();
    let mut slaves = Vec::new();
    for (i, result) in join_all(waits).await {
        let label = topo.label(i);
        match result {
            Ok(f) => {
                facts.insert(i, f);
                slaves.push(i);
            }
            Err(e) if topo.nodes[i].spec.ignore_fail => ctx.steps.warn(
                Phase::MasterRecovery,
                Some(&label),
                &format!("cannot read it ({e}); left out (ignore_fail=1)"),
            ),
            Err(e) => return Err(stop(format!("{label}: cannot read its state: {e}"))),
        }
    }
    let current = with_facts(topo, &facts);
    let (latest_all, _) = select::latest_and_oldest(&current, &slaves);
    let latest = *latest_all
        .first()
        .ok_or_else(|| stop("no slave has a usable replication position".to_owned()))?;
    let latest_facts = facts[&latest].clone();
    let latest_exec = latest_facts
        .replica
        .as_ref()
        .map(|r| r.exec.clone())
        .ok_or_else(|| stop("the latest slave is not a replica any more".to_owned()))?;
    for &i in &slaves {
        if let Some(r) = facts[&i].replica.as_ref() {
            ctx.steps.info(
                Phase::MasterRecovery,
                Some(&current.label(i)),
                &format!(
                    "read {} exec {}{}",
                    r.read,
                    r.exec,
                    if latest_all.contains(&i) {
                        " (latest)"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    ctx.steps.ok(
        Phase::MasterRecovery,
        Some(&current.label(latest)),
        &format!("The latest slave has all relay logs for recovery (up to {latest_exec})."),
    );
    ctx.steps.facts(|f| {
        f.latest_slave = Some(host_ref(&topo.nodes[latest].spec));
        f.positions.old_master = Some(latest_exec.to_string());
        f.positions.old_master_gtid = apply::gtid_target(&latest_facts).map(|t| match t {
            crate::mysql::WaitTarget::MariaGtid(p) => p.to_string(),
            crate::mysql::WaitTarget::MySqlGtid(s) => s.to_string(),
            crate::mysql::WaitTarget::Position(p) => p.to_string(),
        });
    });

    // 3.2: the dead master's binlog, from what the latest slave executed.
    ctx.steps.info(
        Phase::MasterRecovery,
        None,
        "* Phase 3.2: Saving Dead Master's Binlog Phase..",
    );
    let gtid_note = gtid_text(&latest_facts);
    let mut possibly_lost = None;
    let tail = if ctx.options.skip_save_master_binlog {
        let why = "--skip-save-master-binlog was given".to_owned();
        possibly_lost = Some((lost_text(master_spec, &latest_exec, &gtid_note, &why), why));
        None
    } else if !fenced.ssh_reachable {
        let why = format!("SSH to {} failed", master_spec.label());
        possibly_lost = Some((lost_text(master_spec, &latest_exec, &gtid_note, &why), why));
        None
    } else {
        match save_master_binlog(ctx, master_spec, &latest_exec).await {
            Ok(diff) if diff.events == 0 => {
                ctx.steps.ok(
                    Phase::MasterRecovery,
                    Some(&master_spec.label()),
                    "no events after the latest slave's position: nothing to save",
                );
                None
            }
            Ok(diff) => {
                ctx.steps.ok(
                    Phase::MasterRecovery,
                    Some(&master_spec.label()),
                    &format!(
                        "saved {} events of binlog after {} (up to {})",
                        diff.events, diff.from, diff.to
                    ),
                );
                Some(diff.bytes)
            }
            Err(reason) => {
                ctx.steps.warn(
                    Phase::MasterRecovery,
                    Some(&master_spec.label()),
                    &format!("could not save the binlog: {reason}"),
                );
                possibly_lost = Some((
                    lost_text(master_spec, &latest_exec, &gtid_note, &reason),
                    reason,
                ));
                None
            }
        }
    };
    if let Some((lost, why)) = &possibly_lost {
        ctx.steps.warn(Phase::MasterRecovery, None, lost);
        let gtid = ctx
            .steps
            .journal()
            .facts()
            .positions
            .old_master_gtid
            .clone();
        ctx.steps.facts(|f| {
            f.possibly_lost = Some(crate::journal::LostRange {
                from_pos: Some(latest_exec.to_string()),
                after_gtid: gtid,
                reason: why.clone(),
                to_check: None,
            })
        });
    }
    let possibly_lost = possibly_lost.map(|(text, _)| text);

    // 3.3: election.
    ctx.steps.info(
        Phase::MasterRecovery,
        None,
        "* Phase 3.3: Determining New Master Phase..",
    );
    let settings = &ctx.config.settings;
    let election = select::select_new_master(
        &current,
        checked.master,
        &ElectionRules {
            latest_priority: settings.latest_priority,
            check_repl_delay: settings.check_repl_delay,
            max_delay_bytes: 100_000_000,
            forced: ctx.options.new_master_host.clone(),
        },
    );
    for (i, verdict) in &election.verdicts {
        if Some(*i) != election.chosen {
            ctx.steps.info(
                Phase::MasterRecovery,
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
        return Err(stop(format!(
            "None of the existing slaves can be the new master: {why}"
        )));
    };
    let new_label = current.label(new_master);
    ctx.steps.ok(
        Phase::MasterRecovery,
        Some(&new_label),
        &format!(
            "Selected as the new master ({}).",
            election.rule.map(|r| r.to_string()).unwrap_or_default()
        ),
    );
    ctx.steps.info(
        Phase::MasterRecovery,
        None,
        &format!(
            "From: {} (dead master) To: {new_label}",
            master_spec.label()
        ),
    );
    ctx.steps
        .facts(|f| f.new_master = Some(host_ref(&topo.nodes[new_master].spec)));

    let mut promoted = Promoted {
        new_master,
        latest,
        slaves,
        facts,
        tail,
        relay_logs: None,
        position: None,
        possibly_lost,
    };
    if ctx.options.dry_run {
        plan(ctx, checked, &promoted, &current);
        return Ok(promoted);
    }

    // 3.4 / 3.5: bring the new master up to the latest data, then open it.
    ctx.steps.info(
        Phase::MasterRecovery,
        None,
        "* Phase 3.4: New Master Recovery Phase..",
    );
    ctx.steps.warn(
        Phase::MasterRecovery,
        None,
        "NOTICE: If any error happens from this phase, manual recovery is needed.",
    );
    let new_spec = &topo.nodes[new_master].spec;
    let new_exec = promoted.facts[&new_master]
        .replica
        .as_ref()
        .map(|r| r.exec.clone());
    if new_master != latest && new_exec.as_ref() != Some(&latest_exec) {
        match checked.mode {
            ReplMode::Gtid => {
                apply::catch_up_by_gtid(ctx, new_spec, &topo.nodes[latest].spec, &latest_facts)
                    .await
                    .map_err(|e| {
                        stop(format!(
                            "{new_label}: catching up from the latest slave failed: {e}"
                        ))
                    })?;
                ctx.steps.ok(
                    Phase::MasterRecovery,
                    Some(&new_label),
                    &format!("caught up from {} by GTID", current.label(latest)),
                );
            }
            ReplMode::FilePos => {
                let target = new_exec
                    .ok_or_else(|| stop(format!("{new_label} has no replication position")))?;
                let relay = apply::fetch_relay_logs(ctx, &topo.nodes[latest].spec, &latest_facts)
                    .await
                    .map_err(|e| {
                        stop(format!(
                            "fetching the latest slave's relay logs failed: {e}"
                        ))
                    })?;
                let diff =
                    relay_diff(&relay, &target).map_err(|e| stop(format!("{new_label}: {e}")))?;
                let tools = node(ctx, new_spec)
                    .tools()
                    .await
                    .map_err(|e| stop(e.to_string()))?;
                apply::apply_on(ctx, new_spec, &tools, "relay-diff", diff.bytes)
                    .await
                    .map_err(|e| {
                        stop(format!(
                            "{new_label}: applying the relay-log diff failed: {e}"
                        ))
                    })?;
                ctx.steps.ok(
                    Phase::MasterRecovery,
                    Some(&new_label),
                    &format!(
                        "applied {} relay-log events ({} to {})",
                        diff.events, diff.from, diff.to
                    ),
                );
                promoted.relay_logs = Some(relay);
            }
        }
    }
    let db = ctx
        .connector
        .connect(new_spec, settings.mysql_timeout)
        .await
        .map_err(|e| stop(format!("{new_label}: cannot connect: {e}")))?;
    let finish = async {
        db.stop_replica()
            .await
            .map_err(|e| format!("stopping replication: {e}"))?;
        if let Some(tail) = promoted.tail.clone() {
            let tools = node(ctx, new_spec)
                .tools()
                .await
                .map_err(|e| e.to_string())?;
            apply::apply_on(ctx, new_spec, &tools, "binlog-tail", tail)
                .await
                .map_err(|e| format!("applying the dead master's binlog failed: {e}"))?;
        }
        ctx.steps.ok(
            Phase::MasterRecovery,
            Some(&new_label),
            "OK: Applying all logs succeeded.",
        );
        super::hooks::ip_start(ctx, master_spec, new_spec)
            .await
            .map_err(|e| e.reason)?;
        let facts = db
            .facts()
            .await
            .map_err(|e| format!("reading its binlog position: {e}"))?;
        db.set_read_only(false)
            .await
            .map_err(|e| format!("setting read_only=0: {e}"))?;
        Ok::<_, String>(facts.binlog)
    }
    .await;
    db.close().await;
    promoted.position = finish.map_err(|e| stop(format!("{new_label}: {e}")))?;
    let new_pos = promoted.position.as_ref().map(ToString::to_string);
    ctx.steps.facts(|f| {
        f.new_master_recovered = true;
        f.positions.new_master = new_pos;
    });
    ctx.steps.ok(
        Phase::MasterRecovery,
        Some(&new_label),
        &format!(
            "read_only=0: the new master accepts writes{}",
            promoted
                .position
                .as_ref()
                .map(|p| format!(" (binlog at {p})"))
                .unwrap_or_default()
        ),
    );
    Ok(promoted)
}

/// The topology with each slave's refreshed facts.
fn with_facts(topo: &Topology, facts: &HashMap<usize, ServerFacts>) -> Topology {
    let mut t = topo.clone();
    for (i, f) in facts {
        let grant = match &t.nodes[*i].state {
            NodeState::Reachable(o) => o.repl_grant,
            NodeState::Unreachable { .. } => None,
        };
        t.nodes[*i].state = NodeState::Reachable(Box::new(Observed {
            facts: f.clone(),
            repl_grant: grant,
        }));
    }
    t
}

/// Cuts the relay-log events after `target` from the latest slave's relay logs.
pub fn relay_diff(relay: &[LogFile], target: &BinlogPos) -> Result<binlog::Diff, String> {
    let cut = binlog::find_master_pos(relay, target).map_err(|e| e.to_string())?;
    binlog::cut_diff(relay, &cut).map_err(|e| e.to_string())
}

/// Fetches the dead master's binlog files from `start.file` on and cuts the tail after `start`.
async fn save_master_binlog(
    ctx: &Ctx,
    spec: &ServerSpec,
    start: &BinlogPos,
) -> Result<binlog::Diff, String> {
    let node = node(ctx, spec);
    for dir in &spec.master_binlog_dir {
        let Ok(names) = node.list(dir).await else {
            continue;
        };
        let files = apply::log_files_from(&names, start.stem(), start.seq().unwrap_or(0));
        if files.first() != Some(&start.file) {
            continue;
        }
        let mut logs = Vec::new();
        for name in files {
            let bytes = node
                .fetch(&format!("{}/{name}", dir.trim_end_matches('/')))
                .await
                .map_err(|e| e.to_string())?;
            logs.push(LogFile { name, bytes });
        }
        return binlog::binlog_tail(&logs, start).map_err(|e| e.to_string());
    }
    Err(format!(
        "{} not found in master_binlog_dir ({})",
        start.file,
        spec.master_binlog_dir.join(",")
    ))
}

fn gtid_text(facts: &ServerFacts) -> String {
    match apply::gtid_target(facts) {
        Some(crate::mysql::WaitTarget::MariaGtid(p)) => format!(" (GTID {p})"),
        Some(crate::mysql::WaitTarget::MySqlGtid(s)) => format!(" (GTID set {s})"),
        _ => String::new(),
    }
}

fn lost_text(master: &ServerSpec, from: &BinlogPos, gtid: &str, why: &str) -> String {
    format!(
        "Transactions after {from}{gtid} in {}'s binlog could not be saved ({why}) and may be lost; \
         once the old master is back, compare: mysqlbinlog --start-position={} {}",
        master.label(),
        from.pos,
        from.file
    )
}

/// `--dry-run`: say what would be done.
fn plan(ctx: &Ctx, checked: &Checked, p: &Promoted, topo: &Topology) {
    let new_label = topo.label(p.new_master);
    let mut lines = vec![format!("Plan: promote {new_label}")];
    if p.new_master != p.latest {
        lines.push(format!(
            "Plan: bring {new_label} up to {} ({})",
            topo.label(p.latest),
            match checked.mode {
                ReplMode::Gtid => "replicate by GTID until caught up",
                ReplMode::FilePos => "apply the relay-log difference",
            }
        ));
    }
    if p.tail.is_some() {
        lines.push(format!(
            "Plan: apply the dead master's saved binlog tail on {new_label}"
        ));
    }
    for &i in &p.slaves {
        if i != p.new_master {
            lines.push(format!("Plan: repoint {} to {new_label}", topo.label(i)));
        }
    }
    for l in lines {
        ctx.steps.info(Phase::MasterRecovery, None, &l);
    }
}
