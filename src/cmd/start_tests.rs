//! Tier-2 tests of the daemon loop (`start`): the real monitor and the real
//! failover against the scripted fake cluster and fake SSH, on paused time.

use super::*;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::resolve_str;
use crate::mysql::fake::{FakeCluster, FakeError};
use crate::state::HealthUpdate;
use crate::topology::fixture::{master_facts, slave_facts};
use crate::topology::status::{IoState, MariaUsingGtid};
use crate::transport::fake::remote;

const M: &str = "198.18.0.11:3306";
const SLAVES: [&str; 2] = ["198.18.0.12:3306", "198.18.0.13:3306"];

#[test]
fn failovers_that_changed_nothing_are_allowed_three_times_an_hour() {
    let t0 = Instant::now();
    let min = |m: u64| t0 + Duration::from_secs(60 * m);
    let window = Duration::from_secs(3600);
    // (minutes of each stop, what the last one gets)
    let cases: &[(&[u64], Option<usize>)] = &[
        (&[0], Some(1)),
        (&[0, 1], Some(2)),
        (&[0, 1, 2], Some(3)),
        (&[0, 1, 2, 3], None),
        // The first ones age out of the window.
        (&[0, 1, 2, 60], Some(3)),
        (&[0, 1, 2, 62], Some(1)),
        (&[0, 30, 59, 59], None),
    ];
    for (stops, want) in cases {
        let mut recent = Vec::new();
        let mut last = None;
        for &m in *stops {
            last = quiet_budget(&mut recent, min(m), 3, window);
        }
        assert_eq!(last, *want, "{stops:?}");
    }
}

/// Three servers, GTID, `ping_interval=1`, the workdir in `dir`.
fn setup(dir: &std::path::Path) -> (Config, FakeCluster) {
    let text = format!(
        "[server default]\nuser=root\npassword=secret\nping_interval=1\nmanager_workdir={}\n\
         [server1]\nhostname=198.18.0.11\nskip_init_ssh_check=1\n\
         [server2]\nhostname=198.18.0.12\ncandidate_master=1\n\
         [server3]\nhostname=198.18.0.13\n",
        dir.display()
    );
    let config = resolve_str("app1.cnf", &text, false, None).expect("config");
    let cluster = FakeCluster::new();
    cluster.add(M, master_facts(1));
    for (i, addr) in SLAVES.iter().enumerate() {
        let mut facts = slave_facts(i + 2, 1, "mysql-bin.000010:1000");
        if let Some(r) = facts.replica.as_mut() {
            r.using_gtid = Some(MariaUsingGtid::SlavePos);
        }
        cluster.add(addr, facts);
    }
    (config, cluster)
}

/// mysqld on the master is gone: it refuses, its slaves lost it.
fn kill_master(c: &FakeCluster) {
    c.with(M, |s| s.refuse = Some(FakeError::Refused));
    for addr in SLAVES {
        c.with(addr, |s| {
            if let Some(r) = s.facts.replica.as_mut() {
                r.io = IoState::Connecting;
                r.last_io_errno = 2003;
                r.last_io_error = "error reconnecting to master: Can't connect to MySQL \
                                   server on '198.18.0.11' (111 \"Connection refused\")"
                    .into();
            }
        });
    }
}

/// The master answers again (the "death" was a blip), its slaves reconnected.
fn revive_master(c: &FakeCluster) {
    c.with(M, |s| s.refuse = None);
    for addr in SLAVES {
        c.with(addr, |s| {
            if let Some(r) = s.facts.replica.as_mut() {
                r.io = IoState::Yes;
                r.last_io_errno = 0;
                r.last_io_error.clear();
            }
        });
    }
}

fn daemon(config: &Config, cluster: &FakeCluster, sink: Arc<dyn StateSink>) -> Daemon {
    daemon_with(config, cluster, sink, &[])
}

/// [`daemon`] with more `start` options.
fn daemon_with(
    config: &Config,
    cluster: &FakeCluster,
    sink: Arc<dyn StateSink>,
    extra: &[&str],
) -> Daemon {
    let mut argv = vec![
        "ha-manager",
        "start",
        "--conf",
        "app1.cnf",
        "--exit-after-failover",
    ];
    argv.extend_from_slice(extra);
    let cli = Cli::parse_from(argv);
    let Command::Start(args) = cli.command else {
        unreachable!("parsed a start command")
    };
    let workdir = Workdir::of(config);
    Daemon {
        args,
        lock: AppLock::acquire(&workdir).expect("lock"),
        workdir,
        health: Health(sink),
        connector: Arc::new(cluster.clone()),
        remote: Arc::new(remote(false, false)),
        shutdown: Shutdown::never(),
        lock_lost: Mutex::new(None),
        quiet_failures: Mutex::new(Vec::new()),
    }
}

/// Operations that change a server.
fn changes(log: &[String]) -> Vec<&String> {
    const CHANGING: [&str; 8] = [
        "set_read_only",
        "change_master",
        "stop_replica",
        "start_replica",
        "reset_replica_all",
        "kill_connection",
        "set_relay_log_purge",
        "flush_tables_with_read_lock",
    ];
    log.iter()
        .filter(|l| CHANGING.iter().any(|op| l.contains(&format!(": {op}"))))
        .collect()
}

#[derive(Default)]
struct Seen {
    codes: Vec<StatusCode>,
    /// The fake's call log length when each failover started.
    failover_started_at: Vec<usize>,
}

#[tokio::test(start_paused = true)]
async fn a_failover_that_changed_nothing_returns_to_monitoring_and_a_real_death_is_failed_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, cluster) = setup(dir.path());
    let seen = Arc::new(Mutex::new(Seen::default()));
    // The script, driven by what the daemon reports: the master dies once it is
    // monitored; when the failover starts it answers again (phase 1 must find it
    // alive); once it is monitored again it dies for real.
    let sink = {
        let (seen, c) = (seen.clone(), cluster.clone());
        move |u: &HealthUpdate| {
            let mut seen = lock(&seen);
            seen.codes.push(u.code);
            let failovers = seen.failover_started_at.len();
            let pings_ok_since = seen
                .codes
                .iter()
                .rev()
                .take_while(|&&code| code != StatusCode::FailoverRunning)
                .filter(|&&code| code == StatusCode::PingOk)
                .count();
            match u.code {
                StatusCode::FailoverRunning => {
                    seen.failover_started_at.push(c.log().len());
                    if failovers == 0 {
                        revive_master(&c);
                    }
                }
                StatusCode::PingOk if pings_ok_since == 1 && failovers < 2 => kill_master(&c),
                _ => {}
            }
        }
    };
    let daemon = daemon(&config, &cluster, Arc::new(sink));
    let exit = tokio::time::timeout(Duration::from_secs(3600), daemon.serve(config.clone()))
        .await
        .expect("the daemon ends after the real failover")
        .expect("no error");

    let seen = lock(&seen);
    let log = cluster.log();
    assert_eq!(
        seen.failover_started_at.len(),
        2,
        "the daemon went back to monitoring after the first failover and failed over \
         again when the master really died: {:?}",
        seen.codes
    );
    let first = seen.failover_started_at[0];
    let second = seen.failover_started_at[1];
    // Between the two: monitoring again (pings answered).
    let after_first = seen
        .codes
        .iter()
        .skip_while(|&&c| c != StatusCode::FailoverRunning)
        .skip(1);
    assert!(
        after_first
            .clone()
            .take_while(|&&c| c != StatusCode::FailoverRunning)
            .any(|&c| c == StatusCode::PingOk),
        "{:?}",
        seen.codes
    );
    // The first failover read the master again and changed nothing.
    assert!(
        log[first..second]
            .iter()
            .any(|l| l == &format!("{M}: connect")),
        "phase 1 asked the master"
    );
    assert_eq!(changes(&log[..second]), Vec::<&String>::new());
    // The second one promoted the candidate.
    assert_eq!(exit, Exit::Ok, "{log:#?}");
    assert!(log[second..]
        .iter()
        .any(|l| l == "198.18.0.12:3306: set_read_only false"));
    let workdir = Workdir::of(&config);
    assert!(workdir
        .read_marker(MarkerKind::Complete)
        .expect("read")
        .is_some());
    assert!(workdir
        .read_marker(MarkerKind::Error)
        .expect("read")
        .is_none());
}

#[tokio::test(start_paused = true)]
async fn a_failover_that_keeps_changing_nothing_stops_the_daemon_after_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, cluster) = setup(dir.path());
    let seen = Arc::new(Mutex::new(Seen::default()));
    // Every time: dead while monitored, alive again when the failover looks.
    let sink = {
        let (seen, c) = (seen.clone(), cluster.clone());
        move |u: &HealthUpdate| {
            let mut seen = lock(&seen);
            seen.codes.push(u.code);
            match u.code {
                StatusCode::FailoverRunning => {
                    seen.failover_started_at.push(c.log().len());
                    revive_master(&c);
                }
                StatusCode::PingOk => kill_master(&c),
                _ => {}
            }
        }
    };
    let daemon = daemon(&config, &cluster, Arc::new(sink));
    let exit = tokio::time::timeout(Duration::from_secs(3600), daemon.serve(config.clone()))
        .await
        .expect("the daemon stops by itself")
        .expect("no error");
    assert_eq!(exit, Exit::Failed);
    let seen = lock(&seen);
    assert_eq!(seen.failover_started_at.len(), QUIET_LIMIT + 1);
    assert_eq!(seen.codes.last(), Some(&StatusCode::FailoverError));
    assert_eq!(changes(&cluster.log()), Vec::<&String>::new());
}

#[tokio::test(start_paused = true)]
async fn a_deleted_lock_file_stops_the_monitoring_without_a_failover() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, cluster) = setup(dir.path());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let lock_file = Workdir::of(&config).lock();
    let sink = {
        let seen = seen.clone();
        move |u: &HealthUpdate| {
            let mut seen = lock(&seen);
            seen.codes.push(u.code);
            if u.code == StatusCode::PingOk && lock_file.exists() {
                std::fs::remove_file(&lock_file).expect("rm lock");
            }
        }
    };
    let daemon = daemon(&config, &cluster, Arc::new(sink));
    let exit = tokio::time::timeout(Duration::from_secs(3600), daemon.serve(config.clone()))
        .await
        .expect("the daemon stops by itself")
        .expect("no error");
    assert_eq!(exit, Exit::Failed);
    let why = lock(&daemon.lock_lost).clone().expect("the reason is kept");
    assert!(why.contains("app1.lock was deleted"), "{why}");
    assert!(!lock(&seen).codes.contains(&StatusCode::FailoverRunning));
    assert_eq!(changes(&cluster.log()), Vec::<&String>::new());
}

/// A sink that keeps every status code.
fn codes_sink() -> (Arc<Mutex<Vec<StatusCode>>>, Arc<dyn StateSink>) {
    let codes: Arc<Mutex<Vec<StatusCode>>> = Arc::default();
    let kept = codes.clone();
    let sink = move |u: &HealthUpdate| lock(&kept).push(u.code);
    (codes, Arc::new(sink))
}

#[tokio::test(start_paused = true)]
async fn a_master_already_dead_at_start_is_confirmed_and_failed_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, cluster) = setup(dir.path());
    // MHA's "run" scenarios: the master died before the manager started.
    kill_master(&cluster);
    let (codes, sink) = codes_sink();
    let daemon = daemon(&config, &cluster, sink);
    let exit = tokio::time::timeout(Duration::from_secs(600), daemon.serve(config.clone()))
        .await
        .expect("the daemon fails over and exits")
        .expect("no error");
    let log = cluster.log();
    assert_eq!(exit, Exit::Ok, "{log:#?}");
    let codes = lock(&codes);
    // The monitor's rule: pings missed, then confirmation, then the failover.
    let failing = codes.iter().position(|&c| c == StatusCode::PingFailing);
    let running = codes.iter().position(|&c| c == StatusCode::FailoverRunning);
    assert!(
        matches!((failing, running), (Some(f), Some(r)) if f < r),
        "{codes:?}"
    );
    assert!(log
        .iter()
        .any(|l| l == "198.18.0.12:3306: set_read_only false"));
    let workdir = Workdir::of(&config);
    assert!(workdir
        .read_marker(MarkerKind::Complete)
        .expect("read")
        .is_some());
}

#[tokio::test(start_paused = true)]
async fn a_master_only_the_manager_cannot_reach_at_start_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, cluster) = setup(dir.path());
    // The manager's path to the master is cut; its slaves still replicate from it.
    cluster.with(M, |s| s.refuse = Some(FakeError::Refused));
    for addr in SLAVES {
        cluster.with(addr, |s| {
            if let Some(r) = s.facts.replica.as_mut() {
                r.io = IoState::Yes;
            }
        });
    }
    let (codes, sink) = codes_sink();
    let daemon = daemon(&config, &cluster, sink);
    let exit = tokio::time::timeout(Duration::from_secs(600), daemon.serve(config.clone()))
        .await
        .expect("the daemon refuses by itself")
        .expect("no error");
    assert_eq!(exit, Exit::Failed);
    let codes = lock(&codes);
    assert!(codes.contains(&StatusCode::RetryingMonitor), "{codes:?}");
    assert!(!codes.contains(&StatusCode::FailoverRunning), "{codes:?}");
    assert_eq!(codes.last(), Some(&StatusCode::ConfigError), "{codes:?}");
    assert_eq!(changes(&cluster.log()), Vec::<&String>::new());
}

/// `setup` with `ignore_fail=1` on server3, which is down.
fn ignore_fail_slave_down(dir: &std::path::Path) -> (Config, FakeCluster) {
    let (mut config, cluster) = setup(dir);
    config.servers[2].ignore_fail = true;
    cluster.with(SLAVES[1], |s| s.refuse = Some(FakeError::Refused));
    (config, cluster)
}

#[tokio::test(start_paused = true)]
async fn an_ignore_fail_slave_down_refuses_start_without_ignore_fail_on_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, cluster) = ignore_fail_slave_down(dir.path());
    let (codes, sink) = codes_sink();
    let daemon = daemon(&config, &cluster, sink);
    let exit = tokio::time::timeout(Duration::from_secs(60), daemon.serve(config.clone()))
        .await
        .expect("refused at once")
        .expect("no error");
    assert_eq!(exit, Exit::Failed);
    let codes = lock(&codes);
    assert!(!codes.contains(&StatusCode::PingOk), "{codes:?}");
    assert_eq!(codes.last(), Some(&StatusCode::ConfigError), "{codes:?}");
}

#[tokio::test(start_paused = true)]
async fn an_ignore_fail_slave_down_is_tolerated_with_ignore_fail_on_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, cluster) = ignore_fail_slave_down(dir.path());
    let (codes, sink) = codes_sink();
    let daemon = daemon_with(&config, &cluster, sink, &["--ignore-fail-on-start"]);
    // It monitors (and would go on for ever): stop waiting after a while.
    let ran = tokio::time::timeout(Duration::from_secs(30), daemon.serve(config.clone())).await;
    assert!(ran.is_err(), "still monitoring: {ran:?}");
    assert!(lock(&codes).contains(&StatusCode::PingOk));
}
