//! Dropping from a diff file the transactions a server already has, by GTID,
//! so that applying the same diff (or the saved binlog tail) a second time
//! applies nothing twice.
//!
//! A diff (as [`super::binlog_tail_into`] and [`super::cut_diff_into`] build it) is the
//! binlog magic, one format description event, then whole transactions. With
//! GTIDs every transaction starts with its GTID event, so a transaction runs
//! from one GTID event to the next: the filter keeps or drops each such run
//! whole. Events before the first GTID event, and transactions without a GTID
//! (MySQL anonymous GTID events), are always kept.

use std::io::Read;

use super::event::{types, ChecksumAlg, Event, Events, FormatDescription, MAGIC};
use super::{write_error, BinlogError, Out};
use crate::topology::gtid::{MariaGtid, MariaGtidPos};

/// A transaction's GTID as its GTID event gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxGtid {
    /// MariaDB: domain, server id (from the event header), sequence number.
    Maria(MariaGtid),
    /// MySQL: source UUID (lower case, as `gtid_executed` prints it) and number.
    MySql { uuid: String, gno: u64 },
}

impl std::fmt::Display for TxGtid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxGtid::Maria(g) => write!(f, "{g}"),
            TxGtid::MySql { uuid, gno } => write!(f, "{uuid}:{gno}"),
        }
    }
}

/// The diff without what the target has, and what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filtered {
    /// Tests only: magic, the format description event, then the
    /// transactions kept (when filtered into memory).
    #[cfg(test)]
    pub bytes: Vec<u8>,
    /// Transactions kept (with a GTID the target lacks).
    pub kept: usize,
    /// Transactions dropped: the target has their GTID.
    pub skipped: usize,
    /// Transactions (or leading events) without a GTID, kept as they are.
    pub without_gtid: usize,
    /// The first and last GTID dropped, for the log.
    pub skipped_range: Option<(TxGtid, TxGtid)>,
    /// Per domain, the last MariaDB GTID kept.
    pub maria_last: MariaGtidPos,
}

/// Tests: [`drop_applied_into`] from and into memory.
#[cfg(test)]
pub(crate) fn drop_applied(
    diff: &[u8],
    has: impl Fn(&TxGtid) -> bool,
) -> Result<Filtered, BinlogError> {
    let mut bytes = Vec::new();
    let mut f = drop_applied_into(diff, &mut bytes, has)?;
    f.bytes = bytes;
    Ok(f)
}

/// Copies `diff` (read one event at a time) to `kept`, without every
/// transaction whose GTID `has` says the target already has.
pub(crate) fn drop_applied_into(
    diff: impl Read,
    kept: &mut dyn Out,
    has: impl Fn(&TxGtid) -> bool,
) -> Result<Filtered, BinlogError> {
    let name = "the diff file";
    let mut events = Events::reader(name, diff)?;
    kept.put(&MAGIC).map_err(|e| write_error(&e))?;
    let mut out = Filtered {
        #[cfg(test)]
        bytes: Vec::new(),
        kept: 0,
        skipped: 0,
        without_gtid: 0,
        skipped_range: None,
        maria_last: MariaGtidPos::default(),
    };
    let mut alg: Option<ChecksumAlg> = None;
    // Keeping the current transaction? `None` before any GTID event.
    let mut keeping: Option<bool> = None;
    for event in events.by_ref() {
        let event = event?;
        let Some(checksum) = alg else {
            let fde = FormatDescription::parse(&event).map_err(|reason| BinlogError::Corrupt {
                file: name.to_string(),
                offset: event.offset,
                reason: format!("the first event is not a format description event: {reason}"),
            })?;
            alg = Some(fde.checksum);
            kept.put(&event.bytes).map_err(|e| write_error(&e))?;
            continue;
        };
        match gtid_of(&event, checksum) {
            Some(Ok(gtid)) => {
                let skip = has(&gtid);
                keeping = Some(!skip);
                if skip {
                    out.skipped += 1;
                    out.skipped_range = Some(match out.skipped_range.take() {
                        None => (gtid.clone(), gtid),
                        Some((first, _)) => (first, gtid),
                    });
                } else {
                    out.kept += 1;
                    if let TxGtid::Maria(g) = gtid {
                        out.maria_last.insert(g);
                    }
                }
            }
            Some(Err(reason)) => {
                return Err(BinlogError::Corrupt {
                    file: name.to_string(),
                    offset: event.offset,
                    reason,
                })
            }
            // An anonymous transaction, or events before any GTID event: kept.
            None if event.type_code() == types::ANONYMOUS_GTID || keeping.is_none() => {
                out.without_gtid += 1;
                keeping = Some(true);
            }
            None => {}
        }
        if keeping != Some(false) {
            kept.put(&event.bytes).map_err(|e| write_error(&e))?;
        }
    }
    if let Some(t) = events.truncation() {
        return Err(BinlogError::Corrupt {
            file: name.to_string(),
            offset: t.offset,
            reason: "the file ends with a partial event".into(),
        });
    }
    Ok(out)
}

/// The GTID a GTID event carries; `None` for any other event.
fn gtid_of(event: &Event, alg: ChecksumAlg) -> Option<Result<TxGtid, String>> {
    match event.type_code() {
        types::MARIADB_GTID => Some(
            event
                .mariadb_gtid(alg)
                .map(|g| {
                    TxGtid::Maria(MariaGtid {
                        domain: g.domain_id,
                        server_id: event.header.server_id,
                        seq: g.seq_no,
                    })
                })
                .ok_or_else(|| "a MariaDB GTID event too short to read".to_owned()),
        ),
        types::GTID => {
            // flags (1), source UUID (16), transaction number (8, little endian).
            let body = event.body(alg);
            let (Some(sid), Some(gno)) = (body.get(1..17), body.get(17..25)) else {
                return Some(Err("a MySQL GTID event too short to read".to_owned()));
            };
            let mut n = [0u8; 8];
            n.copy_from_slice(gno);
            Some(Ok(TxGtid::MySql {
                uuid: uuid_text(sid),
                gno: u64::from_le_bytes(n),
            }))
        }
        _ => None,
    }
}

/// `3e11fa47-71ca-11e1-9e33-c80aa9429562` from 16 bytes.
fn uuid_text(b: &[u8]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::build;

    /// A diff of MySQL transactions: FDE, then (GTID, BEGIN query, XID) per item;
    /// `None` is an anonymous transaction.
    fn mysql_diff(items: &[Option<u64>]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(build::fde(1, 0, 0, 0, true));
        let sid: Vec<u8> = (0u8..16).collect();
        for item in items {
            let (code, gno) = match item {
                Some(n) => (types::GTID, *n),
                None => (types::ANONYMOUS_GTID, 0),
            };
            let mut body = vec![0u8];
            body.extend(&sid);
            body.extend(gno.to_le_bytes());
            body.extend([0u8; 17]);
            bytes.extend(build::event(code, 1, 0, 0, &body, true));
            bytes.extend(build::query(1, 0, "BEGIN", true));
            bytes.extend(build::simple(types::XID, 1, 0, 8, true));
        }
        bytes
    }

    fn gnos(bytes: &[u8]) -> Vec<u64> {
        Events::new("x", bytes)
            .expect("magic")
            .filter_map(|e| {
                let e = e.expect("event");
                match gtid_of(&e, ChecksumAlg::Crc32) {
                    Some(Ok(TxGtid::MySql { gno, .. })) => Some(gno),
                    _ => None,
                }
            })
            .collect()
    }

    #[test]
    fn mysql_transactions_in_the_target_set_are_dropped_whole() {
        let uuid = "00010203-0405-0607-0809-0a0b0c0d0e0f";
        let diff = mysql_diff(&[Some(5), Some(6), None, Some(7), Some(8)]);
        let cases: [(&str, u64, &[u64], usize); 3] = [
            ("target has nothing", 0, &[5, 6, 7, 8], 0),
            ("target has up to 6", 6, &[7, 8], 2),
            ("target has everything", 8, &[], 4),
        ];
        for (name, upto, want, skipped) in cases {
            let f = drop_applied(&diff, |g| match g {
                TxGtid::MySql { uuid: u, gno } => u == uuid && *gno <= upto,
                TxGtid::Maria(_) => false,
            })
            .expect(name);
            assert_eq!(gnos(&f.bytes), want, "{name}");
            assert_eq!(f.skipped, skipped, "{name}");
            assert_eq!(f.kept, want.len(), "{name}");
            assert_eq!(f.without_gtid, 1, "{name}: the anonymous one is kept");
            // Whole transactions: 3 events each, plus the FDE.
            let events = Events::new("x", &f.bytes).expect("magic").count();
            assert_eq!(events, 1 + 3 * (want.len() + 1), "{name}");
        }
    }

    #[test]
    fn a_file_that_is_not_a_diff_is_an_error_not_a_panic() {
        assert!(drop_applied(b"nope", |_| false).is_err());
        let mut diff = mysql_diff(&[Some(1)]);
        diff.truncate(diff.len() - 3);
        assert!(drop_applied(&diff, |_| false).is_err());
        assert_eq!(
            uuid_text(&[0xab; 16]),
            "abababab-abab-abab-abab-abababababab"
        );
    }
}
