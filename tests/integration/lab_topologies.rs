//! MHA's topology scenarios on the real lab, 4 hosts: multi-tier (`t_4tier*`,
//! `t_online_3tier`) and dual master active-passive (`t_mm*`, `t_online_mm`).
//! One `up.sh --topology` build per test (~8-10 s): each kills or switches the master.
//! Each runs the writer, makes a real fault (or a switch), then counts the
//! acknowledged rows on the new master and compares every server's checksum.

use crate::lab_failover::{assert_no_loss, conf, start_writer, HOSTS};
use crate::manager::Manager;
use crate::util::{
    fault, ha_manager, lab_conf, lab_lock, rebuild_lab_topology, slave_status, sql, variant,
    wait_until, Run,
};

const DB4: &str = "198.18.0.14";

/// A copy of the lab config with `line` added to `[server default]`.
fn conf_with(dir: &tempfile::TempDir, line: &str) -> String {
    variant(&lab_conf(), dir.path(), |text| {
        text.replacen(
            "[server default]\n",
            &format!("[server default]\n{line}\n"),
            1,
        )
    })
    .to_string_lossy()
    .into_owned()
}

fn switch(conf: &str, state: &str, extra: &[&str]) -> Run {
    let mut args = vec!["switch", "--conf", conf, "--master-state", state, "--yes"];
    args.extend_from_slice(extra);
    ha_manager(&args)
}

fn source_host(host: &str) -> Option<String> {
    slave_status(host).lines().find_map(|l| {
        l.trim()
            .strip_prefix("Master_Host: ")
            .map(|h| h.trim().to_owned())
    })
}

fn assert_follows(host: &str, master_ip: &str) {
    let status = slave_status(host);
    assert!(
        status.contains(&format!("Master_Host: {master_ip}"))
            && status.contains("Slave_IO_Running: Yes")
            && status.contains("Slave_SQL_Running: Yes"),
        "{host} should replicate from {master_ip}:\n{status}"
    );
}

/// `status --servers` (text and `--json`) names each server's role, in config order.
fn assert_status_roles(conf: &str, want: &[&str]) {
    let text = ha_manager(&["status", "--conf", conf, "--servers"]);
    assert_eq!(
        text.code,
        2,
        "no manager running: NOT_RUNNING\n{}",
        text.all()
    );
    for (n, role) in want.iter().enumerate() {
        let ip = format!("198.18.0.1{}", n + 1);
        assert!(
            text.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{ip}("))
                    && l.contains(&format!("  {role}  "))
                    && l.contains("alive")),
            "{ip} should show as {role}:\n{}",
            text.all()
        );
    }
    let json = ha_manager(&["status", "--conf", conf, "--servers", "--json"]);
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("status --json");
    let got: Vec<&str> = v["servers"]
        .as_array()
        .expect("servers array")
        .iter()
        .map(|s| s["role"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(got, want, "{}", json.all());
}

fn read_only(host: &str) -> bool {
    sql(host, "SELECT @@global.read_only").trim() == "1"
}

fn wait_writes_on(writer: &crate::writer::Writer, host: &str) {
    wait_until(&format!("the writer's rows on {host}"), 30, || {
        writer.acks().first_on(host).is_some()
    });
    // A few more rows on the new master before the count.
    std::thread::sleep(std::time::Duration::from_millis(300));
}

/// MHA `t_4tier`: db1 -> db2 -> db3, db1 -> db4. Without `multi_tier_slave`
/// check-repl and the failover refuse, changing nothing; with it db2 is
/// promoted, db4 follows it and db3 stays under db2, its intermediate master.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_4tier() {
    let _lab = lab_lock();
    rebuild_lab_topology("gtid", 4, "tiers");
    let dir = tempfile::tempdir().unwrap();
    let multi = conf_with(&dir, "multi_tier_slave=1");
    let plain = ha_manager(&["check-repl", "--conf", &conf()]);
    assert_ne!(plain.code, 0, "{}", plain.all());
    let ok = ha_manager(&["check-repl", "--conf", &multi]);
    assert_eq!(ok.code, 0, "{}", ok.all());
    assert_status_roles(
        &multi,
        &["master", "slave", "third-tier slave (unmanaged)", "slave"],
    );

    let writer = start_writer();
    fault("kill-mysqld", "db1");
    let refused = switch(&conf(), "dead", &[]);
    assert_ne!(refused.code, 0, "{}", refused.all());
    assert!(
        refused.all().contains("multi_tier_slave=1") && refused.all().contains("198.18.0.13"),
        "{}",
        refused.all()
    );
    assert_eq!(
        source_host("db4").as_deref(),
        Some(HOSTS[0]),
        "nothing changed"
    );
    assert!(read_only("db2"), "nothing changed");

    let run = switch(&multi, "dead", &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains(
            "third-tier slave, left replicating from 198.18.0.12(198.18.0.12:3306) \
             (multi_tier_slave=1)"
        ),
        "the report names the third tier:\n{}",
        run.all()
    );
    wait_writes_on(&writer, HOSTS[1]);
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2], DB4]);
    assert_follows("db3", HOSTS[1]);
    assert_follows("db4", HOSTS[1]);
}

/// MHA `t_4tier` as MHA runs it (`masterha_manager`): `start` with
/// `multi_tier_slave=1` monitors db1 over a three-tier topology (the third
/// tier's IO thread, on db2, never loses its source), confirms db1's death
/// and fails over as in `t_4tier`.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_4tier_manager() {
    let _lab = lab_lock();
    rebuild_lab_topology("gtid", 4, "tiers");
    let dir = tempfile::tempdir().unwrap();
    let multi = conf_with(&dir, "multi_tier_slave=1");
    let writer = start_writer();
    let mut m = Manager::start(&multi, &["--exit-after-failover"]);
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    let log = m.text();
    assert!(
        log.contains("third-tier slave, left replicating from 198.18.0.12"),
        "{log}"
    );
    wait_writes_on(&writer, HOSTS[1]);
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2], DB4]);
    assert_follows("db3", HOSTS[1]);
    assert_follows("db4", HOSTS[1]);
}

/// MHA `t_4tier_subm_dead`: the intermediate master db2 is dead too; the
/// failover refuses (db2 is a dead slave without ignore_fail) and changes nothing.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_4tier_subm_dead() {
    let _lab = lab_lock();
    rebuild_lab_topology("gtid", 4, "tiers");
    let dir = tempfile::tempdir().unwrap();
    let multi = conf_with(&dir, "multi_tier_slave=1");
    fault("kill-mysqld", "db2");
    fault("kill-mysqld", "db1");
    let run = switch(&multi, "dead", &[]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.all()
            .contains("198.18.0.12(198.18.0.12:3306), unreachable"),
        "{}",
        run.all()
    );
    assert_eq!(
        source_host("db4").as_deref(),
        Some(HOSTS[0]),
        "nothing changed"
    );
    assert_eq!(
        source_host("db3").as_deref(),
        Some(HOSTS[1]),
        "nothing changed"
    );
    assert!(read_only("db4") && read_only("db3"), "nothing changed");
}

/// MHA `t_online_3tier`: an online switch to db2, the intermediate master of
/// db3. Refused without `multi_tier_slave`; with it db4 moves to db2, db3 stays
/// under it, and the old master (no `--orig-master-is-new-slave`) is left alone.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_online_3tier() {
    let _lab = lab_lock();
    rebuild_lab_topology("gtid", 4, "tiers");
    let dir = tempfile::tempdir().unwrap();
    let multi = conf_with(&dir, "multi_tier_slave=1");
    let writer = start_writer();
    let refused = switch(&conf(), "alive", &["--new-master-host", HOSTS[1]]);
    assert_ne!(refused.code, 0, "{}", refused.all());
    assert!(!read_only("db1"), "nothing changed: db1 still takes writes");
    assert_eq!(
        source_host("db4").as_deref(),
        Some(HOSTS[0]),
        "nothing changed"
    );

    let run = switch(&multi, "alive", &["--new-master-host", HOSTS[1]]);
    assert_eq!(run.code, 0, "{}", run.all());
    wait_writes_on(&writer, HOSTS[1]);
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2], DB4]);
    assert_follows("db3", HOSTS[1]);
    assert_follows("db4", HOSTS[1]);
    assert!(read_only("db1"), "the old master stays read-only");
    assert_eq!(
        source_host("db1"),
        None,
        "the old master replicates from no one"
    );
}

/// MHA `t_mm` (as MHA runs it, through the manager): dual master db1 <-> db2
/// (db2 read_only), db3 and db4 under db1. `start` monitors db1; kill -9 db1:
/// the standby master db2 is promoted, db3 and db4 follow it, and its
/// replication from the dead db1 is reset.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_mm_manager() {
    let _lab = lab_lock();
    rebuild_lab_topology("gtid", 4, "dual-master");
    let writer = start_writer();
    let mut m = Manager::start(&conf(), &["--exit-after-failover"]);
    fault("kill-mysqld", "db1");
    assert_eq!(m.wait_exit(60), 0, "{}", m.text());
    let log = m.text();
    assert!(
        log.contains("Master failover to 198.18.0.12(198.18.0.12:3306) completed successfully"),
        "{log}"
    );
    wait_writes_on(&writer, HOSTS[1]);
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2], DB4]);
    assert_follows("db3", HOSTS[1]);
    assert_follows("db4", HOSTS[1]);
    assert_eq!(
        source_host("db2"),
        None,
        "RESET SLAVE ALL on the new master"
    );
}

/// MHA `t_mm_normal_skip_reset`: as `t_mm` (a manual failover) with
/// `skip_reset_slave=1`: the new master keeps its replication settings (from
/// the dead db1), stopped, so the ring can be restored by hand later.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_mm_normal_skip_reset() {
    let _lab = lab_lock();
    rebuild_lab_topology("gtid", 4, "dual-master");
    let dir = tempfile::tempdir().unwrap();
    let skip = conf_with(&dir, "skip_reset_slave=1");
    let writer = start_writer();
    fault("kill-mysqld", "db1");
    let run = switch(&skip, "dead", &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.all().contains("skip_reset_slave=1"), "{}", run.all());
    wait_writes_on(&writer, HOSTS[1]);
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2], DB4]);
    assert_follows("db3", HOSTS[1]);
    assert_follows("db4", HOSTS[1]);
    let status = slave_status("db2");
    assert!(
        status.contains(&format!("Master_Host: {}", HOSTS[0]))
            && status.contains("Slave_SQL_Running: No"),
        "db2 keeps its (stopped) replication from db1:\n{status}"
    );
}

/// MHA `t_online_mm_3tier`'s dual-master half: an online switch from db1 to
/// the standby master db2 without `--orig-master-is-new-slave`. db1 already
/// replicates from db2 and keeps doing so (MHA: "orig master is already a
/// slave of the new master"), so it gets every row written after the switch.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn t_online_mm() {
    let _lab = lab_lock();
    rebuild_lab_topology("gtid", 4, "dual-master");
    assert_status_roles(&conf(), &["master", "standby master", "slave", "slave"]);
    let writer = start_writer();
    let run = switch(&conf(), "alive", &["--new-master-host", HOSTS[1]]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains("already replicates from 198.18.0.12"),
        "{}",
        run.all()
    );
    wait_writes_on(&writer, HOSTS[1]);
    let acks = writer.finish();
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[0], HOSTS[2], DB4]);
    assert_follows("db1", HOSTS[1]);
    assert_follows("db3", HOSTS[1]);
    assert_follows("db4", HOSTS[1]);
    assert!(read_only("db1"), "the old master stays read-only");
}
