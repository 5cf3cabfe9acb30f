//! Phase 5, new master cleanup: forget the old replication source on the new master.

use super::check::Checked;
use super::recover_master::Promoted;
use super::{Ctx, Phase};

pub async fn cleanup(ctx: &Ctx, checked: &Checked, promoted: &Promoted) {
    let spec = &checked.topology.nodes[promoted.new_master].spec;
    let label = spec.label();
    if spec.skip_reset_slave {
        ctx.steps.info(
            Phase::Cleanup,
            Some(&label),
            "skip_reset_slave=1: replication settings kept",
        );
        return;
    }
    let result = async {
        let db = ctx
            .connector
            .connect(spec, ctx.config.settings.mysql_timeout)
            .await?;
        let r = db.reset_replica_all().await;
        db.close().await;
        r
    }
    .await;
    ctx.steps
        .facts(|f| f.new_master_reset = Some(result.is_ok()));
    match result {
        Ok(()) => ctx.steps.ok(
            Phase::Cleanup,
            Some(&label),
            "Resetting slave info succeeded.",
        ),
        Err(e) => ctx.steps.warn(
            Phase::Cleanup,
            Some(&label),
            &format!("RESET SLAVE ALL failed: {e}"),
        ),
    }
}
