//! The failover's hook calls, with MHA's contract: `master_ip_failover_script`
//! (`stop`/`stopssh` in phase 2, `start` in phase 3) and `shutdown_script`.
//! Exit 0 = done, 10 = failed but go on, anything else = stop the failover.

use super::{Ctx, Phase, Stop};
use crate::config::{HookCommand, ServerSpec};
use crate::journal::HookRan;
use crate::notify::hooks::{self, HookVerdict};
use crate::render::hook_args::{self, FailoverCommand, HookArgs, HookServer, ShutdownCommand};

fn os_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "root".into())
}

/// Runs one hook and turns its exit into go on / stop, recording both.
async fn call(
    ctx: &Ctx,
    phase: Phase,
    name: &str,
    script: &HookCommand,
    args: HookArgs,
    secrets: Vec<(String, crate::config::Secret)>,
    host: &str,
) -> Result<(HookRan, HookVerdict), Stop> {
    let line = hooks::command_line(script, &args);
    if ctx.options.dry_run {
        ctx.steps
            .info(phase, Some(host), &format!("would run {name}: {line}"));
        return Ok((
            HookRan {
                code: Some(0),
                note: Some("dry run".into()),
            },
            HookVerdict::Done,
        ));
    }
    let outcome =
        hooks::run_hook(script, &args, &secrets, ctx.config.settings.command_timeout).await;
    let verdict = hooks::verdict(&outcome);
    let output = format!("{}{}", outcome.stdout, outcome.stderr);
    for l in output.lines().filter(|l| !l.trim().is_empty()) {
        tracing::info!("  {name}: {l}");
    }
    match verdict {
        HookVerdict::Done => ctx
            .steps
            .ok(phase, Some(host), &format!("{name} done: {line}")),
        HookVerdict::FailedButContinue => ctx.steps.warn(
            phase,
            Some(host),
            &format!("{name} failed but asked to go on (exit 10): {line}"),
        ),
        HookVerdict::Abort => {
            ctx.steps.fail(
                phase,
                Some(host),
                &format!("{name} failed ({}): {line}", outcome.describe()),
            );
            return Err(Stop::new(
                phase,
                format!(
                    "{name} failed ({}); the failover stops here",
                    outcome.describe()
                ),
            ));
        }
    }
    Ok((outcome.fact(), verdict))
}

/// Phase 2: take the master IP away from the dead master.
pub async fn ip_stop(ctx: &Ctx, dead: &ServerSpec, ssh_reachable: bool) -> Result<(), Stop> {
    let Some(script) = &ctx.config.settings.master_ip_failover_script else {
        return Ok(());
    };
    let command = if ssh_reachable {
        FailoverCommand::StopSsh
    } else {
        FailoverCommand::Stop
    };
    let orig = HookServer::from_spec(dead, &os_user());
    let args = hook_args::master_ip_failover_args(command, &orig, None);
    let (ran, _) = call(
        ctx,
        Phase::Shutdown,
        "master_ip_failover_script",
        script,
        args,
        vec![],
        &dead.label(),
    )
    .await?;
    ctx.steps.facts(|f| f.ip_stop = Some(ran));
    Ok(())
}

/// Phase 2: fence the dead master's host. Returns whether SSH may still be
/// used (0 = powered off: no; 10 = only mysqld killed: yes).
pub async fn shutdown(ctx: &Ctx, dead: &ServerSpec, ssh_reachable: bool) -> Result<bool, Stop> {
    let Some(script) = &ctx.config.settings.shutdown_script else {
        return Ok(ssh_reachable);
    };
    let command = if ssh_reachable {
        ShutdownCommand::StopSsh
    } else {
        ShutdownCommand::Stop
    };
    let host = HookServer::from_spec(dead, &os_user());
    let args = hook_args::shutdown_args(command, &host, dead.master_pid_file.as_deref());
    let (ran, verdict) = call(
        ctx,
        Phase::Shutdown,
        "shutdown_script",
        script,
        args,
        vec![],
        &dead.label(),
    )
    .await?;
    ctx.steps.facts(|f| f.shutdown = Some(ran));
    Ok(ssh_reachable && verdict == HookVerdict::FailedButContinue)
}

/// Phase 3: give the master IP to the new master (before it accepts writes).
pub async fn ip_start(ctx: &Ctx, dead: &ServerSpec, new: &ServerSpec) -> Result<(), Stop> {
    let Some(script) = &ctx.config.settings.master_ip_failover_script else {
        return Ok(());
    };
    let orig = HookServer::from_spec(dead, &os_user());
    let target = HookServer::from_spec(new, &os_user());
    let args = hook_args::master_ip_failover_args(FailoverCommand::Start, &orig, Some(&target));
    let secrets = vec![(
        hook_args::NEW_MASTER_PASSWORD.to_owned(),
        new.password.clone(),
    )];
    let (ran, _) = call(
        ctx,
        Phase::MasterRecovery,
        "master_ip_failover_script",
        script,
        args,
        secrets,
        &new.label(),
    )
    .await?;
    ctx.steps.facts(|f| f.ip_start = Some(ran));
    Ok(())
}
