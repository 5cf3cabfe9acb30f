//! Exit codes of every command, documented in one place.

use std::process::ExitCode;

/// How a command ended. The numbers are part of the user contract (README "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything passed / was done.
    Ok = 0,
    /// A check found problems, or the command could not do its work.
    Failed = 1,
    /// The command line was wrong (clap's own code).
    Usage = 2,
    /// The configuration could not be loaded; the message names file and line.
    Config = 3,
    /// Failover done: a new master is up, but some slaves could not be recovered (MHA's 10).
    Partial = 10,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}
