//! Failover: MHA's five phases, each returning the typed value the next one takes.

pub mod guard;
