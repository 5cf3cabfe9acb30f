//! Exit codes of every command, documented in one place.
