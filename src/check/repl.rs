//! `check-repl`: read every server, validate the replication topology, and show
//! the election as a dry run.

use crate::config::ServerId;
use std::sync::Arc;

use super::Report;
use crate::config::{keys, Config};
use crate::mysql::gather;
use crate::mysql::Connector;
use crate::topology::errant;
use crate::topology::select::{self, Election, ElectionRules};
use crate::topology::snapshot::{NodeState, Topology};
use crate::topology::validate::{self, Discovery, Problem, ReplMode, Rules, Severity};

pub(crate) async fn run(
    config: &Config,
    connector: Arc<dyn Connector>,
    seconds_behind_master: u64,
) -> Report {
    evaluate(config, connector, seconds_behind_master).await.0
}

/// The check-repl report, with the topology and discovery it was made from
/// (`start` needs to know which server is the master).
pub(crate) async fn evaluate(
    config: &Config,
    connector: Arc<dyn Connector>,
    seconds_behind_master: u64,
) -> (Report, Topology, Discovery) {
    // MHA's masterha_check_repl: the start-up checks, without --ignore_fail_on_start.
    let rules = Rules {
        seconds_behind_master,
        ignore_fail_on_start: Some(false),
        ..Rules::from_settings(&config.settings)
    };
    evaluate_with(config, connector, rules).await
}

/// [`evaluate`] under `rules` (`start` passes its options: a master that may
/// already be dead, `--ignore-fail-on-start`).
pub(crate) async fn evaluate_with(
    config: &Config,
    connector: Arc<dyn Connector>,
    rules: Rules,
) -> (Report, Topology, Discovery) {
    let topology = gather::topology(config, connector).await;
    let discovery = validate::discover_with(&topology, &rules);
    let mut problems = discovery.problems.clone();
    problems.extend(validate::validate(&topology, &discovery, &rules));
    problems.extend(super::detection::warnings(
        &config.settings,
        &topology,
        &discovery,
    ));
    problems.extend(errant_warnings(&topology, &discovery));
    let election = discovery.master.map(|master| {
        select::select_new_master(
            &topology,
            master,
            &ElectionRules::from_settings(&config.settings),
        )
    });
    let report = render(config, &topology, &discovery, election.as_ref(), &problems);
    (report, topology, discovery)
}

/// A warning for each slave with errant GTIDs (transactions its master
/// lacks), naming them and the fix. A warning, not an error: replication
/// works on; the election passes such a slave over (unless
/// `allow_errant_promotion=1`), and `start` monitors as MHA would.
fn errant_warnings(topology: &Topology, discovery: &Discovery) -> Vec<Problem> {
    match discovery.master {
        Some(master) => errant::problems(topology, master, &discovery.slaves),
        None => Vec::new(),
    }
}

/// The whole report; pure so that its shape is tested without servers.
pub(crate) fn render(
    config: &Config,
    topology: &Topology,
    discovery: &Discovery,
    election: Option<&Election>,
    problems: &[Problem],
) -> Report {
    let mut lines = Vec::new();
    for note in &config.notes {
        lines.push(format!("[warning] {}: {}", note.origin, note.message));
    }
    let idle = keys::not_yet_acted_on(config);
    if !idle.is_empty() {
        lines.push(format!(
            "[info] recognised, not yet acted on by this version: {}",
            idle.join(", ")
        ));
    }
    if let Some(master) = discovery.master {
        let mode = match validate::replication_mode(topology, discovery) {
            ReplMode::Gtid => "GTID",
            ReplMode::FilePos => "file/position",
        };
        lines.push(format!("[info] Replication mode: {mode}."));
        lines.extend(
            tree(topology, master, &discovery.slaves)
                .into_iter()
                .map(|l| format!("[info] {l}")),
        );
        lines.extend(super::semisync::lines(topology, master));
    }
    if let Some(election) = election {
        lines.extend(election_lines(topology, election));
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    for p in problems {
        let tag = match p.severity {
            Severity::Error => "[error]",
            Severity::Warning => "[warning]",
        };
        lines.push(format!("{tag} {}: {}. Fix: {}", p.host, p.what, p.fix));
    }
    let ok = errors == 0;
    lines.push(if ok {
        "MySQL Replication Health is OK.".to_owned()
    } else {
        "MySQL Replication Health is NOT OK!".to_owned()
    });
    Report { lines, ok }
}

/// MHA's ASCII tree: the master, then ` +--slave` lines, with what matters about each.
pub(crate) fn tree(topology: &Topology, master: ServerId, slaves: &[ServerId]) -> Vec<String> {
    let mut lines = Vec::new();
    let node = &topology.node(master);
    let mut head = format!("{} (current master)", node.spec.label());
    if node.unreachable_reason().is_some() {
        head = format!(
            "{} (current master, unreachable: every slave replicates from it)",
            node.spec.label()
        );
    }
    if let NodeState::Reachable(obs) = &node.state {
        head.push_str(&format!(" {}", obs.facts.version_text));
        if let Some(pos) = &obs.facts.binlog {
            head.push_str(&format!(", binlog at {pos}"));
        }
    }
    lines.push(head);
    for &i in slaves {
        let node = &topology.node(i);
        let mut line = format!(" +--{}", node.spec.label());
        if let Some(label) = &node.spec.node_label {
            line.push_str(&format!(" [{label}]"));
        }
        if let NodeState::Reachable(obs) = &node.state {
            if let Some(r) = &obs.facts.replica {
                line.push_str(&format!(
                    " read {} exec {}, IO {:?}, SQL {}, lag {}",
                    r.read,
                    r.exec,
                    r.io,
                    if r.sql_running { "Yes" } else { "No" },
                    r.seconds_behind
                        .map(|s| format!("{s}s"))
                        .unwrap_or_else(|| "unknown".into())
                ));
            }
        }
        let mut flags = Vec::new();
        if node.spec.candidate_master {
            flags.push("candidate_master");
        }
        if node.spec.no_master {
            flags.push("no_master");
        }
        if !flags.is_empty() {
            line.push_str(&format!(" ({})", flags.join(", ")));
        }
        lines.push(line);
    }
    for (i, node) in topology.iter() {
        if i != master && !slaves.contains(&i) {
            if let NodeState::Unreachable { .. } = node.state {
                lines.push(format!(" x  {} (unreachable)", node.spec.label()));
            }
        }
    }
    lines
}

fn election_lines(topology: &Topology, election: &Election) -> Vec<String> {
    let mut lines = Vec::new();
    match (election.chosen, &election.rule) {
        (Some(chosen), Some(rule)) => lines.push(format!(
            "[info] If the master died now: {} would be promoted ({rule}).",
            topology.node(chosen).spec.label()
        )),
        _ => lines.push(format!(
            "[error] If the master died now: no slave could be promoted: {}",
            election
                .refusal
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "no eligible slave".into())
        )),
    }
    for (i, verdict) in &election.verdicts {
        if Some(*i) != election.chosen {
            lines.push(format!(
                "[info]   {}: not promoted — {verdict}",
                topology.node(*i).spec.label()
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resolve_str;
    use crate::topology::fixture::{down, master, slave, topology};

    fn config() -> Config {
        resolve_str(
            "app1.cnf",
            "[server default]\ndisable_log_bin=1\n[server1]\nhostname=198.18.0.11\n\
             [server2]\nhostname=198.18.0.12\ncandidate_master=1\n[server3]\nhostname=198.18.0.13\n",
            false,
            None,
        )
        .unwrap()
    }

    fn report(t: &Topology) -> Report {
        let discovery = validate::discover(t);
        let mut problems = discovery.problems.clone();
        problems.extend(validate::validate(t, &discovery, &Rules::default()));
        problems.extend(errant_warnings(t, &discovery));
        let election = discovery
            .master
            .map(|m| select::select_new_master(t, m, &ElectionRules::default()));
        render(&config(), t, &discovery, election.as_ref(), &problems)
    }

    #[test]
    fn healthy_cluster_report() {
        let t = topology(vec![
            master(1),
            slave(2, 1, "mysql-bin.000002:500").with_spec(|s| s.candidate_master = true),
            slave(3, 1, "mysql-bin.000002:500"),
        ]);
        let r = report(&t);
        let text = r.lines.join("\n");
        assert!(r.ok, "{text}");
        assert_eq!(r.lines.last().unwrap(), "MySQL Replication Health is OK.");
        assert!(text.contains("(current master)"), "{text}");
        assert_eq!(text.matches(" +--").count(), 2, "{text}");
        let promoted = r
            .lines
            .iter()
            .find(|l| l.contains("would be promoted"))
            .unwrap();
        assert!(promoted.contains("198.18.0.12"), "{promoted}");
        assert!(
            r.lines
                .iter()
                .any(|l| l.contains("198.18.0.13") && l.contains("not promoted")),
            "{text}"
        );
        assert!(
            text.contains("not yet acted on by this version: disable_log_bin"),
            "{text}"
        );
    }

    #[test]
    fn unreachable_slave_makes_it_not_ok_and_is_named() {
        let t = topology(vec![
            master(1),
            slave(2, 1, "mysql-bin.000002:500"),
            down(3, "cannot connect: Connection refused"),
        ]);
        let r = report(&t);
        let text = r.lines.join("\n");
        assert!(!r.ok, "{text}");
        assert_eq!(
            r.lines.last().unwrap(),
            "MySQL Replication Health is NOT OK!"
        );
        assert!(
            r.lines.iter().any(|l| l.starts_with("[error]")
                && l.contains("198.18.0.13")
                && l.contains("refused")),
            "{text}"
        );
    }

    #[test]
    fn errant_slave_is_named_with_its_gtids_and_not_promoted() {
        use crate::topology::gtid::{MariaGtidPos, MariaGtidState};
        use crate::topology::status::GtidFacts;
        let at = |state: &str| {
            let pos = MariaGtidPos::parse(state).unwrap();
            let binlog_state = MariaGtidState::parse(state).unwrap();
            move |f: &mut crate::topology::status::ServerFacts| {
                f.gtid = GtidFacts::MariaDb {
                    binlog_pos: pos.clone(),
                    slave_pos: pos.clone(),
                    current_pos: pos,
                    binlog_state,
                }
            }
        };
        let t = topology(vec![
            master(1).with_facts(at("0-1-100")),
            slave(2, 1, "mysql-bin.000002:500")
                .with_spec(|s| s.candidate_master = true)
                .with_facts(at("0-1-100,0-2-1")),
            slave(3, 1, "mysql-bin.000002:500").with_facts(at("0-1-100")),
        ]);
        let r = report(&t);
        let text = r.lines.join("\n");
        assert!(r.ok, "a warning, not an error: {text}");
        let warning = r
            .lines
            .iter()
            .find(|l| l.starts_with("[warning] 198.18.0.12") && l.contains("errant"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            warning.contains("0-2-1") && warning.contains("RESET MASTER"),
            "{warning}"
        );
        let promoted = r
            .lines
            .iter()
            .find(|l| l.contains("would be promoted"))
            .unwrap();
        assert!(promoted.contains("198.18.0.13"), "{promoted}");
        assert!(
            r.lines.iter().any(|l| l.contains("198.18.0.12")
                && l.contains("not promoted")
                && l.contains("errant")),
            "{text}"
        );
    }

    #[test]
    fn no_master_found_is_not_ok() {
        let t = topology(vec![down(1, "timeout"), down(2, "timeout")]);
        let r = report(&t);
        assert!(!r.ok);
        assert!(!r.lines.iter().any(|l| l.contains("(current master)")));
    }
}
