//! Notifications: hook scripts (MHA argv contract), the failover report, SMTP.
