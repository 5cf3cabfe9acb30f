//! Relay logs: where another slave's master position lies in them, and the diff from there.
//!
//! What a MariaDB 10.11 relay log holds (seen in the fixtures; MySQL's relay
//! logs follow the same scheme, plus previous-GTIDs events, but no MySQL
//! fixture backs that here):
//! - every relay log starts with the slave's own format description event
//!   (the slave's server id, flag `LOG_EVENT_RELAY_LOG_F`);
//! - when the IO thread connects, the master sends a fake rotate (`log_pos` 0,
//!   flag artificial) naming its current file and position, then its own
//!   format description event (`log_pos` 0 when the connection starts
//!   mid-file). In GTID mode the master starts at the beginning of a file and
//!   jumps ahead with an artificial GTID list event whose `log_pos` is the
//!   position the slave asked for;
//! - when the master rotates, its real rotate (`log_pos` = end of the old file)
//!   arrives, the relay log rotates too, and the new one holds a fake rotate to
//!   the new master file and that file's format description event;
//! - when only the relay log rotates (`max_relay_log_size`), the new one holds
//!   the slave's FDE and a copy of the master's FDE (artificial, `log_pos` 0),
//!   and no name of the master's file: it carries over from the older relay logs;
//! - every relay log but the last ends with the slave's own rotate to the next one;
//! - after a reconnection in the middle of a transaction the master either
//!   goes on from there (file/position) or sends the whole transaction again
//!   (GTID); a resent event is recognised by its master position and copied once.
//!
//! Every other event is the master's, header untouched, so its `log_pos` is the
//! master position after it in the master file named by the last rotate.

use thiserror::Error;

use std::io::Read;

use super::diff::{role, Diff, DiffBuilder, DropReason, State, Tracker};
use super::event::{flags, types, Event, Events, FormatDescription, Truncation};
#[cfg(test)]
use super::LogFile;
use super::{BinlogError, LogSource, Out};
use crate::topology::position::BinlogPos;

/// A point in a list of relay logs: just after the master event that ends at
/// the wanted master position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RelayCut {
    /// Index into the relay logs given (oldest first).
    pub file_index: usize,
    /// Byte offset in that relay log; the diff starts here.
    pub offset: u64,
}

/// Why a master position was not found in the relay logs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum FindError {
    #[error("no relay logs were given")]
    NoRelayLogs,
    #[error("the relay logs do not reach back to {target}: {}", earliest_text(.earliest))]
    NotInRelayLogs {
        target: BinlogPos,
        earliest: Option<BinlogPos>,
    },
    #[error("{target} is ahead of the relay logs, which end at master position {latest}: this slave has not read that far")]
    BeyondRelayLogs {
        target: BinlogPos,
        latest: BinlogPos,
    },
    #[error("{target} is in a binlog the relay logs do not hold: they hold the master's {}.* files, up to {latest}", .latest.stem())]
    OtherBinlogName {
        target: BinlogPos,
        latest: BinlogPos,
    },
    #[error("no event in the relay logs ends at {target} (they hold master positions {earliest} to {latest}): it is not an event boundary of the master's binlog, or lies in a part the master did not send")]
    NotAnEventEnd {
        target: BinlogPos,
        earliest: BinlogPos,
        latest: BinlogPos,
    },
    #[error(transparent)]
    Binlog(#[from] BinlogError),
}

fn earliest_text(earliest: &Option<BinlogPos>) -> String {
    match earliest {
        Some(p) => format!("the earliest master position they hold is {p}"),
        None => "they hold no master position at all".to_string(),
    }
}

/// Finds where `target` (another slave's master position, e.g. its
/// `Relay_Master_Log_File`:`Exec_Master_Log_Pos`) lies in `relay_logs` (the
/// latest slave's relay logs, oldest first): just after the master event whose
/// `end_log_pos` is `target.pos` in master file `target.file`, or after the
/// rotate or format description event that puts the master at `target`.
///
/// When the same position occurs more than once (a reconnection makes the
/// master resend a file's first events), the earliest is returned. A target
/// equal to the position after the last event gives a cut at the end: nothing
/// to apply.
pub(crate) fn find_master_pos(
    relay_logs: &[impl LogSource],
    target: &BinlogPos,
) -> Result<RelayCut, FindError> {
    if relay_logs.is_empty() {
        return Err(FindError::NoRelayLogs);
    }
    let initial = infer_initial_file(relay_logs)?;
    let mut walker = Walker::new(relay_logs, initial);
    let mut earliest: Option<BinlogPos> = None;
    let mut latest: Option<BinlogPos> = None;
    while let Some(item) = walker.next_item()? {
        let Item::Event(step) = item else { continue };
        if step.kind == Kind::RelayOwn {
            continue;
        }
        if let Some(start) = resumed_start(relay_logs, &step) {
            // The first event after a part left out: the point before it.
            if start == *target {
                return Ok(RelayCut {
                    file_index: step.file_index,
                    offset: step.event.offset,
                });
            }
            if earliest.as_ref().is_none_or(|e| start < *e) {
                earliest = Some(start);
            }
        }
        let real_end = match &step.kind {
            Kind::MasterRotate { real_end } => real_end.as_ref(),
            _ => None,
        };
        if step.pos.as_ref() == Some(target) || real_end == Some(target) {
            return Ok(RelayCut {
                file_index: step.file_index,
                offset: step.event.end(),
            });
        }
        for p in [step.pos.as_ref(), real_end].into_iter().flatten() {
            if earliest.as_ref().is_none_or(|e| p < e) {
                earliest = Some(p.clone());
            }
            if latest.as_ref().is_none_or(|l| p > l) {
                latest = Some(p.clone());
            }
        }
    }
    let target = target.clone();
    match (earliest, latest) {
        (Some(_), Some(latest)) if latest.stem() != target.stem() => {
            Err(FindError::OtherBinlogName { target, latest })
        }
        (Some(earliest), Some(latest)) => {
            if target < earliest {
                Err(FindError::NotInRelayLogs {
                    target,
                    earliest: Some(earliest),
                })
            } else if target > latest {
                Err(FindError::BeyondRelayLogs { target, latest })
            } else {
                Err(FindError::NotAnEventEnd {
                    target,
                    earliest,
                    latest,
                })
            }
        }
        _ => Err(FindError::NotInRelayLogs {
            target,
            earliest: None,
        }),
    }
}

/// Builds the diff from `cut` to the end of the relay logs: the magic, the
/// master's format description event (the one in force at the cut, so the
/// checksum setting matches the copied events), then every master event
/// after the cut, whole transactions only. Relay-log bookkeeping (format
/// description events, rotates, stop, GTID list, binlog checkpoint, previous
/// GTIDs) is left out; a partial event at the end is reported in
/// [`Diff::truncated`] and an unfinished last transaction in [`Diff::dropped`].
/// Events the master resent after a reconnection are copied once.
///
/// The cut must be at a transaction boundary (as `Exec_Master_Log_Pos` always
/// is); a cut inside a transaction is refused.
pub(crate) fn cut_diff_into<L: LogSource>(
    relay_logs: &[L],
    cut: &RelayCut,
    out: &mut dyn Out,
) -> Result<Diff, BinlogError> {
    let Some(cut_log) = relay_logs.get(cut.file_index) else {
        return Err(BinlogError::BadCut {
            file: format!("relay log #{}", cut.file_index),
            offset: cut.offset,
            reason: format!("only {} relay logs were given", relay_logs.len()),
        });
    };
    let bad_cut = |reason: String| BinlogError::BadCut {
        file: cut_log.name().to_owned(),
        offset: cut.offset,
        reason,
    };
    if cut.offset < super::event::MAGIC.len() as u64 {
        return Err(bad_cut("it is inside the magic bytes".into()));
    }
    let initial = infer_initial_file(relay_logs)?;
    let mut walker = Walker::new(relay_logs, initial);

    // `before`, not the walker's position: the walker has already read the
    // event at the cut.
    let AtCut {
        tracker,
        group_start,
        master_fde,
        before,
        carry,
    } = walk_to_cut(&mut walker, cut, &bad_cut)?;
    let Some(from) = before else {
        return Err(BinlogError::UnknownMasterFile {
            file: cut_log.name().to_owned(),
            offset: cut.offset,
        });
    };
    if tracker.in_group() {
        return Err(BinlogError::StartInsideTransaction {
            start: from,
            group_start,
        });
    }
    let mut builder = DiffBuilder::new(out, from, true);
    if tracker.state == State::Unknown {
        // Nothing before the cut showed where transactions end (the relay logs
        // before it were purged): the first event after it must start one.
        builder.require_group_start();
    }
    if let Some((index, event, fde)) = master_fde {
        builder.set_fde(relay_logs[index].name(), &event, fde)?;
    }

    copy_from_cut(relay_logs, &mut walker, &mut builder, carry)?;
    builder.finish()
}

/// Tests: [`cut_diff_into`] into memory, the bytes in [`Diff::bytes`].
#[cfg(test)]
pub(crate) fn cut_diff(relay_logs: &[LogFile], cut: &RelayCut) -> Result<Diff, BinlogError> {
    let mut out = Vec::new();
    let mut diff = cut_diff_into(relay_logs, cut, &mut out)?;
    diff.bytes = out;
    Ok(diff)
}

/// Where the master's stream begins in a relay log, from its head (its
/// first bytes): the position the first rotate from the master names (the
/// fake rotate written when the IO thread connects or the master rotates).
/// `None` when the head holds no such rotate (a relay log rotated by the
/// slave alone, whose master file carries over from the one before).
pub(crate) fn relay_start(name: &str, head: &[u8]) -> Option<BinlogPos> {
    let logs = [super::LogFile::new(name, head.to_vec())];
    let mut walker = Walker::new(&logs, None);
    while let Ok(Some(item)) = walker.next_item() {
        let Item::Event(step) = item else { continue };
        match step.kind {
            Kind::RelayOwn => {}
            Kind::MasterRotate { .. } => {
                return step
                    .event
                    .rotate()
                    .map(|r| BinlogPos::new(r.file, r.position))
            }
            _ => return None,
        }
    }
    None
}

/// The master position where the first event after a part of a relay log
/// left out of its copy begins (its `end_log_pos` less its length): a cut
/// can be made there though the event before it was not copied.
fn resumed_start(logs: &[impl LogSource], step: &Step) -> Option<BinlogPos> {
    let (_, resume_at) = logs.get(step.file_index)?.skip()?;
    if step.event.offset != resume_at || !matches!(step.kind, Kind::Data | Kind::Bookkeeping) {
        return None;
    }
    let end = step.pos.as_ref()?;
    let start = end.pos.checked_sub(step.event.bytes.len() as u64)?;
    Some(BinlogPos::new(end.file.clone(), start))
}

/// Where the header of a relay log ends, from its head: the offset of its
/// first event of the master's that is not bookkeeping. A copy may leave
/// out what lies between there and a cut.
pub(crate) fn relay_head_end(name: &str, head: &[u8]) -> Option<u64> {
    let logs = [super::LogFile::new(name, head.to_vec())];
    let mut walker = Walker::new(&logs, None);
    while let Ok(Some(item)) = walker.next_item() {
        match item {
            Item::Event(step) if step.kind == Kind::Data => return Some(step.event.offset),
            Item::Event(_) => {}
            _ => return None,
        }
    }
    None
}

/// What the relay logs said up to the cut.
struct AtCut {
    tracker: Tracker,
    /// Where the transaction open at the cut (if any) started.
    group_start: Option<BinlogPos>,
    master_fde: Option<(usize, Event, FormatDescription)>,
    /// The master position of the last event before the cut.
    before: Option<BinlogPos>,
    /// The event at the cut, already read.
    carry: Option<Step>,
}

/// Walks up to the cut, following the master's FDE, position and transactions.
fn walk_to_cut<L: LogSource>(
    walker: &mut Walker<'_, L>,
    cut: &RelayCut,
    bad_cut: &dyn Fn(String) -> BinlogError,
) -> Result<AtCut, BinlogError> {
    let mut tracker = Tracker::new(State::Unknown);
    let mut group_start: Option<BinlogPos> = None;
    let mut master_fde: Option<(usize, Event, FormatDescription)> = None;
    let mut before: Option<BinlogPos> = None;
    let mut carry: Option<Step> = None;
    loop {
        let Some(item) = walker.next_item()? else {
            return Err(bad_cut("it is past the end of the relay logs".into()));
        };
        match item {
            Item::Event(step) => {
                if step.file_index == cut.file_index {
                    if step.event.offset == cut.offset {
                        if let Some(start) = resumed_start(walker.logs, &step) {
                            // Cut where the copy resumes: nothing before it
                            // was seen, so the state there is not known; a
                            // server that starts every transaction with a
                            // GTID event shows whether one starts here.
                            let gtid = step.kind != Kind::Data
                                || matches!(
                                    step.event.type_code(),
                                    types::MARIADB_GTID | types::GTID | types::ANONYMOUS_GTID
                                );
                            let needs_gtid = master_fde.as_ref().is_some_and(
                                |(_, _, f): &(usize, Event, FormatDescription)| f.gtid_events(),
                            );
                            if needs_gtid && !gtid {
                                return Err(BinlogError::StartInsideTransaction {
                                    start,
                                    group_start: None,
                                });
                            }
                            tracker = Tracker::new(State::Unknown);
                            before = Some(start);
                        }
                        carry = Some(step);
                        break;
                    }
                    if step.event.offset < cut.offset && cut.offset < step.event.end() {
                        return Err(bad_cut(format!(
                            "it is inside the event from {} to {}",
                            step.event.offset,
                            step.event.end()
                        )));
                    }
                }
                match &step.kind {
                    Kind::MasterFde(fde) => {
                        if master_restarted(&step.event, fde) {
                            // The server drops any open transaction here.
                            tracker = Tracker::new(State::Idle);
                        }
                        master_fde = Some((step.file_index, step.event.clone(), fde.clone()));
                    }
                    Kind::Data => {
                        if let Some((_, _, fde)) = &master_fde {
                            let r = role(&step.event, fde.checksum, fde.query_post_header_len());
                            let fed = tracker.feed(r);
                            if fed.effect == super::diff::Effect::Opens {
                                group_start = before.clone();
                            }
                        }
                    }
                    _ => {}
                }
                before = step.pos.clone();
            }
            Item::Truncated {
                file_index,
                truncation,
            } => {
                if file_index == cut.file_index && cut.offset > truncation.offset {
                    return Err(bad_cut(format!(
                        "it is inside the partial event at the end of the file (from {})",
                        truncation.offset
                    )));
                }
            }
            Item::FileEnd { file_index, end } => {
                if file_index == cut.file_index {
                    if cut.offset == end {
                        break;
                    }
                    return Err(bad_cut(format!(
                        "it is past the end of the file's complete events ({end})"
                    )));
                }
            }
        }
    }

    Ok(AtCut {
        tracker,
        group_start,
        master_fde,
        before,
        carry,
    })
}

/// From the cut to the end: every event of the master's into the diff.
fn copy_from_cut<L: LogSource>(
    relay_logs: &[L],
    walker: &mut Walker<'_, L>,
    builder: &mut DiffBuilder<'_>,
    carry: Option<Step>,
) -> Result<(), BinlogError> {
    let last = relay_logs.len() - 1;
    let mut resume: Option<(String, u64, BinlogPos)> = None;
    let mut next = carry.map(Item::Event);
    loop {
        let item = match next.take() {
            Some(item) => item,
            None => match walker.next_item()? {
                Some(item) => item,
                None => break,
            },
        };
        match item {
            Item::Event(step) => {
                let file = relay_logs[step.file_index].name();
                match step.kind {
                    Kind::RelayOwn | Kind::Bookkeeping => {}
                    Kind::MasterFde(fde) => match builder.fde() {
                        None => builder.set_fde(file, &step.event, fde)?,
                        Some(current) => {
                            if current.checksum != fde.checksum {
                                return Err(BinlogError::ChecksumChanged {
                                    before: current.checksum,
                                    after: fde.checksum,
                                    file: file.to_owned(),
                                    offset: step.event.offset,
                                });
                            }
                            if master_restarted(&step.event, &fde) {
                                builder.drop_pending(DropReason::MasterRestarted)?;
                            }
                        }
                    },
                    Kind::MasterRotate { real_end } => {
                        // A fake rotate (no real end): the master's stream to this
                        // slave started again (a reconnection).
                        if real_end.is_none() {
                            builder.reconnected();
                        }
                        if let Some((gap_file, gap_offset, resume_at)) = resume.take() {
                            let resumes_at = step.pos.as_ref();
                            if resumes_at.is_none_or(|p| *p > resume_at) {
                                return Err(BinlogError::RelayGap {
                                    file: gap_file,
                                    offset: gap_offset,
                                    resume_at,
                                });
                            }
                        }
                    }
                    Kind::Data => {
                        if let Some((file, offset, resume_at)) = resume.take() {
                            return Err(BinlogError::RelayGap {
                                file,
                                offset,
                                resume_at,
                            });
                        }
                        builder.data(file, &step.event, step.pos)?;
                    }
                }
            }
            Item::Truncated {
                file_index,
                truncation,
            } => {
                if file_index < last {
                    if let Some(at) = walker.position() {
                        resume = Some((truncation.file.clone(), truncation.offset, at));
                    }
                }
                builder.truncated(truncation);
            }
            Item::FileEnd { .. } => {}
        }
    }
    Ok(())
}

/// A format description event that starts a restarted master's first binlog:
/// `created` is set only there, and the master zeroes it (and `log_pos`) when
/// it sends a file from the middle.
fn master_restarted(event: &Event, fde: &FormatDescription) -> bool {
    fde.create_timestamp != 0
        && event.header.log_pos != 0
        && !event.header.has_flag(flags::ARTIFICIAL)
}

/// What a relay log event is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Written by the slave for itself: its format description event, its rotate
    /// to the next relay log.
    RelayOwn,
    /// The master's format description event (or the slave's copy of it).
    MasterFde(FormatDescription),
    /// A rotate from the master (fake or real); `real_end` is the position of
    /// the end of the old file for a real one.
    MasterRotate { real_end: Option<BinlogPos> },
    /// Stop, GTID list, binlog checkpoint, previous GTIDs, heartbeat.
    Bookkeeping,
    /// An event to copy into a diff.
    Data,
}

/// One relay log event, classified, with the master position after it.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub file_index: usize,
    pub event: Event,
    pub kind: Kind,
    pub pos: Option<BinlogPos>,
}

#[derive(Debug, Clone)]
pub(crate) enum Item {
    Event(Step),
    /// The file ends with a partial event.
    Truncated {
        file_index: usize,
        truncation: Truncation,
    },
    /// The file's complete events end at `end`.
    FileEnd {
        file_index: usize,
        end: u64,
    },
}

/// Walks the relay logs in order, one event at a time, following the master's file and position.
pub(crate) struct Walker<'a, L> {
    logs: &'a [L],
    index: usize,
    events: Option<Events<Box<dyn Read + 'a>>>,
    first_in_file: bool,
    own_server_id: Option<u32>,
    file: Option<String>,
    pos: Option<u64>,
    file_end: Option<Item>,
    done: bool,
}

impl<'a, L: LogSource> Walker<'a, L> {
    /// `initial_file`: the master file of the events before the first rotate, if known.
    pub(crate) fn new(logs: &'a [L], initial_file: Option<String>) -> Walker<'a, L> {
        Walker {
            logs,
            index: 0,
            events: None,
            first_in_file: true,
            own_server_id: None,
            file: initial_file,
            pos: None,
            file_end: None,
            done: false,
        }
    }

    /// The master position after the events walked so far, if known.
    pub(crate) fn position(&self) -> Option<BinlogPos> {
        match (&self.file, self.pos) {
            (Some(f), Some(p)) => Some(BinlogPos::new(f.clone(), p)),
            _ => None,
        }
    }

    pub(crate) fn next_item(&mut self) -> Result<Option<Item>, BinlogError> {
        loop {
            if let Some(end) = self.file_end.take() {
                return Ok(Some(end));
            }
            if self.done {
                return Ok(None);
            }
            let events = match &mut self.events {
                Some(events) => events,
                None => {
                    let Some(log) = self.logs.get(self.index) else {
                        self.done = true;
                        return Ok(None);
                    };
                    self.first_in_file = true;
                    self.own_server_id = None;
                    let events = log
                        .open()
                        .and_then(|r| Events::reader(log.name(), r))
                        .inspect_err(|_| self.done = true)?;
                    self.events.insert(events.skipping(log.skip()))
                }
            };
            match events.next() {
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Some(Ok(event)) => {
                    return match self.classify(event) {
                        Ok(step) => Ok(Some(Item::Event(step))),
                        Err(e) => {
                            self.done = true;
                            Err(e)
                        }
                    };
                }
                None => {
                    let file_index = self.index;
                    let end = events.offset();
                    let truncation = events.truncation().cloned();
                    self.events = None;
                    self.index += 1;
                    self.file_end = Some(Item::FileEnd { file_index, end });
                    if let Some(truncation) = truncation {
                        return Ok(Some(Item::Truncated {
                            file_index,
                            truncation,
                        }));
                    }
                }
            }
        }
    }

    fn classify(&mut self, event: Event) -> Result<Step, BinlogError> {
        let file_name = self.logs[self.index].name().to_owned();
        let corrupt = |reason: String| BinlogError::Corrupt {
            file: file_name.clone(),
            offset: event.offset,
            reason,
        };
        let h = event.header;
        let kind = if self.first_in_file {
            self.first_in_file = false;
            if h.type_code != types::FORMAT_DESCRIPTION {
                return Err(corrupt(format!(
                    "the first event is of type {}, not a format description event",
                    h.type_code
                )));
            }
            FormatDescription::parse(&event).map_err(corrupt)?;
            self.own_server_id = Some(h.server_id);
            Kind::RelayOwn
        } else if h.type_code == types::MARIADB_START_ENCRYPTION {
            return Err(BinlogError::Encrypted {
                file: file_name.clone(),
                offset: event.offset,
            });
        } else if h.has_flag(flags::RELAY_LOG) || Some(h.server_id) == self.own_server_id {
            // The slave's own bookkeeping (its rotate to the next relay log; in
            // MySQL also its previous-GTIDs event). The IO thread never writes a
            // master event carrying the slave's own server id.
            Kind::RelayOwn
        } else {
            match h.type_code {
                types::FORMAT_DESCRIPTION => {
                    let fde = FormatDescription::parse(&event).map_err(corrupt)?;
                    self.advance(h.log_pos);
                    Kind::MasterFde(fde)
                }
                types::ROTATE => {
                    let rotate = event
                        .rotate()
                        .ok_or_else(|| corrupt("unreadable rotate event".into()))?;
                    let real_end = if h.log_pos != 0 {
                        self.file
                            .as_ref()
                            .map(|f| BinlogPos::new(f.clone(), h.log_pos as u64))
                    } else {
                        None
                    };
                    self.file = Some(rotate.file);
                    self.pos = Some(rotate.position);
                    Kind::MasterRotate { real_end }
                }
                types::HEARTBEAT | types::HEARTBEAT_V2 => Kind::Bookkeeping,
                types::STOP
                | types::PREVIOUS_GTIDS
                | types::MARIADB_GTID_LIST
                | types::MARIADB_BINLOG_CHECKPOINT => {
                    self.advance(h.log_pos);
                    Kind::Bookkeeping
                }
                types::START_V3 => {
                    return Err(corrupt(
                        "binlog format version 1 or 3 (MySQL before 5.0) is not supported".into(),
                    ))
                }
                _ => {
                    // MariaDB 11.4 and later leave `end_log_pos` 0 in the events
                    // inside a transaction (`binlog_legacy_event_pos=OFF`, the
                    // default): only the GTID and the commit carry it. Where such
                    // an event ends on the master is not known (the master may
                    // have left events out of the stream, e.g. annotations), so
                    // it gets no position.
                    if h.log_pos == 0 {
                        return Ok(Step {
                            file_index: self.index,
                            event,
                            kind: Kind::Data,
                            pos: None,
                        });
                    }
                    self.advance(h.log_pos);
                    Kind::Data
                }
            }
        };
        Ok(Step {
            file_index: self.index,
            event,
            kind,
            pos: self.position(),
        })
    }

    fn advance(&mut self, log_pos: u32) {
        if log_pos != 0 {
            self.pos = Some(log_pos as u64);
        }
    }
}

/// The master file of the events that come before the first rotate from the
/// master, when the oldest relay logs were purged and the first one left
/// starts in the middle of a master file. Inferred from the first rotate: a
/// real rotate to `mysql-bin.000008` means those events were in
/// `mysql-bin.000007`; a fake rotate (a reconnection) at exactly the position
/// they reached means they were in the file it names. `None` when there is
/// nothing to infer or it cannot be inferred.
pub(crate) fn infer_initial_file(logs: &[impl LogSource]) -> Result<Option<String>, BinlogError> {
    let mut walker = Walker::new(logs, None);
    let mut last_log_pos: Option<u64> = None;
    while let Some(item) = walker.next_item()? {
        let Item::Event(step) = item else { continue };
        match step.kind {
            Kind::RelayOwn => {}
            Kind::MasterRotate { .. } => {
                let Some(last) = last_log_pos else {
                    return Ok(None);
                };
                let Some(rotate) = step.event.rotate() else {
                    return Ok(None);
                };
                if step.event.header.log_pos != 0 {
                    return Ok(predecessor(&rotate.file));
                }
                return Ok((rotate.position == last).then_some(rotate.file));
            }
            _ => {
                if step.event.header.log_pos != 0 {
                    last_log_pos = Some(step.event.header.log_pos as u64);
                }
            }
        }
    }
    Ok(None)
}

/// The binlog file before `file` in sequence (`mysql-bin.000008` →
/// `mysql-bin.000007`, `mysql-bin.1000000` → `mysql-bin.999999`).
pub(crate) fn predecessor(file: &str) -> Option<String> {
    let (stem, digits) = file.rsplit_once('.')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seq: u64 = digits.parse().ok()?;
    let prev = seq.checked_sub(1)?;
    // The server pads to six digits; a longer suffix is the number itself.
    let width = digits.len().min(6);
    Some(format!("{stem}.{prev:0width$}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::build;
    use crate::binlog::event::MAGIC;

    #[test]
    fn predecessor_table() {
        let cases = [
            ("mysql-bin.000008", Some("mysql-bin.000007")),
            ("mysql-bin.000010", Some("mysql-bin.000009")),
            ("mysql-bin.1000000", Some("mysql-bin.999999")),
            ("mysql-bin.1000001", Some("mysql-bin.1000000")),
            ("log.12", Some("log.11")),
            ("mysql-bin.000000", None),
            ("mysql-bin", None),
            ("mysql-bin.x1", None),
        ];
        for (file, want) in cases {
            assert_eq!(predecessor(file).as_deref(), want, "{file}");
        }
    }

    /// A relay log made by hand: events are laid out after the magic.
    fn log(name: &str, events: &[Vec<u8>]) -> LogFile {
        let mut bytes = MAGIC.to_vec();
        for e in events {
            bytes.extend_from_slice(e);
        }
        LogFile::new(name, bytes)
    }

    const SLAVE: u32 = 2;
    const MASTER: u32 = 1;

    fn own_fde() -> Vec<u8> {
        build::fde(SLAVE, 256, flags::RELAY_LOG, 0, true)
    }

    fn own_rotate(next: &str) -> Vec<u8> {
        build::rotate(SLAVE, 0, flags::RELAY_LOG, next, 4, true)
    }

    fn fake_rotate(file: &str, pos: u64) -> Vec<u8> {
        build::rotate(MASTER, 0, flags::ARTIFICIAL, file, pos, true)
    }

    /// One MariaDB row transaction ending at `end` (GTID, table map, rows, XID).
    fn trx(seq: u64, end: u32) -> Vec<Vec<u8>> {
        vec![
            build::gtid(MASTER, end - 300, seq, 0x0c, true),
            build::simple(types::TABLE_MAP, MASTER, end - 200, 20, true),
            build::simple(30, MASTER, end - 100, 60, true),
            build::simple(types::XID, MASTER, end, 8, true),
        ]
    }

    fn cat(parts: Vec<Vec<Vec<u8>>>) -> Vec<Vec<u8>> {
        parts.into_iter().flatten().collect()
    }

    #[test]
    fn purged_relay_logs_take_the_master_file_from_the_next_real_rotate() {
        // The first relay log left starts mid-file (its predecessors were purged).
        let logs = vec![
            log(
                "relay-bin.000007",
                &cat(vec![
                    vec![own_fde(), build::fde(MASTER, 0, flags::ARTIFICIAL, 0, true)],
                    trx(10, 1400),
                    trx(11, 1800),
                    vec![build::rotate(MASTER, 1847, 0, "mysql-bin.000005", 4, true)],
                    vec![own_rotate("relay-bin.000008")],
                ]),
            ),
            log(
                "relay-bin.000008",
                &cat(vec![
                    vec![own_fde(), fake_rotate("mysql-bin.000005", 4)],
                    vec![build::fde(MASTER, 256, 0, 0, true)],
                    trx(12, 600),
                ]),
            ),
        ];
        assert_eq!(
            infer_initial_file(&logs).expect("walk").as_deref(),
            Some("mysql-bin.000004")
        );
        let cut = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000004", 1400)).expect("found");
        assert_eq!(cut.file_index, 0);
        let diff = cut_diff(&logs, &cut).expect("diff");
        assert_eq!(diff.transactions, 2);
        assert_eq!(diff.events, 8);
        assert_eq!(diff.to, BinlogPos::new("mysql-bin.000005", 600));
        // The rotate's own end is the end of the old file, the same point as the new file's start.
        let a = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000004", 1847)).expect("end");
        let b = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000005", 4)).expect("start");
        assert_eq!(a, b);
        let err = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000004", 1000))
            .expect_err("not there");
        assert!(matches!(err, FindError::NotInRelayLogs { .. }), "{err}");
        let err =
            find_master_pos(&logs, &BinlogPos::new("mysql-bin.000005", 700)).expect_err("ahead");
        assert!(matches!(err, FindError::BeyondRelayLogs { .. }), "{err}");
    }

    #[test]
    fn without_any_rotate_the_master_file_is_unknown() {
        let logs = vec![log(
            "relay-bin.000007",
            &cat(vec![
                vec![own_fde(), build::fde(MASTER, 0, flags::ARTIFICIAL, 0, true)],
                trx(10, 1400),
            ]),
        )];
        let err =
            find_master_pos(&logs, &BinlogPos::new("mysql-bin.000004", 1400)).expect_err("unknown");
        assert_eq!(
            err,
            FindError::NotInRelayLogs {
                target: BinlogPos::new("mysql-bin.000004", 1400),
                earliest: None
            }
        );
        let err = cut_diff(
            &logs,
            &RelayCut {
                file_index: 0,
                offset: 4,
            },
        )
        .expect_err("unknown file");
        assert!(
            matches!(err, BinlogError::UnknownMasterFile { .. }),
            "{err}"
        );
    }

    /// GTID-mode reconnection in the middle of a transaction: the partial
    /// transaction is in the relay log, then the master resends it whole.
    #[test]
    fn a_transaction_resent_after_a_reconnection_is_copied_once() {
        let t2 = trx(2, 1200);
        let logs = vec![
            log(
                "relay-bin.000002",
                &cat(vec![
                    vec![own_fde(), fake_rotate("mysql-bin.000001", 4)],
                    vec![build::fde(MASTER, 256, 0, 0, true)],
                    trx(1, 800),
                    t2[..2].to_vec(),
                    vec![own_rotate("relay-bin.000003")],
                ]),
            ),
            log(
                "relay-bin.000003",
                &cat(vec![
                    vec![own_fde(), fake_rotate("mysql-bin.000001", 4)],
                    vec![build::fde(MASTER, 256, 0, 0, true)],
                    vec![build::simple(
                        types::MARIADB_GTID_LIST,
                        MASTER,
                        290,
                        10,
                        true,
                    )],
                    vec![build::event(
                        types::MARIADB_GTID_LIST,
                        MASTER,
                        800,
                        flags::ARTIFICIAL,
                        &[0; 10],
                        true,
                    )],
                    t2.clone(),
                    trx(3, 1600),
                ]),
            ),
        ];
        let cut = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000001", 800)).expect("found");
        assert_eq!(cut.file_index, 0);
        let diff = cut_diff(&logs, &cut).expect("diff");
        assert_eq!(diff.transactions, 2);
        assert_eq!(diff.events, 8);
        assert_eq!(diff.duplicates, 2);
        assert!(diff.dropped.is_empty());
        assert_eq!(diff.to, BinlogPos::new("mysql-bin.000001", 1600));
        // The output is exactly: magic, master FDE, transaction 2, transaction 3.
        let mut want = MAGIC.to_vec();
        want.extend(build::fde(MASTER, 256, 0, 0, true));
        want.extend(t2.concat());
        want.extend(trx(3, 1600).concat());
        assert_eq!(diff.bytes, want);
    }

    #[test]
    fn a_different_event_at_a_position_already_seen_is_a_conflict() {
        let logs = vec![log(
            "relay-bin.000002",
            &cat(vec![
                vec![own_fde(), fake_rotate("mysql-bin.000001", 4)],
                vec![build::fde(MASTER, 256, 0, 0, true)],
                trx(1, 800),
                trx(2, 1200),
                vec![fake_rotate("mysql-bin.000001", 800)],
                trx(9, 1200),
            ]),
        )];
        let cut = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000001", 800)).expect("found");
        let err = cut_diff(&logs, &cut).expect_err("conflict");
        assert!(matches!(err, BinlogError::Conflict { .. }), "{err}");
    }

    #[test]
    fn a_restarted_master_drops_the_open_transaction() {
        let t2 = trx(2, 1200);
        let logs = vec![log(
            "relay-bin.000002",
            &cat(vec![
                vec![own_fde(), fake_rotate("mysql-bin.000001", 4)],
                vec![build::fde(MASTER, 256, 0, 0, true)],
                trx(1, 800),
                t2[..3].to_vec(),
                // The master crashed; it restarted with a new binlog.
                vec![fake_rotate("mysql-bin.000002", 4)],
                vec![build::fde(MASTER, 256, 0, 1_700_000_100, true)],
                trx(3, 700),
            ]),
        )];
        let cut = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000001", 800)).expect("found");
        let diff = cut_diff(&logs, &cut).expect("diff");
        assert_eq!(diff.transactions, 1);
        assert_eq!(diff.dropped.len(), 1);
        assert_eq!(diff.dropped[0].reason, DropReason::MasterRestarted);
        assert_eq!(diff.dropped[0].events, 3);
        assert_eq!(
            diff.dropped[0].from,
            BinlogPos::new("mysql-bin.000001", 800)
        );
        assert_eq!(diff.to, BinlogPos::new("mysql-bin.000002", 700));
        assert!(diff.incomplete_tail().is_none());
    }

    /// File/position mode: the IO thread reconnects in the middle of a
    /// transaction and the master goes on from there; the FDE it sends for a
    /// mid-file start (log_pos 0) is no restart, even with `created` set.
    #[test]
    fn a_mid_transaction_reconnection_continues_the_transaction() {
        let t2 = trx(2, 1200);
        let logs = vec![
            log(
                "relay-bin.000002",
                &cat(vec![
                    vec![own_fde(), fake_rotate("mysql-bin.000001", 4)],
                    vec![build::fde(MASTER, 256, 0, 1_700_000_000, true)],
                    trx(1, 800),
                    t2[..2].to_vec(),
                    vec![own_rotate("relay-bin.000003")],
                ]),
            ),
            log(
                "relay-bin.000003",
                &cat(vec![
                    vec![own_fde(), fake_rotate("mysql-bin.000001", 1000)],
                    vec![build::fde(MASTER, 0, 0, 1_700_000_000, true)],
                    t2[2..].to_vec(),
                ]),
            ),
        ];
        let cut = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000001", 800)).expect("found");
        let diff = cut_diff(&logs, &cut).expect("diff");
        assert_eq!((diff.transactions, diff.events, diff.duplicates), (1, 4, 0));
        assert!(diff.dropped.is_empty());
        assert_eq!(diff.to, BinlogPos::new("mysql-bin.000001", 1200));
    }

    /// Relay logs purged up to the middle of a transaction: a cut before its
    /// end cannot be told from a boundary by what comes before, so the event
    /// after it decides.
    #[test]
    fn a_cut_where_the_transaction_state_is_unknown() {
        let t1 = trx(1, 1200);
        let logs = vec![log(
            "relay-bin.000009",
            &cat(vec![
                vec![own_fde(), build::fde(MASTER, 0, flags::ARTIFICIAL, 0, true)],
                t1[1..].to_vec(),
                trx(2, 1600),
                vec![build::rotate(MASTER, 1647, 0, "mysql-bin.000008", 4, true)],
            ]),
        )];
        let err = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000007", 1100))
            .map_err(|e| e.to_string())
            .and_then(|cut| cut_diff(&logs, &cut).map_err(|e| e.to_string()))
            .expect_err("inside");
        assert!(
            err.contains(
                "mysql-bin.000007:1100 is inside a transaction; a diff must start between"
            ),
            "{err}"
        );
        let cut = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000007", 1200)).expect("found");
        let diff = cut_diff(&logs, &cut).expect("after the XID");
        assert_eq!(diff.transactions, 1);
    }

    #[test]
    fn the_master_checksum_setting_must_not_change_inside_a_diff() {
        let logs = vec![log(
            "relay-bin.000002",
            &cat(vec![
                vec![own_fde(), fake_rotate("mysql-bin.000001", 4)],
                vec![build::fde(MASTER, 256, 0, 0, true)],
                trx(1, 800),
                vec![build::rotate(MASTER, 847, 0, "mysql-bin.000002", 4, true)],
                vec![build::fde(MASTER, 256, 0, 0, false)],
            ]),
        )];
        let cut = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000001", 256)).expect("found");
        let err = cut_diff(&logs, &cut).expect_err("changed");
        assert!(matches!(err, BinlogError::ChecksumChanged { .. }), "{err}");
        assert!(err.to_string().contains("from CRC32 to NONE"), "{err}");
    }

    #[test]
    fn a_cut_inside_a_transaction_or_an_event_is_refused() {
        let t1 = trx(1, 800);
        let events = cat(vec![
            vec![own_fde(), fake_rotate("mysql-bin.000001", 4)],
            vec![build::fde(MASTER, 256, 0, 0, true)],
            t1.clone(),
        ]);
        let logs = vec![log("relay-bin.000002", &events)];
        let cut = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000001", 600)).expect("found");
        let err = cut_diff(&logs, &cut).expect_err("inside");
        assert!(
            matches!(err, BinlogError::StartInsideTransaction { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("mysql-bin.000001:600"), "{err}");
        assert!(
            err.to_string().contains("began at mysql-bin.000001:256"),
            "{err}"
        );
        let inside = RelayCut {
            file_index: 0,
            offset: cut.offset - 1,
        };
        let err = cut_diff(&logs, &inside).expect_err("not a boundary");
        assert!(err.to_string().contains("inside the event"), "{err}");
        let past = RelayCut {
            file_index: 0,
            offset: logs[0].bytes.len() as u64 + 1,
        };
        assert!(cut_diff(&logs, &past).is_err());
        let nowhere = RelayCut {
            file_index: 1,
            offset: 4,
        };
        assert!(cut_diff(&logs, &nowhere).is_err());
        // At the very end: an empty diff.
        let end = RelayCut {
            file_index: 0,
            offset: logs[0].bytes.len() as u64,
        };
        let diff = cut_diff(&logs, &end).expect("empty");
        assert!(diff.is_empty());
        assert_eq!(diff.from, BinlogPos::new("mysql-bin.000001", 800));
        assert_eq!(diff.to, diff.from);
    }

    #[test]
    fn a_damaged_relay_log_must_be_followed_by_a_resend() {
        let mut first = cat(vec![
            vec![own_fde(), fake_rotate("mysql-bin.000001", 4)],
            vec![build::fde(MASTER, 256, 0, 0, true)],
            trx(1, 800),
        ]);
        let t2 = trx(2, 1200);
        first.push(t2[0].clone());
        let mut a = log("relay-bin.000002", &first);
        a.bytes.extend_from_slice(&t2[1][..10]); // the slave crashed while writing
                                                 // Resumes at the start of the damaged event: fine.
        let good = log(
            "relay-bin.000003",
            &cat(vec![
                vec![own_fde(), fake_rotate("mysql-bin.000001", 900)],
                vec![build::fde(MASTER, 0, 0, 0, true)],
                t2[1..].to_vec(),
            ]),
        );
        let logs = vec![a.clone(), good];
        let cut = find_master_pos(&logs, &BinlogPos::new("mysql-bin.000001", 800)).expect("found");
        let diff = cut_diff(&logs, &cut).expect("diff");
        assert_eq!(diff.transactions, 1);
        assert_eq!(diff.truncated.len(), 1);
        assert_eq!(diff.truncated[0].dropped, 10);
        // Resumes after it: events are missing.
        let bad = log(
            "relay-bin.000003",
            &cat(vec![
                vec![own_fde(), fake_rotate("mysql-bin.000001", 1000)],
                vec![build::fde(MASTER, 0, 0, 0, true)],
                t2[2..].to_vec(),
            ]),
        );
        let logs = vec![a, bad];
        let err = cut_diff(&logs, &cut).expect_err("gap");
        assert!(matches!(err, BinlogError::RelayGap { .. }), "{err}");
    }
}
