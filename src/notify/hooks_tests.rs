//! Tests of the hook runner against real `/bin/sh` scripts in a temporary directory.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Writes an executable script and returns its path.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn hook(path: &Path, extra: &[&str]) -> HookCommand {
    let mut argv = vec![path.display().to_string()];
    argv.extend(extra.iter().map(|w| w.to_string()));
    HookCommand { argv }
}

/// A script that writes each argument on its own line (NUL-free, so one word per
/// line as long as words have no newline), then its HA_* environment, then exits.
fn recorder(dir: &Path, code: i32) -> (PathBuf, PathBuf) {
    let out = dir.join("seen.txt");
    let body = format!(
        "for a in \"$@\"; do printf 'ARG<%s>\\n' \"$a\"; done > '{out}'\n\
         env | grep '^HA_' | sort >> '{out}'\n\
         echo on-stdout\n\
         echo on-stderr >&2\n\
         exit {code}",
        out = out.display()
    );
    (script(dir, "recorder.sh", &body), out)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read output")
}

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn argv_arrives_word_for_word_without_a_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, out) = recorder(dir.path(), 0);
    let tricky = r#"it's "quoted" $HOME `id` ; rm -rf / *"#;
    let args = HookArgs::new()
        .value("command", "stop")
        .value("subject", tricky)
        .flag("orig_master_is_new_slave");
    let outcome = run_hook(&hook(&path, &["--vip", "10.0.0.5 x"]), &args, &[], T).await;
    assert_eq!(outcome.code, Some(0), "{outcome:?}");

    let seen = read(&out);
    let args_seen: Vec<&str> = seen.lines().filter(|l| l.starts_with("ARG<")).collect();
    assert_eq!(
        args_seen,
        [
            "ARG<--vip>",
            "ARG<10.0.0.5 x>",
            "ARG<--command=stop>",
            &format!("ARG<--subject={tricky}>"),
            "ARG<--orig_master_is_new_slave>",
        ]
    );
    assert_eq!(outcome.stdout, "on-stdout\n");
    assert_eq!(outcome.stderr, "on-stderr\n");
    assert_eq!(verdict(&outcome), HookVerdict::Done);
}

#[tokio::test]
async fn env_carries_the_facts_and_secrets_stay_out_of_argv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, out) = recorder(dir.path(), 0);
    let args = HookArgs::new()
        .value("command", "start")
        .value("new_master_host", "db2")
        .flag("orig_master_is_new_slave")
        .env("app", "app1");
    let secrets = [("new_master_password".to_string(), Secret::new("s3cr3t pw"))];
    let outcome = run_hook(&hook(&path, &[]), &args, &secrets, T).await;
    assert_eq!(outcome.code, Some(0), "{outcome:?}");

    let seen = read(&out);
    for line in [
        "HA_COMMAND=start",
        "HA_NEW_MASTER_HOST=db2",
        "HA_ORIG_MASTER_IS_NEW_SLAVE=1",
        "HA_APP=app1",
        "HA_NEW_MASTER_PASSWORD=s3cr3t pw",
    ] {
        assert!(
            seen.lines().any(|l| l == line),
            "missing {line} in:\n{seen}"
        );
    }
    let argv_lines: Vec<&str> = seen.lines().filter(|l| l.starts_with("ARG<")).collect();
    assert!(
        argv_lines.iter().all(|l| !l.contains("s3cr3t")),
        "{argv_lines:?}"
    );
    assert!(!command_line(&hook(&path, &[]), &args).contains("s3cr3t"));
}

#[tokio::test]
async fn exit_codes_map_to_mha_verdicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (code, expected) in [
        (0, HookVerdict::Done),
        (10, HookVerdict::FailedButContinue),
        (1, HookVerdict::Abort),
        (255, HookVerdict::Abort),
    ] {
        let path = script(
            dir.path(),
            &format!("exit{code}.sh"),
            &format!("exit {code}"),
        );
        let outcome = run_hook(&hook(&path, &[]), &HookArgs::new(), &[], T).await;
        assert_eq!(outcome.code, Some(code));
        assert_eq!(verdict(&outcome), expected, "exit {code}");
    }
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("grandchild.pid");
    // The script starts a background sleeper (a grandchild holding our pipes),
    // records its pid, then sleeps itself past the timeout.
    let body = format!(
        "sleep 30 &\necho $! > '{}'\necho started\nsleep 30\nexit 0",
        pid_file.display()
    );
    let path = script(dir.path(), "slow.sh", &body);
    let started = Instant::now();
    let outcome = run_hook(
        &hook(&path, &[]),
        &HookArgs::new(),
        &[],
        Duration::from_secs(1),
    )
    .await;
    assert!(outcome.timed_out, "{outcome:?}");
    assert_eq!(outcome.code, None);
    assert_eq!(outcome.signal, Some(libc::SIGKILL));
    assert_eq!(outcome.stdout, "started\n");
    assert_eq!(verdict(&outcome), HookVerdict::Abort);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let grandchild: i32 = read(&pid_file).trim().parse().expect("pid");
    assert_gone(grandchild).await;
}

/// Waits up to 3 s for `pid` to be gone: reaped, or at least a zombie.
async fn assert_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        let alive = state
            .as_deref()
            .and_then(|s| s.rsplit(") ").next())
            .is_some_and(|rest| !rest.starts_with('Z'));
        if !alive {
            return;
        }
        assert!(Instant::now() < deadline, "process {pid} still alive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn cancelling_a_running_hook_kills_its_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("grandchild.pid");
    let body = format!("sleep 30 &\necho $! > '{}'\nsleep 30", pid_file.display());
    let path = script(dir.path(), "cancelled.sh", &body);
    let command = hook(&path, &[]);
    let args = HookArgs::new();
    // The caller gives up after 1 s although the hook's own timeout is 10 s.
    let run = run_hook(&command, &args, &[], T);
    let cancelled = tokio::time::timeout(Duration::from_secs(1), run).await;
    assert!(
        cancelled.is_err(),
        "the hook should still have been running"
    );
    let grandchild: i32 = read(&pid_file).trim().parse().expect("pid");
    assert_gone(grandchild).await;
}

#[tokio::test]
async fn a_background_daemon_holding_stdout_does_not_block_a_finished_hook() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("daemon.pid");
    let body = format!(
        "sleep 5 &\necho $! > '{}'\necho done\nexit 0",
        pid_file.display()
    );
    let path = script(dir.path(), "daemon.sh", &body);
    let started = Instant::now();
    let outcome = run_hook(&hook(&path, &[]), &HookArgs::new(), &[], T).await;
    assert_eq!(outcome.code, Some(0));
    assert!(!outcome.timed_out);
    assert_eq!(outcome.stdout, "done\n");
    // Returned after the drain grace, well before the daemon ends; and `elapsed`
    // is the hook's own run time.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        outcome.elapsed + Duration::from_millis(1500) < started.elapsed(),
        "{:?} vs {:?}",
        outcome.elapsed,
        started.elapsed()
    );
    // Clean up the sleeper we caused, by its recorded pid only.
    if let Ok(pid) = read(&pid_file).trim().parse::<i32>() {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
}

#[tokio::test]
async fn a_missing_script_is_an_abort_not_an_error() {
    let outcome = run_hook(
        &HookCommand {
            argv: vec!["/nonexistent/hook.sh".into()],
        },
        &HookArgs::new(),
        &[],
        T,
    )
    .await;
    assert!(outcome.start_error.is_some(), "{outcome:?}");
    assert_eq!(verdict(&outcome), HookVerdict::Abort);
    assert!(outcome
        .describe()
        .starts_with("could not run: /nonexistent/hook.sh"));

    let empty = run_hook(&HookCommand { argv: vec![] }, &HookArgs::new(), &[], T).await;
    assert_eq!(verdict(&empty), HookVerdict::Abort);
}

#[tokio::test]
async fn output_is_bounded_to_the_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 200,000 bytes of 'x' then a marker line.
    let path = script(
        dir.path(),
        "chatty.sh",
        "head -c 200000 /dev/zero | tr '\\0' x\necho\necho LAST-LINE",
    );
    let outcome = run_hook(&hook(&path, &[]), &HookArgs::new(), &[], T).await;
    assert_eq!(outcome.code, Some(0));
    assert!(outcome.stdout.ends_with("LAST-LINE\n"));
    assert!(outcome.stdout.starts_with("[... "));
    assert!(outcome.stdout.len() < OUTPUT_LIMIT + 100);
}

#[test]
fn verdict_table() {
    let with = |code, timed_out| HookOutcome {
        code,
        timed_out,
        ..HookOutcome::default()
    };
    assert_eq!(verdict(&with(Some(0), false)), HookVerdict::Done);
    assert_eq!(
        verdict(&with(Some(10), false)),
        HookVerdict::FailedButContinue
    );
    assert_eq!(verdict(&with(Some(1), false)), HookVerdict::Abort);
    assert_eq!(verdict(&with(None, false)), HookVerdict::Abort);
    assert_eq!(verdict(&with(Some(0), true)), HookVerdict::Abort);
}

#[test]
fn env_names_and_display() {
    assert_eq!(env_name("orig_master_host"), "HA_ORIG_MASTER_HOST");
    assert_eq!(env_name("pid-file.x"), "HA_PID_FILE_X");
    let cmd = HookCommand {
        argv: vec!["/usr/bin/vip".into(), "a b".into()],
    };
    let args = HookArgs::new().value("body", "it's");
    assert_eq!(
        command_line(&cmd, &args),
        r#"/usr/bin/vip 'a b' '--body=it'\''s'"#
    );
}
