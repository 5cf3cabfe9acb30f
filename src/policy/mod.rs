//! Pure decisions that are not about the topology (L0): is the master dead
//! ([`death`]), and may a failover run now ([`guard`]). No I/O, no clocks, no
//! logging; the callers read the facts and act on the answer.

pub(crate) mod death;
pub(crate) mod guard;
