//! Binlog coordinates, ordered by file sequence number then offset (never as strings).

/// A position in a binlog: file name as the server spells it, and byte offset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BinlogPos {
    pub file: String,
    pub pos: u64,
}
