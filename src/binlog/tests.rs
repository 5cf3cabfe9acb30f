//! Tests on real relay logs and binlogs from MariaDB 10.11, made by
//! `tests/fixtures/binlog/make-fixtures.sh` (see its header for the scenario):
//! a master (server id 1) and slaves s1..s4; the fixtures hold s1's relay logs
//! (the latest slave), the master's binlogs and the positions every slave
//! reported (`positions.json`).
//!
//! The oracles do not come from this module: the servers' own positions and
//! GTIDs (`gtid_slave_pos` of a slave is the last transaction it applied, and
//! the master's GTID sequence numbers are consecutive), and the master's
//! binlog itself, whose event ends are plain file offsets.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::diff::DropReason;
use super::event::{flags, types, ChecksumAlg, Event, Events, FormatDescription, MAGIC};
use super::relay::RelayCut;
use super::*;

const MASTER_ID: u32 = 1;
const S1_ID: u32 = 2;

#[derive(Debug, Deserialize)]
struct Positions {
    master: MasterPositions,
    slaves: HashMap<String, SlavePositions>,
}

#[derive(Debug, Deserialize)]
struct MasterPositions {
    file: String,
    pos: u64,
    gtid_binlog_pos: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct SlavePositions {
    master_log_file: String,
    read_master_log_pos: u64,
    relay_log_file: String,
    relay_log_pos: u64,
    relay_master_log_file: String,
    exec_master_log_pos: u64,
    gtid_slave_pos: String,
    gtid_io_pos: String,
}

impl SlavePositions {
    fn exec(&self) -> BinlogPos {
        BinlogPos::new(&self.relay_master_log_file, self.exec_master_log_pos)
    }

    fn read(&self) -> BinlogPos {
        BinlogPos::new(&self.master_log_file, self.read_master_log_pos)
    }

    /// Sequence number of the last transaction the slave applied.
    fn applied_seq(&self) -> u64 {
        gtid_seq(&self.gtid_slave_pos)
    }
}

/// `0-1-99` → 99 (one domain in these fixtures).
fn gtid_seq(gtid: &str) -> u64 {
    gtid.rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

struct Scenario {
    name: &'static str,
    relay: Vec<LogFile>,
    binlogs: Vec<LogFile>,
    pos: Positions,
    checksum: ChecksumAlg,
}

impl Scenario {
    fn master_end(&self) -> BinlogPos {
        BinlogPos::new(&self.pos.master.file, self.pos.master.pos)
    }

    fn master_seq(&self) -> u64 {
        gtid_seq(&self.pos.master.gtid_binlog_pos)
    }

    fn slave(&self, name: &str) -> &SlavePositions {
        &self.pos.slaves[name]
    }

    /// The master's binlogs from `file` on.
    fn binlogs_from(&self, file: &str) -> Vec<LogFile> {
        let at = self
            .binlogs
            .iter()
            .position(|f| f.name == file)
            .unwrap_or_else(|| panic!("{}: no binlog {file}", self.name));
        self.binlogs[at..].to_vec()
    }
}

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/binlog")
}

/// The files `dir/stem.NNNNNN`, in sequence order.
fn load_logs(dir: &Path) -> Vec<LogFile> {
    let mut files: Vec<LogFile> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_string();
            LogFile::new(name, std::fs::read(&p).expect("read"))
        })
        .collect();
    files.sort_by(|a, b| BinlogPos::new(&a.name, 0).cmp(&BinlogPos::new(&b.name, 0)));
    assert!(!files.is_empty(), "no logs in {}", dir.display());
    files
}

fn load_dir(name: &'static str, dir: &Path, checksum: ChecksumAlg) -> Scenario {
    let json = std::fs::read_to_string(dir.join("positions.json")).expect("positions.json");
    Scenario {
        name,
        relay: load_logs(&dir.join("s1-relay")),
        binlogs: load_logs(&dir.join("master")),
        pos: serde_json::from_str(&json).expect("positions.json parses"),
        checksum,
    }
}

/// File/position replication, `binlog_checksum=CRC32`.
fn filepos() -> Scenario {
    load_dir(
        "filepos",
        &fixture_root().join("filepos"),
        ChecksumAlg::Crc32,
    )
}

/// GTID replication (`MASTER_USE_GTID=slave_pos`), master `binlog_checksum=NONE`.
fn gtid() -> Scenario {
    load_dir("gtid", &fixture_root().join("gtid"), ChecksumAlg::Off)
}

fn scenarios() -> [Scenario; 2] {
    [filepos(), gtid()]
}

fn events_of(bytes: &[u8]) -> Vec<Event> {
    let mut events = Events::new("diff", bytes).expect("magic");
    let all: Vec<Event> = events.by_ref().collect::<Result<_, _>>().expect("events");
    assert!(
        events.truncation().is_none(),
        "diff ends with a partial event"
    );
    all
}

/// Checks that a diff is a well-formed binlog: magic, the master's FDE, then
/// only master events (no bookkeeping), each with a valid checksum when the
/// FDE says so, and returns the MariaDB GTID sequence numbers in it.
fn check_diff(s: &Scenario, diff: &Diff) -> Vec<u64> {
    assert_eq!(&diff.bytes[..4], &MAGIC);
    let events = events_of(&diff.bytes);
    let fde = FormatDescription::parse(&events[0]).expect("first event is an FDE");
    assert_eq!(
        events[0].header.server_id, MASTER_ID,
        "{}: the FDE is the master's",
        s.name
    );
    assert_eq!(fde.checksum, s.checksum);
    assert_eq!(diff.checksum, s.checksum);
    assert_eq!(events.len() - 1, diff.events);
    let mut seqs = Vec::new();
    for e in &events[1..] {
        assert_eq!(
            e.header.server_id, MASTER_ID,
            "{}: event at {}",
            s.name, e.offset
        );
        assert!(
            !matches!(
                e.type_code(),
                types::FORMAT_DESCRIPTION
                    | types::ROTATE
                    | types::STOP
                    | types::MARIADB_GTID_LIST
                    | types::MARIADB_BINLOG_CHECKPOINT
                    | types::PREVIOUS_GTIDS
            ),
            "{}: bookkeeping event of type {} in a diff",
            s.name,
            e.type_code()
        );
        assert!(
            e.checksum_ok(fde.checksum),
            "{}: bad checksum at {}",
            s.name,
            e.offset
        );
        if let Some(g) = e.mariadb_gtid(fde.checksum) {
            seqs.push(g.seq_no);
        }
    }
    seqs
}

/// Asserts `seqs` is exactly `first..=last`.
fn assert_consecutive(name: &str, seqs: &[u64], first: u64, last: u64) {
    let want: Vec<u64> = (first..=last).collect();
    assert_eq!(seqs, &want[..], "{name}: GTID sequence numbers in the diff");
}

/// (end position, GTID sequence number of the last complete transaction) for
/// every event end in the master's binlogs; `boundary` when a transaction ends there.
struct MasterPoint {
    pos: BinlogPos,
    seq: u64,
    boundary: bool,
    type_code: u8,
}

fn master_points(s: &Scenario) -> Vec<MasterPoint> {
    let mut points = Vec::new();
    let mut seq = 0;
    let mut open: Option<u64> = None;
    for f in &s.binlogs {
        for e in Events::new(&f.name, &f.bytes)
            .expect("magic")
            .strict_positions()
        {
            let e = e.expect("master binlog event");
            let alg = s.checksum;
            if let Some(g) = e.mariadb_gtid(alg) {
                open = Some(g.seq_no);
            }
            let ends_group = match e.type_code() {
                types::XID => true,
                types::QUERY => {
                    let text = e.query_text(alg, 13).unwrap_or(b"");
                    text != b"BEGIN"
                }
                _ => false,
            };
            if ends_group {
                if let Some(o) = open.take() {
                    seq = o;
                }
            }
            points.push(MasterPoint {
                pos: BinlogPos::new(&f.name, e.end()),
                seq,
                boundary: open.is_none(),
                type_code: e.type_code(),
            });
        }
    }
    points
}

#[test]
fn every_fixture_file_reads_cleanly() {
    for s in scenarios() {
        for f in &s.relay {
            let mut events = Events::new(&f.name, &f.bytes).expect("magic");
            let all: Vec<_> = events
                .by_ref()
                .collect::<Result<_, _>>()
                .expect("relay events");
            assert!(events.truncation().is_none(), "{}: {}", s.name, f.name);
            let own = &all[0];
            assert_eq!(own.type_code(), types::FORMAT_DESCRIPTION);
            assert_eq!(own.header.server_id, S1_ID);
            assert!(own.header.has_flag(flags::RELAY_LOG));
        }
        for f in &s.binlogs {
            let mut events = Events::new(&f.name, &f.bytes)
                .expect("magic")
                .strict_positions();
            let all: Vec<_> = events
                .by_ref()
                .collect::<Result<_, _>>()
                .expect("binlog events");
            assert!(events.truncation().is_none(), "{}: {}", s.name, f.name);
            assert_eq!(events.checksum(), Some(s.checksum));
            let fde = FormatDescription::parse(&all[0]).expect("fde");
            assert!(
                fde.server_version.starts_with("10.11."),
                "{}",
                fde.server_version
            );
            assert!(all.iter().all(|e| e.checksum_ok(s.checksum)));
            assert!(all.iter().all(|e| e.header.server_id == MASTER_ID));
        }
        // The dead master's last binlog was never closed.
        let last = s.binlogs.last().expect("binlogs");
        let first = Events::new(&last.name, &last.bytes)
            .expect("magic")
            .next()
            .expect("fde")
            .expect("fde");
        assert!(first.header.has_flag(flags::BINLOG_IN_USE), "{}", s.name);
    }
}

/// The main use: a slave whose SQL thread stopped behind catches up from the
/// latest slave's relay logs, from its Exec_Master_Log_Pos.
#[test]
fn relay_diff_for_lagging_slaves() {
    for s in scenarios() {
        for slave in ["s2", "s4", "s1"] {
            let p = s.slave(slave);
            let target = p.exec();
            let cut = find_master_pos(&s.relay, &target)
                .unwrap_or_else(|e| panic!("{}: {slave}: {e}", s.name));
            let diff =
                cut_diff(&s.relay, &cut).unwrap_or_else(|e| panic!("{}: {slave}: {e}", s.name));
            let name = format!("{} {slave} from {target}", s.name);
            assert_eq!(diff.from, target, "{name}");
            assert_eq!(diff.to, s.master_end(), "{name}");
            assert_eq!(
                diff.transactions as u64,
                s.master_seq() - p.applied_seq(),
                "{name}"
            );
            assert!(
                diff.dropped.is_empty() && diff.truncated.is_empty(),
                "{name}"
            );
            let seqs = check_diff(&s, &diff);
            assert_consecutive(&name, &seqs, p.applied_seq() + 1, s.master_seq());
        }
    }
}

/// s1 stopped its SQL thread: the server's own Relay_Log_File/Relay_Log_Pos
/// for its Exec_Master_Log_Pos is where we must cut.
#[test]
fn the_cut_matches_the_slaves_own_relay_log_position() {
    for s in scenarios() {
        let p = s.slave("s1");
        let cut = find_master_pos(&s.relay, &p.exec()).expect("found");
        assert_eq!(s.relay[cut.file_index].name, p.relay_log_file, "{}", s.name);
        assert_eq!(cut.offset, p.relay_log_pos, "{}", s.name);
        // s3 stopped reading at the same master position.
        assert_eq!(p.exec(), s.slave("s3").read(), "{}", s.name);
    }
}

/// Every event end in the master's binlogs that the relay logs hold is found,
/// and the diff from every transaction boundary holds exactly the
/// transactions the master wrote after it.
#[test]
fn every_master_position_is_found_and_cut_right() {
    for s in scenarios() {
        let points = master_points(&s);
        let mut found = 0;
        let mut cut_checked = 0;
        let mut previous_cut: Option<RelayCut> = None;
        for point in &points {
            let cut = match find_master_pos(&s.relay, &point.pos) {
                Ok(cut) => cut,
                // The master does not send annotate events to a slave that did not ask.
                Err(FindError::NotAnEventEnd { .. })
                    if point.type_code == types::MARIADB_ANNOTATE_ROWS =>
                {
                    continue
                }
                Err(e) => panic!("{}: {}: {e}", s.name, point.pos),
            };
            found += 1;
            // Cuts move forward with the master's positions.
            if let Some(prev) = previous_cut {
                assert!(
                    cut >= prev,
                    "{}: {} cut {cut:?} before {prev:?}",
                    s.name,
                    point.pos
                );
            }
            previous_cut = Some(cut);
            match cut_diff(&s.relay, &cut) {
                Ok(diff) => {
                    assert!(
                        point.boundary,
                        "{}: {} is inside a transaction",
                        s.name, point.pos
                    );
                    if point.type_code == types::ROTATE {
                        // The end of a file is reported as the start of the next.
                        assert_eq!(diff.from.pos, 4, "{}: {}", s.name, point.pos);
                        assert_eq!(diff.from.seq(), point.pos.seq().map(|n| n + 1));
                    } else {
                        assert_eq!(diff.from, point.pos);
                    }
                    assert_eq!(diff.to, s.master_end(), "{}: from {}", s.name, point.pos);
                    assert_eq!(
                        diff.transactions as u64,
                        s.master_seq() - point.seq,
                        "{}: from {}",
                        s.name,
                        point.pos
                    );
                    let seqs = check_diff(&s, &diff);
                    assert_consecutive(s.name, &seqs, point.seq + 1, s.master_seq());
                    cut_checked += 1;
                }
                Err(BinlogError::StartInsideTransaction { start, .. }) => {
                    assert!(!point.boundary, "{}: {} is a boundary", s.name, point.pos);
                    assert_eq!(start, point.pos);
                }
                Err(e) => panic!("{}: {}: {e}", s.name, point.pos),
            }
        }
        assert!(
            found > points.len() / 2,
            "{}: found {found} of {}",
            s.name,
            points.len()
        );
        assert!(cut_checked > 50, "{}: {cut_checked} diffs checked", s.name);
    }
}

#[test]
fn start_of_each_master_file_and_across_rotations() {
    for s in scenarios() {
        for pair in s.binlogs.windows(2) {
            let (old, new) = (&pair[0], &pair[1]);
            // The rotate at the end of the old file: its end, and the new file's start,
            // are the same point.
            let events: Vec<_> = Events::new(&old.name, &old.bytes)
                .expect("magic")
                .collect::<Result<_, _>>()
                .expect("events");
            let rotate = events.last().expect("events");
            assert_eq!(rotate.type_code(), types::ROTATE);
            let start = BinlogPos::new(&new.name, 4);
            let cut = find_master_pos(&s.relay, &start)
                .unwrap_or_else(|e| panic!("{}: {start}: {e}", s.name));
            let old_end = BinlogPos::new(&old.name, rotate.end());
            assert_eq!(
                find_master_pos(&s.relay, &old_end).expect("old end"),
                cut,
                "{}",
                s.name
            );
            // The event just before the cut is the master's rotate to the new file.
            let relay = &s.relay[cut.file_index];
            let before = Events::new(&relay.name, &relay.bytes)
                .expect("magic")
                .map(|e| e.expect("event"))
                .find(|e| e.end() == cut.offset)
                .expect("an event ends at the cut");
            assert_eq!(before.rotate().map(|r| r.file), Some(new.name.clone()));
            // The diff from there is the diff from the last transaction of the old file.
            let last_trx = BinlogPos::new(&old.name, rotate.offset);
            let a = cut_diff(&s.relay, &cut).expect("diff from the start of the new file");
            let b = cut_diff(
                &s.relay,
                &find_master_pos(&s.relay, &last_trx).expect("found"),
            )
            .expect("diff");
            assert_eq!(a.bytes, b.bytes, "{}: {start}", s.name);
            assert_eq!(a.from, start);
            assert_eq!(b.from, last_trx);
        }
    }
}

#[test]
fn the_last_event_gives_an_empty_diff() {
    for s in scenarios() {
        let cut = find_master_pos(&s.relay, &s.master_end()).expect("found");
        assert_eq!(cut.file_index, s.relay.len() - 1);
        assert_eq!(
            cut.offset,
            s.relay.last().expect("relay").bytes.len() as u64
        );
        let diff = cut_diff(&s.relay, &cut).expect("diff");
        assert!(diff.is_empty());
        assert_eq!(diff.transactions, 0);
        assert_eq!(
            (diff.from.clone(), diff.to.clone()),
            (s.master_end(), s.master_end())
        );
        // Still a binlog mysqlbinlog can read: magic and the master's FDE.
        assert_eq!(events_of(&diff.bytes).len(), 1);
    }
}

#[test]
fn positions_outside_the_relay_logs() {
    for s in scenarios() {
        let ahead = BinlogPos::new(&s.pos.master.file, s.pos.master.pos + 1);
        let err = find_master_pos(&s.relay, &ahead).expect_err("ahead");
        assert!(
            matches!(err, FindError::BeyondRelayLogs { ref latest, .. } if *latest == s.master_end()),
            "{err}"
        );
        let next_file = BinlogPos::new("mysql-bin.000099", 4);
        assert!(matches!(
            find_master_pos(&s.relay, &next_file),
            Err(FindError::BeyondRelayLogs { .. })
        ));
        let inside_event = BinlogPos::new(
            &s.slave("s2").relay_master_log_file,
            s.slave("s2").exec_master_log_pos + 1,
        );
        let err = find_master_pos(&s.relay, &inside_event).expect_err("not an end");
        assert!(matches!(err, FindError::NotAnEventEnd { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("no event in the relay logs ends at"),
            "{err}"
        );
        let other = BinlogPos::new("master-bin.000003", 4);
        let err = find_master_pos(&s.relay, &other).expect_err("other name");
        assert!(matches!(err, FindError::OtherBinlogName { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("they hold the master's mysql-bin.* files"),
            "{err}"
        );
        let older = BinlogPos::new("mysql-bin.000000", 4);
        let err = find_master_pos(&s.relay, &older).expect_err("older");
        assert!(matches!(err, FindError::NotInRelayLogs { .. }), "{err}");
        assert_eq!(
            find_master_pos(&[] as &[LogFile], &older),
            Err(FindError::NoRelayLogs)
        );
    }
}

/// Relay logs purged from the front: a target they no longer reach is
/// reported; one they reach gives the same diff as with all relay logs (the
/// master file of the first events is inferred from the next rotate).
#[test]
fn purged_relay_logs() {
    for s in scenarios() {
        let target = s.slave("s4").exec();
        let full = cut_diff(
            &s.relay,
            &find_master_pos(&s.relay, &target).expect("found"),
        )
        .expect("diff");
        let mut reported = 0;
        let mut same = 0;
        for k in 1..s.relay.len() {
            let logs = &s.relay[k..];
            match find_master_pos(logs, &target) {
                Ok(cut) => {
                    let diff = cut_diff(logs, &cut).expect("diff");
                    assert_eq!(diff.bytes, full.bytes, "{}: relay logs from #{k}", s.name);
                    same += 1;
                }
                Err(FindError::NotInRelayLogs { earliest, .. }) => {
                    if let Some(e) = earliest {
                        assert!(e > target, "{}: #{k}: earliest {e}", s.name);
                    }
                    reported += 1;
                }
                Err(e) => panic!("{}: relay logs from #{k}: {e}", s.name),
            }
        }
        assert!(
            same > 0 && reported > 0,
            "{}: {same} same, {reported} reported",
            s.name
        );
    }
}

/// The IO thread killed while writing an event: the partial event and the
/// transaction it belongs to are left out, and reported.
#[test]
fn truncated_relay_log() {
    for s in scenarios() {
        let target = s.slave("s2").exec();
        let full = cut_diff(
            &s.relay,
            &find_master_pos(&s.relay, &target).expect("found"),
        )
        .expect("diff");
        let mut logs = s.relay.clone();
        let last = logs.last_mut().expect("relay");
        let len = last.bytes.len();
        last.bytes.truncate(len - 5);
        let last_name = last.name.clone();
        let diff = cut_diff(&logs, &find_master_pos(&logs, &target).expect("found")).expect("diff");
        assert_eq!(diff.truncated.len(), 1, "{}", s.name);
        let t = &diff.truncated[0];
        assert_eq!(t.file, last_name);
        // The last event is an XID: 19 + 8 (+ 4 with CRC32) bytes.
        let xid_len = if s.checksum == ChecksumAlg::Crc32 {
            31
        } else {
            27
        };
        assert_eq!(t.offset, (len - xid_len) as u64);
        assert_eq!(t.dropped, (xid_len - 5) as u64);
        let tail = diff
            .incomplete_tail()
            .expect("the last transaction is dropped");
        assert_eq!(tail.reason, DropReason::EndOfLogs);
        assert_eq!(diff.transactions, full.transactions - 1);
        assert_eq!(diff.events + tail.events + 1, full.events);
        assert_eq!(tail.to, diff.to.clone().max(tail.to.clone()));
        assert!(diff.to < s.master_end());
        assert!(full.bytes.starts_with(&diff.bytes));
        let seqs = check_diff(&s, &diff);
        assert_consecutive(
            s.name,
            &seqs,
            s.slave("s2").applied_seq() + 1,
            s.master_seq() - 1,
        );
    }
}

/// The IO thread stopped between two events of a transaction (no partial
/// event): the unfinished transaction is left out.
#[test]
fn relay_log_ending_inside_a_transaction() {
    for s in scenarios() {
        let target = s.slave("s2").exec();
        let mut logs = s.relay.clone();
        let last = logs.last_mut().expect("relay");
        // Cut the last relay log just before its last two events (rows, XID).
        let ends: Vec<u64> = Events::new(&last.name, &last.bytes)
            .expect("magic")
            .map(|e| e.expect("event").offset)
            .collect();
        last.bytes.truncate(ends[ends.len() - 2] as usize);
        let diff = cut_diff(&logs, &find_master_pos(&logs, &target).expect("found")).expect("diff");
        assert!(diff.truncated.is_empty());
        let tail = diff.incomplete_tail().expect("dropped");
        assert_eq!(tail.from, diff.to);
        assert!(
            tail.events >= 2,
            "{}: GTID and at least a table map",
            s.name
        );
        assert_eq!(
            diff.transactions as u64,
            s.master_seq() - 1 - s.slave("s2").applied_seq()
        );
        check_diff(&s, &diff);
    }
}

/// s3 missed the last transactions: the dead master's binlogs from its read
/// position give them, across binlog rotations.
#[test]
fn binlog_tail_for_the_slave_that_missed_the_end() {
    for s in scenarios() {
        let p = s.slave("s3");
        let start = p.read();
        let files = s.binlogs_from(&start.file);
        assert!(files.len() >= 2, "{}: the tail crosses a rotation", s.name);
        let diff = binlog_tail(&files, &start).expect("tail");
        assert_eq!(diff.from, start);
        assert_eq!(diff.to, s.master_end());
        assert_eq!(diff.transactions as u64, s.master_seq() - p.applied_seq());
        assert!(diff.dropped.is_empty() && diff.truncated.is_empty());
        let seqs = check_diff(&s, &diff);
        assert_consecutive(s.name, &seqs, p.applied_seq() + 1, s.master_seq());
    }
}

/// From every transaction boundary of every master file, the tail holds the
/// transactions written after it; other event ends are refused.
#[test]
fn binlog_tail_from_every_position() {
    for s in scenarios() {
        let points = master_points(&s);
        for point in &points {
            let files = s.binlogs_from(&point.pos.file);
            match binlog_tail(&files, &point.pos) {
                Ok(diff) => {
                    assert!(point.boundary, "{}: {}", s.name, point.pos);
                    assert_eq!(
                        diff.transactions as u64,
                        s.master_seq() - point.seq,
                        "{}: {}",
                        s.name,
                        point.pos
                    );
                    assert_eq!(diff.to, s.master_end());
                    let seqs = check_diff(&s, &diff);
                    assert_consecutive(s.name, &seqs, point.seq + 1, s.master_seq());
                }
                Err(BinlogError::StartInsideTransaction { .. }) => assert!(!point.boundary),
                Err(e) => panic!("{}: {}: {e}", s.name, point.pos),
            }
        }
        // From the start of a file.
        let first = &s.binlogs[1];
        let diff = binlog_tail(&s.binlogs[1..], &BinlogPos::new(&first.name, 4)).expect("from 4");
        assert_eq!(diff.to, s.master_end());
        // At the very end: nothing, a valid file.
        let last = s.binlogs.last().expect("binlogs");
        let diff = binlog_tail(std::slice::from_ref(last), &s.master_end()).expect("empty");
        assert!(diff.is_empty());
        assert_eq!(events_of(&diff.bytes).len(), 1);
    }
}

/// The master killed while writing: a partial event at the end of its last binlog.
#[test]
fn binlog_tail_of_a_truncated_binlog() {
    for s in scenarios() {
        let p = s.slave("s3");
        let mut files = s.binlogs_from(&p.read().file);
        let last = files.last_mut().expect("files");
        let len = last.bytes.len();
        last.bytes.truncate(len - 3);
        let diff = binlog_tail(&files, &p.read()).expect("tail");
        assert_eq!(diff.truncated.len(), 1);
        assert_eq!(diff.truncated[0].file, s.pos.master.file);
        let tail = diff.incomplete_tail().expect("unfinished transaction");
        assert_eq!(tail.reason, DropReason::EndOfLogs);
        assert_eq!(
            diff.transactions as u64,
            s.master_seq() - 1 - p.applied_seq()
        );
        check_diff(&s, &diff);
        // A missing file in the middle is refused.
        let mut gap = s.binlogs.clone();
        gap.remove(2);
        let err = binlog_tail(&gap, &BinlogPos::new(&gap[0].name, 4)).expect_err("gap");
        assert!(matches!(err, BinlogError::NotConsecutive { .. }), "{err}");
    }
}

/// Whatever is cut off or damaged, nothing panics; with CRC32 on, damage in
/// the part that is copied is caught.
#[test]
fn truncations_and_corruptions_never_panic() {
    for s in scenarios() {
        // The last relay logs (from the master's rotate to mysql-bin.000005) keep
        // the loops fast; s1's Exec_Master_Log_Pos is in the second of them.
        let relay = s.relay[13..].to_vec();
        assert_eq!(relay[0].name, "relay-bin.000014");
        let target = s.slave("s1").exec();
        assert!(find_master_pos(&relay, &target).is_ok(), "{}", s.name);
        let start = s.slave("s3").read();
        let tail_files = s.binlogs_from(&start.file);
        let relay_diff = |logs: &[LogFile]| -> Result<Diff, String> {
            let cut = find_master_pos(logs, &target).map_err(|e| e.to_string())?;
            cut_diff(logs, &cut).map_err(|e| e.to_string())
        };
        // Truncations of every relay log in the set (every length for the last
        // one, where a dying IO thread leaves them), and of the last binlog.
        for f in 0..relay.len() {
            let step = if f == relay.len() - 1 { 1 } else { 5 };
            for len in (0..=relay[f].bytes.len()).step_by(step) {
                let mut copy = relay.clone();
                copy[f].bytes.truncate(len);
                let _ = relay_diff(&copy);
            }
        }
        let last = tail_files.len() - 1;
        for len in 0..=tail_files[last].bytes.len() {
            let mut copy = tail_files.clone();
            copy[last].bytes.truncate(len);
            let _ = binlog_tail(&copy, &start);
        }
        // Overwriting one byte with garbage: flip, zero, 0xff.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let clean_relay = relay_diff(&relay).expect("diff");
        let clean_tail = binlog_tail(&tail_files, &start).expect("tail");
        let mut copied_changes = 0;
        let mut caught = 0;
        for round in 0..600 {
            let is_relay = round % 2 == 0;
            let mut files = if is_relay {
                relay.clone()
            } else {
                tail_files.clone()
            };
            let f = (next() % files.len() as u64) as usize;
            let at = (next() % files[f].bytes.len() as u64) as usize;
            let byte = match round % 3 {
                0 => files[f].bytes[at] ^ 0x5a,
                1 => 0,
                _ => 0xff,
            };
            if files[f].bytes[at] == byte {
                continue;
            }
            files[f].bytes[at] = byte;
            let (result, clean) = if is_relay {
                (relay_diff(&files), &clean_relay)
            } else {
                (
                    binlog_tail(&files, &start).map_err(|e| e.to_string()),
                    &clean_tail,
                )
            };
            // A change that reaches the copied bytes must never give a clean diff.
            if let Ok(diff) = &result {
                if diff.bytes != clean.bytes
                    && diff.events == clean.events
                    && s.checksum == ChecksumAlg::Crc32
                {
                    let in_fde = diff.bytes.len() == clean.bytes.len()
                        && diff.bytes[..4 + 256] != clean.bytes[..4 + 256]
                        && diff.bytes[4 + 256..] == clean.bytes[4 + 256..];
                    assert!(
                        in_fde,
                        "{}: damaged byte {at} of {} copied silently",
                        s.name, files[f].name
                    );
                }
            }
            if result.is_err() {
                caught += 1;
            }
            copied_changes += 1;
        }
        assert!(
            copied_changes > 400 && caught > 0,
            "{}: {caught} of {copied_changes}",
            s.name
        );
        // Pure garbage after the magic.
        for len in [0usize, 3, 4, 5, 19, 23, 100, 4096] {
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if len >= 4 {
                bytes[..4].copy_from_slice(&MAGIC);
            }
            let logs = vec![LogFile::new("relay-bin.000001", bytes.clone())];
            let _ = find_master_pos(&logs, &target);
            let _ = cut_diff(
                &logs,
                &RelayCut {
                    file_index: 0,
                    offset: 4,
                },
            );
            let bins = vec![LogFile::new("mysql-bin.000001", bytes)];
            let _ = binlog_tail(&bins, &BinlogPos::new("mysql-bin.000001", 4));
        }
    }
}

/// With CRC32 on, a damaged event in the part that is copied is refused.
#[test]
fn a_damaged_event_in_the_diff_is_refused() {
    let s = filepos();
    let target = s.slave("s2").exec();
    let mut logs = s.relay.clone();
    let last = logs.last_mut().expect("relay");
    let len = last.bytes.len();
    last.bytes[len - 10] ^= 1;
    let err =
        cut_diff(&logs, &find_master_pos(&logs, &target).expect("found")).expect_err("damaged");
    assert!(matches!(err, BinlogError::BadChecksum { .. }), "{err}");
    assert!(
        err.to_string().contains("fails its CRC32 checksum"),
        "{err}"
    );

    let start = s.slave("s3").read();
    let mut files = s.binlogs_from(&start.file);
    let last = files.last_mut().expect("binlogs");
    let len = last.bytes.len();
    last.bytes[len - 10] ^= 1;
    let err = binlog_tail(&files, &start).expect_err("damaged");
    assert!(matches!(err, BinlogError::BadChecksum { .. }), "{err}");
}

/// Not a test: builds the diffs of the end-to-end proof for
/// `make-fixtures.sh`, from the capture directory in `HA_BINLOG_E2E_DIR`
/// (same layout as a fixture directory, plus s4's relay logs): writes
/// `diff-s2.bin` (s1's relay logs at s2's Exec_Master_Log_Pos),
/// `diff-s4.bin` and `diff-s1.bin` (their own relay logs at their
/// Exec_Master_Log_Pos) and `tail-s3.bin` (the master's binlogs from s3's
/// Read_Master_Log_Pos).
#[test]
#[ignore = "run by tests/fixtures/binlog/make-fixtures.sh"]
fn e2e_build_diffs() {
    let dir = PathBuf::from(std::env::var("HA_BINLOG_E2E_DIR").expect("HA_BINLOG_E2E_DIR"));
    let checksum = if dir.to_string_lossy().contains("gtid") {
        ChecksumAlg::Off
    } else {
        ChecksumAlg::Crc32
    };
    let s = load_dir("e2e", &dir, checksum);
    let s4_relay = load_logs(&dir.join("s4-relay"));
    let write = |file: &str, diff: &Diff, want_trx: u64| {
        let seqs = check_diff(&s, diff);
        assert_eq!(diff.transactions as u64, want_trx, "{file}");
        assert!(
            diff.dropped.is_empty() && diff.truncated.is_empty(),
            "{file}"
        );
        std::fs::write(dir.join(file), &diff.bytes).expect("write");
        println!(
            "{file}: {} bytes, {} events, {} transactions (GTID {}..{}), {} -> {}, {} resent events skipped",
            diff.bytes.len(),
            diff.events,
            diff.transactions,
            seqs.first().copied().unwrap_or(0),
            seqs.last().copied().unwrap_or(0),
            diff.from,
            diff.to,
            diff.duplicates
        );
    };
    for (slave, relay) in [("s2", &s.relay), ("s4", &s4_relay), ("s1", &s.relay)] {
        let p = s.slave(slave);
        let cut = find_master_pos(relay, &p.exec()).expect("found");
        let diff = cut_diff(relay, &cut).expect("diff");
        write(
            &format!("diff-{slave}.bin"),
            &diff,
            s.master_seq() - p.applied_seq(),
        );
    }
    let p = s.slave("s3");
    let diff = binlog_tail(&s.binlogs_from(&p.read().file), &p.read()).expect("tail");
    write("tail-s3.bin", &diff, s.master_seq() - p.applied_seq());
}

/// Cut offsets in the committed fixtures, read off `SHOW RELAYLOG EVENTS`-like
/// dumps of them (regenerating the fixtures changes these numbers).
#[test]
fn cut_offsets_in_the_fixtures() {
    // (scenario, [(master file, master pos, relay log, offset)])
    type Row<'a> = (&'a str, u64, &'a str, u64);
    let table: [(&str, &[Row<'_>]); 2] = [
        (
            "filepos",
            &[
                // s2's Exec_Master_Log_Pos: the middle of a relay log.
                ("mysql-bin.000002", 2887, "relay-bin.000005", 3186),
                // s4's Exec_Master_Log_Pos.
                ("mysql-bin.000003", 2707, "relay-bin.000008", 3006),
                // Where s1's IO thread reconnected: the position is both the end of
                // relay-bin.000012 and the fake rotate in relay-bin.000013; the first counts.
                ("mysql-bin.000004", 3611, "relay-bin.000012", 3910),
                // s1's: also what the server reports as its Relay_Log_Pos.
                ("mysql-bin.000005", 1775, "relay-bin.000015", 2074),
                // Start of a master file: right after the master's rotate to it.
                ("mysql-bin.000003", 4, "relay-bin.000007", 303),
                // The end of the old file is the same point.
                ("mysql-bin.000002", 4324, "relay-bin.000007", 303),
                // After the new file's format description event.
                ("mysql-bin.000003", 256, "relay-bin.000008", 555),
                // The last event: the end of the last relay log.
                ("mysql-bin.000006", 2533, "relay-bin.000018", 2832),
            ],
        ),
        (
            "gtid",
            &[
                ("mysql-bin.000002", 2437, "relay-bin.000005", 2732),
                ("mysql-bin.000005", 1405, "relay-bin.000015", 1700),
                ("mysql-bin.000003", 4, "relay-bin.000007", 299),
                ("mysql-bin.000003", 256, "relay-bin.000008", 551),
                // The GTID-mode reconnection in relay-bin.000013 makes the master
                // resend mysql-bin.000004's first events; the first copy is taken.
                ("mysql-bin.000004", 295, "relay-bin.000012", 590),
                // ... and its artificial GTID list jumps to 3399, already reached.
                ("mysql-bin.000004", 3399, "relay-bin.000012", 3694),
                ("mysql-bin.000006", 1845, "relay-bin.000018", 2140),
            ],
        ),
    ];
    for (s, (name, rows)) in scenarios().iter().zip(table) {
        assert_eq!(s.name, name);
        for &(file, pos, relay, offset) in rows {
            let target = BinlogPos::new(file, pos);
            let cut = find_master_pos(&s.relay, &target)
                .unwrap_or_else(|e| panic!("{name}: {target}: {e}"));
            assert_eq!(
                (s.relay[cut.file_index].name.as_str(), cut.offset),
                (relay, offset),
                "{name}: {target}"
            );
        }
    }
}

/// The first relay logs purged: the target is no longer there, and the error
/// says how far back they reach (the master file of the first events is
/// inferred from the next rotate).
#[test]
fn not_in_relay_logs_after_a_purge() {
    let s = filepos();
    // relay-bin.000006 onwards; it starts with a relay-log rotation (no master file name).
    let logs = &s.relay[5..];
    assert_eq!(logs[0].name, "relay-bin.000006");
    let err = find_master_pos(logs, &s.slave("s2").exec()).expect_err("purged");
    let FindError::NotInRelayLogs {
        earliest: Some(earliest),
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(earliest.file, "mysql-bin.000002");
    assert!(
        earliest.pos > s.slave("s2").exec_master_log_pos,
        "{earliest}"
    );
    assert!(
        err.to_string()
            .starts_with("the relay logs do not reach back to mysql-bin.000002:2887"),
        "{err}"
    );
}

/// The saved tail and a relay-log diff, filtered against a target that has
/// applied the first transactions of it (an apply cut short by a crash):
/// what is left is exactly the rest, byte for byte, a well-formed binlog.
#[test]
fn applied_transactions_are_dropped_from_real_diffs() {
    for s in scenarios() {
        let s3 = s.slave("s3");
        let tail = binlog_tail(&s.binlogs_from(&s3.read().file), &s3.read()).expect("tail");
        let s2 = s.slave("s2");
        let cut = find_master_pos(&s.relay, &s2.exec()).expect("cut");
        let relay = cut_diff(&s.relay, &cut).expect("relay diff");
        for (what, diff, first) in [
            ("tail", &tail, s3.applied_seq() + 1),
            ("relay diff", &relay, s2.applied_seq() + 1),
        ] {
            let last = s.master_seq();
            let events = events_of(&diff.bytes);
            let fde_end = events[0].end() as usize;
            for has in [
                0,
                first - 1,
                first,
                (first + last) / 2,
                last - 1,
                last,
                last + 5,
            ] {
                let name = format!("{} {what}, target at 0-1-{has}", s.name);
                let f = drop_applied(&diff.bytes, |g| match g {
                    TxGtid::Maria(g) => g.domain == 0 && g.seq <= has,
                    TxGtid::MySql { .. } => false,
                })
                .expect(&name);
                let want_first = (has + 1).max(first);
                let kept = last.saturating_sub(want_first - 1);
                assert_eq!(f.kept as u64, kept, "{name}");
                assert_eq!(f.skipped as u64, last - first + 1 - kept, "{name}");
                assert_eq!(f.without_gtid, 0, "{name}");
                // The same bytes as the original from the first kept GTID event on.
                let from = events
                    .iter()
                    .find(|e| {
                        e.mariadb_gtid(s.checksum)
                            .is_some_and(|g| g.seq_no == want_first)
                    })
                    .map_or(diff.bytes.len(), |e| e.offset as usize);
                let mut want = diff.bytes[..fde_end].to_vec();
                want.extend_from_slice(&diff.bytes[from..]);
                assert!(f.bytes == want, "{name}: not the original's suffix");
                let checked = Diff {
                    bytes: f.bytes.clone(),
                    events: events_of(&f.bytes).len() - 1,
                    ..diff.clone()
                };
                let seqs = check_diff(&s, &checked);
                if kept > 0 {
                    assert_consecutive(&name, &seqs, want_first, last);
                } else {
                    assert!(seqs.is_empty(), "{name}");
                }
            }
        }
    }
}

/// A copy of a binlog that holds its header and the bytes from `resume_at`
/// on, as the manager copies the dead master's first binlog.
struct HeadAndRest {
    name: String,
    bytes: Vec<u8>,
    skip: (u64, u64),
}

impl crate::binlog::LogSource for HeadAndRest {
    fn name(&self) -> &str {
        &self.name
    }
    fn open(&self) -> Result<Box<dyn std::io::Read + '_>, BinlogError> {
        // One byte per read: the reader must not depend on read sizes.
        Ok(Box::new(OneByte(&self.bytes)))
    }
    fn skip(&self) -> Option<(u64, u64)> {
        Some(self.skip)
    }
}

struct OneByte<'a>(&'a [u8]);

impl std::io::Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(buf.len()).min(1);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// Cutting the tail from the header plus the bytes after the start gives
/// the same file as cutting it from the whole binlog, from every position
/// past the header; a start inside a transaction, which the part left out
/// would have shown, is still refused (the first event must open one).
#[test]
fn binlog_tail_from_the_header_and_the_bytes_after_the_start() {
    use crate::binlog::binlog_tail_into;
    for s in scenarios() {
        let points = master_points(&s);
        let mut compared = 0;
        for point in &points {
            let files = s.binlogs_from(&point.pos.file);
            let first = &files[0];
            let head_end = crate::binlog::head_end(&first.name, &first.bytes).expect("header");
            if point.pos.pos <= head_end {
                continue;
            }
            let mut bytes = first.bytes[..head_end as usize].to_vec();
            bytes.extend_from_slice(&first.bytes[point.pos.pos as usize..]);
            let copy = HeadAndRest {
                name: first.name.clone(),
                bytes,
                skip: (head_end, point.pos.pos),
            };
            let mut out = Vec::new();
            let cut = if files.len() == 1 {
                binlog_tail_into(&[copy], &point.pos, &mut out)
            } else {
                // Later files whole: the first one's copy, then the rest as they are.
                let mut all: Vec<Box<dyn crate::binlog::LogSource>> = vec![Box::new(copy)];
                all.extend(
                    files[1..]
                        .iter()
                        .map(|f| Box::new(f.clone()) as Box<dyn crate::binlog::LogSource>),
                );
                binlog_tail_into(&all, &point.pos, &mut out)
            };
            match (binlog_tail(&files, &point.pos), cut) {
                (Ok(full), Ok(part)) => {
                    assert_eq!(full.bytes, out, "{}: {}", s.name, point.pos);
                    assert_eq!(full.to, part.to);
                    assert_eq!(full.transactions, part.transactions);
                    compared += 1;
                }
                (Err(BinlogError::StartInsideTransaction { .. }), Err(e)) => {
                    assert!(!point.boundary, "{}: {}: {e}", s.name, point.pos);
                }
                (full, part) => panic!("{}: {}: {full:?} / {part:?}", s.name, point.pos),
            }
        }
        assert!(
            compared > 10,
            "{}: only {compared} positions compared",
            s.name
        );
    }
}

/// The relay log that holds a slave's position, copied as its header and
/// the bytes from that position's offset on (as the manager copies it when
/// the latest slave's own report says where): the position is found where
/// the copy resumes and the diff is the one the whole relay logs give.
#[test]
fn relay_diff_from_the_header_and_the_bytes_after_the_cut() {
    use crate::binlog::{cut_diff_into, relay_head_end, LogSource};
    for s in scenarios() {
        let mut compared = 0;
        for point in master_points(&s) {
            let Ok(cut) = find_master_pos(&s.relay, &point.pos) else {
                continue;
            };
            let log = &s.relay[cut.file_index];
            let Some(head_end) = relay_head_end(&log.name, &log.bytes) else {
                continue;
            };
            if cut.offset <= head_end || cut.offset as usize >= log.bytes.len() {
                continue;
            }
            let mut bytes = log.bytes[..head_end as usize].to_vec();
            bytes.extend_from_slice(&log.bytes[cut.offset as usize..]);
            let mut copy: Vec<Box<dyn LogSource>> = vec![Box::new(HeadAndRest {
                name: log.name.clone(),
                bytes,
                skip: (head_end, cut.offset),
            })];
            copy.extend(
                s.relay[cut.file_index + 1..]
                    .iter()
                    .map(|f| Box::new(f.clone()) as Box<dyn LogSource>),
            );
            let at = Events::new(&log.name, &log.bytes)
                .expect("magic")
                .map(|e| e.expect("event"))
                .find(|e| e.offset == cut.offset)
                .expect("an event at the cut");
            let contiguous = at.header.log_pos != 0
                && !matches!(
                    at.type_code(),
                    types::ROTATE | types::FORMAT_DESCRIPTION | types::STOP
                )
                && u64::from(at.header.log_pos).checked_sub(at.bytes.len() as u64)
                    == Some(point.pos.pos);
            let found = find_master_pos(&copy, &point.pos);
            if !contiguous {
                // The event there does not begin at the position: the copy
                // cannot be used, and is not (the manager copies the file whole).
                assert!(
                    !matches!(&found, Ok(c) if c.file_index == 0 && c.offset == cut.offset),
                    "{}: {}",
                    s.name,
                    point.pos
                );
                continue;
            }
            let found = found.unwrap_or_else(|e| {
                panic!("{}: {}: {e} (type {})", s.name, point.pos, at.type_code())
            });
            assert_eq!((found.file_index, found.offset), (0, cut.offset));
            let mut out = Vec::new();
            match (
                cut_diff(&s.relay, &cut),
                cut_diff_into(&copy, &found, &mut out),
            ) {
                (Ok(full), Ok(part)) => {
                    assert_eq!(full.bytes, out, "{}: {}", s.name, point.pos);
                    assert_eq!((full.from, full.to), (part.from, part.to));
                    compared += 1;
                }
                (Err(BinlogError::StartInsideTransaction { .. }), Err(_)) => {
                    assert!(!point.boundary, "{}: {}", s.name, point.pos)
                }
                (full, part) => panic!("{}: {}: {full:?} / {part:?}", s.name, point.pos),
            }
        }
        assert!(compared > 10, "{}: only {compared} compared", s.name);
    }
}
