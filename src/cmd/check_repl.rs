//! `check-repl`: validate replication and show the election (MHA's `masterha_check_repl`).

use crate::check;
use crate::cli::LagArgs;
use crate::config::Config;
use crate::exit::Exit;

pub(super) async fn run(config: &Config, lag: &LagArgs) -> Exit {
    let report = check::repl::run(
        config,
        super::adapters::connector(),
        lag.seconds_behind_master,
    )
    .await;
    super::print(report)
}
