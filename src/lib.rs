//! ha-manager: failover manager for MySQL and MariaDB replication, MHA-compatible.
//!
//! # Layout
//!
//! Dependencies point inward only (see `../shared/DESIGN.md` §2):
//!
//! | layer | modules | may use |
//! |---|---|---|
//! | L0 pure core | `topology`, `binlog`, `config` (all but the loading in `config/mod.rs`), `policy`, `render`; also `state/status.rs` | std, serde, thiserror, toml, chrono types; other L0 |
//! | L1 adapters | `mysql`, `transport`, `notify`, `state`, `journal`, `config/mod.rs` (reads the files and secrets, runs `init_conf_load_script`) | L0; not each other, except `notify` → `journal` (and `render` → `journal`: the report is rendered from the journal's records) |
//! | L2 use cases | `check`, `monitor`, `failover`, `switch`, `recovery` (shared by failover and switch) | L0, L1 traits and plain types; not each other, except `failover`/`switch` → `recovery` |
//! | L3 edge | `main.rs`, [`cli`], [`cmd`], `shutdown`, [`exit`], `logging` | everything |
//!
//! `scripts/check-layers.sh` (run by CI) holds the same table and enforces it: it
//! fails on a top-level module it does not know, on an import that points up or
//! sideways, on I/O, async, clocks or logging in L0, and when this table disagrees.
//!
//! Only [`cli`], [`cmd`] and [`exit`] are public, for `main.rs`; every other module
//! is private to the crate, so the compiler reports what nothing uses.
//!
//! Decisions (who is the master, who would be promoted and why, what is wrong
//! with the topology) are pure functions in L0 with table tests; I/O stays in
//! the adapters.

mod binlog;
mod check;
pub mod cli;
pub mod cmd;
mod config;
pub mod exit;
mod failover;
mod journal;
mod logging;
mod monitor;
mod mysql;
mod notify;
mod policy;
mod recovery;
mod render;
mod shutdown;
mod state;
mod switch;
mod topology;
mod transport;
