//! Pure text for the outside world (L0): the failover report ([`report`]),
//! MHA's argument lists for hook scripts ([`hook_args`]) and the servers'
//! roles `status --servers` shows ([`servers`]). Sending the report and
//! running the hooks is `notify`'s job.

pub(crate) mod hook_args;
pub(crate) mod report;
pub(crate) mod servers;
