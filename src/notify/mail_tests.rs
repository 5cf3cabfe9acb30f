//! Tests of SMTP delivery against a tiny fake server on 127.0.0.1.

use super::*;
use crate::config::model::Secret;
use crate::render::report::ReportHosts;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the fake server saw in one session.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub commands: Vec<String>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
}

/// How the fake server behaves.
#[derive(Clone, Copy)]
pub(crate) enum Fake {
    /// Plain SMTP; `auth` advertises AUTH PLAIN.
    Smtp { auth: bool },
    /// Accepts and then says nothing.
    Silent,
}

/// Listens on 127.0.0.1:0 and serves one connection.
pub(crate) async fn fake_smtp(mode: Fake) -> (u16, JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut seen = Seen::default();
        let Ok((stream, _)) = listener.accept().await else {
            return seen;
        };
        let auth = match mode {
            Fake::Silent => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return seen;
            }
            Fake::Smtp { auth } => auth,
        };
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        reply(&mut write, "220 fake.test ESMTP\r\n".into()).await;
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    reply(&mut write, "250 queued\r\n".into()).await;
                } else {
                    // Undo dot-stuffing.
                    let line = line.strip_prefix('.').unwrap_or(&line);
                    seen.data.push_str(line);
                    seen.data.push('\n');
                }
                continue;
            }
            seen.commands.push(line.clone());
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                let text = if auth {
                    "250-fake.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
                } else {
                    "250-fake.test\r\n250 8BITMIME\r\n"
                };
                reply(&mut write, text.into()).await;
            } else if upper.starts_with("AUTH") {
                reply(&mut write, "235 ok\r\n".into()).await;
            } else if upper.starts_with("MAIL FROM:") {
                seen.mail_from = line[10..].to_string();
                reply(&mut write, "250 ok\r\n".into()).await;
            } else if upper.starts_with("RCPT TO:") {
                seen.rcpt_to.push(line[8..].to_string());
                reply(&mut write, "250 ok\r\n".into()).await;
            } else if upper == "DATA" {
                in_data = true;
                reply(&mut write, "354 go ahead\r\n".into()).await;
            } else if upper == "QUIT" {
                reply(&mut write, "221 bye\r\n".into()).await;
                break;
            } else {
                reply(&mut write, "250 ok\r\n".into()).await;
            }
        }
        seen
    });
    (port, task)
}

async fn reply(write: &mut tokio::net::tcp::OwnedWriteHalf, text: String) {
    // The client may have gone; the test then fails on what it did not see.
    let _ = write.write_all(text.as_bytes()).await;
}

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        from: "ha-manager@example.test".into(),
        to: vec!["dba@example.test".into(), "oncall@example.test".into()],
        user: None,
        password: None,
        tls: SmtpTls::None,
    }
}

fn report() -> Report {
    Report {
        subject: "Failover report: app1: db1 is down, db2 is new master".into(),
        headline: "app1: MySQL Master failover db1(198.18.0.11:3306) to db2(198.18.0.12:3306) succeeded".into(),
        body: "Master db1(198.18.0.11:3306) is down!\n\n.leading dot line\nMaster failover to db2(198.18.0.12:3306) completed successfully.\n".into(),
        hosts: ReportHosts::default(),
    }
}

/// Decodes quoted-printable (lettre picks it for lines over 76 characters).
fn unqp(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn plain_smtp_delivers_subject_body_and_every_recipient() {
    let (port, server) = fake_smtp(Fake::Smtp { auth: false }).await;
    send_report(&settings(port), &report(), T)
        .await
        .expect("sent");
    let seen = server.await.expect("server");

    assert_eq!(seen.mail_from, "<ha-manager@example.test>");
    assert_eq!(
        seen.rcpt_to,
        ["<dba@example.test>", "<oncall@example.test>"]
    );
    assert!(
        seen.commands.iter().any(|c| c == "QUIT"),
        "{:?}",
        seen.commands
    );
    assert!(!seen.commands.iter().any(|c| c.starts_with("AUTH")));

    let data = unqp(&seen.data);
    assert!(
        data.contains("Subject: Failover report: app1: db1 is down, db2 is new master\n"),
        "{data}"
    );
    assert!(
        data.contains("To: dba@example.test, oncall@example.test\n"),
        "{data}"
    );
    assert!(data.contains("Message-ID: <"), "{data}");
    assert!(data.contains(
        "app1: MySQL Master failover db1(198.18.0.11:3306) to db2(198.18.0.12:3306) succeeded\n"
    ));
    assert!(data.contains("\n.leading dot line\n"), "{data}");
    assert!(data.contains("Master failover to db2(198.18.0.12:3306) completed successfully."));
}

#[tokio::test]
async fn credentials_are_sent_with_auth_plain() {
    let (port, server) = fake_smtp(Fake::Smtp { auth: true }).await;
    let mut smtp = settings(port);
    smtp.user = Some("reporter".into());
    smtp.password = Some(Secret::new("pw"));
    send_report(&smtp, &report(), T).await.expect("sent");
    let seen = server.await.expect("server");
    // base64("\0reporter\0pw")
    assert!(
        seen.commands
            .iter()
            .any(|c| c == "AUTH PLAIN AHJlcG9ydGVyAHB3"),
        "{:?}",
        seen.commands
    );
}

#[tokio::test]
async fn starttls_required_but_not_offered_is_an_error() {
    let (port, server) = fake_smtp(Fake::Smtp { auth: false }).await;
    let mut smtp = settings(port);
    smtp.tls = SmtpTls::StartTls;
    let err = send_report(&smtp, &report(), T)
        .await
        .expect_err("must not fall back to plain text");
    assert!(matches!(err, MailError::Smtp { .. }), "{err:?}");
    let seen = server.await.expect("server");
    assert!(seen.rcpt_to.is_empty() && seen.data.is_empty(), "{seen:?}");
}

#[tokio::test]
async fn implicit_tls_against_a_plain_server_fails() {
    let (port, server) = fake_smtp(Fake::Smtp { auth: false }).await;
    let mut smtp = settings(port);
    smtp.tls = SmtpTls::Tls;
    assert!(send_report(&smtp, &report(), T).await.is_err());
    server.abort();
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let (port, server) = fake_smtp(Fake::Silent).await;
    let started = std::time::Instant::now();
    let err = send_report(&settings(port), &report(), Duration::from_millis(300))
        .await
        .expect_err("timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(err, MailError::Timeout { .. } | MailError::Smtp { .. }),
        "{err:?}"
    );
    server.abort();
}

#[test]
fn bad_addresses_and_no_recipients_are_errors() {
    let mut smtp = settings(25);
    smtp.from = "not an address".into();
    assert!(matches!(
        build_message(&smtp, &report()),
        Err(MailError::Address { .. })
    ));
    let mut smtp = settings(25);
    smtp.to.clear();
    assert!(matches!(
        build_message(&smtp, &report()),
        Err(MailError::NoRecipients)
    ));
}
