//! What every failover leaves in `manager_workdir`, whoever started it (the
//! daemon or `switch --master-state dead`): the journal file, the error
//! marker written before it starts and removed when it ends well, the
//! complete marker, and the report, logged and delivered.

use crate::config::Config;
use crate::failover::{Ctx, Outcome};
use crate::journal::{Facts, Journal};
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
