//! Resuming an interrupted failover from its journal record: the new master
//! it elected (kept), whether it was opened for writes, the saved binlog tail,
//! and what was already done, for the log and the report.
//!
//! The phases run again with this: phase 1 accepts the half-done topology
//! (slaves still on the dead master, the new master detached or mid catch-up,
//! slaves already on the new master), phases 2-3 are skipped once the new
//! master was opened, every apply skips what its target has (by GTID), and
//! phase 4 repoints only the slaves not yet on the new master.

use std::path::PathBuf;

use crate::config::{Config, ServerId};
use crate::journal::{Entry, Facts, HostRef, SlaveResult};
use crate::topology::position::BinlogPos;

/// What the interrupted failover left, as the resumed one uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resume {
    /// The new master it elected, if it got that far: kept.
    pub new_master: Option<ServerId>,
    /// The new master was opened for writes (`read_only=0`).
    pub recovered: bool,
    /// Its binlog position once it had everything (file/position mode: where slaves start).
    pub new_master_pos: Option<BinlogPos>,
    /// Where the dead master's binlog tail was kept.
    pub saved_binlog: Option<PathBuf>,
    /// GTID failover (from the record; the half-done topology cannot tell).
    pub gtid: bool,
    /// Where it stopped, in one line.
    pub stopped: String,
    /// What was already done, one line each.
    pub done: Vec<String>,
}

/// Says, in the log and the journal, that this failover finishes an interrupted one.
pub(super) fn announce(ctx: &super::Ctx, r: &Resume) {
    let log = ctx.log(crate::journal::Phase::Check);
    log.warn(
        None,
        &format!(
            "Resuming an interrupted failover; it stopped in {}",
            r.stopped
        ),
    );
    for line in &r.done {
        log.info(None, &format!("already done: {line}"));
    }
    let note = format!(
        "{}: resumed an interrupted failover that stopped in {}; already done: {}",
        crate::state::now().format("%Y-%m-%d %H:%M:%S"),
        r.stopped,
        if r.done.is_empty() {
            "nothing".to_owned()
        } else {
            r.done.join("; ")
        }
    );
    ctx.kit.log.facts(|f| f.resumed.push(note));
}

/// The configured server a journal `HostRef` names (hostname or address, and port).
pub(crate) fn server_of(config: &Config, host: &HostRef) -> Option<ServerId> {
    config.ids().find(|&i| {
        let s = config.server(i);
        s.port == host.port && (s.hostname == host.host || s.mysql_addr() == host.ip)
    })
}

impl Resume {
    /// Reads the record of an unfinished failover; `last` is its last journal step.
    pub(crate) fn from_record(
        config: &Config,
        facts: &Facts,
        last: Option<&Entry>,
    ) -> Result<Resume, String> {
        let new_master = match &facts.new_master {
            Some(h) => Some(server_of(config, h).ok_or_else(|| {
                format!(
                    "the new master it elected, {}, is not in the configuration any more",
                    h.label()
                )
            })?),
            None => None,
        };
        let new_master_pos = match (&facts.positions.new_master, facts.new_master_recovered) {
            (Some(text), true) => Some(
                text.parse::<BinlogPos>()
                    .map_err(|e| format!("its recorded new master position {text:?}: {e}"))?,
            ),
            _ => None,
        };
        Ok(Resume {
            new_master,
            recovered: facts.new_master_recovered,
            new_master_pos,
            saved_binlog: facts.saved_binlog.as_ref().map(PathBuf::from),
            gtid: facts.gtid,
            stopped: stopped_at(facts, last),
            done: done(facts),
        })
    }
}

/// Where the failover stopped: its recorded stop, else its last step.
pub(crate) fn stopped_at(facts: &Facts, last: Option<&Entry>) -> String {
    if let Some(s) = &facts.stopped_at {
        return format!("{}: {}", s.phase.title(), s.step);
    }
    match last {
        Some(e) => format!(
            "{} (the manager died; its last step: {}{}{})",
            e.phase.title(),
            e.host
                .as_ref()
                .map(|h| format!("{h}: "))
                .unwrap_or_default(),
            e.action,
            if e.detail.is_empty() {
                String::new()
            } else {
                format!(" {}", e.detail)
            }
        ),
        None => "before its first step".to_owned(),
    }
}

/// What the record says was done, in the order it was done.
pub(crate) fn done(f: &Facts) -> Vec<String> {
    let mut lines = Vec::new();
    if f.ip_stop.is_some() || f.shutdown.is_some() || f.latest_slave.is_some() {
        lines.push("phase 2: the slaves' IO threads stopped, the dead master fenced".to_owned());
    }
    if let Some(l) = &f.latest_slave {
        lines.push(format!("phase 3.1: latest slave {}", l.label()));
    }
    if let Some(p) = &f.saved_binlog {
        lines.push(format!(
            "phase 3.2: the dead master's binlog tail saved in {p}"
        ));
    }
    if let Some(n) = &f.new_master {
        lines.push(format!(
            "phase 3.3: {} elected as the new master",
            n.label()
        ));
    }
    if f.new_master_recovered {
        lines
            .push("phase 3.5: the new master caught up and opened for writes (read_only=0)".into());
    }
    for s in &f.slaves {
        if s.result == SlaveResult::Ok {
            lines.push(format!("phase 4: {} repointed", s.host.label()));
        }
    }
    if f.new_master_reset == Some(true) {
        lines.push("phase 5: RESET SLAVE ALL on the new master".into());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Phase, StepResult};

    fn config() -> Config {
        let text =
            "[server default]\nuser=root\npassword=secret\n[server1]\nhostname=198.18.0.11\n\
                    [server2]\nhostname=198.18.0.12\n[server3]\nhostname=198.18.0.13\n";
        crate::config::resolve_str("app1.cnf", text, false, None).expect("config")
    }

    #[test]
    fn the_record_names_the_new_master_and_what_was_done() {
        let config = config();
        let spec = config.server(ServerId::nth(1));
        let mut facts = Facts {
            gtid: true,
            dead_master: Some(crate::recovery::host_ref(config.server(ServerId::nth(0)))),
            ..Facts::default()
        };
        let last = Entry {
            at: chrono::Utc::now(),
            phase: Phase::Shutdown,
            host: None,
            action: "master_ip_failover_script".into(),
            result: StepResult::Info,
            detail: "--command=stop".into(),
            kind: None,
        };
        let r = Resume::from_record(&config, &facts, Some(&last)).expect("record");
        assert_eq!(r.new_master, None, "killed before the election");
        assert!(r.stopped.starts_with("Phase 2"), "{}", r.stopped);

        facts.latest_slave = Some(crate::recovery::host_ref(spec));
        facts.new_master = Some(crate::recovery::host_ref(spec));
        facts.saved_binlog = Some("/var/tmp/saved_master_binlog_from_x.binlog".into());
        let r = Resume::from_record(&config, &facts, None).expect("record");
        assert_eq!(r.new_master, Some(ServerId::nth(1)));
        assert!(!r.recovered);
        assert_eq!(r.new_master_pos, None);
        assert_eq!(r.done.len(), 4, "{:?}", r.done);

        facts.new_master_recovered = true;
        facts.positions.new_master = Some("mysql-bin.000003:1234".into());
        let r = Resume::from_record(&config, &facts, None).expect("record");
        assert!(r.recovered);
        assert_eq!(
            r.new_master_pos,
            Some(BinlogPos::new("mysql-bin.000003", 1234))
        );

        facts.new_master = Some(HostRef::new("gone", "198.18.0.99", 3306));
        let e = Resume::from_record(&config, &facts, None).expect_err("not configured");
        assert!(e.contains("not in the configuration"), "{e}");
    }
}
