//! GTID positions: MariaDB `domain-server-seq` lists and MySQL `uuid:intervals` sets.
//!
//! MariaDB keeps one GTID per replication domain; "has everything another
//! position has" is a per-domain sequence comparison. MySQL keeps a set of
//! transaction numbers per source UUID; comparisons are set operations on
//! merged inclusive intervals.

#[cfg(test)]
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

/// Why a GTID text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum GtidError {
    #[error("MariaDB GTID {0:?} is not of the form domain-server_id-sequence")]
    MariaShape(String),
    #[error("MySQL GTID set element {0:?} is not of the form uuid:interval[:interval...]")]
    SetShape(String),
    #[error("{0:?} is not a server UUID (8-4-4-4-12 hex digits)")]
    Uuid(String),
    #[error("{0:?} is not a GTID tag (a letter or _, then up to 31 letters, digits or _)")]
    Tag(String),
    #[error("{0:?} is not a GTID interval (n or n-m with 1 <= n <= m)")]
    Interval(String),
}

/// One MariaDB GTID, `domain-server_id-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct MariaGtid {
    pub domain: u32,
    pub server_id: u32,
    pub seq: u64,
}

/// A MariaDB GTID position (`gtid_slave_pos` etc.): at most one GTID per domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MariaGtidPos {
    pub domains: BTreeMap<u32, MariaGtid>,
}

/// A MySQL GTID set: source UUID (lower case) → sorted, merged, inclusive intervals.
///
/// A tagged GTID (MySQL 8.3+, `uuid:tag:1-5`) is keyed `uuid:tag`, so tagged
/// and untagged transactions of one source stay distinct sets, as in MySQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GtidSet {
    pub sets: BTreeMap<String, Vec<(u64, u64)>>,
}

impl MariaGtid {
    /// Parses `domain-server_id-seq`.
    pub(crate) fn parse(text: &str) -> Result<Self, GtidError> {
        let shape = || GtidError::MariaShape(text.to_string());
        let mut parts = text.trim().split('-');
        let mut next = || parts.next().ok_or_else(shape);
        let domain = next()?.parse().map_err(|_| shape())?;
        let server_id = next()?.parse().map_err(|_| shape())?;
        let seq = next()?.parse().map_err(|_| shape())?;
        if parts.next().is_some() {
            return Err(shape());
        }
        Ok(MariaGtid {
            domain,
            server_id,
            seq,
        })
    }
}

impl fmt::Display for MariaGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server_id, self.seq)
    }
}

impl MariaGtidPos {
    /// Parses a comma-separated list such as `0-1-100,1-2-5` (spaces and
    /// newlines allowed; the empty string is the empty position).
    ///
    /// A domain listed twice (as in `gtid_binlog_state`, one entry per
    /// server id) keeps its highest sequence: sequences grow within a domain,
    /// so that entry is the domain's position.
    pub(crate) fn parse(text: &str) -> Result<Self, GtidError> {
        let mut pos = MariaGtidPos::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            pos.insert(MariaGtid::parse(item)?);
        }
        Ok(pos)
    }

    /// Adds a GTID, keeping the higher sequence when the domain is present.
    pub(crate) fn insert(&mut self, gtid: MariaGtid) {
        let keep_old = self
            .domains
            .get(&gtid.domain)
            .is_some_and(|old| old.seq >= gtid.seq);
        if !keep_old {
            self.domains.insert(gtid.domain, gtid);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The sequence reached in `domain`, if the domain is present.
    pub(crate) fn seq(&self, domain: u32) -> Option<u64> {
        self.domains.get(&domain).map(|g| g.seq)
    }

    /// True when `self` has everything `other` has: every domain of `other`
    /// is present here with a sequence at least as high.
    pub(crate) fn contains(&self, other: &MariaGtidPos) -> bool {
        other
            .domains
            .values()
            .all(|g| self.seq(g.domain).is_some_and(|s| s >= g.seq))
    }

    /// True when `self` contains `other` and has something more (a higher
    /// sequence in some domain, or a domain `other` lacks).
    #[cfg(test)]
    pub(crate) fn is_ahead_of(&self, other: &MariaGtidPos) -> bool {
        self.contains(other) && !other.contains(self)
    }

    /// The partial order of positions: `None` when each has something the
    /// other lacks (diverged, e.g. errant transactions in different domains).
    #[cfg(test)]
    pub(crate) fn compare(&self, other: &MariaGtidPos) -> Option<Ordering> {
        match (self.contains(other), other.contains(self)) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Greater),
            (false, true) => Some(Ordering::Less),
            (false, false) => None,
        }
    }
}

/// MariaDB `gtid_binlog_state`: the last GTID of every (domain, server_id)
/// pair the binlog holds. Unlike a position (one GTID per domain) it keeps
/// the server ids, so a transaction a slave wrote itself (its own server id)
/// is told from one it replicated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MariaGtidState {
    /// (domain, server_id) → the highest sequence seen for that pair.
    pub entries: BTreeMap<(u32, u32), u64>,
}

impl MariaGtidState {
    /// Parses `0-1-100,0-2-7,1-3-5` (the empty string is the empty state).
    pub(crate) fn parse(text: &str) -> Result<Self, GtidError> {
        let mut state = MariaGtidState::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            state.insert(MariaGtid::parse(item)?);
        }
        Ok(state)
    }

    /// Adds a GTID, keeping the higher sequence for its (domain, server_id).
    pub(crate) fn insert(&mut self, gtid: MariaGtid) {
        let seq = self
            .entries
            .entry((gtid.domain, gtid.server_id))
            .or_insert(0);
        *seq = (*seq).max(gtid.seq);
    }

    /// Every entry of a position (one GTID per domain) added.
    pub(crate) fn extend_pos(&mut self, pos: &MariaGtidPos) {
        for g in pos.domains.values() {
            self.insert(*g);
        }
    }

    /// The highest sequence of `server_id` in `domain`, if present.
    pub(crate) fn seq(&self, domain: u32, server_id: u32) -> Option<u64> {
        self.entries.get(&(domain, server_id)).copied()
    }

    /// The entries as GTIDs, by domain then server id.
    pub(crate) fn gtids(&self) -> impl Iterator<Item = MariaGtid> + '_ {
        self.entries
            .iter()
            .map(|(&(domain, server_id), &seq)| MariaGtid {
                domain,
                server_id,
                seq,
            })
    }
}

impl fmt::Display for MariaGtidState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.gtids().map(|g| g.to_string()).collect();
        f.write_str(&list.join(","))
    }
}

impl fmt::Display for MariaGtidPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for gtid in self.domains.values() {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{gtid}")?;
        }
        Ok(())
    }
}

impl GtidSet {
    /// Parses MySQL's text form: `uuid:1-5:7,uuid2:1-3`, with the spaces and
    /// newlines MySQL puts after commas, upper- or lower-case UUIDs, and
    /// tagged GTIDs (`uuid:1-5:tag:1-3`). Overlapping and adjacent intervals
    /// are merged. The empty string is the empty set.
    pub(crate) fn parse(text: &str) -> Result<Self, GtidError> {
        let mut set = GtidSet::default();
        for element in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            set.parse_element(element)?;
        }
        Ok(set)
    }

    /// One `uuid(:tag|:interval)*` element.
    fn parse_element(&mut self, element: &str) -> Result<(), GtidError> {
        let mut parts = element.split(':').map(str::trim);
        let uuid = normalize_uuid(parts.next().unwrap_or_default())?;
        let mut key = uuid.clone();
        let mut saw_interval = false;
        for part in parts {
            if part.starts_with(|c: char| c.is_ascii_digit()) {
                let (start, end) = parse_interval(part)?;
                self.add_interval(&key, start, end);
                saw_interval = true;
            } else {
                key = format!("{uuid}:{}", normalize_tag(part)?);
            }
        }
        if saw_interval {
            Ok(())
        } else {
            Err(GtidError::SetShape(element.to_string()))
        }
    }

    /// Adds the inclusive interval `start..=end` for `key` (a lower-case
    /// UUID, or `uuid:tag`), merging with what is there.
    pub(crate) fn add_interval(&mut self, key: &str, start: u64, end: u64) {
        if start > end {
            return;
        }
        let intervals = self.sets.entry(key.to_string()).or_default();
        intervals.push((start, end));
        normalize(intervals);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Number of transactions in the set (saturating).
    pub(crate) fn count(&self) -> u64 {
        self.sets
            .values()
            .flatten()
            .fold(0u64, |n, &(s, e)| n.saturating_add(e - s + 1))
    }

    /// True when transaction `n` of `key` is in the set.
    pub(crate) fn contains_gtid(&self, key: &str, n: u64) -> bool {
        self.sets
            .get(key)
            .is_some_and(|iv| iv.iter().any(|&(s, e)| s <= n && n <= e))
    }

    /// Everything in either set.
    pub(crate) fn union(&self, other: &GtidSet) -> GtidSet {
        let mut out = self.clone();
        for (key, intervals) in &other.sets {
            let mine = out.sets.entry(key.clone()).or_default();
            mine.extend_from_slice(intervals);
            normalize(mine);
        }
        out
    }

    /// True when every transaction of `self` is also in `other`.
    pub(crate) fn is_subset(&self, other: &GtidSet) -> bool {
        self.difference(other).is_empty()
    }

    /// `self` minus `other` (MySQL `GTID_SUBTRACT`): what `self` has that
    /// `other` lacks, e.g. a replica's errant transactions.
    pub(crate) fn difference(&self, other: &GtidSet) -> GtidSet {
        let mut out = GtidSet::default();
        for (key, mine) in &self.sets {
            let left = match other.sets.get(key) {
                Some(theirs) => subtract(mine, theirs),
                None => mine.clone(),
            };
            if !left.is_empty() {
                out.sets.insert(key.clone(), left);
            }
        }
        out
    }
}

impl fmt::Display for GtidSet {
    /// MySQL's compact form without newlines: `uuid:1-5:7,uuid2:1-3`. Tagged
    /// sets are printed as their own `uuid:tag:...` elements, which MySQL
    /// accepts and merges.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (key, intervals) in &self.sets {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(key)?;
            for &(s, e) in intervals {
                if s == e {
                    write!(f, ":{s}")?;
                } else {
                    write!(f, ":{s}-{e}")?;
                }
            }
        }
        Ok(())
    }
}

/// Lower-cases a UUID after checking its 8-4-4-4-12 hex shape.
fn normalize_uuid(text: &str) -> Result<String, GtidError> {
    let groups: Vec<&str> = text.split('-').collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = groups
        .iter()
        .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    if lens == [8, 4, 4, 4, 12] && hex {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(GtidError::Uuid(text.to_string()))
    }
}

/// Lower-cases a GTID tag after checking MySQL's tag shape.
fn normalize_tag(text: &str) -> Result<String, GtidError> {
    let bytes = text.as_bytes();
    let first_ok = bytes
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
    let rest_ok = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if first_ok && rest_ok && bytes.len() <= 32 {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(GtidError::Tag(text.to_string()))
    }
}

/// `n` or `n-m`, with 1 <= n <= m (MySQL transaction numbers start at 1).
fn parse_interval(text: &str) -> Result<(u64, u64), GtidError> {
    let bad = || GtidError::Interval(text.to_string());
    let (start, end) = match text.split_once('-') {
        Some((s, e)) => (s.trim(), e.trim()),
        None => (text, text),
    };
    let start: u64 = start.parse().map_err(|_| bad())?;
    let end: u64 = end.parse().map_err(|_| bad())?;
    if start == 0 || end < start {
        return Err(bad());
    }
    Ok((start, end))
}

/// Sorts and merges overlapping or adjacent intervals in place
/// (`1-3` and `4-5` become `1-5`).
fn normalize(intervals: &mut Vec<(u64, u64)>) {
    intervals.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
    for &(s, e) in intervals.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *intervals = merged;
}

/// Interval subtraction of two normalized lists.
fn subtract(mine: &[(u64, u64)], theirs: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(start, end) in mine {
        // What is left of [start, end]: walk their intervals that overlap it.
        let mut cursor = start;
        let mut exhausted = false;
        for &(ts, te) in theirs {
            if te < cursor || ts > end {
                continue;
            }
            if ts > cursor {
                out.push((cursor, ts - 1));
            }
            if te >= end {
                exhausted = true;
                break;
            }
            cursor = te + 1;
        }
        if !exhausted {
            out.push((cursor, end));
        }
    }
    out
}

#[cfg(test)]
mod tests;
