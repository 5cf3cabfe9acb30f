//! SSH transport adapter: the `Remote` trait and its openssh implementation.
//!
//! Commands are always argv: each argument is escaped for the remote shell by
//! the transport, so no configuration value is ever interpreted by a shell.

mod client_tls;
#[cfg(test)]
pub(crate) mod fake;
pub(crate) mod node;
pub(crate) mod options;
mod ssh;

use async_trait::async_trait;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::SshSpec;

pub(crate) use ssh::SshRemote;

/// What a finished remote command left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Output {
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub(crate) fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub(crate) fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end().to_owned()
    }

    /// The last line of stderr, which is where tools put the reason.
    pub(crate) fn stderr_reason(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_owned()
    }
}

/// Why a remote command could not be run at all (as opposed to running and failing).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RemoteError {
    #[error("ssh to {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("ssh to {target}: no answer within {}s while running {program}", .after.as_secs())]
    Timeout {
        target: String,
        program: String,
        after: Duration,
    },
    #[error("ssh to {target}: {reason}")]
    Session { target: String, reason: String },
    #[error("bad ssh_options for {target}: {reason}")]
    Options { target: String, reason: String },
}

/// Runs commands on the database hosts.
#[async_trait]
pub(crate) trait Remote: Send + Sync {
    /// Runs `argv` on the host of `target`, bounded by `timeout`.
    async fn run(
        &self,
        target: &SshSpec,
        argv: &[String],
        timeout: Duration,
    ) -> Result<Output, RemoteError>;

    /// Runs `argv` with `input` on its standard input (how files and SQL reach a
    /// host without a shell: `dd of=FILE`, `mysql ...`).
    async fn run_with_input(
        &self,
        target: &SshSpec,
        argv: &[String],
        input: Vec<u8>,
        timeout: Duration,
    ) -> Result<Output, RemoteError>;

    /// Runs `argv`, its standard output copied into `sink` as it comes
    /// (through a bounded buffer; the returned `stdout` is empty). `sink` is
    /// shut down at the end. (The default, for scripted transports, buffers.)
    async fn run_to(
        &self,
        target: &SshSpec,
        argv: &[String],
        sink: &mut (dyn AsyncWrite + Send + Unpin),
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        use tokio::io::AsyncWriteExt;
        let mut out = self.run(target, argv, timeout).await?;
        let stdout = std::mem::take(&mut out.stdout);
        let failed = |e: std::io::Error| RemoteError::Session {
            target: describe(target),
            reason: e.to_string(),
        };
        sink.write_all(&stdout).await.map_err(failed)?;
        sink.shutdown().await.map_err(failed)?;
        Ok(out)
    }

    /// Runs `argv`, its standard input read from `source` as it goes. (The
    /// default, for scripted transports, buffers.)
    async fn run_from(
        &self,
        target: &SshSpec,
        argv: &[String],
        source: &mut (dyn AsyncRead + Send + Unpin),
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        use tokio::io::AsyncReadExt;
        let mut input = Vec::new();
        source
            .read_to_end(&mut input)
            .await
            .map_err(|e| RemoteError::Session {
                target: describe(target),
                reason: e.to_string(),
            })?;
        self.run_with_input(target, argv, input, timeout).await
    }
}

/// `user@host:port` for messages.
pub(crate) fn describe(target: &SshSpec) -> String {
    match &target.user {
        Some(user) => format!("{user}@{}:{}", target.host, target.port),
        None => format!("{}:{}", target.host, target.port),
    }
}
