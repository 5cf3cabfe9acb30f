//! Notifications: hook scripts (MHA argv contract), the failover report, SMTP.
//!
//! - [`hooks`]: run a hook without a shell, with a timeout, output captured;
//!   MHA's exit-code meanings as pure functions.
//!   The argument lists themselves ([`hook_args`](crate::render::hook_args))
//!   and the report text ([`report`](crate::render::report)) are pure and live
//!   in [`render`](crate::render).
//! - [`mail`]: SMTP delivery with lettre.
//! - [`Notifier`]: sends a report by mail and/or `report_script`; failures are
//!   returned as values and never stop a failover.

pub(crate) mod hooks;
pub(crate) mod mail;

use std::path::PathBuf;
use std::time::Duration;

use crate::config::model::{AppSettings, Config, HookCommand, SmtpSettings};
use crate::render::hook_args::{report_args, HookArgs};
use crate::render::report::Report;

pub(crate) use hooks::{run_hook, verdict, HookOutcome, HookVerdict};
pub(crate) use mail::{send_report, MailError};

/// Default bound on the SMTP delivery and on `report_script`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Delivers reports through the configured channels.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    app: String,
    /// The application's config file, passed to `report_script` as `--conf`.
    conf: PathBuf,
    smtp: Option<SmtpSettings>,
    report_script: Option<HookCommand>,
    timeout: Duration,
}

/// What each channel did. `None` = the channel is not configured.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub mail: Option<Result<(), MailError>>,
    pub report_script: Option<HookOutcome>,
}

impl Delivery {
    /// Every configured channel worked (`report_script` exited 0).
    pub(crate) fn all_ok(&self) -> bool {
        let mail_ok = self.mail.as_ref().is_none_or(Result::is_ok);
        let script_ok = self
            .report_script
            .as_ref()
            .is_none_or(|o| verdict(o) == HookVerdict::Done);
        mail_ok && script_ok
    }
}

impl Notifier {
    /// From the application settings; `conf` is the file `report_script` is told about.
    pub(crate) fn new(
        app: impl Into<String>,
        conf: impl Into<PathBuf>,
        settings: &AppSettings,
    ) -> Self {
        Notifier::with_channels(
            app,
            conf,
            settings.smtp.clone(),
            settings.report_script.clone(),
        )
    }

    /// With the channels given directly.
    pub(crate) fn with_channels(
        app: impl Into<String>,
        conf: impl Into<PathBuf>,
        smtp: Option<SmtpSettings>,
        report_script: Option<HookCommand>,
    ) -> Self {
        Notifier {
            app: app.into(),
            conf: conf.into(),
            smtp,
            report_script,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// From a loaded config: its app name and its last (the application's) file.
    pub(crate) fn from_config(config: &Config) -> Self {
        let conf = config.files.last().cloned().unwrap_or_default();
        Notifier::new(config.app.clone(), conf, &config.settings)
    }

    /// Bounds each channel (default [`DEFAULT_TIMEOUT`]).
    #[cfg(test)]
    pub(crate) fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Nothing configured: the report only goes to the log.
    #[cfg(test)]
    pub(crate) fn is_silent(&self) -> bool {
        self.smtp.is_none() && self.report_script.is_none()
    }

    /// The `report_script` arguments for `report`: MHA's headline as `--subject`
    /// (what MHA passed), the body as `--body`, the app in `HA_APP`.
    pub(crate) fn report_script_args(&self, report: &Report) -> HookArgs {
        report_args(
            &report.hosts.orig_master,
            report.hosts.new_master.as_deref(),
            &report.hosts.new_slaves,
            &report.headline,
            &report.body,
            &self.conf,
        )
        .env("app", &self.app)
        .env("mail_subject", &report.subject)
    }

    /// Sends by mail and runs `report_script`, concurrently. Never fails.
    pub(crate) async fn deliver(&self, report: &Report) -> Delivery {
        let mail = async {
            match &self.smtp {
                Some(smtp) => Some(send_report(smtp, report, self.timeout).await),
                None => None,
            }
        };
        let script = async {
            match &self.report_script {
                Some(command) => {
                    let args = self.report_script_args(report);
                    Some(run_hook(command, &args, &[], self.timeout).await)
                }
                None => None,
            }
        };
        let (mail, report_script) = tokio::join!(mail, script);
        Delivery {
            mail,
            report_script,
        }
    }
}

#[cfg(test)]
mod tests;
