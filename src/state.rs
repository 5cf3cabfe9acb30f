//! The manager workdir: health file, per-application lock, failover markers.
