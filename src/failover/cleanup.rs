//! Phase 5, new master cleanup: forget the old replication source on the new master
//! (not with `skip_reset_slave=1` in its block, nor with `--skip-change-master`, as MHA).

use super::{Ctx, Phase};
use crate::config::ServerSpec;
use crate::recovery::StepError;

pub(super) async fn cleanup(ctx: &Ctx, spec: &ServerSpec) {
    let log = ctx.log(Phase::Cleanup);
    let label = spec.label();
    if ctx.options.skip_change_master {
        log.info(
            Some(&label),
            "--skip-change-master: phase 5 skipped, the new master keeps its replication settings",
        );
        return;
    }
    if spec.skip_reset_slave {
        log.info(
            Some(&label),
            "skip_reset_slave=1: replication settings kept",
        );
        return;
    }
    let result = async {
        let db = ctx.kit.connect(spec).await?;
        let r = db.reset_replica_all().await;
        db.close().await;
        r.map_err(|e| StepError::db(&label, "RESET SLAVE ALL failed", e))
    }
    .await;
    ctx.kit
        .log
        .facts(|f| f.new_master_reset = Some(result.is_ok()));
    match result {
        Ok(()) => log.ok(Some(&label), "Resetting slave info succeeded."),
        Err(e) => log.error_as_warning(&e, "the new master still has the old replication settings"),
    }
}
