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
