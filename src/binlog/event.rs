//! Binlog v4 events: the 19-byte header, reading a file one event at a time
//! from any [`Read`], and the few bodies we need to read (format description,
//! rotate, query text, MariaDB GTID).
//!
//! We copy events verbatim, so nothing here decodes rows. Every read is bounds
//! checked: garbage, truncated files and absurd lengths give errors or a
//! [`Truncation`], never a panic. Only one event is held at a time.

use std::io::Read;

use super::BinlogError;

/// The four bytes every binlog and relay log starts with.
pub(crate) const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
/// Length of the v4 event header.
pub(crate) const HEADER_LEN: usize = 19;
/// Length of the CRC32 that ends every event when `binlog_checksum=CRC32`.
pub(crate) const CHECKSUM_LEN: usize = 4;

/// Event type codes (MySQL and MariaDB share 0..=41; MariaDB's own start at 160).
pub(crate) mod types {
    pub(crate) const START_V3: u8 = 1;
    pub(crate) const QUERY: u8 = 2;
    pub(crate) const STOP: u8 = 3;
    pub(crate) const ROTATE: u8 = 4;
    pub(crate) const INTVAR: u8 = 5;
    pub(crate) const RAND: u8 = 13;
    pub(crate) const USER_VAR: u8 = 14;
    pub(crate) const FORMAT_DESCRIPTION: u8 = 15;
    pub(crate) const XID: u8 = 16;
    pub(crate) const EXECUTE_LOAD_QUERY: u8 = 18;
    #[cfg(test)]
    pub(crate) const TABLE_MAP: u8 = 19;
    pub(crate) const INCIDENT: u8 = 26;
    pub(crate) const HEARTBEAT: u8 = 27;
    pub(crate) const ROWS_QUERY: u8 = 29;
    /// MySQL GTID.
    pub(crate) const GTID: u8 = 33;
    /// MySQL anonymous GTID (gtid_mode=OFF on 5.7+).
    pub(crate) const ANONYMOUS_GTID: u8 = 34;
    pub(crate) const PREVIOUS_GTIDS: u8 = 35;
    pub(crate) const XA_PREPARE: u8 = 38;
    /// MySQL 8 compressed transaction (the whole transaction in one event).
    pub(crate) const TRANSACTION_PAYLOAD: u8 = 40;
    pub(crate) const HEARTBEAT_V2: u8 = 41;
    pub(crate) const MARIADB_ANNOTATE_ROWS: u8 = 160;
    pub(crate) const MARIADB_BINLOG_CHECKPOINT: u8 = 161;
    pub(crate) const MARIADB_GTID: u8 = 162;
    pub(crate) const MARIADB_GTID_LIST: u8 = 163;
    pub(crate) const MARIADB_START_ENCRYPTION: u8 = 164;
    pub(crate) const MARIADB_QUERY_COMPRESSED: u8 = 165;
}

/// Header flags we look at.
pub(crate) mod flags {
    /// The binlog was not closed properly (set in the FDE of an open binlog).
    pub(crate) const BINLOG_IN_USE: u16 = 0x0001;
    /// Made up by the server (fake rotate, artificial FDE or GTID list), not read from a binlog.
    pub(crate) const ARTIFICIAL: u16 = 0x0020;
    /// Written by the slave itself into its relay log (its own FDE and rotates).
    pub(crate) const RELAY_LOG: u16 = 0x0040;
}

/// MariaDB GTID event `flags2` bits.
pub(crate) mod gtid_flags {
    /// The group is one statement with no BEGIN/COMMIT (DDL, for example).
    pub(crate) const STANDALONE: u8 = 0x01;
    /// The group is `XA COMMIT`/`XA ROLLBACK` of a prepared XA transaction.
    pub(crate) const COMPLETED_XA: u8 = 0x80;
}

/// The 19-byte v4 event header, little endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventHeader {
    pub timestamp: u32,
    pub type_code: u8,
    pub server_id: u32,
    pub event_length: u32,
    /// `end_log_pos`: where the event ends in the binlog it was first written to
    /// (in a relay log: the master's binlog; 0 for some made-up events).
    pub log_pos: u32,
    pub flags: u16,
}

impl EventHeader {
    /// Reads a header from the first 19 bytes, `None` if there are fewer.
    pub(crate) fn parse(bytes: &[u8]) -> Option<EventHeader> {
        let h = bytes.get(..HEADER_LEN)?;
        Some(EventHeader {
            timestamp: u32_at(h, 0)?,
            type_code: h[4],
            server_id: u32_at(h, 5)?,
            event_length: u32_at(h, 9)?,
            log_pos: u32_at(h, 13)?,
            flags: u16_at(h, 17)?,
        })
    }

    pub(crate) fn has_flag(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

/// Whether events end with a CRC32, from the format description event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChecksumAlg {
    Off,
    Crc32,
}

impl std::fmt::Display for ChecksumAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChecksumAlg::Off => "NONE",
            ChecksumAlg::Crc32 => "CRC32",
        })
    }
}

/// One complete event in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// Offset of the event's first byte in its file.
    pub offset: u64,
    pub header: EventHeader,
    /// The whole event: header, body and checksum if any.
    pub bytes: Vec<u8>,
}

impl Event {
    /// Offset just past the event.
    pub(crate) fn end(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }

    pub(crate) fn type_code(&self) -> u8 {
        self.header.type_code
    }

    /// The body after the header, with the checksum (if `alg` says there is one) removed.
    pub(crate) fn body(&self, alg: ChecksumAlg) -> &[u8] {
        let end = match alg {
            ChecksumAlg::Crc32 => self.bytes.len().saturating_sub(CHECKSUM_LEN),
            ChecksumAlg::Off => self.bytes.len(),
        };
        self.bytes.get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// True when the last four bytes are the CRC32 of the rest.
    ///
    /// A format description event's CRC32 is computed with the "binlog in
    /// use" flag clear: the server sets and clears that flag in place without
    /// rewriting the checksum.
    pub(crate) fn has_valid_crc(&self) -> bool {
        let Some(split) = self.bytes.len().checked_sub(CHECKSUM_LEN) else {
            return false;
        };
        if split < HEADER_LEN {
            return false;
        }
        let (data, sum) = self.bytes.split_at(split);
        let computed = if self.header.type_code == types::FORMAT_DESCRIPTION
            && self.header.has_flag(flags::BINLOG_IN_USE)
        {
            // Flags are bytes 17..19, little endian; the flag is bit 0 of byte 17.
            let mut crc = Crc32::new();
            crc.update(&data[..17]);
            crc.update(&[data[17] & !(flags::BINLOG_IN_USE as u8)]);
            crc.update(&data[18..]);
            crc.finish()
        } else {
            crc32(data)
        };
        u32_at(sum, 0) == Some(computed)
    }

    /// Checks the CRC32 when `alg` says the event carries one.
    pub(crate) fn checksum_ok(&self, alg: ChecksumAlg) -> bool {
        match alg {
            ChecksumAlg::Off => true,
            ChecksumAlg::Crc32 => self.has_valid_crc(),
        }
    }

    /// A rotate event's target: the next file and the position in it.
    ///
    /// Whether a CRC32 ends the event is decided by checking it, because the
    /// rotates in a relay log do not all follow one format description
    /// (fake rotates come before the master's FDE).
    pub(crate) fn rotate(&self) -> Option<Rotate> {
        if self.type_code() != types::ROTATE {
            return None;
        }
        let alg = if self.bytes.len() >= HEADER_LEN + 8 + CHECKSUM_LEN && self.has_valid_crc() {
            ChecksumAlg::Crc32
        } else {
            ChecksumAlg::Off
        };
        let body = self.body(alg);
        let position = u64_at(body, 0)?;
        let name = std::str::from_utf8(body.get(8..)?).ok()?;
        if name.is_empty() || name.contains(['\0', '/']) {
            return None;
        }
        Some(Rotate {
            position,
            file: name.to_string(),
        })
    }

    /// The text of a Query event (`BEGIN`, `COMMIT`, DDL…), or `None` if this is
    /// not one or its body does not parse. `post_header_len` comes from the FDE.
    pub(crate) fn query_text(&self, alg: ChecksumAlg, post_header_len: usize) -> Option<&[u8]> {
        if self.type_code() != types::QUERY || post_header_len < 13 {
            return None;
        }
        let body = self.body(alg);
        let db_len = *body.get(8)? as usize;
        let status_len = u16_at(body, 11)? as usize;
        let start = post_header_len
            .checked_add(status_len)?
            .checked_add(db_len)?
            .checked_add(1)?;
        body.get(start..)
    }

    /// A MariaDB GTID event's fields.
    pub(crate) fn mariadb_gtid(&self, alg: ChecksumAlg) -> Option<MariadbGtid> {
        if self.type_code() != types::MARIADB_GTID {
            return None;
        }
        let body = self.body(alg);
        Some(MariadbGtid {
            seq_no: u64_at(body, 0)?,
            domain_id: u32_at(body, 8)?,
            flags2: *body.get(12)?,
        })
    }
}

/// The body of a rotate event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rotate {
    pub position: u64,
    pub file: String,
}

/// The fields of a MariaDB GTID event we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MariadbGtid {
    pub seq_no: u64,
    pub domain_id: u32,
    pub flags2: u8,
}

/// A format description event (type 15), the first event of every binlog v4 file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormatDescription {
    pub binlog_version: u16,
    pub server_version: String,
    /// Non-zero only in the first binlog a server writes after it starts.
    pub create_timestamp: u32,
    pub header_length: u8,
    /// Post-header length per event type, indexed by `type_code - 1`.
    pub post_header_lengths: Vec<u8>,
    pub checksum: ChecksumAlg,
}

impl FormatDescription {
    /// Parses an FDE. The error is a short reason for a DBA.
    pub(crate) fn parse(event: &Event) -> Result<FormatDescription, String> {
        if event.type_code() != types::FORMAT_DESCRIPTION {
            return Err(format!(
                "event type {} is not a format description event",
                event.type_code()
            ));
        }
        let body = event.bytes.get(HEADER_LEN..).unwrap_or(&[]);
        // binlog_version(2) server_version(50) create_timestamp(4) header_length(1)
        if body.len() < 57 {
            return Err(format!(
                "format description event is too short ({} bytes)",
                event.bytes.len()
            ));
        }
        let binlog_version = u16::from_le_bytes([body[0], body[1]]);
        if binlog_version != 4 {
            return Err(format!(
                "binlog format version {binlog_version} (only version 4, MySQL 5.0 and later, is supported)"
            ));
        }
        let raw_version = &body[2..52];
        let version_end = raw_version.iter().position(|&b| b == 0).unwrap_or(50);
        let server_version = String::from_utf8_lossy(&raw_version[..version_end]).into_owned();
        let create_timestamp = u32_at(body, 52).unwrap_or(0);
        let header_length = body[56];
        if header_length as usize != HEADER_LEN {
            return Err(format!(
                "event header length {header_length} (only {HEADER_LEN} is supported)"
            ));
        }
        let rest = &body[57..];
        let (post_header_lengths, checksum) = if checksum_aware(&server_version) {
            // ... post-header lengths, checksum algorithm (1), checksum (4)
            let Some(split) = rest.len().checked_sub(1 + CHECKSUM_LEN) else {
                return Err("format description event is too short for its checksum".into());
            };
            let alg = match rest[split] {
                0 | 0xff => ChecksumAlg::Off,
                1 => ChecksumAlg::Crc32,
                other => return Err(format!("unknown binlog checksum algorithm {other}")),
            };
            (rest[..split].to_vec(), alg)
        } else {
            (rest.to_vec(), ChecksumAlg::Off)
        };
        Ok(FormatDescription {
            binlog_version,
            server_version,
            create_timestamp,
            header_length,
            post_header_lengths,
            checksum,
        })
    }

    /// The post-header length the server declared for `type_code`.
    pub(crate) fn post_header_len(&self, type_code: u8) -> Option<usize> {
        let index = (type_code as usize).checked_sub(1)?;
        self.post_header_lengths.get(index).map(|&n| n as usize)
    }

    /// Post-header length of Query events (13 in every v4 server).
    pub(crate) fn query_post_header_len(&self) -> usize {
        self.post_header_len(types::QUERY).unwrap_or(13)
    }
}

impl FormatDescription {
    /// Does this server begin every transaction with a GTID event (MariaDB
    /// 10.0 and later; MySQL 5.7 and later, an anonymous one without GTIDs)?
    pub(crate) fn gtid_events(&self) -> bool {
        let v = version(&self.server_version);
        if self.server_version.contains("MariaDB") {
            v >= (10, 0, 0)
        } else {
            v >= (5, 7, 6)
        }
    }
}

fn version(server_version: &str) -> (u32, u32, u32) {
    let mut parts = server_version
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// Servers that write the checksum algorithm into their FDE: MySQL 5.6.1 and
/// later, MariaDB 5.3 and later.
fn checksum_aware(server_version: &str) -> bool {
    let mut parts = server_version
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let v = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    if server_version.contains("MariaDB") {
        v >= (5, 3, 0)
    } else {
        v >= (5, 6, 1)
    }
}

/// A partial event at the end of a file: the server (or the slave's IO thread)
/// stopped in the middle of writing it. Everything before `offset` is usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Truncation {
    pub file: String,
    /// Where the partial event starts.
    pub offset: u64,
    /// How many bytes of it are there (and are dropped).
    pub dropped: u64,
}

/// Reads the events of one binlog or relay log, one at a time, from a reader.
///
/// Yields each complete event in order. A partial event at the end ends the
/// iteration without an error and is reported by [`Events::truncation`]. An
/// impossible header (length under 19 bytes, or in binlog mode an
/// `end_log_pos` that disagrees with the offset) yields one error and ends
/// the iteration. A read error is an error too.
///
/// A copy may leave out a middle part of its file ([`Events::skipping`]): the
/// reader then holds the bytes before `head_end` followed directly by those
/// from `resume_at` on, and offsets stay the file's own.
pub(crate) struct Events<R> {
    file: String,
    reader: R,
    pos: u64,
    skip: Option<(u64, u64)>,
    strict_positions: bool,
    checksum: Option<ChecksumAlg>,
    truncation: Option<Truncation>,
    done: bool,
}

impl<R> std::fmt::Debug for Events<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Events({} at {})", self.file, self.pos)
    }
}

impl<'b> Events<&'b [u8]> {
    /// Starts reading bytes held in memory after the magic; `file` names the file in errors.
    pub(crate) fn new(file: &str, bytes: &'b [u8]) -> Result<Events<&'b [u8]>, BinlogError> {
        Events::reader(file, bytes)
    }
}

impl<R: Read> Events<R> {
    /// Starts reading after the magic; `file` names the file in errors.
    pub(crate) fn reader(file: &str, mut reader: R) -> Result<Events<R>, BinlogError> {
        let mut magic = Vec::with_capacity(MAGIC.len());
        (&mut reader)
            .take(MAGIC.len() as u64)
            .read_to_end(&mut magic)
            .map_err(|e| io_error(file, 0, &e))?;
        if magic != MAGIC {
            return Err(BinlogError::BadMagic {
                file: file.to_string(),
                len: magic.len() as u64,
            });
        }
        Ok(Events {
            file: file.to_string(),
            reader,
            pos: MAGIC.len() as u64,
            skip: None,
            strict_positions: false,
            checksum: None,
            truncation: None,
            done: false,
        })
    }

    /// The reader holds the file's bytes up to `head_end` (an event
    /// boundary), then those from `resume_at` on.
    pub(crate) fn skipping(mut self, skip: Option<(u64, u64)>) -> Self {
        self.skip = skip.filter(|(head_end, resume_at)| resume_at > head_end);
        self
    }

    /// Binlog mode: every event's `end_log_pos` must equal its offset plus its
    /// length (true in a server's own binlog, not in a relay log). Catches
    /// garbage early instead of mistaking it for a truncated tail.
    pub(crate) fn strict_positions(mut self) -> Self {
        self.strict_positions = true;
        self
    }

    /// The partial event at the end, once iteration reached it.
    pub(crate) fn truncation(&self) -> Option<&Truncation> {
        self.truncation.as_ref()
    }

    /// The checksum algorithm of the last format description event read, if any.
    #[cfg(test)]
    pub(crate) fn checksum(&self) -> Option<ChecksumAlg> {
        self.checksum
    }

    /// Offset of the next event (the end of the complete events once done).
    pub(crate) fn offset(&self) -> u64 {
        self.pos
    }

    fn fail(&mut self, offset: u64, reason: String) -> Option<Result<Event, BinlogError>> {
        self.done = true;
        Some(Err(BinlogError::Corrupt {
            file: self.file.clone(),
            offset,
            reason,
        }))
    }

    /// Reads up to `n` bytes into `buf`; fewer only at the end of the input.
    fn fill(&mut self, buf: &mut Vec<u8>, n: u64) -> Result<(), BinlogError> {
        let want = n.saturating_sub(buf.len() as u64);
        (&mut self.reader)
            .take(want)
            .read_to_end(buf)
            .map(|_| ())
            .map_err(|e| io_error(&self.file, self.pos, &e))
    }
}

impl<R: Read> Iterator for Events<R> {
    type Item = Result<Event, BinlogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some((head_end, resume_at)) = self.skip {
            if self.pos == head_end {
                self.pos = resume_at;
                self.skip = None;
            }
        }
        let offset = self.pos;
        let mut bytes = Vec::with_capacity(HEADER_LEN);
        if let Err(e) = self.fill(&mut bytes, HEADER_LEN as u64) {
            self.done = true;
            return Some(Err(e));
        }
        if bytes.is_empty() {
            self.done = true;
            return None;
        }
        let Some(header) = EventHeader::parse(&bytes) else {
            self.done = true;
            self.truncation = Some(Truncation {
                file: self.file.clone(),
                offset,
                dropped: bytes.len() as u64,
            });
            return None;
        };
        let len = header.event_length as usize;
        if len < HEADER_LEN {
            return self.fail(
                offset,
                format!("event length {len} is shorter than the {HEADER_LEN}-byte event header"),
            );
        }
        // end_log_pos is 32 bits: compare modulo 2^32 (files over 4 GiB wrap).
        // 0 is "not filled in": MariaDB 11.4 and later write it in the events
        // inside a transaction (`binlog_legacy_event_pos=OFF`, the default);
        // their position is their offset all the same.
        let expected_end = (offset as u32).wrapping_add(header.event_length);
        if self.strict_positions && header.log_pos != expected_end && header.log_pos != 0 {
            return self.fail(
                offset,
                format!(
                    "event of type {} and length {len} claims to end at {}, not at {}",
                    header.type_code,
                    header.log_pos,
                    offset + len as u64
                ),
            );
        }
        if let Some((head_end, _)) = self.skip {
            if offset < head_end && offset + len as u64 > head_end {
                return self.fail(
                    offset,
                    format!("the event crosses the end of the copied head ({head_end})"),
                );
            }
        }
        if let Err(e) = self.fill(&mut bytes, len as u64) {
            self.done = true;
            return Some(Err(e));
        }
        if len > bytes.len() {
            self.done = true;
            self.truncation = Some(Truncation {
                file: self.file.clone(),
                offset,
                dropped: bytes.len() as u64,
            });
            return None;
        }
        let event = Event {
            offset,
            header,
            bytes,
        };
        if header.type_code == types::FORMAT_DESCRIPTION {
            if let Ok(fde) = FormatDescription::parse(&event) {
                self.checksum = Some(fde.checksum);
            }
        }
        self.pos += len as u64;
        Some(Ok(event))
    }
}

/// A read error, naming the file and where.
pub(crate) fn io_error(file: &str, offset: u64, e: &std::io::Error) -> BinlogError {
    BinlogError::Io {
        file: file.to_string(),
        offset,
        reason: e.to_string(),
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (ISO-HDLC, as zlib's `crc32`), the binlog event checksum.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(data);
    crc.finish()
}

/// CRC-32 computed piece by piece.
struct Crc32(u32);

impl Crc32 {
    fn new() -> Crc32 {
        Crc32(0xFFFF_FFFF)
    }

    fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = CRC_TABLE[((self.0 ^ b as u32) & 0xff) as usize] ^ (self.0 >> 8);
        }
    }

    fn finish(&self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
pub(crate) mod build {
    //! Hand-made events for unit tests.
    use super::*;

    /// An event with the given header fields and body; appends a CRC32 when `crc`.
    pub(crate) fn event(
        type_code: u8,
        server_id: u32,
        log_pos: u32,
        flags: u16,
        body: &[u8],
        crc: bool,
    ) -> Vec<u8> {
        let len = HEADER_LEN + body.len() + if crc { CHECKSUM_LEN } else { 0 };
        let mut v = Vec::with_capacity(len);
        v.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        v.push(type_code);
        v.extend_from_slice(&server_id.to_le_bytes());
        v.extend_from_slice(&(len as u32).to_le_bytes());
        v.extend_from_slice(&log_pos.to_le_bytes());
        v.extend_from_slice(&flags.to_le_bytes());
        v.extend_from_slice(body);
        if crc {
            // As the server does: an FDE's CRC32 is computed with the in-use flag clear.
            let mut clear = v.clone();
            if type_code == types::FORMAT_DESCRIPTION {
                clear[17] &= !(flags::BINLOG_IN_USE as u8);
            }
            let sum = crc32(&clear);
            v.extend_from_slice(&sum.to_le_bytes());
        }
        v
    }

    /// A MariaDB 10.11 format description event.
    pub(crate) fn fde(
        server_id: u32,
        log_pos: u32,
        flags: u16,
        created: u32,
        crc: bool,
    ) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&4u16.to_le_bytes());
        let mut version = [0u8; 50];
        version[..15].copy_from_slice(b"10.11.9-MariaDB");
        body.extend_from_slice(&version);
        body.extend_from_slice(&created.to_le_bytes());
        body.push(19);
        let mut post = vec![0u8; 171];
        post[types::QUERY as usize - 1] = 13;
        post[types::ROTATE as usize - 1] = 8;
        body.extend_from_slice(&post);
        body.push(if crc { 1 } else { 0 });
        if crc {
            event(
                types::FORMAT_DESCRIPTION,
                server_id,
                log_pos,
                flags,
                &body,
                true,
            )
        } else {
            body.extend_from_slice(&[0; 4]);
            event(
                types::FORMAT_DESCRIPTION,
                server_id,
                log_pos,
                flags,
                &body,
                false,
            )
        }
    }

    pub(crate) fn rotate(
        server_id: u32,
        log_pos: u32,
        flags: u16,
        file: &str,
        position: u64,
        crc: bool,
    ) -> Vec<u8> {
        let mut body = position.to_le_bytes().to_vec();
        body.extend_from_slice(file.as_bytes());
        event(types::ROTATE, server_id, log_pos, flags, &body, crc)
    }

    pub(crate) fn query(server_id: u32, log_pos: u32, text: &str, crc: bool) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&7u32.to_le_bytes()); // thread id
        body.extend_from_slice(&0u32.to_le_bytes()); // exec time
        body.push(1); // db length
        body.extend_from_slice(&0u16.to_le_bytes()); // error code
        body.extend_from_slice(&0u16.to_le_bytes()); // status vars length
        body.extend_from_slice(b"t\0");
        body.extend_from_slice(text.as_bytes());
        event(types::QUERY, server_id, log_pos, 0, &body, crc)
    }

    pub(crate) fn gtid(server_id: u32, log_pos: u32, seq: u64, flags2: u8, crc: bool) -> Vec<u8> {
        let mut body = seq.to_le_bytes().to_vec();
        body.extend_from_slice(&0u32.to_le_bytes());
        body.push(flags2);
        body.extend_from_slice(&[0; 6]);
        event(types::MARIADB_GTID, server_id, log_pos, 0x08, &body, crc)
    }

    pub(crate) fn simple(
        type_code: u8,
        server_id: u32,
        log_pos: u32,
        size: usize,
        crc: bool,
    ) -> Vec<u8> {
        event(type_code, server_id, log_pos, 0, &vec![0xab; size], crc)
    }
}

#[cfg(test)]
mod tests {
    use super::build;
    use super::*;

    #[test]
    fn crc32_known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn header_round_trip() {
        let ev = build::event(
            types::XID,
            7,
            1234,
            flags::ARTIFICIAL,
            &[1, 2, 3, 4, 5, 6, 7, 8],
            true,
        );
        let h = EventHeader::parse(&ev).expect("header");
        assert_eq!(h.type_code, types::XID);
        assert_eq!(h.server_id, 7);
        assert_eq!(h.event_length as usize, ev.len());
        assert_eq!(h.log_pos, 1234);
        assert!(h.has_flag(flags::ARTIFICIAL));
        assert!(EventHeader::parse(&ev[..18]).is_none());
    }

    fn file(events: &[Vec<u8>]) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        for e in events {
            v.extend_from_slice(e);
        }
        v
    }

    #[test]
    fn iterates_and_reports_a_truncated_tail() {
        let fde = build::fde(1, 4 + 256, 0, 0, true);
        let q = build::query(1, 0, "BEGIN", true);
        let mut bytes = file(&[fde.clone(), q.clone()]);
        bytes.extend_from_slice(&q[..10]);
        let mut events = Events::new("mysql-bin.000001", &bytes).expect("magic");
        let all: Vec<_> = events.by_ref().collect::<Result<_, _>>().expect("events");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].offset, 4);
        assert_eq!(all[1].offset, 4 + fde.len() as u64);
        assert_eq!(events.checksum(), Some(ChecksumAlg::Crc32));
        let t = events.truncation().expect("truncated");
        assert_eq!(t.offset, all[1].end());
        assert_eq!(t.dropped, 10);
        assert_eq!(events.offset(), all[1].end());
    }

    #[test]
    fn bad_magic_and_bad_lengths() {
        let err = Events::new("x", b"\xfebi").expect_err("short");
        assert!(err.to_string().contains("magic"), "{err}");
        let err = Events::new("x", b"GIF89a").expect_err("not a binlog");
        assert!(err.to_string().contains("x"), "{err}");
        let mut bad = build::simple(types::XID, 1, 0, 8, false);
        bad[9..13].copy_from_slice(&5u32.to_le_bytes());
        let bytes = file(&[bad]);
        let mut events = Events::new("x", &bytes).expect("magic");
        let err = events.next().expect("item").expect_err("corrupt");
        assert!(
            err.to_string().contains("shorter than the 19-byte"),
            "{err}"
        );
        assert!(events.next().is_none());
    }

    #[test]
    fn strict_positions_catch_garbage_headers() {
        let good = build::simple(types::XID, 1, 4 + 27, 8, false);
        let bytes = file(std::slice::from_ref(&good));
        let n = Events::new("b", &bytes)
            .expect("magic")
            .strict_positions()
            .count();
        assert_eq!(n, 1);
        let wrong = build::simple(types::XID, 1, 999, 8, false);
        let bytes = file(&[wrong]);
        let err = Events::new("b", &bytes)
            .expect("magic")
            .strict_positions()
            .next()
            .expect("item")
            .expect_err("bad end_log_pos");
        assert!(err.to_string().contains("claims to end at 999"), "{err}");
        // A huge length with a plausible end_log_pos is a truncation, with a wrong one corruption.
        let mut huge = build::simple(types::XID, 1, 0, 8, false);
        huge[9..13].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        huge[13..17].copy_from_slice(&4u32.wrapping_add(0x7fff_ffff).to_le_bytes());
        let bytes = file(&[huge.clone()]);
        let mut events = Events::new("b", &bytes).expect("magic").strict_positions();
        assert!(events.next().is_none());
        assert_eq!(
            events.truncation().map(|t| t.dropped),
            Some(huge.len() as u64)
        );
    }

    #[test]
    fn format_description_fields() {
        for crc in [true, false] {
            let bytes = build::fde(3, 256, flags::BINLOG_IN_USE, 1_700_000_000, crc);
            let ev = Event {
                offset: 4,
                header: EventHeader::parse(&bytes).expect("header"),
                bytes: bytes.clone(),
            };
            let fde = FormatDescription::parse(&ev).expect("fde");
            assert_eq!(fde.binlog_version, 4);
            assert_eq!(fde.server_version, "10.11.9-MariaDB");
            assert_eq!(fde.create_timestamp, 1_700_000_000);
            assert_eq!(fde.query_post_header_len(), 13);
            assert_eq!(fde.post_header_len(types::ROTATE), Some(8));
            let want = if crc {
                ChecksumAlg::Crc32
            } else {
                ChecksumAlg::Off
            };
            assert_eq!(fde.checksum, want);
            assert_eq!(ev.has_valid_crc(), crc);
        }
        // The server sets the in-use flag without updating the CRC32.
        let mut bytes = build::fde(3, 256, 0, 0, true);
        bytes[17] |= flags::BINLOG_IN_USE as u8;
        let ev = Event {
            offset: 4,
            header: EventHeader::parse(&bytes).expect("header"),
            bytes: bytes.clone(),
        };
        assert!(ev.has_valid_crc());
        assert!(checksum_aware("5.6.1-log"));
        assert!(!checksum_aware("5.5.62-log"));
        assert!(checksum_aware("5.5.68-MariaDB"));
        assert!(checksum_aware("8.0.36"));
    }

    #[test]
    fn rotate_with_and_without_crc() {
        for crc in [true, false] {
            let bytes = build::rotate(1, 0, flags::ARTIFICIAL, "mysql-bin.000042", 4, crc);
            let ev = Event {
                offset: 4,
                header: EventHeader::parse(&bytes).expect("header"),
                bytes: bytes.clone(),
            };
            let r = ev.rotate().expect("rotate");
            assert_eq!(r.file, "mysql-bin.000042");
            assert_eq!(r.position, 4);
        }
    }

    #[test]
    fn query_text_and_gtid() {
        let bytes = build::query(1, 100, "COMMIT", true);
        let ev = Event {
            offset: 4,
            header: EventHeader::parse(&bytes).expect("header"),
            bytes: bytes.clone(),
        };
        assert_eq!(ev.query_text(ChecksumAlg::Crc32, 13), Some(&b"COMMIT"[..]));
        assert_eq!(ev.query_text(ChecksumAlg::Crc32, 200), None);
        let bytes = build::gtid(1, 100, 77, gtid_flags::STANDALONE, false);
        let ev = Event {
            offset: 4,
            header: EventHeader::parse(&bytes).expect("header"),
            bytes: bytes.clone(),
        };
        let g = ev.mariadb_gtid(ChecksumAlg::Off).expect("gtid");
        assert_eq!(g.seq_no, 77);
        assert_eq!(g.flags2, gtid_flags::STANDALONE);
    }
}
