//! Integration tests: one binary, modules by topic.
//!
//! Tests marked `#[ignore]` need the lab (real MariaDB servers in network
//! namespaces reached over SSH); `scripts/test.sh` brings it up and runs them
//! with `--ignored`, one at a time since they share the cluster.

#[path = "integration/util.rs"]
mod util;

#[path = "integration/cli.rs"]
mod cli;

#[path = "integration/lab_checks.rs"]
mod lab_checks;

#[path = "integration/writer.rs"]
mod writer;

#[path = "integration/lab_failover.rs"]
mod lab_failover;

#[path = "integration/manager.rs"]
mod manager;

#[path = "integration/lab_auto.rs"]
mod lab_auto;

#[path = "integration/lab_switch.rs"]
mod lab_switch;

#[path = "integration/lab_biglogs.rs"]
mod lab_biglogs;
#[path = "integration/lab_bigtx.rs"]
mod lab_bigtx;
#[path = "integration/lab_cut_trx.rs"]
mod lab_cut_trx;

#[path = "integration/lab_daemon.rs"]
mod lab_daemon;

#[path = "integration/lab_resume.rs"]
mod lab_resume;

#[path = "integration/lab_servers.rs"]
mod lab_servers;

#[path = "integration/lab_start.rs"]
mod lab_start;

#[path = "integration/lab_applied.rs"]
mod lab_applied;

#[path = "integration/lab_errant.rs"]
mod lab_errant;
#[path = "integration/lab_mha_options.rs"]
mod lab_mha_options;
#[path = "integration/lab_semisync.rs"]
mod lab_semisync;
#[path = "integration/lab_topologies.rs"]
mod lab_topologies;

#[path = "integration/lab_tls.rs"]
mod lab_tls;
