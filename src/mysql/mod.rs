//! MySQL/MariaDB adapter: the `Db` trait and its mysql_async implementation.
