//! The online switch's decisions, as pure functions: which threads block a
//! switch, which sessions the freeze must kill, what the new master must wait
//! for, and the "From/To" picture. Table-tested in `tests.rs`.

use crate::config::ServerId;
use crate::mysql::Process;
use crate::topology::gtid::MariaGtidPos;
use crate::topology::snapshot::{NodeState, Topology};

/// Users the server itself runs threads as (replication applier/receiver,
/// event scheduler), and clients still in the handshake.
const SYSTEM_USERS: [&str; 3] = ["system user", "event_scheduler", "unauthenticated user"];

/// Commands of server-side threads: binlog senders to slaves, replication
/// threads, daemons.
const SYSTEM_COMMANDS: [&str; 7] = [
    "Binlog Dump",
    "Binlog Dump GTID",
    "Daemon",
    "Slave_IO",
    "Slave_SQL",
    "Slave_worker",
    "Connect",
];

/// A thread of a client (an application, a DBA, another tool), not one of the
/// server's own or a replication thread. (The manager's own connection is not
/// in the list: the process-list query leaves it out.)
pub(crate) fn is_client(p: &Process) -> bool {
    !SYSTEM_USERS.contains(&p.user.as_str()) && !SYSTEM_COMMANDS.contains(&p.command.as_str())
}

/// MHA's "update": a busy thread whose statement is not a SELECT or SHOW.
fn is_update(p: &Process) -> bool {
    let info = p.info.as_deref().unwrap_or("").trim_start();
    let head: String = info
        .chars()
        .take(6)
        .collect::<String>()
        .to_ascii_lowercase();
    p.command != "Sleep" && !head.starts_with("select") && !head.starts_with("show")
}

/// MHA `running_updates_limit`: client threads on the master running a
/// non-SELECT/SHOW statement for at least `limit + 1` seconds. A switch waits
/// for them at `SET GLOBAL read_only=1`, so it must not start.
pub(crate) fn long_updates(procs: &[Process], limit_secs: u64) -> Vec<&Process> {
    procs
        .iter()
        .filter(|p| is_client(p) && is_update(p) && p.time > limit_secs)
        .collect()
}

/// MHA `running_seconds_limit`: client threads on the new master busy (not
/// sleeping) for at least `limit` seconds.
pub(crate) fn long_queries(procs: &[Process], limit_secs: u64) -> Vec<&Process> {
    procs
        .iter()
        .filter(|p| is_client(p) && p.command != "Sleep" && p.time >= limit_secs)
        .collect()
}

/// `id 12 app@10.0.0.5:41234 Query 3 s: UPDATE t SET ...` (statement cut at 120 characters).
pub(crate) fn describe(p: &Process) -> String {
    let info = p.info.as_deref().unwrap_or("").replace(['\n', '\r'], " ");
    let mut statement: String = info.chars().take(120).collect();
    if info.chars().count() > 120 {
        statement.push_str("...");
    }
    let state = p
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    format!(
        "id {} {}@{} {} {} s{state}: {statement}",
        p.id, p.user, p.host, p.command, p.time
    )
}

/// Who can still write on the old master once the freeze is in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exempt {
    /// Nobody: `super_read_only` is set, or the tables are locked (FTWRL).
    Nobody,
    /// `read_only` only: sessions of these accounts (SUPER, READ_ONLY ADMIN) still can.
    Users(Vec<String>),
    /// The exempt accounts could not be read: assume any client can.
    Everybody,
}

impl Exempt {
    fn covers(&self, p: &Process) -> bool {
        match self {
            Exempt::Nobody => false,
            Exempt::Users(users) => users.contains(&p.user),
            Exempt::Everybody => true,
        }
    }
}

/// Why the freeze kills a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KillWhy {
    /// Its account may write despite read_only: it would keep writing to the old master.
    MayWrite,
    /// Still running a write statement after the grace period.
    Writing,
    /// Holds an open transaction.
    InTransaction,
}

impl std::fmt::Display for KillWhy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KillWhy::MayWrite => "its account may write despite read_only",
            KillWhy::Writing => "still writing",
            KillWhy::InTransaction => "open transaction",
        })
    }
}

/// Running writes that read_only does stop (sessions of accounts it binds):
/// the grace period waits for these to finish. Writes of exempt sessions are
/// not waited for: read_only never stops them, so they are killed at once.
pub(crate) fn writes_to_wait_for(procs: &[Process], exempt: &Exempt) -> Vec<u64> {
    procs
        .iter()
        .filter(|p| is_client(p) && is_write(p) && !exempt.covers(p))
        .map(|p| p.id)
        .collect()
}

/// A busy client thread with a statement that is not a read (the
/// freeze's notion of "writing"; `Killed` threads are already going).
fn is_write(p: &Process) -> bool {
    p.command != "Killed" && p.info.is_some() && is_update(p)
}

/// The client sessions the freeze kills after the grace period, in thread
/// order: every session that could still write (exempt accounts), every one
/// still running a write, and every one holding an open transaction. Readers
/// of accounts bound by read_only are left alone.
pub(crate) fn sessions_to_kill(
    procs: &[Process],
    in_trx: &[u64],
    exempt: &Exempt,
) -> Vec<(u64, KillWhy)> {
    let mut out: Vec<(u64, KillWhy)> = procs
        .iter()
        .filter(|p| is_client(p) && p.command != "Killed")
        .filter_map(|p| {
            let why = if exempt.covers(p) {
                KillWhy::MayWrite
            } else if is_write(p) {
                KillWhy::Writing
            } else if in_trx.contains(&p.id) {
                KillWhy::InTransaction
            } else {
                return None;
            };
            Some((p.id, why))
        })
        .collect();
    out.sort_by_key(|(id, _)| *id);
    out
}

/// A freeze statement of the manager's own account still waiting on the
/// server (`SET GLOBAL read_only=1` or FTWRL whose call timed out): the undo
/// ends it, or it would take effect after the old master was made writable again.
pub(crate) fn is_pending_freeze(p: &Process, user: &str) -> bool {
    let info = p
        .info
        .as_deref()
        .unwrap_or("")
        .trim_start()
        .to_ascii_uppercase();
    p.user == user
        && p.command == "Query"
        && (info.starts_with("SET GLOBAL READ_ONLY")
            || info.starts_with("SET GLOBAL SUPER_READ_ONLY")
            || info.starts_with("FLUSH TABLES WITH READ LOCK"))
}

/// The part of the old master's GTID position `freeze` that a server at
/// `have` (its `gtid_current_pos`) still lacks: the domains where it is
/// behind. `MASTER_GTID_WAIT` compares with `gtid_slave_pos` only, so a domain
/// the server has only in its own binlog (it was the master of it once) must
/// not be waited for: it would never arrive.
pub(crate) fn gtid_to_wait(freeze: &MariaGtidPos, have: &MariaGtidPos) -> MariaGtidPos {
    let mut out = MariaGtidPos::default();
    for gtid in freeze.domains.values() {
        if have.seq(gtid.domain).is_none_or(|s| s < gtid.seq) {
            out.insert(*gtid);
        }
    }
    out
}

/// A copy of `topo` in which every slave in `slaves` has the greatest read
/// position among them: MHA's online switch counts every alive slave as
/// "latest" (`set_latest_slaves(alive_slaves)`), since all of them will have
/// everything once the master is frozen.
pub(crate) fn all_latest(topo: &Topology, slaves: &[ServerId]) -> Topology {
    let max = slaves
        .iter()
        .filter_map(|&i| topo.replica(i).map(|r| r.read.clone()))
        .max();
    let mut out = topo.clone();
    let Some(max) = max else {
        return out;
    };
    for &i in slaves {
        if let NodeState::Reachable(obs) = &mut out.node_mut(i).state {
            if let Some(r) = obs.facts.replica.as_mut() {
                r.read = max.clone();
            }
        }
    }
    out
}

/// MHA's `print_servers_migration_ascii`: the tree now and after the switch.
pub(crate) fn migration_tree(
    topo: &Topology,
    master: ServerId,
    new_master: ServerId,
    slaves: &[ServerId],
    orig_master_is_new_slave: bool,
) -> Vec<String> {
    let mut lines = vec!["From:".to_string()];
    lines.push(format!("{} (current master)", topo.label(master)));
    lines.push(format!(" +--{}", topo.label(new_master)));
    lines.extend(slaves.iter().map(|&s| format!(" +--{}", topo.label(s))));
    lines.push(String::new());
    lines.push("To:".to_string());
    lines.push(format!("{} (new master)", topo.label(new_master)));
    lines.extend(slaves.iter().map(|&s| format!(" +--{}", topo.label(s))));
    if orig_master_is_new_slave {
        lines.push(format!(" +--{}", topo.label(master)));
    }
    lines
}
