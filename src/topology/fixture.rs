//! Test fixtures: concise builders of servers, facts and topologies (tests only).
//!
//! In the spirit of orchestrator's `generateTestInstances`: server `n` is
//! block `server<n>` on host/ip `198.18.0.<10+n>:3306`, a MariaDB 10.11 with
//! binlog on and `server_id = n`. Tests start from these defaults and change
//! only what the case is about:
//!
//! ```ignore
//! let topo = topology(vec![
//!     master(1),
//!     slave(2, 1, "mysql-bin.000010:1000").with_spec(|s| s.candidate_master = true),
//!     slave(3, 1, "mysql-bin.000010:900").with_facts(|f| f.log_bin = false),
//! ]);
//! ```
//!
//! Fixture code panics on malformed literals on purpose: those are mistakes
//! in a test, not input.

pub(crate) use crate::config::model::ServerId;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::model::{Origin, Secret, ServerSpec, SshSpec};
use crate::topology::gtid::{GtidSet, MariaGtidPos, MariaGtidState};
use crate::topology::position::BinlogPos;
use crate::topology::snapshot::{Node, NodeState, Topology};
use crate::topology::status::{
    Columns, Flavor, GtidFacts, IoState, MariaUsingGtid, ReplFilters, ReplicaNet, ReplicaStatus,
    ServerFacts, Version,
};

/// The version text every fixture server reports unless changed.
pub(crate) const MARIADB_VERSION: &str = "10.11.6-MariaDB-0+deb12u1-log";

/// The address of server `n`: `198.18.0.<10+n>` (the lab's test net).
pub(crate) fn ip(n: usize) -> String {
    format!("198.18.0.{}", 10 + n)
}

/// A parsed `file:pos` literal.
pub(crate) fn pos(text: &str) -> BinlogPos {
    BinlogPos::parse(text).unwrap_or_else(|e| panic!("fixture position {text:?}: {e}"))
}

/// `[server<n>]` with every field at MHA's default, hostname = ip = `ip(n)`.
pub(crate) fn spec(n: usize) -> ServerSpec {
    ServerSpec {
        name: format!("server{n}"),
        origin: Origin {
            file: PathBuf::from("app1.cnf"),
            line: n,
        },
        hostname: ip(n),
        ip: Some(ip(n)),
        port: 3306,
        ssh: SshSpec {
            host: ip(n),
            port: 22,
            user: None,
            options: Vec::new(),
            connection_timeout: Duration::from_secs(5),
        },
        node_label: None,
        candidate_master: false,
        no_master: false,
        ignore_fail: false,
        skip_init_ssh_check: false,
        skip_reset_slave: false,
        user: "root".to_string(),
        password: Secret::new("secret"),
        repl_user: None,
        repl_password: None,
        disable_log_bin: false,
        master_pid_file: None,
        handle_raw_binlog: true,
        remote_workdir: "/var/tmp".to_string(),
        master_binlog_dir: vec!["/var/lib/mysql".to_string(), "/var/log/mysql".to_string()],
        use_gtid_auto_pos: true,
        tls: crate::config::model::TlsSpec::default(),
        repl_tls: None,
    }
}

/// A writable MariaDB 10.11 with binlog on, not a replica.
pub(crate) fn master_facts(n: usize) -> ServerFacts {
    ServerFacts {
        flavor: Flavor::MariaDb,
        version: Version::new(10, 11, 6),
        version_text: MARIADB_VERSION.to_string(),
        server_id: u32::try_from(n).unwrap_or(u32::MAX),
        log_bin: true,
        log_slave_updates: true,
        read_only: false,
        super_read_only: None,
        relay_log_purge: false,
        binlog_format: "ROW".to_string(),
        binlog: Some(pos("mysql-bin.000010:1000")),
        binlog_do_db: String::new(),
        binlog_ignore_db: String::new(),
        gtid: GtidFacts::MariaDb {
            binlog_pos: MariaGtidPos::default(),
            slave_pos: MariaGtidPos::default(),
            current_pos: MariaGtidPos::default(),
            binlog_state: MariaGtidState::default(),
        },
        relay_log_dir: "/var/lib/mysql".to_string(),
        datadir: "/var/lib/mysql/".to_string(),
        replica: None,
        replica_net: ReplicaNet::default(),
        semi_sync: crate::topology::semisync::SemiSync::default(),
    }
}

/// A healthy file/position replica status of server `master`, IO thread at
/// `read`, SQL thread at `exec`.
pub(crate) fn replica_status(master: usize, read: &str, exec: &str) -> ReplicaStatus {
    ReplicaStatus {
        master_host: ip(master),
        master_port: 3306,
        master_user: "repl".to_string(),
        master_server_id: u32::try_from(master).ok(),
        master_uuid: None,
        read: pos(read),
        exec: pos(exec),
        relay_log_file: "relay-bin.000002".to_string(),
        relay_log_pos: 1000,
        io: IoState::Yes,
        sql_running: true,
        seconds_behind: Some(0),
        last_io_errno: 0,
        last_io_error: String::new(),
        last_sql_errno: 0,
        last_sql_error: String::new(),
        filters: ReplFilters::default(),
        using_gtid: Some(MariaUsingGtid::No),
        gtid_io_pos: Some(MariaGtidPos::default()),
        auto_position: None,
        ssl_allowed: None,
        ssl_verify_server_cert: None,
        retrieved_gtid_set: None,
        executed_gtid_set: None,
    }
}

/// A read-only replica of `master`, caught up (`exec == read`).
pub(crate) fn slave_facts(n: usize, master: usize, read: &str) -> ServerFacts {
    ServerFacts {
        read_only: true,
        replica: Some(replica_status(master, read, read)),
        ..master_facts(n)
    }
}

/// Server `n` as a reachable master.
pub(crate) fn master(n: usize) -> Node {
    Node::reachable(spec(n), master_facts(n))
}

/// Server `n` as a reachable, caught-up replica of `master` read up to `read`.
pub(crate) fn slave(n: usize, master: usize, read: &str) -> Node {
    Node::reachable(spec(n), slave_facts(n, master, read))
}

/// Server `n`, unreachable for `reason`.
pub(crate) fn down(n: usize, reason: &str) -> Node {
    Node::unreachable(spec(n), reason)
}

pub(crate) fn topology(nodes: Vec<Node>) -> Topology {
    Topology::new(nodes)
}

/// Builder-style tweaks of a fixture node.
impl Node {
    pub(crate) fn with_spec(mut self, change: impl FnOnce(&mut ServerSpec)) -> Node {
        change(&mut self.spec);
        self
    }

    /// Changes the facts of a reachable node (panics on an unreachable one:
    /// a mistake in the test).
    pub(crate) fn with_facts(mut self, change: impl FnOnce(&mut ServerFacts)) -> Node {
        match &mut self.state {
            NodeState::Reachable(observed) => change(&mut observed.facts),
            NodeState::Unreachable { .. } => panic!("fixture: {} is unreachable", self.spec.name),
        }
        self
    }

    /// Changes the replica status of a replica node.
    pub(crate) fn with_replica(self, change: impl FnOnce(&mut ReplicaStatus)) -> Node {
        let name = self.spec.name.clone();
        self.with_facts(|f| match f.replica.as_mut() {
            Some(replica) => change(replica),
            None => panic!("fixture: {name} is not a replica"),
        })
    }

    /// Sets the SQL thread position (the IO thread position stays).
    pub(crate) fn exec_at(self, exec: &str) -> Node {
        self.with_replica(|r| r.exec = pos(exec))
    }

    pub(crate) fn with_grant(mut self, grant: Option<bool>) -> Node {
        if let NodeState::Reachable(observed) = &mut self.state {
            observed.repl_grant = grant;
        }
        self
    }

    /// Turns the node into a MySQL server of `version` (e.g. `8.4.0`) with
    /// `gtid_mode=ON`; a replica also gets `Auto_Position=1`.
    pub(crate) fn mysql(self, version: &str) -> Node {
        self.with_facts(|f| {
            f.flavor = Flavor::MySql;
            f.version = Version::parse(version).unwrap_or_else(|e| panic!("fixture: {e}"));
            f.version_text = version.to_string();
            f.super_read_only = Some(f.read_only);
            f.gtid = GtidFacts::MySql {
                enabled: true,
                executed: GtidSet::default(),
            };
            if let Some(r) = f.replica.as_mut() {
                r.using_gtid = None;
                r.gtid_io_pos = None;
                r.auto_position = Some(true);
                r.retrieved_gtid_set = Some(GtidSet::default());
                r.executed_gtid_set = Some(GtidSet::default());
            }
        })
    }

    /// Sets the version text (and the parsed version and flavor from it).
    pub(crate) fn version(self, text: &str) -> Node {
        self.with_facts(|f| {
            f.version = Version::parse(text).unwrap_or_else(|e| panic!("fixture: {e}"));
            f.flavor = Flavor::detect(text);
            f.version_text = text.to_string();
        })
    }
}

/// Columns from `(name, value)` pairs; `None` is SQL NULL.
pub(crate) fn columns(pairs: &[(&str, Option<&str>)]) -> Columns {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.map(str::to_string)))
        .collect()
}

/// Columns from a captured row in `tests/fixtures/replica_status/*.tsv`:
/// one `Name<TAB>value` line per column, `\N` for NULL, and `\\`, `\t`, `\n`
/// escapes inside values.
pub(crate) fn columns_from_tsv(text: &str) -> Columns {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (name, value) = line.split_once('\t').unwrap_or((line, ""));
            let value = (value != "\\N").then(|| unescape(value));
            (name.to_string(), value)
        })
        .collect()
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The id of the server at 0-based place `i` in config order.
pub(crate) fn id(i: usize) -> ServerId {
    ServerId::nth(i)
}

/// The ids of the servers at these 0-based places.
pub(crate) fn ids(places: &[usize]) -> Vec<ServerId> {
    places.iter().map(|&i| id(i)).collect()
}
