//! The connections a switch's freeze and promotion run on, and the ledger of
//! what they changed (what an undo has to put back).

use super::{Checked, Ctx};
use crate::mysql::Db;
use crate::recovery::StepError;

/// The connections the freeze and the promotion run on, opened before the
/// freeze so that connecting does not lengthen it.
pub(super) struct Conns {
    pub old: Box<dyn Db>,
    pub new: Box<dyn Db>,
}

impl Conns {
    pub(super) async fn open(ctx: &Ctx, checked: &Checked) -> Result<Conns, StepError> {
        let topo = &checked.topology;
        let (old, new) = tokio::join!(
            ctx.kit.connect(topo.spec(checked.master)),
            ctx.kit.connect(topo.spec(checked.new_master)),
        );
        match (old, new) {
            (Ok(old), Ok(new)) => Ok(Conns { old, new }),
            (Err(e), other) => {
                if let Ok(db) = other {
                    db.close().await;
                }
                Err(e)
            }
            (Ok(db), Err(e)) => {
                db.close().await;
                Err(e)
            }
        }
    }

    pub(super) async fn close(self) {
        self.old.close().await;
        self.new.close().await;
    }
}

/// What has been changed so far: what the undo has to put back.
#[derive(Debug, Clone, Default)]
pub(super) struct Done {
    /// `--command=stop` ran and did not abort.
    pub stop_hook_ran: bool,
    /// read_only=1 was sent to the old master.
    pub old_read_only: bool,
    /// FLUSH TABLES WITH READ LOCK holds on the old master.
    pub old_tables_locked: bool,
    /// The new master's replication was stopped.
    pub new_replica_stopped: bool,
    /// read_only=0 was sent to the new master.
    pub new_writable: bool,
}
