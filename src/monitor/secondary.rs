//! The real [`SecondaryCheck`]: `secondary_check_script` run through the
//! hook runner with MHA's arguments.

use async_trait::async_trait;
use std::time::Duration;

use crate::config::{AppSettings, HookCommand, PingType, ServerSpec};
use crate::notify::hooks;
use crate::render::hook_args;

use super::SecondaryCheck;
use crate::policy::death::SecondaryResult;

/// `secondary_check_script` run through the hook runner, MHA's arguments.
pub(crate) struct HookSecondary {
    script: HookCommand,
    timeout: Duration,
    ping_type: PingType,
}

impl HookSecondary {
    /// The configured check, if there is one (`command_timeout` bounds it).
    pub(crate) fn from_settings(settings: &AppSettings) -> Option<HookSecondary> {
        let script = settings.secondary_check_script.as_ref()?;
        Some(HookSecondary {
            script: script.clone(),
            timeout: settings.command_timeout,
            ping_type: settings.ping_type,
        })
    }
}

#[async_trait]
impl SecondaryCheck for HookSecondary {
    async fn run(&self, master: &ServerSpec) -> SecondaryResult {
        let server = hook_args::HookServer::from_spec(master, &os_user());
        let args = hook_args::secondary_check_args(&server, self.ping_type);
        let secrets = vec![(
            hook_args::MASTER_PASSWORD.to_owned(),
            master.password.clone(),
        )];
        let outcome = hooks::run_hook(&self.script, &args, &secrets, self.timeout).await;
        match outcome.code {
            Some(code) => SecondaryResult::Exit(code),
            None => SecondaryResult::CouldNotRun(outcome.describe()),
        }
    }
}

fn os_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "root".into())
}
