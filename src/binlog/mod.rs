//! Binary log and relay log files: event headers, finding a master position in relay logs, cutting diffs.
//!
//! Pure (L0): no file or network I/O, no clock, no logging. Logs are read one
//! event at a time from readers the caller opens ([`LogSource`]: the copies it
//! fetched over SSH into the manager's workdir, or bytes in memory in tests),
//! and diffs are written as they are cut into an [`Out`] the caller gives (a
//! file in the workdir): memory holds one event, never a whole file.
//!
//! - [`event`]: the v4 event header, [`Events`](event::Events) over a reader, the few
//!   event bodies we read (format description, rotate, query text, MariaDB GTID).
//! - [`relay`]: [`find_master_pos`] finds where a slave's master position lies
//!   in another slave's relay logs; [`cut_diff_into`] turns the rest of the relay
//!   logs into a binlog file that `mysqlbinlog FILE | mysql` applies.
//! - [`tail`]: [`binlog_tail_into`] saves the dead master's binlog from a position
//!   to the end, as one file.
//! - [`diff`]: the [`Diff`] both produce, always ending on a transaction
//!   boundary, with what was left out and why.
//!
//! Relay logs keep each event's header as the master wrote it, so the
//! `end_log_pos` of an event copied from a relay log is the master's position
//! after it; the relay log's own bookkeeping (its format description events,
//! rotates to the next relay log, fake rotates naming the master's file) tells
//! which master file that position is in.

pub(crate) mod diff;
pub(crate) mod event;
pub(crate) mod filter;
pub(crate) mod relay;
pub(crate) mod tail;

#[cfg(test)]
#[path = "mariadb118_tests.rs"]
mod mariadb118_tests;
#[cfg(test)]
mod tests;

use thiserror::Error;

use crate::topology::position::BinlogPos;

use std::io::Read;

pub(crate) use diff::Diff;
pub(crate) use event::ChecksumAlg;
#[cfg(test)]
pub(crate) use filter::drop_applied;
pub(crate) use filter::{drop_applied_into, TxGtid};
#[cfg(test)]
pub(crate) use relay::cut_diff;
pub(crate) use relay::{cut_diff_into, find_master_pos, relay_head_end, relay_start, FindError};
#[cfg(test)]
pub(crate) use tail::binlog_tail;
pub(crate) use tail::{binlog_tail_into, head_end};

/// A binlog or relay log to read: its name and a way to read it from the start.
pub(crate) trait LogSource {
    /// The file name as the server names it (`mysql-bin.000002`, `relay-bin.000017`).
    fn name(&self) -> &str;
    /// A reader over the copy, from byte 0 (the magic).
    fn open(&self) -> Result<Box<dyn Read + '_>, BinlogError>;
    /// `(head_end, resume_at)` when the copy leaves out the file's bytes
    /// between those offsets (the copy holds the head, then the rest from
    /// `resume_at`); offsets in events and errors are still the file's.
    fn skip(&self) -> Option<(u64, u64)> {
        None
    }
}

impl<T: LogSource + ?Sized> LogSource for Box<T> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn open(&self) -> Result<Box<dyn Read + '_>, BinlogError> {
        (**self).open()
    }

    fn skip(&self) -> Option<(u64, u64)> {
        (**self).skip()
    }
}

/// Where a diff is written as it is cut: bytes are appended, and an
/// unfinished transaction is taken back by cutting the output short.
pub(crate) trait Out {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// Bytes written so far.
    fn written(&self) -> u64;
    /// Drops everything after the first `len` bytes.
    fn cut(&mut self, len: u64) -> std::io::Result<()>;
}

impl Out for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    fn written(&self) -> u64 {
        self.len() as u64
    }

    fn cut(&mut self, len: u64) -> std::io::Result<()> {
        self.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(())
    }
}

/// One binlog or relay log file held in memory (tests, and small heads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogFile {
    /// The file name as the server names it (`mysql-bin.000002`, `relay-bin.000017`).
    pub name: String,
    pub bytes: Vec<u8>,
}

impl LogFile {
    pub(crate) fn new(name: impl Into<String>, bytes: Vec<u8>) -> LogFile {
        LogFile {
            name: name.into(),
            bytes,
        }
    }
}

impl LogSource for LogFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self) -> Result<Box<dyn Read + '_>, BinlogError> {
        Ok(Box::new(&self.bytes[..]))
    }
}

/// An error writing the output file.
pub(crate) fn write_error(e: &std::io::Error) -> BinlogError {
    BinlogError::Io {
        file: "the output file".into(),
        offset: 0,
        reason: e.to_string(),
    }
}

/// A binlog or relay log that cannot be used as asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum BinlogError {
    #[error("{file} is not a binlog or relay log: it does not start with the binlog magic bytes \\xfebin ({len} bytes)")]
    BadMagic { file: String, len: u64 },
    #[error("{file} is damaged at offset {offset}: {reason}")]
    Corrupt {
        file: String,
        offset: u64,
        reason: String,
    },
    #[error("{file}: the event at offset {offset} (type {type_code}) fails its CRC32 checksum; the file is damaged")]
    BadChecksum {
        file: String,
        offset: u64,
        type_code: u8,
    },
    #[error("{file}: encrypted binlog events from offset {offset} (encrypt_binlog); they cannot be copied")]
    Encrypted { file: String, offset: u64 },
    #[error("{file}: reading at offset {offset} failed: {reason}")]
    Io {
        file: String,
        offset: u64,
        reason: String,
    },
    #[error("no log files were given")]
    NoFiles,
    #[error("the first binlog file given is {first}, but the start position is {start}")]
    StartFileMismatch { first: String, start: BinlogPos },
    #[error("{start} is not an event boundary: the event there starts at {event_start} and ends at {event_end}")]
    NotAnEventBoundary {
        start: BinlogPos,
        event_start: u64,
        event_end: u64,
    },
    #[error("{start} is past the last complete event of {file}, which ends at {end}")]
    StartBeyondEnd {
        start: BinlogPos,
        file: String,
        end: u64,
    },
    #[error("{start} is inside a transaction{}; a diff must start between transactions (use the slave's Exec_Master_Log_Pos, not Read_Master_Log_Pos)", began_at(.group_start))]
    StartInsideTransaction {
        start: BinlogPos,
        /// Where the transaction began, when the logs show it.
        group_start: Option<BinlogPos>,
    },
    #[error("binlog files are not consecutive: {prev} is followed by {next}")]
    NotConsecutive { prev: String, next: String },
    #[error("the master changed binlog_checksum from {before} to {after} ({file} offset {offset}); one diff file cannot hold events of both")]
    ChecksumChanged {
        before: ChecksumAlg,
        after: ChecksumAlg,
        file: String,
        offset: u64,
    },
    #[error("relay log cut {file} offset {offset} is not usable: {reason}")]
    BadCut {
        file: String,
        offset: u64,
        reason: String,
    },
    #[error(
        "{file} offset {offset}: no format description event of the master comes before this event"
    )]
    NoMasterFormatDescription { file: String, offset: u64 },
    #[error("{file} offset {offset}: the relay logs do not say which master binlog file this point is in (the relay logs before it were purged)")]
    UnknownMasterFile { file: String, offset: u64 },
    #[error("{file} offset {offset}: after a reconnection the master resent part of a transaction whose events carry no position (MariaDB 11.4+ with binlog_legacy_event_pos=OFF): what was received twice cannot be told; recover this slave from the binlogs, or set binlog_legacy_event_pos=ON on the master")]
    PositionlessResend { file: String, offset: u64 },
    #[error("the relay logs hold two different events ending at master position {pos} (the second in {file} at offset {offset}); was the master's binlog reset?")]
    Conflict {
        pos: BinlogPos,
        file: String,
        offset: u64,
    },
    #[error("{file} ends with a partial event at offset {offset}, and the next relay log does not resume the master's stream at or before {resume_at}: events may be missing")]
    RelayGap {
        file: String,
        offset: u64,
        resume_at: BinlogPos,
    },
}

fn began_at(group_start: &Option<BinlogPos>) -> String {
    match group_start {
        Some(p) => format!(" that began at {p}"),
        None => String::new(),
    }
}
