//! The pure core: positions, GTIDs, server facts, topology discovery, validation, election.
//!
//! Rule: nothing in here does I/O, awaits, reads a clock or logs. Decisions
//! return their reasons as values so that tests can assert them.

pub(crate) mod applied;
pub(crate) mod errant;
#[cfg(test)]
pub(crate) mod fixture;
pub(crate) mod gtid;
pub(crate) mod position;
pub(crate) mod roles;
pub(crate) mod select;
pub(crate) mod semisync;
pub(crate) mod snapshot;
pub(crate) mod status;
pub(crate) mod tiers;
pub(crate) mod validate;
