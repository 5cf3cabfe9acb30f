//! A scripted SSH transport for tier-2 tests: the dead master's host (198.18.0.11)
//! answers or not, lists its binlog, and serves or drops the binlog copy.

use async_trait::async_trait;
use std::sync::Mutex;
use std::time::Duration;

use super::{Output, Remote, RemoteError};
use crate::config::SshSpec;

/// SSH to the dead master's host: answers `true` and lists its binlog, and
/// either serves or drops the binlog copy.
pub(crate) struct FakeRemote {
    pub(crate) master_reachable: bool,
    pub(crate) drop_copy: bool,
    pub(crate) calls: Mutex<Vec<String>>,
    /// Hosts whose sshd refuses (besides the master's, by `master_reachable`).
    pub(crate) down_hosts: Vec<String>,
}

#[async_trait]
impl Remote for FakeRemote {
    async fn run(
        &self,
        target: &SshSpec,
        argv: &[String],
        _t: Duration,
    ) -> Result<Output, RemoteError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("{} {}", target.host, argv.join(" ")));
        let ok = |stdout: &str| {
            Ok(Output {
                code: Some(0),
                stdout: stdout.as_bytes().to_vec(),
                stderr: Vec::new(),
            })
        };
        let master = target.host == "198.18.0.11";
        if (master && !self.master_reachable) || self.down_hosts.contains(&target.host) {
            return Err(RemoteError::Connect {
                target: target.host.clone(),
                reason: "Connection timed out".into(),
            });
        }
        match argv.first().map(String::as_str) {
            Some("ls") => ok("mysql-bin.000010\n"),
            Some("stat") => ok("1000000\n"),
            Some("cat" | "tail" | "head") if self.drop_copy => Err(RemoteError::Session {
                target: target.host.clone(),
                reason: "the connection was terminated".into(),
            }),
            _ => ok(""),
        }
    }

    async fn run_with_input(
        &self,
        t: &SshSpec,
        argv: &[String],
        _i: Vec<u8>,
        d: Duration,
    ) -> Result<Output, RemoteError> {
        self.run(t, argv, d).await
    }
}

/// A transport where the master's host answers (or not) and copies succeed (or drop).
pub(crate) fn remote(master_reachable: bool, drop_copy: bool) -> FakeRemote {
    FakeRemote {
        master_reachable,
        drop_copy,
        calls: Mutex::new(Vec::new()),
        down_hosts: Vec::new(),
    }
}
