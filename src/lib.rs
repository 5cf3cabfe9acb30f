//! ha-manager: failover manager for MySQL and MariaDB replication, MHA-compatible.
//!
//! # Layout
//!
//! Dependencies point inward only (see `../shared/DESIGN.md` §2):
//!
//! | layer | modules | may use |
//! |---|---|---|
//! | L0 pure core | [`topology`], [`binlog`], `config::{model, raw, cnf, toml_file, resolve, keys, layers, value, words, secrets, init_script}`, [`policy`], [`render`] | std, serde, thiserror, toml, chrono types |
//! | L1 adapters | [`mysql`], [`transport`], [`notify`] (hooks, mail), [`state`], [`journal`], `config` (file loading) | L0 |
//! | L2 use cases | [`check`], [`monitor`], [`failover`] | L0, L1 traits and plain types |
//! | L3 edge | `main.rs`, [`cli`], [`app`], [`start_cmd`], [`switch_cmd`], [`admin`], [`exit`], [`logging`] | everything |
//!
//! `scripts/check-layers.sh` (run by CI) rejects I/O, clocks and logging in L0
//! and adapters that reach up into use cases.
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
pub mod policy;
pub mod render;
pub mod start_cmd;
pub mod state;
pub mod switch;
pub mod switch_cmd;
pub mod topology;
pub mod transport;
