//! Binary log and relay log files: event headers, finding a master position in relay logs, cutting diffs.
// TEMPORARY STUB (replaced by the binlog branch)
#[derive(Debug, Clone)]
pub struct LogFile {
    pub name: String,
    pub bytes: Vec<u8>,
}
pub struct Diff {
    pub bytes: Vec<u8>,
    pub events: usize,
    pub from: crate::topology::position::BinlogPos,
    pub to: crate::topology::position::BinlogPos,
}
pub struct RelayCut;
pub fn find_master_pos(
    _: &[LogFile],
    _: &crate::topology::position::BinlogPos,
) -> Result<RelayCut, String> {
    Err("stub".into())
}
pub fn cut_diff(_: &[LogFile], _: &RelayCut) -> Result<Diff, String> {
    Err("stub".into())
}
pub fn binlog_tail(
    _: &[LogFile],
    _: &crate::topology::position::BinlogPos,
) -> Result<Diff, String> {
    Err("stub".into())
}
