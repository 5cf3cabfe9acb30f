//! Table tests for MariaDB GTID positions and MySQL GTID sets.

use super::*;

const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const U2: &str = "8f5a0c3e-2b1d-11ef-a001-0242c0a80002";

fn mpos(text: &str) -> MariaGtidPos {
    MariaGtidPos::parse(text).expect("valid MariaDB position")
}

fn set(text: &str) -> GtidSet {
    GtidSet::parse(text).expect("valid GTID set")
}

#[test]
fn maria_parse_and_display() {
    let cases = [
        ("", ""),
        ("   ", ""),
        ("0-1-100", "0-1-100"),
        ("0-1-100,1-2-5", "0-1-100,1-2-5"),
        // As MariaDB prints Gtid_IO_Pos: not sorted by domain.
        ("1-1-1,0-1-6", "0-1-6,1-1-1"),
        (" 0-1-100 ,\n 1-2-5 ", "0-1-100,1-2-5"),
        // gtid_binlog_state style: one entry per server id; the highest wins.
        ("0-1-100,0-2-101,0-3-99", "0-2-101"),
        ("0-1-100,", "0-1-100"),
        (
            "4294967295-4294967295-18446744073709551615",
            "4294967295-4294967295-18446744073709551615",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(mpos(text).to_string(), want, "{text:?}");
    }
}

#[test]
fn maria_parse_errors() {
    for text in [
        "0-1",
        "0-1-2-3",
        "a-1-2",
        "0-1-x",
        "-1-2-3",
        "0--1",
        "0-1-100;1-2-5",
        "0-1- 2",
    ] {
        let err = MariaGtidPos::parse(text).expect_err(text);
        assert!(matches!(err, GtidError::MariaShape(_)), "{text}: {err}");
    }
}

#[test]
fn maria_contains_and_ahead() {
    // (a, b, a.contains(b), a.is_ahead_of(b), a.compare(b))
    let cases = [
        ("", "", true, false, Some(Ordering::Equal)),
        ("0-1-5", "", true, true, Some(Ordering::Greater)),
        ("", "0-1-5", false, false, Some(Ordering::Less)),
        ("0-1-5", "0-1-5", true, false, Some(Ordering::Equal)),
        // The server id does not matter for containment; the sequence does.
        ("0-2-5", "0-1-5", true, false, Some(Ordering::Equal)),
        ("0-1-6", "0-1-5", true, true, Some(Ordering::Greater)),
        ("0-1-4", "0-1-5", false, false, Some(Ordering::Less)),
        ("0-1-6,1-1-1", "0-1-6", true, true, Some(Ordering::Greater)),
        ("0-1-6", "0-1-6,1-1-1", false, false, Some(Ordering::Less)),
        ("0-1-7,1-1-1", "0-1-6,1-1-2", false, false, None),
        (
            "0-1-7,1-1-2",
            "0-1-6,1-1-2",
            true,
            true,
            Some(Ordering::Greater),
        ),
    ];
    for (a, b, contains, ahead, cmp) in cases {
        let (a_pos, b_pos) = (mpos(a), mpos(b));
        assert_eq!(a_pos.contains(&b_pos), contains, "{a:?} contains {b:?}");
        assert_eq!(a_pos.is_ahead_of(&b_pos), ahead, "{a:?} ahead of {b:?}");
        assert_eq!(a_pos.compare(&b_pos), cmp, "{a:?} vs {b:?}");
    }
}

#[test]
fn maria_seq_lookup() {
    let pos = mpos("0-1-6,1-1-1");
    assert_eq!(pos.seq(0), Some(6));
    assert_eq!(pos.seq(1), Some(1));
    assert_eq!(pos.seq(2), None);
    assert!(!pos.is_empty());
    assert!(mpos("").is_empty());
}

#[test]
fn mysql_parse_and_display() {
    let cases = [
        (String::new(), String::new()),
        (format!("{U1}:1-5"), format!("{U1}:1-5")),
        (format!("{U1}:1-5:7"), format!("{U1}:1-5:7")),
        // Adjacent intervals merge, in any order.
        (format!("{U1}:6-9:1-5"), format!("{U1}:1-9")),
        (format!("{U1}:1-3:4:5-7"), format!("{U1}:1-7")),
        // Overlaps and containment merge.
        (format!("{U1}:1-5:3-8:2"), format!("{U1}:1-8")),
        // Not adjacent: stays two intervals.
        (format!("{U1}:1-3:5-7"), format!("{U1}:1-3:5-7")),
        // The same UUID twice merges; upper case is normalised.
        (
            format!("{}:1-3,\n{U2}:1-2,\n{U1}:4-4", U1.to_uppercase()),
            format!("{U1}:1-4,{U2}:1-2"),
        ),
        // MySQL prints Executed_Gtid_Set with newlines after commas.
        (
            format!("{U2}:1-3,\n{U1}:1-100\n"),
            format!("{U1}:1-100,{U2}:1-3"),
        ),
        // Tagged GTIDs (MySQL 8.3+) keep their own key.
        (
            format!("{U1}:1-5:Tag_1:1-3:7"),
            format!("{U1}:1-5,{U1}:tag_1:1-3:7"),
        ),
        (format!("{U1}:1:2:3, "), format!("{U1}:1-3")),
    ];
    for (text, want) in cases {
        assert_eq!(set(&text).to_string(), want, "{text:?}");
        // Display output parses back to the same set.
        assert_eq!(set(&want), set(&text), "{want:?}");
    }
}

#[test]
fn mysql_parse_errors() {
    let cases = [
        (U1.to_string(), "uuid:interval"),
        ("not-a-uuid:1-5".to_string(), "UUID"),
        ("3e11fa47-71ca-11e1-9e33-c80aa942956:1".to_string(), "UUID"),
        ("3e11fa47-71ca-11e1-9e33-c80aa942956z:1".to_string(), "UUID"),
        (format!("{U1}:0-5"), "interval"),
        (format!("{U1}:5-3"), "interval"),
        (format!("{U1}:1-"), "interval"),
        (format!("{U1}:1-x"), "interval"),
        (format!("{U1}:99999999999999999999999"), "interval"),
        (format!("{U1}::1"), "tag"),
        (format!("{U1}:9tag:1"), "interval"),
        (format!("{U1}:bad-tag:1"), "tag"),
        (format!("{U1}:{}:1", "t".repeat(33)), "tag"),
    ];
    for (text, msg) in cases {
        let err = GtidSet::parse(&text).expect_err(&text).to_string();
        assert!(err.contains(msg), "{text:?}: {err}");
    }
}

#[test]
fn mysql_union() {
    let cases = [
        ("", "", String::new()),
        (&*format!("{U1}:1-5"), "", format!("{U1}:1-5")),
        (
            &*format!("{U1}:1-5"),
            &*format!("{U1}:6-9"),
            format!("{U1}:1-9"),
        ),
        (
            &*format!("{U1}:1-5"),
            &*format!("{U1}:8-9"),
            format!("{U1}:1-5:8-9"),
        ),
        (
            &*format!("{U1}:1-5"),
            &*format!("{U2}:1"),
            format!("{U1}:1-5,{U2}:1"),
        ),
        (
            &*format!("{U1}:1-5:10-20"),
            &*format!("{U1}:3-12"),
            format!("{U1}:1-20"),
        ),
    ]
    .map(|(a, b, w)| (a.to_string(), b.to_string(), w));
    for (a, b, want) in cases {
        assert_eq!(set(&a).union(&set(&b)).to_string(), want, "{a} ∪ {b}");
        assert_eq!(set(&b).union(&set(&a)).to_string(), want, "{b} ∪ {a}");
    }
}

#[test]
fn mysql_difference_and_subset() {
    // (a, b, a − b, a ⊆ b)
    let cases = [
        (String::new(), format!("{U1}:1-5"), String::new(), true),
        (
            format!("{U1}:1-5"),
            String::new(),
            format!("{U1}:1-5"),
            false,
        ),
        (
            format!("{U1}:1-5"),
            format!("{U1}:1-5"),
            String::new(),
            true,
        ),
        (
            format!("{U1}:1-5"),
            format!("{U1}:1-9"),
            String::new(),
            true,
        ),
        (
            format!("{U1}:1-9"),
            format!("{U1}:1-5"),
            format!("{U1}:6-9"),
            false,
        ),
        (
            format!("{U1}:1-9"),
            format!("{U1}:3-4"),
            format!("{U1}:1-2:5-9"),
            false,
        ),
        (
            format!("{U1}:1-9"),
            format!("{U1}:1:3:5:7:9"),
            format!("{U1}:2:4:6:8"),
            false,
        ),
        (
            format!("{U1}:1-9"),
            format!("{U1}:5-20"),
            format!("{U1}:1-4"),
            false,
        ),
        (
            format!("{U1}:5-9"),
            format!("{U1}:1-4:10-12"),
            format!("{U1}:5-9"),
            false,
        ),
        (
            format!("{U1}:1-5:10-15"),
            format!("{U1}:4-11"),
            format!("{U1}:1-3:12-15"),
            false,
        ),
        // An errant transaction from another source.
        (
            format!("{U1}:1-9,{U2}:1"),
            format!("{U1}:1-20"),
            format!("{U2}:1"),
            false,
        ),
        (
            format!("{U1}:1-9"),
            format!("{U2}:1-9"),
            format!("{U1}:1-9"),
            false,
        ),
        (
            format!("{U1}:1-18446744073709551615"),
            format!("{U1}:2-18446744073709551614"),
            format!("{U1}:1:18446744073709551615"),
            false,
        ),
    ];
    for (a, b, want, subset) in cases {
        assert_eq!(set(&a).difference(&set(&b)).to_string(), want, "{a} − {b}");
        assert_eq!(set(&a).is_subset(&set(&b)), subset, "{a} ⊆ {b}");
    }
}

/// Property: (a − b) ∪ (a ∩ b) reconstructs a, and (a − b) shares nothing
/// with b, over generated interval sets (no crate: a fixed xorshift).
#[test]
fn mysql_set_algebra_properties() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..300 {
        let mut a = GtidSet::default();
        let mut b = GtidSet::default();
        for target in [&mut a, &mut b] {
            for _ in 0..(next() % 5) {
                let start = next() % 40 + 1;
                let len = next() % 8;
                let key = if next() % 3 == 0 { U2 } else { U1 };
                target.add_interval(key, start, start + len);
            }
        }
        let a_minus_b = a.difference(&b);
        let a_and_b = a.difference(&a_minus_b);
        assert_eq!(a_minus_b.union(&a_and_b), a, "a={a} b={b}");
        assert!(
            a_minus_b.difference(&b) == a_minus_b,
            "a−b overlaps b: a={a} b={b}"
        );
        assert!(a_and_b.is_subset(&b), "a∩b ⊄ b: a={a} b={b}");
        assert_eq!(a.is_subset(&b), a_minus_b.is_empty());
        assert!(a.is_subset(&a.union(&b)));
        // Membership agrees with interval arithmetic, number by number.
        for n in 1..=50 {
            let want = a.contains_gtid(U1, n) && !b.contains_gtid(U1, n);
            assert_eq!(a_minus_b.contains_gtid(U1, n), want, "n={n} a={a} b={b}");
        }
    }
}

#[test]
fn mysql_count_and_membership() {
    let s = set(&format!("{U1}:1-5:7,{U2}:10-19"));
    assert_eq!(s.count(), 16);
    assert!(s.contains_gtid(U1, 7));
    assert!(!s.contains_gtid(U1, 6));
    assert!(!s.contains_gtid("other", 1));
    let mut t = GtidSet::default();
    t.add_interval(U1, 5, 4); // empty interval: ignored
    assert!(t.is_empty());
}

/// A tagged set as a real MySQL 9.7.4 prints it (`SELECT @@gtid_executed`
/// after `SET gtid_next='AUTOMATIC:ha_tag'` and `'AUTOMATIC:Batch_2'`): tags
/// in one element after the untagged intervals, lower-cased by the server.
#[test]
fn tagged_set_from_a_real_mysql_97() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/replica_status/mysql-9.7-gtid-tagged-executed.txt"
    ))
    .expect("fixture");
    let got = set(text.trim());
    let uuid = text.split(':').next().unwrap().to_owned();
    assert_eq!(got.count(), 11, "9 untagged + 2 tagged");
    assert!(got.contains_gtid(&uuid, 9));
    assert!(got.contains_gtid(&format!("{uuid}:ha_tag"), 1));
    assert!(got.contains_gtid(&format!("{uuid}:batch_2"), 1));
    assert!(!got.contains_gtid(&uuid, 10));
    // What a replica lacks when it has only the untagged part: the two tagged GTIDs.
    let untagged = set(&format!("{uuid}:1-9"));
    let missing = got.difference(&untagged);
    assert_eq!(missing.count(), 2);
    assert!(untagged.is_subset(&got) && !got.is_subset(&untagged));
    // Printed back, it parses to the same set (MySQL accepts the per-tag form).
    assert_eq!(set(&got.to_string()), got);
}

#[test]
fn mariadb_binlog_state_keeps_every_server_id_of_a_domain() {
    // As `SELECT @@gtid_binlog_state` answers after a failover and a local write.
    let state = MariaGtidState::parse("0-1-100,0-2-150, 0-3-7,1-3-2").expect("parses");
    assert_eq!(state.seq(0, 1), Some(100));
    assert_eq!(state.seq(0, 2), Some(150));
    assert_eq!(state.seq(0, 3), Some(7));
    assert_eq!(state.seq(1, 3), Some(2));
    assert_eq!(state.seq(1, 1), None);
    assert_eq!(state.to_string(), "0-1-100,0-2-150,0-3-7,1-3-2");
    let mut s = MariaGtidState::parse("").expect("empty");
    s.extend_pos(&MariaGtidPos::parse("0-2-160,2-9-1").expect("pos"));
    s.insert(MariaGtid::parse("0-2-10").expect("gtid"));
    assert_eq!(
        s.to_string(),
        "0-2-160,2-9-1",
        "the higher sequence is kept"
    );
    assert!(MariaGtidState::parse("0-1").is_err());
}
