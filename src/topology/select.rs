//! New-master election (MHA select_new_master), with a reason for every rejected slave.
//!
//! The order is MHA 0.58's `ServerManager::select_new_master`:
//! 1. bad candidates are never chosen (unreachable, not replicating from the
//!    master, SQL thread failed, `no_master`, binlog off, a major version
//!    newer than the oldest slave's, errant GTIDs (transactions its master
//!    lacks, see [`crate::topology::errant`]; ours, unless
//!    `allow_errant_promotion`), and with `check_repl_delay` an SQL thread
//!    too far behind the latest slave);
//! 2. `--new-master-host` wins if it is good, otherwise nothing is chosen;
//! 3. with `latest_priority`: a latest candidate_master, then any
//!    candidate_master in config order, then any latest slave, then any slave
//!    in config order; without it the two "latest" steps are skipped.
//!
//! Within each of the steps of 3, the replicas that acknowledged semi-sync
//! ([`ElectionRules::semi_sync_ackers`], set by a failover whose master had
//! semi-sync on) come first, then config order: the candidate flag is the
//! operator's word and freshness is what recovery needs, so semi-sync only
//! breaks the ties that config order broke before (see `topology::semisync`).
//!
//! Like MHA, slaves whose SQL thread failed are not "alive slaves": they are
//! bad and take no part in finding the latest slave or the oldest version.

use crate::config::model::AppSettings;
use crate::config::model::ServerId;
use crate::topology::errant;
use crate::topology::position::BinlogPos;
use crate::topology::snapshot::Topology;
use crate::topology::status::Version;

/// MHA's "100MB of relay logs": a slave further behind than this within one
/// binlog file is too far behind to be promoted (with `check_repl_delay`).
pub(crate) const MAX_DELAY_BYTES: u64 = 100_000_000;

/// What the election may take into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ElectionRules {
    /// Prefer slaves that received the latest events (MHA `latest_priority`).
    pub latest_priority: bool,
    /// Exclude slaves too far behind (MHA `check_repl_delay`).
    pub check_repl_delay: bool,
    /// "Too far behind" in bytes within one binlog file (MHA: 100,000,000).
    pub max_delay_bytes: u64,
    /// `--new-master-host`: host name, ip or block name, optionally `:port`.
    pub forced: Option<String>,
    /// A slave with errant GTIDs may be chosen (`allow_errant_promotion`).
    pub allow_errant: bool,
    /// Replicas that acknowledged the dead master's semi-sync: each step
    /// prefers them over config order.
    pub semi_sync_ackers: Vec<ServerId>,
}

/// Why a slave can never be the new master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    Unreachable {
        reason: String,
    },
    /// Reachable but not replicating.
    NotReplica,
    /// Replicates from another configured server, not from the master.
    OtherSource {
        source: String,
    },
    /// The SQL thread stopped on an error: its data is not trustworthy.
    SqlThreadFailed {
        errno: u32,
        error: String,
    },
    NoMaster,
    BinlogOff,
    NewerMajorVersion {
        version: Version,
        oldest: Version,
    },
    /// It has transactions its master lacks (`gtids`, `count` of them):
    /// promoted, it would send them to every slave.
    Errant {
        gtids: String,
        count: u64,
    },
    /// SQL thread in an older binlog file than the latest slave's IO thread,
    /// or more than `limit` bytes behind it in the same file.
    TooFarBehind {
        exec: BinlogPos,
        latest_read: BinlogPos,
        limit: u64,
    },
}

/// The rule that picked the new master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChosenBy {
    Forced,
    LatestCandidate,
    Candidate,
    Latest,
    ConfigOrder,
}

/// What the election says about one slave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Chosen(ChosenBy),
    Bad(Reason),
    /// Eligible, but `winner` was chosen by `rule`; `candidate`/`latest`
    /// say what this slave is, to explain why it lost.
    Outranked {
        winner: String,
        rule: ChosenBy,
        candidate: bool,
        latest: bool,
    },
    /// Eligible, but `--new-master-host` named another server (which could
    /// not be used, see [`Election::refusal`]).
    NotForced {
        forced: String,
    },
}

/// Why no new master was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    ForcedUnknown { given: String },
    ForcedAmbiguous { given: String, matches: Vec<String> },
    ForcedIsMaster { given: String },
    ForcedBad { server: String, reason: Reason },
    NoneEligible,
}

/// The outcome: who, by which rule, and a verdict for every other server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Election {
    pub chosen: Option<ServerId>,
    pub rule: Option<ChosenBy>,
    /// Alive slaves with the greatest IO-thread read position.
    pub latest: Vec<ServerId>,
    /// Alive slaves with the smallest IO-thread read position.
    pub oldest: Vec<ServerId>,
    /// Every server but the master, in config order.
    pub verdicts: Vec<(ServerId, Verdict)>,
    /// Set exactly when `chosen` is `None`.
    pub refusal: Option<Refusal>,
}

impl Default for ElectionRules {
    fn default() -> Self {
        ElectionRules {
            latest_priority: true,
            check_repl_delay: true,
            max_delay_bytes: MAX_DELAY_BYTES,
            forced: None,
            allow_errant: false,
            semi_sync_ackers: Vec::new(),
        }
    }
}

impl ElectionRules {
    /// The rules from the application settings (no forced host).
    pub(crate) fn from_settings(settings: &AppSettings) -> ElectionRules {
        ElectionRules {
            latest_priority: settings.latest_priority,
            check_repl_delay: settings.check_repl_delay,
            allow_errant: settings.allow_errant_promotion,
            ..ElectionRules::default()
        }
    }
}

impl Election {
    /// The verdict on server `index`, if it was judged.
    #[cfg(test)]
    pub(crate) fn verdict(&self, index: ServerId) -> Option<&Verdict> {
        self.verdicts
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, v)| v)
    }
}

/// Servers with the greatest and with the smallest IO-thread read position
/// among `slaves` that have a replica status, each in the order given.
pub(crate) fn latest_and_oldest(
    topo: &Topology,
    slaves: &[ServerId],
) -> (Vec<ServerId>, Vec<ServerId>) {
    let reads: Vec<(ServerId, &BinlogPos)> = slaves
        .iter()
        .filter_map(|&i| Some((i, &topo.replica(i)?.read)))
        .collect();
    let (Some(max), Some(min)) = (
        reads.iter().map(|(_, r)| *r).max(),
        reads.iter().map(|(_, r)| *r).min(),
    ) else {
        return (Vec::new(), Vec::new());
    };
    let at = |pos: &BinlogPos| {
        reads
            .iter()
            .filter(|(_, r)| *r == pos)
            .map(|(i, _)| *i)
            .collect()
    };
    (at(max), at(min))
}

/// Elects the new master among every server but `master`.
pub(crate) fn select_new_master(
    topo: &Topology,
    master: ServerId,
    rules: &ElectionRules,
) -> Election {
    let others: Vec<ServerId> = topo.ids().filter(|&i| i != master).collect();
    let alive: Vec<ServerId> = others
        .iter()
        .copied()
        .filter(|&i| structural_reason(topo, master, i).is_none())
        .collect();
    let (latest, oldest) = latest_and_oldest(topo, &alive);
    let judge = Judge::new(topo, master, rules, &alive, &latest);
    let bad: Vec<(ServerId, Option<Reason>)> =
        others.iter().map(|&i| (i, judge.reason(i))).collect();
    let is_good = |i: ServerId| bad.iter().any(|(j, r)| *j == i && r.is_none());

    let (chosen, refusal) = match &rules.forced {
        Some(given) => forced_choice(topo, master, given, &bad),
        None => match ranked_choice(topo, rules, &alive, &latest, is_good) {
            Some(pick) => (Some(pick), None),
            None => (None, Some(Refusal::NoneEligible)),
        },
    };
    let verdicts = bad
        .into_iter()
        .map(|(i, reason)| {
            let verdict = match (reason, chosen) {
                (_, Some((c, rule))) if c == i => Verdict::Chosen(rule),
                (Some(reason), _) => Verdict::Bad(reason),
                (None, Some((c, rule))) => Verdict::Outranked {
                    winner: topo.label(c),
                    rule,
                    candidate: is_candidate(topo, i),
                    latest: latest.contains(&i),
                },
                (None, None) => Verdict::NotForced {
                    forced: rules.forced.clone().unwrap_or_default(),
                },
            };
            (i, verdict)
        })
        .collect();
    Election {
        chosen: chosen.map(|(c, _)| c),
        rule: chosen.map(|(_, r)| r),
        latest,
        oldest,
        verdicts,
        refusal,
    }
}

fn is_candidate(topo: &Topology, index: ServerId) -> bool {
    topo.node(index).spec.candidate_master
}

/// MHA's four steps after the bad ones are set aside.
fn ranked_choice(
    topo: &Topology,
    rules: &ElectionRules,
    alive: &[ServerId],
    latest: &[ServerId],
    is_good: impl Fn(ServerId) -> bool,
) -> Option<(ServerId, ChosenBy)> {
    let fits = |i: ServerId, want_candidate: bool| {
        is_good(i) && (!want_candidate || is_candidate(topo, i))
    };
    let first = |set: &[ServerId], want_candidate: bool| {
        let mut fitting = set.iter().copied().filter(|&i| fits(i, want_candidate));
        let acked = set
            .iter()
            .copied()
            .find(|&i| fits(i, want_candidate) && rules.semi_sync_ackers.contains(&i));
        acked.or_else(|| fitting.next())
    };
    let steps: [(bool, &[ServerId], bool, ChosenBy); 4] = [
        (
            rules.latest_priority,
            latest,
            true,
            ChosenBy::LatestCandidate,
        ),
        (true, alive, true, ChosenBy::Candidate),
        (rules.latest_priority, latest, false, ChosenBy::Latest),
        (true, alive, false, ChosenBy::ConfigOrder),
    ];
    steps
        .iter()
        .filter(|(enabled, ..)| *enabled)
        .find_map(|&(_, set, want_candidate, rule)| first(set, want_candidate).map(|i| (i, rule)))
}

/// `--new-master-host`: the named server if it is good, else a refusal.
fn forced_choice(
    topo: &Topology,
    master: ServerId,
    given: &str,
    bad: &[(ServerId, Option<Reason>)],
) -> (Option<(ServerId, ChosenBy)>, Option<Refusal>) {
    let given_owned = given.to_string();
    match topo.find(given).as_slice() {
        [] => (None, Some(Refusal::ForcedUnknown { given: given_owned })),
        [m] if *m == master => (None, Some(Refusal::ForcedIsMaster { given: given_owned })),
        [i] => match bad.iter().find(|(j, _)| j == i) {
            Some((_, None)) => (Some((*i, ChosenBy::Forced)), None),
            Some((_, Some(reason))) => (
                None,
                Some(Refusal::ForcedBad {
                    server: topo.label(*i),
                    reason: reason.clone(),
                }),
            ),
            None => (None, Some(Refusal::ForcedUnknown { given: given_owned })),
        },
        several => (
            None,
            Some(Refusal::ForcedAmbiguous {
                given: given_owned,
                matches: several.iter().map(|&i| topo.label(i)).collect(),
            }),
        ),
    }
}

/// Reasons that make a server no "alive slave" at all: it then takes no
/// part in the latest/oldest computation either.
fn structural_reason(topo: &Topology, master: ServerId, index: ServerId) -> Option<Reason> {
    let node = topo.node(index);
    if let Some(reason) = node.unreachable_reason() {
        return Some(Reason::Unreachable {
            reason: reason.to_string(),
        });
    }
    let Some(replica) = node.replica() else {
        return Some(Reason::NotReplica);
    };
    if let Some(src) = topo.source_of(index).filter(|&s| s != master) {
        return Some(Reason::OtherSource {
            source: topo.label(src),
        });
    }
    (!replica.sql_running && replica.last_sql_errno != 0).then(|| Reason::SqlThreadFailed {
        errno: replica.last_sql_errno,
        error: replica.last_sql_error.clone(),
    })
}

/// Everything needed to call a slave bad.
struct Judge<'a> {
    topo: &'a Topology,
    master: ServerId,
    rules: &'a ElectionRules,
    oldest_version: Option<(u32, u32)>,
    latest_read: Option<&'a BinlogPos>,
}

impl<'a> Judge<'a> {
    fn new(
        topo: &'a Topology,
        master: ServerId,
        rules: &'a ElectionRules,
        alive: &[ServerId],
        latest: &[ServerId],
    ) -> Judge<'a> {
        Judge {
            topo,
            master,
            rules,
            oldest_version: alive
                .iter()
                .filter_map(|&i| Some(topo.facts(i)?.version.major_minor()))
                .min(),
            latest_read: latest
                .first()
                .and_then(|&i| topo.replica(i))
                .map(|r| &r.read),
        }
    }

    /// The first reason, in MHA's order, that server `index` is bad.
    fn reason(&self, index: ServerId) -> Option<Reason> {
        if let Some(reason) = structural_reason(self.topo, self.master, index) {
            return Some(reason);
        }
        let node = self.topo.node(index);
        let facts = node.facts()?;
        if node.spec.no_master {
            return Some(Reason::NoMaster);
        }
        if !facts.log_bin {
            return Some(Reason::BinlogOff);
        }
        if let Some(oldest) = self.oldest_version {
            if facts.version.major_minor() > oldest {
                return Some(Reason::NewerMajorVersion {
                    version: facts.version,
                    oldest: Version::new(oldest.0, oldest.1, 0),
                });
            }
        }
        if let Some(errant) = errant::of_slave(self.topo, self.master, index) {
            if !self.rules.allow_errant {
                return Some(Reason::Errant {
                    gtids: errant.to_string(),
                    count: errant.count(),
                });
            }
        }
        self.too_far_behind(index)
    }

    fn too_far_behind(&self, index: ServerId) -> Option<Reason> {
        let latest_read = self.latest_read.filter(|_| self.rules.check_repl_delay)?;
        let exec = &self.topo.replica(index)?.exec;
        let older_file = exec.cmp_file(latest_read).is_lt();
        let same_file = exec.cmp_file(latest_read).is_eq();
        let bytes_behind = latest_read.pos.saturating_sub(exec.pos);
        (older_file || (same_file && bytes_behind > self.rules.max_delay_bytes)).then(|| {
            Reason::TooFarBehind {
                exec: exec.clone(),
                latest_read: latest_read.clone(),
                limit: self.rules.max_delay_bytes,
            }
        })
    }
}

mod display;

#[cfg(test)]
mod tests;
