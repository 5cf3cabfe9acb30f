//! Bringing a server's data up to date: wait for its SQL thread, catch it up
//! from another server by GTID, fetch binlogs and relay logs over SSH, and
//! apply binlog bytes on a host with its own tools.

use std::time::{Duration, Instant};

use super::repoint::{credentials, gtid_from};
use super::{Kit, PhaseLog, StepError};
use crate::binlog::{self, TxGtid};
use crate::config::ServerSpec;
use crate::mysql::{ChangeMaster, Db, DbError, WaitTarget};
use crate::topology::applied::{self, ApplyState, SqlActivity};
use crate::topology::gtid::{GtidSet, MariaGtidPos};
use crate::topology::position::BinlogPos;
use crate::topology::status::{GtidFacts, IoState, ReplicaStatus, ServerFacts};
use crate::transport::node::Tools;

/// Bound on waiting for a slave's SQL thread while it makes no progress
/// (its positions do not move). A SQL thread that keeps moving is waited for.
pub(crate) const APPLY_WAIT: Duration = Duration::from_secs(300);

/// How often a slave still applying is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Waits until the slave has executed everything its IO thread received,
/// as [`applied::applied`] decides from positions and GTID sets: done, or the
/// relay log ends inside a transaction that can never finish. A SQL thread
/// stopped without an error is started (MHA's phase 1 does the same); one
/// stopped with an error is reported with the error, not waited for. While
/// applying, a progress line is logged every few seconds; the wait ends with
/// an error only after [`APPLY_WAIT`] without any movement of its positions.
pub(crate) async fn wait_applied(
    kit: &Kit,
    log: PhaseLog<'_>,
    spec: &ServerSpec,
) -> Result<ServerFacts, StepError> {
    let host = spec.label();
    let db = kit.connect(spec).await?;
    let result = wait_applied_on(log, &*db, &host).await;
    db.close().await;
    result
}

async fn wait_applied_on(
    log: PhaseLog<'_>,
    db: &dyn Db,
    host: &str,
) -> Result<ServerFacts, StepError> {
    let mut moved = Instant::now();
    let mut logged = Instant::now();
    let mut last: Option<(BinlogPos, String, u64)> = None;
    let mut started_sql = false;
    loop {
        let facts = db
            .facts()
            .await
            .map_err(|e| StepError::db(host, "reading its state", e))?;
        let Some(r) = facts.replica.as_ref() else {
            return Ok(facts);
        };
        let activity = if r.sql_running && r.exec != r.read {
            sql_activity_of(db)
                .await
                .map_err(|e| StepError::db(host, "reading its SQL thread's state", e))?
        } else {
            SqlActivity::Unknown
        };
        match applied::applied(r, &facts.gtid, activity) {
            ApplyState::Done => return Ok(facts),
            ApplyState::Partial => {
                log.info(
                    Some(host),
                    &format!(
                        "relay log ends inside a transaction (executed {} of {} received; \
                         the IO thread is stopped): the rest comes from the binlogs",
                        r.exec, r.read
                    ),
                );
                return Ok(facts);
            }
            ApplyState::Failed { errno, error } => {
                return Err(StepError::state(
                    host,
                    format!(
                        "SQL thread stopped with error {errno}: {error} (executed {} of {} \
                         received); fix the error, START SLAVE SQL_THREAD, and run again",
                        r.exec, r.read
                    ),
                ))
            }
            ApplyState::Stopped if started_sql => {
                return Err(StepError::state(
                    host,
                    format!(
                        "SQL thread stopped again after it was started (executed {} of {} \
                         received)",
                        r.exec, r.read
                    ),
                ))
            }
            ApplyState::Stopped => {
                log.info(
                    Some(host),
                    &format!(
                        "SQL thread was stopped (executed {} of {} received): starting it",
                        r.exec, r.read
                    ),
                );
                db.start_replica_sql()
                    .await
                    .map_err(|e| StepError::db(host, "starting its SQL thread", e))?;
                started_sql = true;
                moved = Instant::now();
                continue;
            }
            ApplyState::Applying => {}
        }
        let now_at = (r.exec.clone(), r.relay_log_file.clone(), r.relay_log_pos);
        if last.as_ref() != Some(&now_at) {
            last = Some(now_at);
            moved = Instant::now();
        }
        if moved.elapsed() > APPLY_WAIT {
            return Err(StepError::timeout(
                host,
                format!(
                    "SQL thread made no progress (at {} of {} received): not done",
                    r.exec, r.read
                ),
                APPLY_WAIT,
            ));
        }
        if logged.elapsed() >= PROGRESS_EVERY {
            logged = Instant::now();
            tracing::info!("{host}: SQL thread applying, at {} of {}", r.exec, r.read);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The SQL thread's activity from the server's process list.
async fn sql_activity_of(db: &dyn Db) -> Result<SqlActivity, DbError> {
    let rows = db.processlist().await?;
    Ok(applied::sql_activity(
        crate::mysql::replication_threads(&rows).map(|(_, command, state)| (command, state)),
    ))
}

/// The GTID position a server has applied, as a wait target for another server.
pub(crate) fn gtid_target(facts: &ServerFacts) -> Option<WaitTarget> {
    match &facts.gtid {
        GtidFacts::MariaDb { current_pos, .. } => Some(WaitTarget::MariaGtid(current_pos.clone())),
        GtidFacts::MySql {
            enabled: true,
            executed,
        } => Some(WaitTarget::MySqlGtid(executed.clone())),
        GtidFacts::MySql { .. } => None,
    }
}

/// The GTID wait of a catch-up runs in slices this long; between them the
/// target's replication threads are looked at, so an SQL thread that stopped
/// on an error is seen within about this time, not after [`APPLY_WAIT`]
/// (`MASTER_GTID_WAIT` and `WAIT_FOR_EXECUTED_GTID_SET` do not return when
/// the SQL thread stops).
pub(crate) const WAIT_SLICE: Duration = Duration::from_secs(1);

/// Why a catch-up by GTID failed.
#[derive(Debug)]
pub(crate) enum CatchUpError {
    /// The target's replication stopped on an error while applying (or its
    /// IO thread could not fetch): the target cannot be caught up as it is;
    /// another candidate may.
    Stopped(StepError),
    /// Anything else (connection, statement, timeout).
    Step(StepError),
}

impl CatchUpError {
    pub(crate) fn into_step(self) -> StepError {
        match self {
            CatchUpError::Stopped(e) | CatchUpError::Step(e) => e,
        }
    }
}

impl From<StepError> for CatchUpError {
    fn from(e: StepError) -> Self {
        CatchUpError::Step(e)
    }
}

/// Has a catching-up slave's replication stopped for good? The SQL thread
/// stopped (on an error, or by someone), or the IO thread stopped on an
/// error: what it says, for the operator. Pure.
pub(crate) fn replication_stopped(r: &ReplicaStatus) -> Option<String> {
    if !r.sql_running {
        return Some(if r.last_sql_errno != 0 {
            format!(
                "its SQL thread stopped on error {}: {}",
                r.last_sql_errno, r.last_sql_error
            )
        } else {
            "its SQL thread was stopped".to_owned()
        });
    }
    (r.io == IoState::No && r.last_io_errno != 0).then(|| {
        format!(
            "its IO thread stopped on error {}: {}",
            r.last_io_errno, r.last_io_error
        )
    })
}

/// How a sliced wait ended.
enum Waited {
    Reached,
    TimedOut,
    Stopped(String, Box<ServerFacts>),
}

/// Waits for `target` in [`WAIT_SLICE`]s up to `limit`, reading the
/// replica status between slices.
async fn wait_watching(
    db: &dyn Db,
    target: &WaitTarget,
    limit: Duration,
) -> Result<Waited, DbError> {
    let started = Instant::now();
    loop {
        if db.wait_for(target, WAIT_SLICE).await? {
            return Ok(Waited::Reached);
        }
        let facts = db.facts().await?;
        if let Some(why) = facts.replica.as_ref().and_then(replication_stopped) {
            return Ok(Waited::Stopped(why, Box::new(facts)));
        }
        if started.elapsed() >= limit {
            return Ok(Waited::TimedOut);
        }
    }
}

/// Makes `target` replicate from `source` until it has applied everything
/// `source` has, then stops it (GTID catch-up of a new master that is not
/// the latest). A replication error on `target` ends the wait within
/// [`WAIT_SLICE`] as [`CatchUpError::Stopped`], its replication stopped.
pub(crate) async fn catch_up_by_gtid(
    kit: &Kit,
    target: &ServerSpec,
    source: &ServerSpec,
    source_facts: &ServerFacts,
) -> Result<(), CatchUpError> {
    let host = target.label();
    let wait = gtid_target(source_facts)
        .ok_or_else(|| StepError::state(source.label(), "the latest slave has no GTID position"))?;
    let db = kit.connect(target).await?;
    let result = async {
        // With skip_reset_slave=1 the new master keeps its replication
        // settings (dual master: from the old master, to rejoin it later):
        // the repoint for the catch-up is put back once it is done.
        let own_source = if target.skip_reset_slave {
            db.facts()
                .await?
                .replica
                .map(|r| (r.master_host, r.master_port))
        } else {
            None
        };
        db.stop_replica().await?;
        db.change_master(&ChangeMaster {
            host: source.mysql_addr().to_owned(),
            port: source.port,
            credentials: credentials(target),
            tls: target.repl_tls.clone(),
            from: gtid_from(source_facts.flavor),
        })
        .await?;
        db.start_replica().await?;
        let waited = wait_watching(&*db, &wait, APPLY_WAIT).await?;
        db.stop_replica().await?;
        if let (Waited::Reached, Some((host, port))) = (&waited, own_source) {
            db.change_master(&ChangeMaster {
                host,
                port,
                credentials: credentials(target),
                tls: target.repl_tls.clone(),
                from: gtid_from(source_facts.flavor),
            })
            .await?;
        }
        Ok::<Waited, DbError>(waited)
    }
    .await;
    db.close().await;
    match result {
        Ok(Waited::Reached) => Ok(()),
        Ok(Waited::TimedOut) => Err(CatchUpError::Step(StepError::timeout(
            host,
            format!("catching up from the latest slave: did not reach {wait:?}"),
            APPLY_WAIT,
        ))),
        Ok(Waited::Stopped(why, facts)) => {
            let at = match &facts.gtid {
                GtidFacts::MariaDb { current_pos, .. } => current_pos.to_string(),
                GtidFacts::MySql { executed, .. } => executed.to_string(),
            };
            Err(CatchUpError::Stopped(StepError::state(
                host,
                format!(
                    "catching up from {} by GTID: {why} (it has {at}; replication stopped \
                     there, the server is left as it is)",
                    source.label()
                ),
            )))
        }
        Err(e) => Err(CatchUpError::Step(StepError::db(
            host,
            "catching up from the latest slave failed",
            e,
        ))),
    }
}

/// The client tools of `spec`'s host. SSH is tried first, so that a host
/// that cannot be reached is reported as such, not as one without tools.
pub(crate) async fn tools(kit: &Kit, spec: &ServerSpec) -> Result<Tools, StepError> {
    let node = kit.node(spec);
    node.ok(vec!["true".to_owned()])
        .await
        .map_err(|e| StepError::remote(spec.label(), "SSH to its host failed", e))?;
    node.tools()
        .await
        .map_err(|e| StepError::remote(spec.label(), "", e))
}

/// Can logs be applied on `spec`'s host: SSH answers, its client tools are
/// there and `remote_workdir` is writable (created if missing; not in a dry
/// run, which only looks for the tools). Checked before the point of no return.
pub(crate) async fn check_apply_on(
    kit: &Kit,
    spec: &ServerSpec,
    dry_run: bool,
) -> Result<Tools, StepError> {
    let tools = tools(kit, spec).await?;
    if !dry_run {
        let node = kit.node(spec);
        let dir = spec.remote_workdir.trim_end_matches('/');
        for argv in [["mkdir", "-p", dir], ["test", "-w", dir]] {
            node.ok(argv.iter().map(|s| (*s).to_owned()).collect())
                .await
                .map_err(|e| {
                    StepError::remote(
                        spec.label(),
                        format!("remote_workdir {dir} is not writable"),
                        e,
                    )
                })?;
        }
    }
    Ok(tools)
}

/// What one apply did: the transactions applied, and those left out because
/// the target already had them (a re-run after an apply cut short).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    pub applied: usize,
    pub skipped: usize,
    /// `0-1-58 .. 0-1-77`: the first and last GTID skipped.
    pub skipped_range: Option<String>,
    /// `gtid_slave_pos` was moved to include what was applied (MariaDB).
    pub slave_pos: Option<MariaGtidPos>,
}

impl Applied {
    /// For the log: `applied 40 transactions (20 already there, 0-1-58 .. 0-1-77, skipped)`.
    pub(crate) fn summary(&self) -> String {
        let mut text = format!("applied {} transaction(s)", self.applied);
        if self.skipped > 0 {
            text.push_str(&format!(
                " ({} already there were skipped{})",
                self.skipped,
                self.skipped_range
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ));
        }
        if let Some(pos) = &self.slave_pos {
            text.push_str(&format!("; gtid_slave_pos set to {pos}"));
        }
        text
    }
}

/// How long an earlier apply's client may take to end on its own.
const SETTLE: Duration = Duration::from_secs(20);

/// An apply cut short by a crash of the manager can leave its `mysql` client
/// running on the host, still executing what had reached it. Before reading
/// what the server has, wait for such sessions (the admin user, connected
/// from the host's own address, as [`crate::transport::node::Node::apply_binlog`]
/// connects) to end; after [`SETTLE`], kill them (an unfinished transaction
/// is rolled back) and wait until they are gone.
async fn settle(db: &dyn Db, spec: &ServerSpec) -> Result<(), StepError> {
    let host = spec.label();
    let own = format!("{}:", spec.mysql_addr());
    let started = Instant::now();
    let mut killed = false;
    loop {
        let sessions: Vec<u64> = db
            .processlist()
            .await
            .map_err(|e| StepError::db(&host, "listing its sessions", e))?
            .into_iter()
            .filter(|p| p.user == spec.user && p.host.starts_with(&own))
            .map(|p| p.id)
            .collect();
        if sessions.is_empty() {
            return Ok(());
        }
        if started.elapsed() > SETTLE * 2 {
            return Err(StepError::state(
                &host,
                format!(
                    "sessions {sessions:?} of an earlier apply are still there after being \
                     killed; wait for them to end, then run the same command again"
                ),
            ));
        }
        if !killed && started.elapsed() > SETTLE {
            for id in &sessions {
                // Gone meanwhile is fine.
                let _ = db.kill_connection(*id).await;
            }
            killed = true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a server already has, as the filter asks it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Has {
    /// MariaDB: per domain, the highest sequence in its binlog or replicated.
    Maria(MariaGtidPos),
    /// MySQL with GTIDs: `gtid_executed`.
    MySql(GtidSet),
    /// No GTIDs (MySQL with gtid_mode OFF): nothing can be told; nothing is skipped.
    Unknown,
}

impl Has {
    pub(crate) fn of(gtid: &GtidFacts) -> Has {
        match gtid {
            GtidFacts::MariaDb {
                binlog_pos,
                slave_pos,
                ..
            } => Has::Maria(merged(binlog_pos, slave_pos)),
            GtidFacts::MySql {
                enabled: true,
                executed,
            } => Has::MySql(executed.clone()),
            GtidFacts::MySql { .. } => Has::Unknown,
        }
    }

    pub(crate) fn has(&self, gtid: &TxGtid) -> bool {
        match (self, gtid) {
            (Has::Maria(pos), TxGtid::Maria(g)) => pos.seq(g.domain).is_some_and(|s| s >= g.seq),
            (Has::MySql(set), TxGtid::MySql { uuid, gno }) => set.contains_gtid(uuid, *gno),
            _ => false,
        }
    }
}

/// Per domain, the later of two MariaDB positions (`gtid_binlog_pos` and
/// `gtid_slave_pos`): what the server has, however it got it.
pub(crate) fn merged(a: &MariaGtidPos, b: &MariaGtidPos) -> MariaGtidPos {
    let mut pos = a.clone();
    for g in b.domains.values() {
        pos.insert(*g);
    }
    pos
}

/// Applies binlog bytes on `spec`'s host with its own `mysqlbinlog | mysql`,
/// idempotently: its replication is stopped first (nothing else writes
/// while it runs), the transactions it already has (by GTID) are left out,
/// and on MariaDB `gtid_slave_pos` is then moved to include what was applied
/// (a client-side apply advances `gtid_binlog_pos` only, so a later
/// `MASTER_USE_GTID=slave_pos` or `current_pos` would fetch them again).
/// `what` names the file (`relay-diff`, `binlog-tail`) and the step; `file`
/// is the binlog file in the workdir (read and sent streamed).
pub(crate) async fn apply_on(
    kit: &Kit,
    spec: &ServerSpec,
    tools: &Tools,
    what: &str,
    file: &std::path::Path,
) -> Result<Applied, StepError> {
    let host = spec.label();
    let db = kit.connect(spec).await?;
    let result = apply_with(kit, db.as_ref(), spec, tools, what, file).await;
    db.close().await;
    result.map_err(|e| match e {
        ApplyError::Step(e) => e,
        ApplyError::Db(op, e) => StepError::db(&host, op, e),
    })
}

/// The longest one apply may run while the server's position keeps moving.
const APPLY_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// How often a running apply's progress is read.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// What moves on a server while a client applies transactions to it: its
/// own binlog position and its GTID state. `None` when it has neither
/// (no binlog, no GTIDs): then nothing can show progress.
fn progress_mark(facts: &ServerFacts) -> Option<(Option<BinlogPos>, GtidFacts)> {
    let has_gtid = !matches!(facts.gtid, GtidFacts::MySql { enabled: false, .. });
    (facts.binlog.is_some() || has_gtid).then(|| (facts.binlog.clone(), facts.gtid.clone()))
}

/// Whether an apply whose server position has not moved for `unmoved` is
/// stuck: after `stall` once it has moved, and after `first` before its
/// first move (the file is uploaded and converted to SQL first).
fn stuck(unmoved: Duration, moved_once: bool, stall: Duration, first: Duration) -> bool {
    unmoved > if moved_once { stall } else { first }
}

/// How long an apply of `size` bytes may show no progress before its first
/// move: three times the stall bound, plus the upload at the slowest rate
/// allowed for a transfer.
fn first_move_bound(stall: Duration, size: u64) -> Duration {
    crate::transport::node::transfer_timeout(stall * 3, size)
}

/// Returns (with what it saw) once the server's position stops moving, as
/// [`stuck`] decides; a read that fails counts as no movement.
async fn watch_progress(db: &dyn Db, stall: Duration, first: Duration) -> String {
    let mut last = db.facts().await.ok().and_then(|f| progress_mark(&f));
    let mut moved_at = Instant::now();
    let mut moved_once = false;
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let now = db.facts().await.ok().and_then(|f| progress_mark(&f));
        if now.is_some() && now != last {
            last = now;
            moved_at = Instant::now();
            moved_once = true;
        } else if stuck(moved_at.elapsed(), moved_once, stall, first) {
            let at = match &last {
                Some((Some(pos), _)) => format!(" (its binlog at {pos})"),
                _ => String::new(),
            };
            return format!(
                "the apply made no progress for {} s{at}: stopped",
                moved_at.elapsed().as_secs()
            );
        }
    }
}

/// The `max_allowed_packet` an apply runs with: the server's maximum (1 GiB),
/// so that a transaction of any size the master took can be replayed.
pub(crate) const APPLY_PACKET: u64 = 1 << 30;

/// Raises the server's global `max_allowed_packet` to [`APPLY_PACKET`] (the
/// apply's client connects after this, so its session takes it); returns the
/// value to put back, `None` when nothing was changed. A failure is a
/// warning: a small transaction applies anyway, a big one then fails loudly.
async fn raise_packet_limit(db: &dyn Db, host: &str) -> Option<u64> {
    match db.max_allowed_packet().await {
        Ok(now) if now >= APPLY_PACKET => None,
        Ok(now) => match db.set_max_allowed_packet(APPLY_PACKET).await {
            Ok(()) => Some(now),
            Err(e) => {
                tracing::warn!(
                    "{host}: could not raise max_allowed_packet for the apply ({e}); a \
                     transaction larger than {now} bytes will fail"
                );
                None
            }
        },
        Err(e) => {
            tracing::warn!("{host}: could not read max_allowed_packet ({e})");
            None
        }
    }
}

/// Puts back the `max_allowed_packet` [`raise_packet_limit`] changed.
async fn restore_packet_limit(db: &dyn Db, host: &str, old: Option<u64>) {
    if let Some(old) = old {
        if let Err(e) = db.set_max_allowed_packet(old).await {
            tracing::warn!(
                "{host}: could not put max_allowed_packet back to {old} after the apply ({e}); \
                 set it by hand: SET GLOBAL max_allowed_packet = {old}"
            );
        }
    }
}

/// The error of an apply whose client failed, naming what was applied.
fn apply_failed(host: &str, what: &str, e: crate::transport::node::NodeError) -> ApplyError {
    let op = match what {
        "relay-diff" => "applying the relay-log diff failed",
        "binlog-tail" => "applying the dead master's binlog failed",
        _ => "applying a binlog failed",
    };
    ApplyError::Step(StepError::remote(host, op, e))
}

enum ApplyError {
    Step(StepError),
    Db(&'static str, DbError),
}

async fn apply_with(
    kit: &Kit,
    db: &dyn Db,
    spec: &ServerSpec,
    tools: &Tools,
    what: &str,
    file: &std::path::Path,
) -> Result<Applied, ApplyError> {
    let host = spec.label();
    let read = |e| ApplyError::Db("reading what it already has", e);
    settle(db, spec).await.map_err(ApplyError::Step)?;
    let facts = db.facts().await.map_err(read)?;
    if facts
        .replica
        .as_ref()
        .is_some_and(|r| r.sql_running || r.io != IoState::No)
    {
        db.stop_replica()
            .await
            .map_err(|e| ApplyError::Db("stopping replication before applying", e))?;
    }
    let facts = db.facts().await.map_err(read)?;
    let has = Has::of(&facts.gtid);
    // What it lacks, into a private scratch file next to the original.
    let scratch = crate::state::Workdir::of(&kit.config)
        .scratch_dir()
        .map_err(|e| {
            ApplyError::Step(StepError::state(
                &host,
                format!("cannot make a scratch directory in manager_workdir: {e}"),
            ))
        })?;
    let kept_path = scratch.path().join(format!("{what}.binlog"));
    let (src, dst) = (file.to_path_buf(), kept_path.clone());
    let filter_host = host.clone();
    let (filtered, kept_size) =
        super::fetch::blocking(&host, "filtering the file to apply", move || {
            let read = |e: std::io::Error| {
                StepError::state(&filter_host, format!("cannot read {}: {e}", src.display()))
            };
            let input = std::fs::File::open(&src).map_err(read)?;
            let output = std::fs::File::create(&dst).map_err(read)?;
            let mut out = crate::state::FileOut::new(output);
            let filtered = binlog::drop_applied_into(
                std::io::BufReader::with_capacity(1 << 16, input),
                &mut out,
                |g| has.has(g),
            )
            .map_err(|e| StepError::binlog(&filter_host, "reading the file to apply", e))?;
            let size = binlog::Out::written(&out);
            out.finish().map_err(read)?;
            Ok((filtered, size))
        })
        .await
        .map_err(ApplyError::Step)?;
    let mut applied = Applied {
        applied: filtered.kept + filtered.without_gtid,
        skipped: filtered.skipped,
        skipped_range: filtered
            .skipped_range
            .as_ref()
            .map(|(a, b)| format!("{a} .. {b}")),
        slave_pos: None,
    };
    if applied.applied > 0 {
        let name = format!("ha-manager-{}-{what}", kit.config.app);
        let mut node = kit.node(spec);
        let stall = node.timeout;
        let watched = progress_mark(&facts).is_some();
        if watched {
            // Bounded by progress instead (below): a big tail takes minutes
            // (MySQL 9.7 in the lab: 30 000 one-row transactions in 200 s).
            node.timeout = APPLY_LIMIT;
        }
        // A big transaction decodes to one statement larger than the
        // server's default max_allowed_packet: raised for the apply (as MHA
        // does), put back after it.
        let packet = raise_packet_limit(db, &host).await;
        // The watcher reads on a connection of its own: when the apply ends
        // first, its read in flight is abandoned with it, and that
        // connection goes, not the one the steps below use.
        let watcher = if watched {
            Some(kit.connect(spec).await.map_err(ApplyError::Step)?)
        } else {
            None
        };
        let apply = node.apply_binlog(&name, &kept_path, kept_size, tools);
        let result = if let Some(watcher) = &watcher {
            let first = first_move_bound(stall, kept_size);
            tokio::select! {
                r = apply => r.map_err(|e| apply_failed(&host, what, e)),
                stuck = watch_progress(watcher.as_ref(), stall, first) => {
                    Err(ApplyError::Step(StepError::timeout(&host, stuck, stall)))
                }
            }
        } else {
            apply.await.map_err(|e| apply_failed(&host, what, e))
        };
        if let Some(watcher) = watcher {
            watcher.close().await;
        }
        restore_packet_limit(db, &host, packet).await;
        result?;
    }
    if let GtidFacts::MariaDb { slave_pos, .. } = &facts.gtid {
        let after = db.facts().await.map_err(read)?;
        let GtidFacts::MariaDb { binlog_pos, .. } = &after.gtid else {
            return Ok(applied);
        };
        // What the diff held is now there too (a server without a binlog
        // does not show it in gtid_binlog_pos).
        let mut want = merged(binlog_pos, slave_pos);
        for g in filtered.maria_last.domains.values() {
            want.insert(*g);
        }
        if &want != slave_pos {
            db.set_gtid_slave_pos(&want)
                .await
                .map_err(|e| ApplyError::Db("setting gtid_slave_pos after the apply", e))?;
            applied.slave_pos = Some(want);
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_server_has_is_the_later_of_its_binlog_and_slave_positions() {
        let pos = |t: &str| MariaGtidPos::parse(t).expect("pos");
        // (binlog_pos, slave_pos, merged)
        let cases = [
            ("", "", ""),
            ("0-1-100", "", "0-1-100"),
            ("", "0-1-100", "0-1-100"),
            // A client-side apply moved the binlog past what was replicated.
            ("0-1-120", "0-1-100", "0-1-120"),
            ("0-1-100", "0-1-120", "0-1-120"),
            // Local writes in another domain are kept; no domain is dropped.
            ("0-1-120,1-3-7", "0-1-100,2-2-9", "0-1-120,1-3-7,2-2-9"),
        ];
        for (binlog, slave, want) in cases {
            assert_eq!(
                merged(&pos(binlog), &pos(slave)),
                pos(want),
                "{binlog} + {slave}"
            );
        }
        let has = Has::Maria(pos("0-1-120,1-3-7"));
        let g = |d, s, n| {
            TxGtid::Maria(crate::topology::gtid::MariaGtid {
                domain: d,
                server_id: s,
                seq: n,
            })
        };
        assert!(has.has(&g(0, 1, 120)) && has.has(&g(0, 2, 5)) && has.has(&g(1, 1, 7)));
        assert!(!has.has(&g(0, 1, 121)) && !has.has(&g(2, 1, 1)));
        let set =
            Has::MySql(GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5").expect("set"));
        let m = |n| TxGtid::MySql {
            uuid: "3e11fa47-71ca-11e1-9e33-c80aa9429562".into(),
            gno: n,
        };
        assert!(set.has(&m(5)) && !set.has(&m(6)));
        assert!(!Has::Unknown.has(&m(1)), "without GTIDs nothing is skipped");
    }

    #[test]
    fn a_catching_up_slave_whose_replication_stopped_is_told_with_the_error() {
        use crate::topology::fixture::replica_status;
        let healthy = replica_status(1, "mysql-bin.000001:900", "mysql-bin.000001:500");
        assert_eq!(replication_stopped(&healthy), None, "applying: wait on");
        let mut connecting = healthy.clone();
        connecting.io = IoState::Connecting;
        connecting.last_io_errno = 2003;
        assert_eq!(replication_stopped(&connecting), None, "still retrying");
        let mut sql = healthy.clone();
        sql.sql_running = false;
        sql.last_sql_errno = 1062;
        sql.last_sql_error = "Duplicate entry '7' for key 'PRIMARY'".into();
        assert_eq!(
            replication_stopped(&sql).as_deref(),
            Some("its SQL thread stopped on error 1062: Duplicate entry '7' for key 'PRIMARY'")
        );
        let mut stopped = healthy.clone();
        stopped.sql_running = false;
        assert_eq!(
            replication_stopped(&stopped).as_deref(),
            Some("its SQL thread was stopped")
        );
        let mut io = healthy;
        io.io = IoState::No;
        io.last_io_errno = 1236;
        io.last_io_error = "Got fatal error 1236 from master".into();
        assert!(
            replication_stopped(&io).is_some_and(|t| t.contains("IO thread stopped on error 1236"))
        );
    }

    #[test]
    fn an_apply_is_stuck_only_when_the_server_stops_moving() {
        let s = Duration::from_secs;
        // (unmoved for, moved once, stuck) with a 60 s stall bound
        let cases = [
            (s(30), true, false),
            (s(61), true, true),
            // Before its first move: upload and conversion get three bounds.
            (s(61), false, false),
            (s(179), false, false),
            (s(181), false, true),
        ];
        for (unmoved, moved_once, want) in cases {
            assert_eq!(
                stuck(unmoved, moved_once, s(60), s(180)),
                want,
                "{unmoved:?} {moved_once}"
            );
        }
    }

    #[test]
    fn progress_is_watched_where_the_server_shows_it() {
        use crate::topology::fixture::master_facts;
        // A binlog (MariaDB, or MySQL in file/position mode): watched.
        assert!(progress_mark(&master_facts(2)).is_some());
        let mut f = master_facts(2);
        f.binlog = None;
        f.gtid = GtidFacts::MySql {
            enabled: true,
            executed: GtidSet::default(),
        };
        assert!(progress_mark(&f).is_some(), "gtid_executed moves");
        f.gtid = GtidFacts::MySql {
            enabled: false,
            executed: GtidSet::default(),
        };
        assert!(
            progress_mark(&f).is_none(),
            "no binlog, no GTIDs: nothing moves, command_timeout bounds it"
        );
    }

    #[test]
    fn the_first_move_may_wait_for_the_upload() {
        let s = Duration::from_secs;
        assert_eq!(first_move_bound(s(60), 0), s(180));
        assert_eq!(first_move_bound(s(60), 1 << 30), s(180 + 512));
    }
}
