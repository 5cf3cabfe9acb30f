//! Building a diff: a binlog file made of one format description event and
//! whole transactions copied verbatim, plus what was left out and why.
//!
//! Transactions ("event groups") are followed with a small state machine over
//! event types, so the diff never ends, and never contains, half a
//! transaction:
//! - MariaDB: a GTID event (162) opens a group; it ends at an XID event, a
//!   `COMMIT`/`ROLLBACK` query or an XA prepare. A GTID flagged standalone
//!   (DDL) is followed by exactly one statement.
//! - MySQL: a GTID or anonymous GTID event (33/34), then either `BEGIN` …
//!   XID/`COMMIT`, or one statement (DDL), or one transaction payload (8.0
//!   compression).
//! - Servers without GTID events: `BEGIN` … XID/`COMMIT`; a query on its own is
//!   a group of one.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};

use super::event::{gtid_flags, types, ChecksumAlg, Event, FormatDescription, Truncation, MAGIC};
use super::{write_error, BinlogError, Out};
use crate::topology::position::BinlogPos;

/// What a binlog file ready to be applied with `mysqlbinlog FILE | mysql`
/// holds (the file itself was written to the [`Out`] given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diff {
    /// Tests only: the file (magic, the master's format description event,
    /// then the copied events), when cut into memory.
    #[cfg(test)]
    pub bytes: Vec<u8>,
    /// Bytes written.
    pub size: u64,
    /// Events copied (the format description event not counted).
    pub events: usize,
    /// Complete transactions (event groups) copied.
    pub transactions: usize,
    /// The master position the diff starts from.
    pub from: BinlogPos,
    /// The master position after the last copied event (`from` when nothing was copied).
    pub to: BinlogPos,
    /// Whether the copied events end with a CRC32 (from the format description event).
    pub checksum: ChecksumAlg,
    /// Partial events found at the end of files and left out.
    pub truncated: Vec<Truncation>,
    /// Unfinished transactions left out.
    pub dropped: Vec<DroppedGroup>,
    /// Events the master sent twice (after a reconnection) that were copied once.
    pub duplicates: usize,
}

impl Diff {
    /// True when there is nothing to apply.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// The unfinished transaction at the very end, if the logs stop inside one
    /// (the IO thread or the master died in the middle of it).
    #[cfg(test)]
    pub(crate) fn incomplete_tail(&self) -> Option<&DroppedGroup> {
        self.dropped
            .last()
            .filter(|d| d.reason == DropReason::EndOfLogs)
    }
}

/// An unfinished transaction that was left out of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DroppedGroup {
    /// Master position where the transaction would have started.
    pub from: BinlogPos,
    /// Master position after its last event present in the logs.
    pub to: BinlogPos,
    pub events: usize,
    pub bytes: u64,
    pub reason: DropReason,
}

/// Why an unfinished transaction was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// The logs end inside it: the slave's IO thread or the master stopped mid-transaction.
    EndOfLogs,
    /// A binlog file ends inside it and the next file follows (the master crashed and restarted).
    FileEnded,
    /// A restarted master's new binlog began before it finished; the server rolls such a
    /// transaction back too.
    MasterRestarted,
    /// A new transaction began before it finished.
    Interrupted,
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DropReason::EndOfLogs => "the logs end inside the transaction",
            DropReason::FileEnded => "the binlog file ends inside the transaction",
            DropReason::MasterRestarted => "the master restarted before the transaction finished",
            DropReason::Interrupted => "a new transaction began before it finished",
        })
    }
}

/// What an event does to the transaction structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// MariaDB GTID; `single` when one statement follows without BEGIN/COMMIT.
    MariadbGtid { single: bool },
    /// MySQL GTID or anonymous GTID.
    MysqlGtid,
    /// `BEGIN` or `XA START`.
    Begin,
    /// XID, `COMMIT`, `ROLLBACK`, XA prepare, MySQL transaction payload.
    Terminator,
    /// A statement (query, compressed query, load query, incident).
    Statement,
    /// Context for the next statement or rows (intvar, rand, user var, annotate).
    Prelude,
    /// Table maps, rows events and anything else.
    Other,
}

/// The role of `event`, given the stream's checksum and Query post-header length.
pub(crate) fn role(event: &Event, alg: ChecksumAlg, query_post_header: usize) -> Role {
    match event.type_code() {
        types::MARIADB_GTID => {
            let single = event
                .mariadb_gtid(alg)
                .map(|g| g.flags2 & (gtid_flags::STANDALONE | gtid_flags::COMPLETED_XA) != 0)
                .unwrap_or(false);
            Role::MariadbGtid { single }
        }
        types::GTID | types::ANONYMOUS_GTID => Role::MysqlGtid,
        types::QUERY => match event.query_text(alg, query_post_header) {
            Some(text) => query_role(text),
            None => Role::Statement,
        },
        types::XID | types::XA_PREPARE | types::TRANSACTION_PAYLOAD => Role::Terminator,
        types::MARIADB_QUERY_COMPRESSED | types::EXECUTE_LOAD_QUERY | types::INCIDENT => {
            Role::Statement
        }
        types::INTVAR
        | types::RAND
        | types::USER_VAR
        | types::MARIADB_ANNOTATE_ROWS
        | types::ROWS_QUERY => Role::Prelude,
        _ => Role::Other,
    }
}

fn query_role(text: &[u8]) -> Role {
    let text = text.trim_ascii();
    let text = text.strip_suffix(b";").unwrap_or(text).trim_ascii();
    let starts = |prefix: &[u8]| {
        text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    if text.eq_ignore_ascii_case(b"BEGIN") || starts(b"XA START") || starts(b"XA BEGIN") {
        Role::Begin
    } else if text.eq_ignore_ascii_case(b"COMMIT") || text.eq_ignore_ascii_case(b"ROLLBACK") {
        Role::Terminator
    } else {
        Role::Statement
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Where we started reading in the middle of the logs: not known yet.
    Unknown,
    /// Between transactions.
    Idle,
    /// Inside BEGIN … COMMIT (or a non-standalone MariaDB GTID group).
    InTrx,
    /// After a MySQL GTID or a standalone MariaDB GTID: BEGIN or one statement follows.
    AfterGtid,
    /// After intvar/rand/user var/annotate outside a transaction: a statement follows.
    PreStatement,
}

/// What feeding one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// The event starts a group that continues.
    Opens,
    /// The event is inside the open group.
    Continues,
    /// The event ends the open group.
    Closes,
    /// The event is a whole group by itself.
    Single,
    /// The state is unknown (reading started mid-transaction, perhaps).
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fed {
    pub effect: Effect,
    /// The open group was abandoned: a new one began before it ended.
    pub interrupted: bool,
}

/// Follows event groups through a stream of data events.
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    pub state: State,
}

impl Tracker {
    pub(crate) fn new(state: State) -> Tracker {
        Tracker { state }
    }

    /// True when an event group is open (known to be).
    pub(crate) fn in_group(&self) -> bool {
        matches!(
            self.state,
            State::InTrx | State::AfterGtid | State::PreStatement
        )
    }

    pub(crate) fn feed(&mut self, role: Role) -> Fed {
        let starts = matches!(role, Role::MariadbGtid { .. } | Role::MysqlGtid);
        let mut interrupted = false;
        if self.in_group() && (starts || (role == Role::Begin && self.state == State::PreStatement))
        {
            interrupted = true;
            self.state = State::Idle;
        }
        let (state, effect) = match (self.state, role) {
            (
                State::Idle | State::Unknown,
                Role::MariadbGtid { single: true } | Role::MysqlGtid,
            ) => (State::AfterGtid, Effect::Opens),
            (State::Idle | State::Unknown, Role::MariadbGtid { single: false } | Role::Begin) => {
                (State::InTrx, Effect::Opens)
            }
            (State::Idle, Role::Statement | Role::Terminator) => (State::Idle, Effect::Single),
            (State::Idle, Role::Prelude) => (State::PreStatement, Effect::Opens),
            (State::Idle, Role::Other) => (State::InTrx, Effect::Opens),
            (State::Unknown, Role::Terminator) => (State::Idle, Effect::Unknown),
            (State::Unknown, _) => (State::Unknown, Effect::Unknown),
            (State::InTrx, Role::Terminator) => (State::Idle, Effect::Closes),
            (State::InTrx, _) => (State::InTrx, Effect::Continues),
            (State::AfterGtid, Role::Begin) => (State::InTrx, Effect::Continues),
            (State::AfterGtid | State::PreStatement, Role::Statement | Role::Terminator) => {
                (State::Idle, Effect::Closes)
            }
            (State::AfterGtid | State::PreStatement, Role::Prelude) => {
                (self.state, Effect::Continues)
            }
            (State::AfterGtid | State::PreStatement, _) => (State::InTrx, Effect::Continues),
        };
        self.state = state;
        Fed {
            effect,
            interrupted,
        }
    }
}

/// An event of the open transaction, already written to the output.
struct Pending {
    len: u64,
    pos: Option<BinlogPos>,
}

/// Remembers the master events already taken, to skip what the master sends
/// again after a reconnection (relay logs only).
struct Dedupe {
    files: Vec<String>,
    /// (file index, end_log_pos) → (length, hash of the whole event).
    seen: HashMap<(usize, u64), (usize, u64)>,
    /// Highest master position taken.
    high: BinlogPos,
}

impl Dedupe {
    fn key(&mut self, pos: &BinlogPos) -> (usize, u64) {
        let index = match self.files.iter().position(|f| *f == pos.file) {
            Some(i) => i,
            None => {
                self.files.push(pos.file.clone());
                self.files.len() - 1
            }
        };
        (index, pos.pos)
    }
}

/// Assembles a [`Diff`], writing it to an [`Out`] as it goes: the events of
/// the open transaction are written at once and taken back (the output cut
/// to where the transaction began) if it never finishes.
pub(crate) struct DiffBuilder<'o> {
    out: &'o mut dyn Out,
    /// Where the open transaction's first event was written.
    group_at: u64,
    fde: Option<FormatDescription>,
    tracker: Tracker,
    pending: Vec<Pending>,
    events: usize,
    transactions: usize,
    from: BinlogPos,
    to: BinlogPos,
    truncated: Vec<Truncation>,
    dropped: Vec<DroppedGroup>,
    dedupe: Option<Dedupe>,
    duplicates: usize,
    /// The first event taken must start a transaction.
    require_group_start: bool,
    /// A resent transaction is being skipped: its events without a position
    /// (MariaDB 11.4+, see [`Self::data`]) are skipped with it.
    skipping_group: bool,
    /// The master reconnected while the open transaction had events without
    /// a position: what comes next must start a transaction.
    resend_unknown: bool,
}

impl<'o> DiffBuilder<'o> {
    /// A diff starting at `from`, a transaction boundary, written to `out`
    /// (empty). `dedupe`: skip events the master sent again (relay logs).
    pub(crate) fn new(out: &'o mut dyn Out, from: BinlogPos, dedupe: bool) -> DiffBuilder<'o> {
        DiffBuilder {
            out,
            group_at: 0,
            fde: None,
            tracker: Tracker::new(State::Idle),
            pending: Vec::new(),
            events: 0,
            transactions: 0,
            to: from.clone(),
            dedupe: dedupe.then(|| Dedupe {
                files: Vec::new(),
                seen: HashMap::new(),
                high: from.clone(),
            }),
            from,
            truncated: Vec::new(),
            dropped: Vec::new(),
            duplicates: 0,
            require_group_start: false,
            skipping_group: false,
            resend_unknown: false,
        }
    }

    /// The state before `from` is unknown: refuse to start with the middle of a transaction.
    pub(crate) fn require_group_start(&mut self) {
        self.require_group_start = true;
    }

    pub(crate) fn fde(&self) -> Option<&FormatDescription> {
        self.fde.as_ref()
    }

    /// Starts the file with the magic and this format description event.
    pub(crate) fn set_fde(
        &mut self,
        file: &str,
        event: &Event,
        fde: FormatDescription,
    ) -> Result<(), BinlogError> {
        if !event.checksum_ok(fde.checksum) {
            return Err(bad_checksum(file, event));
        }
        let out = &mut *self.out;
        out.cut(0)
            .and_then(|_| out.put(&MAGIC))
            .and_then(|_| out.put(&event.bytes))
            .map_err(|e| write_error(&e))?;
        self.group_at = self.out.written();
        self.fde = Some(fde);
        Ok(())
    }

    /// Adds one data event of the master; `pos` is the master position after it.
    pub(crate) fn data(
        &mut self,
        file: &str,
        event: &Event,
        pos: Option<BinlogPos>,
    ) -> Result<(), BinlogError> {
        let Some(fde) = &self.fde else {
            return Err(BinlogError::NoMasterFormatDescription {
                file: file.to_string(),
                offset: event.offset,
            });
        };
        let alg = fde.checksum;
        let qph = fde.query_post_header_len();
        if !event.checksum_ok(alg) {
            return Err(bad_checksum(file, event));
        }
        let role = role(event, alg, qph);
        let starts = matches!(
            role,
            Role::MariadbGtid { .. } | Role::MysqlGtid | Role::Begin
        );
        if self.dedupe.is_some() {
            // Events without a position (MariaDB 11.4+ writes end_log_pos 0
            // inside a transaction) cannot be told apart from a resend by
            // position: they go with their transaction's start, which can.
            if std::mem::take(&mut self.resend_unknown) && !starts {
                return Err(BinlogError::PositionlessResend {
                    file: file.to_string(),
                    offset: event.offset,
                });
            }
            if pos.is_none() && self.skipping_group {
                self.duplicates += 1;
                return Ok(());
            }
            let resent = pos
                .as_ref()
                .zip(self.dedupe.as_ref())
                .is_some_and(|(p, d)| *p <= d.high);
            if starts && resent && self.pending.iter().any(|p| p.pos.is_none()) {
                // The master sends the open transaction again from its start:
                // its first copy is left out and this one taken whole.
                self.drop_pending(DropReason::Interrupted)?;
            }
        }
        if let (Some(dedupe), Some(p)) = (&mut self.dedupe, &pos) {
            if *p <= self.from {
                self.duplicates += 1;
                self.skipping_group = starts || self.skipping_group;
                return Ok(());
            }
            if *p <= dedupe.high {
                let key = dedupe.key(p);
                let same = dedupe.seen.get(&key).map(|&(len, sum)| {
                    len == event.bytes.len() && sum == fingerprint(&event.bytes)
                });
                match same {
                    Some(true) => {
                        self.duplicates += 1;
                        self.skipping_group = starts || self.skipping_group;
                        return Ok(());
                    }
                    None if event.type_code() == types::MARIADB_ANNOTATE_ROWS => {
                        self.duplicates += 1;
                        return Ok(());
                    }
                    _ => {
                        return Err(BinlogError::Conflict {
                            pos: p.clone(),
                            file: file.to_string(),
                            offset: event.offset,
                        })
                    }
                }
            }
        }
        if pos.is_some() {
            self.skipping_group = false;
        }
        if std::mem::take(&mut self.require_group_start)
            && !matches!(
                role,
                Role::MariadbGtid { .. }
                    | Role::MysqlGtid
                    | Role::Begin
                    | Role::Statement
                    | Role::Prelude
            )
        {
            return Err(BinlogError::StartInsideTransaction {
                start: self.from.clone(),
                group_start: None,
            });
        }
        let fed = self.tracker.feed(role);
        if fed.interrupted {
            self.drop_pending(DropReason::Interrupted)?;
        }
        if let (Some(dedupe), Some(p)) = (&mut self.dedupe, &pos) {
            let key = dedupe.key(p);
            dedupe
                .seen
                .insert(key, (event.bytes.len(), fingerprint(&event.bytes)));
            dedupe.high = p.clone();
        }
        self.out.put(&event.bytes).map_err(|e| write_error(&e))?;
        self.pending.push(Pending {
            len: event.bytes.len() as u64,
            pos,
        });
        match fed.effect {
            Effect::Closes | Effect::Single => self.flush(),
            Effect::Opens | Effect::Continues => {}
            // The builder starts Idle, so the state is always known.
            Effect::Unknown => self.flush(),
        }
        Ok(())
    }

    /// The master's stream started again (its fake rotate at a new
    /// connection). If the open transaction has events without a
    /// position, the master must send it again from its start: a resend
    /// from inside it could not be told from new events.
    pub(crate) fn reconnected(&mut self) {
        self.resend_unknown = self.pending.iter().any(|p| p.pos.is_none());
    }

    fn flush(&mut self) {
        for p in self.pending.drain(..) {
            self.events += 1;
            if let Some(pos) = p.pos {
                self.to = pos;
            }
        }
        self.transactions += 1;
        self.group_at = self.out.written();
    }

    /// Leaves the open group out of the diff.
    pub(crate) fn drop_pending(&mut self, reason: DropReason) -> Result<(), BinlogError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.out.cut(self.group_at).map_err(|e| write_error(&e))?;
        let mut to = self.to.clone();
        let mut bytes = 0u64;
        let events = self.pending.len();
        for p in self.pending.drain(..) {
            bytes += p.len;
            if let Some(pos) = p.pos {
                if let Some(dedupe) = &mut self.dedupe {
                    let key = dedupe.key(&pos);
                    dedupe.seen.remove(&key);
                }
                to = pos;
            }
        }
        if let Some(dedupe) = &mut self.dedupe {
            dedupe.high = self.to.clone();
        }
        self.tracker = Tracker::new(State::Idle);
        self.dropped.push(DroppedGroup {
            from: self.to.clone(),
            to,
            events,
            bytes,
            reason,
        });
        Ok(())
    }

    pub(crate) fn truncated(&mut self, truncation: Truncation) {
        self.truncated.push(truncation);
    }

    /// Finishes the diff; an open group is left out ([`DropReason::EndOfLogs`]).
    /// Without any format description event the file holds only the magic.
    pub(crate) fn finish(mut self) -> Result<Diff, BinlogError> {
        self.drop_pending(DropReason::EndOfLogs)?;
        if self.out.written() == 0 {
            self.out.put(&MAGIC).map_err(|e| write_error(&e))?;
        }
        Ok(Diff {
            #[cfg(test)]
            bytes: Vec::new(),
            size: self.out.written(),
            events: self.events,
            transactions: self.transactions,
            from: self.from,
            to: self.to,
            checksum: self.fde.map(|f| f.checksum).unwrap_or(ChecksumAlg::Off),
            truncated: self.truncated,
            dropped: self.dropped,
            duplicates: self.duplicates,
        })
    }
}

/// A hash of an event's bytes. (Not its CRC32: the CRC32 of any message
/// followed by its own CRC32 is one constant.)
fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

pub(crate) fn bad_checksum(file: &str, event: &Event) -> BinlogError {
    BinlogError::BadChecksum {
        file: file.to_string(),
        offset: event.offset,
        type_code: event.type_code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(start: State, roles: &[Role]) -> (Vec<Effect>, Vec<bool>, State) {
        let mut t = Tracker::new(start);
        let mut effects = Vec::new();
        let mut interrupted = Vec::new();
        for &r in roles {
            let fed = t.feed(r);
            effects.push(fed.effect);
            interrupted.push(fed.interrupted);
        }
        (effects, interrupted, t.state)
    }

    use Effect::*;
    use Role::*;

    #[test]
    fn group_table() {
        type Case<'a> = (&'a str, State, &'a [Role], &'a [Effect], State);
        let cases: &[Case<'_>] = &[
            (
                "MariaDB row transaction",
                State::Idle,
                &[
                    MariadbGtid { single: false },
                    Prelude,
                    Other,
                    Other,
                    Terminator,
                ],
                &[Opens, Continues, Continues, Continues, Closes],
                State::Idle,
            ),
            (
                "MariaDB DDL",
                State::Idle,
                &[MariadbGtid { single: true }, Statement],
                &[Opens, Closes],
                State::Idle,
            ),
            (
                "MariaDB non-transactional table ends with COMMIT",
                State::Idle,
                &[MariadbGtid { single: false }, Other, Other, Terminator],
                &[Opens, Continues, Continues, Closes],
                State::Idle,
            ),
            (
                "MySQL row transaction",
                State::Idle,
                &[MysqlGtid, Begin, Prelude, Other, Other, Terminator],
                &[Opens, Continues, Continues, Continues, Continues, Closes],
                State::Idle,
            ),
            (
                "MySQL DDL",
                State::Idle,
                &[MysqlGtid, Statement],
                &[Opens, Closes],
                State::Idle,
            ),
            (
                "MySQL compressed payload",
                State::Idle,
                &[MysqlGtid, Terminator],
                &[Opens, Closes],
                State::Idle,
            ),
            (
                "no GTIDs: BEGIN … COMMIT, then a statement with an intvar",
                State::Idle,
                &[Begin, Other, Terminator, Prelude, Statement, Statement],
                &[Opens, Continues, Closes, Opens, Closes, Single],
                State::Idle,
            ),
            (
                "unfinished at the end",
                State::Idle,
                &[MariadbGtid { single: false }, Other],
                &[Opens, Continues],
                State::InTrx,
            ),
            (
                "unknown until the first terminator",
                State::Unknown,
                &[
                    Other,
                    Statement,
                    Terminator,
                    MariadbGtid { single: false },
                    Terminator,
                ],
                &[Unknown, Unknown, Unknown, Opens, Closes],
                State::Idle,
            ),
            (
                "unknown then a GTID",
                State::Unknown,
                &[MariadbGtid { single: true }, Statement],
                &[Opens, Closes],
                State::Idle,
            ),
        ];
        for (name, start, roles, want, end) in cases {
            let (effects, interrupted, state) = feed_all(*start, roles);
            assert_eq!(&effects[..], *want, "{name}");
            assert!(interrupted.iter().all(|i| !i), "{name}");
            assert_eq!(state, *end, "{name}");
        }
    }

    #[test]
    fn a_new_gtid_interrupts_an_open_group() {
        let (effects, interrupted, state) = feed_all(
            State::Idle,
            &[
                MariadbGtid { single: false },
                Other,
                MariadbGtid { single: false },
                Other,
                Terminator,
            ],
        );
        assert_eq!(effects, [Opens, Continues, Opens, Continues, Closes]);
        assert_eq!(interrupted, [false, false, true, false, false]);
        assert_eq!(state, State::Idle);
    }

    #[test]
    fn query_roles() {
        assert_eq!(query_role(b"BEGIN"), Begin);
        assert_eq!(query_role(b" begin ;"), Begin);
        assert_eq!(query_role(b"XA START X'31',X'',1"), Begin);
        assert_eq!(query_role(b"COMMIT"), Terminator);
        assert_eq!(query_role(b"ROLLBACK"), Terminator);
        assert_eq!(query_role(b"ROLLBACK TO SAVEPOINT a"), Statement);
        assert_eq!(query_role(b"XA END X'31'"), Statement);
        assert_eq!(query_role(b"CREATE TABLE t (a int)"), Statement);
        assert_eq!(query_role(b""), Statement);
    }
}
