//! Use cases `check-ssh` and `check-repl`.
