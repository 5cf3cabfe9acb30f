//! Command-line behaviour that needs no lab: bad configuration, bad arguments.

use crate::util::{ha_manager, repo, variant};

#[test]
fn unknown_key_is_named_with_file_line_and_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let conf = variant(&repo().join("conf/app1.cnf"), dir.path(), |text| {
        text.replacen(
            "\n[server default]\n",
            "\n[server default]\npasword=oops\n",
            1,
        )
    });
    for cmd in ["check-ssh", "check-repl"] {
        let run = ha_manager(&[cmd, "--conf", conf.to_str().unwrap()]);
        assert_eq!(run.code, 3, "{cmd}: {}", run.all());
        assert!(run.stderr.contains("pasword"), "{}", run.all());
        assert!(
            run.stderr.contains("app1.cnf:"),
            "file:line named: {}",
            run.all()
        );
        assert!(
            run.stderr.contains("password"),
            "did-you-mean: {}",
            run.all()
        );
        assert!(
            !run.stderr.contains("oops"),
            "value must not be echoed: {}",
            run.all()
        );
    }
}

#[test]
fn missing_config_file_is_a_clear_error() {
    let run = ha_manager(&["check-repl", "--conf", "/nonexistent/app9.cnf"]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(
        run.stderr.contains("/nonexistent/app9.cnf"),
        "{}",
        run.all()
    );
}

#[test]
fn missing_conf_option_is_a_usage_error() {
    let run = ha_manager(&["check-repl"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("--conf"), "{}", run.all());
}

/// A config whose servers refuse connections at once (nothing listens on
/// ports 1 and 2 of 127.0.0.1), so `start` refuses to monitor and exits
/// without touching any real server.
fn unreachable_conf(dir: &std::path::Path, manager_log: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("app1.cnf");
    let text = format!(
        "[server default]\nuser=mha\npassword=x\nmysql_timeout=1\nmanager_workdir={}\n\
         manager_log={}\n[server1]\nhostname=127.0.0.1\nport=1\n[server2]\nhostname=127.0.0.1\nport=2\n",
        dir.join("work").display(),
        manager_log.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn start_writes_its_log_to_manager_log_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("manager.log");
    std::fs::write(&log, "earlier line\n").unwrap();
    let conf = unreachable_conf(dir.path(), &log);
    let run = ha_manager(&["start", "--conf", conf.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.all());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("earlier line\n"), "appended: {text}");
    assert!(
        text.contains("Refusing to monitor"),
        "tracing lines in the file: {text}"
    );
    assert!(
        text.contains("MySQL Replication Health is NOT OK!"),
        "the check report in the file: {text}"
    );
    assert!(
        !run.stderr.contains("Refusing to monitor") && run.stdout.is_empty(),
        "nothing on the terminal: {}",
        run.all()
    );

    // Created 0600 when missing.
    let fresh = dir.path().join("fresh.log");
    let conf = unreachable_conf(dir.path(), &fresh);
    let run = ha_manager(&["start", "--conf", conf.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.all());
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    assert!(std::fs::read_to_string(&fresh)
        .unwrap()
        .contains("Refusing to monitor"));

    // check-repl keeps printing to the terminal.
    let run = ha_manager(&["check-repl", "--conf", conf.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("MySQL Replication Health is NOT OK!"),
        "{}",
        run.all()
    );
}

#[test]
fn manager_log_in_a_missing_directory_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("no-such-dir/manager.log");
    let conf = unreachable_conf(dir.path(), &log);
    let run = ha_manager(&["start", "--conf", conf.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(
        run.stderr.contains("manager_log=") && run.stderr.contains(log.to_str().unwrap()),
        "names the key and the path: {}",
        run.all()
    );
    assert!(!log.exists());
}
