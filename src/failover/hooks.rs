//! The failover's hook calls: `master_ip_failover_script` (`stop`/`stopssh` in
//! phase 2, `start` in phase 3) and `shutdown_script`, with MHA's arguments.
//! Running them and reading their exit is the toolkit's ([`crate::recovery::hook`]).

use super::{Ctx, Phase};
use crate::config::{Config, ServerSpec};
use crate::notify::hooks::{self, HookVerdict};
use crate::recovery::hook::{self, FactSlot, Hook};
use crate::recovery::{os_user, StepError};
use crate::render::hook_args::{self, FailoverCommand, HookServer, ShutdownCommand};

async fn call(
    ctx: &Ctx,
    phase: Phase,
    hook: Hook<'_>,
    slot: FactSlot,
) -> Result<HookVerdict, StepError> {
    let timeout = ctx.kit.config.settings.command_timeout;
    hook::call(ctx.log(phase), hook, slot, timeout, ctx.options.dry_run).await
}

/// Phase 2: take the master IP away from the dead master.
pub(super) async fn ip_stop(
    ctx: &Ctx,
    dead: &ServerSpec,
    ssh_reachable: bool,
) -> Result<(), StepError> {
    let Some(script) = &ctx.kit.config.settings.master_ip_failover_script else {
        return Ok(());
    };
    let command = if ssh_reachable {
        FailoverCommand::StopSsh
    } else {
        FailoverCommand::Stop
    };
    let orig = HookServer::from_spec(dead, &os_user());
    let args = hook_args::master_ip_failover_args(command, &orig, None);
    let hook = Hook {
        name: "master_ip_failover_script",
        script,
        args,
        secrets: vec![],
        host: dead.label(),
    };
    call(ctx, Phase::Shutdown, hook, |f| &mut f.ip_stop).await?;
    Ok(())
}

/// Phase 2: fence the dead master's host. Returns whether SSH may still be
/// used (0 = powered off: no; 10 = only mysqld killed: yes).
pub(super) async fn shutdown(
    ctx: &Ctx,
    dead: &ServerSpec,
    ssh_reachable: bool,
) -> Result<bool, StepError> {
    let Some(script) = &ctx.kit.config.settings.shutdown_script else {
        return Ok(ssh_reachable);
    };
    let command = if ssh_reachable {
        ShutdownCommand::StopSsh
    } else {
        ShutdownCommand::Stop
    };
    let host = HookServer::from_spec(dead, &os_user());
    let args = hook_args::shutdown_args(command, &host, dead.master_pid_file.as_deref());
    let hook = Hook {
        name: "shutdown_script",
        script,
        args,
        secrets: vec![],
        host: dead.label(),
    };
    let verdict = call(ctx, Phase::Shutdown, hook, |f| &mut f.shutdown).await?;
    Ok(ssh_after_shutdown(ssh_reachable, verdict))
}

/// MHA's reading of `shutdown_script`: exit 0 = the host was powered off (SSH
/// is gone with it); exit 10 = only mysqld was stopped (SSH still usable).
fn ssh_after_shutdown(ssh_reachable: bool, verdict: HookVerdict) -> bool {
    ssh_reachable && verdict == HookVerdict::FailedButContinue
}

/// Phase 3: give the master IP to the new master (before it accepts writes).
pub(super) async fn ip_start(
    ctx: &Ctx,
    dead: &ServerSpec,
    new: &ServerSpec,
) -> Result<(), StepError> {
    let Some(script) = &ctx.kit.config.settings.master_ip_failover_script else {
        return Ok(());
    };
    let orig = HookServer::from_spec(dead, &os_user());
    let target = HookServer::from_spec(new, &os_user());
    let args = hook_args::master_ip_failover_args(FailoverCommand::Start, &orig, Some(&target));
    let secrets = vec![(
        hook_args::NEW_MASTER_PASSWORD.to_owned(),
        new.password.clone(),
    )];
    let hook = Hook {
        name: "master_ip_failover_script",
        script,
        args,
        secrets,
        host: new.label(),
    };
    call(ctx, Phase::MasterRecovery, hook, |f| &mut f.ip_start).await?;
    Ok(())
}

/// MHA's start-up check of the failover hooks: `master_ip_failover_script`
/// and `shutdown_script` are each run with `--command=status` about the
/// current master and must exit 0, so that a typo in a path is found before
/// a failover needs the script, not in the middle of one.
pub(crate) async fn check_status(config: &Config, master: &ServerSpec) -> Result<(), StepError> {
    let settings = &config.settings;
    let server = HookServer::from_spec(master, &os_user());
    let mut calls = Vec::new();
    if let Some(script) = &settings.master_ip_failover_script {
        let args = hook_args::master_ip_failover_args(FailoverCommand::Status, &server, None);
        calls.push(("master_ip_failover_script", script, args));
    }
    if let Some(script) = &settings.shutdown_script {
        let args = hook_args::shutdown_args(
            ShutdownCommand::Status,
            &server,
            master.master_pid_file.as_deref(),
        );
        calls.push(("shutdown_script", script, args));
    }
    for (name, script, args) in calls {
        let line = hooks::command_line(script, &args);
        let hook = Hook {
            name,
            script,
            args,
            secrets: vec![],
            host: master.label(),
        };
        let outcome = hook::run_logged(&hook, settings.command_timeout).await;
        if hooks::verdict(&outcome) != HookVerdict::Done {
            return Err(StepError::Hook {
                host: hook.host,
                name,
                outcome: format!(
                    "--command=status: {}; the failover would need it: fix {name} ({line})",
                    outcome.describe()
                ),
            });
        }
        tracing::info!("{name} --command=status: OK.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_script_exit_decides_whether_ssh_is_left() {
        let cases = [
            (true, HookVerdict::Done, false),
            (true, HookVerdict::FailedButContinue, true),
            (false, HookVerdict::FailedButContinue, false),
            (false, HookVerdict::Done, false),
        ];
        for (reachable, verdict, left) in cases {
            assert_eq!(ssh_after_shutdown(reachable, verdict), left, "{verdict:?}");
        }
    }
}
