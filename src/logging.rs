//! Logging set-up: MHA-style timestamped lines to stderr or manager_log.
