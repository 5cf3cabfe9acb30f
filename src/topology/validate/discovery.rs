//! Discovery: which reachable server is the master, and who are the slaves.
//!
//! MHA's rule: at most one alive server is not a slave, and that one is the
//! master. When every server is a slave, the writable one of a dual-master
//! (circular) pair is the master.

use crate::config::model::ServerId;
use crate::topology::snapshot::Topology;
use crate::topology::validate::{labels, Discovery, Problem, Rules};

/// [`discover`], and with [`Rules::master_may_be_dead`] a master that is
/// already dead: every reachable server replicates from the same configured
/// server, which cannot be reached. That server is named the master (unreachable) and the slaves are every reachable replica, as
/// `masterha_manager` does ("Getting current master (maybe dead) info").
pub(crate) fn discover_with(topo: &Topology, rules: &Rules) -> Discovery {
    let found = discover(topo);
    if found.master.is_some() || !rules.master_may_be_dead {
        return found;
    }
    match dead_master(topo) {
        Some(dead) => Discovery {
            master: Some(dead),
            slaves: topo
                .reachable()
                .into_iter()
                .filter(|&i| topo.replica(i).is_some())
                .collect(),
            problems: Vec::new(),
        },
        None => found,
    }
}

/// The configured, unreachable server every reachable server replicates
/// from; `None` when some reachable server is not a replica, when they point
/// at different servers or at one outside the configuration, or when nothing
/// is reachable.
pub(crate) fn dead_master(topo: &Topology) -> Option<ServerId> {
    let reachable = topo.reachable();
    let mut sources = reachable.iter().map(|&i| topo.source_of(i));
    let first = sources.next()??;
    let agree = sources.all(|s| s == Some(first));
    (agree && !reachable.contains(&first)).then_some(first)
}

/// Finds the master and the slaves among the reachable servers.
pub(crate) fn discover(topo: &Topology) -> Discovery {
    let reachable = topo.reachable();
    if reachable.is_empty() {
        return Discovery {
            problems: vec![nothing_reachable(topo)],
            ..Discovery::default()
        };
    }
    let roots: Vec<ServerId> = reachable
        .iter()
        .copied()
        .filter(|&i| topo.replica(i).is_none())
        .collect();
    let mut problems = Vec::new();
    let master = match roots.as_slice() {
        [only] => Some(*only),
        [] => circular_master(topo, &reachable, &mut problems),
        several => {
            problems.push(several_roots(topo, several));
            None
        }
    };
    let slaves = reachable
        .into_iter()
        .filter(|&i| Some(i) != master && topo.replica(i).is_some())
        .collect();
    Discovery {
        master,
        slaves,
        problems,
    }
}

fn nothing_reachable(topo: &Topology) -> Problem {
    let all: Vec<ServerId> = topo.ids().collect();
    Problem::error(
        labels(topo, &all),
        "no configured server could be reached",
        "Check that the servers run, that the manager host can reach their MySQL ports, \
         and the user/password in the configuration",
    )
}

fn several_roots(topo: &Topology, roots: &[ServerId]) -> Problem {
    let described: Vec<String> = roots
        .iter()
        .map(|&r| format!("{} ({} replicas)", topo.label(r), topo.replicas_of(r).len()))
        .collect();
    Problem::error(
        labels(topo, roots),
        format!(
            "several reachable servers replicate from no one, so the master is ambiguous: {}",
            described.join(", ")
        ),
        "Exactly one server may be a non-slave: point the others at the master with \
         CHANGE MASTER TO (CHANGE REPLICATION SOURCE TO on MySQL 8.0.23+), \
         or remove them from the configuration",
    )
}

/// Every reachable server is a replica: a dual-master pair (or a ring) has
/// exactly one writable member, which is the master. Without a cycle the
/// master is unreachable or outside the configuration.
fn circular_master(
    topo: &Topology,
    reachable: &[ServerId],
    problems: &mut Vec<Problem>,
) -> Option<ServerId> {
    let sources: Vec<ServerId> = reachable
        .iter()
        .filter_map(|&i| topo.source_of(i))
        .filter(|s| reachable.contains(s))
        .collect();
    // In a cycle each member's own source is a source too.
    let mut in_cycle: Vec<ServerId> = sources
        .iter()
        .copied()
        .filter(|&s| topo.source_of(s).is_some_and(|up| sources.contains(&up)))
        .collect();
    in_cycle.sort_unstable();
    in_cycle.dedup();
    if in_cycle.is_empty() {
        problems.push(no_master(topo, reachable));
        return None;
    }
    let writable: Vec<ServerId> = in_cycle
        .iter()
        .copied()
        .filter(|&i| topo.facts(i).is_some_and(|f| !f.read_only))
        .collect();
    match writable.as_slice() {
        [only] => Some(*only),
        [] => {
            problems.push(Problem::error(
                labels(topo, &in_cycle),
                "dual-master (circular) replication, but every master is read_only, \
                 so none can be told to be the active one",
                "SET GLOBAL read_only=0 on the active master (and keep read_only=1 on the other)",
            ));
            None
        }
        several => {
            problems.push(Problem::error(
                labels(topo, several),
                "dual-master (circular) replication with more than one writable master",
                "Exactly one master of the pair may be writable: SET GLOBAL read_only=1 \
                 on the standby master (and read_only=1 in its my.cnf)",
            ));
            None
        }
    }
}

/// All reachable servers are replicas but none of their sources is a
/// reachable configured server: name the source when they agree on one.
fn no_master(topo: &Topology, reachable: &[ServerId]) -> Problem {
    let mut sources: Vec<Option<ServerId>> = reachable.iter().map(|&i| topo.source_of(i)).collect();
    sources.sort_unstable();
    sources.dedup();
    let what = match sources.as_slice() {
        [Some(dead)] => format!(
            "no reachable master: every reachable server replicates from {}, which is unreachable",
            topo.label(*dead)
        ),
        [None] => match outside_source(topo, reachable) {
            Some(addr) => format!(
                "no master found: every reachable server replicates from {addr}, which is not \
                 in the configuration"
            ),
            None => no_configured_source(),
        },
        _ => no_configured_source(),
    };
    Problem::error(
        labels(topo, reachable),
        what,
        "Start the master or fix the manager's access to it; if it is dead, fail over with \
         `ha-manager switch --master-state dead` (or `ha-manager start`, which confirms its \
         death as the monitor does and fails over); if the master is not in the configuration, \
         add a [serverN] block for it",
    )
}

fn no_configured_source() -> String {
    "no master found: every reachable server is a replica and none replicates \
     from a reachable configured server"
        .to_string()
}

/// The one `host:port` outside the configuration that every reachable server
/// replicates from, if they agree on one.
fn outside_source(topo: &Topology, reachable: &[ServerId]) -> Option<String> {
    let mut addrs = reachable.iter().filter_map(|&i| {
        let r = topo.replica(i)?;
        Some(format!("{}:{}", r.master_host, r.master_port))
    });
    let first = addrs.next()?;
    addrs.all(|a| a == first).then_some(first)
}
