//! Operations on a database host over `Remote`: find the server's tools, list
//! and fetch log files, upload a private file, apply a binlog with the
//! server's own `mysqlbinlog | mysql` (two argv commands, joined through the
//! manager, so no remote shell is ever needed).

use std::time::Duration;

use super::{Output, Remote, RemoteError};
use crate::config::{Secret, ServerSpec};

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
}

/// A host reached through `Remote`, with the bounds to use.
pub(crate) struct Node<'a> {
    pub remote: &'a dyn Remote,
    pub spec: &'a ServerSpec,
    pub timeout: Duration,
    pub bindir: Option<&'a str>,
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
            let argv = vec![path.clone(), "--version".into()];
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
        let client = self
            .find_tool(&["mariadb", "mysql"])
            .await
            .ok_or_else(|| missing("mariadb/mysql client"))?
            .0;
        Ok(Tools { binlog, client })
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

    /// A whole file's bytes.
    pub(crate) async fn fetch(&self, path: &str) -> Result<Vec<u8>, NodeError> {
        Ok(self.ok(words(&["cat", "--", path])).await?.stdout)
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

    pub(crate) async fn remove(&self, path: &str) {
        let _ = self.ok(words(&["rm", "-f", "--", path])).await;
    }

    /// Applies a binlog file's events to this host's own server: the server's
    /// `mysqlbinlog` turns it into SQL, its `mysql` client runs it (over TCP
    /// to the server's own address, as the admin user, password in a 0600
    /// defaults file that is removed afterwards).
    pub(crate) async fn apply_binlog(
        &self,
        name: &str,
        binlog: Vec<u8>,
        tools: &Tools,
    ) -> Result<(), NodeError> {
        let dir = self.spec.remote_workdir.trim_end_matches('/');
        let _ = self.ok(words(&["mkdir", "-p", dir])).await;
        let file = format!("{dir}/{name}.binlog");
        let cnf = format!("{dir}/{name}.cnf");
        self.upload_private(&file, binlog).await?;
        let result = async {
            let sql = self
                .ok(vec![tools.binlog.clone(), file.clone()])
                .await?
                .stdout;
            self.upload_private(&cnf, client_defaults(self.spec).into_bytes())
                .await?;
            self.ok_with_input(
                vec![
                    tools.client.clone(),
                    format!("--defaults-extra-file={cnf}"),
                    "--binary-mode".into(),
                    "--batch".into(),
                ],
                sql,
            )
            .await
            .map(|_| ())
        }
        .await;
        self.remove(&cnf).await;
        self.remove(&file).await;
        result
    }
}

/// A `[client]` option file for the admin account (values double-quoted and escaped).
pub(crate) fn client_defaults(spec: &ServerSpec) -> String {
    format!(
        "[client]\nuser={}\npassword={}\nhost={}\nport={}\nprotocol=TCP\nconnect-timeout=10\n",
        option_value(&spec.user),
        option_value(Secret::expose(&spec.password)),
        option_value(spec.mysql_addr()),
        spec.port
    )
}

fn option_value(value: &str) -> String {
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
        let text = client_defaults(&s);
        assert!(text.contains(r#"password="p\"a\\ss#;w""#), "{text}");
        assert!(text.contains("protocol=TCP"));
    }
}
