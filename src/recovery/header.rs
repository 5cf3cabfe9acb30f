//! What every journal starts with (application, mode, manager host and log),
//! and the names the journal and the hooks give servers and the OS user.

use crate::config::{Config, ServerSpec};
use crate::journal::{HostRef, Mode};

use super::Log;

/// Writes the journal's header facts.
pub(crate) fn begin(log: &Log, config: &Config, mode: Mode) {
    log.facts(|f| {
        f.app = config.app.clone();
        f.mode = mode;
        f.manager_host = hostname();
        f.manager_log = config
            .settings
            .manager_log
            .as_ref()
            .map(|p| p.display().to_string());
    });
}

/// A journal `HostRef` for a configured server.
pub(crate) fn host_ref(spec: &ServerSpec) -> HostRef {
    HostRef::new(spec.hostname.clone(), spec.mysql_addr(), spec.port)
}

/// The OS user hooks are told the manager runs as (MHA's `--ssh_user` default).
pub(crate) fn os_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "root".into())
}

/// This machine's name, for "Check ha-manager logs at `host:log`".
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}
