//! `status --servers`: every server's role and state as aligned text lines and as JSON.

use crate::topology::roles::{Role, ServerRole};

/// One line per server, aligned, after a heading:
/// `  db2(198.18.0.12:3306)  standby master  alive  read_only  from db1(…) IO:Yes SQL:Yes lag:0s  [candidate_master]`.
pub(crate) fn text(roles: &[ServerRole]) -> Vec<String> {
    let label_w = roles.iter().map(|r| r.label.len()).max().unwrap_or(0);
    let role_w = roles.iter().map(|r| r.role.name().len()).max().unwrap_or(0);
    let mut lines = vec!["Servers:".to_string()];
    for r in roles {
        let mut parts = vec![
            format!("{:<label_w$}", r.label),
            format!("{:<role_w$}", r.role.name()),
        ];
        match &r.down {
            Some(reason) => parts.push(format!("down ({reason})")),
            None => {
                parts.push("alive".to_string());
                parts.push(
                    match r.read_only {
                        Some(true) => "read_only",
                        _ => "writable",
                    }
                    .to_string(),
                );
            }
        }
        if let Some(source) = &r.source {
            let mut repl = format!("from {source}");
            if let Some(io) = r.io {
                repl.push_str(&format!(" IO:{io}"));
            }
            if let Some(sql) = r.sql_running {
                repl.push_str(if sql { " SQL:Yes" } else { " SQL:No" });
            }
            if let Some(lag) = r.seconds_behind {
                repl.push_str(&format!(" lag:{lag}s"));
            }
            parts.push(repl);
        }
        let flags = flags(r);
        if !flags.is_empty() {
            parts.push(format!("[{}]", flags.join(", ")));
        }
        lines.push(format!("  {}", parts.join("  ").trim_end()));
    }
    lines
}

/// The configuration flags that change what a failover does with the server.
fn flags(r: &ServerRole) -> Vec<&'static str> {
    let mut flags = Vec::new();
    if r.candidate_master {
        flags.push("candidate_master");
    }
    if r.no_master {
        flags.push("no_master");
    }
    if r.ignore_fail {
        flags.push("ignore_fail: ignored if it fails");
    }
    flags
}

/// The same facts as a JSON array, one object per server, config order.
pub(crate) fn json(roles: &[ServerRole]) -> serde_json::Value {
    roles
        .iter()
        .map(|r| {
            serde_json::json!({
                "server": r.label,
                "role": r.role.name(),
                "alive": r.down.is_none(),
                "down_reason": r.down,
                "read_only": r.read_only,
                "source": r.source,
                "io_running": r.io.map(|io| io.to_string()),
                "sql_running": r.sql_running,
                "seconds_behind_master": r.seconds_behind,
                "candidate_master": r.candidate_master,
                "no_master": r.no_master,
                "ignore_fail": r.ignore_fail,
                "managed": !matches!(r.role, Role::ThirdTier | Role::Elsewhere | Role::NotReplicating),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::fixture::*;
    use crate::topology::roles::roles;

    const AT: &str = "mysql-bin.000010:1000";

    /// A dual-master pair with a slave, a third tier and a down ignore_fail slave.
    fn fixture() -> Vec<ServerRole> {
        let topo = topology(vec![
            slave(1, 2, AT).with_facts(|f| f.read_only = false),
            slave(2, 1, AT).with_spec(|s| s.candidate_master = true),
            slave(3, 1, AT),
            slave(4, 3, AT),
            down(5, "Connection refused").with_spec(|s| s.ignore_fail = true),
        ]);
        roles(&topo, Some(id(0)))
    }

    #[test]
    fn text_shows_every_role_state_and_flag() {
        let m = "198.18.0.11(198.18.0.11:3306)";
        let want = vec![
            "Servers:".to_string(),
            format!("  {m}  master                        alive  writable  from 198.18.0.12(198.18.0.12:3306) IO:Yes SQL:Yes lag:0s"),
            format!("  198.18.0.12(198.18.0.12:3306)  standby master                alive  read_only  from {m} IO:Yes SQL:Yes lag:0s  [candidate_master]"),
            format!("  198.18.0.13(198.18.0.13:3306)  slave                         alive  read_only  from {m} IO:Yes SQL:Yes lag:0s"),
            "  198.18.0.14(198.18.0.14:3306)  third-tier slave (unmanaged)  alive  read_only  from 198.18.0.13(198.18.0.13:3306) IO:Yes SQL:Yes lag:0s".to_string(),
            "  198.18.0.15(198.18.0.15:3306)  unknown                       down (Connection refused)  [ignore_fail: ignored if it fails]".to_string(),
        ];
        assert_eq!(text(&fixture()), want);
    }

    #[test]
    fn json_carries_the_same_facts() {
        let v = json(&fixture());
        assert_eq!(v[1]["role"], "standby master");
        assert_eq!(v[1]["candidate_master"], true);
        assert_eq!(v[3]["role"], "third-tier slave (unmanaged)");
        assert_eq!(v[3]["managed"], false);
        assert_eq!(v[3]["source"], "198.18.0.13(198.18.0.13:3306)");
        assert_eq!(v[4]["alive"], false);
        assert_eq!(v[4]["down_reason"], "Connection refused");
        assert_eq!(v[4]["ignore_fail"], true);
        assert_eq!(v[0]["read_only"], false);
        assert_eq!(v[0]["io_running"], "Yes");
    }
}
