//! ha-manager: failover manager for MySQL and MariaDB replication, MHA-compatible.
//!
//! # Layout
//!
//! Dependencies point inward only (see `../shared/DESIGN.md` §2):
//!
//! | layer | modules | may use |
//! |---|---|---|
//! | L0 pure core | [`topology`], `config::{model, raw, cnf, toml_file, resolve, keys}` | std, serde, thiserror, toml |
//! | L1 adapters | [`mysql`], [`transport`], `config` (file loading) | L0 |
//! | L2 use cases | [`check`] | L0, L1 traits and plain types |
//! | L3 edge | `main.rs`, [`cli`], [`app`], [`exit`], [`logging`] | everything |
//!
//! Decisions (who is the master, who would be promoted and why, what is wrong
//! with the topology) are pure functions in L0 with table tests; I/O stays in
//! the adapters.

pub mod admin;
pub mod app;
pub mod binlog;
pub mod check;
pub mod cli;
pub mod config;
pub mod exit;
pub mod failover;
pub mod journal;
pub mod logging;
pub mod monitor;
pub mod mysql;
pub mod notify;
pub mod start_cmd;
pub mod state;
pub mod switch;
pub mod switch_cmd;
pub mod topology;
pub mod transport;
