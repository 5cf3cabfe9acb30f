//! Errant transactions: what a slave has by GTID that its master lacks (pure).
//!
//! A slave that committed a transaction of its own (a write with `read_only`
//! off, a DBA's fix with `sql_log_bin` on) holds a GTID no other server has.
//! Promoted, it would send that transaction to every slave; a slave of it
//! asking by GTID would get it, or stop on it. So errant transactions are
//! named at check time and an errant slave is not promoted unless the
//! operator says so (`allow_errant_promotion=1`).
//!
//! - MySQL: `gtid_executed` of the slave minus the master's (MySQL's
//!   `GTID_SUBTRACT`).
//! - MariaDB: the entries of the slave's `gtid_binlog_state` (the last GTID
//!   of each domain and server id in its binlog) that the master lacks:
//!   a server id the master has no GTID of in that domain, a higher
//!   sequence than the master's for that server id, or a domain the master
//!   never had. What is legitimately there after a failover — the old
//!   masters' server ids — the master has too, so it is not errant; a slave
//!   that lags has lower sequences, not errant either.
//!
//! The master's own transactions (its server id, or its UUID on MySQL) are
//! never errant on a slave of it: read a moment after the master, a slave
//! may have more of them than the master's snapshot (seen on the lab with
//! the writer running).
//!
//! When the master is dead (at failover) its state cannot be read; then the
//! reference is what the other slaves have, plus the dead master's own
//! transactions (its server id, or its UUID on MySQL: the latest slave may
//! have more of those than any other slave). With no other slave to compare
//! with, nothing is called errant (it cannot be told).

use std::fmt;

use crate::config::model::ServerId;
use crate::topology::gtid::{GtidSet, MariaGtid, MariaGtidState};
use crate::topology::snapshot::Topology;
use crate::topology::status::{GtidFacts, ServerFacts};
use crate::topology::validate::{Problem, Severity};

/// A slave's transactions its master lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Errant {
    /// MariaDB: the binlog-state entries the master lacks; each is the last
    /// GTID of its (domain, server id) in the slave's binlog.
    Maria(Vec<MariaGtid>),
    /// MySQL: the GTIDs the master lacks.
    MySql(GtidSet),
}

/// The dead master's own transactions, which a slave may hold beyond the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    ServerId(u32),
    Uuid(String),
}

/// What the master is known to have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Reference {
    /// MariaDB: per (domain, server id), the highest sequence known.
    pub maria: MariaGtidState,
    /// MySQL: the GTIDs known.
    pub mysql: GtidSet,
    /// At failover: the dead master's own transactions count as known.
    pub origin: Option<Origin>,
}

impl Reference {
    /// The live master's state.
    pub(crate) fn of_master(master: &GtidFacts) -> Reference {
        let mut reference = Reference::default();
        reference.add(master);
        reference
    }

    /// Adds everything `gtid` shows the server has.
    pub(crate) fn add(&mut self, gtid: &GtidFacts) {
        match gtid {
            GtidFacts::MariaDb {
                binlog_pos,
                slave_pos,
                current_pos,
                binlog_state,
            } => {
                for g in binlog_state.gtids() {
                    self.maria.insert(g);
                }
                for pos in [binlog_pos, slave_pos, current_pos] {
                    self.maria.extend_pos(pos);
                }
            }
            GtidFacts::MySql { executed, .. } => self.mysql = self.mysql.union(executed),
        }
    }
}

/// The transactions of `slave` that `reference` lacks; `None` when there
/// are none (or nothing can be told: MySQL without GTIDs).
pub(crate) fn errant(slave: &GtidFacts, reference: &Reference) -> Option<Errant> {
    match slave {
        GtidFacts::MariaDb { binlog_state, .. } => {
            let list: Vec<MariaGtid> = binlog_state
                .gtids()
                .filter(|g| {
                    let known = reference
                        .maria
                        .seq(g.domain, g.server_id)
                        .is_some_and(|seq| seq >= g.seq);
                    let from_origin = reference.origin == Some(Origin::ServerId(g.server_id));
                    !known && !from_origin
                })
                .collect();
            (!list.is_empty()).then_some(Errant::Maria(list))
        }
        GtidFacts::MySql {
            enabled: true,
            executed,
        } => {
            let mut left = executed.difference(&reference.mysql);
            if let Some(Origin::Uuid(uuid)) = &reference.origin {
                let tagged = format!("{uuid}:");
                left.sets
                    .retain(|key, _| key != uuid && !key.starts_with(&tagged));
            }
            (!left.is_empty()).then_some(Errant::MySql(left))
        }
        GtidFacts::MySql { enabled: false, .. } => None,
    }
}

/// Errant transactions of server `index`, a slave of `master`: against the
/// master's state when it answers, else against the other slaves of it plus
/// the dead master's own transactions (`None` with no other slave).
pub(crate) fn of_slave(topo: &Topology, master: ServerId, index: ServerId) -> Option<Errant> {
    let facts = topo.facts(index)?;
    let reference = reference_for(topo, master, index, facts)?;
    errant(&facts.gtid, &reference)
}

fn reference_for(
    topo: &Topology,
    master: ServerId,
    index: ServerId,
    facts: &ServerFacts,
) -> Option<Reference> {
    let master_facts = topo.facts(master);
    let origin = origin_of(facts, master_facts.map(|m| m.server_id));
    if let Some(m) = master_facts {
        return Some(Reference {
            origin,
            ..Reference::of_master(&m.gtid)
        });
    }
    let mut reference = Reference::default();
    let mut peers = 0;
    for peer in topo.replicas_of(master) {
        if peer == index {
            continue;
        }
        if let Some(f) = topo.facts(peer) {
            reference.add(&f.gtid);
            peers += 1;
        }
    }
    if peers == 0 {
        return None;
    }
    reference.origin = origin;
    Some(reference)
}

/// The master's own transactions as a slave sees them: its server id
/// (MariaDB; from the slave's status, else `master_server_id`), or its UUID
/// (MySQL, from the slave's status). These are never errant on a slave of
/// it: a slave read a moment after its master may simply have more of them.
pub(crate) fn origin_of(slave: &ServerFacts, master_server_id: Option<u32>) -> Option<Origin> {
    let replica = slave.replica.as_ref();
    match &slave.gtid {
        GtidFacts::MariaDb { .. } => replica
            .and_then(|r| r.master_server_id)
            .or(master_server_id)
            .map(Origin::ServerId),
        GtidFacts::MySql { .. } => replica
            .and_then(|r| r.master_uuid.clone())
            .map(Origin::Uuid),
    }
}

impl Errant {
    /// How many GTIDs are named (MySQL: transactions; MariaDB: binlog-state entries).
    pub(crate) fn count(&self) -> u64 {
        match self {
            Errant::Maria(list) => u64::try_from(list.len()).unwrap_or(u64::MAX),
            Errant::MySql(set) => set.count(),
        }
    }

    /// What to do about them, exactly; `slave` and `master` are labels.
    pub(crate) fn fix(&self, slave: &str, master: &str) -> String {
        match self {
            Errant::MySql(set) => format!(
                "decide whether the rows those transactions changed on {slave} must stay. If \
                 yes, make the master know them as empty transactions, on {master}: {}; the \
                 rows stay changed on {slave} only: compare its tables with the master's \
                 (pt-table-checksum) and repair. If no, rebuild {slave} from a copy of the \
                 master. Then keep read_only=1 (and super_read_only=1) on the slaves",
                inject_sql(set, 8)
            ),
            Errant::Maria(_) => format!(
                "decide whether the rows those transactions changed on {slave} must stay; if \
                 yes, make the same change on the master {master} (it reaches every slave). \
                 Then remove the GTIDs ({}) from {slave}'s binlog state, on {slave}: STOP \
                 SLAVE; RESET MASTER; START SLAVE; (gtid_slave_pos, its replication position, \
                 is kept; only where no server replicates from {slave}). Then keep \
                 read_only=1 on the slaves, or write on a slave only after SET SESSION \
                 sql_log_bin=0",
                self
            ),
        }
    }
}

/// `SET GTID_NEXT='uuid:n'; BEGIN; COMMIT;` for each of the first `limit`
/// GTIDs of `set`, then `SET GTID_NEXT='AUTOMATIC';` (and how many more).
pub(crate) fn inject_sql(set: &GtidSet, limit: usize) -> String {
    let mut statements = Vec::new();
    let mut more = 0u64;
    for (key, intervals) in &set.sets {
        for &(start, end) in intervals {
            for n in start..=end {
                if statements.len() < limit {
                    statements.push(format!("SET GTID_NEXT='{key}:{n}'; BEGIN; COMMIT;"));
                } else {
                    more = more.saturating_add(end - n + 1);
                    break;
                }
            }
        }
    }
    let mut text = statements.join(" ");
    if more > 0 {
        text.push_str(&format!(
            " (and the same for the {more} other GTIDs of {set})"
        ));
    }
    text.push_str(" SET GTID_NEXT='AUTOMATIC';");
    text
}

impl fmt::Display for Errant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Errant::Maria(list) => {
                let texts: Vec<String> = list.iter().map(ToString::to_string).collect();
                f.write_str(&texts.join(","))
            }
            Errant::MySql(set) => write!(f, "{set}"),
        }
    }
}

/// One warning per slave of `master` with errant transactions, for
/// `check-repl` and `start`: which slave, which GTIDs, what to do.
pub(crate) fn problems(topo: &Topology, master: ServerId, slaves: &[ServerId]) -> Vec<Problem> {
    let master_label = topo.label(master);
    slaves
        .iter()
        .filter_map(|&i| {
            let errant = of_slave(topo, master, i)?;
            let label = topo.label(i);
            Some(Problem {
                host: label.clone(),
                severity: Severity::Warning,
                what: format!(
                    "has {} errant transaction(s) {}its master {master_label} lacks: {errant}; \
                     it is not promoted at failover (unless allow_errant_promotion=1), and \
                     would send them to every slave if it were",
                    errant.count(),
                    match errant {
                        Errant::Maria(_) => "(binlog-state entries, domain-server_id-seq) ",
                        Errant::MySql(_) => "",
                    }
                ),
                fix: errant.fix(&label, &master_label),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
