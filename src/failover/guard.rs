//! Pure guard: may a failover run now (last-failover window, error marker)?
