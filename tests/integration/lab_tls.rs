//! TLS on the real lab: from the manager to the servers, and the replication
//! links ha-manager repoints (`repl_ssl`). MySQL 9.7 makes its own certificates
//! at initialisation, so there an account with `REQUIRE SSL` is reached with
//! `ssl_mode=required`; the default lab's MariaDB has no certificate, so there
//! `preferred` falls back to plain and `required` is refused (MariaDB 11.8, like
//! MySQL, makes its own). `up.sh --tls` gives every server a certificate from a
//! lab CA (any server).

use crate::lab_failover::{assert_no_loss, conf, fresh_lab, lag, start_writer, HOSTS};
use crate::util::{
    fault, ha_manager, lab_dir, lab_is_mysql, lab_lock, lab_server, lab_start_replica,
    lab_stop_replica, rebuild_lab_tls, slave_status, sql, variant, wait_until,
};
use std::time::Duration;

/// The lab CA's certificate inside every host (`up.sh --tls`).
const HOST_CA: &str = "/etc/mysql/tls/ca.pem";

fn with_ssl_mode(dir: &std::path::Path, mode: &str) -> String {
    variant(&lab_dir().join("app1.cnf"), dir, |t| {
        t.replacen(
            "[server default]\n",
            &format!("[server default]\nssl_mode={mode}\n"),
            1,
        )
    })
    .to_string_lossy()
    .into_owned()
}

#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn check_repl_over_tls_with_an_account_that_requires_ssl() {
    let _lab = lab_lock();
    fresh_lab("gtid");
    let dir = tempfile::tempdir().unwrap();
    let required = with_ssl_mode(dir.path(), "required");
    // MySQL 9.7 and MariaDB 11.4+ make their own certificates; MariaDB 10.11 does not.
    if lab_server() == "mariadb-10.11" {
        // No certificate on the server: preferred connects in plain, required refuses.
        let sub = tempfile::tempdir().unwrap();
        let preferred = with_ssl_mode(sub.path(), "preferred");
        let run = ha_manager(&["check-repl", "--conf", &preferred]);
        assert_eq!(run.code, 0, "preferred falls back to plain:\n{}", run.all());
        let run = ha_manager(&["check-repl", "--conf", &required]);
        assert_ne!(
            run.code,
            0,
            "required refuses a server without TLS:\n{}",
            run.all()
        );
        assert!(
            run.all().contains("does not have this capability"),
            "{}",
            run.all()
        );
        return;
    }
    // The admin account now needs TLS (replicates to every server).
    sql("db1", "ALTER USER 'hauser'@'198.18.0.%' REQUIRE SSL");
    let plain = ha_manager(&["check-repl", "--conf", &conf()]);
    assert_ne!(
        plain.code,
        0,
        "a REQUIRE SSL account is refused in plain:\n{}",
        plain.all()
    );
    let run = ha_manager(&["check-repl", "--conf", &required]);
    assert_eq!(run.code, 0, "check-repl over TLS:\n{}", run.all());
    assert!(
        run.all().contains("MySQL Replication Health is OK."),
        "{}",
        run.all()
    );
}

/// `CHANGE MASTER TO MASTER_SSL=0` in the lab server's words.
fn plain_link_sql() -> String {
    let change = if lab_is_mysql() {
        "CHANGE REPLICATION SOURCE TO SOURCE_SSL=0"
    } else {
        "CHANGE MASTER TO MASTER_SSL=0"
    };
    format!("{}; {change}; {}", lab_stop_replica(), lab_start_replica())
}

fn field<'a>(status: &'a str, name: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
        .unwrap_or("")
}

/// A site that turns TLS on everywhere: the servers have certificates from a
/// CA, the repl and admin accounts now `REQUIRE SSL`, the configuration says
/// `repl_ssl=1` (CA on the hosts, verify) and `ssl_mode=verify_identity` (CA
/// on the manager host), and db3 still runs the plain link it had (a live
/// connection outlasts the `ALTER USER`). check-repl names db3. After a kill -9
/// of the master the dead master's binlog tail is applied on db2 by the host's
/// own client over TLS (the admin account), and db3 is repointed to db2 with
/// `MASTER_SSL=1`, the CA and verification, so the REQUIRE SSL account logs in
/// and db3 replicates every acknowledged row. Before `repl_ssl` the CHANGE
/// MASTER kept db3's `MASTER_SSL=0` and its IO thread was refused (error 1045).
/// Last, that a CHANGE MASTER without TLS options keeps the replica's own
/// (what ha-manager relies on without `repl_ssl`), on this server.
///
/// The host's client part shows that its TLS lines (`ssl-mode=VERIFY_IDENTITY`
/// on MySQL, `ssl=1`/`ssl-verify-server-cert=1` on MariaDB, `ssl-ca`) are
/// accepted and verify; it cannot fail on the old code here, as both servers'
/// clients use TLS by themselves when the server offers it.
#[test]
#[ignore = "needs the lab: run scripts/test.sh"]
fn failover_keeps_replication_over_tls_with_a_require_ssl_account() {
    let _lab = lab_lock();
    rebuild_lab_tls("gtid");
    let st = slave_status("db3");
    assert_eq!(field(&st, "Master_SSL_Allowed"), "Yes", "{st}");
    assert_eq!(field(&st, "Master_SSL_Verify_Server_Cert"), "Yes", "{st}");

    sql("db1", "ALTER USER 'repl'@'198.18.0.%' REQUIRE NONE");
    sql("db3", &plain_link_sql());
    wait_until("db3 replicating in plain", 20, || {
        let st = slave_status("db3");
        field(&st, "Slave_IO_Running") == "Yes" && field(&st, "Master_SSL_Allowed") == "No"
    });
    sql("db1", "ALTER USER 'repl'@'198.18.0.%' REQUIRE SSL");
    sql("db1", "ALTER USER 'hauser'@'198.18.0.%' REQUIRE SSL");

    let dir = tempfile::tempdir().unwrap();
    let cnf = variant(&lab_dir().join("app1.cnf"), dir.path(), |t| {
        t.replacen(
            "[server default]\n",
            &format!(
                "[server default]\nrepl_ssl=1\nrepl_ssl_ca={HOST_CA}\nrepl_ssl_verify_server_cert=1\n\
                 ssl_mode=verify_identity\nssl_ca={}\n",
                lab_dir().join("tls/ca.pem").display()
            ),
            1,
        )
    });
    let cnf = cnf.to_string_lossy().into_owned();
    let check = ha_manager(&["check-repl", "--conf", &cnf]);
    assert_eq!(check.code, 0, "a warning only:\n{}", check.all());
    let warning = check
        .all()
        .lines()
        .find(|l| l.contains("without TLS (Master_SSL_Allowed: No)"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no repl_ssl warning:\n{}", check.all()));
    assert!(
        warning.contains(HOSTS[2]) && !warning.contains(HOSTS[1]),
        "{warning}"
    );

    let writer = start_writer();
    let before = lag(&writer, &["db2", "db3"], 50);
    fault("kill-mysqld", "db1");
    let unreplicated = writer.acks().rows.len() - before;
    let run = ha_manager(&["switch", "--conf", &cnf, "--master-state", "dead", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("saved") && run.stderr.contains("events of binlog"),
        "the tail was applied by the host's client:\n{}",
        run.all()
    );
    wait_until("writes on the new master", 30, || {
        writer.acks().first_on(HOSTS[1]).is_some()
    });
    std::thread::sleep(Duration::from_millis(500));
    let acks = writer.finish();
    assert!(unreplicated >= 50, "{unreplicated} rows on no slave");
    assert_no_loss(&acks, HOSTS[1], &[HOSTS[2]]);
    let st = slave_status("db3");
    for (name, want) in [
        ("Master_Host", HOSTS[1]),
        ("Slave_IO_Running", "Yes"),
        ("Master_SSL_Allowed", "Yes"),
        ("Master_SSL_CA_File", HOST_CA),
        ("Master_SSL_Verify_Server_Cert", "Yes"),
    ] {
        assert_eq!(field(&st, name), want, "{name} on db3:\n{st}");
    }
    eprintln!(
        "TLS failover: {} rows acknowledged, {unreplicated} on no slave, none lost; db3 replicates \
         from db2 over TLS with the REQUIRE SSL account",
        acks.rows.len()
    );

    // The server's own rule ha-manager relies on without repl_ssl: a CHANGE
    // MASTER that names no TLS option (a new host even) keeps the TLS ones.
    let change = if lab_is_mysql() {
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='198.18.0.12', SOURCE_PORT=3306, SOURCE_CONNECT_RETRY=2"
    } else {
        "CHANGE MASTER TO MASTER_HOST='198.18.0.12', MASTER_PORT=3306, MASTER_CONNECT_RETRY=2"
    };
    sql(
        "db3",
        &format!("{}; {change}; {}", lab_stop_replica(), lab_start_replica()),
    );
    wait_until(
        "db3 replicating again after a CHANGE MASTER without TLS options",
        20,
        || field(&slave_status("db3"), "Slave_IO_Running") == "Yes",
    );
    let st = slave_status("db3");
    assert_eq!(field(&st, "Master_SSL_Allowed"), "Yes", "{st}");
    assert_eq!(field(&st, "Master_SSL_CA_File"), HOST_CA, "{st}");
    assert_eq!(field(&st, "Master_SSL_Verify_Server_Cert"), "Yes", "{st}");
}
