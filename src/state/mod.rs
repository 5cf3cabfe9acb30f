//! The manager workdir: health file, per-application lock, failover markers.
//!
//! `manager_workdir` must be private (created 0700; one that others can write is
//! refused). Files of application `<app>` in `manager_workdir` (MHA's names where MHA has them):
//!
//! | file | what |
//! |---|---|
//! | `<app>.master_status.health` | MHA's health file: `pid<TAB>0:PING_OK<TAB>master:<host>`, no newline; its mtime is refreshed on every ping |
//! | `<app>.master_status.json` | the same and more (counters, last error, time) for `status --json` |
//! | `<app>.lock` | `flock`ed while a manager runs; holds its pid |
//! | `ha-manager.server.<host>_<port>.lock` | one per server of the cluster, `flock`ed by the manager that manages it, whatever its application name |
//! | `<app>.failover.complete` | written after a successful failover; the 8-hour rule reads its mtime |
//! | `<app>.failover.error` | written when a failover stopped half-way; blocks later failovers |
//! | `<app>.journal.jsonl` | the failover journal (written elsewhere) |
//!
//! The pure parts ([`StatusCode`], [`HealthRecord`] formatting and parsing,
//! [`judge_status`] for the `status` line) live in `status.rs` and are tested on text;
//! the file I/O ([`Workdir`], [`HealthWriter`], [`AppLock`]) lives in `workdir.rs`.

mod status;
mod workdir;

pub(crate) use status::{
    judge_status, HealthRecord, HealthUpdate, StateSink, StatusCode, StatusInput,
};
pub(crate) use workdir::{
    now, set_state, AppLock, FileOut, HealthWriter, LockHolder, MarkerKind, SavedLog, StateError,
    Workdir,
};
