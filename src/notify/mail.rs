//! Sending the report by SMTP with lettre (rustls, no system TLS library).
//!
//! `SmtpTls::None` speaks plain SMTP, `StartTls` requires the upgrade (a server
//! that does not offer it is an error, never a silent fallback to plain text),
//! `Tls` is TLS from the first byte (SMTPS, usually port 465). Server
//! certificates are checked against the Mozilla roots (`webpki-roots`). The
//! password leaves its [`Secret`](crate::config::model::Secret) only to be
//! handed to lettre.

use std::time::Duration;

use lettre::address::AddressError;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::model::{SmtpSettings, SmtpTls};

use crate::render::report::Report;

/// Why the report mail was not sent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MailError {
    #[error("invalid mail address {address:?}")]
    Address {
        address: String,
        #[source]
        source: AddressError,
    },
    #[error("no recipients configured (smtp_to is empty)")]
    NoRecipients,
    #[error("cannot build the mail")]
    Build(#[source] lettre::error::Error),
    #[error("cannot set up TLS for {host}")]
    Tls {
        host: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("SMTP to {host}:{port} failed")]
    Smtp {
        host: String,
        port: u16,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("SMTP to {host}:{port} did not finish within {}s", .after.as_secs_f64())]
    Timeout {
        host: String,
        port: u16,
        after: Duration,
    },
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address.parse().map_err(|source| MailError::Address {
        address: address.to_string(),
        source,
    })
}

/// Builds the message: `From: smtp_from`, `To:` every `smtp_to`, the report's
/// subject, and its headline and body as plain text.
pub(crate) fn build_message(smtp: &SmtpSettings, report: &Report) -> Result<Message, MailError> {
    if smtp.to.is_empty() {
        return Err(MailError::NoRecipients);
    }
    let mut builder = Message::builder()
        .from(mailbox(&smtp.from)?)
        .subject(report.subject.clone())
        // A Message-ID (random, @ our host name): relays and spam filters expect one.
        .message_id(None)
        .header(ContentType::TEXT_PLAIN);
    for to in &smtp.to {
        builder = builder.to(mailbox(to)?);
    }
    builder.body(report.mail_text()).map_err(MailError::Build)
}

fn transport(
    smtp: &SmtpSettings,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let tls_params = || {
        TlsParameters::new(smtp.host.clone()).map_err(|source| MailError::Tls {
            host: smtp.host.clone(),
            source,
        })
    };
    let tls = match smtp.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::StartTls => Tls::Required(tls_params()?),
        SmtpTls::Tls => Tls::Wrapper(tls_params()?),
    };
    // builder_dangerous only means "no TLS chosen for you": we set it explicitly.
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(timeout));
    if let Some(user) = &smtp.user {
        let password = smtp
            .password
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// Sends `report` to every recipient. `timeout` bounds each SMTP exchange and
/// the whole delivery.
pub(crate) async fn send_report(
    smtp: &SmtpSettings,
    report: &Report,
    timeout: Duration,
) -> Result<(), MailError> {
    let message = build_message(smtp, report)?;
    let mailer = transport(smtp, timeout)?;
    match tokio::time::timeout(timeout, mailer.send(message)).await {
        Ok(Ok(_response)) => Ok(()),
        Ok(Err(source)) => Err(MailError::Smtp {
            host: smtp.host.clone(),
            port: smtp.port,
            source,
        }),
        Err(_) => Err(MailError::Timeout {
            host: smtp.host.clone(),
            port: smtp.port,
            after: timeout,
        }),
    }
}

#[cfg(test)]
#[path = "mail_tests.rs"]
pub(crate) mod tests;
