//! Phase 2, dead master shutdown: stop every slave's IO thread, find out whether
//! the dead master's host answers SSH (that decides what can be saved), and
//! fence it: if its mysqld is somehow alive, make it read-only.

use futures_util::future::join_all;

use super::check::Checked;
use super::{Ctx, Phase, Stop};
use crate::recovery::StepError;

/// What phase 2 learnt.
pub(super) struct Fenced {
    pub ssh_reachable: bool,
}

pub(super) async fn fence(
    ctx: &Ctx,
    checked: &Checked,
    known_ssh: Option<bool>,
) -> Result<Fenced, Stop> {
    let topology = &checked.topology;
    let log = ctx.log(Phase::Shutdown);
    let stop = Stop::at(Phase::Shutdown);
    if !ctx.options.dry_run {
        let stops = checked.slaves.iter().map(|&i| async move {
            let spec = &topology.node(i).spec;
            let result = async {
                let db = ctx.kit.connect(spec).await?;
                let r = db.stop_replica_io().await;
                db.close().await;
                r.map_err(|e| StepError::db(spec.label(), "could not stop the IO thread", e))
            }
            .await;
            (i, result)
        });
        for (i, result) in join_all(stops).await {
            let label = topology.label(i);
            match result {
                Ok(()) => log.ok(Some(&label), "IO thread stopped."),
                Err(e) if topology.node(i).spec.ignore_fail => {
                    log.error_as_warning(&e, "ignored (ignore_fail=1)")
                }
                Err(e) => return Err(stop(e)),
            }
        }
        stop_detached_new_master(ctx, checked)
            .await
            .map_err(&stop)?;
    }

    let master = &topology.node(checked.master).spec;
    let label = master.label();
    let ssh_timeout = master.ssh.connection_timeout + std::time::Duration::from_secs(5);
    // The monitor just checked; asking again would only wait out the same timeout.
    let ssh_reachable = match known_ssh {
        Some(known) => known,
        None => matches!(
            ctx.kit.remote.run(&master.ssh, &["true".to_owned()], ssh_timeout).await,
            Ok(out) if out.success()
        ),
    };
    super::hooks::ip_stop(ctx, master, ssh_reachable)
        .await
        .map_err(&stop)?;
    // shutdown_script exit 0 means the host was powered off: SSH is gone with it.
    let ssh_reachable = super::hooks::shutdown(ctx, master, ssh_reachable)
        .await
        .map_err(&stop)?;
    if ssh_reachable {
        log.info(Some(&label), "host answers SSH: its binlog can be saved");
        if !ctx.options.dry_run {
            fence_alive_mysqld(ctx, master).await;
        }
    } else {
        log.warn(
            Some(&label),
            "host does not answer SSH: its binlog cannot be saved",
        );
    }
    Ok(Fenced { ssh_reachable })
}

/// Resuming: a new master the interrupted failover left replicating from
/// another slave (mid catch-up) is stopped; the catch-up runs again.
async fn stop_detached_new_master(ctx: &Ctx, checked: &Checked) -> Result<(), StepError> {
    let Some(n) = checked.new_master else {
        return Ok(());
    };
    let topology = &checked.topology;
    if checked.slaves.contains(&n) || topology.replica(n).is_none() {
        return Ok(());
    }
    let spec = &topology.node(n).spec;
    let db = ctx.kit.connect(spec).await?;
    let r = db.stop_replica().await;
    db.close().await;
    r.map_err(|e| StepError::db(spec.label(), "could not stop its replication", e))?;
    ctx.log(Phase::Shutdown).ok(
        Some(&spec.label()),
        "replication of the new master stopped.",
    );
    Ok(())
}

/// If the dead master's mysqld still runs (the manager lost only its own path
/// to it), make it read-only from its own host so it can never take writes.
async fn fence_alive_mysqld(ctx: &Ctx, master: &crate::config::ServerSpec) {
    let log = ctx.log(Phase::Shutdown);
    let label = master.label();
    let host = Some(label.as_str());
    let node = ctx.kit.node(master);
    let Some((client, client_version)) = node.find_tool(&["mariadb", "mysql"]).await else {
        log.warn(
            host,
            "fencing: no mariadb/mysql client on the host; its mysqld (if it runs) was not set \
             read-only",
        );
        return;
    };
    let dir = master.remote_workdir.trim_end_matches('/');
    let cnf = format!("{dir}/ha-manager-fence.cnf");
    let defaults = crate::transport::node::client_defaults(master, &client_version).into_bytes();
    if let Err(e) = node.upload_private(&cnf, defaults).await {
        log.warn(
            host,
            &format!(
                "fencing: cannot write {cnf} ({e}); its mysqld (if it runs) was not set read-only"
            ),
        );
        return;
    }
    let run = |sql: &str| {
        node.ok(vec![
            client.clone(),
            format!("--defaults-extra-file={cnf}"),
            "-e".to_owned(),
            sql.to_owned(),
        ])
    };
    match run("SET GLOBAL read_only = 1").await {
        Ok(_) => {
            log.warn(
                host,
                "fencing: mysqld was still running: set read_only=1 on it",
            );
            // MySQL also has super_read_only (MariaDB does not: that error is expected).
            if run("SET GLOBAL super_read_only = 1").await.is_ok() {
                log.info(host, "fencing: set super_read_only=1 on it");
            }
        }
        Err(e) => log.info(
            host,
            &format!("fencing: its mysqld does not answer locally either ({e}): nothing to set"),
        ),
    }
    node.remove(&cnf).await;
}
