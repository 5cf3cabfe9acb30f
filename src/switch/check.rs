//! Phase 1: read every server and decide whether the switch may start. Every
//! reason to refuse is collected (not only the first), each naming its host and
//! what to do.

use super::{rules, Ctx};
use crate::config::ServerId;
use crate::mysql::{gather, Db, Process};
use crate::recovery;
use crate::topology::select::{self, ElectionRules, Refusal, Verdict};
use crate::topology::snapshot::Topology;
use crate::topology::status::GtidFacts;
use crate::topology::validate::{self, Problem, ReplMode, Rules};

/// What phase 1 found: the servers and the roles of the switch.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub topology: Topology,
    pub master: ServerId,
    pub new_master: ServerId,
    /// The master's other slaves (not the new master), to repoint, config order.
    pub slaves: Vec<ServerId>,
    /// Slaves follow the master by GTID.
    pub gtid_mode: bool,
    /// Who may write on the master despite read_only (`None`: could not be read).
    pub exempt_users: Option<Vec<String>>,
}

pub(super) async fn check(ctx: &Ctx) -> Result<Checked, Vec<Problem>> {
    let opts = &ctx.options;
    let settings = &ctx.kit.config.settings;
    let mut problems: Vec<Problem> = opts.blocked.clone();
    let topology = gather::topology(&ctx.kit.config, ctx.kit.connector.clone()).await;
    let rules = Rules {
        seconds_behind_master: opts.seconds_behind_master,
        ..Rules::from_settings(settings)
    };
    let (discovery, found) = validate::check(&topology, &rules);
    for p in found {
        if p.is_error() {
            problems.push(p);
        } else {
            ctx.log()
                .warn(Some(&p.host), &format!("{}. Fix: {}", p.what, p.fix));
        }
    }
    let Some(master) = discovery.master else {
        if problems.is_empty() {
            problems.push(Problem::error(
                ctx.kit.config.app.clone(),
                "cannot tell which server is the master",
                "run ha-manager check-repl and fix what it reports",
            ));
        }
        return Err(problems);
    };
    ctx.log().info(
        Some(&topology.label(master)),
        "current master (alive); checking its slaves",
    );
    let direct: Vec<ServerId> = discovery
        .slaves
        .iter()
        .copied()
        .filter(|&s| topology.source_of(s) == Some(master))
        .collect();
    let gtid_mode = validate::replication_mode(&topology, &discovery) == ReplMode::Gtid;

    let new_master = elect(ctx, &topology, master, &direct, &mut problems);
    master_problems(ctx, &topology, master, &mut problems);
    let exempt_users = thread_problems(ctx, &topology, master, new_master, &mut problems).await;

    match new_master {
        Some(new_master) if problems.is_empty() => {
            let slaves = direct.into_iter().filter(|&s| s != new_master).collect();
            Ok(Checked {
                topology,
                master,
                new_master,
                slaves,
                gtid_mode,
                exempt_users,
            })
        }
        _ => Err(problems),
    }
}

/// The election as MHA's switch runs it; a refusal is a problem.
fn elect(
    ctx: &Ctx,
    topology: &Topology,
    master: ServerId,
    direct: &[ServerId],
    problems: &mut Vec<Problem>,
) -> Option<ServerId> {
    let opts = &ctx.options;
    // MHA counts every alive slave as latest and does not check delay by bytes.
    let equal = rules::all_latest(topology, direct);
    let election = select::select_new_master(
        &equal,
        master,
        &ElectionRules {
            check_repl_delay: false,
            ..recovery::election_rules(&ctx.kit.config, opts.new_master_host.clone())
        },
    );
    for (i, verdict) in &election.verdicts {
        if !matches!(verdict, Verdict::Chosen(_)) {
            ctx.log()
                .info(Some(&topology.label(*i)), &format!("{verdict}"));
        }
    }
    match (election.chosen, &election.refusal) {
        (Some(chosen), _) => {
            ctx.log().ok(
                Some(&topology.label(chosen)),
                &format!(
                    "can be new master ({})",
                    election.rule.map(|r| r.to_string()).unwrap_or_default()
                ),
            );
            Some(chosen)
        }
        (None, refusal) => {
            problems.push(election_problem(topology, master, refusal.as_ref()));
            None
        }
    }
}

/// What the old master must have for the switch.
fn master_problems(ctx: &Ctx, topology: &Topology, master: ServerId, problems: &mut Vec<Problem>) {
    let opts = &ctx.options;
    let master_spec = &topology.node(master).spec;
    if opts.orig_master_is_new_slave && master_spec.repl_password.is_none() {
        problems.push(Problem::error(
            topology.label(master),
            "--orig-master-is-new-slave needs the replication password to make the old master \
             a slave of the new one, and repl_password is not set",
            "set repl_password (and repl_user) in [server default] of the configuration, or \
             leave out --orig-master-is-new-slave and repoint the old master by hand",
        ));
    }
    if topology.facts(master).is_some_and(|f| f.binlog.is_none()) {
        problems.push(Problem::error(
            topology.label(master),
            "binary logging is off on the master: there is no position to switch at",
            "enable log_bin on the master",
        ));
    }
}

/// Long writes on the master and long queries on the new master; returns who
/// may write on the master despite read_only (`None`: could not be read).
async fn thread_problems(
    ctx: &Ctx,
    topology: &Topology,
    master: ServerId,
    new_master: Option<ServerId>,
    problems: &mut Vec<Problem>,
) -> Option<Vec<String>> {
    let opts = &ctx.options;
    // Threads: long writes on the master, long queries on the new master.
    let mut exempt_users = None;
    match processes(ctx, topology, master, true).await {
        Ok((procs, exempt)) => {
            exempt_users = exempt;
            let long = rules::long_updates(&procs, opts.running_updates_limit);
            if !long.is_empty() {
                problems.push(threads_problem(
                    topology,
                    master,
                    &long,
                    format!(
                        "{} running for more than {} s (running_updates_limit); read_only=1 \
                         would wait for {} and freeze writes that long",
                        count(long.len(), "write", "writes"),
                        opts.running_updates_limit,
                        if long.len() == 1 { "it" } else { "them" }
                    ),
                    "wait for them to finish (or kill them), then run the switch again; \
                     --running-updates-limit raises the limit",
                ));
            }
        }
        Err(e) => problems.push(Problem::error(
            topology.label(master),
            format!("cannot read its process list: {e}"),
            "make sure the manager's user has the PROCESS privilege on it",
        )),
    }
    if let Some(new_master) = new_master {
        match processes(ctx, topology, new_master, false).await {
            Ok((procs, _)) => {
                let long = rules::long_queries(&procs, opts.running_seconds_limit);
                if !long.is_empty() {
                    problems.push(threads_problem(
                        topology,
                        new_master,
                        &long,
                        format!(
                            "{} running for {} s or more on the new master \
                             (running_seconds_limit)",
                            count(long.len(), "query", "queries"),
                            opts.running_seconds_limit
                        ),
                        "wait for them to finish (or kill them), then run the switch again; \
                         --running-seconds-limit raises the limit",
                    ));
                }
            }
            Err(e) => problems.push(Problem::error(
                topology.label(new_master),
                format!("cannot read its process list: {e}"),
                "make sure the manager's user has the PROCESS privilege on it",
            )),
        }
    }

    exempt_users
}

/// The process list (and, for the master, who may write despite read_only).
async fn processes(
    ctx: &Ctx,
    topology: &Topology,
    index: ServerId,
    exempt: bool,
) -> Result<(Vec<Process>, Option<Vec<String>>), crate::mysql::DbError> {
    let db: Box<dyn Db> = ctx
        .kit
        .connector
        .connect(
            &topology.node(index).spec,
            ctx.kit.config.settings.mysql_timeout,
        )
        .await?;
    let result = async {
        let procs = db.processlist().await?;
        let users = if exempt {
            match db.read_only_exempt_users().await {
                Ok(users) => Some(users),
                Err(e) => {
                    ctx.log().warn(
                        Some(&topology.label(index)),
                        &format!(
                            "cannot read which accounts may write despite read_only ({e}); \
                             the freeze will kill every client session"
                        ),
                    );
                    None
                }
            }
        } else {
            None
        };
        Ok((procs, users))
    }
    .await;
    db.close().await;
    result
}

/// `1 write`, `3 writes`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn threads_problem(
    topology: &Topology,
    index: ServerId,
    threads: &[&Process],
    what: String,
    fix: &str,
) -> Problem {
    let listed: Vec<String> = threads
        .iter()
        .take(10)
        .map(|p| rules::describe(p))
        .collect();
    Problem::error(
        topology.label(index),
        format!("{what}: {}", listed.join("; ")),
        fix,
    )
}

fn election_problem(topology: &Topology, master: ServerId, refusal: Option<&Refusal>) -> Problem {
    let host = match refusal {
        Some(Refusal::ForcedBad { server, .. }) => server.clone(),
        _ => topology.label(master),
    };
    let what = match refusal {
        Some(r) => format!("no new master: {r}"),
        None => "no new master could be chosen".to_string(),
    };
    Problem::error(
        host,
        what,
        "name an eligible slave with --new-master-host, or fix the reason given for each slave \
         above",
    )
}

/// What the switch will do, step by step, for the log and `--dry-run`.
pub(super) fn plan(ctx: &Ctx, checked: &Checked) -> Vec<String> {
    let topo = &checked.topology;
    let old = topo.label(checked.master);
    let new = topo.label(checked.new_master);
    let opts = &ctx.options;
    let hook = ctx
        .kit
        .config
        .settings
        .master_ip_online_change_script
        .is_some();
    let super_read_only = topo
        .facts(checked.master)
        .is_some_and(|f| f.super_read_only.is_some());
    let mut steps = Vec::new();
    if hook {
        steps.push("master_ip_online_change_script --command=stop".to_string());
    }
    steps.push(format!(
        "{old}: SET GLOBAL read_only=1{} (the write freeze starts); after at most {} ms KILL the \
         client sessions still writing or in a transaction{}; record the binlog position",
        if super_read_only {
            ", super_read_only=1"
        } else {
            ""
        },
        opts.kill_grace.as_millis(),
        if super_read_only {
            String::new()
        } else {
            match &checked.exempt_users {
                Some(users) if users.is_empty() => String::new(),
                Some(users) => format!(
                    ", and every session of the accounts read_only does not stop ({})",
                    users.join(", ")
                ),
                None => ", and every other client session".to_string(),
            }
        }
    ));
    let by = if checked.gtid_mode {
        "GTID"
    } else {
        "binlog file/position"
    };
    steps.push(format!(
        "{new}: wait until it has executed everything up to that position ({by}, at most {} s), \
         STOP SLAVE",
        opts.catchup_timeout.as_secs()
    ));
    if hook {
        steps.push("master_ip_online_change_script --command=start".to_string());
    }
    steps.push(format!(
        "{new}: SET GLOBAL read_only=0 (the write freeze ends; a failure before this point is \
         rolled back: {old} takes writes again)"
    ));
    for &s in &checked.slaves {
        steps.push(format!(
            "{}: wait for the frozen position, CHANGE MASTER to {new} ({by}), START SLAVE \
             (in parallel)",
            topo.label(s)
        ));
    }
    if opts.orig_master_is_new_slave {
        steps.push(format!(
            "{old}: CHANGE MASTER to {new} ({by}), START SLAVE; it stays read-only"
        ));
    } else if topo.source_of(checked.master) == Some(checked.new_master) {
        steps.push(format!(
            "{old}: already replicates from {new} (dual master): it keeps doing so and stays \
             read-only"
        ));
    } else {
        steps.push(format!(
            "{old}: stays read-only and replicates from no one (use --orig-master-is-new-slave \
             to make it a slave of {new})"
        ));
    }
    if topo.node(checked.new_master).spec.skip_reset_slave {
        steps.push(format!("{new}: RESET SLAVE ALL skipped (skip_reset_slave)"));
    } else {
        steps.push(format!("{new}: RESET SLAVE ALL"));
    }
    let mut lines = vec!["Plan:".to_string()];
    lines.extend(
        steps
            .into_iter()
            .enumerate()
            .map(|(n, s)| format!(" {}. {s}", n + 1)),
    );
    lines
}

/// The server's `gtid_current_pos` as phase 1 read it (MariaDB only).
pub(super) fn current_pos(
    topology: &Topology,
    index: ServerId,
) -> Option<&crate::topology::gtid::MariaGtidPos> {
    match &topology.facts(index)?.gtid {
        GtidFacts::MariaDb { current_pos, .. } => Some(current_pos),
        GtidFacts::MySql { .. } => None,
    }
}
