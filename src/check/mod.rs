//! Use cases `check-ssh` and `check-repl`: gather facts through the adapter
//! traits, decide with the pure core, and return a report to print.

pub(crate) mod detection;
pub(crate) mod repl;
pub(crate) mod semisync;
pub(crate) mod ssh;

/// A finished check: lines to show the user and whether everything passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    pub lines: Vec<String>,
    pub ok: bool,
}
