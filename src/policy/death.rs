//! Pure detection state machine: misses, alive error codes, replica agreement → verdict.
//!
//! Two decisions live here, both without I/O, clocks or logging:
//!
//! 1. [`Detector`] counts consecutive missed pings. A MySQL error that only a
//!    live server can send (1040 too many connections, 1045 access denied, …)
//!    is proof of life, never a miss. After `ping_misses` misses in a row the
//!    detector asks for confirmation.
//! 2. [`confirm`] decides, from what the replicas, SSH and the secondary check
//!    say, whether the master is really dead. The rule is orchestrator's
//!    holistic one, stricter than MHA's: the manager losing the master is not
//!    enough, the replicas must have lost it too.
//!
//! # The confirmation rule
//!
//! The master is **dead** only when all of these hold:
//! - it did not answer the manager during the confirmation itself;
//! - every reachable replica of it has lost it (below);
//! - when a secondary check is configured, it says the master is down (exit 0).
//!
//! A replica (a *witness*) has lost the master when its IO thread is
//! `Connecting` (after an error such as 2003 "can't connect" or 2013 "lost
//! connection") or `No`. An IO thread showing `Yes` proves little on its own:
//! after a silent loss (host link down, no TCP reset) it keeps showing `Yes`
//! until `slave_net_timeout` passes (60 s by default). So the monitor also
//! gets each witness's *fresh* view, and [`Witness::judge`] decides:
//!
//! | IO thread | received since the first miss | connect from its host to the master | verdict |
//! |---|---|---|---|
//! | `Connecting`/`No` | any | not asked | lost |
//! | `Yes` | events or heartbeats arrived | any | **sees the master** |
//! | `Yes` | nothing (or unknown) | the master's mysqld answered | **sees the master** |
//! | `Yes` | nothing (or unknown) | refused, no route, or no greeting in time | lost |
//! | `Yes` | nothing for longer than its heartbeat period allows | could not run | lost |
//! | `Yes` | otherwise | could not run | **sees the master** (wait until it notices) |
//!
//! The connect from the replica's host is MHA's `masterha_secondary_check`
//! idea run over the SSH the manager already has: it asks what the replica's
//! IO thread would learn on reconnecting, without waiting for
//! `slave_net_timeout`. When only the manager's path to the master is cut,
//! the master answers there, and there is no failover. A frozen mysqld
//! accepts the TCP connection but sends no greeting: no answer.
//!
//! With **no reachable replica** of the master there is nobody to agree or
//! disagree: the master is dead when the secondary check says so, or, when no
//! secondary check is configured, on the manager's own misses alone — which is
//! exactly MHA's behaviour.

use crate::config::ServerId;
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::topology::gtid::{GtidSet, MariaGtidPos};
use crate::topology::position::BinlogPos;
use crate::topology::status::{IoState, ReplicaNet, ReplicaStatus};

/// What one ping of the master came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PingOutcome {
    /// The master answered.
    Ok,
    /// No answer, connection refused or lost, timeout: counts towards death.
    Miss { reason: String },
    /// The master answered with an error that only a live server sends
    /// (see `mysql::error::ALIVE_ERROR_CODES`): never a miss.
    AliveError { code: u16 },
}

/// What the detector wants done after one ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// The master is answering; nothing pending.
    Healthy,
    /// The master answered with an error that proves it alive; the miss
    /// count was reset, because consecutive misses mean "no sign of life in
    /// between" and this is one.
    AliveWithError { code: u16 },
    /// `misses` consecutive misses, fewer than needed to confirm.
    Failing { misses: u32 },
    /// `misses` consecutive misses reached `ping_misses`: ask the replicas.
    NeedConfirmation { misses: u32 },
}

/// Counts consecutive missed pings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Detector {
    needed: u32,
    misses: u32,
}

impl Detector {
    /// `ping_misses` consecutive misses ask for confirmation; 0 is read as 1
    /// (the config layer rejects 0, but a zero here must not confirm forever).
    pub(crate) fn new(ping_misses: u32) -> Detector {
        Detector {
            needed: ping_misses.max(1),
            misses: 0,
        }
    }

    /// Feeds one ping outcome.
    pub(crate) fn observe(&mut self, outcome: &PingOutcome) -> Step {
        match outcome {
            PingOutcome::Ok => {
                self.misses = 0;
                Step::Healthy
            }
            PingOutcome::AliveError { code } => {
                self.misses = 0;
                Step::AliveWithError { code: *code }
            }
            PingOutcome::Miss { .. } => {
                self.misses = self.misses.saturating_add(1);
                if self.misses >= self.needed {
                    Step::NeedConfirmation {
                        misses: self.misses,
                    }
                } else {
                    Step::Failing {
                        misses: self.misses,
                    }
                }
            }
        }
    }

    /// Starts counting afresh (after a confirmation found the master alive).
    pub(crate) fn reset(&mut self) {
        self.misses = 0;
    }

    /// Consecutive misses so far.
    pub(crate) fn misses(&self) -> u32 {
        self.misses
    }

    /// Misses that trigger a confirmation.
    pub(crate) fn needed(&self) -> u32 {
        self.needed
    }
}

/// The monitor's own view of itself, for `status` (mapped to MHA's numbers
/// by `state::StatusCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MonitorState {
    /// The last ping was answered (`0:PING_OK`).
    PingOk,
    /// Some pings missed, not yet enough to confirm (`20:PING_FAILING`).
    PingFailing,
    /// Enough misses; confirmation is running (`21:PING_FAILED`).
    PingFailed,
    /// Confirmation found the master alive; watching again until a ping
    /// succeeds (`30:RETRYING_MONITOR`).
    RetryingMonitor,
}

impl MonitorState {
    /// The state a detector step leaves the monitor in.
    pub(crate) fn after(step: &Step) -> MonitorState {
        match step {
            Step::Healthy | Step::AliveWithError { .. } => MonitorState::PingOk,
            Step::Failing { .. } => MonitorState::PingFailing,
            Step::NeedConfirmation { .. } => MonitorState::PingFailed,
        }
    }
}

/// Could the manager open an SSH session to the master's host? Decides
/// whether the dead master's binlog can be saved (MHA's 0 / 1 / 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SshReach {
    Reachable,
    Unreachable,
    /// The check could not tell (bad ssh options, not run).
    Unknown,
}

impl fmt::Display for SshReach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SshReach::Reachable => "reachable",
            SshReach::Unreachable => "unreachable",
            SshReach::Unknown => "unknown",
        })
    }
}

/// What running the secondary check produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecondaryResult {
    /// It ran and exited with this code.
    Exit(i32),
    /// It could not be started, was killed, or did not finish in time.
    CouldNotRun(String),
}

/// What the secondary check means (`masterha_secondary_check` exit codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecondarySays {
    /// Exit 0: every route reached its monitoring host and none reached the master.
    MasterDown,
    /// Exit 2: a monitoring host itself was unreachable.
    NetworkProblem,
    /// Exit 3: some route reached the master.
    MasterReachable,
    /// Exit 1, any other code, or the check did not run: no failover.
    Unknown,
}

impl SecondaryResult {
    pub(crate) fn meaning(&self) -> SecondarySays {
        match self {
            SecondaryResult::Exit(0) => SecondarySays::MasterDown,
            SecondaryResult::Exit(2) => SecondarySays::NetworkProblem,
            SecondaryResult::Exit(3) => SecondarySays::MasterReachable,
            SecondaryResult::Exit(_) | SecondaryResult::CouldNotRun(_) => SecondarySays::Unknown,
        }
    }
}

/// What the manager saw of one other configured server during confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaView {
    /// How to name it in messages (the server's hostname or label).
    pub name: String,
    pub seen: Seen,
}

/// One server's answer during confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// The manager could not read it; it is no witness either way.
    Unreachable { reason: String },
    /// Reachable, but not replicating from anywhere.
    NotReplica,
    /// Reachable and replicating; `points_at_master` says whether its
    /// source is the monitored master (only those are witnesses).
    Replica {
        io: IoState,
        last_io_errno: u32,
        last_io_error: String,
        points_at_master: bool,
        /// The fresh view: what it received, what a connect from its host found.
        fresh: Fresh,
    },
}

/// A witness's view beyond its IO thread state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fresh {
    /// Did it receive anything since the first missed ping?
    pub progress: Progress,
    /// Its heartbeat period, when it says (zero: heartbeats off).
    pub heartbeat_period: Option<Duration>,
    /// A connect to the master's mysqld from the replica's host.
    pub probe: HostProbe,
}

impl Fresh {
    /// Nothing known beyond the IO thread state.
    pub(crate) fn unknown() -> Fresh {
        Fresh {
            progress: Progress::Unknown,
            heartbeat_period: None,
            probe: HostProbe::NotAsked,
        }
    }
}

/// What a replica received between two readings of its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// No earlier reading to compare with.
    Unknown,
    /// Events or heartbeats arrived in between: its connection is alive.
    Moved,
    /// Nothing arrived for this long.
    Still(Duration),
}

/// A connect from a replica's host to the master's mysqld, and whether it
/// greeted (a live mysqld sends its handshake, or an error packet, at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostProbe {
    /// Not run (its IO thread had already lost the master, or it was read unreachable).
    NotAsked,
    /// The master's mysqld answered a fresh connection from there.
    Answered,
    /// Refused, no route, or connected without a greeting in time.
    NoAnswer(String),
    /// The probe could not run there (SSH failed, no `bash`/`timeout`): it says nothing.
    CouldNotRun(String),
}

/// What a replica had received at one reading: any change means data or a
/// heartbeat came in from its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReceivedMark {
    read: BinlogPos,
    gtid_io: Option<MariaGtidPos>,
    retrieved: Option<GtidSet>,
    heartbeats: Option<u64>,
}

impl ReceivedMark {
    pub(crate) fn of(replica: &ReplicaStatus, net: &ReplicaNet) -> ReceivedMark {
        ReceivedMark {
            read: replica.read.clone(),
            gtid_io: replica.gtid_io_pos.clone(),
            retrieved: replica.retrieved_gtid_set.clone(),
            heartbeats: net.received_heartbeats,
        }
    }

    /// Progress from `earlier` (read `apart` before) to this reading.
    pub(crate) fn since(&self, earlier: Option<&ReceivedMark>, apart: Duration) -> Progress {
        match earlier {
            None => Progress::Unknown,
            Some(e) if e == self => Progress::Still(apart),
            Some(_) => Progress::Moved,
        }
    }
}

/// A witness's standing, as [`Witness::judge`] decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Witness {
    /// It still sees the master; the text says why, for the log.
    SeesMaster(String),
    /// It has lost the master.
    Lost,
}

impl Witness {
    /// The rule in the module docs' table, for one witness.
    pub(crate) fn judge(name: &str, io: IoState, fresh: &Fresh) -> Witness {
        if io != IoState::Yes {
            return Witness::Lost;
        }
        if fresh.progress == Progress::Moved {
            return Witness::SeesMaster(format!(
                "{name} IO thread running and still receiving from the master"
            ));
        }
        match &fresh.probe {
            HostProbe::Answered => Witness::SeesMaster(format!(
                "{name} IO thread running and the master answered a connect from that host"
            )),
            HostProbe::NoAnswer(_) => Witness::Lost,
            HostProbe::NotAsked | HostProbe::CouldNotRun(_) => {
                if let (Progress::Still(silent), Some(period)) =
                    (fresh.progress, fresh.heartbeat_period)
                {
                    if period > Duration::ZERO && silent > heartbeat_allowance(period) {
                        return Witness::Lost;
                    }
                }
                let why = match &fresh.probe {
                    HostProbe::CouldNotRun(why) => {
                        format!("the connect from that host could not run: {why}")
                    }
                    _ => "no connect from that host was tried".to_string(),
                };
                Witness::SeesMaster(format!(
                    "{name} IO thread running; {why}, so it counts until it notices \
                     (slave_net_timeout)"
                ))
            }
        }
    }
}

/// How long a replica may hear nothing while its source is alive: one
/// heartbeat period plus half of it (at least 1 s) for the network.
pub(crate) fn heartbeat_allowance(period: Duration) -> Duration {
    period + (period / 2).max(Duration::from_secs(1))
}

impl ReplicaView {
    /// A replica of the monitored master that the manager could read.
    fn is_witness(&self) -> bool {
        matches!(
            self.seen,
            Seen::Replica {
                points_at_master: true,
                ..
            }
        )
    }

    /// A witness that still sees the master, with why; `None` otherwise.
    fn sees_master(&self) -> Option<String> {
        match &self.seen {
            Seen::Replica {
                points_at_master: true,
                io,
                fresh,
                ..
            } => match Witness::judge(&self.name, *io, fresh) {
                Witness::SeesMaster(why) => Some(why),
                Witness::Lost => None,
            },
            _ => None,
        }
    }

    /// `198.18.0.12 (IO thread Connecting, error 2003: Can't connect ...)`,
    /// `198.18.0.12 (IO thread Yes, nothing received for 3.0s, connect from its host: no answer ...)`.
    pub(crate) fn describe(&self) -> String {
        match &self.seen {
            Seen::Unreachable { reason } => format!("{} (unreachable: {reason})", self.name),
            Seen::NotReplica => format!("{} (not a replica)", self.name),
            Seen::Replica {
                io,
                last_io_errno,
                last_io_error,
                fresh,
                ..
            } => {
                let mut parts = vec![format!("IO thread {io}")];
                if *last_io_errno != 0 {
                    parts[0].push_str(&format!(", error {last_io_errno}: {last_io_error}"));
                }
                match fresh.progress {
                    Progress::Unknown => {}
                    Progress::Moved => parts.push("still receiving".into()),
                    Progress::Still(d) => {
                        let mut text = format!("nothing received for {:.1}s", d.as_secs_f64());
                        if let Some(p) = fresh.heartbeat_period {
                            text.push_str(&format!(" (heartbeat period {:.1}s)", p.as_secs_f64()));
                        }
                        parts.push(text)
                    }
                }
                match &fresh.probe {
                    HostProbe::NotAsked => {}
                    HostProbe::Answered => {
                        parts.push("connect from its host: the master answered".into())
                    }
                    HostProbe::NoAnswer(why) => {
                        parts.push(format!("connect from its host: no answer ({why})"))
                    }
                    HostProbe::CouldNotRun(why) => {
                        parts.push(format!("connect from its host could not run ({why})"))
                    }
                }
                format!("{} ({})", self.name, parts.join(", "))
            }
        }
    }
}

/// Everything the confirmation gathered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfirmationInput {
    /// The master answered the manager (or answered with an alive error)
    /// while the confirmation ran.
    pub master_answered: bool,
    /// Every other configured server.
    pub replicas: Vec<ReplicaView>,
    pub ssh: SshReach,
    /// `None` when no `secondary_check_script` is configured.
    pub secondary: Option<SecondaryResult>,
}

/// The master found dead, as the monitor (or an operator) hands it to the
/// failover, with what confirmed the death. The one contract between
/// detection and recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeadMaster {
    /// Index of the dead master in `config.servers`.
    pub index: ServerId,
    /// Could the manager still SSH to its host (saving its binlog depends on it).
    pub ssh_reachable: SshReach,
    /// Wall-clock time of the verdict, for the report.
    pub detected_at: SystemTime,
    /// Consecutive missed pings when the confirmation started (0: declared by an operator).
    pub misses: u32,
    /// From the first of those misses to the verdict (monitor clock).
    pub since_first_miss: Duration,
    /// What every other server said during the confirmation.
    pub replica_views: Vec<ReplicaView>,
    /// Who agreed that it is dead, as one line for the log and the report.
    pub evidence: String,
    /// What the monitor saw of its semi-sync (`None`: not watched).
    pub semi_sync: Option<Box<crate::topology::semisync::SemiSyncWatch>>,
}

impl DeadMaster {
    /// A master an operator declared dead (`switch --master-state dead`): no
    /// monitor evidence; SSH is checked by the failover itself.
    pub(crate) fn declared(index: ServerId, at: SystemTime) -> DeadMaster {
        DeadMaster {
            index,
            ssh_reachable: SshReach::Unknown,
            detected_at: at,
            misses: 0,
            since_first_miss: Duration::ZERO,
            replica_views: Vec::new(),
            evidence: "declared dead by an operator (switch --master-state dead)".into(),
            semi_sync: None,
        }
    }

    /// What the SSH check found: `None` when it could not tell.
    pub(crate) fn ssh_known(&self) -> Option<bool> {
        match self.ssh_reachable {
            SshReach::Reachable => Some(true),
            SshReach::Unreachable => Some(false),
            SshReach::Unknown => None,
        }
    }

    /// Each other server's view, as the log and the report print it.
    pub(crate) fn views(&self) -> Vec<String> {
        self.replica_views
            .iter()
            .map(ReplicaView::describe)
            .collect()
    }
}

/// The outcome of a confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Fail over. `evidence` says who agreed, for the log and the report.
    Dead { ssh: SshReach, evidence: String },
    /// Keep monitoring; `reason` is the log line.
    Alive { reason: String },
}

/// Decides whether the master is dead; see the module docs for the rule.
pub(crate) fn confirm(input: &ConfirmationInput) -> Verdict {
    if input.master_answered {
        return Verdict::Alive {
            reason: "master answered during confirmation (it is actually alive); not failing over"
                .to_string(),
        };
    }

    let witnesses: Vec<&ReplicaView> = input.replicas.iter().filter(|r| r.is_witness()).collect();
    let reaching: Vec<String> = witnesses.iter().filter_map(|r| r.sees_master()).collect();
    if !reaching.is_empty() {
        return Verdict::Alive {
            reason: format!(
                "master is reachable from replicas ({}); not failing over",
                reaching.join(", ")
            ),
        };
    }

    let secondary_text = match &input.secondary {
        None => None,
        Some(result) => match result.meaning() {
            SecondarySays::MasterDown => {
                Some("secondary check says the master is down".to_string())
            }
            SecondarySays::NetworkProblem => {
                return Verdict::Alive {
                    reason: format!(
                        "secondary check reports a network problem ({}): a monitoring host is \
                         unreachable, so the master's death is not confirmed; not failing over",
                        describe_secondary(result)
                    ),
                }
            }
            SecondarySays::MasterReachable => {
                return Verdict::Alive {
                    reason: format!(
                        "secondary check reached the master ({}); not failing over",
                        describe_secondary(result)
                    ),
                }
            }
            SecondarySays::Unknown => {
                return Verdict::Alive {
                    reason: format!(
                        "secondary check could not decide ({}); not failing over",
                        describe_secondary(result)
                    ),
                }
            }
        },
    };

    let mut parts = Vec::new();
    if witnesses.is_empty() {
        parts.push("no reachable replica of the master to ask".to_string());
    } else {
        let lost: Vec<String> = witnesses.iter().map(|r| r.describe()).collect();
        parts.push(format!(
            "every reachable replica lost the master: {}",
            lost.join("; ")
        ));
    }
    match secondary_text {
        Some(text) => parts.push(text),
        None => parts.push("no secondary check configured".to_string()),
    }
    parts.push(format!("SSH to the master host: {}", input.ssh));
    Verdict::Dead {
        ssh: input.ssh,
        evidence: parts.join("; "),
    }
}

fn describe_secondary(result: &SecondaryResult) -> String {
    match result {
        SecondaryResult::Exit(code) => format!("exit code {code}"),
        SecondaryResult::CouldNotRun(why) => format!("it did not run: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn miss() -> PingOutcome {
        PingOutcome::Miss {
            reason: "Connection refused".into(),
        }
    }

    #[test]
    fn misses_count_up_to_confirmation() {
        let mut d = Detector::new(3);
        assert_eq!(d.observe(&miss()), Step::Failing { misses: 1 });
        assert_eq!(d.observe(&miss()), Step::Failing { misses: 2 });
        assert_eq!(d.observe(&miss()), Step::NeedConfirmation { misses: 3 });
        // Still failing after an inconclusive confirmation that did not reset.
        assert_eq!(d.observe(&miss()), Step::NeedConfirmation { misses: 4 });
    }

    #[test]
    fn an_ok_resets_the_count() {
        let mut d = Detector::new(3);
        d.observe(&miss());
        d.observe(&miss());
        assert_eq!(d.observe(&PingOutcome::Ok), Step::Healthy);
        assert_eq!(d.misses(), 0);
        assert_eq!(d.observe(&miss()), Step::Failing { misses: 1 });
    }

    #[test]
    fn alive_errors_never_count_and_reset() {
        let mut d = Detector::new(2);
        for _ in 0..10 {
            assert_eq!(
                d.observe(&PingOutcome::AliveError { code: 1040 }),
                Step::AliveWithError { code: 1040 }
            );
        }
        assert_eq!(d.misses(), 0);
        d.observe(&miss());
        assert_eq!(
            d.observe(&PingOutcome::AliveError { code: 1045 }),
            Step::AliveWithError { code: 1045 }
        );
        assert_eq!(d.observe(&miss()), Step::Failing { misses: 1 });
    }

    #[test]
    fn reset_and_zero_misses() {
        let mut d = Detector::new(0);
        assert_eq!(d.needed(), 1);
        assert_eq!(d.observe(&miss()), Step::NeedConfirmation { misses: 1 });
        d.reset();
        assert_eq!(d.misses(), 0);
    }

    #[test]
    fn states_after_steps() {
        let cases = [
            (Step::Healthy, MonitorState::PingOk),
            (Step::AliveWithError { code: 1040 }, MonitorState::PingOk),
            (Step::Failing { misses: 1 }, MonitorState::PingFailing),
            (
                Step::NeedConfirmation { misses: 3 },
                MonitorState::PingFailed,
            ),
        ];
        for (step, state) in cases {
            assert_eq!(MonitorState::after(&step), state, "{step:?}");
        }
    }

    #[test]
    fn secondary_exit_codes() {
        let cases = [
            (SecondaryResult::Exit(0), SecondarySays::MasterDown),
            (SecondaryResult::Exit(1), SecondarySays::Unknown),
            (SecondaryResult::Exit(2), SecondarySays::NetworkProblem),
            (SecondaryResult::Exit(3), SecondarySays::MasterReachable),
            (SecondaryResult::Exit(127), SecondarySays::Unknown),
            (
                SecondaryResult::CouldNotRun("timeout".into()),
                SecondarySays::Unknown,
            ),
        ];
        for (result, says) in cases {
            assert_eq!(result.meaning(), says, "{result:?}");
        }
    }

    fn replica(name: &str, io: IoState, errno: u32) -> ReplicaView {
        ReplicaView {
            name: name.into(),
            seen: Seen::Replica {
                io,
                last_io_errno: errno,
                last_io_error: if errno == 0 {
                    String::new()
                } else {
                    format!("error connecting to master (errno {errno})")
                },
                points_at_master: true,
                fresh: Fresh::unknown(),
            },
        }
    }

    fn lost(name: &str) -> ReplicaView {
        replica(name, IoState::Connecting, 2003)
    }

    fn elsewhere(name: &str, io: IoState) -> ReplicaView {
        ReplicaView {
            name: name.into(),
            seen: Seen::Replica {
                io,
                last_io_errno: 0,
                last_io_error: String::new(),
                points_at_master: false,
                fresh: Fresh::unknown(),
            },
        }
    }

    fn unreachable(name: &str) -> ReplicaView {
        ReplicaView {
            name: name.into(),
            seen: Seen::Unreachable {
                reason: "Connection refused".into(),
            },
        }
    }

    fn input(replicas: Vec<ReplicaView>, secondary: Option<i32>) -> ConfirmationInput {
        ConfirmationInput {
            master_answered: false,
            replicas,
            ssh: SshReach::Unreachable,
            secondary: secondary.map(SecondaryResult::Exit),
        }
    }

    /// Expected outcome: `Ok(())` dead, `Err(fragment)` alive with a reason containing it.
    type Want = Result<(), &'static str>;

    #[test]
    fn confirmation_table() {
        let cases: Vec<(&str, ConfirmationInput, Want)> = vec![
            (
                "all replicas broken, no secondary",
                input(vec![lost("198.18.0.12"), lost("198.18.0.13")], None),
                Ok(()),
            ),
            (
                "all replicas broken (Connecting and No), no secondary",
                input(
                    vec![
                        lost("198.18.0.12"),
                        replica("198.18.0.13", IoState::No, 0),
                        replica("198.18.0.14", IoState::Connecting, 2013),
                    ],
                    None,
                ),
                Ok(()),
            ),
            (
                "one replica still Yes",
                input(
                    vec![lost("198.18.0.12"), replica("198.18.0.13", IoState::Yes, 0)],
                    None,
                ),
                Err("master is reachable from replicas (198.18.0.13 IO thread running; no connect from that host was tried"),
            ),
            (
                "Yes with a stale error still counts as reaching",
                input(vec![replica("198.18.0.12", IoState::Yes, 2013)], Some(0)),
                Err("198.18.0.12 IO thread running"),
            ),
            (
                "replicas broken, secondary says master reachable",
                input(vec![lost("198.18.0.12")], Some(3)),
                Err("secondary check reached the master (exit code 3)"),
            ),
            (
                "replicas broken, secondary says network problem",
                input(vec![lost("198.18.0.12")], Some(2)),
                Err("network problem"),
            ),
            (
                "replicas broken, secondary unknown error",
                input(vec![lost("198.18.0.12")], Some(1)),
                Err("could not decide (exit code 1)"),
            ),
            (
                "replicas broken, secondary says down",
                input(vec![lost("198.18.0.12")], Some(0)),
                Ok(()),
            ),
            ("no replicas, no secondary: MHA behaviour", input(vec![], None), Ok(())),
            ("no replicas, secondary down", input(vec![], Some(0)), Ok(())),
            (
                "no replicas, secondary reachable",
                input(vec![], Some(3)),
                Err("secondary check reached the master"),
            ),
            (
                "only unreachable servers count as no replicas",
                input(vec![unreachable("198.18.0.12")], None),
                Ok(()),
            ),
            (
                "replicas of another server are no witnesses",
                input(
                    vec![elsewhere("198.18.0.13", IoState::Yes), lost("198.18.0.12")],
                    None,
                ),
                Ok(()),
            ),
            (
                "a reachable non-replica is no witness",
                input(
                    vec![
                        ReplicaView {
                            name: "198.18.0.13".into(),
                            seen: Seen::NotReplica,
                        },
                        lost("198.18.0.12"),
                    ],
                    None,
                ),
                Ok(()),
            ),
            (
                "master answered during confirmation",
                ConfirmationInput {
                    master_answered: true,
                    ..input(vec![lost("198.18.0.12")], Some(0))
                },
                Err("actually alive"),
            ),
        ];
        for (name, case, want) in cases {
            let got = confirm(&case);
            match (want, &got) {
                (Ok(()), Verdict::Dead { ssh, .. }) => assert_eq!(*ssh, case.ssh, "{name}"),
                (Err(fragment), Verdict::Alive { reason }) => {
                    assert!(reason.contains(fragment), "{name}: {reason}")
                }
                (want, got) => panic!("{name}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn dead_verdict_carries_ssh_and_evidence() {
        let mut case = input(vec![lost("198.18.0.12")], Some(0));
        case.ssh = SshReach::Reachable;
        match confirm(&case) {
            Verdict::Dead { ssh, evidence } => {
                assert_eq!(ssh, SshReach::Reachable);
                assert!(
                    evidence.contains("198.18.0.12 (IO thread Connecting, error 2003"),
                    "{evidence}"
                );
                assert!(evidence.contains("secondary check says the master is down"));
                assert!(evidence.contains("SSH to the master host: reachable"));
            }
            other => panic!("{other:?}"),
        }
        match confirm(&input(vec![], None)) {
            Verdict::Dead { evidence, .. } => {
                assert!(evidence.contains("no reachable replica"), "{evidence}");
                assert!(evidence.contains("no secondary check configured"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secondary_that_did_not_run_blocks() {
        let case = ConfirmationInput {
            secondary: Some(SecondaryResult::CouldNotRun("no such file".into())),
            ..input(vec![lost("198.18.0.12")], None)
        };
        match confirm(&case) {
            Verdict::Alive { reason } => assert!(reason.contains("no such file"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn fresh(progress: Progress, heartbeat: Option<u64>, probe: HostProbe) -> Fresh {
        Fresh {
            progress,
            heartbeat_period: heartbeat.map(S),
            probe,
        }
    }

    fn no_answer() -> HostProbe {
        HostProbe::NoAnswer("no connection within 1.000s".into())
    }

    fn cannot_run() -> HostProbe {
        HostProbe::CouldNotRun("ssh to root@198.18.0.12:22: Connection refused".into())
    }

    /// `Ok(())`: lost; `Err(fragment)`: still sees the master, the reason containing it.
    #[test]
    fn witness_table() {
        use Progress::{Moved, Still, Unknown};
        let cases: Vec<(&str, IoState, Fresh, Want)> = vec![
            (
                "IO Connecting",
                IoState::Connecting,
                fresh(Unknown, None, HostProbe::NotAsked),
                Ok(()),
            ),
            (
                "IO No, even if the master answers there",
                IoState::No,
                fresh(Still(S(3)), None, HostProbe::Answered),
                Ok(()),
            ),
            (
                "Yes and receiving, connect failed: receiving wins",
                IoState::Yes,
                fresh(Moved, Some(30), no_answer()),
                Err("still receiving"),
            ),
            (
                "Yes, silent, master answered from its host (manager's path cut)",
                IoState::Yes,
                fresh(Still(S(3)), Some(30), HostProbe::Answered),
                Err("answered a connect from that host"),
            ),
            (
                "Yes, silent, no answer from its host (link down)",
                IoState::Yes,
                fresh(Still(S(3)), Some(30), no_answer()),
                Ok(()),
            ),
            (
                "Yes, no baseline, no answer from its host",
                IoState::Yes,
                fresh(Unknown, None, no_answer()),
                Ok(()),
            ),
            (
                "Yes, silent 3s < heartbeat 30s, probe could not run",
                IoState::Yes,
                fresh(Still(S(3)), Some(30), cannot_run()),
                Err("could not run"),
            ),
            (
                "Yes, silent, probe not tried, heartbeat unknown",
                IoState::Yes,
                fresh(Still(S(3)), None, HostProbe::NotAsked),
                Err("no connect from that host was tried"),
            ),
            (
                "Yes, silent 4s > heartbeat 2s + 1s, probe could not run",
                IoState::Yes,
                fresh(Still(S(4)), Some(2), cannot_run()),
                Ok(()),
            ),
            (
                "Yes, silent 3s = heartbeat 2s + 1s: not yet",
                IoState::Yes,
                fresh(Still(S(3)), Some(2), cannot_run()),
                Err("could not run"),
            ),
            (
                "Yes, silent 100s, heartbeats off: silence proves nothing",
                IoState::Yes,
                fresh(Still(S(100)), Some(0), cannot_run()),
                Err("could not run"),
            ),
            (
                "Yes, no baseline, probe could not run",
                IoState::Yes,
                fresh(Unknown, Some(2), cannot_run()),
                Err("IO thread running"),
            ),
        ];
        for (name, io, f, want) in cases {
            match (want, Witness::judge("198.18.0.12", io, &f)) {
                (Ok(()), Witness::Lost) => {}
                (Err(fragment), Witness::SeesMaster(why)) => {
                    assert!(why.contains(fragment), "{name}: {why}");
                    assert!(
                        why.starts_with("198.18.0.12 IO thread running"),
                        "{name}: {why}"
                    );
                }
                (want, got) => panic!("{name}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn heartbeat_allowance_is_one_and_a_half_periods_at_least_one_second_more() {
        let ms = Duration::from_millis;
        assert_eq!(heartbeat_allowance(S(2)), S(3));
        assert_eq!(heartbeat_allowance(S(30)), S(45));
        assert_eq!(heartbeat_allowance(ms(500)), ms(1500));
    }

    #[test]
    fn received_mark_progress() {
        use crate::topology::fixture::replica_status;
        let net = |n| ReplicaNet {
            received_heartbeats: Some(n),
            ..ReplicaNet::default()
        };
        let base = replica_status(1, "mysql-bin.000010:1000", "mysql-bin.000010:1000");
        let earlier = ReceivedMark::of(&base, &net(5));
        let mut further = base.clone();
        further.read = BinlogPos::new("mysql-bin.000010", 1200);
        let mut gtid = base.clone();
        gtid.gtid_io_pos = Some(MariaGtidPos::parse("0-1-9").unwrap());
        let cases = [
            (
                "no earlier reading",
                ReceivedMark::of(&base, &net(5)),
                None,
                Progress::Unknown,
            ),
            (
                "nothing new",
                ReceivedMark::of(&base, &net(5)),
                Some(&earlier),
                Progress::Still(S(3)),
            ),
            (
                "events arrived",
                ReceivedMark::of(&further, &net(5)),
                Some(&earlier),
                Progress::Moved,
            ),
            (
                "a heartbeat arrived",
                ReceivedMark::of(&base, &net(6)),
                Some(&earlier),
                Progress::Moved,
            ),
            (
                "the GTID IO position moved",
                ReceivedMark::of(&gtid, &net(5)),
                Some(&earlier),
                Progress::Moved,
            ),
        ];
        for (name, now, before, want) in cases {
            assert_eq!(now.since(before, S(3)), want, "{name}");
        }
    }

    fn yes(name: &str, f: Fresh) -> ReplicaView {
        let mut view = replica(name, IoState::Yes, 0);
        if let Seen::Replica { fresh, .. } = &mut view.seen {
            *fresh = f;
        }
        view
    }

    #[test]
    fn fresh_views_in_the_confirmation() {
        use Progress::{Moved, Still};
        let silent = |probe| fresh(Still(S(3)), Some(30), probe);
        let cases: Vec<(&str, ConfirmationInput, Want)> = vec![
            (
                "link down: IO Yes everywhere, silent, no answer from any host",
                input(vec![yes("198.18.0.12", silent(no_answer())), yes("198.18.0.13", silent(no_answer()))], None),
                Ok(()),
            ),
            (
                "manager's path cut: the master answers from the replicas' hosts",
                input(vec![yes("198.18.0.12", silent(HostProbe::Answered)), yes("198.18.0.13", silent(HostProbe::Answered))], None),
                Err("master is reachable from replicas (198.18.0.12 IO thread running and the master answered a connect from that host, 198.18.0.13"),
            ),
            (
                "one host still reaches it",
                input(vec![yes("198.18.0.12", silent(no_answer())), yes("198.18.0.13", silent(HostProbe::Answered))], None),
                Err("198.18.0.13 IO thread running and the master answered"),
            ),
            (
                "one replica still receiving",
                input(vec![lost("198.18.0.12"), yes("198.18.0.13", fresh(Moved, Some(30), no_answer()))], None),
                Err("198.18.0.13 IO thread running and still receiving"),
            ),
            (
                "no SSH to the replica host: wait for slave_net_timeout as before",
                input(vec![lost("198.18.0.12"), yes("198.18.0.13", silent(cannot_run()))], None),
                Err("could not run"),
            ),
            (
                "replicas agree, the secondary check still has the last word",
                input(vec![yes("198.18.0.12", silent(no_answer()))], Some(3)),
                Err("secondary check reached the master"),
            ),
        ];
        for (name, case, want) in cases {
            match (want, confirm(&case)) {
                (Ok(()), Verdict::Dead { evidence, .. }) => {
                    assert!(evidence.contains("every reachable replica lost the master: 198.18.0.12 (IO thread Yes, nothing received for 3.0s (heartbeat period 30.0s), connect from its host: no answer (no connection within 1.000s))"), "{name}: {evidence}");
                }
                (Err(fragment), Verdict::Alive { reason }) => {
                    assert!(reason.contains(fragment), "{name}: {reason}")
                }
                (want, got) => panic!("{name}: wanted {want:?}, got {got:?}"),
            }
        }
    }
}
