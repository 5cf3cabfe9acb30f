#!/usr/bin/env python3
"""ha-manager vs MHA 0.58 on the project's lab: one run at a time.

Subcommands (scripts/bench/run.sh drives them; every lab-using one runs under
`flock /run/ha-lab.lock`):

  prepare-mha --work DIR          private patched copies of MHA's Perl modules (PERL5LIB)
  run-one --tool ha|mha --scenario S --run N --work DIR [--ping-interval 1|3]
                                  rebuild the lab, start the writer, run one scenario, write a JSON
  idle --tool ha|mha --seconds N --work DIR
                                  rebuild the lab, let the manager monitor, measure RSS and CPU
  report --work DIR --results DIR tables (Markdown, JSON) and the chart from the per-run JSONs

Clock: every time is time.monotonic() (CLOCK_MONOTONIC) of this machine; the
writer records the same clock. Log lines are timestamped when they ARRIVE on the
manager's stdout/stderr pipe (both tools log to stderr here, unbuffered), so both
tools are timed the same way whatever their own log timestamp precision is.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# run.sh runs a snapshot of this file from the work dir and says where the repository is.
REPO = Path(os.environ.get("BENCH_REPO", HERE.parent.parent))
LAB = REPO / "scripts" / "lab"
LAB_DIR = Path(os.environ.get("BENCH_LAB_DIR", "/run/ha-lab"))
IPS = {"db1": "198.18.0.11", "db2": "198.18.0.12", "db3": "198.18.0.13"}
NAMES = {v: k for k, v in IPS.items()}
HOSTS = [IPS["db1"], IPS["db2"], IPS["db3"]]
ADMIN = ("hauser", "hapass")

SCENARIOS = {
    # name: (lab mode, description)
    "kill9": ("gtid", "mysqld kill -9 on the master (host reachable)"),
    "linkdown": ("gtid", "master host's link down (server defaults: slave_net_timeout=60)"),
    "lag-gtid": ("gtid", "lagging slave (db3 IO thread stopped 3 s before the kill), GTID mode"),
    "lag-filepos": ("filepos", "lagging slave (db3 IO thread stopped 3 s before the kill), file/position mode"),
    "switch": ("gtid", "online switchover db1 -> db2 under writes"),
    "binlog1g": ("gtid", "kill -9 of a master whose binlog file holds ~1 GB (slaves caught up)"),
    "relaylog-filepos": ("filepos", "file/position, db3 IO thread stopped while ~500 MB are written "
                                    "(db2's relay log holds them), then kill -9"),
    "bigtx": ("gtid", "kill -9 right after a ~50 MB transaction commits on the master "
                      "(the slaves still receive and apply it)"),
    "sqlstop-filepos": ("filepos", "file/position, db3 SQL thread stopped 5 s before the kill "
                                   "(received everything, applied little)"),
}
# Scenarios that move hundreds of MB: bigger tmpfs limits for the hosts' datadir and /tmp
# (up.sh's LAB_DATA_SIZE / LAB_TMP_SIZE; limits, not reservations) and longer bounds.
BIG_BINLOG_MIB = 1000   # stays below max_binlog_size (1 GiB, the default): one file
BIG_RELAY_MIB = 500
BIGTX_ROWS = 50_000     # x ~1 KB = ~50 MB in one transaction
HEAVY = {
    "binlog1g": {"LAB_DATA_SIZE": "4g", "LAB_TMP_SIZE": "2g"},
    "relaylog-filepos": {"LAB_DATA_SIZE": "3g", "LAB_TMP_SIZE": "2g"},
}
# Bound on the manager's run after the fault (s); run.sh bounds the whole run (RUN_LIMIT).
AFTER_FAULT_LIMIT = {"binlog1g": 240, "relaylog-filepos": 300}
TOOLS = {"ha": "ha-manager", "mha": "MHA 0.58"}

# Log lines: when the tool declares the master dead, and when it says it is done.
DETECT = {"ha": re.compile(r"is dead:"), "mha": re.compile(r"\[info\] Master is down!")}
DONE = {"ha": re.compile(r"completed successfully|Master failover completed"),
        "mha": re.compile(r"Master failover to .* completed successfully")}
READY = {"ha": re.compile(r"Monitoring "),
         "mha": re.compile(r"Ping\(\w+\) succeeded, waiting until MySQL doesn't respond")}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- lab helpers

def lab(script, *args, check=True, timeout=120, env=None):
    r = subprocess.run(["bash", str(LAB / script), "--dir", str(LAB_DIR), *args],
                       capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **env) if env else None)
    if check and r.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r.stdout


def lab_up(mode, env=None):
    t = time.monotonic()
    lab("up.sh", "--hosts", "3", "--mode", mode, timeout=180, env=env)
    log(f"lab up ({mode}{''.join(f', {k}={v}' for k, v in (env or {}).items())}) "
        f"in {time.monotonic() - t:.1f}s")


def root_sql(host_name, q):
    return lab("sql.sh", host_name, q)


def db(host, timeout=1.0, user=ADMIN):
    import pymysql
    return pymysql.connect(host=host, port=3306, user=user[0], password=user[1],
                           autocommit=True, connect_timeout=timeout,
                           read_timeout=timeout, write_timeout=timeout)


def query(host, q, timeout=2.0):
    c = db(host, timeout)
    try:
        with c.cursor() as cur:
            cur.execute(q)
            return cur.fetchall()
    finally:
        c.close()


def lab_setup_common(work):
    """After up.sh: the application user, and PERL5LIB for MHA's node tools on every host."""
    root_sql("db1", "CREATE USER IF NOT EXISTS 'app'@'198.18.0.%' IDENTIFIED BY 'apppass'; "
                    "GRANT SELECT, INSERT ON test.* TO 'app'@'198.18.0.%'; "
                    # the big-data scenarios' tables (empty elsewhere; every run compares them)
                    "CREATE TABLE IF NOT EXISTS test.big (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB; "
                    "CREATE TABLE IF NOT EXISTS test.bigtx (id INT PRIMARY KEY, v VARCHAR(1000)) "
                    "ENGINE=InnoDB")
    # The user and tables replicate; wait until the slaves have them (the writer may go there later).
    deadline = time.monotonic() + 20
    for name in ("db2", "db3"):
        while root_sql(name, "SELECT (SELECT COUNT(*) FROM mysql.user WHERE user='app') + "
                             "(SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='test' "
                             "AND TABLE_NAME IN ('big', 'bigtx'))").strip() != "3":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: the app user or test.big/test.bigtx did not replicate")
            time.sleep(0.1)
    # MHA runs save_binary_logs / apply_diff_relay_logs over ssh as plain commands; the
    # hosts' root shell (bash, run by sshd) reads ~/.bashrc, which lives in each host's
    # private /root tmpfs (rebuilt with the lab). Only an environment variable is set;
    # nothing under /usr changes. Done for both tools so the hosts are identical.
    lib = mha_lib(work)
    for name in IPS:
        lab("hostexec.sh", name, "sh", "-c",
            f"echo 'export PERL5LIB={lib}' >> /root/.bashrc")


# ----------------------------------------------------------------------------- MHA private fixes

# (file, what and why, exact old text, new text). Smallest changes that let MHA 0.58
# (Debian 12 mha4mysql 0.58-1.1) run against MariaDB 10.11. Applied to private copies.
MHA_FIXES = [
    ("NodeUtil.pm",
     "parse_mysql_version: use only the first three numbers of the version string "
     "('10.11.19-MariaDB-0+deb12u1-log' has six; Perl >= 5.22 warns 'Redundant argument in "
     "sprintf' and MHA's `use warnings FATAL => 'all'` makes every MHA command die on it)",
     "  my $result = sprintf( '%03d%03d%03d', $str =~ m/(\\d+)/g );",
     "  my $result = sprintf( '%03d%03d%03d', ( $str =~ m/(\\d+)/g )[ 0 .. 2 ] );"),
    ("NodeUtil.pm",
     "parse_mysql_major_version: use only the first two numbers (same error)",
     "  my $result = sprintf( '%03d%03d', $str =~ m/(\\d+)/g );",
     "  my $result = sprintf( '%03d%03d', ( $str =~ m/(\\d+)/g )[ 0 .. 1 ] );"),
    ("SlaveUtil.pm",
     "check_if_super_read_only: MariaDB has no super_read_only; read it with SHOW GLOBAL "
     "VARIABLES (no row = not enabled) instead of SELECT @@global.super_read_only, which fails "
     "with 'Unknown system variable' (apply_diff_relay_logs --command=test fails, so "
     "masterha_check_repl / masterha_manager refuse to start; also used before every log apply)",
     """  my $sth = $dbh->prepare("SELECT \\@\\@global.super_read_only as Value");
  $sth->execute();
  my $href = $sth->fetchrow_hashref;
  if ( $href->{Value} == '1' ) {""",
     """  my $sth = $dbh->prepare("SHOW GLOBAL VARIABLES LIKE 'super_read_only'");
  $sth->execute();
  my $href = $sth->fetchrow_hashref;
  if ( $href && ( $href->{Value} eq 'ON' || $href->{Value} eq '1' ) ) {"""),
]
MHA_SRC = Path("/usr/share/perl5/MHA")


def mha_lib(work):
    return Path(work).resolve() / "mha-lib"


def prepare_mha(args):
    lib = mha_lib(args.work)
    dest = lib / "MHA"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    texts = {}
    for fname, why, old, new in MHA_FIXES:
        if fname not in texts:
            texts[fname] = (MHA_SRC / fname).read_text()
        n = texts[fname].count(old)
        if n != 1:
            raise SystemExit(f"MHA fix for {fname} does not apply (found {n} matches): {why}")
        texts[fname] = texts[fname].replace(old, new)
    for fname, text in texts.items():
        (dest / fname).write_text(text)
    # Prove they compile and are the ones loaded.
    env = dict(os.environ, PERL5LIB=str(lib))
    for fname in texts:
        mod = "MHA::" + fname[:-3]
        r = subprocess.run(["perl", "-e", f"use {mod}; print $INC{{'MHA/{fname}'}}"],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0 or not r.stdout.startswith(str(lib)):
            raise SystemExit(f"patched {mod} does not load from {lib}: {r.stdout}{r.stderr}")
    fixes = [{"file": f"/usr/share/perl5/MHA/{f}", "fix": why} for f, why, _, _ in MHA_FIXES]
    (lib / "FIXES.json").write_text(json.dumps(fixes, indent=1))
    diff = "".join(subprocess.run(["diff", "-u", str(MHA_SRC / f), str(dest / f)],
                                  capture_output=True, text=True).stdout for f in texts)
    (lib / "FIXES.diff").write_text(diff)
    print(f"MHA 0.58 fixes applied to private copies in {lib} (PERL5LIB; /usr untouched):")
    for f in fixes:
        print(f"  - {f['file']}: {f['fix']}")


# ----------------------------------------------------------------------------- processes

SUBREAPER = ("import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); "
             "os.execvp(sys.argv[1], sys.argv[1:])")


class Proc:
    """A manager (or switch command) in its own session, its output lines timestamped on arrival.

    It is started through a tiny launcher that makes it a child subreaper (PR_SET_CHILD_SUBREAPER,
    kept across exec), so helpers that daemonize (ha-manager's `ssh -f` control masters) stay in
    its process tree: resource use is summed over that tree, and cleanup finds them."""

    def __init__(self, argv, logpath, env=None):
        self.lines = []
        self.logf = open(logpath, "w", buffering=1)
        self.p = subprocess.Popen([sys.executable, "-c", SUBREAPER, *argv],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        self.t_start = time.monotonic()
        self.pid = self.p.pid
        self.rc = None
        # Peak memory, two ways: the kernel's high-water mark of the manager process (wait4's
        # ru_maxrss: the largest of it and the descendants it reaped), exact, known at exit; and
        # the sum of PSS over its live process tree (forked children's shared pages counted
        # once), sampled every 0.25 s.
        self.maxrss_kb = None
        self.tree_pss_kb_max = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()

    def _sample(self):
        while self.rc is None:
            total = sum(proc_pss_kb(p) for p in proc_tree(self.pid))
            self.tree_pss_kb_max = max(self.tree_pss_kb_max, total)
            time.sleep(0.25)

    def poll(self):
        """Reap the manager with wait4 (for its ru_maxrss) once it has exited; its exit code or None."""
        if self.rc is None:
            try:
                pid, status, ru = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid = 0
                if self.p.returncode is not None:
                    self.rc = self.p.returncode
            if pid == self.pid:
                self.rc = os.waitstatus_to_exitcode(status)
                self.maxrss_kb = ru.ru_maxrss
                self.p.returncode = self.rc
        return self.rc

    def _read(self):
        for raw in self.p.stdout:
            t = time.monotonic()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append((t, line))
            self.logf.write(f"{t:.3f} {line}\n")

    def first(self, rx, after=0.0):
        for t, line in list(self.lines):
            if t >= after and rx.search(line):
                return t
        return None

    def wait_line(self, rx, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            t = self.first(rx)
            if t is not None:
                return t
            if self.poll() is not None:
                time.sleep(0.2)
                return self.first(rx)
            time.sleep(0.05)
        return None

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            rc = self.poll()
            if rc is not None or time.monotonic() >= deadline:
                return rc
            time.sleep(0.05)

    def memory(self):
        """Peak memory of the manager, in MiB (see __init__); None where not known."""
        return {"peak_rss_mib": None if self.maxrss_kb is None else round(self.maxrss_kb / 1024, 1),
                "peak_tree_pss_mib": round(self.tree_pss_kb_max / 1024, 1)}

    def tree(self):
        return proc_tree(self.pid)

    def stop(self):
        """SIGTERM the manager, then SIGKILL whatever is left of its tree (our processes only)."""
        pids = self.tree()
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait(10) is None:
                pids = self.tree()
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.wait(5)
        # Helpers still alive after the manager exited (they were in its tree).
        for pid in pids:
            if pid != self.pid and pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        self.reader.join(2)
        self.logf.close()

    def text(self):
        return "\n".join(line for _, line in self.lines)


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def proc_children():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            kids.setdefault(int(rest[1]), []).append(int(d))
        except OSError:
            pass
    return kids


def proc_tree(root):
    kids = proc_children()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def proc_cpu_ticks(pid):
    """utime+stime+cutime+cstime (own and reaped children's CPU) in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        # fields after the comm: state=0 ... utime=11 stime=12 cutime=13 cstime=14
        return int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
    except (OSError, IndexError):
        return None


def proc_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_pss_kb(pid):
    """Proportional set size: shared pages (a forked child's copy-on-write pages) split
    between the processes that share them, so a sum over processes is not inflated."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


# ----------------------------------------------------------------------------- writer + poller

class Writer:
    def __init__(self, path):
        self.path = path
        self.p = subprocess.Popen([sys.executable, str(HERE / "writer.py"), "--hosts", ",".join(HOSTS),
                                   "--out", str(path)], stdin=subprocess.DEVNULL)

    def acks(self):
        rows = []
        try:
            with open(self.path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 3:
                        rows.append((int(parts[0]), parts[1], float(parts[2])))
        except OSError:
            pass
        return rows

    def wait_rows(self, n, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.acks()) >= n:
                return True
            if self.p.poll() is not None:
                raise RuntimeError("the writer exited")
            time.sleep(0.05)
        return False

    def first_on(self, host, after):
        for i, h, t in self.acks():
            if h == host and t >= after:
                return t
        return None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.acks()


class Poller:
    """Polls every host's role every 50 ms (as the admin user, over TCP) and records changes:
    (t, read_only, master_host, io_running, sql_running), None = unreachable."""

    def __init__(self, hosts, interval=0.05):
        self.hosts = hosts
        self.interval = interval
        self.changes = {h: [] for h in hosts}
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(h,), daemon=True) for h in hosts]
        for th in self.threads:
            th.start()

    def _run(self, host):
        import pymysql
        conn = None
        last = object()
        while not self.stop_ev.is_set():
            t0 = time.monotonic()
            state = None
            try:
                if conn is None:
                    conn = db(host, timeout=0.3)
                with conn.cursor(pymysql.cursors.DictCursor) as cur:
                    cur.execute("SELECT @@read_only AS ro")
                    ro = int(cur.fetchone()["ro"])
                    cur.execute("SHOW SLAVE STATUS")
                    s = cur.fetchone()
                t = time.monotonic()
                state = (ro, s["Master_Host"], s["Slave_IO_Running"], s["Slave_SQL_Running"]) if s \
                    else (ro, None, None, None)
            except Exception:
                t = time.monotonic()
                try:
                    if conn is not None:
                        conn.close()
                except Exception:
                    pass
                conn = None
            if state != last:
                self.changes[host].append((t, state))
                last = state
            dt = time.monotonic() - t0
            if dt < self.interval:
                self.stop_ev.wait(self.interval - dt)
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def first_following(self, host, master, after):
        """First time `host` replicated from `master` with both threads running, at or after `after`."""
        for t, st in self.changes[host]:
            if st and st[1] == master and st[2] == "Yes" and st[3] == "Yes":
                if t >= after:
                    return t
                # already following before `after`: only counts if it still is at `after`
        cur = None
        for t, st in self.changes[host]:
            if t <= after:
                cur = st
        if cur and cur[1] == master and cur[2] == "Yes" and cur[3] == "Yes":
            return after
        return None

    def following_now(self, host, master):
        ch = self.changes[host]
        if not ch:
            return False
        st = ch[-1][1]
        return bool(st and st[1] == master and st[2] == "Yes" and st[3] == "Yes")

    def stop(self):
        self.stop_ev.set()
        for th in self.threads:
            th.join(2)


# ----------------------------------------------------------------------------- configs and commands

def ha_bin():
    b = os.environ.get("HA_MANAGER_BIN")
    if not b:
        raise SystemExit("HA_MANAGER_BIN is not set (run.sh sets it)")
    return b


def ha_conf(rundir, ping_interval):
    text = (LAB_DIR / "app1.cnf").read_text()
    text = re.sub(r"(?m)^ping_interval=.*$", f"ping_interval={ping_interval}", text)
    workdir = rundir / "ha-work"
    workdir.mkdir(exist_ok=True)
    text = re.sub(r"(?m)^manager_workdir=.*$", f"manager_workdir={workdir}", text)
    p = rundir / "ha-app1.cnf"
    p.write_text(text)
    return p


def mha_conf(rundir, ping_interval):
    workdir = rundir / "mha-work"
    workdir.mkdir(exist_ok=True)
    text = f"""[server default]
user={ADMIN[0]}
password={ADMIN[1]}
repl_user=repl
repl_password=replpass
ssh_user=root
ssh_options=-i {LAB_DIR}/id_ed25519 -o UserKnownHostsFile={LAB_DIR}/known_hosts
manager_workdir={workdir}
remote_workdir=/tmp
master_binlog_dir=/var/lib/mysql
ping_interval={ping_interval}

[server1]
hostname={IPS['db1']}

[server2]
hostname={IPS['db2']}
candidate_master=1

[server3]
hostname={IPS['db3']}
"""
    p = rundir / "mha-app1.cnf"
    p.write_text(text)
    return p


def mha_env(work):
    return dict(os.environ, PERL5LIB=str(mha_lib(work)))


def start_manager(tool, conf, rundir, work):
    if tool == "ha":
        argv = [ha_bin(), "start", "--conf", str(conf), "--exit-after-failover", "--ignore-last-failover"]
        env = None
    else:
        argv = ["masterha_manager", f"--conf={conf}", "--ignore_last_failover"]
        env = mha_env(work)
    return Proc(argv, rundir / f"{tool}-manager.log", env)


def switch_argv(tool, conf):
    new = IPS["db2"]
    if tool == "ha":
        return [ha_bin(), "switch", "--conf", str(conf), "--master-state", "alive",
                "--new-master-host", new, "--orig-master-is-new-slave", "--yes"]
    return ["masterha_master_switch", f"--conf={conf}", "--master_state=alive",
            f"--new_master_host={new}", "--orig_master_is_new_slave", "--interactive=0"]


def ha_has_alive_switch():
    try:
        r = subprocess.run([ha_bin(), "switch", "--help"], capture_output=True, text=True, timeout=10)
    except Exception:
        return False
    # clap lists the values as "- alive: ..." (long help) or "[possible values: dead, alive]"
    text = r.stdout + r.stderr
    return re.search(r"(?m)^\s*-\s*alive\b|possible values:[^\]]*\balive\b", text) is not None


# ----------------------------------------------------------------------------- one run

def tail_errors(text, n=8):
    lines = [l for l in text.splitlines() if re.search(r"error|fail|die|abort|refus", l, re.I)]
    return lines[-n:]


def run_one(args):
    work = Path(args.work).resolve()
    rundir = work / "runs" / f"{args.scenario}-{args.run:02d}-{args.tool}"
    if rundir.exists():
        shutil.rmtree(rundir)
    rundir.mkdir(parents=True)
    res = {"tool": args.tool, "scenario": args.scenario, "run": args.run,
           "ping_interval": args.ping_interval, "ok": False, "error": None,
           "rundir": str(rundir), **lock_wait()}
    t_begin = time.monotonic()
    out = Path(args.out) if args.out else rundir / "result.json"

    if args.scenario == "switch" and args.tool == "ha" and not ha_has_alive_switch():
        res["error"] = "ha-manager: not available in this build"
        res["unavailable"] = True
        out.write_text(json.dumps(res, indent=1))
        print(res["error"])
        return 0

    mode = SCENARIOS[args.scenario][0]
    writer = poller = mgr = None
    try:
        lab_up(mode, HEAVY.get(args.scenario))
        lab_setup_common(work)
        facts = server_facts(IPS["db2"])
        res["server"] = facts.pop("server")
        res["settings"] = facts
        if args.scenario == "binlog1g":
            # Before the writer and the manager: the master's binlog file is ~1 GB at the kill,
            # and every slave has executed all of it (the data to save is the last second's).
            res.update(fill_binlog(IPS["db1"], BIG_BINLOG_MIB))
            wait_caught_up([IPS["db2"], IPS["db3"]], IPS["db1"], 240)
        conf = (ha_conf if args.tool == "ha" else mha_conf)(rundir, args.ping_interval)
        writer = Writer(rundir / "acks.txt")
        if not writer.wait_rows(200, 30):
            raise RuntimeError("the writer did not get 200 rows acknowledged in 30 s")
        poller = Poller(HOSTS)
        if args.scenario == "switch":
            run_switch(args, res, conf, rundir, writer, poller)
        else:
            mgr = start_manager(args.tool, conf, rundir, work)
            run_failover(args, res, mgr, writer, poller)
    except Exception as e:  # recorded, not hidden
        res["error"] = f"{type(e).__name__}: {e}"
    except KeyboardInterrupt:  # SIGTERM from run.sh's bound on the run (or Ctrl-C)
        res["error"] = (f"stopped after {time.monotonic() - t_begin:.0f} s by the run's time limit "
                        f"(run.sh) or an interrupt")
    finally:
        if mgr is not None:
            mgr.stop()
            res["exit_code"] = mgr.rc
            res.update(mgr.memory())
        if poller is not None:
            poller.stop()
            res["poll_changes"] = {NAMES[h]: [(round(t, 3), st) for t, st in ch]
                                   for h, ch in poller.changes.items()}
        if writer is not None:
            writer.stop()
    res["wall_s"] = round(time.monotonic() - t_begin, 1)
    out.write_text(json.dumps(res, indent=1, default=str))
    summary = {k: res.get(k) for k in ("tool", "scenario", "run", "ok", "t_detect", "t_writable",
                                        "t_repointed", "t_done", "write_gap", "lost", "lag_rows",
                                        "slaves_consistent", "peak_rss_mib", "error")}
    print(json.dumps(summary))
    return 0


def lock_wait():
    """How long run.sh waited for the lab lock before this run (BENCH_QUEUED_AT, epoch seconds)."""
    try:
        return {"lock_wait_s": round(time.time() - float(os.environ["BENCH_QUEUED_AT"]), 1)}
    except (KeyError, ValueError):
        return {}


MIB = 1024 * 1024


def master_pos(host):
    """(file, position) of SHOW MASTER STATUS on `host`."""
    row = query(host, "SHOW MASTER STATUS", timeout=10)[0]
    return row[0], int(row[1])


def wait_caught_up(slaves, master, timeout):
    """Every slave in `slaves` has executed the master's binlog up to its current position."""
    f, pos = master_pos(master)
    deadline = time.monotonic() + timeout
    for h in slaves:
        left = max(1, int(deadline - time.monotonic()))
        r = query(h, f"SELECT MASTER_POS_WAIT('{f}', {pos}, {left})", timeout=left + 10)[0][0]
        if r is None or int(r) < 0:
            raise RuntimeError(f"{NAMES[h]} did not execute the master's binlog up to {f}:{pos} "
                               f"within {timeout} s (MASTER_POS_WAIT returned {r})")
    return f, pos


def fill_binlog(master, mib, timeout=300):
    """Grow the master's current binlog file by `mib` MiB: INSERT, then DELETE, 4 MiB rows of
    test.big (row format logs the whole row both times), so the binlog (and every slave's relay
    log and binlog) grows while the table stays empty. Returns what was written."""
    t0 = time.monotonic()
    f0, p0 = master_pos(master)
    target = p0 + mib * MIB
    c = db(master, timeout=60)
    n = 0
    try:
        with c.cursor() as cur:
            pos = p0
            while pos < target:
                if time.monotonic() - t0 > timeout:
                    raise RuntimeError(f"filling the binlog: only {(pos - p0) / MIB:.0f} of {mib} MiB "
                                       f"in {timeout} s")
                n += 1
                cur.execute("INSERT INTO test.big (id, b) VALUES (%s, REPEAT(MD5(%s), 131072))", (n, n))
                cur.execute("DELETE FROM test.big WHERE id = %s", (n,))
                cur.execute("SHOW MASTER STATUS")
                f, pos = cur.fetchone()[:2]
                if f != f0:
                    raise RuntimeError(f"the binlog rotated from {f0} to {f} while filling it")
    finally:
        c.close()
    dt = time.monotonic() - t0
    log(f"binlog {f0} grew by {(pos - p0) / MIB:.0f} MiB to {pos / MIB:.0f} MiB ({n} rows of 4 MiB "
        f"inserted and deleted) in {dt:.1f}s")
    return {"binlog_file": f0, "binlog_mib": round(pos / MIB, 1), "written_mib": round((pos - p0) / MIB, 1),
            "fill_s": round(dt, 1)}


def big_transaction(master, rows):
    """One transaction of `rows` rows of ~1 KB into test.bigtx (MariaDB's sequence engine makes
    the rows); returns when the commit is acknowledged."""
    f, p0 = master_pos(master)
    c = db(master, timeout=300)
    try:
        with c.cursor() as cur:
            t0 = time.monotonic()
            cur.execute(f"INSERT INTO test.bigtx (id, v) SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) "
                        f"FROM test.seq_1_to_{int(rows)}")
            t1 = time.monotonic()
    finally:
        c.close()
    return {"bigtx_rows": rows, "bigtx_commit_s": round(t1 - t0, 2), "t_bigtx_acked": t1,
            "bigtx_binlog_mib": round((master_pos(master)[1] - p0) / MIB, 1)}


def slave_status(host):
    import pymysql
    c = db(host, timeout=10)
    try:
        with c.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            return cur.fetchone() or {}
    finally:
        c.close()


def server_facts(host):
    """The server and the settings that matter here, as the lab left them (its defaults)."""
    row = query(host, "SELECT VERSION(), @@slave_net_timeout, @@max_binlog_size, @@max_relay_log_size, "
                      "@@binlog_format, @@relay_log_purge", timeout=10)[0]
    return {"server": server_name(row[0]), "slave_net_timeout": int(row[1]),
            "max_binlog_size": int(row[2]), "max_relay_log_size": int(row[3]), "binlog_format": row[4],
            "relay_log_purge": int(row[5])}


def server_name(version):
    """'10.11.19-MariaDB-0+deb12u1-log' -> 'MariaDB 10.11.19'; '9.7.0' -> 'MySQL 9.7.0'."""
    m = re.match(r"(\d+\.\d+\.\d+)", version or "")
    num = m.group(1) if m else (version or "?")
    return f"{'MariaDB' if 'mariadb' in (version or '').lower() else 'MySQL'} {num}"


def find_new_master(candidates):
    for h in candidates:
        try:
            rows = query(h, "SELECT @@read_only")
            if int(rows[0][0]) == 0:
                return h
        except Exception:
            pass
    return None


def count_lost(acks, new_master):
    present = {int(r[0]) for r in query(new_master, "SELECT id FROM test.t", timeout=10)}
    lost = [i for i, _, _ in acks if i not in present]
    return lost


BENCH_TABLES = ("test.t", "test.big", "test.bigtx")


def same_table(master, others, timeout=15, tables=BENCH_TABLES):
    """Every other server ends up with the new master's tables (CHECKSUM TABLE; the writer has
    stopped). A table the new master lacks is skipped (CHECKSUM TABLE gives NULL for it)."""
    deadline = time.monotonic() + timeout
    q = "CHECKSUM TABLE " + ", ".join(tables)
    while True:
        try:
            want = query(master, q, timeout=30)
            if all(query(o, q, timeout=30) == want for o in others):
                return True
        except Exception:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def run_failover(args, res, mgr, writer, poller):
    tool = args.tool
    t_ready = mgr.wait_line(READY[tool], 90)
    if t_ready is None:
        raise RuntimeError(f"{TOOLS[tool]} did not start monitoring: {tail_errors(mgr.text())}")
    res["t_start_to_monitoring"] = round(t_ready - mgr.t_start, 3)
    time.sleep(2.0)  # a few pings in steady state
    if mgr.poll() is not None:
        raise RuntimeError(f"{TOOLS[tool]} exited before the fault: {tail_errors(mgr.text())}")

    sc = args.scenario
    n_stop = None
    if sc.startswith("lag") or sc == "relaylog-filepos":
        lab("fault.sh", "stop-io", "db3")
        n_stop = len(writer.acks())
        if sc == "relaylog-filepos":
            # db2 receives (and executes) ~500 MB that db3 never gets: its relay log holds them
            res.update(fill_binlog(IPS["db1"], BIG_RELAY_MIB))
            wait_caught_up([IPS["db2"]], IPS["db1"], 240)
            st2, st3 = slave_status(IPS["db2"]), slave_status(IPS["db3"])
            res["relay_log_space_db2_mib"] = round(int(st2.get("Relay_Log_Space") or 0) / MIB, 1)
            _, mpos = master_pos(IPS["db1"])
            if st3.get("Master_Log_File") == res["binlog_file"]:
                res["db3_behind_mib"] = round((mpos - int(st3["Read_Master_Log_Pos"])) / MIB, 1)
        else:
            time.sleep(3.0)
    elif sc == "sqlstop-filepos":
        lab("fault.sh", "stop-sql", "db3")
        n_stop = len(writer.acks())
        time.sleep(5.0)
    elif sc == "bigtx":
        res.update(big_transaction(IPS["db1"], BIGTX_ROWS))
    if mgr.poll() is not None:
        raise RuntimeError(f"{TOOLS[tool]} exited before the fault: {tail_errors(mgr.text())}")
    t_fault = time.monotonic()
    if "t_bigtx_acked" in res:
        res["bigtx_acked_before_fault_s"] = round(t_fault - res.pop("t_bigtx_acked"), 3)
    action = "link-down" if sc == "linkdown" else "kill-mysqld"
    lab("fault.sh", action, "db1")
    res["fault_cmd_s"] = round(time.monotonic() - t_fault, 3)
    res["fault"] = f"{action} db1"
    if n_stop is not None:
        # rows acknowledged while db3's IO (SQL) thread was stopped: db3 never received
        # (never executed) them
        res["lag_rows"] = sum(1 for _, _, t in writer.acks() if t < t_fault) - n_stop

    limit = AFTER_FAULT_LIMIT.get(sc, 120)
    code = mgr.wait(limit)
    t_exit = time.monotonic()
    res["manager_exit_s"] = round(t_exit - t_fault, 3) if code is not None else None
    if code is None:
        raise RuntimeError(f"{TOOLS[tool]} still running {limit} s after the fault: "
                           f"{tail_errors(mgr.text())}")
    res["exit_code"] = code
    new = find_new_master([IPS["db2"], IPS["db3"]])
    res["new_master"] = new
    t_detect = mgr.first(DETECT[tool], t_fault)
    t_done = mgr.first(DONE[tool], t_fault)
    res["t_detect"] = rnd(t_detect, t_fault)
    res["t_done"] = rnd(t_done, t_fault)
    if new is None:
        raise RuntimeError(f"no writable new master after {TOOLS[tool]} exited with {code}: "
                           f"{tail_errors(mgr.text())}")
    others = [h for h in (IPS["db2"], IPS["db3"]) if h != new]
    # wait (bounded) for the writer on the new master and every other slave following it
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if writer.first_on(new, t_fault) is not None and all(poller.following_now(o, new) for o in others):
            break
        time.sleep(0.1)
    time.sleep(1.0)
    acks = writer.stop()
    t_w = writer.first_on(new, t_fault)
    res["t_writable"] = rnd(t_w, t_fault)
    rep = [poller.first_following(o, new, t_fault) for o in others]
    res["t_repointed"] = rnd(max(rep), t_fault) if all(r is not None for r in rep) else None
    res["acked"] = len(acks)
    res["acked_after_fault_on_new"] = sum(1 for _, h, t in acks if h == new and t >= t_fault)
    lost = count_lost(acks, new)
    res["lost"] = len(lost)
    res["lost_ids_sample"] = lost[:20]
    res["write_gap"] = round(longest_gap(acks, t_fault - 1), 3)
    res["slaves_consistent"] = same_table(new, others)
    problems = []
    if "bigtx_rows" in res:
        # the big transaction was acknowledged before the kill: all of it, once, on the new master
        res["bigtx_present"] = int(query(new, "SELECT COUNT(*) FROM test.bigtx", timeout=30)[0][0])
        if res["bigtx_present"] != res["bigtx_rows"]:
            problems.append(f"the acknowledged {res['bigtx_rows']}-row transaction has "
                            f"{res['bigtx_present']} rows on the new master")
    if code != 0:
        problems.append(f"exit code {code}")
    if t_detect is None:
        problems.append("no death declaration line in the log")
    if t_w is None:
        problems.append("the writer never wrote on the new master")
    if res["t_repointed"] is None:
        problems.append("not every remaining slave replicates from the new master")
    elif not res["slaves_consistent"]:
        problems.append("a remaining slave's test.t, test.big or test.bigtx differs from the new master's (CHECKSUM TABLE, 15 s)")
    if problems:
        res["error"] = "; ".join(problems) + (f" | {tail_errors(mgr.text())}" if code != 0 else "")
    res["ok"] = not problems


def run_switch(args, res, conf, rundir, writer, poller):
    tool = args.tool
    new = IPS["db2"]
    time.sleep(1.0)
    env = mha_env(args.work) if tool == "mha" else None
    t0 = time.monotonic()
    proc = Proc(switch_argv(tool, conf), rundir / f"{tool}-switch.log", env)
    code = proc.wait(120)
    t_end = time.monotonic()
    proc.stop()
    res.update(proc.memory())
    res["exit_code"] = code
    res["t_cmd"] = round(t_end - t0, 3)
    others = [IPS["db1"], IPS["db3"]]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if writer.first_on(new, t0) is not None and all(poller.following_now(o, new) for o in others):
            break
        time.sleep(0.1)
    time.sleep(1.0)
    acks = writer.stop()
    t_w = writer.first_on(new, t0)
    res["new_master"] = new if find_new_master([new]) == new else find_new_master(HOSTS)
    res["t_writable"] = rnd(t_w, t0)
    rep = [poller.first_following(o, new, t0) for o in others]
    res["t_repointed"] = rnd(max(rep), t0) if all(r is not None for r in rep) else None
    gap, (g0, g1) = longest_gap(acks, t0 - 0.5, t_end + 1.0, where=True)
    res["write_gap"] = round(gap, 3)
    res["gap_start"], res["gap_end"] = rnd(g0, t0), rnd(g1, t0)
    res["acked"] = len(acks)
    if res["new_master"]:
        res["slaves_consistent"] = same_table(res["new_master"], [h for h in HOSTS if h != res["new_master"]])
        lost = count_lost(acks, res["new_master"])
        res["lost"] = len(lost)
        res["lost_ids_sample"] = lost[:20]
    problems = []
    if code != 0:
        problems.append(f"exit code {code}")
    if res["new_master"] != new:
        problems.append(f"db2 was not promoted (writable: {res['new_master']})")
    if t_w is None:
        problems.append("the writer never wrote on the new master")
    if res["t_repointed"] is None:
        problems.append("db1 and db3 do not both replicate from db2")
    elif not res.get("slaves_consistent"):
        problems.append("db1 or db3 has a test.t, test.big or test.bigtx different from db2's (CHECKSUM TABLE, 15 s)")
    if problems:
        res["error"] = "; ".join(problems) + f" | {tail_errors(proc.text())}"
    res["ok"] = not problems


def rnd(t, t0):
    return None if t is None else round(t - t0, 3)


def longest_gap(acks, start, end=None, where=False):
    """Longest time between two consecutive acknowledgements, for gaps that end after `start`
    (and start before `end`); with where=True also (gap start, gap end)."""
    times = sorted(t for _, _, t in acks)
    best, at = 0.0, (None, None)
    for a, b in zip(times, times[1:]):
        if b >= start and (end is None or a <= end) and b - a > best:
            best, at = b - a, (a, b)
    return (best, at) if where else best


# ----------------------------------------------------------------------------- idle resources

def idle(args):
    work = Path(args.work).resolve()
    rundir = work / "runs" / f"idle-{args.tool}"
    if rundir.exists():
        shutil.rmtree(rundir)
    rundir.mkdir(parents=True)
    res = {"tool": args.tool, "seconds": args.seconds, "ping_interval": args.ping_interval,
           "ok": False, "error": None, **lock_wait()}
    mgr = None
    try:
        lab_up("gtid")
        lab_setup_common(work)
        conf = (ha_conf if args.tool == "ha" else mha_conf)(rundir, args.ping_interval)
        mgr = start_manager(args.tool, conf, rundir, work)
        if mgr.wait_line(READY[args.tool], 90) is None:
            raise RuntimeError(f"{TOOLS[args.tool]} did not start monitoring: {tail_errors(mgr.text())}")
        time.sleep(5.0)  # past start-up work (checks, ssh sessions)
        hz = os.sysconf("SC_CLK_TCK")

        def snapshot():
            pids = [p for p in mgr.tree() if p != mgr.pid or True]
            return {p: (proc_cpu_ticks(p), proc_pss_kb(p), proc_name(p)) for p in pids}

        s0 = snapshot()
        t0 = time.monotonic()
        rss_total, rss_main, nprocs = [], [], []
        # the launcher exec'd the manager: mgr.pid IS the manager process
        while time.monotonic() - t0 < args.seconds:
            time.sleep(1.0)
            snap = snapshot()
            rss_total.append(sum(v[1] for v in snap.values()))  # PSS, see proc_pss_kb
            rss_main.append(proc_rss_kb(mgr.pid))
            nprocs.append(len(snap))
            if mgr.poll() is not None:
                raise RuntimeError(f"{TOOLS[args.tool]} exited while monitoring")
        s1 = snapshot()
        t1 = time.monotonic()
        ticks = 0
        for p, (c1, _, _) in s1.items():
            c0 = s0.get(p, (0,))[0] or 0
            if c1 is not None:
                ticks += max(0, c1 - c0)
        cpu_s = ticks / hz
        window = t1 - t0
        res.update({
            "ok": True,
            "window_s": round(window, 2),
            "cpu_s": round(cpu_s, 3),
            "cpu_pct": round(100.0 * cpu_s / window, 3),
            "cpu_s_per_min": round(cpu_s * 60.0 / window, 3),
            "rss_main_kb_max": max(rss_main),
            "pss_tree_kb_max": max(rss_total),
            "pss_tree_kb_median": int(statistics.median(rss_total)),
            "procs_median": statistics.median(nprocs),
            "procs": sorted({v[2] for v in s1.values()}),
        })
    except Exception as e:
        res["error"] = f"{type(e).__name__}: {e}"
    finally:
        if mgr is not None:
            mgr.stop()
    (rundir / "result.json").write_text(json.dumps(res, indent=1))
    print(json.dumps(res))
    return 0


# ----------------------------------------------------------------------------- report

METRICS_MEM = [
    ("peak_rss_mib", "manager peak RSS (MiB, kernel high-water mark)"),
    ("peak_tree_pss_mib", "manager's process tree, peak PSS sampled every 0.25 s (MiB)"),
]
METRICS_FAIL = [
    ("t_detect", "fault → death declared (s)"),
    ("t_writable", "fault → first insert on new master (s)"),
    ("t_repointed", "fault → all slaves replicate from it (s)"),
    ("lost", "acknowledged rows lost"),
]
METRICS_SWITCH = [
    ("write_gap", "longest write gap (s)"),
    ("t_writable", "start → first insert on new master (s)"),
    ("t_repointed", "start → db1, db3 replicate from db2 (s)"),
    ("t_cmd", "switch command wall time (s)"),
    ("gap_start", "start → the write gap begins (s)"),
    ("lost", "acknowledged rows lost"),
] + METRICS_MEM
MEM_KEYS = {k for k, _ in METRICS_MEM}
# What a scenario's runs made (both tools' runs; median (min–max)).
FACTS = [
    ("lag_rows", "rows db3 did not receive (IO stopped) or execute (SQL stopped) before the fault", 0),
    ("binlog_mib", "master's binlog file at the fault (MiB)", 0),
    ("relay_log_space_db2_mib", "db2's relay logs at the fault (Relay_Log_Space, MiB)", 0),
    ("db3_behind_mib", "db3 behind the master at the fault (MiB of binlog)", 0),
    ("fill_s", "time to write the big data (s)", 1),
    ("bigtx_binlog_mib", "the big transaction in the binlog (MiB)", 1),
    ("bigtx_commit_s", "its commit on the master took (s)", 1),
    ("bigtx_acked_before_fault_s", "its commit acknowledged → kill started (s)", 3),
]


def agg(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"median": round(statistics.median(v), 3), "min": round(min(v), 3),
            "max": round(max(v), 3), "n": len(v)}


def fmt_stat(s, integer=False, digits=2):
    if s is None:
        return "—"
    f = (lambda x: f"{x:.0f}") if integer else (lambda x: f"{x:.{digits}f}")
    if s["min"] == s["max"]:
        return f"{f(s['median'])}"
    return f"{f(s['median'])} ({f(s['min'])}–{f(s['max'])})"


def short_error(err, limit=500):
    """A failed run's reason for the tables: the manager's own 'Stopped at:' line where it
    printed one, cut to `limit` characters (latest.json keeps the whole text)."""
    m = re.search(r"Stopped at: (.*?)(?:\(remote command error\)|To finish by hand|['\"],|$)", err)
    head = err.split(" | ", 1)[0].split(": [", 1)[0]
    text = f"{head} — stopped at: {m.group(1).strip()}" if m else err
    return text if len(text) <= limit else text[:limit - 1] + "…"


def runs_text(meta):
    """'3' or, when scenarios ran different numbers of times, 'kill9 3, binlog1g 1'."""
    per = meta.get("runs_per_scenario") or {}
    if not per:
        return str(meta.get("runs", "?"))
    if len(set(per.values())) == 1:
        return str(next(iter(per.values())))
    return ", ".join(f"{k} {v}" for k, v in per.items())


def ratio(a, b):
    if a is None or b is None:
        return None
    if b["median"] == 0:
        return None
    return round(a["median"] / b["median"], 2)


def report(args):
    work = Path(args.work).resolve()
    outdir = Path(args.results)
    outdir.mkdir(parents=True, exist_ok=True)
    runs = []
    for w in [work] + [Path(x).resolve() for x in args.more_work or []]:
        for p in sorted((w / "runs").glob("*/result.json")):
            r = json.loads(p.read_text())
            if "scenario" in r:
                r.pop("poll_changes", None)
                r["work"] = str(w)
                if r.get("server") and not r["server"].startswith(("MariaDB ", "MySQL ")):
                    r["server"] = server_name(r["server"])  # runs recorded before server_name
                runs.append(r)
    idle_res = {}
    for tool in TOOLS:
        p = work / "runs" / f"idle-{tool}" / "result.json"
        if p.exists():
            idle_res[tool] = json.loads(p.read_text())
    meta = json.loads((work / "meta.json").read_text()) if (work / "meta.json").exists() else {}
    if args.more_work:
        # one report over several run.sh invocations of the same build: say so, and which ran what
        parts = [meta]
        for x in args.more_work:
            mp = Path(x).resolve() / "meta.json"
            parts.append(json.loads(mp.read_text()) if mp.exists() else {})
        seen = {r["scenario"] for r in runs}
        meta = dict(meta)
        meta["scenarios"] = [sc for m in parts for sc in m.get("scenarios", []) if sc in seen]
        meta["scenarios"] = list(dict.fromkeys(meta["scenarios"]))
        meta["runs_per_scenario"] = {sc: sum(1 for r in runs if r["scenario"] == sc and r["tool"] == "ha")
                                     for sc in meta["scenarios"]}
        commits = {m.get("ha_commit") for m in parts}
        if len(commits) > 1:
            raise SystemExit(f"the work dirs hold runs of different ha-manager commits: {commits}")
        meta["notes"] = ("runs from " + str(len(parts)) + " invocations of run.sh with the same build: "
                         + "; ".join(f"started {m.get('started', '?')}: "
                                     + ", ".join(sc for sc in m.get("scenarios", [])
                                                 if any(r["scenario"] == sc and r["work"] == str(w)
                                                        for r in runs))
                                     for m, w in zip(parts, [work] + [Path(x).resolve() for x in args.more_work]))
                         + (". " + meta["notes"] if meta.get("notes") else ""))
    fixes = json.loads((mha_lib(work) / "FIXES.json").read_text()) if (mha_lib(work) / "FIXES.json").exists() else []
    scen_order = [s for s in meta.get("scenarios", list(SCENARIOS)) if s in SCENARIOS]

    summary = {}
    for sc in scen_order:
        metrics = METRICS_SWITCH if sc == "switch" else METRICS_FAIL + METRICS_MEM
        summary[sc] = {"description": SCENARIOS[sc][1], "lab_mode": SCENARIOS[sc][0], "tools": {}}
        for tool in TOOLS:
            rs = [r for r in runs if r["scenario"] == sc and r["tool"] == tool]
            ok = [r for r in rs if r.get("ok")]
            entry = {"runs": len(rs), "ok": len(ok),
                     "unavailable": any(r.get("unavailable") for r in rs),
                     "errors": sorted({r["error"] for r in rs if r.get("error") and not r.get("unavailable")})}
            for key, _ in metrics:
                # memory is measured in failed runs too (a failed run's peak still happened)
                entry[key] = agg([r.get(key) for r in (rs if key in MEM_KEYS else ok)])
            if sc != "switch":
                rec = [r["t_repointed"] - r["t_detect"] for r in ok
                       if r.get("t_repointed") is not None and r.get("t_detect") is not None]
                entry["t_recover"] = agg(rec)
            entry["servers"] = sorted({r["server"] for r in rs if r.get("server")})
            summary[sc]["tools"][tool] = entry
        scr = [r for r in runs if r["scenario"] == sc]
        summary[sc]["servers"] = sorted({r["server"] for r in scr if r.get("server")})
        summary[sc]["settings"] = sorted({json.dumps({k: v for k, v in r["settings"].items() if v is not None},
                                                     sort_keys=True)
                                          for r in scr if r.get("settings")})
        summary[sc]["facts"] = {k: agg([r.get(k) for r in scr]) for k, _, _ in FACTS
                                if any(r.get(k) is not None for r in scr)}
        summary[sc]["ratio_ha_over_mha"] = {
            key: ratio(summary[sc]["tools"]["ha"].get(key), summary[sc]["tools"]["mha"].get(key))
            for key, _ in metrics + ([("t_recover", "")] if sc != "switch" else [])}

    doc = {"meta": meta, "mha_fixes": fixes, "summary": summary, "idle": idle_res, "runs": runs}
    (outdir / "latest.json").write_text(json.dumps(doc, indent=1, default=str))

    md = []
    md.append(f"Run {meta.get('started', '?')} on `{meta.get('host', '?')}`; "
              f"ha-manager `{meta.get('ha_version', '?')}` (commit `{meta.get('ha_commit', '?')}`) vs "
              f"MHA `{meta.get('mha_version', '0.58')}`; ping_interval={meta.get('ping_interval', '?')} s; "
              f"runs per scenario and tool: {runs_text(meta)}, alternating the tools. "
              f"Values: median (min–max) in seconds; ratio = ha-manager median / MHA median.")
    walls = [r["wall_s"] for r in runs if r.get("wall_s") is not None]
    waits = [r["lock_wait_s"] for r in runs if r.get("lock_wait_s") is not None]
    if walls:
        md.append(f"Lab time of the {len(walls)} scenario runs: {sum(walls) / 60:.1f} min"
                  + (f"; waiting for the shared lab lock before them: {sum(waits) / 60:.1f} min."
                     if waits else "."))
    if meta.get("notes"):
        md.append("")
        md.append(f"Note: {meta['notes']}")
    md.append("")
    md.append("Summary (medians; ha-manager / MHA 0.58; “failed” = no successful run, see the scenario):")
    md.append("")
    md.append("| scenario | server | lab | fault → dead (s) | fault → all repointed (s) "
              "| acked rows lost | manager peak RSS (MiB) | successful runs |")
    md.append("|---|---|---|---|---|---|---|---|")

    def pair(sc, key, digits):
        cells = []
        for tool in TOOLS:
            e = summary[sc]["tools"][tool]
            if e["unavailable"]:
                cells.append("n/a")
            elif not e["runs"]:
                cells.append("not run")
            elif not e["ok"]:
                cells.append("failed")
            elif e.get(key) is None:
                cells.append("—")
            else:
                cells.append(f"{e[key]['median']:.{digits}f}")
        return " / ".join(cells)

    def pair_mem(sc):
        cells = []
        for tool in TOOLS:
            e = summary[sc]["tools"][tool]
            v = e.get("peak_rss_mib")
            cells.append("n/a" if e["unavailable"] else "—" if v is None else
                         f"{v['median']:.1f}" + ("" if e["ok"] else " (failed run)"))
        return " / ".join(cells)

    for sc in scen_order:
        s = summary[sc]
        first = "t_writable" if sc == "switch" else "t_detect"
        oks = " / ".join(f"{s['tools'][t]['ok']}/{s['tools'][t]['runs']}" for t in TOOLS)
        md.append(f"| {sc}{' (write gap, → first insert)' if sc == 'switch' else ''} "
                  f"| {', '.join(s['servers']) or '?'} | {s['lab_mode']} "
                  f"| {pair(sc, 'write_gap' if sc == 'switch' else first, 2)} "
                  f"| {pair(sc, 't_repointed', 2)} | {pair(sc, 'lost', 0)} "
                  f"| {pair_mem(sc)} | {oks} |")
    md.append("")
    settings = sorted({x for sc in scen_order for x in summary[sc]["settings"]})
    if settings:
        md.append("Settings read on db2 at the start of every run (the lab sets none of them: server "
                  "defaults): " + " | ".join(
                      ", ".join(f"{k}={v}" for k, v in json.loads(x).items()) for x in settings) + ".")
        md.append("")
    for sc in scen_order:
        s = summary[sc]
        metrics = METRICS_SWITCH if sc == "switch" else METRICS_FAIL
        md.append(f"**{sc}** — {s['description']} (lab: {s['lab_mode']}; server: "
                  f"{', '.join(s['servers']) or '?'})")
        md.append("")
        if s.get("facts"):
            md.append("Made by the runs: " + "; ".join(
                f"{label} {fmt_stat(s['facts'][k], digits=d)}" for k, label, d in FACTS if k in s["facts"]) + ".")
            md.append("")
        md.append("| metric | ha-manager | MHA 0.58 | ratio |")
        md.append("|---|---|---|---|")
        ha, mh = s["tools"]["ha"], s["tools"]["mha"]
        for key, label in metrics + ([("t_recover", "death declared → all slaves replicate (s)")]
                                      + METRICS_MEM if sc != "switch" else []):
            integer = key == "lost"
            digits = 1 if key.endswith("_mib") else 2
            r = s["ratio_ha_over_mha"].get(key)
            cell_ha = "not available in this build" if ha["unavailable"] else fmt_stat(ha.get(key), integer, digits)
            cell_mh = fmt_stat(mh.get(key), integer, digits)
            md.append(f"| {label} | {cell_ha} | {cell_mh} | {'—' if r is None else f'{r:.2f}'} |")
        ok_ha = "—" if ha["unavailable"] else f"{ha['ok']}/{ha['runs']}"
        md.append(f"| successful runs | {ok_ha} | {mh['ok']}/{mh['runs']} | |")
        md.append("")
        notes = []
        if ha["unavailable"]:
            notes.append("- ha-manager: not available in this build (`ha-manager switch --help` "
                         "does not list `--master-state alive`)")
        for tool, e in (("ha", ha), ("mha", mh)):
            for err in e["errors"]:
                notes.append(f"- {TOOLS[tool]}, failed run: {short_error(err)}")
        if notes:
            md.extend(notes)
            md.append("")
    if idle_res:
        md.append(f"**Resource use while monitoring** (no fault, ping_interval="
                  f"{meta.get('ping_interval', '?')} s, no writer; summed over the manager's whole process "
                  f"tree, including children it forks and reaps, e.g. MHA's one-per-ping child, "
                  f"and helpers that daemonize, e.g. ssh control masters)")
        md.append("")
        md.append("| | ha-manager | MHA 0.58 | ratio |")
        md.append("|---|---|---|---|")
        rows = [("window (s)", "window_s", "{:.0f}"),
                ("CPU (s of CPU per minute)", "cpu_s_per_min", "{:.3f}"),
                ("CPU (% of one core)", "cpu_pct", "{:.2f}"),
                ("VmRSS of the manager process, max (MiB)", "rss_main_kb_max", "mib"),
                ("PSS of the whole tree, max (MiB)", "pss_tree_kb_max", "mib"),
                ("processes in the tree (median)", "procs_median", "{:.0f}")]
        for label, key, f in rows:
            vals = []
            for tool in TOOLS:
                r = idle_res.get(tool, {})
                v = r.get(key) if r.get("ok") else None
                vals.append(v)
            cells = []
            for v in vals:
                if v is None:
                    cells.append("—")
                elif f == "mib":
                    cells.append(f"{v / 1024:.1f}")
                else:
                    cells.append(f.format(v))
            rt = f"{vals[0] / vals[1]:.2f}" if key not in ("window_s", "procs_median") \
                and None not in vals and vals[1] else ""
            md.append(f"| {label} | {cells[0]} | {cells[1]} | {rt} |")
        for tool in TOOLS:
            r = idle_res.get(tool)
            if r and not r.get("ok"):
                md.append(f"- {TOOLS[tool]}: {r.get('error')}")
        md.append("")
    if fixes:
        md.append("MHA fixes applied (private copies via PERL5LIB):")
        md.append("")
        for f in fixes:
            md.append(f"- `{f['file']}`: {f['fix']}")
        md.append("")
    (outdir / "latest.md").write_text("\n".join(md))
    if args.readme:
        splice_readme(Path(args.readme), "\n".join(md))
    chart(summary, scen_order, outdir / "latest.png", meta)
    print("\n".join(md))


README_BEGIN = "<!-- bench:results:begin (written by scripts/bench/bench.py report) -->"
README_END = "<!-- bench:results:end -->"


def splice_readme(path, text):
    """Replace the results between the two markers in the README (if both are there)."""
    doc = path.read_text()
    if README_BEGIN not in doc or README_END not in doc:
        print(f"{path}: no results markers, not updated", file=sys.stderr)
        return
    head, rest = doc.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(f"{head}{README_BEGIN}\n{text.rstrip()}\n{README_END}{tail}")


def chart(summary, scen_order, path, meta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(scen_order)
    fig, axes = plt.subplots(n, 1, figsize=(10, 1.55 * n + 1.0), squeeze=False)
    colors = {"detect": "#d9822b", "recover": "#2b6cb0", "gap": "#c53030"}
    xmax = 1.0
    seen = set()
    for sc in scen_order:
        for tool in TOOLS:
            e = summary[sc]["tools"][tool]
            for k in ("t_repointed", "t_writable", "gap_end"):
                if e.get(k):
                    xmax = max(xmax, e[k]["median"])
    for ax, sc in zip(axes[:, 0], scen_order):
        s = summary[sc]
        labels = []
        for y, tool in enumerate(("mha", "ha")):
            e = s["tools"][tool]
            labels.append(TOOLS[tool])
            if e["unavailable"]:
                ax.text(0.02 * xmax, y, "not available in this build", va="center", fontsize=9, color="#555")
                continue
            if not e["runs"]:
                ax.text(0.02 * xmax, y, "not run", va="center", fontsize=9, color="#555")
                continue
            if not e["ok"]:
                why = short_error(e["errors"][0]) if e["errors"] else "no successful run"
                why = why.split("stopped at: ", 1)[-1]
                ax.text(0.02 * xmax, y, "failed: " + (why if len(why) <= 110 else "…" + why[-109:]),
                        va="center", fontsize=7.5, color="#a00")
                continue
            mem = e.get("peak_rss_mib")
            mem_txt = f", peak RSS {mem['median']:.0f} MiB" if mem else ""
            if sc == "switch":
                g = e["write_gap"]["median"]
                g0 = e["gap_start"]["median"] if e.get("gap_start") else 0.0
                ax.barh(y, max(g, 0.02 * xmax), left=g0, color=colors["gap"], height=0.5,
                        label="longest write gap" if "gap" not in seen else None)
                seen.add("gap")
                rp = e["t_repointed"]["median"] if e.get("t_repointed") else None
                w = e["t_writable"]["median"] if e.get("t_writable") else None
                if rp is not None:
                    ax.plot([rp], [y], marker="|", markersize=18, color="black",
                            label="all slaves repointed" if "rp" not in seen else None)
                    seen.add("rp")
                if w is not None:
                    ax.plot([w], [y], marker="v", color="black", markersize=7,
                            label="first insert on new master" if "w" not in seen else None)
                    seen.add("w")
                ax.text(max(g0 + g, rp or 0, w or 0) + 0.01 * xmax, y,
                        f"write gap {g:.2f}s" + (f", all repointed at {rp:.2f}s" if rp else ""),
                        va="center", fontsize=8)
            else:
                d = e["t_detect"]["median"] if e.get("t_detect") else 0
                rp = e["t_repointed"]["median"] if e.get("t_repointed") else d
                ax.barh(y, d, color=colors["detect"], height=0.5,
                        label="detect (fault → death declared)" if "d" not in seen else None)
                ax.barh(y, max(rp - d, 0), left=d, color=colors["recover"], height=0.5,
                        label="recover (→ all slaves replicate from the new master)"
                        if "d" not in seen else None)
                seen.add("d")
                w = e["t_writable"]["median"] if e.get("t_writable") else None
                if w is not None:
                    ax.plot([w], [y], marker="v", color="black", markersize=7,
                            label="first insert on new master" if "w" not in seen else None)
                    seen.add("w")
                ax.text(max(rp, w or 0) + 0.01 * xmax, y,
                        f"dead at {d:.2f}s, all repointed at {rp:.2f}s{mem_txt}", va="center", fontsize=8)
        ax.set_ylim(-0.6, 1.6)
        ax.set_yticks([0, 1])
        ax.set_yticklabels(labels)
        ax.set_xlim(0, xmax * 1.45)
        ax.set_title(f"{sc}: {s['description']}", fontsize=9, loc="left")
        ax.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel("seconds from the fault (switch: from the command's start) — medians")
    handles, lbls = [], []
    for ax in axes[:, 0]:
        h, l = ax.get_legend_handles_labels()
        for hh, ll in zip(h, l):
            if ll not in lbls:
                handles.append(hh)
                lbls.append(ll)
    fig.legend(handles, lbls, loc="lower center", fontsize=8, ncol=3)
    fig.suptitle(f"ha-manager vs MHA 0.58 on the lab (ping_interval={meta.get('ping_interval', '?')} s, "
                 f"medians; runs per tool: {runs_text(meta)})", fontsize=10, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    fig.savefig(path, dpi=110)


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare-mha")
    p.add_argument("--work", required=True)
    p = sub.add_parser("run-one")
    p.add_argument("--tool", choices=list(TOOLS), required=True)
    p.add_argument("--scenario", choices=list(SCENARIOS), required=True)
    p.add_argument("--run", type=int, default=1)
    p.add_argument("--ping-interval", type=int, default=1)
    p.add_argument("--work", required=True)
    p.add_argument("--out")
    p = sub.add_parser("idle")
    p.add_argument("--tool", choices=list(TOOLS), required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--ping-interval", type=int, default=1)
    p.add_argument("--work", required=True)
    p = sub.add_parser("report")
    p.add_argument("--work", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--readme", help="also put the tables into this README, between the markers")
    p.add_argument("--more-work", action="append",
                   help="also the runs in this work dir (another run.sh invocation of the same build)")
    args = ap.parse_args()
    # SIGTERM (timeout, Ctrl-C of run.sh) → normal exit path, so `finally` cleans up.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    return {"prepare-mha": prepare_mha, "run-one": run_one, "idle": idle, "report": report}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
