//! Tier-2 tests of the monitor loop against `FakeCluster`, on paused time.

use super::*;
use crate::topology::fixture::id;

use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::Mutex;

use crate::config::{resolve_str, ServerSpec, SshSpec};
use crate::mysql::fake::{FakeCluster, FakeError};
use crate::mysql::{Db, DbError};
use crate::policy::death::{SecondaryResult, Seen};
use crate::topology::fixture::{master_facts, slave_facts};
use crate::topology::status::IoState;
use crate::transport::{Output, RemoteError};

const M: &str = "198.18.0.11:3306";
const S2: &str = "198.18.0.12:3306";
const S3: &str = "198.18.0.13:3306";
const INTERVAL: Duration = Duration::from_secs(3);

fn config(extra: &str) -> Arc<Config> {
    let text = format!(
        "[server default]\nping_interval=3\n{extra}\n\
         [server1]\nhostname=198.18.0.11\n\
         [server2]\nhostname=198.18.0.12\n\
         [server3]\nhostname=198.18.0.13\n"
    );
    Arc::new(resolve_str("app1.cnf", &text, false, None).expect("test config"))
}

fn cluster() -> FakeCluster {
    let c = FakeCluster::new();
    c.add(M, master_facts(1));
    c.add(S2, slave_facts(2, 1, "mysql-bin.000010:1000"));
    c.add(S3, slave_facts(3, 1, "mysql-bin.000010:1000"));
    c
}

/// The replica's IO thread lost the master, as after a crash of mysqld.
fn lose_master(c: &FakeCluster, addr: &str) {
    c.with(addr, |s| {
        if let Some(r) = s.facts.replica.as_mut() {
            r.io = IoState::Connecting;
            r.last_io_errno = 2003;
            r.last_io_error = "error reconnecting to master 'repl@198.18.0.11:3306' - \
                               retry-time: 60  maximum-retries: 86400  message: Can't connect \
                               to MySQL server on '198.18.0.11' (111 \"Connection refused\")"
                .into();
        }
    });
}

fn refuse_master(c: &FakeCluster) {
    c.with(M, |s| s.refuse = Some(FakeError::Refused));
}

/// `FakeCluster` whose connects to some addresses never answer, to test
/// the monitor's own timeouts.
struct Hanging {
    cluster: FakeCluster,
    hang: Mutex<HashSet<String>>,
}

impl Hanging {
    fn hang(&self, addr: &str) {
        lock(&self.hang).insert(addr.to_string());
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl Connector for Hanging {
    async fn connect(&self, spec: &ServerSpec, timeout: Duration) -> Result<Box<dyn Db>, DbError> {
        let addr = format!("{}:{}", spec.mysql_addr(), spec.port);
        if lock(&self.hang).contains(&addr) {
            std::future::pending::<()>().await;
        }
        self.cluster.connect(spec, timeout).await
    }
}

/// What the fake SSH answers.
#[derive(Debug, Clone, Copy)]
enum Ssh {
    Reachable,
    Refused,
    /// Every command hangs until its timeout (the host's link is down).
    Hangs,
}

struct FakeRemote {
    ssh: Ssh,
    calls: Mutex<Vec<String>>,
    /// What the connect probe (`timeout ... bash -c ...`) run on a replica's
    /// host exits with, and its stdout; `None`: as `ssh` says.
    probe: Mutex<Option<(i32, &'static str)>>,
}

#[async_trait]
impl Remote for FakeRemote {
    async fn run_with_input(
        &self,
        target: &SshSpec,
        argv: &[String],
        _input: Vec<u8>,
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        self.run(target, argv, timeout).await
    }

    async fn run(
        &self,
        target: &SshSpec,
        argv: &[String],
        timeout: Duration,
    ) -> Result<Output, RemoteError> {
        lock(&self.calls).push(format!(
            "{} {} ({}s)",
            target.host,
            argv.join(" "),
            timeout.as_secs()
        ));
        if argv.first().map(String::as_str) == Some("timeout") && target.host != "198.18.0.11" {
            if let Some((code, stdout)) = *lock(&self.probe) {
                return Ok(Output {
                    code: Some(code),
                    stdout: stdout.as_bytes().to_vec(),
                    stderr: Vec::new(),
                });
            }
        }
        match self.ssh {
            Ssh::Hangs => {
                tokio::time::sleep(timeout).await;
                Err(RemoteError::Timeout {
                    target: target.host.clone(),
                    program: argv.first().cloned().unwrap_or_default(),
                    after: timeout,
                })
            }
            Ssh::Reachable => Ok(Output {
                code: Some(0),
                stdout: Vec::new(),
                stderr: Vec::new(),
            }),
            Ssh::Refused => Err(RemoteError::Connect {
                target: target.host.clone(),
                reason: "Connection refused".into(),
            }),
        }
    }
}

/// A secondary check that answers `result` after `delay`.
struct Secondary {
    result: SecondaryResult,
    delay: Duration,
    runs: Mutex<u32>,
}

#[async_trait]
impl SecondaryCheck for Secondary {
    async fn run(&self, _master: &ServerSpec) -> SecondaryResult {
        *lock(&self.runs) += 1;
        tokio::time::sleep(self.delay).await;
        self.result.clone()
    }
}

struct Harness {
    cluster: FakeCluster,
    connector: Arc<Hanging>,
    remote: Arc<FakeRemote>,
    updates: Arc<Mutex<Vec<HealthUpdate>>>,
    secondary: Option<Arc<Secondary>>,
    config: Arc<Config>,
}

impl Harness {
    fn new(ssh: Ssh) -> Harness {
        Harness::with_config(ssh, config(""))
    }

    fn with_config(ssh: Ssh, config: Arc<Config>) -> Harness {
        let cluster = cluster();
        Harness {
            connector: Arc::new(Hanging {
                cluster: cluster.clone(),
                hang: Mutex::new(HashSet::new()),
            }),
            cluster,
            remote: Arc::new(FakeRemote {
                ssh,
                calls: Mutex::new(Vec::new()),
                probe: Mutex::new(None),
            }),
            updates: Arc::new(Mutex::new(Vec::new())),
            secondary: None,
            config,
        }
    }

    fn secondary(mut self, result: SecondaryResult, delay: Duration) -> Harness {
        self.secondary = Some(Arc::new(Secondary {
            result,
            delay,
            runs: Mutex::new(0),
        }));
        self
    }

    fn ctx(&self) -> MonitorCtx {
        let updates = self.updates.clone();
        let sink: Arc<dyn StateSink> =
            Arc::new(move |u: &HealthUpdate| lock(&updates).push(u.clone()));
        let ctx = MonitorCtx::new(
            self.config.clone(),
            id(0),
            self.connector.clone(),
            self.remote.clone(),
            sink,
        )
        .expect("ctx");
        match &self.secondary {
            Some(s) => ctx.with_secondary(s.clone()),
            None => ctx,
        }
    }

    /// Runs the monitor until it ends or `stop_after` passes; returns the
    /// exit and the virtual time it took.
    async fn run_for(&self, stop_after: Duration) -> (MonitorExit, Duration) {
        let start = Instant::now();
        let exit = run(self.ctx(), tokio::time::sleep(stop_after)).await;
        (exit, start.elapsed())
    }

    fn states(&self) -> Vec<StatusCode> {
        lock(&self.updates).iter().map(|u| u.code).collect()
    }

    /// How many times the fake was asked for a server's facts.
    fn facts_calls(&self, addr: &str) -> usize {
        let want = format!("{addr}: facts");
        self.cluster.log().iter().filter(|l| **l == want).count()
    }

    fn calls(&self, addr: &str, op: &str) -> usize {
        let want = format!("{addr}: {op}");
        self.cluster.log().iter().filter(|l| **l == want).count()
    }
}

fn dead(exit: MonitorExit) -> DeadMaster {
    match exit {
        MonitorExit::MasterDead(d) => d,
        other => panic!("expected MasterDead, got {other:?}"),
    }
}

use StatusCode::{PingFailed, PingFailing, PingOk, RetryingMonitor};

#[tokio::test(start_paused = true)]
async fn healthy_master_keeps_ping_ok_until_shutdown() {
    let h = Harness::new(Ssh::Reachable);
    let (exit, elapsed) = h.run_for(Duration::from_secs(10)).await;
    assert_eq!(exit, MonitorExit::Shutdown);
    // Pings at 0, 3, 6, 9; shutdown at 10 while waiting for the next one.
    assert_eq!(h.states(), vec![PingOk; 4]);
    assert_eq!(elapsed, Duration::from_secs(10));
    // SELECT keeps one connection.
    assert_eq!(h.calls(M, "connect"), 1);
    assert_eq!(h.calls(M, "ping"), 4);
    assert_eq!(h.facts_calls(S2), 0, "no confirmation for a healthy master");
    let last = lock(&h.updates).last().cloned().expect("updates");
    assert_eq!(last.pings_ok, 4);
    assert_eq!(last.master, "198.18.0.11");
}

#[tokio::test(start_paused = true)]
async fn refused_master_with_broken_replicas_is_dead_after_ping_misses() {
    let h = Harness::new(Ssh::Refused);
    refuse_master(&h.cluster);
    lose_master(&h.cluster, S2);
    lose_master(&h.cluster, S3);
    let (exit, elapsed) = h.run_for(Duration::from_secs(600)).await;
    let d = dead(exit);
    assert_eq!(d.index, id(0));
    assert_eq!(d.misses, 3);
    assert_eq!(d.ssh_reachable, SshReach::Unreachable);
    assert_eq!(h.states(), vec![PingFailing, PingFailing, PingFailed]);
    // Misses at 0, 3 and 6 s; a refusal is instant, and so is the confirmation.
    assert_eq!(elapsed, 2 * INTERVAL);
    assert_eq!(d.since_first_miss, 2 * INTERVAL);
    assert_eq!(d.replica_views.len(), 2);
    assert!(d.replica_views.iter().all(|v| matches!(
        v.seen,
        Seen::Replica {
            io: IoState::Connecting,
            last_io_errno: 2003,
            points_at_master: true,
            ..
        }
    )));
    assert!(
        d.evidence
            .contains("every reachable replica lost the master"),
        "{}",
        d.evidence
    );
    assert_eq!(
        lock(&h.remote.calls).as_slice(),
        ["198.18.0.11 true (5s)".to_string()]
    );
    // One connect per ping: the last one, alongside the replicas' checks,
    // is the confirmation's own try at the master.
    assert_eq!(h.calls(M, "connect"), 3);
}

#[tokio::test(start_paused = true)]
async fn ssh_reachability_is_passed_on() {
    let h = Harness::new(Ssh::Reachable);
    refuse_master(&h.cluster);
    lose_master(&h.cluster, S2);
    lose_master(&h.cluster, S3);
    let d = dead(h.run_for(Duration::from_secs(600)).await.0);
    assert_eq!(d.ssh_reachable, SshReach::Reachable);
}

#[tokio::test(start_paused = true)]
async fn detection_time_after_a_crash_is_about_ping_misses_intervals() {
    let h = Harness::new(Ssh::Refused);
    let fault_at = Duration::from_secs(10);
    let cluster = h.cluster.clone();
    tokio::spawn(async move {
        tokio::time::sleep(fault_at).await;
        refuse_master(&cluster);
        lose_master(&cluster, S2);
        lose_master(&cluster, S3);
    });
    let (exit, elapsed) = h.run_for(Duration::from_secs(600)).await;
    let d = dead(exit);
    // The fault task and the monitor start at the same virtual instant.
    let detect = elapsed - fault_at;
    // Pings at 12, 15, 18 miss: detected 8 s after the fault. In general
    // between (misses - 1) and misses intervals after the first missed ping,
    // which comes at most one interval after the fault.
    assert_eq!(detect, Duration::from_secs(8));
    assert!(
        detect >= 2 * INTERVAL && detect <= 4 * INTERVAL,
        "{detect:?}"
    );
    assert_eq!(d.misses, 3);
    assert_eq!(
        h.states(),
        vec![
            PingOk,
            PingOk,
            PingOk,
            PingOk,
            PingFailing,
            PingFailing,
            PingFailed
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn hung_master_times_out_each_ping_and_is_detected_in_bounded_time() {
    let h = Harness::new(Ssh::Refused);
    h.connector.hang(M);
    lose_master(&h.cluster, S2);
    lose_master(&h.cluster, S3);
    let (exit, elapsed) = h.run_for(Duration::from_secs(600)).await;
    let d = dead(exit);
    assert_eq!(d.misses, 3);
    // Three pings of one interval each; the last is the confirmation's own
    // try at the master (the replicas' checks ran alongside it).
    assert_eq!(elapsed, 3 * INTERVAL);
    assert!(d.since_first_miss <= 3 * INTERVAL);
    let last = lock(&h.updates).last().cloned().expect("updates");
    assert_eq!(last.last_error.as_deref(), Some("no answer within 3s"));
}

#[tokio::test(start_paused = true)]
async fn a_replica_still_connected_keeps_the_master_alive() {
    let h = Harness::new(Ssh::Refused);
    refuse_master(&h.cluster);
    lose_master(&h.cluster, S2);
    // S3's IO thread still shows Yes.
    let (exit, _) = h.run_for(Duration::from_secs(20)).await;
    assert_eq!(exit, MonitorExit::Shutdown);
    // Confirmation at 6 s and at 15 s, both Alive; a miss at 18 s.
    assert_eq!(
        h.states(),
        vec![
            PingFailing,
            PingFailing,
            PingFailed,
            RetryingMonitor,
            PingFailing,
            PingFailing,
            PingFailed,
            RetryingMonitor,
            PingFailing,
        ]
    );
    // One baseline read at the first miss (kept while the misses go on),
    // then one read per confirmation.
    assert_eq!(h.facts_calls(S3), 3);
}

#[tokio::test(start_paused = true)]
async fn the_master_is_dead_once_the_last_replica_notices() {
    let h = Harness::new(Ssh::Refused);
    refuse_master(&h.cluster);
    lose_master(&h.cluster, S2);
    let cluster = h.cluster.clone();
    // slave_net_timeout passes for S3 at 10 s.
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        lose_master(&cluster, S3);
    });
    let (exit, elapsed) = h.run_for(Duration::from_secs(600)).await;
    let d = dead(exit);
    // First confirmation (6 s) alive, the second (15 s) dead.
    assert_eq!(elapsed, Duration::from_secs(15));
    assert_eq!(d.misses, 3);
    assert_eq!(
        h.states().iter().filter(|s| **s == RetryingMonitor).count(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn alive_error_codes_are_never_counted() {
    let h = Harness::new(Ssh::Refused);
    h.cluster.with(M, |s| {
        s.refuse = Some(FakeError::Server(1040, "Too many connections".into()))
    });
    lose_master(&h.cluster, S2);
    lose_master(&h.cluster, S3);
    let (exit, _) = h.run_for(Duration::from_secs(30)).await;
    assert_eq!(exit, MonitorExit::Shutdown);
    assert_eq!(h.states(), vec![PingOk; 10]);
    assert_eq!(h.facts_calls(S2), 0);
    let last = lock(&h.updates).last().cloned().expect("updates");
    assert_eq!(last.consecutive_misses, 0);
    assert_eq!(last.last_error.as_deref(), Some("MySQL error 1040"));
}

#[tokio::test(start_paused = true)]
async fn secondary_network_problem_prevents_failover() {
    let h = Harness::new(Ssh::Refused).secondary(SecondaryResult::Exit(2), Duration::ZERO);
    refuse_master(&h.cluster);
    lose_master(&h.cluster, S2);
    lose_master(&h.cluster, S3);
    let (exit, _) = h.run_for(Duration::from_secs(8)).await;
    assert_eq!(exit, MonitorExit::Shutdown);
    assert_eq!(
        h.states(),
        vec![PingFailing, PingFailing, PingFailed, RetryingMonitor]
    );
    let runs = h.secondary.as_ref().map(|s| *lock(&s.runs));
    assert_eq!(runs, Some(1));
}

#[tokio::test(start_paused = true)]
async fn secondary_master_down_confirms() {
    let h = Harness::new(Ssh::Refused).secondary(SecondaryResult::Exit(0), Duration::from_secs(2));
    refuse_master(&h.cluster);
    lose_master(&h.cluster, S2);
    lose_master(&h.cluster, S3);
    let (exit, elapsed) = h.run_for(Duration::from_secs(600)).await;
    let d = dead(exit);
    assert!(d
        .evidence
        .contains("secondary check says the master is down"));
    // The 2 s secondary check started at the first miss (as MHA's does), so it
    // was done when the third miss asked for confirmation: no extra wait.
    assert_eq!(elapsed, 2 * INTERVAL);
}

#[tokio::test(start_paused = true)]
async fn no_replicas_and_no_secondary_is_dead_like_mha() {
    let h = Harness::new(Ssh::Refused);
    refuse_master(&h.cluster);
    h.cluster.with(S2, |s| s.refuse = Some(FakeError::Refused));
    h.cluster.with(S3, |s| s.refuse = Some(FakeError::Timeout));
    let d = dead(h.run_for(Duration::from_secs(600)).await.0);
    assert!(
        d.evidence.contains("no reachable replica"),
        "{}",
        d.evidence
    );
    assert!(d
        .replica_views
        .iter()
        .all(|v| matches!(v.seen, Seen::Unreachable { .. })));
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_a_running_confirmation() {
    // The secondary check starts at the first miss (t=0) and takes 8 s; the
    // confirmation starts at the third miss (t=6) and waits for it; shutdown
    // comes at t=7, in the middle: the confirmation still finishes.
    let h = Harness::new(Ssh::Refused).secondary(SecondaryResult::Exit(0), Duration::from_secs(8));
    refuse_master(&h.cluster);
    lose_master(&h.cluster, S2);
    lose_master(&h.cluster, S3);
    let (exit, elapsed) = h.run_for(Duration::from_secs(7)).await;
    dead(exit);
    assert_eq!(elapsed, Duration::from_secs(8));
}

#[tokio::test(start_paused = true)]
async fn a_miss_followed_by_an_ok_resets_the_count() {
    let h = Harness::new(Ssh::Refused);
    lose_master(&h.cluster, S2);
    lose_master(&h.cluster, S3);
    let cluster = h.cluster.clone();
    refuse_master(&h.cluster);
    // Refused in [0, 4.5) and [7.5, 13.5): misses at 0, 3, 9, 12; answers at 6 and 15.
    tokio::spawn(async move {
        let ms = Duration::from_millis;
        tokio::time::sleep(ms(4500)).await;
        cluster.with(M, |s| s.refuse = None);
        tokio::time::sleep(ms(3000)).await;
        refuse_master(&cluster);
        tokio::time::sleep(ms(6000)).await;
        cluster.with(M, |s| s.refuse = None);
    });
    let (exit, _) = h.run_for(Duration::from_secs(16)).await;
    assert_eq!(exit, MonitorExit::Shutdown);
    assert_eq!(
        h.states(),
        vec![
            PingFailing,
            PingFailing,
            PingOk,
            PingFailing,
            PingFailing,
            PingOk
        ]
    );
    let misses: Vec<u32> = lock(&h.updates)
        .iter()
        .map(|u| u.consecutive_misses)
        .collect();
    assert_eq!(misses, vec![1, 2, 0, 1, 2, 0]);
    // Never confirmed: only the baseline read at the start of each run of misses.
    assert_eq!(h.facts_calls(S2), 2, "never confirmed");
}

#[tokio::test(start_paused = true)]
async fn ping_types() {
    let h = Harness::with_config(Ssh::Refused, config("ping_type=CONNECT"));
    h.run_for(Duration::from_secs(8)).await;
    assert_eq!(h.calls(M, "connect"), 3, "a fresh connection per ping");
    assert_eq!(h.calls(M, "ping"), 0);

    let h = Harness::with_config(Ssh::Refused, config("ping_type=INSERT"));
    h.cluster.with(M, |s| {
        s.failing.insert(
            "ping_insert".into(),
            FakeError::Server(1290, "read-only".into()),
        );
    });
    lose_master(&h.cluster, S2);
    lose_master(&h.cluster, S3);
    let d = dead(h.run_for(Duration::from_secs(600)).await.0);
    assert_eq!(d.misses, 3);
    // A failed INSERT drops the connection: connect + insert each time (the
    // last ping is the confirmation's own try).
    assert_eq!(h.calls(M, "ping_insert"), 3);
    assert_eq!(h.calls(M, "connect"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_lost_connection_is_reopened() {
    let h = Harness::new(Ssh::Refused);
    // The persistent connection's ping fails once (server restarted).
    h.cluster.with(M, |s| {
        s.failing.insert(
            "ping".into(),
            FakeError::Server(2013, "Lost connection".into()),
        );
    });
    let cluster = h.cluster.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        cluster.with(M, |s| {
            s.failing.clear();
        });
    });
    h.run_for(Duration::from_secs(5)).await;
    assert_eq!(h.states(), vec![PingFailing, PingOk]);
    assert_eq!(h.calls(M, "connect"), 2);
}

#[test]
fn bad_master_index_is_refused() {
    let h = Harness::new(Ssh::Refused);
    let sink: Arc<dyn StateSink> = Arc::new(|_: &HealthUpdate| {});
    let err = MonitorCtx::new(
        h.config.clone(),
        id(7),
        h.connector.clone(),
        h.remote.clone(),
        sink,
    )
    .err()
    .expect("must refuse");
    assert_eq!(
        err.to_string(),
        "no server number 7 to monitor: the configuration has 3 servers"
    );
}

#[tokio::test(start_paused = true)]
async fn the_real_health_writer_records_the_monitor() {
    use crate::state::{HealthWriter, Workdir};
    let dir = tempfile::tempdir().expect("tempdir");
    let workdir = Workdir::new(dir.path(), "app1");
    let h = Harness::new(Ssh::Refused);
    let writer = Arc::new(HealthWriter::new(workdir.clone()));
    let ctx = MonitorCtx::new(
        h.config.clone(),
        id(0),
        h.connector.clone(),
        h.remote.clone(),
        writer,
    )
    .expect("ctx");
    let exit = run(ctx, tokio::time::sleep(Duration::from_secs(7))).await;
    assert_eq!(exit, MonitorExit::Shutdown);
    let text = std::fs::read_to_string(workdir.health()).expect("health file");
    assert_eq!(
        text,
        format!("{}\t0:PING_OK\tmaster:198.18.0.11", std::process::id())
    );
    let json = workdir.read_health_json().expect("json");
    assert_eq!(json.pings_ok, 3);
    assert_eq!(json.state, "PING_OK");
}

#[tokio::test(start_paused = true)]
async fn replicas_are_read_when_the_slow_checks_are_done() {
    // The master vanishes; the replicas still say IO Yes until t=7 (their
    // slave_net_timeout). The secondary check (started at t=0) ends at t=8; the
    // confirmation (third miss, t=6) waits for it and then reads the replicas:
    // they have lost the master by then, so death is declared at once.
    let h = Harness::new(Ssh::Refused).secondary(SecondaryResult::Exit(0), Duration::from_secs(8));
    refuse_master(&h.cluster);
    let cluster = h.cluster.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(7)).await;
        lose_master(&cluster, S2);
        lose_master(&cluster, S3);
    });
    let (exit, elapsed) = h.run_for(Duration::from_secs(600)).await;
    dead(exit);
    assert_eq!(elapsed, Duration::from_secs(8));
}

/// The connect probe's argv as the fake SSH logs it, from `host`.
fn probe_call(host: &str) -> String {
    format!(
        "{host} timeout 2.000 bash -c {} ha-manager-probe 198.18.0.11 3306 (4s)",
        "exec 3<>\"/dev/tcp/$1/$2\" || exit 3; echo connected; \
         IFS= read -r -d '' -n 1 -u 3 _ || exit 4; echo answered"
    )
}

#[tokio::test(start_paused = true)]
async fn a_silent_link_loss_is_dead_at_the_first_confirmation() {
    // The master's link is down: pings hang, SSH to it hangs, the replicas
    // still say IO Yes (slave_net_timeout has not passed) but receive nothing,
    // and a connect from their hosts gets no connection.
    let h = Harness::with_config(Ssh::Hangs, config("ssh_connection_timeout=20"));
    h.connector.hang(M);
    *lock(&h.remote.probe) = Some((124, ""));
    let (exit, elapsed) = h.run_for(Duration::from_secs(600)).await;
    let d = dead(exit);
    assert_eq!(d.misses, 3);
    // Misses at 3, 6, 9 s; the connects from the replicas' hosts ran
    // alongside the last ping, so the verdict comes at 9 s. It did not wait
    // for SSH (started at 3 s, 20 s bound)...
    assert_eq!(d.since_first_miss, 2 * INTERVAL);
    // ...which the hand-over then waits for, so the failover knows.
    assert_eq!(elapsed, Duration::from_secs(23));
    assert_eq!(d.ssh_reachable, SshReach::Unreachable);
    assert!(
        d.evidence.contains(
            "every reachable replica lost the master: 198.18.0.12 (IO thread Yes, nothing \
             received for 6.0s, connect from its host: no answer (no connection within 2.000s))"
        ),
        "{}",
        d.evidence
    );
    let calls = lock(&h.remote.calls).clone();
    assert!(calls.contains(&probe_call("198.18.0.12")), "{calls:?}");
    assert!(calls.contains(&probe_call("198.18.0.13")), "{calls:?}");
}

#[tokio::test(start_paused = true)]
async fn only_the_managers_path_cut_is_no_failover() {
    // The manager cannot reach the master, but a connect from the replicas'
    // hosts is greeted: the master is alive there.
    let h = Harness::with_config(Ssh::Hangs, config("ssh_connection_timeout=20"));
    h.connector.hang(M);
    *lock(&h.remote.probe) = Some((0, "connected\nanswered"));
    let (exit, _) = h.run_for(Duration::from_secs(120)).await;
    assert_eq!(exit, MonitorExit::Shutdown);
    let states = h.states();
    assert!(states.contains(&RetryingMonitor), "{states:?}");
    assert!(
        states.iter().filter(|s| **s == PingFailed).count() >= 5,
        "it kept asking: {states:?}"
    );
    assert!(lock(&h.remote.calls).contains(&probe_call("198.18.0.12")));
}

#[tokio::test(start_paused = true)]
async fn a_replica_still_receiving_keeps_the_master_alive() {
    // No connect from the replicas' hosts gets through, but S3 keeps
    // receiving events: its connection to the master is alive.
    let h = Harness::new(Ssh::Refused);
    h.connector.hang(M);
    *lock(&h.remote.probe) = Some((124, "connected"));
    let cluster = h.cluster.clone();
    tokio::spawn(async move {
        for n in 1..100u64 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            cluster.with(S3, |s| {
                if let Some(r) = s.facts.replica.as_mut() {
                    r.read.pos = 1000 + n;
                }
            });
        }
    });
    let (exit, _) = h.run_for(Duration::from_secs(30)).await;
    assert_eq!(exit, MonitorExit::Shutdown);
    assert!(h.states().contains(&RetryingMonitor), "{:?}", h.states());
}

#[tokio::test(start_paused = true)]
async fn a_frozen_master_is_dead_when_its_replicas_hosts_get_no_greeting() {
    // mysqld stopped (SIGSTOP): TCP connects, nothing answers.
    let h = Harness::new(Ssh::Reachable);
    h.connector.hang(M);
    *lock(&h.remote.probe) = Some((124, "connected"));
    let d = dead(h.run_for(Duration::from_secs(600)).await.0);
    assert!(
        d.evidence.contains(
            "connect from its host: no answer (connected, but no greeting within 2.000s)"
        ),
        "{}",
        d.evidence
    );
    assert_eq!(d.ssh_reachable, SshReach::Reachable);
}
