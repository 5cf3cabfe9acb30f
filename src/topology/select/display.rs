//! Plain-English texts of election reasons, rules, verdicts and refusals, for DBAs.

use std::fmt;

use crate::topology::select::{ChosenBy, Reason, Refusal, Verdict};

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Unreachable { reason } => write!(f, "unreachable ({reason})"),
            Reason::NotReplica => f.write_str("not replicating (it has no slave status)"),
            Reason::OtherSource { source } => write!(
                f,
                "replicates from {source}, not from the master (an unmanaged slave of a slave)"
            ),
            Reason::SqlThreadFailed { errno, error } => {
                write!(f, "its SQL thread stopped on error {errno}: {error}")
            }
            Reason::NoMaster => f.write_str("no_master=1 is set in its configuration block"),
            Reason::BinlogOff => f.write_str(
                "binary logging is off, so the other slaves could not replicate from it",
            ),
            Reason::NewerMajorVersion { version, oldest } => write!(
                f,
                "it runs {}.{}, newer than the oldest slave's {}.{}; a slave cannot replicate \
                 from a newer major version",
                version.major, version.minor, oldest.major, oldest.minor
            ),
            Reason::Errant { gtids, count } => write!(
                f,
                "it has {count} errant GTID(s), transactions its master lacks ({gtids}): \
                 promoted, it would send them to every slave (check-repl says how to remove \
                 them; allow_errant_promotion=1 promotes it anyway)"
            ),
            Reason::TooFarBehind {
                exec,
                latest_read,
                limit,
            } => {
                write!(
                    f,
                    "its SQL thread is too far behind: executed up to {exec}, while the latest \
                     slave has read up to {latest_read} ("
                )?;
                if exec.cmp_file(latest_read).is_lt() {
                    f.write_str("an older binlog file")?;
                } else {
                    let behind = latest_read.pos.saturating_sub(exec.pos);
                    write!(f, "{behind} bytes, more than {limit}")?;
                }
                f.write_str("), so recovery would take long")
            }
        }
    }
}

impl fmt::Display for ChosenBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChosenBy::Forced => "named with --new-master-host",
            ChosenBy::LatestCandidate => "a candidate_master with the latest relay log",
            ChosenBy::Candidate => "the first eligible candidate_master in config order",
            ChosenBy::Latest => "the first eligible slave with the latest relay log",
            ChosenBy::ConfigOrder => "the first eligible slave in config order",
        })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Chosen(rule) => write!(f, "chosen: {rule}"),
            Verdict::Bad(reason) => write!(f, "cannot be master: {reason}"),
            Verdict::NotForced { forced } => {
                write!(f, "not considered: --new-master-host named {forced}")
            }
            Verdict::Outranked {
                winner,
                rule,
                candidate,
                latest,
            } => outranked(f, winner, *rule, *candidate, *latest),
        }
    }
}

/// Why an eligible slave lost to `winner`: what it lacks that the rule
/// wanted, or, having it too, that the winner comes first in config order.
fn outranked(
    f: &mut fmt::Formatter<'_>,
    winner: &str,
    rule: ChosenBy,
    candidate: bool,
    latest: bool,
) -> fmt::Result {
    let mut lacks = Vec::new();
    if matches!(rule, ChosenBy::LatestCandidate | ChosenBy::Candidate) && !candidate {
        lacks.push("not a candidate_master");
    }
    if matches!(rule, ChosenBy::LatestCandidate | ChosenBy::Latest) && !latest {
        lacks.push("does not have the latest relay log");
    }
    match rule {
        ChosenBy::Forced => write!(f, "not chosen: {winner} was named with --new-master-host"),
        ChosenBy::ConfigOrder => write!(f, "not chosen: {winner} comes first in config order"),
        _ if lacks.is_empty() => write!(
            f,
            "not chosen: also eligible, but {winner} comes first in config order"
        ),
        _ => write!(f, "not chosen: {}; {winner} is {rule}", lacks.join(" and ")),
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::ForcedUnknown { given } => {
                write!(f, "--new-master-host {given} names no configured server")
            }
            Refusal::ForcedAmbiguous { given, matches } => write!(
                f,
                "--new-master-host {given} matches several servers ({}); add :port",
                matches.join(", ")
            ),
            Refusal::ForcedIsMaster { given } => {
                write!(f, "--new-master-host {given} is the current master")
            }
            Refusal::ForcedBad { server, reason } => {
                write!(
                    f,
                    "--new-master-host {server} cannot be the new master: {reason}"
                )
            }
            Refusal::NoneEligible => f.write_str(
                "none of the slaves can be the new master (see the reason given for each)",
            ),
        }
    }
}
