//! TLS from the manager to the servers on the real lab. MySQL 9.7 makes its
//! own certificates at initialisation, so there an account with `REQUIRE SSL`
//! is reached with `ssl_mode=required`; the lab's MariaDB has no certificate,
//! so there `preferred` falls back to plain and `required` is refused.

use crate::lab_failover::{conf, fresh_lab};
use crate::util::{ha_manager, lab_dir, lab_is_mysql, lab_lock, sql, variant};

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
    if !lab_is_mysql() {
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
