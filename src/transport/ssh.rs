//! The real `Remote`: one multiplexed OpenSSH session per host, reused, host keys checked.

use async_trait::async_trait;
use openssh::{ControlPersist, KnownHosts, Session, SessionBuilder};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

use super::{describe, options, Output, Remote, RemoteError};
use crate::config::{HostKeyCheck, SshSpec};
use tokio::io::{AsyncRead, AsyncWrite};

/// sshd's default `MaxSessions` is 10; stay below it per host.
const PER_HOST_COMMANDS: usize = 8;

/// Runs commands over OpenSSH with ControlMaster multiplexing.
///
/// Dropping it ends every ssh master it started: the sessions are dropped
/// first (fields drop in order), each telling its master to exit through its
/// control socket, and only then is the private directory holding those
/// sockets removed. `ControlPersist` is finite as well, so a master whose
/// manager was killed exits once idle.
pub(crate) struct SshRemote {
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
    known_hosts_file: Option<PathBuf>,
    host_key_check: HostKeyCheck,
    /// Private directory (0700) for control sockets and generated ssh configs.
    workdir: tempfile::TempDir,
}

/// How long an idle ssh master outlives its last command.
const CONTROL_PERSIST: Duration = Duration::from_secs(60);

/// A session left idle this long is checked (`ssh -O check`, local) before
/// it is used again: its master may have exited meanwhile (`ControlPersist`
/// expired, or a network cut ended it through `ServerAliveInterval`), and a
/// command sent to a dead master fails without reaching the host.
const RECHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// One host: its session (created lazily, dropped when it breaks) and a command bound.
struct HostSlot {
    session: Mutex<Option<Cached>>,
    permits: Semaphore,
}

/// A session and when it was last handed out.
struct Cached {
    session: Arc<Session>,
    used: Instant,
}

impl SshRemote {
    pub(crate) fn new(
        known_hosts_file: Option<PathBuf>,
        host_key_check: HostKeyCheck,
    ) -> std::io::Result<Self> {
        // Unix socket paths are limited to ~108 bytes: keep the directory short.
        let workdir = tempfile::Builder::new()
            .prefix("ha-ssh.")
            .tempdir_in("/tmp")?;
        Ok(SshRemote {
            hosts: Mutex::new(HashMap::new()),
            known_hosts_file,
            host_key_check,
            workdir,
        })
    }

    async fn slot(&self, key: &str) -> Arc<HostSlot> {
        let mut hosts = self.hosts.lock().await;
        hosts
            .entry(key.to_owned())
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    session: Mutex::new(None),
                    permits: Semaphore::new(PER_HOST_COMMANDS),
                })
            })
            .clone()
    }

    async fn session(
        &self,
        slot: &HostSlot,
        target: &SshSpec,
    ) -> Result<Arc<Session>, RemoteError> {
        let mut guard = slot.session.lock().await;
        if let Some(cached) = guard.as_mut() {
            if !needs_check(cached.used.elapsed()) || cached.session.check().await.is_ok() {
                cached.used = Instant::now();
                return Ok(cached.session.clone());
            }
            tracing::debug!("{}: ssh master gone, reconnecting", describe(target));
            guard.take();
        }
        let session = Arc::new(self.connect(target).await?);
        *guard = Some(Cached {
            session: session.clone(),
            used: Instant::now(),
        });
        Ok(session)
    }

    async fn connect(&self, target: &SshSpec) -> Result<Session, RemoteError> {
        let name = describe(target);
        let config = self
            .write_config(target)
            .map_err(|reason| RemoteError::Options {
                target: name.clone(),
                reason,
            })?;
        let mut builder = SessionBuilder::default();
        builder
            .known_hosts_check(match self.host_key_check {
                HostKeyCheck::Strict => KnownHosts::Strict,
                HostKeyCheck::AcceptNew => KnownHosts::Add,
            })
            .connect_timeout(target.connection_timeout)
            .server_alive_interval(Duration::from_secs(2))
            .control_persist(ControlPersist::IdleFor(
                std::num::NonZeroUsize::new(CONTROL_PERSIST.as_secs() as usize)
                    .unwrap_or(std::num::NonZeroUsize::MIN),
            ))
            .port(target.port)
            .control_directory(self.workdir.path())
            .config_file(&config);
        if let Some(user) = &target.user {
            builder.user(user.clone());
        }
        if let Some(file) = &self.known_hosts_file {
            builder.user_known_hosts_file(file);
        }
        // ssh's own ConnectTimeout covers the TCP connect; bound the handshake too.
        let limit = target.connection_timeout + Duration::from_secs(5);
        match tokio::time::timeout(limit, builder.connect_mux(&target.host)).await {
            Err(_) => Err(RemoteError::Connect {
                target: name,
                reason: format!("no answer within {}s", limit.as_secs()),
            }),
            Ok(Err(e)) => Err(RemoteError::Connect {
                target: name,
                reason: connect_reason(&e),
            }),
            Ok(Ok(session)) => Ok(session),
        }
    }

    /// Writes the ssh_config generated from `ssh_options`, followed by the
    /// user's and the system's config so that those still apply.
    fn write_config(&self, target: &SshSpec) -> Result<PathBuf, String> {
        let mut lines = options::to_ssh_config(&target.options)?;
        lines.push("Include ~/.ssh/config".to_owned());
        lines.push("Include /etc/ssh/ssh_config".to_owned());
        let file = config_path(self.workdir.path(), target);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        Ok(file)
    }
}

/// Must a session idle for `idle` be checked before it is reused?
fn needs_check(idle: Duration) -> bool {
    idle >= RECHECK_AFTER_IDLE
}

fn config_path(dir: &Path, target: &SshSpec) -> PathBuf {
    let safe: String = describe(target)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    dir.join(format!("{safe}.config"))
}

/// ssh's own words for why it could not connect (host key, auth, refused, ...).
fn connect_reason(err: &openssh::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let text = s.to_string();
        let text = text.trim();
        if !text.is_empty() && !parts.iter().any(|p| p == text) {
            parts.push(text.to_owned());
        }
        source = s.source();
    }
    parts.join(": ")
}

#[async_trait]
impl Remote for SshRemote {
    async fn run(
        &self,
        target: &SshSpec,
        argv: &[String],
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        self.run_with_input(target, argv, Vec::new(), timeout).await
    }

    async fn run_with_input(
        &self,
        target: &SshSpec,
        argv: &[String],
        input: Vec<u8>,
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        // One implementation: the input is a source like any other (empty:
        // the command reads end of file at once).
        self.stream(target, argv, Stream::From(&mut input.as_slice()), timeout)
            .await
    }

    async fn run_to(
        &self,
        target: &SshSpec,
        argv: &[String],
        sink: &mut (dyn AsyncWrite + Send + Unpin),
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        self.stream(target, argv, Stream::To(sink), timeout).await
    }

    async fn run_from(
        &self,
        target: &SshSpec,
        argv: &[String],
        source: &mut (dyn AsyncRead + Send + Unpin),
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        self.stream(target, argv, Stream::From(source), timeout)
            .await
    }
}

/// Which end of a streamed command the caller holds.
enum Stream<'s> {
    To(&'s mut (dyn AsyncWrite + Send + Unpin)),
    From(&'s mut (dyn AsyncRead + Send + Unpin)),
}

impl SshRemote {
    /// Runs `argv` with its stdout copied to a sink, or its stdin read from
    /// a source, through tokio's bounded copy buffer.
    async fn stream(
        &self,
        target: &SshSpec,
        argv: &[String],
        stream: Stream<'_>,
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let name = describe(target);
        let program = argv.first().cloned().unwrap_or_default();
        let slot = self.slot(&name).await;
        let work = async {
            let session = self.session(&slot, target).await?;
            let _permit = slot
                .permits
                .acquire()
                .await
                .map_err(|_| RemoteError::Session {
                    target: name.clone(),
                    reason: "transport is shutting down".into(),
                })?;
            let failed = |e: openssh::Error| RemoteError::Session {
                target: name.clone(),
                reason: connect_reason(&e),
            };
            let io_failed = |e: std::io::Error| RemoteError::Session {
                target: name.clone(),
                reason: format!("streaming {program}: {e}"),
            };
            let mut cmd = session.command(program.as_str());
            cmd.args(&argv[1.min(argv.len())..]);
            cmd.stdin(openssh::Stdio::piped())
                .stdout(openssh::Stdio::piped())
                .stderr(openssh::Stdio::piped());
            let mut child = cmd.spawn().await.map_err(failed)?;
            let mut stderr_pipe = child.stderr().take();
            let stderr = async {
                let mut buf = Vec::new();
                if let Some(e) = stderr_pipe.as_mut() {
                    let _ = e.read_to_end(&mut buf).await;
                }
                buf
            };
            match stream {
                Stream::To(sink) => {
                    drop(child.stdin().take());
                    let mut stdout = child.stdout().take();
                    let copy = async {
                        if let Some(out) = stdout.as_mut() {
                            tokio::io::copy(out, sink).await?;
                        }
                        sink.shutdown().await
                    };
                    let (copied, stderr) = tokio::join!(copy, stderr);
                    drop(stdout);
                    let status = child.wait().await.map_err(failed)?;
                    copied.map_err(io_failed)?;
                    Ok::<_, RemoteError>(Output {
                        code: status.code(),
                        stdout: Vec::new(),
                        stderr,
                    })
                }
                Stream::From(source) => {
                    let mut stdin = child.stdin().take();
                    let mut stdout_pipe = child.stdout().take();
                    let feed = async {
                        let r = match stdin.as_mut() {
                            Some(i) => tokio::io::copy(source, i).await.map(|_| ()),
                            None => Ok(()),
                        };
                        if let Some(mut i) = stdin.take() {
                            let _ = i.shutdown().await;
                        }
                        r
                    };
                    let stdout = async {
                        let mut buf = Vec::new();
                        if let Some(o) = stdout_pipe.as_mut() {
                            let _ = o.read_to_end(&mut buf).await;
                        }
                        buf
                    };
                    let (fed, stdout, stderr) = tokio::join!(feed, stdout, stderr);
                    let status = child.wait().await.map_err(failed)?;
                    let out = Output {
                        code: status.code(),
                        stdout,
                        stderr,
                    };
                    // The command may end before reading all its input (it failed): its exit says why.
                    if out.success() {
                        fed.map_err(io_failed)?;
                    }
                    Ok(out)
                }
            }
        };
        let result = match tokio::time::timeout(timeout, work).await {
            Err(_) => Err(RemoteError::Timeout {
                target: name.clone(),
                program,
                after: timeout,
            }),
            Ok(r) => r,
        };
        if let Err(e) = &result {
            if !matches!(e, RemoteError::Connect { .. } | RemoteError::Options { .. }) {
                slot.session.lock().await.take();
            }
        }
        result
    }
}
