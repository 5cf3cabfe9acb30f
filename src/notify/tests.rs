//! Tests of the [`Notifier`]: both channels, and failures kept as values.

use super::mail::tests::{fake_smtp, Fake};
use super::*;
use crate::config::model::SmtpTls;
use crate::journal::{Facts, HostRef, Journal, SlaveOutcome, SlaveResult};
use crate::render::report::render;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn finished_journal() -> Journal {
    Journal::new(Facts {
        app: "app1".into(),
        manager_host: "mgr1".into(),
        dead_master: Some(HostRef::new("db1", "198.18.0.11", 3306)),
        new_master: Some(HostRef::new("db2", "198.18.0.12", 3306)),
        new_master_recovered: true,
        slaves: vec![SlaveOutcome {
            host: HostRef::new("db3", "198.18.0.13", 3306),
            has_latest_relay_log: true,
            result: SlaveResult::Ok,
        }],
        finished: true,
        ..Facts::default()
    })
}

/// A report_script that writes its arguments, one per NUL-terminated record.
fn report_script(dir: &Path) -> (HookCommand, std::path::PathBuf) {
    let out = dir.join("args.bin");
    let path = dir.join("report.sh");
    let body = format!(
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > '{}'\nprintf 'APP=%s\\0' \"$HA_APP\" >> '{}'\nexit 0\n",
        out.display(),
        out.display()
    );
    std::fs::write(&path, body).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (
        HookCommand {
            argv: vec![path.display().to_string()],
        },
        out,
    )
}

#[tokio::test]
async fn delivers_by_mail_and_report_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (script, out) = report_script(dir.path());
    let (port, server) = fake_smtp(Fake::Smtp { auth: false }).await;
    let smtp = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        from: "ha@example.test".into(),
        to: vec!["dba@example.test".into()],
        user: None,
        password: None,
        tls: SmtpTls::None,
    };
    let notifier = Notifier::with_channels("app1", "/etc/ha/app1.cnf", Some(smtp), Some(script))
        .with_timeout(Duration::from_secs(10));
    let report = render(&finished_journal());
    let delivery = notifier.deliver(&report).await;
    assert!(delivery.all_ok(), "{delivery:?}");

    let seen = server.await.expect("server");
    assert_eq!(seen.rcpt_to, ["<dba@example.test>"]);

    let raw = std::fs::read(&out).expect("script output");
    let words: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    assert_eq!(
        words,
        [
            "--orig_master_host=db1".to_string(),
            "--new_master_host=db2".to_string(),
            "--new_slave_hosts=db3".to_string(),
            "--conf=/etc/ha/app1.cnf".to_string(),
            format!("--subject={}", report.headline),
            format!("--body={}", report.body),
            "APP=app1".to_string(),
        ]
    );
}

#[tokio::test]
async fn failures_are_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on this port once the listener is dropped.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        l.local_addr().expect("addr").port()
    };
    let smtp = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        from: "ha@example.test".into(),
        to: vec!["dba@example.test".into()],
        user: None,
        password: None,
        tls: SmtpTls::None,
    };
    let missing = HookCommand {
        argv: vec![dir.path().join("no-such-script").display().to_string()],
    };
    let notifier = Notifier::with_channels("app1", "c", Some(smtp), Some(missing))
        .with_timeout(Duration::from_secs(5));
    let delivery = notifier.deliver(&render(&finished_journal())).await;
    assert!(matches!(delivery.mail, Some(Err(_))), "{delivery:?}");
    assert!(delivery
        .report_script
        .as_ref()
        .is_some_and(|o| o.start_error.is_some()));
    assert!(!delivery.all_ok());
}

#[tokio::test]
async fn nothing_configured_is_silent() {
    let notifier = Notifier::with_channels("app1", "c", None, None);
    assert!(notifier.is_silent());
    let delivery = notifier.deliver(&render(&finished_journal())).await;
    assert!(delivery.mail.is_none() && delivery.report_script.is_none());
    assert!(delivery.all_ok());
}
