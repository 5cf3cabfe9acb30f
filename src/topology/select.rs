//! New-master election (MHA select_new_master), with a reason for every rejected slave.
