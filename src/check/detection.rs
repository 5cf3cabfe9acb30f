//! Replica settings that slow the detection of a dead master: warnings with the exact fix.
//!
//! After a silent loss of the master (host down, no TCP reset) a replica's
//! IO thread keeps showing `Yes` until `slave_net_timeout` passes (60 s by
//! default), and a replica hears nothing from an idle master for a whole
//! heartbeat period (`slave_net_timeout / 2` by default). The monitor does not
//! wait for either when it can connect to the master from the replica's host
//! over SSH; when it cannot (no SSH there, no `bash`/`timeout`), these
//! settings are what bound the detection. So `check-repl` and `start` warn
//! (never refuse) when they are longer than the monitor's own window,
//! `ping_interval × ping_misses` plus 2 s, and name the statements that fix it.
//! Pure: it reads the facts the topology holds.

use std::time::Duration;

use crate::config::AppSettings;
use crate::topology::snapshot::Topology;
use crate::topology::status::{Flavor, ServerFacts, Version};
use crate::topology::validate::{Discovery, Problem};

/// One warning per slave whose settings would slow the detection.
pub(crate) fn warnings(
    settings: &AppSettings,
    topology: &Topology,
    discovery: &Discovery,
) -> Vec<Problem> {
    let window = settings.ping_interval * settings.ping_misses.max(1);
    let goal = window + Duration::from_secs(2);
    discovery
        .slaves
        .iter()
        .filter_map(|&id| {
            let facts = topology.facts(id)?;
            let what = slow_settings(facts, window, goal)?;
            Some(Problem::warning(topology.label(id), what, fix(facts, goal)))
        })
        .collect()
}

/// What is slow about one replica's settings, or `None` when nothing is.
fn slow_settings(facts: &ServerFacts, window: Duration, goal: Duration) -> Option<String> {
    facts.replica.as_ref()?;
    let net = &facts.replica_net;
    let names = Names::of(facts.flavor, facts.version);
    let mut slow = Vec::new();
    if let Some(timeout) = net.net_timeout.filter(|t| *t > goal) {
        slow.push(format!(
            "{}={} (its IO thread shows Yes for up to that long after the master vanished \
             silently)",
            names.net_timeout,
            secs(timeout)
        ));
    }
    match net.heartbeat_period {
        Some(p) if p.is_zero() => slow.push(
            "heartbeats are off (an idle master and a vanished one look the same to it)".into(),
        ),
        Some(p) if net.net_timeout.is_some_and(|t| p >= t) => slow.push(format!(
            "its heartbeat period {} is not shorter than {} (on an idle master its IO thread \
             times out and reconnects over and over)",
            secs(p),
            names.net_timeout
        )),
        Some(p) if p > goal => slow.push(format!(
            "its heartbeat period is {} (it hears nothing from an idle master for that long)",
            secs(p)
        )),
        _ => {}
    }
    if slow.is_empty() {
        return None;
    }
    Some(format!(
        "slow to notice a dead master: {}. The monitor confirms a silent loss within its \
         window (ping_interval × ping_misses = {}, plus 2 s) by connecting to the master from \
         this host over SSH; when it cannot, the failover waits until this slave notices",
        slow.join("; "),
        secs(window)
    ))
}

/// The statements that bring the replica within `goal`: a timeout of `goal`
/// (whole seconds, at least 2) and heartbeats at half of it.
fn fix(facts: &ServerFacts, goal: Duration) -> String {
    let names = Names::of(facts.flavor, facts.version);
    let timeout = goal.as_secs().max(2);
    let heartbeat = timeout as f64 / 2.0;
    format!(
        "SET GLOBAL {n}={timeout}; put {n}={timeout} under [mysqld] in its my.cnf; then {stop}; \
         {change} {hb}={heartbeat}; {start} (the heartbeat period is fixed when the \
         replication source is changed, so it must be set again after the timeout)",
        n = names.net_timeout,
        stop = names.stop,
        change = names.change,
        hb = names.heartbeat,
        start = names.start,
    )
}

/// The statement and variable names of the server's dialect.
struct Names {
    net_timeout: &'static str,
    stop: &'static str,
    change: &'static str,
    heartbeat: &'static str,
    start: &'static str,
}

impl Names {
    fn of(flavor: Flavor, version: Version) -> Names {
        if flavor == Flavor::MySql && version >= Version::new(8, 0, 26) {
            Names {
                net_timeout: "replica_net_timeout",
                stop: "STOP REPLICA",
                change: "CHANGE REPLICATION SOURCE TO",
                heartbeat: "SOURCE_HEARTBEAT_PERIOD",
                start: "START REPLICA",
            }
        } else {
            Names {
                net_timeout: "slave_net_timeout",
                stop: "STOP SLAVE",
                change: "CHANGE MASTER TO",
                heartbeat: "MASTER_HEARTBEAT_PERIOD",
                start: "START SLAVE",
            }
        }
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s:.1}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resolve_str;
    use crate::topology::fixture::{master, slave, topology};
    use crate::topology::status::ReplicaNet;
    use crate::topology::validate;

    fn settings(ping: &str) -> AppSettings {
        resolve_str(
            "app1.cnf",
            &format!("[server default]\n{ping}\n[server1]\nhostname=198.18.0.11\n"),
            false,
            None,
        )
        .unwrap()
        .settings
    }

    fn net(timeout: Option<f64>, heartbeat: Option<f64>) -> ReplicaNet {
        ReplicaNet {
            net_timeout: timeout.map(Duration::from_secs_f64),
            heartbeat_period: heartbeat.map(Duration::from_secs_f64),
            received_heartbeats: Some(0),
        }
    }

    /// The warnings for slaves 2 and 3 with these settings, at ping_interval=1.
    fn run(two: ReplicaNet, three: ReplicaNet, flavor: Flavor) -> Vec<Problem> {
        let t = topology(vec![
            master(1),
            slave(2, 1, "mysql-bin.000002:500").with_facts(|f| f.replica_net = two),
            slave(3, 1, "mysql-bin.000002:500").with_facts(|f| {
                f.replica_net = three;
                if flavor == Flavor::MySql {
                    f.flavor = Flavor::MySql;
                    f.version = Version::new(8, 4, 0);
                }
            }),
        ]);
        let discovery = validate::discover(&t);
        warnings(&settings("ping_interval=1"), &t, &discovery)
    }

    #[test]
    fn table() {
        let defaults = || net(Some(60.0), Some(30.0));
        let tuned = || net(Some(4.0), Some(2.0));
        // (case, slave 2, slave 3, flavor of slave 3, fragments per warned slave)
        type Case = (
            &'static str,
            ReplicaNet,
            ReplicaNet,
            Flavor,
            Vec<(&'static str, Vec<&'static str>)>,
        );
        let cases: Vec<Case> = vec![
            (
                "server defaults: both warned, exact fix",
                defaults(),
                defaults(),
                Flavor::MariaDb,
                vec![
                    (
                        "198.18.0.12",
                        vec![
                            "slave_net_timeout=60s",
                            "heartbeat period is 30s",
                            "ping_interval × ping_misses = 3s",
                        ],
                    ),
                    ("198.18.0.13", vec!["slave_net_timeout=60s"]),
                ],
            ),
            ("tuned: nothing", tuned(), tuned(), Flavor::MariaDb, vec![]),
            (
                "timeout at the goal (3 s + 2 s) is fine",
                net(Some(5.0), Some(2.5)),
                tuned(),
                Flavor::MariaDb,
                vec![],
            ),
            (
                "timeout tuned but the heartbeat kept from before",
                net(Some(4.0), Some(30.0)),
                tuned(),
                Flavor::MariaDb,
                vec![(
                    "198.18.0.12",
                    vec!["heartbeat period 30s is not shorter than slave_net_timeout"],
                )],
            ),
            (
                "heartbeats off",
                net(Some(4.0), Some(0.0)),
                tuned(),
                Flavor::MariaDb,
                vec![("198.18.0.12", vec!["heartbeats are off"])],
            ),
            (
                "unknown settings are not guessed at",
                net(None, None),
                tuned(),
                Flavor::MariaDb,
                vec![],
            ),
            (
                "MySQL 8.4 names",
                tuned(),
                net(Some(60.0), None),
                Flavor::MySql,
                vec![("198.18.0.13", vec!["replica_net_timeout=60s"])],
            ),
        ];
        for (name, two, three, flavor, want) in cases {
            let got = run(two, three, flavor);
            assert_eq!(got.len(), want.len(), "{name}: {got:#?}");
            for (problem, (host, fragments)) in got.iter().zip(want) {
                assert!(problem.host.contains(host), "{name}: {problem:?}");
                assert_eq!(problem.severity, validate::Severity::Warning, "{name}");
                for f in fragments {
                    assert!(
                        problem.what.contains(f),
                        "{name}: {f:?} in {}",
                        problem.what
                    );
                }
            }
        }
    }

    #[test]
    fn the_fix_is_exact_per_dialect() {
        let got = run(
            net(Some(60.0), Some(30.0)),
            net(Some(60.0), Some(30.0)),
            Flavor::MySql,
        );
        assert_eq!(
            got[0].fix,
            "SET GLOBAL slave_net_timeout=5; put slave_net_timeout=5 under [mysqld] in its \
             my.cnf; then STOP SLAVE; CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=2.5; START SLAVE \
             (the heartbeat period is fixed when the replication source is changed, so it must \
             be set again after the timeout)"
        );
        assert!(
            got[1].fix.starts_with(
                "SET GLOBAL replica_net_timeout=5; put replica_net_timeout=5 under [mysqld] in \
                 its my.cnf; then STOP REPLICA; CHANGE REPLICATION SOURCE TO \
                 SOURCE_HEARTBEAT_PERIOD=2.5; START REPLICA"
            ),
            "{}",
            got[1].fix
        );
    }
}
