//! Online switch (`switch --master-state alive`): a planned change of master
//! while the master is healthy, with a short write freeze (MHA's
//! `MasterRotate.pm`, orchestrator's graceful-master-takeover).
//!
//! The phases, each returning the value the next one takes:
//!
//! 1. `check` → `Checked`: every slave healthy and within the lag limit, no
//!    long write on the master, no long query on the new master, the new
//!    master eligible; or a refusal listing every reason. Nothing changed.
//! 2. `freeze` → `Frozen`: `master_ip_online_change_script --command=stop`,
//!    `read_only=1` on the old master (FTWRL only where that fails), a short
//!    grace, then KILL of the sessions that could still write; the frozen
//!    binlog position and GTID position are recorded.
//! 3. `promote` → `Promoted`: the new master executes up to the frozen
//!    position (bounded), its replication is stopped, the old master is
//!    checked not to have moved, `--command=start`, `read_only=0`. Any failure
//!    up to here is undone (`promote::rollback`): the old master takes writes
//!    again and the slaves stay where they were.
//! 4. `slaves`: every other slave, in parallel, waits for the frozen position
//!    and replicates from the new master; `--orig-master-is-new-slave` makes the
//!    old master one of them; then `RESET SLAVE ALL` on the new master.
//!
//! A signal (SIGTERM, SIGINT, SIGHUP) is looked at between the steps, and
//! interrupts the catch-up wait and the online change script: before the new
//! master's `read_only=0` (the point of no return) it rolls back as a failure
//! does, after it the switch finishes (see [`interrupt`]).
//!
//! Decisions are pure functions in [`rules`] and [`interrupt::on_signal`];
//! these files gather facts, act, and record each step in the journal
//! (`Mode::Switch`).

mod check;
mod conns;
mod freeze;
pub(crate) mod interrupt;
mod promote;
pub(crate) mod rules;
mod slaves;

use std::time::{Duration, Instant};

use crate::config::ServerSpec;
use crate::journal::{Mode, Phase};
use crate::mysql::WaitTarget;
use crate::notify::HookVerdict;
use crate::recovery::hook::{self, FactSlot, Hook};
use crate::recovery::{self, host_ref, Kit, PhaseLog, ReplicaResult, StepError};
use crate::render::hook_args::{self, OnlineChangeCommand};
use crate::topology::gtid::{GtidSet, MariaGtidPos};
use crate::topology::position::BinlogPos;
use crate::topology::validate::Problem;

pub(crate) use check::Checked;
use interrupt::{on_signal, Interrupt, OnSignal, Point};

/// Everything a switch needs, passed explicitly.
pub(crate) struct Ctx {
    pub kit: Kit,
    pub options: Options,
    /// The operator's signal (never fires by default).
    pub interrupt: Interrupt,
}

impl Ctx {
    /// The switch's steps in the journal (one phase, `Phase::Switch`).
    fn log(&self) -> PhaseLog<'_> {
        self.kit.log.at(Phase::Switch)
    }
}

/// The operator's choices.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Run the checks and print the plan; change nothing.
    pub dry_run: bool,
    /// `--new-master-host`.
    pub new_master_host: Option<String>,
    /// `--orig-master-is-new-slave`.
    pub orig_master_is_new_slave: bool,
    /// Largest tolerated slave lag (`--seconds-behind-master`, 30).
    pub seconds_behind_master: u64,
    /// MHA `--running_updates_limit` (1 s).
    pub running_updates_limit: u64,
    /// MHA `--running_seconds_limit` (10 s).
    pub running_seconds_limit: u64,
    /// Bound on the new master's catch-up to the frozen position.
    pub catchup_timeout: Duration,
    /// After read_only=1, how long writes it stops may run before being killed.
    pub kill_grace: Duration,
    /// Refusals the caller found before any server was read (a running
    /// manager, a failover in progress).
    pub blocked: Vec<Problem>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry_run: false,
            new_master_host: None,
            orig_master_is_new_slave: false,
            seconds_behind_master: 30,
            running_updates_limit: 1,
            running_seconds_limit: 10,
            catchup_timeout: Duration::from_secs(10),
            kill_grace: Duration::from_millis(100),
            blocked: Vec::new(),
        }
    }
}

/// Asks the operator; `true` = go on.
pub(crate) type Confirm<'a> = &'a (dyn Fn(&str) -> bool + Send + Sync);

/// What happened, for the summary and the exit code.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub old_master: String,
    pub new_master: String,
    /// The old master's binlog position (and GTID position) at the freeze.
    pub freeze_pos: Option<String>,
    /// The new master's binlog position when it was promoted.
    pub new_master_pos: Option<String>,
    /// From `read_only=1` on the old master to `read_only=0` on the new one.
    pub freeze_window: Option<Duration>,
    /// Sessions killed on the old master.
    pub killed: usize,
    pub slaves: Vec<ReplicaResult>,
    /// `--orig-master-is-new-slave`: the old master's own result.
    pub orig_master: Option<ReplicaResult>,
    /// `RESET SLAVE ALL` on the new master (`None` = skipped, skip_reset_slave).
    pub reset: Option<Result<(), StepError>>,
    pub total: Duration,
    /// A signal that arrived after the point of no return: the switch was
    /// finished instead of rolled back.
    pub signal_after_no_return: Option<&'static str>,
}

impl Summary {
    /// Every slave (and the old master, when asked) follows the new master.
    pub(crate) fn all_ok(&self) -> bool {
        self.slaves.iter().all(ReplicaResult::is_ok)
            && self.orig_master.as_ref().is_none_or(ReplicaResult::is_ok)
            && self.reset.as_ref().is_none_or(Result::is_ok)
    }
}

/// One undo action and how it went.
#[derive(Debug, Clone)]
pub(crate) struct Undone {
    pub what: String,
    pub result: Result<(), StepError>,
}

/// How a switch ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// The checks failed; nothing was changed. Every problem names its host.
    Refused(Vec<Problem>),
    /// `--dry-run`: the checks passed, the plan was printed, nothing was changed.
    DryRun {
        old_master: String,
        new_master: String,
    },
    /// Stopped before the freeze (not confirmed, or the stop hook said so);
    /// ha-manager changed nothing.
    Aborted(String),
    /// Failed, or interrupted by a signal, before the new master accepted
    /// writes; what had been done was undone.
    RolledBack {
        reason: StepError,
        undone: Vec<Undone>,
        /// The signal that interrupted the switch (`None`: a step failed).
        interrupted: Option<&'static str>,
    },
    /// The new master takes writes and every slave follows it.
    Complete(Summary),
    /// The new master takes writes, but a slave, the old master or the new
    /// master's RESET SLAVE failed (MHA's exit code 10).
    Partial(Summary),
}

/// The frozen position of the old master, in the forms the servers wait on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FreezePos {
    pub binlog: BinlogPos,
    pub gtid: FreezeGtid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FreezeGtid {
    /// MariaDB `gtid_binlog_pos` of the old master.
    Maria(MariaGtidPos),
    /// MySQL `gtid_executed` of the old master.
    MySql(GtidSet),
    None,
}

impl FreezePos {
    /// What a server must wait for to have everything the old master wrote:
    /// by GTID in GTID mode (`current` = the server's `gtid_current_pos` as
    /// last read, see [`rules::gtid_to_wait`]), else by binlog position.
    /// `None`: nothing to wait for.
    pub(crate) fn target(
        &self,
        gtid_mode: bool,
        current: Option<&MariaGtidPos>,
    ) -> Option<WaitTarget> {
        match (&self.gtid, gtid_mode) {
            (FreezeGtid::Maria(pos), true) => {
                let missing = match current {
                    Some(have) => rules::gtid_to_wait(pos, have),
                    None => pos.clone(),
                };
                (!missing.is_empty()).then_some(WaitTarget::MariaGtid(missing))
            }
            (FreezeGtid::MySql(set), true) => Some(WaitTarget::MySqlGtid(set.clone())),
            _ => Some(WaitTarget::Position(self.binlog.clone())),
        }
    }

    /// `mysql-bin.000003:1234, GTID 0-1-57`.
    pub(crate) fn describe(&self) -> String {
        match &self.gtid {
            FreezeGtid::Maria(p) if !p.is_empty() => format!("{}, GTID {p}", self.binlog),
            FreezeGtid::MySql(s) if !s.is_empty() => format!("{}, GTID {s}", self.binlog),
            _ => self.binlog.to_string(),
        }
    }
}

/// Runs `master_ip_online_change_script --command=...`, if configured
/// (`None`: no script). `orig` gives up writes, `new` takes them.
async fn online_change_hook(
    ctx: &Ctx,
    command: OnlineChangeCommand,
    orig: &ServerSpec,
    new: &ServerSpec,
    orig_master_is_new_slave: bool,
    slot: FactSlot,
) -> Option<Result<HookVerdict, StepError>> {
    let settings = &ctx.kit.config.settings;
    let script = settings.master_ip_online_change_script.as_ref()?;
    let user = recovery::os_user();
    let args = hook_args::online_change_args(
        command,
        &hook_args::HookServer::from_spec(orig, &user),
        &hook_args::HookServer::from_spec(new, &user),
        orig_master_is_new_slave,
    )
    .env("app", &ctx.kit.config.app);
    let secrets = vec![
        (
            hook_args::ORIG_MASTER_PASSWORD.to_owned(),
            orig.password.clone(),
        ),
        (
            hook_args::NEW_MASTER_PASSWORD.to_owned(),
            new.password.clone(),
        ),
    ];
    let hook = Hook {
        name: "master_ip_online_change_script",
        script,
        args,
        secrets,
        host: orig.label(),
    };
    Some(hook::call(ctx.log(), hook, slot, settings.command_timeout, false).await)
}

/// Runs the whole switch. `confirm`, when given, is asked once the plan is
/// printed and before anything is changed.
pub(crate) async fn run(ctx: &Ctx, confirm: Option<Confirm<'_>>) -> Outcome {
    let started = Instant::now();
    let log = &ctx.kit.log;
    recovery::begin(log, &ctx.kit.config, Mode::Switch);
    log.line("Starting online master switch..");
    log.banner("Phase 1: Configuration Check Phase");
    let checked = match check::check(ctx).await {
        Ok(c) => c,
        Err(problems) => {
            for p in &problems {
                ctx.log()
                    .fail(Some(&p.host), &format!("{}. Fix: {}", p.what, p.fix));
            }
            return Outcome::Refused(problems);
        }
    };
    let topo = &checked.topology;
    let (old_label, new_label) = (topo.label(checked.master), topo.label(checked.new_master));
    show_plan(ctx, &checked);
    if ctx.options.dry_run {
        return Outcome::DryRun {
            old_master: old_label,
            new_master: new_label,
        };
    }
    if let Some(ask) = confirm {
        if !ask(&format!(
            "Starting master switch from {old_label} to {new_label}? (yes/NO): "
        )) {
            return Outcome::Aborted("not confirmed: nothing was changed".into());
        }
    }
    if let Some(sig) = ctx.interrupt.at(Point::Checked) {
        ctx.log().warn(
            None,
            &format!("{sig} received: the switch stops before changing anything"),
        );
        return Outcome::Aborted(format!(
            "interrupted by {sig} before the write freeze: nothing was changed"
        ));
    }
    let summary = Summary {
        old_master: old_label,
        new_master: new_label,
        ..Summary::default()
    };
    switch(ctx, &checked, summary, started).await
}

/// Why the freeze or the promotion stopped before the point of no return.
#[derive(Debug)]
pub(super) enum Halt {
    /// A step failed.
    Failed(StepError),
    /// A signal arrived; `at` is the last point reached.
    Signal { name: &'static str, at: Point },
}

impl From<StepError> for Halt {
    fn from(e: StepError) -> Self {
        Halt::Failed(e)
    }
}

impl Ctx {
    /// `Err(Halt::Signal)` when a signal has arrived by `at` and the switch
    /// must stop there (before the point of no return).
    fn halt_if_signalled(&self, at: Point) -> Result<(), Halt> {
        match self.interrupt.at(at) {
            Some(name) if on_signal(at) != OnSignal::Finish => Err(Halt::Signal { name, at }),
            _ => Ok(()),
        }
    }
}

/// Phase 1's end: the roles in the journal, the migration tree and the plan in the log.
fn show_plan(ctx: &Ctx, checked: &Checked) {
    let log = &ctx.kit.log;
    let topo = &checked.topology;
    log.facts(|f| {
        f.gtid = checked.gtid_mode;
        f.dead_master = Some(host_ref(&topo.node(checked.master).spec));
        f.new_master = Some(host_ref(&topo.node(checked.new_master).spec));
    });
    for line in rules::migration_tree(
        topo,
        checked.master,
        checked.new_master,
        &checked.slaves,
        ctx.options.orig_master_is_new_slave,
    ) {
        log.line(&line);
    }
    log.line("");
    for line in check::plan(ctx, checked) {
        log.line(&line);
    }
    log.line("** Phase 1: Configuration Check Phase completed.");
}

/// Phase 2 up to the freeze: `--command=stop`, the connections, the freeze.
/// `Err` carries the outcome (aborted, or rolled back).
async fn reject_updates(
    ctx: &Ctx,
    checked: &Checked,
    done: &mut conns::Done,
) -> Result<(conns::Conns, freeze::Frozen), Outcome> {
    let topo = &checked.topology;
    let old_spec = &topo.node(checked.master).spec;
    let new_spec = &topo.node(checked.new_master).spec;
    let flag = ctx.options.orig_master_is_new_slave;
    let stop = OnlineChangeCommand::Stop;
    let hook = online_change_hook(ctx, stop, old_spec, new_spec, flag, |f| &mut f.ip_stop);
    match ctx.interrupt.or_signal(hook).await {
        Err(name) => {
            // Killed half-way: what it did is given back like a finished one.
            done.stop_hook_ran = true;
            let halt = Halt::Signal {
                name,
                at: Point::StopHook,
            };
            return Err(promote::fail(ctx, checked, None, done, halt).await);
        }
        Ok(None) => ctx.log().warn(
            None,
            "master_ip_online_change_script is not defined: applications must find the new \
             master themselves",
        ),
        Ok(Some(Err(e))) => {
            ctx.log().error(&e);
            return Err(Outcome::Aborted(
                "master_ip_online_change_script --command=stop failed: ha-manager changed \
                 nothing; check what the script did"
                    .into(),
            ));
        }
        Ok(Some(Ok(_))) => done.stop_hook_ran = true,
    }
    if let Err(halt) = ctx.halt_if_signalled(Point::StopHook) {
        return Err(promote::fail(ctx, checked, None, done, halt).await);
    }
    let conns = match conns::Conns::open(ctx, checked).await {
        Ok(c) => c,
        Err(reason) => return Err(promote::fail(ctx, checked, None, done, reason.into()).await),
    };
    let frozen = freeze::freeze(ctx, checked, &conns, done)
        .await
        .map_err(Halt::from)
        .and_then(|f| ctx.halt_if_signalled(Point::Frozen).map(|()| f));
    match frozen {
        Ok(f) => Ok((conns, f)),
        Err(halt) => {
            let out = promote::fail(ctx, checked, Some(&conns), done, halt).await;
            conns.close().await;
            Err(out)
        }
    }
}

/// Past the point of no return a signal only gets noted: the switch goes on.
fn note_late_signal(ctx: &Ctx, at: Point, summary: &mut Summary) {
    if summary.signal_after_no_return.is_some() {
        return;
    }
    if let Some(name) = ctx.interrupt.at(at) {
        summary.signal_after_no_return = Some(name);
        ctx.log().warn(
            None,
            &format!(
                "{name} received after the point of no return (read_only=0 on {}): the \
                 switch is finished, not rolled back",
                summary.new_master
            ),
        );
    }
}

/// Phases 2-5, once the checks passed and the operator agreed.
async fn switch(ctx: &Ctx, checked: &Checked, mut summary: Summary, started: Instant) -> Outcome {
    let log = &ctx.kit.log;
    log.banner("Phase 2: Rejecting updates Phase");
    let mut done = conns::Done::default();
    let (conns, frozen) = match reject_updates(ctx, checked, &mut done).await {
        Ok(frozen) => frozen,
        Err(outcome) => return outcome,
    };
    summary.killed = frozen.killed;
    summary.freeze_pos = Some(frozen.pos.describe());

    log.banner("Phase 3: New master promotion Phase");
    let promoted = match promote::promote(ctx, checked, &conns, &frozen, &mut done).await {
        Ok(p) => p,
        Err(halt) => {
            let out = promote::fail(ctx, checked, Some(&conns), &done, halt).await;
            conns.close().await;
            return out;
        }
    };
    note_late_signal(ctx, Point::Writable, &mut summary);
    summary.freeze_window = Some(promoted.writable_at.duration_since(frozen.at));
    summary.new_master_pos = Some(promoted.position.to_string());
    log.facts(|f| {
        f.new_master_recovered = true;
        f.positions.old_master = Some(frozen.pos.binlog.to_string());
        f.positions.old_master_gtid = match &frozen.pos.gtid {
            FreezeGtid::Maria(p) => Some(p.to_string()),
            FreezeGtid::MySql(s) => Some(s.to_string()),
            FreezeGtid::None => None,
        };
        f.positions.new_master = Some(promoted.position.to_string());
    });
    ctx.log().ok(
        Some(&summary.new_master),
        &format!(
            "accepts writes; the write freeze lasted {:.3} s",
            summary.freeze_window.unwrap_or_default().as_secs_f64()
        ),
    );

    log.banner("Phase 4: Switching slaves in parallel");
    let (slave_results, orig) = slaves::switch_all(ctx, checked, &conns, &frozen, &promoted).await;
    summary.slaves = slave_results;
    summary.orig_master = orig;

    log.banner("Phase 5: New master cleanup phase");
    summary.reset = slaves::cleanup(ctx, checked, &conns).await;
    conns.close().await;
    note_late_signal(ctx, Point::SlavesSwitched, &mut summary);
    summary.total = started.elapsed();
    log.facts(|f| {
        f.finished = true;
        f.new_master_reset = summary.reset.as_ref().map(Result::is_ok);
    });
    let new_label = &summary.new_master;
    if summary.all_ok() {
        ctx.log().ok(
            None,
            &format!("Switching master to {new_label} completed successfully."),
        );
        Outcome::Complete(summary)
    } else {
        ctx.log().fail(
            None,
            &format!(
                "Switching master to {new_label} done, but switching slaves partially failed."
            ),
        );
        Outcome::Partial(summary)
    }
}

#[cfg(test)]
mod tests;
