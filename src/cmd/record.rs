//! What every failover leaves in `manager_workdir`, whoever started it (the
//! daemon or `switch --master-state dead`): the journal file, the error
//! marker written before it starts and removed when it ends well, the
//! complete marker, and the report, logged and delivered.

use std::path::Path;

use crate::config::Config;
use crate::failover::{Ctx, Outcome};
use crate::journal::{Facts, HostRef, Journal, Mode};
use crate::logging;
use crate::notify;
use crate::state::{MarkerKind, StateError, Workdir};

/// A new journal that is written through to `<app>.journal.jsonl`.
pub(super) fn journal(workdir: &Workdir) -> Journal {
    let mut journal = Journal::new(Facts::default());
    if let Err(e) = journal.append_jsonl(workdir.journal()) {
        tracing::warn!("journal file: {e}");
    }
    journal
}

/// Writes the error marker before a failover changes anything: if the
/// process dies half-way, it stays, `status` says a failover did not finish,
/// and no later failover runs over the half-switched cluster until an
/// operator has looked. A failover must not start without it.
pub(super) fn begin(workdir: &Workdir, master_label: &str) -> Result<(), StateError> {
    let text = format!(
        "failover from {master_label} in progress; if this file stays, it did not finish: see {}",
        workdir.journal().display()
    );
    workdir.create_marker(MarkerKind::Error, &text).map(|_| ())
}

/// The markers after the failover: complete (and no error marker) when a new
/// master is up, the error when it stopped after changing something, nothing
/// when it stopped before.
pub(super) fn end(workdir: &Workdir, outcome: &Outcome, master_label: &str) {
    let result = match outcome {
        Outcome::Complete(_) | Outcome::Partial(_) => workdir
            .create_marker(
                MarkerKind::Complete,
                &format!("failover from {master_label}"),
            )
            .and_then(|_| workdir.remove_marker(MarkerKind::Error)),
        Outcome::Failed {
            changed: true,
            error,
            ..
        } => workdir
            .create_marker(MarkerKind::Error, &error.to_string())
            .map(|_| ()),
        Outcome::Failed { changed: false, .. } | Outcome::DryRun => {
            workdir.remove_marker(MarkerKind::Error)
        }
    };
    if let Err(e) = result {
        tracing::error!("failover markers in {}: {e}", workdir.dir().display());
    }
}

/// Logs the failover report and delivers it (`report_script`, SMTP).
pub(super) async fn report(config: &Config, ctx: &Ctx) {
    let report = crate::render::report::render(&ctx.kit.log.journal());
    logging::line(&report.log_text());
    let delivery = notify::Notifier::from_config(config).deliver(&report).await;
    if !delivery.all_ok() {
        tracing::warn!("report delivery: {delivery:?}");
    }
}

/// A failover that did not finish, as the workdir records it: the error
/// marker is there and the journal's last record is a failover (not an online
/// switch) of a known dead master that did not reach its end.
#[derive(Debug, Clone)]
pub(super) struct Unfinished {
    /// The dead master it was failing over from.
    pub dead: HostRef,
    pub facts: Facts,
    /// The journal's last step, to say where it stopped.
    pub last: Option<crate::journal::Entry>,
    pub marker: std::path::PathBuf,
}

impl Unfinished {
    /// Where it stopped, in one line.
    pub(super) fn stopped(&self) -> String {
        crate::failover::resume_stopped_at(&self.facts, self.last.as_ref())
    }

    /// The exact command that finishes it.
    pub(super) fn finish_command(&self, conf: &Path) -> String {
        let dead = &self.dead;
        format!(
            "ha-manager switch --conf {} --master-state dead --dead-master-host {} \
             --dead-master-port {} --interactive=0",
            conf.display(),
            dead.host,
            dead.port
        )
    }

    /// `start`'s refusal: where it stopped and the command that finishes it.
    pub(super) fn refusal(&self, conf: &Path) -> String {
        format!(
            "a failover from {} did not finish ({} exists); it stopped in {}. Finish it with: {}",
            self.dead.label(),
            self.marker.display(),
            self.stopped(),
            self.finish_command(conf)
        )
    }
}

/// The unfinished failover the workdir records, if any (see [`Unfinished`]).
/// A marker without such a record (planted, or from an older version) is not one.
pub(super) fn unfinished(workdir: &Workdir) -> Result<Option<Unfinished>, StateError> {
    let Some(marker) = workdir.read_marker(MarkerKind::Error)? else {
        return Ok(None);
    };
    let Ok(journal) = crate::journal::load_jsonl(&workdir.journal()) else {
        return Ok(None);
    };
    let facts = journal.facts().clone();
    let Some(dead) = facts.dead_master.clone() else {
        return Ok(None);
    };
    if facts.finished || facts.mode == Mode::Switch {
        return Ok(None);
    }
    Ok(Some(Unfinished {
        dead,
        last: journal.entries().last().cloned(),
        facts,
        marker: marker.path,
    }))
}

/// `start`'s guard: the refusal naming where an unfinished failover stopped
/// and the command that finishes it (none with `--ignore-last-failover`).
pub(super) fn refuse_unfinished(workdir: &Workdir, conf: &Path, ignore: bool) -> Option<String> {
    if ignore {
        return None;
    }
    unfinished(workdir).ok().flatten().map(|u| u.refusal(conf))
}

/// A journal that continues the interrupted failover's record in
/// `<app>.journal.jsonl`: its facts carried over, so a second interruption
/// can be resumed too.
pub(super) fn journal_from(workdir: &Workdir, facts: Facts) -> Journal {
    let mut journal = Journal::new(facts);
    if let Err(e) = journal.append_jsonl(workdir.journal()) {
        tracing::warn!("journal file: {e}");
    }
    journal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Phase, StepResult};

    #[test]
    fn only_a_marker_with_an_unfinished_failover_record_is_resumable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let workdir = Workdir::new(dir.path(), "app1");
        let conf = Path::new("/etc/app1.cnf");
        assert!(
            unfinished(&workdir).expect("read").is_none(),
            "nothing there"
        );
        // A planted marker, no journal.
        begin(&workdir, "db1").expect("marker");
        assert!(unfinished(&workdir).expect("read").is_none(), "no record");

        let mut j = journal(&workdir);
        j.update_facts(|f| {
            f.dead_master = Some(HostRef::new("db1", "198.18.0.11", 3306));
            f.new_master = Some(HostRef::new("db2", "198.18.0.12", 3306));
        })
        .expect("facts");
        j.record_now(
            Phase::MasterRecovery,
            Some("db2"),
            "applying",
            StepResult::Info,
            "the binlog tail",
        )
        .expect("entry");
        let u = unfinished(&workdir).expect("read").expect("unfinished");
        assert_eq!(
            u.finish_command(conf),
            "ha-manager switch --conf /etc/app1.cnf --master-state dead --dead-master-host db1 \
             --dead-master-port 3306 --interactive=0"
        );
        let refusal = u.refusal(conf);
        assert!(
            refusal.contains("stopped in Phase 3: Master Recovery Phase")
                && refusal.contains("the binlog tail")
                && refusal.contains("--interactive=0"),
            "{refusal}"
        );

        // Finished: not resumable, whatever the marker says.
        j.update_facts(|f| f.finished = true).expect("facts");
        assert!(unfinished(&workdir).expect("read").is_none());
        // An online switch's record is not a failover.
        j.update_facts(|f| {
            f.finished = false;
            f.mode = Mode::Switch;
        })
        .expect("facts");
        assert!(unfinished(&workdir).expect("read").is_none());
        // No marker: nothing unfinished.
        j.update_facts(|f| f.mode = Mode::Manual).expect("facts");
        assert!(unfinished(&workdir).expect("read").is_some());
        workdir.remove_marker(MarkerKind::Error).expect("rm");
        assert!(unfinished(&workdir).expect("read").is_none());
    }
}
