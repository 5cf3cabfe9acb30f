//! Topology validation for check-repl: discovery of the master and every rule, as named problems.
//!
//! MHA's start-up checks (`ServerManager.pm`, `MasterMonitor.pm`): find the
//! one master, make sure every slave replicates from it and is healthy, and
//! that at least one slave could take over. Every check is a small function
//! returning its problems; [`validate`] runs them all, so a DBA sees the
//! whole list at once instead of fixing one error per run.

use crate::config::model::ServerId;
use std::collections::BTreeMap;
use std::fmt;

use crate::config::model::AppSettings;
use crate::topology::snapshot::Topology;
use crate::topology::status::{Flavor, IoState};

mod checks;
mod ctx;
mod discovery;
mod filters;

#[cfg(test)]
pub(crate) use discovery::discover;
pub(crate) use discovery::discover_with;

/// How bad a problem is: an error makes check-repl say NOT OK and stops the
/// monitor from starting; a warning is printed and tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// One finding about one server (or a group of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// `host(ip:port)` of the server concerned; several joined by `, `.
    pub host: String,
    pub severity: Severity,
    /// What is wrong, as observed.
    pub what: String,
    /// What a DBA should do about it.
    pub fix: String,
}

/// Who is the master and who are the slaves, as far as the servers say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Discovery {
    /// The reachable master (writable one of a dual-master pair); with
    /// [`Rules::master_may_be_dead`], an unreachable one that every reachable
    /// slave replicates from.
    pub master: Option<ServerId>,
    /// Every reachable replica except the master, in config order (including
    /// ones that replicate from elsewhere: [`validate`] reports those).
    pub slaves: Vec<ServerId>,
    /// Why no single master could be named.
    pub problems: Vec<Problem>,
}

/// Thresholds and switches of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rules {
    /// Largest tolerated `Seconds_Behind_Master` (MHA `--seconds_behind_master`, 30).
    pub seconds_behind_master: u64,
    /// Replication and binlog filters must match (MHA `check_repl_filter`).
    pub check_repl_filter: bool,
    /// Slaves of slaves are tolerated as "unmanaged" (MHA `multi_tier_slave`).
    pub multi_tier_slave: bool,
    /// `None` outside the start-up checks: an unreachable `ignore_fail` slave
    /// is a warning (failover, switch). `Some(flag)` in the start-up checks
    /// (`start`, check-repl), MHA's `validate_num_alive_servers`: an
    /// `ignore_fail` slave that is down or whose replication fails is an error
    /// unless `--ignore-fail-on-start` (`flag`) is given, then a warning.
    pub ignore_fail_on_start: Option<bool>,
    /// When every reachable server replicates from one configured server that
    /// is unreachable, name that server the (dead) master instead of refusing
    /// (`start`, as `masterha_manager` does; check-repl refuses).
    pub master_may_be_dead: bool,
}

/// How failover would move slaves: by GTID or by binlog file and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplMode {
    Gtid,
    FilePos,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            seconds_behind_master: 30,
            check_repl_filter: true,
            multi_tier_slave: false,
            ignore_fail_on_start: None,
            master_may_be_dead: false,
        }
    }
}

impl Rules {
    /// The rules from the application settings, with MHA's default lag limit.
    pub(crate) fn from_settings(settings: &AppSettings) -> Rules {
        Rules {
            check_repl_filter: settings.check_repl_filter,
            multi_tier_slave: settings.multi_tier_slave,
            ..Rules::default()
        }
    }
}

impl Problem {
    pub(crate) fn error(
        host: impl Into<String>,
        what: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            host: host.into(),
            severity: Severity::Error,
            what: what.into(),
            fix: fix.into(),
        }
    }

    pub(crate) fn warning(
        host: impl Into<String>,
        what: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(host, what, fix)
        }
    }

    pub(crate) fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

impl fmt::Display for Problem {
    /// `[error] host: what. Fix: fix`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}: {}. Fix: {}",
            self.severity, self.host, self.what, self.fix
        )
    }
}

impl fmt::Display for ReplMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReplMode::Gtid => "GTID",
            ReplMode::FilePos => "binlog file/position",
        })
    }
}

type Check = fn(&ctx::Ctx<'_>) -> Vec<Problem>;

/// Every check, in the order problems are reported.
const ALL: &[Check] = &[
    checks::unreachable_servers,
    checks::slave_sources,
    checks::slave_threads,
    checks::slave_lag,
    checks::duplicate_server_ids,
    filters::repl_filters,
    filters::binlog_filters,
    filters::binlog_vs_replicate_filters,
    checks::slave_read_only,
    checks::master_read_only,
    checks::relay_log_purge,
    checks::slave_log_bin,
    checks::log_slave_updates,
    checks::repl_grants,
    checks::repl_tls,
    checks::promotable_slave,
];

/// Runs every check and returns every problem found, errors and warnings,
/// in check order. Discovery problems are not repeated (see [`check`]).
pub(crate) fn validate(topo: &Topology, disc: &Discovery, rules: &Rules) -> Vec<Problem> {
    let ctx = ctx::Ctx::new(topo, disc, rules);
    ALL.iter().flat_map(|check| check(&ctx)).collect()
}

/// Discovery and validation together: what check-repl reports.
pub(crate) fn check(topo: &Topology, rules: &Rules) -> (Discovery, Vec<Problem>) {
    let disc = discover_with(topo, rules);
    let mut problems = disc.problems.clone();
    problems.extend(validate(topo, &disc, rules));
    (disc, problems)
}

/// True when no problem is an error ("MySQL Replication Health is OK.").
#[cfg(test)]
pub(crate) fn is_healthy(problems: &[Problem]) -> bool {
    !problems.iter().any(Problem::is_error)
}

/// GTID when every slave that replicates from the master follows it by
/// GTID: MariaDB `Using_Gtid` other than `No`; MySQL with `gtid_mode=ON` on
/// the slave and the master and either `Auto_Position=1` or the server's
/// `use_gtid_auto_pos` (default 1), as MHA decides. One file/position slave
/// makes the whole failover file/position, so the answer is all-or-nothing.
///
/// A dead master has no facts: then the alive slaves decide, as MHA does.
/// That is sound for MySQL: a replica with `gtid_mode=ON` cannot replicate
/// from a source with `gtid_mode` other than ON (its receiver refuses to
/// start), so a slave that was replicating with `gtid_mode=ON` proves the
/// master's last state. Deciding from the master alone made every MySQL
/// dead-master failover run in file/position mode (issue 12).
pub(crate) fn replication_mode(topo: &Topology, disc: &Discovery) -> ReplMode {
    let Some(master) = disc.master else {
        return ReplMode::FilePos;
    };
    // Unknown (unreachable master): the slaves' own gtid_mode answers for it.
    let master_gtid = topo.facts(master).is_none_or(|f| f.gtid_enabled());
    let direct: Vec<ServerId> = disc
        .slaves
        .iter()
        .copied()
        .filter(|&s| topo.source_of(s) == Some(master))
        .collect();
    let all_gtid = direct
        .iter()
        .all(|&s| slave_uses_gtid(topo, s, master_gtid));
    if !direct.is_empty() && all_gtid {
        ReplMode::Gtid
    } else {
        ReplMode::FilePos
    }
}

fn slave_uses_gtid(topo: &Topology, slave: ServerId, master_gtid: bool) -> bool {
    let node = topo.node(slave);
    let (Some(facts), Some(replica)) = (topo.facts(slave), topo.replica(slave)) else {
        return false;
    };
    match facts.flavor {
        Flavor::MariaDb => replica.uses_gtid(),
        Flavor::MySql => {
            master_gtid
                && facts.gtid_enabled()
                && (replica.auto_position == Some(true) || node.spec.use_gtid_auto_pos)
        }
    }
}

/// True when slave `index` could become master: reachable, replicating,
/// `no_master` unset and binlog on.
pub(crate) fn is_promotable(topo: &Topology, index: ServerId) -> bool {
    let node = topo.node(index);
    !node.spec.no_master && node.replica().is_some() && node.facts().is_some_and(|f| f.log_bin)
}

/// Labels of `indices`, joined for a multi-server problem.
fn labels(topo: &Topology, indices: &[ServerId]) -> String {
    indices
        .iter()
        .map(|&i| topo.label(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Groups `items` by key, keeping config order inside each group.
fn group_by<K: Ord>(items: impl Iterator<Item = (K, ServerId)>) -> BTreeMap<K, Vec<ServerId>> {
    let mut groups: BTreeMap<K, Vec<ServerId>> = BTreeMap::new();
    for (key, index) in items {
        groups.entry(key).or_default().push(index);
    }
    groups
}

/// `Yes`/`Connecting`/`No` in a sentence.
fn io_words(io: IoState) -> &'static str {
    match io {
        IoState::Yes => "running",
        IoState::Connecting => "still connecting (not receiving events)",
        IoState::No => "stopped",
    }
}

#[cfg(test)]
mod tests;
