//! `status` and `stop`: read the health file, signal a running manager.
