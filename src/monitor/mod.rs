//! Monitoring the master: ping loop, confirmation through the replicas, the health file.

pub mod verdict;
