//! Exit codes of every command, documented in one place.

use std::process::ExitCode;

/// How a command ended. The numbers are part of the user contract (README "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything passed / was done.
    Ok,
    /// A check found problems, or the command could not do its work.
    Failed,
    /// The command line was wrong (clap's own code).
    Usage,
    /// The configuration could not be loaded (the message names file and line),
    /// or `start`/`switch` cannot open its `manager_log`.
    Config,
    /// Failover done: a new master is up, but some slaves could not be recovered (MHA's 10).
    Partial,
    /// `status`: the MHA state number (0 PING_OK, 2 NOT_RUNNING, 50 FAILOVER_RUNNING, ...).
    Code(u8),
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Config => 3,
            Exit::Partial => 10,
            Exit::Code(n) => n,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}
