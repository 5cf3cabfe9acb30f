//! `check-ssh`: SSH from the manager to every node (MHA's `masterha_check_ssh`).

use crate::check;
use crate::config::Config;
use crate::exit::Exit;

use super::Adapters;

pub(super) async fn run(config: &Config) -> anyhow::Result<Exit> {
    let adapters = Adapters::real(config)?;
    let report = check::ssh::run(config, adapters.remote, adapters.connector).await;
    Ok(super::print(report))
}
