//! The individual check-repl checks, one small function each.
//!
//! Health checks look at *managed* slaves: every slave except, with
//! `multi_tier_slave=1`, those replicating from another slave, which MHA
//! leaves alone ("unmanaged") and never recovers.

use crate::config::model::ServerId;
use crate::topology::status::{IoState, ReplicaStatus};
use crate::topology::validate::ctx::Ctx;
use crate::topology::validate::{group_by, io_words, is_promotable, labels, Problem, ReplMode};

pub(super) fn unreachable_servers(ctx: &Ctx<'_>) -> Vec<Problem> {
    let topo = ctx.topo;
    topo.unreachable()
        .into_iter()
        // A dead master named as such is what `start` is about to confirm.
        .filter(|&i| !(ctx.master_dead && Some(i) == ctx.master))
        .map(|i| {
            let node = topo.node(i);
            let what = format!(
                "cannot connect: {}",
                node.unreachable_reason().unwrap_or("unknown")
            );
            if node.spec.ignore_fail && Some(i) != ctx.master {
                tolerated_if_ignore_fail(ctx, node.label(), what)
            } else {
                Problem::error(
                    node.label(),
                    what,
                    "Start the server or restore the manager's access to it (network, user, \
                     password); if it is gone for good, remove its block from the configuration, \
                     or set ignore_fail=1 in it to tolerate its absence",
                )
            }
        })
        .collect()
}

/// A problem of an `ignore_fail` slave: a warning, except in the start-up
/// checks without `--ignore-fail-on-start`, where it is an error naming the
/// option (MHA's `validate_num_alive_servers`).
fn tolerated_if_ignore_fail(ctx: &Ctx<'_>, host: String, what: String) -> Problem {
    if ctx.rules.ignore_fail_on_start != Some(false) {
        Problem::warning(
            host,
            what,
            "ignore_fail=1 is set for it, so this is tolerated; bring it back when you can",
        )
    } else {
        Problem::error(
            host,
            format!("{what} (ignore_fail=1 is set, but start-up needs every server)"),
            "Bring it back, or start with --ignore-fail-on-start to monitor without it \
             (MHA's rule: ignore_fail only counts at start-up with that option)",
        )
    }
}

/// Every slave must replicate from the master (MHA aborts otherwise), by
/// address and, when known, by server id.
pub(super) fn slave_sources(ctx: &Ctx<'_>) -> Vec<Problem> {
    let Some(master) = ctx.master else {
        return Vec::new();
    };
    let topo = ctx.topo;
    let master_id = topo.facts(master).map(|f| f.server_id);
    ctx.slaves
        .iter()
        .filter_map(|&s| {
            let replica = topo.replica(s)?;
            let source = topo.source_of(s);
            let id_matches =
                replica.master_server_id.is_some() && replica.master_server_id == master_id;
            match source {
                Some(src) if src == master => wrong_server_id(ctx, s, replica, master_id),
                Some(src) if ctx.rules.multi_tier_slave => Some(Problem::warning(
                    ctx.label(s),
                    format!(
                        "replicates from {}, another slave: unmanaged (multi_tier_slave=1), \
                         it will not be recovered by a failover",
                        ctx.label(src)
                    ),
                    "Nothing if this three-tier layout is intended; otherwise point it at the \
                     master with CHANGE MASTER TO",
                )),
                Some(src) => Some(Problem::error(
                    ctx.label(s),
                    format!(
                        "replicates from {}, not from the master {}",
                        ctx.label(src),
                        ctx.label(master)
                    ),
                    "Point it at the master with CHANGE MASTER TO, or set multi_tier_slave=1 \
                     to leave slaves of slaves unmanaged",
                )),
                None => Some(foreign_source(ctx, s, replica, master, id_matches)),
            }
        })
        .collect()
}

/// The address names the master but the server id says otherwise: another
/// server answers at that address (moved IP, port forward).
fn wrong_server_id(
    ctx: &Ctx<'_>,
    slave: ServerId,
    replica: &ReplicaStatus,
    master_id: Option<u32>,
) -> Option<Problem> {
    let (Some(seen), Some(master_id)) = (replica.master_server_id, master_id) else {
        return None;
    };
    (seen != master_id).then(|| {
        Problem::error(
            ctx.label(slave),
            format!(
                "replicates from the master's address {}:{}, but its Master_Server_Id is {seen} \
                 while the master's server_id is {master_id}",
                replica.master_host, replica.master_port
            ),
            "Another server answers at that address (moved IP, port forwarding, proxy): make the \
             slave replicate from the master itself with CHANGE MASTER TO",
        )
    })
}

fn foreign_source(
    ctx: &Ctx<'_>,
    slave: ServerId,
    replica: &ReplicaStatus,
    master: ServerId,
    id_matches: bool,
) -> Problem {
    let source = format!("{}:{}", replica.master_host, replica.master_port);
    if id_matches {
        Problem::error(
            ctx.label(slave),
            format!(
                "replicates from {source}, which has the master's server_id but is not the \
                 master's configured address {} (an alias, a VIP or a forwarded port?)",
                ctx.label(master)
            ),
            format!(
                "Use the master's configured address in CHANGE MASTER TO MASTER_HOST, or set \
                 ip= in the master's block to the address the slaves use; failover matches \
                 slaves to the master by address ({})",
                ctx.label(master)
            ),
        )
    } else {
        Problem::error(
            ctx.label(slave),
            format!(
                "replicates from {source}, which is neither the master {} nor any configured server",
                ctx.label(master)
            ),
            "Point it at the master with CHANGE MASTER TO, or add its real master to the configuration",
        )
    }
}

pub(super) fn slave_threads(ctx: &Ctx<'_>) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, node, r) in ctx.managed() {
        let mut found = Vec::new();
        // The IO thread of a slave of a dead master cannot run: that is the death.
        if r.io != IoState::Yes && !ctx.master_dead {
            found.push((
                format!(
                    "IO thread is {}{}",
                    io_words(r.io),
                    last_error(r.last_io_errno, &r.last_io_error)
                ),
                "Fix what the error says (network, replication user or password, the master's \
                 binlog), then START SLAVE IO_THREAD (START REPLICA IO_THREAD on MySQL 8.0.22+)",
            ));
        }
        if !r.sql_running && r.last_sql_errno == 0 {
            // Backup jobs stop SQL threads nightly; like MHA, monitor anyway:
            // a failover starts the SQL thread and waits for it.
            out.push(Problem::warning(
                ctx.label(i),
                format!(
                    "SQL thread is stopped (no error){}; a failover starts it and waits for it \
                     to apply what it received, which lengthens the failover",
                    last_error(r.last_sql_errno, &r.last_sql_error)
                ),
                "If nothing (a backup job) is meant to hold it stopped, START SLAVE SQL_THREAD \
                 (START REPLICA SQL_THREAD on MySQL 8.0.22+)",
            ));
        } else if !r.sql_running {
            found.push((
                format!(
                    "SQL thread is stopped{}",
                    last_error(r.last_sql_errno, &r.last_sql_error)
                ),
                "Fix what the error says without skipping events blindly (that makes the slave \
                 diverge), then START SLAVE SQL_THREAD (START REPLICA SQL_THREAD on MySQL 8.0.22+)",
            ));
        }
        for (what, fix) in found {
            // Replication failing on an ignore_fail slave: tolerated only at
            // start-up with --ignore-fail-on-start (MHA's failed slaves).
            let tolerable = node.spec.ignore_fail && ctx.rules.ignore_fail_on_start == Some(true);
            out.push(if tolerable {
                Problem::warning(
                    ctx.label(i),
                    format!("{what} (tolerated: ignore_fail=1 and --ignore-fail-on-start)"),
                    fix,
                )
            } else {
                Problem::error(ctx.label(i), what, fix)
            });
        }
    }
    out
}

fn last_error(errno: u32, text: &str) -> String {
    match (errno, text.is_empty()) {
        (0, true) => String::new(),
        (0, false) => format!("; last error: {text}"),
        (n, _) => format!("; last error {n}: {text}"),
    }
}

/// Lag over the limit, or unknown while both threads run.
pub(super) fn slave_lag(ctx: &Ctx<'_>) -> Vec<Problem> {
    let limit = ctx.rules.seconds_behind_master;
    ctx.managed()
        .filter(|(_, _, r)| r.io == IoState::Yes && r.sql_running)
        .filter_map(|(i, _, r)| match r.seconds_behind {
            Some(lag) if lag > limit => Some(Problem::error(
                ctx.label(i),
                format!("{lag} s behind the master (limit {limit} s)"),
                "Wait for it to catch up and find what slows its SQL thread (long transactions, \
                 missing primary keys, disk), or raise --seconds-behind-master",
            )),
            Some(_) => None,
            None => Some(Problem::error(
                ctx.label(i),
                "replication lag is unknown (Seconds_Behind_Master is NULL) although both threads run",
                "Check SHOW SLAVE STATUS again in a moment; if it stays NULL, restart replication \
                 with STOP SLAVE; START SLAVE",
            )),
        })
        .collect()
}

pub(super) fn duplicate_server_ids(ctx: &Ctx<'_>) -> Vec<Problem> {
    let topo = ctx.topo;
    let ids = topo
        .reachable()
        .into_iter()
        .filter_map(|i| Some((topo.facts(i)?.server_id, i)));
    group_by(ids)
        .into_iter()
        .filter(|(_, members)| members.len() > 1)
        .map(|(id, members)| {
            Problem::error(
                labels(topo, &members),
                format!("server_id {id} is used by {} servers", members.len()),
                "Give every server a unique server_id in my.cnf (SET GLOBAL server_id too, or \
                 restart); replication skips events carrying its own server_id",
            )
        })
        .collect()
}

pub(super) fn slave_read_only(ctx: &Ctx<'_>) -> Vec<Problem> {
    ctx.managed()
        .filter(|(_, n, _)| n.facts().is_some_and(|f| !f.read_only))
        .map(|(i, _, _)| {
            Problem::warning(
                ctx.label(i),
                "read_only is OFF on a slave: applications can write to it and make it diverge",
                "SET GLOBAL read_only=ON and add read_only=1 to its my.cnf",
            )
        })
        .collect()
}

pub(super) fn master_read_only(ctx: &Ctx<'_>) -> Vec<Problem> {
    let Some(master) = ctx.master else {
        return Vec::new();
    };
    let read_only = ctx.topo.facts(master).is_some_and(|f| f.read_only);
    if !read_only {
        return Vec::new();
    }
    vec![Problem::warning(
        ctx.label(master),
        "read_only is ON on the master: applications cannot write",
        "SET GLOBAL read_only=OFF on the master if it should take writes",
    )]
}

/// Relay logs are what file/position failover recovers other slaves from.
pub(super) fn relay_log_purge(ctx: &Ctx<'_>) -> Vec<Problem> {
    if ctx.mode != ReplMode::FilePos {
        return Vec::new();
    }
    ctx.managed()
        .filter(|(_, n, _)| n.facts().is_some_and(|f| f.relay_log_purge))
        .map(|(i, _, _)| {
            Problem::warning(
                ctx.label(i),
                "relay_log_purge is ON in file/position mode: the relay logs needed to recover \
                 the other slaves may already be gone when the master dies",
                "SET GLOBAL relay_log_purge=0, put relay_log_purge=0 in my.cnf, and purge old \
                 relay logs from cron instead",
            )
        })
        .collect()
}

pub(super) fn slave_log_bin(ctx: &Ctx<'_>) -> Vec<Problem> {
    ctx.managed()
        .filter(|(_, n, _)| !n.spec.no_master && n.facts().is_some_and(|f| !f.log_bin))
        .map(|(i, _, _)| {
            Problem::warning(
                ctx.label(i),
                "binary logging is off, so it cannot become master",
                "Enable log_bin (and log_slave_updates) in my.cnf and restart it, or set \
                 no_master=1 in its block to make that explicit",
            )
        })
        .collect()
}

/// Without log_slave_updates a promoted slave's binlog lacks what it
/// replicated, so slaves behind it cannot catch up from it. Only checked
/// where binary logging is on (otherwise the log_bin warning says it all).
pub(super) fn log_slave_updates(ctx: &Ctx<'_>) -> Vec<Problem> {
    ctx.managed()
        .filter(|(_, n, _)| n.facts().is_some_and(|f| f.log_bin && !f.log_slave_updates))
        .map(|(i, _, _)| {
            Problem::warning(
                ctx.label(i),
                "log_slave_updates is OFF: its binlog lacks the transactions it replicated, \
                 so slaves that are behind could not catch up from it once promoted",
                "Set log_slave_updates=1 in my.cnf and restart it",
            )
        })
        .collect()
}

/// A promotable slave needs the replication user with REPLICATION SLAVE,
/// because the others will connect to it as that user.
pub(super) fn repl_grants(ctx: &Ctx<'_>) -> Vec<Problem> {
    ctx.managed()
        .filter(|&(i, n, _)| {
            is_promotable(ctx.topo, i) && n.observed().and_then(|o| o.repl_grant) == Some(false)
        })
        .map(|(i, n, r)| {
            let user = n.spec.repl_user.as_deref().unwrap_or(&r.master_user);
            Problem::error(
                ctx.label(i),
                format!(
                    "the replication user '{user}' lacks REPLICATION SLAVE here; the other slaves \
                     could not replicate from it after it is promoted"
                ),
                format!(
                    "GRANT REPLICATION SLAVE ON *.* TO '{user}'@'<slave hosts>' on this server, \
                     or set no_master=1 in its block"
                ),
            )
        })
        .collect()
}

/// `repl_ssl=1` says a slave's link to its master uses TLS: a slave whose
/// replica status says otherwise (`Master_SSL_Allowed: No`, or
/// `Master_SSL_Verify_Server_Cert: No` where `repl_ssl_verify_server_cert=1`)
/// is named. ha-manager writes the TLS options only when it repoints a slave
/// (failover, switch), so until then the DBA sets them.
pub(super) fn repl_tls(ctx: &Ctx<'_>) -> Vec<Problem> {
    ctx.managed()
        .filter_map(|(i, n, r)| {
            let tls = n.spec.repl_tls.as_ref()?;
            let what = if r.ssl_allowed == Some(false) {
                "replicates from its master without TLS (Master_SSL_Allowed: No) although \
                 repl_ssl=1 says it should use TLS"
            } else if tls.verify_server_cert == Some(true)
                && r.ssl_verify_server_cert == Some(false)
            {
                "does not verify its master's certificate (Master_SSL_Verify_Server_Cert: No) \
                 although repl_ssl_verify_server_cert=1 says it should"
            } else {
                return None;
            };
            let mut options = vec!["MASTER_SSL=1".to_string()];
            for (word, path) in [("CA", &tls.ca), ("CERT", &tls.cert), ("KEY", &tls.key)] {
                if let Some(path) = path {
                    options.push(format!("MASTER_SSL_{word}='{path}'"));
                }
            }
            if let Some(verify) = tls.verify_server_cert {
                options.push(format!(
                    "MASTER_SSL_VERIFY_SERVER_CERT={}",
                    u8::from(verify)
                ));
            }
            Some(Problem::warning(
                ctx.label(i),
                what,
                format!(
                    "On it: STOP SLAVE; CHANGE MASTER TO {}; START SLAVE (SOURCE_ words and \
                     REPLICA on MySQL 8.0.23+); a failover or switch writes these itself. Or \
                     set repl_ssl=0 for it if plain replication is intended",
                    options.join(", ")
                ),
            ))
        })
        .collect()
}

pub(super) fn promotable_slave(ctx: &Ctx<'_>) -> Vec<Problem> {
    let Some(master) = ctx.master else {
        return Vec::new();
    };
    if ctx.managed.iter().any(|&s| is_promotable(ctx.topo, s)) {
        return Vec::new();
    }
    let what = if ctx.managed.is_empty() {
        "the master has no reachable slave to fail over to".to_string()
    } else {
        format!(
            "no slave can become master ({}: each has no_master=1 or binary logging off)",
            labels(ctx.topo, &ctx.managed)
        )
    };
    vec![Problem::error(
        ctx.label(master),
        what,
        "Make at least one slave promotable: binary logging on, no_master unset, reachable by \
         the manager",
    )]
}
