//! Scripted fake of `Connector`/`Db` for tier-2 tests of whole flows.
//!
//! Each fake server has facts that tests set and change; every call is
//! recorded as `"<addr>: <op>"` in a shared log, and a test can make any
//! operation fail (or a server unreachable) at any point.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{ChangeMaster, Connector, Db, DbError, Process, WaitTarget};
use crate::config::ServerSpec;
use crate::topology::gtid::MariaGtidPos;
use crate::topology::status::{GtidFacts, ServerFacts};

/// One fake server's scripted state.
#[derive(Debug, Clone)]
pub(crate) struct FakeServer {
    pub facts: ServerFacts,
    /// `Some(err)`: connecting fails with this error.
    pub refuse: Option<FakeError>,
    /// Operation name → error it fails with (e.g. `"change_master"`).
    pub failing: HashMap<String, FakeError>,
    pub processes: Vec<Process>,
    /// Thread ids with an open transaction.
    pub transactions: Vec<u64>,
    /// Accounts that may write despite read_only.
    pub exempt_users: Vec<String>,
    /// `wait_for` answers "not reached" (the limit passed).
    pub wait_times_out: bool,
    /// `start_replica` leaves the SQL thread stopped on this error (errno,
    /// message), as a real one that meets a conflicting row.
    pub sql_error_on_start: Option<(u32, String)>,
    /// The global `max_allowed_packet` (16 MiB, the servers' default).
    pub max_allowed_packet: u64,
}

/// A cloneable description of a `DbError` to inject.
#[derive(Debug, Clone)]
pub(crate) enum FakeError {
    Timeout,
    Refused,
    Server(u16, String),
}

impl FakeError {
    fn to_error(&self) -> DbError {
        match self {
            FakeError::Timeout => DbError::Timeout {
                what: "fake",
                after: Duration::from_secs(1),
            },
            FakeError::Refused => DbError::Connect("Connection refused".into()),
            FakeError::Server(code, msg) => DbError::Server {
                code: *code,
                state: "HY000".into(),
                message: msg.clone(),
            },
        }
    }
}

/// All fake servers, by `addr:port`, and the call log.
#[derive(Debug, Default, Clone)]
pub(crate) struct FakeCluster {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    servers: HashMap<String, FakeServer>,
    log: Vec<String>,
}

impl FakeCluster {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn add(&self, addr: &str, facts: ServerFacts) {
        self.lock().servers.insert(
            addr.to_owned(),
            FakeServer {
                facts,
                refuse: None,
                failing: HashMap::new(),
                processes: Vec::new(),
                transactions: Vec::new(),
                exempt_users: Vec::new(),
                wait_times_out: false,
                sql_error_on_start: None,
                max_allowed_packet: 16 << 20,
            },
        );
    }

    /// Changes one server's scripted state.
    pub(crate) fn with(&self, addr: &str, change: impl FnOnce(&mut FakeServer)) {
        let mut inner = self.lock();
        let server = inner
            .servers
            .get_mut(addr)
            .unwrap_or_else(|| panic!("no fake server {addr}"));
        change(server);
    }

    pub(crate) fn facts(&self, addr: &str) -> ServerFacts {
        self.lock().servers[addr].facts.clone()
    }

    /// Every call so far, in order.
    pub(crate) fn log(&self) -> Vec<String> {
        self.lock().log.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `op` on `addr` and returns the injected error, if any.
    fn call(&self, addr: &str, op: &str, detail: String) -> Result<(), DbError> {
        let mut inner = self.lock();
        inner.log.push(if detail.is_empty() {
            format!("{addr}: {op}")
        } else {
            format!("{addr}: {op} {detail}")
        });
        let server = inner
            .servers
            .get(addr)
            .ok_or_else(|| DbError::Connect(format!("no such fake server {addr}")))?;
        if let Some(err) = &server.refuse {
            return Err(err.to_error());
        }
        match server.failing.get(op) {
            Some(err) => Err(err.to_error()),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Connector for FakeCluster {
    async fn connect(&self, spec: &ServerSpec, _timeout: Duration) -> Result<Box<dyn Db>, DbError> {
        let addr = format!("{}:{}", spec.mysql_addr(), spec.port);
        self.call(&addr, "connect", String::new())?;
        Ok(Box::new(FakeDb {
            cluster: self.clone(),
            addr,
        }))
    }
}

struct FakeDb {
    cluster: FakeCluster,
    addr: String,
}

impl FakeDb {
    fn call(&self, op: &str, detail: String) -> Result<(), DbError> {
        self.cluster.call(&self.addr, op, detail)
    }

    fn change(&self, f: impl FnOnce(&mut ServerFacts)) {
        self.cluster.with(&self.addr, |s| f(&mut s.facts));
    }
}

#[async_trait]
impl Db for FakeDb {
    async fn facts(&self) -> Result<ServerFacts, DbError> {
        self.call("facts", String::new())?;
        Ok(self.cluster.facts(&self.addr))
    }

    async fn semi_sync(&self) -> Result<crate::topology::semisync::SemiSync, DbError> {
        self.call("semi_sync", String::new())?;
        Ok(self.cluster.facts(&self.addr).semi_sync)
    }

    async fn has_repl_privilege(&self, user: &str) -> Result<bool, DbError> {
        self.call("has_repl_privilege", user.to_owned())?;
        Ok(true)
    }

    async fn ping(&self) -> Result<(), DbError> {
        self.call("ping", String::new())
    }

    async fn ping_insert(&self) -> Result<(), DbError> {
        self.call("ping_insert", String::new())
    }

    async fn stop_replica_io(&self) -> Result<(), DbError> {
        self.call("stop_replica_io", String::new())?;
        self.change(|f| {
            if let Some(r) = f.replica.as_mut() {
                r.io = crate::topology::status::IoState::No;
            }
        });
        Ok(())
    }

    async fn stop_replica(&self) -> Result<(), DbError> {
        self.call("stop_replica", String::new())?;
        self.change(|f| {
            if let Some(r) = f.replica.as_mut() {
                r.io = crate::topology::status::IoState::No;
                r.sql_running = false;
            }
        });
        Ok(())
    }

    async fn start_replica(&self) -> Result<(), DbError> {
        self.call("start_replica", String::new())?;
        let error = self.cluster.lock().servers[&self.addr]
            .sql_error_on_start
            .clone();
        self.change(|f| {
            if let Some(r) = f.replica.as_mut() {
                r.io = crate::topology::status::IoState::Yes;
                r.sql_running = error.is_none();
                if let Some((errno, message)) = error {
                    r.last_sql_errno = errno;
                    r.last_sql_error = message;
                }
            }
        });
        Ok(())
    }

    async fn start_replica_sql(&self) -> Result<(), DbError> {
        self.call("start_replica_sql", String::new())?;
        self.change(|f| {
            if let Some(r) = f.replica.as_mut() {
                r.sql_running = true;
            }
        });
        Ok(())
    }

    async fn reset_replica_all(&self) -> Result<(), DbError> {
        self.call("reset_replica_all", String::new())?;
        self.change(|f| f.replica = None);
        Ok(())
    }

    async fn change_master(&self, to: &ChangeMaster) -> Result<(), DbError> {
        self.call(
            "change_master",
            match &to.tls {
                None => format!("{}:{} {:?}", to.host, to.port, to.from),
                Some(tls) => format!("{}:{} {:?} {tls:?}", to.host, to.port, to.from),
            },
        )?;
        self.change(|f| {
            // A former master gets a (stopped) replica status, as on a real server.
            let r = f.replica.get_or_insert_with(|| {
                let mut r = crate::topology::fixture::replica_status(
                    0,
                    "mysql-bin.000001:4",
                    "mysql-bin.000001:4",
                );
                r.io = crate::topology::status::IoState::No;
                r.sql_running = false;
                r
            });
            r.master_host = to.host.clone();
            r.master_port = to.port;
        });
        Ok(())
    }

    async fn set_read_only(&self, on: bool) -> Result<(), DbError> {
        self.call("set_read_only", on.to_string())?;
        self.change(|f| f.read_only = on);
        Ok(())
    }

    async fn max_allowed_packet(&self) -> Result<u64, DbError> {
        self.call("max_allowed_packet", String::new())?;
        let mut value = 0;
        self.cluster
            .with(&self.addr, |s| value = s.max_allowed_packet);
        Ok(value)
    }

    async fn set_max_allowed_packet(&self, bytes: u64) -> Result<(), DbError> {
        self.call("set_max_allowed_packet", bytes.to_string())?;
        self.cluster
            .with(&self.addr, |s| s.max_allowed_packet = bytes);
        Ok(())
    }

    async fn set_relay_log_purge(&self, on: bool) -> Result<(), DbError> {
        self.call("set_relay_log_purge", on.to_string())?;
        self.change(|f| f.relay_log_purge = on);
        Ok(())
    }

    async fn set_gtid_slave_pos(&self, pos: &MariaGtidPos) -> Result<(), DbError> {
        self.call("set_gtid_slave_pos", pos.to_string())?;
        self.change(|f| {
            if let GtidFacts::MariaDb {
                slave_pos,
                current_pos,
                ..
            } = &mut f.gtid
            {
                *slave_pos = pos.clone();
                *current_pos = pos.clone();
            }
        });
        Ok(())
    }

    async fn wait_for(&self, target: &WaitTarget, _limit: Duration) -> Result<bool, DbError> {
        self.call("wait_for", format!("{target:?}"))?;
        Ok(!self.cluster.lock().servers[&self.addr].wait_times_out)
    }

    async fn processlist(&self) -> Result<Vec<Process>, DbError> {
        self.call("processlist", String::new())?;
        Ok(self.cluster.lock().servers[&self.addr].processes.clone())
    }

    async fn kill_connection(&self, id: u64) -> Result<(), DbError> {
        self.call("kill_connection", id.to_string())?;
        self.cluster
            .with(&self.addr, |s| s.processes.retain(|p| p.id != id));
        Ok(())
    }

    async fn transaction_threads(&self) -> Result<Vec<u64>, DbError> {
        self.call("transaction_threads", String::new())?;
        Ok(self.cluster.lock().servers[&self.addr].transactions.clone())
    }

    async fn read_only_exempt_users(&self) -> Result<Vec<String>, DbError> {
        self.call("read_only_exempt_users", String::new())?;
        Ok(self.cluster.lock().servers[&self.addr].exempt_users.clone())
    }

    async fn flush_tables_with_read_lock(&self) -> Result<(), DbError> {
        self.call("flush_tables_with_read_lock", String::new())
    }

    async fn unlock_tables(&self) -> Result<(), DbError> {
        self.call("unlock_tables", String::new())
    }

    async fn close(self: Box<Self>) {}
}
