//! Filter checks: replication and binlog filters must agree (MHA `check_repl_filter`).
//!
//! A promoted slave passes on what its binlog filters let through, and the
//! other slaves apply what their replication filters let through; if those
//! differ between servers, data silently diverges after a failover.

use crate::config::model::ServerId;
use crate::topology::status::ReplFilters;
use crate::topology::validate::ctx::Ctx;
use crate::topology::validate::Problem;

/// All managed slaves must apply the same `Replicate_*` filters.
pub(super) fn repl_filters(ctx: &Ctx<'_>) -> Vec<Problem> {
    if !ctx.rules.check_repl_filter {
        return Vec::new();
    }
    let mut slaves = ctx.managed();
    let Some((first, _, reference)) = slaves.next() else {
        return Vec::new();
    };
    slaves
        .filter(|(_, _, r)| r.filters != reference.filters)
        .map(|(i, _, r)| {
            Problem::error(
                ctx.label(i),
                format!(
                    "replication filters differ from {}: {}",
                    ctx.label(first),
                    r.filters.differences(&reference.filters).join(", ")
                ),
                "Use the same replicate-* settings on every slave, or set check_repl_filter=0 \
                 if the difference is intended (a promoted slave would then change what the \
                 others receive)",
            )
        })
        .collect()
}

/// All binlog-enabled servers (master first) must have the same
/// `Binlog_Do_DB`/`Binlog_Ignore_DB`.
pub(super) fn binlog_filters(ctx: &Ctx<'_>) -> Vec<Problem> {
    if !ctx.rules.check_repl_filter {
        return Vec::new();
    }
    let servers: Vec<ServerId> = ctx
        .master
        .into_iter()
        .chain(ctx.managed.iter().copied())
        .collect();
    let with_binlog: Vec<(ServerId, (&str, &str))> = servers
        .into_iter()
        .filter_map(|i| {
            let f = ctx.topo.facts(i).filter(|f| f.log_bin)?;
            Some((i, (f.binlog_do_db.as_str(), f.binlog_ignore_db.as_str())))
        })
        .collect();
    let Some(&(first, reference)) = with_binlog.first() else {
        return Vec::new();
    };
    with_binlog
        .iter()
        .filter(|(_, filters)| *filters != reference)
        .map(|&(i, (do_db, ignore_db))| {
            Problem::error(
                ctx.label(i),
                format!(
                    "binlog filters differ from {}: Binlog_Do_DB='{do_db}' vs '{}', \
                     Binlog_Ignore_DB='{ignore_db}' vs '{}'",
                    ctx.label(first),
                    reference.0,
                    reference.1
                ),
                "Use the same binlog-do-db/binlog-ignore-db on every server with binary logging, \
                 or set check_repl_filter=0 if the difference is intended",
            )
        })
        .collect()
}

/// MHA also insists that the master's `Binlog_Do_DB`/`Binlog_Ignore_DB`,
/// when set, equal the slaves' `Replicate_Do_DB`/`Replicate_Ignore_DB`
/// when those are set: a promoted slave would otherwise log a different
/// set of databases than the old master did.
pub(super) fn binlog_vs_replicate_filters(ctx: &Ctx<'_>) -> Vec<Problem> {
    let Some(master) = ctx.master.filter(|_| ctx.rules.check_repl_filter) else {
        return Vec::new();
    };
    let Some(facts) = ctx.topo.facts(master).filter(|f| f.log_bin) else {
        return Vec::new();
    };
    type Getter = fn(&ReplFilters) -> &str;
    let pairs: [(&str, &str, &str, Getter); 2] = [
        (
            "Binlog_Do_DB",
            &facts.binlog_do_db,
            "Replicate_Do_DB",
            |f| &f.do_db,
        ),
        (
            "Binlog_Ignore_DB",
            &facts.binlog_ignore_db,
            "Replicate_Ignore_DB",
            |f| &f.ignore_db,
        ),
    ];
    let mut out = Vec::new();
    for (binlog_name, binlog_value, replicate_name, get) in pairs {
        let first_set = ctx.managed().find_map(|(i, _, r)| {
            let value = get(&r.filters);
            (!value.is_empty()).then_some((i, value))
        });
        let Some((slave, value)) = first_set else {
            continue;
        };
        if !binlog_value.is_empty() && binlog_value != value {
            out.push(Problem::error(
                ctx.label(slave),
                format!(
                    "{replicate_name}='{value}' differs from the master's \
                     {binlog_name}='{binlog_value}' ({})",
                    ctx.label(master)
                ),
                "Make the slaves' replicate-do-db/replicate-ignore-db match the master's \
                 binlog-do-db/binlog-ignore-db, or set check_repl_filter=0 if intended",
            ));
        }
    }
    out
}
