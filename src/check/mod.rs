//! Use cases `check-ssh` and `check-repl`: gather facts through the adapter
//! traits, decide with the pure core, and return a report to print.

pub mod repl;
pub mod ssh;

/// A finished check: lines to show the user and whether everything passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub lines: Vec<String>,
    pub ok: bool,
}
