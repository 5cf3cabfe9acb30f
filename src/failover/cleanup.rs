//! Phase 5, new master cleanup: forget the old replication source on the new master.

use super::{Ctx, Phase};
use crate::config::ServerSpec;
use crate::recovery::StepError;

pub(super) async fn cleanup(ctx: &Ctx, spec: &ServerSpec) {
    let log = ctx.log(Phase::Cleanup);
    let label = spec.label();
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
