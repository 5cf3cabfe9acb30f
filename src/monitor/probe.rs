//! The monitor's I/O: pinging the master, and gathering what the confirmation needs.
//!
//! Every call here is bounded: a ping by `ping_interval`, a replica's
//! connect and facts by `mysql_timeout` each, the SSH check by the master's
//! `ssh_connection_timeout`, the secondary check by `command_timeout`.

use crate::config::ServerId;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::config::{Config, PingType, ServerSpec};
use crate::mysql::{Connector, Db, DbError};
use crate::policy::death::{
    Fresh, HostProbe, PingOutcome, ReceivedMark, ReplicaView, SecondaryResult, Seen, SshReach,
};
use crate::topology::snapshot::Node;
use crate::transport::{Output, Remote, RemoteError};

/// Runs the `secondary_check_script` (or anything else that can tell
/// whether the master is down from elsewhere). Implemented over the hook
/// runner by [`super::secondary::HookSecondary`]; tests script it.
#[async_trait]
pub(crate) trait SecondaryCheck: Send + Sync {
    /// Checks `master` from other network paths. The exit code follows
    /// `masterha_secondary_check` (0 down, 2 network problem, 3 reachable).
    async fn run(&self, master: &ServerSpec) -> SecondaryResult;
}

/// Pings the master, keeping a connection between pings for `SELECT` and
/// `INSERT` and opening a fresh one each time for `CONNECT`.
pub(crate) struct Pinger {
    spec: ServerSpec,
    connector: Arc<dyn Connector>,
    ping_type: PingType,
    /// Bound on one whole ping, connect included.
    limit: Duration,
    /// Bound on connecting: min(ping_interval, mysql_timeout).
    connect_timeout: Duration,
    conn: Option<Box<dyn Db>>,
}

impl Pinger {
    pub(crate) fn new(
        spec: ServerSpec,
        connector: Arc<dyn Connector>,
        ping_type: PingType,
        interval: Duration,
        mysql_timeout: Duration,
    ) -> Pinger {
        Pinger {
            spec,
            connector,
            ping_type,
            limit: interval,
            connect_timeout: interval.min(mysql_timeout),
            conn: None,
        }
    }

    /// One ping, bounded by the interval. A failed or timed-out ping drops
    /// the connection: reusing one whose call was abandoned would wait for
    /// the abandoned answer.
    pub(crate) async fn ping(&mut self) -> PingOutcome {
        let limit = self.limit;
        let result = timeout(limit, self.attempt()).await;
        match result {
            Ok(Ok(())) => PingOutcome::Ok,
            Ok(Err(e)) => {
                self.drop_connection();
                classify(&e)
            }
            Err(_) => {
                self.drop_connection();
                PingOutcome::Miss {
                    reason: format!("no answer within {}s", limit.as_secs_f64()),
                }
            }
        }
    }

    /// Forgets the current connection (the next ping reconnects).
    pub(crate) fn drop_connection(&mut self) {
        // Dropped rather than closed: a connection in doubt may not answer
        // a polite close either, and the ping loop must not wait for it.
        self.conn = None;
    }

    async fn attempt(&mut self) -> Result<(), DbError> {
        if self.ping_type == PingType::Connect {
            let db = self
                .connector
                .connect(&self.spec, self.connect_timeout)
                .await?;
            db.close().await;
            return Ok(());
        }
        let db = match self.conn.take() {
            Some(db) => db,
            None => {
                self.connector
                    .connect(&self.spec, self.connect_timeout)
                    .await?
            }
        };
        let result = match self.ping_type {
            PingType::Insert => db.ping_insert().await,
            PingType::Select | PingType::Connect => db.ping().await,
        };
        // Kept only when it answered; on error it is dropped here.
        if result.is_ok() {
            self.conn = Some(db);
        }
        result
    }
}

/// A ping error as the detector sees it.
fn classify(err: &DbError) -> PingOutcome {
    match err {
        DbError::Server { code, .. } if err.proves_alive() => {
            PingOutcome::AliveError { code: *code }
        }
        other => PingOutcome::Miss {
            reason: other.to_string(),
        },
    }
}

/// One other server as the confirmation read it.
#[derive(Debug, Clone)]
pub(crate) struct Look {
    pub id: ServerId,
    /// What it says of the master; its [`Fresh`] view is still unknown here.
    pub view: ReplicaView,
    /// What it had received, when it is a replica.
    pub mark: Option<ReceivedMark>,
    /// Its heartbeat period, when it says.
    pub heartbeat_period: Option<Duration>,
    /// Its source as its replica status names it (`Master_Host`, `Master_Port`).
    pub source: Option<(String, u16)>,
}

/// Reads every server but the master at once and says what each one
/// thinks of the master.
pub(crate) async fn replica_views(
    config: &Config,
    master: ServerId,
    connector: Arc<dyn Connector>,
    mysql_timeout: Duration,
) -> Vec<Look> {
    let master_spec = config.server(master);
    // Only used to ask "does this Master_Host/Master_Port name the master?".
    let master_node = Arc::new(Node::unreachable(master_spec.clone(), ""));
    let mut tasks = JoinSet::new();
    for (id, spec) in config.ids().zip(&config.servers) {
        if id == master {
            continue;
        }
        let spec = spec.clone();
        let connector = connector.clone();
        let master_node = master_node.clone();
        tasks.spawn(async move {
            look_at(id, &spec, connector.as_ref(), &master_node, mysql_timeout).await
        });
    }
    let mut looks = Vec::with_capacity(config.servers.len());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(look) => looks.push(look),
            Err(e) => tracing::error!("a replica probe task failed: {e}"),
        }
    }
    looks.sort_by_key(|l| l.id);
    looks
}

async fn look_at(
    id: ServerId,
    spec: &ServerSpec,
    connector: &dyn Connector,
    master: &Node,
    mysql_timeout: Duration,
) -> Look {
    let look = |seen: Seen| Look {
        id,
        view: ReplicaView {
            name: spec.hostname.clone(),
            seen,
        },
        mark: None,
        heartbeat_period: None,
        source: None,
    };
    let unreachable = |reason: String| look(Seen::Unreachable { reason });
    let db = match timeout(mysql_timeout, connector.connect(spec, mysql_timeout)).await {
        Err(_) => return unreachable(format!("no answer within {}s", mysql_timeout.as_secs_f64())),
        Ok(Err(e)) => return unreachable(e.to_string()),
        Ok(Ok(db)) => db,
    };
    let facts = match timeout(mysql_timeout, db.facts()).await {
        Err(_) => {
            // Abandoned mid-call: dropped, not closed (see `Pinger::drop_connection`).
            return unreachable(format!(
                "connected, but no replica status within {}s",
                mysql_timeout.as_secs_f64()
            ));
        }
        Ok(Err(e)) => {
            drop(db);
            return unreachable(format!("connected, but reading its state failed: {e}"));
        }
        Ok(Ok(facts)) => facts,
    };
    // A polite close, but never let it hold up the confirmation.
    let _ = timeout(mysql_timeout, db.close()).await;
    match facts.replica.as_ref().filter(|_| facts.is_replica()) {
        None => look(Seen::NotReplica),
        Some(r) => Look {
            mark: Some(ReceivedMark::of(r, &facts.replica_net)),
            heartbeat_period: facts.replica_net.heartbeat_period,
            source: Some((r.master_host.clone(), r.master_port)),
            ..look(Seen::Replica {
                io: r.io,
                last_io_errno: r.last_io_errno,
                last_io_error: r.last_io_error.clone(),
                points_at_master: master.is_addressed_by(&r.master_host, r.master_port),
                fresh: Fresh::unknown(),
            })
        },
    }
}

/// Run on a replica's host by [`host_probe`]: connect to the master's mysqld
/// (`$1` host, `$2` port, as the replica's status names them: positional
/// arguments, never part of the script) and wait for its first byte. Exit 0:
/// it greeted; 3: the connect failed; 4: closed without a byte; `timeout`
/// ends it with 124. Only bash and coreutils' `timeout` are needed.
const PROBE_SCRIPT: &str = "exec 3<>\"/dev/tcp/$1/$2\" || exit 3; echo connected; \
IFS= read -r -d '' -n 1 -u 3 _ || exit 4; echo answered";

/// Does the master's mysqld answer a fresh connection from `from`'s host
/// (at `source`, as `from`'s replica status names it), within `bound`? Over
/// SSH, bounded by `bound` plus `ssh_margin` for the SSH round trip.
pub(crate) async fn host_probe(
    remote: &dyn Remote,
    from: &ServerSpec,
    source: &(String, u16),
    bound: Duration,
    ssh_margin: Duration,
) -> HostProbe {
    let secs = format!("{:.3}", bound.as_secs_f64());
    let argv: Vec<String> = vec![
        "timeout".into(),
        secs.clone(),
        "bash".into(),
        "-c".into(),
        PROBE_SCRIPT.into(),
        "ha-manager-probe".into(),
        source.0.clone(),
        source.1.to_string(),
    ];
    match remote.run(&from.ssh, &argv, bound + ssh_margin).await {
        Err(e) => HostProbe::CouldNotRun(e.to_string()),
        Ok(out) => probe_meaning(&out, &secs),
    }
}

/// What the probe's exit says (see [`PROBE_SCRIPT`]).
fn probe_meaning(out: &Output, secs: &str) -> HostProbe {
    let connected = out.stdout_text().lines().any(|l| l == "connected");
    match out.code {
        Some(0) => HostProbe::Answered,
        Some(3) => HostProbe::NoAnswer(match out.stderr_reason() {
            r if r.is_empty() => "connect failed".into(),
            r => r.rsplit(": ").next().unwrap_or(&r).to_owned(),
        }),
        Some(4) => HostProbe::NoAnswer("connection closed without a greeting".into()),
        Some(124) if connected => {
            HostProbe::NoAnswer(format!("connected, but no greeting within {secs}s"))
        }
        Some(124) => HostProbe::NoAnswer(format!("no connection within {secs}s")),
        Some(code) => HostProbe::CouldNotRun(format!("exit {code}: {}", out.stderr_reason())),
        None => HostProbe::CouldNotRun("killed by a signal".into()),
    }
}

/// Can the manager still SSH to the master's host? Decides whether the
/// dead master's binlog can be saved.
pub(crate) async fn ssh_reach(remote: &dyn Remote, master: &ServerSpec) -> SshReach {
    let argv = ["true".to_string()];
    match remote
        .run(&master.ssh, &argv, master.ssh.connection_timeout)
        .await
    {
        // Any exit code means a shell ran there.
        Ok(_) => SshReach::Reachable,
        Err(
            RemoteError::Connect { .. } | RemoteError::Timeout { .. } | RemoteError::Session { .. },
        ) => SshReach::Unreachable,
        // Our own ssh options are wrong: that says nothing about the host.
        Err(RemoteError::Options { .. }) => SshReach::Unknown,
    }
}

/// Runs the secondary check, bounded by `limit`.
pub(crate) async fn secondary(
    check: &dyn SecondaryCheck,
    master: &ServerSpec,
    limit: Duration,
) -> SecondaryResult {
    match timeout(limit, check.run(master)).await {
        Ok(result) => result,
        Err(_) => {
            SecondaryResult::CouldNotRun(format!("no answer within {}s", limit.as_secs_f64()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::fixture::spec;
    use crate::transport::Output;

    type Answer = fn(&str) -> Result<Output, RemoteError>;

    /// Answers every command with one scripted result.
    struct OneAnswer(Answer);

    #[async_trait]
    impl Remote for OneAnswer {
        async fn run(
            &self,
            target: &crate::config::SshSpec,
            _argv: &[String],
            _timeout: Duration,
        ) -> Result<Output, RemoteError> {
            (self.0)(&target.host)
        }

        async fn run_with_input(
            &self,
            target: &crate::config::SshSpec,
            argv: &[String],
            _input: Vec<u8>,
            timeout: Duration,
        ) -> Result<Output, RemoteError> {
            self.run(target, argv, timeout).await
        }
    }

    #[tokio::test]
    async fn ssh_results_map_to_reachability() {
        let cases: [(Answer, SshReach); 5] = [
            (
                |_| {
                    Ok(Output {
                        code: Some(0),
                        stdout: Vec::new(),
                        stderr: Vec::new(),
                    })
                },
                SshReach::Reachable,
            ),
            (
                |_| {
                    Ok(Output {
                        code: Some(1),
                        stdout: Vec::new(),
                        stderr: Vec::new(),
                    })
                },
                SshReach::Reachable,
            ),
            (
                |t| {
                    Err(RemoteError::Connect {
                        target: t.into(),
                        reason: "No route to host".into(),
                    })
                },
                SshReach::Unreachable,
            ),
            (
                |t| {
                    Err(RemoteError::Timeout {
                        target: t.into(),
                        program: "true".into(),
                        after: Duration::from_secs(5),
                    })
                },
                SshReach::Unreachable,
            ),
            (
                |t| {
                    Err(RemoteError::Options {
                        target: t.into(),
                        reason: "bad option".into(),
                    })
                },
                SshReach::Unknown,
            ),
        ];
        for (answer, want) in cases {
            assert_eq!(ssh_reach(&OneAnswer(answer), &spec(1)).await, want);
        }
    }

    #[test]
    fn connect_probe_exits_are_read() {
        let out = |code: Option<i32>, stdout: &str, stderr: &str| Output {
            code,
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
        };
        let no = |why: &str| HostProbe::NoAnswer(why.into());
        let cases = [
            (
                out(Some(0), "connected\nanswered\n", ""),
                HostProbe::Answered,
            ),
            (
                out(
                    Some(3),
                    "",
                    "ha-manager-probe: connect: Connection refused\n\
                     ha-manager-probe: line 1: /dev/tcp/198.18.0.11/3306: Connection refused\n",
                ),
                no("Connection refused"),
            ),
            (out(Some(3), "", ""), no("connect failed")),
            (
                out(Some(4), "connected\n", ""),
                no("connection closed without a greeting"),
            ),
            (out(Some(124), "", ""), no("no connection within 1.000s")),
            (
                out(Some(124), "connected\n", ""),
                no("connected, but no greeting within 1.000s"),
            ),
            (
                out(Some(127), "", "bash: timeout: command not found\n"),
                HostProbe::CouldNotRun("exit 127: bash: timeout: command not found".into()),
            ),
            (
                out(None, "", ""),
                HostProbe::CouldNotRun("killed by a signal".into()),
            ),
        ];
        for (output, want) in cases {
            assert_eq!(probe_meaning(&output, "1.000"), want, "{output:?}");
        }
    }

    #[test]
    fn ping_errors_are_classified() {
        let server = |code| DbError::Server {
            code,
            state: "HY000".into(),
            message: "x".into(),
        };
        assert_eq!(
            classify(&server(1040)),
            PingOutcome::AliveError { code: 1040 }
        );
        assert_eq!(
            classify(&server(1045)),
            PingOutcome::AliveError { code: 1045 }
        );
        assert!(matches!(classify(&server(2013)), PingOutcome::Miss { .. }));
        assert!(matches!(
            classify(&DbError::Connect("Connection refused".into())),
            PingOutcome::Miss { reason } if reason.contains("Connection refused")
        ));
    }
}
