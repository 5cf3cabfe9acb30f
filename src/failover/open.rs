//! Phase 3.5, opening the new master for writes: stop its replication, apply
//! the dead master's saved binlog, move the master IP to it
//! (`master_ip_failover_script --command=start`), then `read_only=0`
//! (unless `--skip-disable-read-only`).

use super::catch_up::apply_tail;
use super::{Ctx, Phase};
use crate::config::ServerSpec;
use crate::recovery::StepError;
use crate::topology::position::BinlogPos;

/// Returns the new master's binlog position once it had everything.
pub(super) async fn open(
    ctx: &Ctx,
    dead: &ServerSpec,
    new: &ServerSpec,
    tail: Option<&std::path::Path>,
) -> Result<Option<BinlogPos>, StepError> {
    let log = ctx.log(Phase::MasterRecovery);
    let label = new.label();
    let db = ctx.kit.connect(new).await?;
    let result = async {
        db.stop_replica()
            .await
            .map_err(|e| StepError::db(&label, "stopping replication", e))?;
        if let Some(tail) = tail {
            let applied = apply_tail(&ctx.kit, new, None, tail).await?;
            log.ok(
                Some(&label),
                &format!("the dead master's binlog tail: {}", applied.summary()),
            );
        }
        log.ok(Some(&label), "OK: Applying all logs succeeded.");
        super::hooks::ip_start(ctx, dead, new).await?;
        let facts = db
            .facts()
            .await
            .map_err(|e| StepError::db(&label, "reading its binlog position", e))?;
        if !ctx.options.skip_disable_read_only {
            db.set_read_only(false)
                .await
                .map_err(|e| StepError::db(&label, "setting read_only=0", e))?;
        }
        Ok(facts.binlog)
    }
    .await;
    db.close().await;
    let position = result?;
    let text = position.as_ref().map(ToString::to_string);
    ctx.kit.log.facts(|f| {
        f.new_master_recovered = true;
        f.positions.new_master = text;
    });
    let at = position
        .as_ref()
        .map(|p| format!(" (binlog at {p})"))
        .unwrap_or_default();
    if ctx.options.skip_disable_read_only {
        log.warn(
            Some(&label),
            &format!(
                "--skip-disable-read-only: read_only left as it was{at}; the new master takes \
                 no writes until you SET GLOBAL read_only=0 on it"
            ),
        );
    } else {
        log.ok(
            Some(&label),
            &format!("read_only=0: the new master accepts writes{at}"),
        );
    }
    Ok(position)
}
