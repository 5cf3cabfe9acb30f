//! The dead master's own binlogs from a position to the end, as one file
//! (what MHA's `save_binary_logs` does on the master host).

use super::diff::{role, Diff, DiffBuilder, DropReason, Effect, State, Tracker};
use super::event::{types, Events, FormatDescription, MAGIC};
#[cfg(test)]
use super::LogFile;
use super::{BinlogError, LogSource, Out};
use crate::topology::position::BinlogPos;

/// Tests: [`binlog_tail_into`] cut into memory, the bytes in [`Diff::bytes`].
#[cfg(test)]
pub(crate) fn binlog_tail(files: &[LogFile], start: &BinlogPos) -> Result<Diff, BinlogError> {
    let mut out = Vec::new();
    let mut diff = binlog_tail_into(files, start, &mut out)?;
    diff.bytes = out;
    Ok(diff)
}

/// Builds one binlog file from `start` to the end of `files` (the master's
/// binlogs, oldest first, the first being `start.file`, consecutive): the
/// first file's format description event, then the events after
/// `start.pos`, whole transactions only. Later files' magic, format
/// description events and bookkeeping (rotate, stop, GTID list, binlog
/// checkpoint, previous GTIDs) are left out.
///
/// `start.pos` must be an event boundary between transactions (4, or the end
/// of an event; in practice the latest slave's `Read_Master_Log_Pos`). A
/// partial event at the end of a file (the master died writing it) and an
/// unfinished transaction before it are left out and reported. Nothing after
/// `start` gives a `Diff` with `events == 0`.
///
/// The first file's copy may hold only its head and the bytes from
/// `start.pos` on ([`LogSource::skip`] resuming at `start.pos`): what lies
/// before the start is then not seen, so the first event after it must
/// start a transaction. The file is written to `out` as it is cut.
pub(crate) fn binlog_tail_into(
    files: &[impl LogSource],
    start: &BinlogPos,
    out: &mut dyn Out,
) -> Result<Diff, BinlogError> {
    let first = files.first().ok_or(BinlogError::NoFiles)?;
    if first.name() != start.file {
        return Err(BinlogError::StartFileMismatch {
            first: first.name().to_owned(),
            start: start.clone(),
        });
    }
    if start.pos < MAGIC.len() as u64 {
        return Err(BinlogError::NotAnEventBoundary {
            start: start.clone(),
            event_start: 0,
            event_end: MAGIC.len() as u64,
        });
    }
    let mut builder = DiffBuilder::new(out, start.clone(), false);
    let last = files.len() - 1;
    let mut previous: Option<(&str, Option<String>)> = None;
    for (index, file) in files.iter().enumerate() {
        let name = file.name();
        if let Some((prev, rotated_to)) = previous.take() {
            check_consecutive(prev, name, rotated_to.as_deref())?;
        }
        let skip = if index == 0 { file.skip() } else { None };
        if let Some((_, resume_at)) = skip {
            if resume_at != start.pos {
                return Err(BinlogError::Corrupt {
                    file: name.to_owned(),
                    offset: resume_at,
                    reason: format!("the copy resumes at {resume_at}, not at the start {start}"),
                });
            }
        }
        let mut events = Events::reader(name, file.open()?)?
            .strict_positions()
            .skipping(skip);
        // Before the start (first file only): check it is a boundary between transactions.
        let mut reached = index > 0 || start.pos == MAGIC.len() as u64;
        let mut before_start = Tracker::new(State::Idle);
        let mut group_start = BinlogPos::new(name, MAGIC.len() as u64);
        let mut rotated_to = None;
        let mut first_event = true;
        // After a part left out: the first data event must open a transaction.
        let mut check_first = false;
        for event in events.by_ref() {
            let event = event?;
            if first_event {
                first_event = false;
                let fde =
                    FormatDescription::parse(&event).map_err(|reason| BinlogError::Corrupt {
                        file: name.to_string(),
                        offset: event.offset,
                        reason: format!(
                            "the first event is not a usable format description event: {reason}"
                        ),
                    })?;
                match builder.fde() {
                    None => builder.set_fde(name, &event, fde)?,
                    Some(current) if current.checksum != fde.checksum => {
                        return Err(BinlogError::ChecksumChanged {
                            before: current.checksum,
                            after: fde.checksum,
                            file: name.to_string(),
                            offset: event.offset,
                        })
                    }
                    Some(_) => {}
                }
            }
            let pos = BinlogPos::new(name, event.end());
            if !reached && skip.is_some() && event.offset == start.pos {
                // The part before the start was not copied: the tail must
                // begin with the start of a transaction.
                reached = true;
                builder.require_group_start();
                check_first = builder.fde().is_some_and(|f| f.gtid_events());
            }
            if !reached {
                if event.end() > start.pos {
                    return Err(BinlogError::NotAnEventBoundary {
                        start: start.clone(),
                        event_start: event.offset,
                        event_end: event.end(),
                    });
                }
                if let (true, Some(fde)) = (is_data(event.type_code()), builder.fde()) {
                    let fed =
                        before_start.feed(role(&event, fde.checksum, fde.query_post_header_len()));
                    if fed.effect == Effect::Opens {
                        group_start = BinlogPos::new(name, event.offset);
                    }
                }
                if event.end() == start.pos {
                    reached = true;
                    if before_start.in_group() {
                        return Err(BinlogError::StartInsideTransaction {
                            start: start.clone(),
                            group_start: Some(group_start),
                        });
                    }
                }
                continue;
            }
            match event.type_code() {
                types::MARIADB_START_ENCRYPTION => {
                    return Err(BinlogError::Encrypted {
                        file: name.to_string(),
                        offset: event.offset,
                    })
                }
                types::ROTATE => rotated_to = event.rotate().map(|r| r.file),
                types::FORMAT_DESCRIPTION => {}
                t if is_data(t) => {
                    if std::mem::take(&mut check_first)
                        && !matches!(t, types::MARIADB_GTID | types::GTID | types::ANONYMOUS_GTID)
                    {
                        // This server starts every transaction with a GTID event.
                        return Err(BinlogError::StartInsideTransaction {
                            start: start.clone(),
                            group_start: None,
                        });
                    }
                    builder.data(name, &event, Some(pos))?
                }
                _ => {}
            }
        }
        if !reached && skip.is_some() && events.offset() == start.pos {
            // Copied up to the start, and nothing after it.
            reached = true;
        }
        if !reached {
            return Err(BinlogError::StartBeyondEnd {
                start: start.clone(),
                file: name.to_string(),
                end: events.offset(),
            });
        }
        if let Some(truncation) = events.truncation() {
            builder.truncated(truncation.clone());
        }
        if index < last {
            // A binlog never continues a transaction in the next file: the
            // server crashed in the middle of it and rolled it back.
            builder.drop_pending(DropReason::FileEnded)?;
        }
        previous = Some((name, rotated_to));
    }
    builder.finish()
}

/// Where the header of a binlog ends, from its first bytes: the offset of
/// the first event after the format description event and the bookkeeping
/// that follows it (previous GTIDs, GTID list, binlog checkpoint). A tail
/// can be cut from a copy holding these bytes and then the bytes from the
/// start position on. `None` when `head` is not a binlog's start or ends
/// before the header does.
pub(crate) fn head_end(name: &str, head: &[u8]) -> Option<u64> {
    let mut events = Events::new(name, head).ok()?.strict_positions();
    let first = events.next()?.ok()?;
    if first.type_code() != types::FORMAT_DESCRIPTION {
        return None;
    }
    for event in events.by_ref() {
        let event = event.ok()?;
        if !matches!(
            event.type_code(),
            types::PREVIOUS_GTIDS | types::MARIADB_GTID_LIST | types::MARIADB_BINLOG_CHECKPOINT
        ) {
            return Some(event.offset);
        }
    }
    // The head holds nothing after its header: the header may go on.
    None
}

/// Events copied into a diff (everything but the binlog's bookkeeping).
fn is_data(type_code: u8) -> bool {
    !matches!(
        type_code,
        types::FORMAT_DESCRIPTION
            | types::ROTATE
            | types::STOP
            | types::HEARTBEAT
            | types::HEARTBEAT_V2
            | types::PREVIOUS_GTIDS
            | types::MARIADB_GTID_LIST
            | types::MARIADB_BINLOG_CHECKPOINT
            | types::MARIADB_START_ENCRYPTION
            | types::START_V3
    )
}

/// `next` must follow `prev`: the file `prev`'s last rotate names, or else
/// (the server crashed and started a new file) the next sequence number.
fn check_consecutive(prev: &str, next: &str, rotated_to: Option<&str>) -> Result<(), BinlogError> {
    let ok = match rotated_to {
        Some(r) => r == next,
        None => {
            let (p, n) = (BinlogPos::new(prev, 0), BinlogPos::new(next, 0));
            p.stem() == n.stem()
                && matches!((p.seq(), n.seq()), (Some(a), Some(b)) if a.checked_add(1) == Some(b))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(BinlogError::NotConsecutive {
            prev: prev.to_string(),
            next: next.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::build;

    const MASTER: u32 = 1;

    /// A binlog made by hand with correct end_log_pos values: each item is
    /// (type, body size) or a prebuilt kind.
    enum E {
        Fde {
            created: u32,
        },
        Gtid(u64),
        /// A standalone GTID (DDL follows).
        DdlGtid(u64),
        Rows,
        Xid,
        Query(&'static str),
        Rotate(&'static str),
        Stop,
    }

    fn binlog(name: &str, items: &[E]) -> LogFile {
        let mut bytes = MAGIC.to_vec();
        for item in items {
            let at = bytes.len() as u32;
            // Build once to learn the length, then again with the right end_log_pos.
            let make = |end: u32| match item {
                E::Fde { created } => build::fde(MASTER, end, 0, *created, true),
                E::Gtid(seq) => build::gtid(MASTER, end, *seq, 0x0c, true),
                E::DdlGtid(seq) => build::gtid(MASTER, end, *seq, 0x29, true),
                E::Rows => build::simple(30, MASTER, end, 40, true),
                E::Xid => build::simple(types::XID, MASTER, end, 8, true),
                E::Query(q) => build::query(MASTER, end, q, true),
                E::Rotate(f) => build::rotate(MASTER, end, 0, f, 4, true),
                E::Stop => build::simple(types::STOP, MASTER, end, 0, true),
            };
            let len = make(0).len() as u32;
            bytes.extend(make(at + len));
        }
        LogFile::new(name, bytes)
    }

    fn ends(file: &LogFile) -> Vec<u64> {
        Events::new(&file.name, &file.bytes)
            .expect("magic")
            .map(|e| e.expect("event").end())
            .collect()
    }

    #[test]
    fn two_files_with_a_ddl_and_a_stop() {
        let a = binlog(
            "mysql-bin.000002",
            &[
                E::Fde { created: 0 },
                E::Gtid(1),
                E::Rows,
                E::Xid,
                E::Gtid(2),
                E::Rows,
                E::Xid,
                E::Rotate("mysql-bin.000003"),
            ],
        );
        let b = binlog(
            "mysql-bin.000003",
            &[
                E::Fde { created: 0 },
                E::DdlGtid(3),
                E::Query("CREATE TABLE x (a int)"),
                E::Stop,
            ],
        );
        let a_ends = ends(&a);
        let b_ends = ends(&b);
        let files = vec![a.clone(), b.clone()];
        let start = BinlogPos::new("mysql-bin.000002", a_ends[3]);
        let diff = binlog_tail(&files, &start).expect("tail");
        assert_eq!(diff.events, 5);
        assert_eq!(diff.transactions, 2);
        assert_eq!(diff.from, start);
        assert_eq!(diff.to, BinlogPos::new("mysql-bin.000003", b_ends[2]));
        assert!(diff.dropped.is_empty() && diff.truncated.is_empty());
        // From the very start: everything.
        let diff = binlog_tail(&files, &BinlogPos::new("mysql-bin.000002", 4)).expect("from 4");
        assert_eq!(diff.transactions, 3);
        // From the end: nothing, but still a valid file.
        let end = BinlogPos::new("mysql-bin.000003", b.bytes.len() as u64);
        let diff = binlog_tail(std::slice::from_ref(&b), &end).expect("empty");
        assert!(diff.is_empty());
        assert_eq!(diff.to, end);
        assert_eq!(&diff.bytes[..4], &MAGIC);
    }

    #[test]
    fn bad_starts() {
        let a = binlog(
            "mysql-bin.000002",
            &[E::Fde { created: 0 }, E::Gtid(1), E::Rows, E::Xid],
        );
        let e = ends(&a);
        let files = vec![a.clone()];
        let cases: Vec<(BinlogPos, &str)> = vec![
            (
                BinlogPos::new("mysql-bin.000001", 4),
                "first binlog file given is mysql-bin.000002",
            ),
            (
                BinlogPos::new("mysql-bin.000002", 2),
                "not an event boundary",
            ),
            (
                BinlogPos::new("mysql-bin.000002", e[1] + 1),
                "not an event boundary",
            ),
            (
                BinlogPos::new("mysql-bin.000002", e[2]),
                "inside a transaction that began at mysql-bin.000002:",
            ),
            (
                BinlogPos::new("mysql-bin.000002", e[3] + 100),
                "past the last complete event",
            ),
        ];
        for (start, msg) in cases {
            let err = binlog_tail(&files, &start).expect_err(&start.to_string());
            assert!(err.to_string().contains(msg), "{start}: {err}");
        }
        assert_eq!(
            binlog_tail(&[], &BinlogPos::new("x.1", 4)),
            Err(BinlogError::NoFiles)
        );
    }

    #[test]
    fn files_must_be_consecutive() {
        let a = binlog(
            "mysql-bin.000002",
            &[E::Fde { created: 0 }, E::Rotate("mysql-bin.000003")],
        );
        let c = binlog("mysql-bin.000004", &[E::Fde { created: 0 }]);
        let err =
            binlog_tail(&[a, c.clone()], &BinlogPos::new("mysql-bin.000002", 4)).expect_err("gap");
        assert!(matches!(err, BinlogError::NotConsecutive { .. }), "{err}");
        // Without a rotate (a crash), the sequence decides.
        let b = binlog(
            "mysql-bin.000003",
            &[E::Fde { created: 0 }, E::Gtid(1), E::Rows],
        );
        assert!(binlog_tail(&[b.clone(), c], &BinlogPos::new("mysql-bin.000003", 4)).is_ok());
        let e = binlog("mysql-bin.000005", &[E::Fde { created: 0 }]);
        let err = binlog_tail(&[b, e], &BinlogPos::new("mysql-bin.000003", 4)).expect_err("gap");
        assert!(err.to_string().contains("not consecutive"), "{err}");
    }

    #[test]
    fn a_crash_mid_transaction_drops_it() {
        // mysql-bin.000003 ends inside a transaction (no rotate, no stop): the
        // master crashed, restarted and wrote mysql-bin.000004.
        let a = binlog(
            "mysql-bin.000003",
            &[
                E::Fde { created: 0 },
                E::Gtid(1),
                E::Rows,
                E::Xid,
                E::Gtid(2),
                E::Rows,
            ],
        );
        let b = binlog(
            "mysql-bin.000004",
            &[
                E::Fde {
                    created: 1_700_000_000,
                },
                E::Gtid(3),
                E::Rows,
                E::Xid,
                E::Gtid(4),
                E::Rows,
            ],
        );
        let mut b_cut = b.clone();
        b_cut.bytes.truncate(b.bytes.len() - 7);
        let a_ends = ends(&a);
        let diff = binlog_tail(&[a, b_cut], &BinlogPos::new("mysql-bin.000003", 4)).expect("tail");
        assert_eq!(diff.transactions, 2);
        assert_eq!(diff.dropped.len(), 2);
        assert_eq!(diff.dropped[0].reason, DropReason::FileEnded);
        assert_eq!(
            diff.dropped[0].from,
            BinlogPos::new("mysql-bin.000003", a_ends[3])
        );
        assert_eq!(diff.dropped[0].events, 2);
        let tail = diff.incomplete_tail().expect("incomplete tail");
        assert_eq!(tail.events, 1);
        assert_eq!(diff.truncated.len(), 1);
        assert_eq!(diff.truncated[0].dropped, 63 - 7);
    }
}
