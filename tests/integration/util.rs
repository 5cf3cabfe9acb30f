//! Helpers: run the built binary, reach the lab, make variant configs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// What a finished `ha-manager` run printed and returned.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for assertions and failure messages.
    pub(crate) fn all(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }
}

pub(crate) fn ha_manager(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_ha-manager"))
        .args(args)
        .output()
        .expect("run ha-manager");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The lab's directory (set by scripts/test.sh).
pub(crate) fn lab_dir() -> PathBuf {
    PathBuf::from(std::env::var("HA_LAB_DIR").unwrap_or_else(|_| "/run/ha-lab".into()))
}

/// Lab tests change the shared cluster: one at a time, even under a parallel runner.
/// A test that fails over leaves the lab changed and marks it so; the next
/// test that needs the original cluster rebuilds it.
pub(crate) fn pristine_lab() -> MutexGuard<'static, ()> {
    let guard = lab_lock();
    if DIRTY.swap(false, std::sync::atomic::Ordering::SeqCst) {
        rebuild_lab("gtid");
    }
    guard
}

static DIRTY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The server the lab runs (`LAB_SERVER` in its `lab.env`: `mariadb-10.11`,
/// `mariadb-11.8`, `mysql-8.4`); a rebuild keeps it.
pub(crate) fn lab_server() -> String {
    std::fs::read_to_string(lab_dir().join("lab.env"))
        .ok()
        .and_then(|env| {
            env.lines()
                .find_map(|l| l.strip_prefix("LAB_SERVER=").map(str::to_owned))
        })
        .unwrap_or_else(|| "mariadb-10.11".into())
}

/// True when the lab runs MySQL (its replicas say `Auto_Position`, not `Using_Gtid`).
pub(crate) fn lab_is_mysql() -> bool {
    lab_server().starts_with("mysql")
}

/// The server's binlog tool, as check-ssh finds it on the lab's hosts.
pub(crate) fn lab_binlog_tool() -> &'static str {
    if lab_is_mysql() {
        "mysqlbinlog"
    } else {
        "mariadb-binlog"
    }
}

/// The variable holding a server's own GTID state (`@@gtid_binlog_pos` on MariaDB).
pub(crate) fn lab_gtid_variable() -> &'static str {
    if lab_is_mysql() {
        "@@gtid_executed"
    } else {
        "@@gtid_binlog_pos"
    }
}

/// What `slave_status` shows for a replica that follows by file and position.
pub(crate) fn lab_filepos_marker() -> &'static str {
    if lab_is_mysql() {
        "Auto_Position: 0"
    } else {
        "Using_Gtid: No"
    }
}

/// Stop replication, point it at `host` by GTID with the lab's replication
/// account, start it: one statement list in the lab server's own syntax.
pub(crate) fn lab_repoint_sql(host: &str) -> String {
    if lab_is_mysql() {
        format!(
            "STOP REPLICA; CHANGE REPLICATION SOURCE TO SOURCE_HOST='{host}', SOURCE_PORT=3306, \
             SOURCE_USER='repl', SOURCE_PASSWORD='replpass', GET_SOURCE_PUBLIC_KEY=1, \
             SOURCE_AUTO_POSITION=1; START REPLICA"
        )
    } else {
        format!(
            "STOP SLAVE; CHANGE MASTER TO MASTER_HOST='{host}', MASTER_PORT=3306, \
             MASTER_USER='repl', MASTER_PASSWORD='replpass', MASTER_USE_GTID=slave_pos; START SLAVE"
        )
    }
}

/// Commits `statement` on `host` as a local write that is binlogged (an
/// errant transaction), and returns the GTID it got, as check-repl prints
/// it. MariaDB: in a domain of its own (9), as DBAs keep local changes, so
/// that `gtid_strict_mode` does not stop replication on the next master
/// GTID; MySQL: the host's own `server_uuid:N`.
pub(crate) fn lab_errant_write(host: &str, statement: &str) -> String {
    if lab_is_mysql() {
        sql(host, statement);
        let uuid = sql(host, "SELECT @@server_uuid").trim().to_owned();
        // `-B` prints the server's newlines as `\n`.
        let executed = sql(host, "SELECT @@gtid_executed")
            .replace("\\n", "")
            .replace('\n', "");
        let mine = executed
            .split(',')
            .map(str::trim)
            .find(|e| e.starts_with(&uuid))
            .unwrap_or_else(|| panic!("{host}: no GTID of {uuid} in {executed}"))
            .to_owned();
        mine
    } else {
        sql(host, &format!("SET SESSION gtid_domain_id=9; {statement}"));
        let state = sql(host, "SELECT @@gtid_binlog_state");
        state
            .trim()
            .split(',')
            .find(|g| g.starts_with("9-"))
            .unwrap_or_else(|| panic!("{host}: no domain-9 GTID in {state}"))
            .to_owned()
    }
}

/// `STOP SLAVE` / `STOP REPLICA`, in the lab server's syntax.
pub(crate) fn lab_stop_replica() -> &'static str {
    if lab_is_mysql() {
        "STOP REPLICA"
    } else {
        "STOP SLAVE"
    }
}

/// `START SLAVE` / `START REPLICA`, in the lab server's syntax.
pub(crate) fn lab_start_replica() -> &'static str {
    if lab_is_mysql() {
        "START REPLICA"
    } else {
        "START SLAVE"
    }
}

/// `RESET SLAVE ALL` / `RESET REPLICA ALL`, in the lab server's syntax.
pub(crate) fn lab_reset_replica_all() -> &'static str {
    if lab_is_mysql() {
        "RESET REPLICA ALL"
    } else {
        "RESET SLAVE ALL"
    }
}

/// The replica's network timeout variable (`replica_net_timeout` on MySQL 8.0.26+).
pub(crate) fn lab_net_timeout_variable() -> &'static str {
    if lab_is_mysql() {
        "replica_net_timeout"
    } else {
        "slave_net_timeout"
    }
}

/// Sets the replication heartbeat period (replication must be stopped).
pub(crate) fn lab_heartbeat_sql(period: f64) -> String {
    if lab_is_mysql() {
        format!("CHANGE REPLICATION SOURCE TO SOURCE_HEARTBEAT_PERIOD={period}")
    } else {
        format!("CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD={period}")
    }
}

/// Sets the `Replicate_Ignore_DB` filter to `db` (empty: no filter);
/// replication must be stopped. MariaDB has a global variable, MySQL
/// `CHANGE REPLICATION FILTER`.
pub(crate) fn lab_ignore_db_sql(db: &str) -> String {
    match (lab_is_mysql(), db.is_empty()) {
        (true, true) => "CHANGE REPLICATION FILTER REPLICATE_IGNORE_DB=()".into(),
        (true, false) => format!("CHANGE REPLICATION FILTER REPLICATE_IGNORE_DB=({db})"),
        (false, _) => format!("SET GLOBAL replicate_ignore_db='{db}'"),
    }
}

/// A fresh lab (about 3 s); the cluster counts as changed until the next rebuild.
pub(crate) fn rebuild_lab(mode: &str) {
    let server = lab_server();
    let out = Command::new("bash")
        .arg(repo().join("scripts/lab/up.sh"))
        .args(["--hosts", "3", "--mode", mode, "--server", &server, "--dir"])
        .arg(lab_dir())
        .output()
        .expect("run up.sh");
    assert!(
        out.status.success(),
        "up.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    DIRTY.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// A fresh lab of `hosts` hosts in `topology` (`star`, `dual-master`,
/// `tiers`: see `scripts/lab/README.md`); counts as changed, like [`rebuild_lab`].
pub(crate) fn rebuild_lab_topology(mode: &str, hosts: u32, topology: &str) {
    let server = lab_server();
    let out = Command::new("bash")
        .arg(repo().join("scripts/lab/up.sh"))
        .args(["--mode", mode, "--server", &server, "--topology", topology])
        .args(["--hosts", &hosts.to_string(), "--dir"])
        .arg(lab_dir())
        .output()
        .expect("run up.sh");
    assert!(
        out.status.success(),
        "up.sh --topology {topology}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    DIRTY.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// A fresh 3-host lab brought up with `up.sh --tls` (the lab CA's certificates
/// on every server, the repl account `REQUIRE SSL`, replicas over TLS checking
/// their source); counts as changed, like [`rebuild_lab`], so the next test
/// gets a lab on server defaults again.
pub(crate) fn rebuild_lab_tls(mode: &str) {
    let server = lab_server();
    let out = Command::new("bash")
        .arg(repo().join("scripts/lab/up.sh"))
        .args([
            "--hosts", "3", "--mode", mode, "--server", &server, "--tls", "--dir",
        ])
        .arg(lab_dir())
        .output()
        .expect("run up.sh");
    DIRTY.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(
        out.status.success(),
        "up.sh --tls: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn lab_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        lab_dir().join("app1.cnf").exists(),
        "no lab at {}: run scripts/test.sh (it brings the lab up)",
        lab_dir().display()
    );
    guard
}

pub(crate) fn lab_conf() -> PathBuf {
    lab_dir().join("app1.cnf")
}

fn lab_script(name: &str, args: &[&str]) -> String {
    let dir = lab_dir();
    let out = Command::new("bash")
        .arg(repo().join("scripts/lab").join(name))
        .arg("--dir")
        .arg(&dir)
        .args(args)
        .output()
        .expect("run lab script");
    assert!(
        out.status.success(),
        "lab {name} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A lab fault action (`kill-mysqld`, `stop-sql`, `stop-sshd`, ...).
pub(crate) fn fault(action: &str, host: &str) {
    lab_script("fault.sh", &[action, host]);
}

/// A fault that takes an argument (`throttle db1 4000`).
pub(crate) fn fault_with(action: &str, host: &str, arg: &str) {
    lab_script("fault.sh", &[action, host, arg]);
}

/// Runs SQL on a lab host (`db2` or `198.18.0.12`) through its local socket.
pub(crate) fn sql(host: &str, statement: &str) -> String {
    lab_script("sql.sh", &[&lab_name(host), statement])
}

/// `198.18.0.12` → `db2`; names pass through.
pub(crate) fn lab_name(host: &str) -> String {
    match host.strip_prefix("198.18.0.1") {
        Some(n) if n.len() == 1 => format!("db{n}"),
        _ => host.to_owned(),
    }
}

/// `SHOW SLAVE STATUS\G` on a lab host, with column names (MariaDB's names on
/// every server: `sql.sh --replica-status` maps MySQL's `Source_`/`Replica_`).
pub(crate) fn slave_status(host: &str) -> String {
    let out = Command::new("bash")
        .arg(repo().join("scripts/lab/sql.sh"))
        .arg("--dir")
        .arg(lab_dir())
        .arg("--replica-status")
        .arg(lab_name(host))
        .output()
        .expect("run sql.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits (bounded) until `check` holds, polling every 200 ms.
pub(crate) fn wait_until(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("timed out after {secs}s waiting for {what}");
}

/// Writes a copy of `source` with `edit` applied, as `<dir>/app1.cnf`.
pub(crate) fn variant(source: &Path, dir: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(source).expect("read config");
    let path = dir.join("app1.cnf");
    std::fs::write(&path, edit(text)).expect("write config");
    path
}

/// Runs a closure when dropped: restores the lab even when an assertion fails.
pub(crate) struct Restore<F: FnMut()>(pub F);

impl<F: FnMut()> Drop for Restore<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// ssh master processes ha-manager started (their control sockets live in
/// its private `/tmp/ha-ssh.*` directory), by pid.
pub(crate) fn ssh_masters() -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.first().is_some_and(|a| a == "ssh")
            && args.iter().any(|a| a == "-M")
            && args.iter().any(|a| a.starts_with("/tmp/ha-ssh."))
        {
            pids.push(pid);
        }
    }
    pids
}
