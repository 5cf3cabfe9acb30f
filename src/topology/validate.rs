//! Topology validation for check-repl: discovery of the master and every rule, as named problems.
