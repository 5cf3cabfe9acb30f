//! The pure core: positions, GTIDs, server facts, topology discovery, validation, election.
//!
//! Rule: nothing in here does I/O, awaits, reads a clock or logs. Decisions
//! return their reasons as values so that tests can assert them.

#[cfg(test)]
pub mod fixture;
pub mod gtid;
pub mod position;
pub mod select;
pub mod snapshot;
pub mod status;
pub mod validate;
