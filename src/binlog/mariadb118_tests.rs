//! Tests on a real MariaDB 11.8 binlog and relay logs, where the events
//! inside a transaction carry `end_log_pos` 0 (`binlog_legacy_event_pos=OFF`,
//! the default since 11.4). Captured from two throwaway 11.8.9 servers on
//! 127.0.0.1 (the lab's Debian 13 root, `--no-defaults`, `binlog_format=ROW`):
//! the slave replicated from `mysql-bin.000002:4` in file/position mode, 31
//! two-row transactions, an UPDATE, a rotate; its SQL thread stopped early
//! (the table was created in `mysql-bin.000001`), so the relay logs hold
//! everything the IO thread received. The oracle is the master's binlog:
//! each of its events ends at its file offset plus its length.

use std::collections::HashMap;

use super::event::{types, Events};
use super::relay::{find_master_pos, Item, Kind, Walker};
use super::*;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/binlog/mariadb-11.8"
);

fn file(name: &str) -> LogFile {
    LogFile::new(
        name,
        std::fs::read(format!("{DIR}/{name}")).expect("fixture"),
    )
}

fn relay_logs() -> Vec<LogFile> {
    ["relay-bin.000002", "relay-bin.000003", "relay-bin.000004"]
        .into_iter()
        .map(file)
        .collect()
}

/// Where each transaction of `binlog` ends: the end of its commit (XID).
fn commit_ends(binlog: &LogFile) -> Vec<u64> {
    Events::new(&binlog.name, &binlog.bytes)
        .expect("magic")
        .filter_map(Result::ok)
        .filter(|e| e.type_code() == types::XID)
        .map(|e| e.end())
        .collect()
}

#[test]
fn the_fixture_has_events_with_end_log_pos_zero() {
    let master = file("mysql-bin.000002");
    let zero = Events::new(&master.name, &master.bytes)
        .expect("magic")
        .filter_map(Result::ok)
        .filter(|e| e.header.log_pos == 0)
        .count();
    assert!(zero > 30, "only {zero} events with end_log_pos 0");
}

#[test]
fn a_binlog_with_end_log_pos_zero_reads_whole_with_strict_positions() {
    let master = file("mysql-bin.000002");
    let mut events = Events::new(&master.name, &master.bytes)
        .expect("magic")
        .strict_positions();
    let mut end = 4;
    for e in events.by_ref() {
        let e = e.expect("every event reads");
        assert_eq!(e.offset, end, "events follow each other");
        end = e.end();
    }
    assert_eq!(end, master.bytes.len() as u64, "read to the end");
}

#[test]
fn the_tail_from_a_transaction_boundary_has_every_later_transaction() {
    let master = file("mysql-bin.000002");
    let xids = commit_ends(&master);
    assert!(xids.len() > 30);
    let start = BinlogPos::new("mysql-bin.000002", xids[0]);
    let tail = binlog_tail(std::slice::from_ref(&master), &start).expect("tail");
    // Every later transaction (the DDL and the UPDATE have no XID of their own
    // only when non-transactional; here all are InnoDB), nothing dropped.
    assert_eq!(tail.transactions, xids.len() - 1, "{tail:?}");
    assert!(
        tail.dropped.is_empty() && tail.truncated.is_empty(),
        "{tail:?}"
    );
    assert_eq!(tail.to.pos, *xids.last().unwrap());
}

#[test]
fn relay_events_without_end_log_pos_get_no_position_and_the_others_the_masters() {
    let master = file("mysql-bin.000002");
    // The master's events by their bytes → where they end in its binlog.
    let mut ends: HashMap<Vec<u8>, Vec<u64>> = HashMap::new();
    for e in Events::new(&master.name, &master.bytes).expect("magic") {
        let e = e.expect("event");
        ends.entry(e.bytes.clone()).or_default().push(e.end());
    }
    let logs = relay_logs();
    let mut walker = Walker::new(&logs, None);
    let (mut known, mut unknown) = (0, 0);
    while let Some(item) = walker.next_item().expect("relay logs read") {
        let Item::Event(step) = item else { continue };
        if !matches!(step.kind, Kind::Data) {
            continue;
        }
        match step.pos {
            None => {
                assert_eq!(
                    step.event.header.log_pos, 0,
                    "only events without end_log_pos"
                );
                unknown += 1;
            }
            Some(pos) if pos.file == "mysql-bin.000002" => {
                let at = &ends[&step.event.bytes];
                assert!(
                    at.contains(&pos.pos),
                    "relay event at {}: {pos}, master: {at:?}",
                    step.event.offset
                );
                known += 1;
            }
            Some(_) => {}
        }
    }
    assert!(
        known > 60 && unknown > 60,
        "{known} with, {unknown} without a position"
    );
}

#[test]
fn a_relay_diff_from_a_boundary_is_cut_without_a_position_conflict() {
    let xids = commit_ends(&file("mysql-bin.000002"));
    let logs = relay_logs();
    let target = BinlogPos::new("mysql-bin.000002", xids[4]);
    let cut = find_master_pos(&logs, &target).expect("the position is in the relay logs");
    let diff = cut_diff(&logs, &cut).expect("the diff is cut");
    assert!(diff.dropped.is_empty(), "{:?}", diff.dropped);
    // The rest of mysql-bin.000002's transactions after the fifth (the one
    // after the rotate failed on the master: nothing of it was logged).
    assert_eq!(
        diff.transactions,
        xids.len() - 5,
        "{} transactions",
        diff.transactions
    );
    assert_eq!(diff.from, target);
}

/// Hand-made MariaDB 11.4+ stream: the GTID and the commit carry a position,
/// the events between them `end_log_pos` 0. `None` in the list is the
/// master's stream starting again (a reconnection).
fn feed(items: &[Option<(Vec<u8>, u32)>]) -> Result<super::Diff, BinlogError> {
    use super::diff::DiffBuilder;
    use super::event::build;
    let mut bytes = super::event::MAGIC.to_vec();
    bytes.extend(build::fde(1, 0, 0, 0, false));
    for (event, _) in items.iter().flatten() {
        bytes.extend(event);
    }
    let events: Vec<_> = Events::new("relay-bin.000002", &bytes)
        .expect("magic")
        .map(|e| e.expect("event"))
        .collect();
    let mut out = Vec::new();
    let mut builder = DiffBuilder::new(&mut out, BinlogPos::new("mysql-bin.000002", 400), true);
    let fde = super::event::FormatDescription::parse(&events[0]).expect("fde");
    builder.set_fde("relay-bin.000002", &events[0], fde)?;
    let mut next = events[1..].iter();
    for item in items {
        match item {
            None => builder.reconnected(),
            Some((_, pos)) => {
                let event = next.next().expect("one event per item");
                let pos = (*pos != 0).then(|| BinlogPos::new("mysql-bin.000002", *pos as u64));
                builder.data("relay-bin.000002", event, pos)?;
            }
        }
    }
    builder.finish()
}

fn gtid(pos: u32, seq: u64) -> Option<(Vec<u8>, u32)> {
    Some((super::event::build::gtid(1, pos, seq, 0, false), pos))
}

fn rows(kind: u8, tag: usize) -> Option<(Vec<u8>, u32)> {
    Some((super::event::build::simple(kind, 1, 0, 20 + tag, false), 0))
}

fn commit(pos: u32) -> Option<(Vec<u8>, u32)> {
    Some((
        super::event::build::simple(types::XID, 1, pos, 8, false),
        pos,
    ))
}

const TABLE_MAP: u8 = 19;
const WRITE_ROWS: u8 = 23;

#[test]
fn a_transaction_resent_from_its_start_is_taken_once_whole() {
    let diff = feed(&[
        gtid(500, 7),
        rows(TABLE_MAP, 0),
        rows(WRITE_ROWS, 1),
        None,
        gtid(500, 7),
        rows(TABLE_MAP, 0),
        rows(WRITE_ROWS, 1),
        rows(WRITE_ROWS, 2),
        commit(700),
    ])
    .expect("diff");
    assert_eq!((diff.transactions, diff.events), (1, 5));
    assert_eq!(diff.dropped.len(), 1, "the first, partial copy is left out");
    assert_eq!(diff.to.pos, 700);
}

#[test]
fn a_complete_transaction_resent_is_skipped_with_its_positionless_events() {
    let diff = feed(&[
        gtid(500, 7),
        rows(TABLE_MAP, 0),
        rows(WRITE_ROWS, 1),
        commit(700),
        None,
        gtid(500, 7),
        rows(TABLE_MAP, 0),
        rows(WRITE_ROWS, 1),
        commit(700),
        gtid(760, 8),
        rows(TABLE_MAP, 0),
        rows(WRITE_ROWS, 3),
        commit(900),
    ])
    .expect("diff");
    assert_eq!((diff.transactions, diff.events, diff.duplicates), (2, 8, 4));
    assert!(diff.dropped.is_empty());
}

#[test]
fn a_resend_from_inside_a_positionless_transaction_is_refused() {
    let err = feed(&[
        gtid(500, 7),
        rows(TABLE_MAP, 0),
        rows(WRITE_ROWS, 1),
        None,
        rows(TABLE_MAP, 0),
        rows(WRITE_ROWS, 1),
        commit(700),
    ])
    .expect_err("cannot tell what came twice");
    assert!(
        matches!(err, BinlogError::PositionlessResend { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("binlog_legacy_event_pos"), "{err}");
}
