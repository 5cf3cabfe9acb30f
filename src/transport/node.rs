//! Operations on a database host over `Remote`: find the server's tools, list
//! log files and stream them (or the part from an offset) into local files,
//! upload a private file from a local one, apply a binlog with the server's
//! own `mysqlbinlog | mysql` (two argv commands, joined through the manager
//! by a bounded pipe, so no remote shell is ever needed and no file is held
//! in memory). A transfer's time limit grows with its size, and a long one
//! logs its progress.

use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};

use super::{Output, Remote, RemoteError};
use crate::config::{Secret, ServerSpec};

/// The slowest transfer rate allowed for before a transfer is given up:
/// its time limit is the command timeout plus its size at this rate.
pub(crate) const MIN_RATE: u64 = 2 << 20;

/// How often a long transfer logs how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// The time limit for moving `bytes`: `base` plus the bytes at [`MIN_RATE`].
pub(crate) fn transfer_timeout(base: Duration, bytes: u64) -> Duration {
    base + Duration::from_secs(bytes / MIN_RATE)
}

/// A failure of a node operation, naming the host and the command.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NodeError {
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error("{host}: `{command}` failed ({}): {reason}", exit_text(*.code))]
    Command {
        host: String,
        command: String,
        code: Option<i32>,
        reason: String,
    },
    #[error("{host}: {what}")]
    Missing { host: String, what: String },
}

/// `exit 1`, or why there is no exit code.
fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(code) => format!("exit {code}"),
        None => "no exit code: killed by a signal or the connection dropped".to_owned(),
    }
}

/// The client tools a host has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tools {
    pub binlog: String,
    pub client: String,
    /// The client's `--version` line (MySQL's or MariaDB's option words).
    pub client_version: String,
}

/// A host reached through `Remote`, with the bounds to use.
pub(crate) struct Node<'a> {
    pub remote: &'a dyn Remote,
    pub spec: &'a ServerSpec,
    pub timeout: Duration,
    pub bindir: Option<&'a str>,
    /// `client_libdir`: the client tools run with it as `LD_LIBRARY_PATH`.
    pub libdir: Option<&'a str>,
}

fn words(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Node<'_> {
    fn host(&self) -> String {
        self.spec.label()
    }

    /// Runs argv and insists on exit 0.
    pub(crate) async fn ok(&self, argv: Vec<String>) -> Result<Output, NodeError> {
        let out = self.remote.run(&self.spec.ssh, &argv, self.timeout).await?;
        self.check(argv, out)
    }

    async fn ok_with_input(&self, argv: Vec<String>, input: Vec<u8>) -> Result<Output, NodeError> {
        let out = self
            .remote
            .run_with_input(&self.spec.ssh, &argv, input, self.timeout)
            .await?;
        self.check(argv, out)
    }

    fn check(&self, argv: Vec<String>, out: Output) -> Result<Output, NodeError> {
        if out.success() {
            Ok(out)
        } else {
            Err(NodeError::Command {
                host: self.host(),
                command: argv.join(" "),
                code: out.code,
                reason: out.stderr_reason(),
            })
        }
    }

    /// The argv of a client tool: as given, or under `env LD_LIBRARY_PATH=`
    /// `client_libdir` when set (argv words, never a shell string).
    pub(crate) fn tool_argv(&self, argv: Vec<String>) -> Vec<String> {
        match self.libdir {
            Some(dir) => {
                let mut with = vec!["env".to_owned(), format!("LD_LIBRARY_PATH={dir}")];
                with.extend(argv);
                with
            }
            None => argv,
        }
    }

    /// `(path, version line)` of the first of `names` that runs (`client_bindir` first).
    pub(crate) async fn find_tool(&self, names: &[&str]) -> Option<(String, String)> {
        let mut candidates = Vec::new();
        if let Some(dir) = self.bindir {
            candidates.extend(
                names
                    .iter()
                    .map(|n| format!("{}/{n}", dir.trim_end_matches('/'))),
            );
        }
        candidates.extend(names.iter().map(|n| (*n).to_owned()));
        for path in candidates {
            let argv = self.tool_argv(vec![path.clone(), "--version".into()]);
            if let Ok(out) = self.remote.run(&self.spec.ssh, &argv, self.timeout).await {
                if out.success() {
                    let version = out
                        .stdout_text()
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_owned();
                    return Some((path, version));
                }
            }
        }
        None
    }

    pub(crate) async fn tools(&self) -> Result<Tools, NodeError> {
        let missing = |what: &str| NodeError::Missing {
            host: self.host(),
            what: format!(
                "no {what} found; install the server's client tools or set client_bindir"
            ),
        };
        let binlog = self
            .find_tool(&["mariadb-binlog", "mysqlbinlog"])
            .await
            .ok_or_else(|| missing("mariadb-binlog/mysqlbinlog"))?
            .0;
        let (client, client_version) = self
            .find_tool(&["mariadb", "mysql"])
            .await
            .ok_or_else(|| missing("mariadb/mysql client"))?;
        Ok(Tools {
            binlog,
            client,
            client_version,
        })
    }

    /// Is `dir` a readable directory?
    pub(crate) async fn readable_dir(&self, dir: &str) -> bool {
        self.ok(words(&[
            "test", "-d", dir, "-a", "-r", dir, "-a", "-x", dir,
        ]))
        .await
        .is_ok()
    }

    /// File names in `dir` (not paths), sorted as `ls` sorts them.
    pub(crate) async fn list(&self, dir: &str) -> Result<Vec<String>, NodeError> {
        let out = self.ok(words(&["ls", "-1", "--", dir])).await?;
        Ok(out.stdout_text().lines().map(str::to_owned).collect())
    }

    /// A file's size in bytes.
    pub(crate) async fn size(&self, path: &str) -> Result<u64, NodeError> {
        let out = self
            .ok(words(&["stat", "-L", "-c", "%s", "--", path]))
            .await?;
        let text = out.stdout_text();
        text.trim().parse().map_err(|_| NodeError::Missing {
            host: self.host(),
            what: format!("`stat` gave no size for {path}: {text:?}"),
        })
    }

    /// The first `n` bytes of a file (small: a log's header events).
    pub(crate) async fn head(&self, path: &str, n: u64) -> Result<Vec<u8>, NodeError> {
        Ok(self
            .ok(words(&["head", "-c", &n.to_string(), "--", path]))
            .await?
            .stdout)
    }

    /// Streams a file's bytes from offset `from` to its end into `sink`
    /// (`tail -c +N`: nothing before `from` is read or sent). `size` is the
    /// file's size, for the time limit and the progress lines. The bytes copied.
    pub(crate) async fn fetch_to(
        &self,
        path: &str,
        from: u64,
        size: u64,
        sink: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<u64, NodeError> {
        let argv = words(&["tail", "-c", &format!("+{}", from + 1), "--", path]);
        let total = size.saturating_sub(from);
        let mut counted = Progress::new(sink, format!("{}: copying {path}", self.host()), total);
        let out = self
            .remote
            .run_to(
                &self.spec.ssh,
                &argv,
                &mut counted,
                transfer_timeout(self.timeout, total),
            )
            .await?;
        let moved = counted.moved;
        self.check(argv, out)?;
        Ok(moved)
    }

    /// Writes `bytes` to `path`, readable by the ssh user only (created 0600
    /// before any byte is written, so a password never sits in a readable file).
    pub(crate) async fn upload_private(&self, path: &str, bytes: Vec<u8>) -> Result<(), NodeError> {
        self.ok(words(&["install", "-m", "600", "/dev/null", path]))
            .await?;
        self.ok_with_input(words(&["dd", &format!("of={path}"), "status=none"]), bytes)
            .await?;
        Ok(())
    }

    /// Writes the local file `local` (of `size` bytes) to `path`, readable
    /// by the ssh user only, streamed.
    pub(crate) async fn upload_file(
        &self,
        path: &str,
        local: &Path,
        size: u64,
    ) -> Result<(), NodeError> {
        self.ok(words(&["install", "-m", "600", "/dev/null", path]))
            .await?;
        let file = tokio::fs::File::open(local)
            .await
            .map_err(|e| NodeError::Missing {
                host: self.host(),
                what: format!("cannot read {}: {e}", local.display()),
            })?;
        let mut source = Progress::new(
            tokio::io::BufReader::with_capacity(1 << 16, file),
            format!("{}: sending {}", self.host(), local.display()),
            size,
        );
        let argv = words(&["dd", &format!("of={path}"), "bs=64k", "status=none"]);
        let out = self
            .remote
            .run_from(
                &self.spec.ssh,
                &argv,
                &mut source,
                transfer_timeout(self.timeout, size),
            )
            .await?;
        self.check(argv, out)?;
        Ok(())
    }

    pub(crate) async fn remove(&self, path: &str) {
        let _ = self.ok(words(&["rm", "-f", "--", path])).await;
    }

    /// Applies a binlog file's events to this host's own server: the local
    /// file `binlog` (of `size` bytes) is streamed to the host, the server's
    /// `mysqlbinlog` turns it into SQL, and its `mysql` client runs it (over
    /// TCP to the server's own address, as the admin user, password in a
    /// 0600 defaults file that is removed afterwards). The SQL flows from one
    /// command to the other through a bounded pipe in the manager.
    pub(crate) async fn apply_binlog(
        &self,
        name: &str,
        binlog: &Path,
        size: u64,
        tools: &Tools,
    ) -> Result<(), NodeError> {
        let dir = self.spec.remote_workdir.trim_end_matches('/');
        let _ = self.ok(words(&["mkdir", "-p", dir])).await;
        let file = format!("{dir}/{name}.binlog");
        let cnf = format!("{dir}/{name}.cnf");
        self.upload_file(&file, binlog, size).await?;
        let result = async {
            self.upload_private(
                &cnf,
                client_defaults(self.spec, &tools.client_version).into_bytes(),
            )
            .await?;
            // SQL text is larger than the events it comes from (row events
            // become base64): allow for it.
            let timeout = transfer_timeout(self.timeout, size.saturating_mul(3));
            let decode = self.tool_argv(vec![tools.binlog.clone(), file.clone()]);
            let run = self.tool_argv(vec![
                tools.client.clone(),
                format!("--defaults-extra-file={cnf}"),
                "--binary-mode".into(),
                "--batch".into(),
                // The client's own limit too: a big transaction is one
                // statement of its size (the server's is raised for the apply).
                "--max-allowed-packet=1073741824".into(),
            ]);
            let (mut write_end, mut read_end) = tokio::io::duplex(1 << 16);
            let decoding = async {
                let out = self
                    .remote
                    .run_to(&self.spec.ssh, &decode, &mut write_end, timeout)
                    .await;
                drop(write_end);
                out
            };
            let running = async {
                let out = self
                    .remote
                    .run_from(&self.spec.ssh, &run, &mut read_end, timeout)
                    .await;
                drop(read_end);
                out
            };
            let (decoded, ran) = tokio::join!(decoding, running);
            // The client's failure says what went wrong in the SQL; the
            // decoder's only what went wrong before.
            let ran = ran
                .map_err(NodeError::from)
                .and_then(|o| self.check(run, o));
            let decoded = decoded
                .map_err(NodeError::from)
                .and_then(|o| self.check(decode, o));
            ran.and(decoded).map(|_| ())
        }
        .await;
        self.remove(&cnf).await;
        self.remove(&file).await;
        result
    }
}

/// Counts the bytes through a reader or writer and logs, every few
/// seconds, how many of the expected total have gone.
struct Progress<T> {
    inner: T,
    what: String,
    total: u64,
    moved: u64,
    last: Instant,
    started: Instant,
}

impl<T> Progress<T> {
    fn new(inner: T, what: String, total: u64) -> Progress<T> {
        Progress {
            inner,
            what,
            total,
            moved: 0,
            last: Instant::now(),
            started: Instant::now(),
        }
    }

    fn count(&mut self, n: usize) {
        self.moved += n as u64;
        if self.last.elapsed() >= PROGRESS_EVERY {
            self.last = Instant::now();
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            tracing::info!(
                "{}: {} of {} MB moved ({:.0} MB/s)",
                self.what,
                self.moved >> 20,
                self.total >> 20,
                self.moved as f64 / secs / (1 << 20) as f64
            );
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Progress<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            self.count(n);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Progress<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let n = buf.filled().len() - before;
            self.count(n);
        }
        r
    }
}

/// A `[client]` option file for the admin account (values double-quoted and
/// escaped), with TLS lines when the account needs TLS, in the words of the
/// client whose `--version` line is `client_version`.
pub(crate) fn client_defaults(spec: &ServerSpec, client_version: &str) -> String {
    format!(
        "[client]\nuser={}\npassword={}\nhost={}\nport={}\nprotocol=TCP\nconnect-timeout=10\n{}",
        option_value(&spec.user),
        option_value(Secret::expose(&spec.password)),
        option_value(spec.mysql_addr()),
        spec.port,
        super::client_tls::client_tls_lines(spec, client_version),
    )
}

pub(super) fn option_value(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_command_says_its_exit_as_a_number() {
        let e = NodeError::Command {
            host: "db2".into(),
            command: "mariadb --batch".into(),
            code: Some(1),
            reason: "ERROR 1062".into(),
        };
        assert_eq!(
            e.to_string(),
            "db2: `mariadb --batch` failed (exit 1): ERROR 1062"
        );
        let e = NodeError::Command {
            host: "db2".into(),
            command: "cat x".into(),
            code: None,
            reason: "".into(),
        };
        assert!(e.to_string().contains("(no exit code: "), "{e}");
    }
    use crate::topology::fixture::spec;

    #[test]
    fn defaults_file_quotes_awkward_passwords() {
        let mut s = spec(2);
        s.user = "ha".into();
        s.password = Secret::new(r#"p"a\ss#;w"#);
        let text = client_defaults(&s, "mysql  Ver 9.7.0 for Linux on x86_64");
        assert!(text.contains(r#"password="p\"a\\ss#;w""#), "{text}");
        assert!(text.contains("protocol=TCP"));
    }

    #[tokio::test]
    async fn client_libdir_runs_the_tools_with_it_as_ld_library_path() {
        let remote = crate::transport::fake::remote(true, false);
        let s = spec(2);
        let mut node = Node {
            remote: &remote,
            spec: &s,
            timeout: Duration::from_secs(1),
            bindir: Some("/opt/mysql/bin"),
            libdir: Some("/opt/mysql/lib"),
        };
        let (path, _) = node.find_tool(&["mysqlbinlog"]).await.expect("found");
        assert_eq!(path, "/opt/mysql/bin/mysqlbinlog");
        node.libdir = None;
        node.find_tool(&["mysql"]).await.expect("found");
        let calls = remote.calls.lock().unwrap().clone();
        assert_eq!(
            calls,
            [
                "198.18.0.12 env LD_LIBRARY_PATH=/opt/mysql/lib /opt/mysql/bin/mysqlbinlog --version",
                "198.18.0.12 /opt/mysql/bin/mysql --version",
            ]
        );
    }
}
