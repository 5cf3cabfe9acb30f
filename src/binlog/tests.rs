//! Tests on real relay logs and binlogs.
