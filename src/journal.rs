//! The failover journal: timestamped steps, kept as JSON lines and rendered into the report.
