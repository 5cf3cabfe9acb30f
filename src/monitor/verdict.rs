//! Pure detection state machine: misses, alive error codes, replica agreement → verdict.
