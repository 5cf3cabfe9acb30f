//! GTID positions: MariaDB `domain-server-seq` lists and MySQL `uuid:intervals` sets.

use std::collections::BTreeMap;

/// One MariaDB GTID, `domain-server_id-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MariaGtid {
    pub domain: u32,
    pub server_id: u32,
    pub seq: u64,
}

/// A MariaDB GTID position (`gtid_slave_pos` etc.): at most one GTID per domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MariaGtidPos {
    pub domains: BTreeMap<u32, MariaGtid>,
}

/// A MySQL GTID set: source UUID (lower case) → sorted, merged, inclusive intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GtidSet {
    pub sets: BTreeMap<String, Vec<(u64, u64)>>,
}
