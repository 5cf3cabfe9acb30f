//! Configuration: MHA INI and TOML front ends, one resolver, one validated model.

pub mod model;
