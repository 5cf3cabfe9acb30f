//! The failover report, rendered from the journal in MHA 0.58's shape (pure).
//!
//! MHA's lines come first, worded as `MasterFailover.pm` words them (servers as
//! `host(ip:port)`), so operators and their mail filters see what they know. Our
//! additions follow: where the failover stopped and how to finish by hand, the
//! binlog positions at the switch, what may be lost, and the steps that failed
//! or warned.

use crate::journal::{
    Detection, Entry, Facts, HookRan, HostRef, Journal, LostRange, Mode, Phase, SlaveResult,
    StepResult, StoppedAt,
};

/// MHA's banner line.
pub(crate) const BANNER: &str = "----- Failover Report -----";

/// A rendered report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    /// The mail subject (DESIGN §6): `Failover report: <app>: <old> is down, <new> is new master`.
    pub subject: String,
    /// MHA's own subject line: `<app>: MySQL Master failover <old>(ip:port) to
    /// <new>(ip:port) succeeded`. `report_script` gets this as `--subject`, as MHA
    /// passed it, since existing scripts may look for "succeeded".
    pub headline: String,
    /// The body lines, MHA's then ours, newline-terminated.
    pub body: String,
    /// Who to name in `report_script`'s arguments.
    pub hosts: ReportHosts,
}

/// The host names `report_script` receives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ReportHosts {
    pub orig_master: String,
    /// Set only once the new master was activated (as MHA does).
    pub new_master: Option<String>,
    /// Slaves now replicating from the new master.
    pub new_slaves: Vec<String>,
}

impl Report {
    /// The block for the manager log: blank line, banner, blank, headline, blank, body.
    pub(crate) fn log_text(&self) -> String {
        format!("\n{BANNER}\n\n{}\n\n{}", self.headline, self.body)
    }

    /// The mail text: the headline, a blank line, the body.
    pub(crate) fn mail_text(&self) -> String {
        format!("{}\n\n{}", self.headline, self.body)
    }
}

/// Renders the report for the journal as it stands (finished, stopped, or cut
/// short by a crash: then the last recorded step is where it stopped).
pub(crate) fn render(journal: &Journal) -> Report {
    let facts = journal.facts();
    let stop = stop_point(journal);
    Report {
        subject: subject(facts, stop.as_ref()),
        headline: headline(facts, stop.is_some()),
        body: body(facts, journal.entries(), stop.as_ref()),
        hosts: hosts(facts),
    }
}

/// Where the failover stopped: the recorded stop, or, when it neither finished
/// nor recorded a stop (a crash), the last step in the journal.
fn stop_point(journal: &Journal) -> Option<StoppedAt> {
    let facts = journal.facts();
    if let Some(stop) = &facts.stopped_at {
        return Some(stop.clone());
    }
    if facts.finished {
        return None;
    }
    let last = journal.entries().last();
    Some(StoppedAt {
        phase: last.map_or(Phase::Check, |e| e.phase),
        step: last.map_or_else(
            || "before the first step".to_string(),
            |e| format!("{} (the journal ends here)", e.action),
        ),
        to_finish: None,
        kind: last.and_then(|e| e.kind),
    })
}

fn label(host: Option<&HostRef>) -> String {
    host.map_or_else(|| "(unknown)".to_string(), HostRef::label)
}

fn name(host: Option<&HostRef>) -> String {
    host.map_or_else(|| "(unknown)".to_string(), |h| h.host.clone())
}

fn lost_slaves(facts: &Facts) -> usize {
    facts
        .slaves
        .iter()
        .filter(|s| matches!(s.result, SlaveResult::Lost { .. }))
        .count()
}

fn all_ok(facts: &Facts) -> bool {
    lost_slaves(facts) == 0 && facts.new_master_reset != Some(false)
}

fn subject(facts: &Facts, stop: Option<&StoppedAt>) -> String {
    let old = name(facts.dead_master.as_ref());
    let new = name(facts.new_master.as_ref());
    let (kind, what) = match facts.mode {
        Mode::Switch => ("Switch report", format!("{old} switched")),
        Mode::Automatic | Mode::Manual => ("Failover report", format!("{old} is down")),
    };
    let outcome = match stop {
        Some(stop) => match facts.mode {
            Mode::Switch => format!("switch FAILED at {}", stop.phase.title()),
            _ => format!("failover FAILED at {}", stop.phase.title()),
        },
        None => {
            let lost = lost_slaves(facts);
            match lost {
                0 => format!("{new} is new master"),
                1 => format!("{new} is new master, 1 slave not recovered"),
                n => format!("{new} is new master, {n} slaves not recovered"),
            }
        }
    };
    format!("{kind}: {}: {what}, {outcome}", facts.app)
}

fn headline(facts: &Facts, stopped: bool) -> String {
    let what = match facts.mode {
        Mode::Switch => "MySQL Master online switch",
        Mode::Automatic | Mode::Manual => "MySQL Master failover",
    };
    let mut line = format!(
        "{}: {what} {}",
        facts.app,
        label(facts.dead_master.as_ref())
    );
    // MHA appends the new master once it is recovered, and "succeeded" only when
    // every slave was recovered too.
    if facts.new_master_recovered {
        line.push_str(&format!(" to {}", label(facts.new_master.as_ref())));
        if !stopped && facts.finished && all_ok(facts) {
            line.push_str(" succeeded");
        }
    }
    line
}

/// `code:0`, MHA's `$high:$low`, or our note when there was no exit code.
fn rc(ran: &HookRan) -> String {
    match (ran.code, &ran.note) {
        (Some(code), _) => format!("with return code {code}:0"),
        (None, Some(note)) => format!("({note})"),
        (None, None) => "(no exit code)".to_string(),
    }
}

/// Why the master was declared dead, as the report's second paragraph.
fn detection_lines(d: &Detection) -> Vec<String> {
    if d.misses == 0 {
        return vec![format!("Why: {}.", d.evidence)];
    }
    let mut lines = vec![format!(
        "Why: declared dead at {} after {} missed pings over {:.1} s; SSH to its host: {}.",
        d.at.format("%Y-%m-%d %H:%M:%S UTC"),
        d.misses,
        d.since_first_miss_ms as f64 / 1000.0,
        d.ssh
    )];
    lines.push(format!("Evidence: {}", d.evidence));
    lines
}

/// The repointed slaves left with errant GTIDs (transactions the new master lacks).
fn push_errant_left(out: &mut Vec<String>, facts: &Facts) {
    for e in &facts.errant_left {
        out.push(format!(
            "{}: WARNING: errant GTIDs left on it (transactions the new master lacks): {}. \
             Fix: {}",
            e.host.label(),
            e.gtids,
            e.fix
        ));
    }
}

fn body(facts: &Facts, entries: &[Entry], stop: Option<&StoppedAt>) -> String {
    let mut out = Vec::<String>::new();
    let dead = label(facts.dead_master.as_ref());
    let new = label(facts.new_master.as_ref());

    match facts.mode {
        Mode::Switch => out.push(format!("Online master switch from {dead}.")),
        _ => out.push(format!("Master {dead} is down!")),
    }
    if let Some(d) = &facts.detection {
        out.extend(detection_lines(d));
    }
    out.push(String::new());
    let log = match &facts.manager_log {
        Some(path) => format!("{}:{path}", facts.manager_host),
        None => facts.manager_host.clone(),
    };
    out.push(format!("Check ha-manager logs at {log} for details."));
    out.push(String::new());
    out.push(
        match facts.mode {
            Mode::Automatic => "Started automated(non-interactive) failover.",
            Mode::Manual => "Started manual(interactive) failover.",
            Mode::Switch => "Started online master switch.",
        }
        .to_string(),
    );
    // A failover finished after an interruption says so, and what was done before.
    for note in &facts.resumed {
        out.push(format!("Resumed: {note}"));
    }

    if let Some(ran) = &facts.ip_stop {
        out.push(match ran.code {
            Some(0) => format!("Invalidated master IP address on {dead}"),
            _ => format!("Failed to deactivate master IP {}", rc(ran)),
        });
    }
    if let Some(ran) = &facts.shutdown {
        let host = name(facts.dead_master.as_ref());
        out.push(match ran.code {
            Some(0) => format!("Power off {host}."),
            Some(10) => format!("SSH reachable on {host}. Shutting down mysqld done."),
            _ => format!("Failed to execute shutdown_script {}", rc(ran)),
        });
    }
    if !facts.gtid {
        if let Some(latest) = &facts.latest_slave {
            out.push(format!(
                "The latest slave {} has all relay logs for recovery.",
                latest.label()
            ));
        }
    }
    if facts.new_master.is_some() {
        out.push(format!("Selected {new} as a new master."));
    }
    if let Some(path) = &facts.saved_binlog {
        out.push(format!(
            "Saved the dead master's binlog tail to {path} (kept: it holds the transactions \
             no slave had received)."
        ));
    }
    for path in &facts.saved_diffs {
        out.push(format!(
            "Saved a relay-log difference to {path} before applying it."
        ));
    }
    if facts.new_master_recovered {
        out.push(format!("{new}: OK: Applying all logs succeeded."));
    }
    if let Some(ran) = &facts.ip_start {
        out.push(match ran.code {
            Some(0) => format!("{new}: OK: Activated master IP address."),
            _ => format!("Failed to activate master IP address for {new} {}", rc(ran)),
        });
    }
    if !facts.gtid {
        for slave in facts.slaves.iter().filter(|s| s.has_latest_relay_log) {
            out.push(format!(
                "{}: This host has the latest relay log events.",
                slave.host.label()
            ));
        }
    }
    for slave in &facts.slaves {
        out.push(match (&slave.result, facts.gtid) {
            (SlaveResult::Ok, false) => format!(
                "{}: OK: Applying all logs succeeded. Slave started, replicating from {new}",
                slave.host.label()
            ),
            (SlaveResult::Ok, true) => format!(
                "{}: OK: Slave started, replicating from {new}",
                slave.host.label()
            ),
            (SlaveResult::Lost { reason, kind }, _) => format!(
                "{}: ERROR{}: {reason}",
                slave.host.label(),
                kind.map(|k| format!(" ({})", k.as_str()))
                    .unwrap_or_default()
            ),
        });
    }
    for (slave, under) in &facts.unmanaged {
        out.push(format!(
            "{slave}: third-tier slave, left replicating from {under} (multi_tier_slave=1); \
             not recovered by this failover"
        ));
    }
    push_errant_left(&mut out, facts);
    match facts.new_master_reset {
        Some(true) => out.push(format!("{new}: Resetting slave info succeeded.")),
        Some(false) => out.push(format!("{new}: Resetting slave info failed.")),
        None => {}
    }
    match stop {
        Some(stop) => {
            out.push(
                match facts.mode {
                    Mode::Switch => "Got Error so couldn't continue the switch from here.",
                    Mode::Automatic | Mode::Manual => {
                        "Got Error so couldn't continue failover from here."
                    }
                }
                .to_string(),
            );
            let advice = stop
                .to_finish
                .clone()
                .unwrap_or_else(|| default_to_finish(stop.phase, facts));
            out.push(format!(
                "Stopped at: {}, step: {}{}. To finish by hand: {advice}",
                stop.phase.title(),
                stop.step,
                stop.kind
                    .map(|k| format!(" ({})", k.as_str()))
                    .unwrap_or_default()
            ));
        }
        None if all_ok(facts) => {
            out.push(format!("Master failover to {new} completed successfully."))
        }
        None => out.push(format!(
            "Master failover to {new} done, but recovery on slave partially failed."
        )),
    }

    push_positions(&mut out, facts);
    if let Some(semi_sync) = &facts.semi_sync {
        out.push(String::new());
        out.push(semi_sync.clone());
    }
    if let Some(lost) = &facts.possibly_lost {
        out.push(String::new());
        out.push(lost_line(lost, facts));
    }
    push_problems(&mut out, entries);

    let mut text = out.join("\n");
    text.push('\n');
    text
}

fn push_positions(out: &mut Vec<String>, facts: &Facts) {
    let p = &facts.positions;
    if p.is_empty() {
        return;
    }
    out.push(String::new());
    out.push("Binlog positions at the switch:".to_string());
    let with_gtid = |pos: &Option<String>, gtid: &Option<String>| match (pos, gtid) {
        (Some(pos), Some(gtid)) => format!("{pos}, GTID {gtid}"),
        (Some(pos), None) => pos.clone(),
        (None, Some(gtid)) => format!("GTID {gtid}"),
        (None, None) => "unknown".to_string(),
    };
    if p.old_master.is_some() || p.old_master_gtid.is_some() {
        out.push(format!(
            "  {} (old master), last position the slaves received: {}",
            label(facts.dead_master.as_ref()),
            with_gtid(&p.old_master, &p.old_master_gtid)
        ));
    }
    if p.new_master.is_some() || p.new_master_gtid.is_some() {
        out.push(format!(
            "  {} (new master), position for CHANGE MASTER: {}",
            label(facts.new_master.as_ref()),
            with_gtid(&p.new_master, &p.new_master_gtid)
        ));
    }
}

fn lost_line(lost: &LostRange, facts: &Facts) -> String {
    let dead = label(facts.dead_master.as_ref());
    let from = match (&lost.from_pos, &lost.after_gtid) {
        (Some(pos), Some(gtid)) => format!("after {pos} (GTIDs beyond {gtid})"),
        (Some(pos), None) => format!("after {pos}"),
        (None, Some(gtid)) => format!("beyond GTID set {gtid}"),
        (None, None) => "after the last event the slaves received".to_string(),
    };
    let check = lost
        .to_check
        .clone()
        .unwrap_or_else(|| default_to_check(lost, facts));
    format!(
        "Transactions that may be lost: events on {dead} {from} to the end of its binary log; \
         they could not be saved ({}). {check}",
        lost.reason
    )
}

/// What to run once the dead master's disk can be read again.
fn default_to_check(lost: &LostRange, facts: &Facts) -> String {
    let host = name(facts.dead_master.as_ref());
    let command = match (&lost.from_pos, &lost.after_gtid) {
        // A MySQL GTID set names server UUIDs (`uuid:1-100`); a MariaDB GTID
        // position is `domain-server-seq`, which mariadb-binlog takes as a start.
        (_, Some(gtid)) if gtid.contains(':') => {
            format!("mysqlbinlog --exclude-gtids='{gtid}' <its binlog files>")
        }
        (_, Some(gtid)) => format!("mariadb-binlog --start-position='{gtid}' <its binlog files>"),
        (Some(pos), None) => match pos.rsplit_once(':') {
            Some((file, offset)) => {
                format!("mysqlbinlog --start-position={offset} {file} <and any later binlog files>")
            }
            None => format!("mysqlbinlog from {pos}"),
        },
        (None, None) => "mysqlbinlog over its last binlog file".to_string(),
    };
    format!(
        "To check once {host}'s disk is readable: {command}, compare with the new master \
         and apply what is missing by hand."
    )
}

/// What an operator has to do when the failover stopped in `phase`.
fn default_to_finish(phase: Phase, facts: &Facts) -> String {
    let app = &facts.app;
    let new = label(facts.new_master.as_ref());
    let flag = format!("remove {app}.failover.error from the manager workdir");
    match phase {
        Phase::Monitor | Phase::Check => format!(
            "nothing was changed on the servers. Fix the cause, {flag}, and run the failover \
             again (ha-manager switch --master-state dead)."
        ),
        Phase::Shutdown => format!(
            "the slaves' IO threads are stopped and the old master may be fenced; no data was \
             changed. Fix the cause, {flag}, and run the failover again \
             (ha-manager switch --master-state dead)."
        ),
        Phase::MasterRecovery => format!(
            "{new} may be only partly recovered. Make sure it applied all relay logs \
             (SHOW SLAVE STATUS), set read_only=0 on it, move the master IP address to it, \
             point the other slaves at it (CHANGE MASTER to its SHOW MASTER STATUS, or \
             MASTER_AUTO_POSITION=1 with GTID), then {flag}."
        ),
        Phase::SlavesRecovery => format!(
            "{new} is the new master. Point each slave marked ERROR at it (CHANGE MASTER to \
             the position below, or MASTER_AUTO_POSITION=1 with GTID), start replication, \
             then {flag}."
        ),
        Phase::Cleanup => format!(
            "{new} is the new master and the slaves replicate from it. Run RESET SLAVE ALL on \
             {new}, then {flag}."
        ),
        Phase::Switch => "check which server is writable (read_only=0) and where each slave \
                          replicates from, then set read_only and replication by hand or retry \
                          the switch."
            .to_string(),
    }
}

fn push_problems(out: &mut Vec<String>, entries: &[Entry]) {
    let problems: Vec<&Entry> = entries
        .iter()
        .filter(|e| matches!(e.result, StepResult::Failed | StepResult::Warning))
        .collect();
    if problems.is_empty() {
        return;
    }
    out.push(String::new());
    out.push("Steps that failed or warned:".to_string());
    for e in problems {
        let result = match e.result {
            StepResult::Failed => "FAILED",
            _ => "WARNING",
        };
        let host = e
            .host
            .as_deref()
            .map(|h| format!(" {h}:"))
            .unwrap_or_default();
        let detail = if e.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", e.detail)
        };
        out.push(format!(
            "  {} [{}]{host} {}: {result}{detail}",
            e.at.format("%Y-%m-%d %H:%M:%S UTC"),
            e.phase.title(),
            e.action
        ));
    }
}

fn hosts(facts: &Facts) -> ReportHosts {
    ReportHosts {
        orig_master: name(facts.dead_master.as_ref()),
        new_master: facts
            .new_master
            .as_ref()
            .filter(|_| facts.new_master_recovered)
            .map(|h| h.host.clone()),
        new_slaves: facts
            .slaves
            .iter()
            .filter(|s| s.result == SlaveResult::Ok)
            .map(|s| s.host.host.clone())
            .collect(),
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
