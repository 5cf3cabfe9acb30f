//! Typed reading of one raw text value, per [`Kind`] (L0). Each parser returns what was
//! expected on failure so the resolver can say it next to file, line, key and value.

use super::keys::Kind;
use super::words;

/// MHA writes 0/1 and Perl treats "" as false; we also take the usual words.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// A TCP port, 1-65535.
pub(crate) fn parse_port(s: &str) -> Option<u16> {
    s.trim().parse::<u16>().ok().filter(|&p| p > 0)
}

/// An integer of at least 1, digits only (MHA `check_positive_int`).
pub(crate) fn parse_positive(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|&n| n >= 1)
}

/// The canonical spelling from `allowed` that matches `s` case-insensitively.
pub(crate) fn parse_enum(s: &str, allowed: &'static [&'static str]) -> Option<&'static str> {
    let s = s.trim();
    allowed.iter().copied().find(|a| a.eq_ignore_ascii_case(s))
}

/// A comma-separated list; blanks around items and empty items are dropped (MHA strips
/// all whitespace from `master_binlog_dir`).
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks that `value` is acceptable for `kind`; `Err` holds what is allowed.
/// No value of any kind may hold a control character (a newline or escape in a
/// value could forge a log line or another line of a generated file).
pub(crate) fn check(kind: Kind, value: &str) -> Result<(), String> {
    if value.trim().chars().any(char::is_control) {
        return Err(format!(
            "{}, without control characters (tab, newline, escape, ...)",
            expected(kind)
        ));
    }
    let ok = match kind {
        Kind::Text | Kind::List | Kind::Secret => true,
        Kind::Bool => parse_bool(value).is_some(),
        Kind::Port => parse_port(value).is_some(),
        Kind::PositiveInt => parse_positive(value).is_some(),
        Kind::Enum(allowed) => parse_enum(value, allowed).is_some(),
        Kind::Argv => {
            return words::split(value)
                .map(|_| ())
                .map_err(|e| e.expected().to_string())
        }
        Kind::SshOptions => return super::ssh_options::check_value(value),
        Kind::Host => value.trim().is_empty() || is_host(value.trim()),
        Kind::AbsPath => value.trim().is_empty() || is_abs_path(value.trim()),
        Kind::AbsPathList => split_list(value).iter().all(|p| is_abs_path(p)),
        Kind::SecretEnv => !value.trim().is_empty(),
        // Relative is allowed (MHA configs use them), an option-like word is not.
        Kind::SecretFile => !value.trim().is_empty() && !value.trim().starts_with('-'),
        Kind::LoginName => value.trim().is_empty() || is_login_name(value.trim()),
    };
    if ok {
        Ok(())
    } else {
        Err(expected(kind))
    }
}

/// A host name (letters, digits, `-`, `_`, dot-separated labels that do not start
/// with `-`) or an IPv4/IPv6 literal: nothing a shell or ssh would read as more.
pub(crate) fn is_host(s: &str) -> bool {
    if s.parse::<core::net::IpAddr>().is_ok() {
        return true;
    }
    s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// A login name for ssh: letters, digits, `.`, `_`, `-`, `$`, not starting with `-`.
pub(crate) fn is_login_name(s: &str) -> bool {
    !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '$'))
}

/// An absolute path (so it cannot be read as an option and does not depend on the
/// directory the manager was started in).
pub(crate) fn is_abs_path(s: &str) -> bool {
    s.starts_with('/')
}

/// A value as an error message shows it: control characters escaped (`\u{1b}`), so a
/// refused value cannot forge a log line or move the terminal's cursor.
pub(crate) fn shown(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// What `kind` accepts, in words.
pub(crate) fn expected(kind: Kind) -> String {
    match kind {
        Kind::Text | Kind::List | Kind::Secret | Kind::Argv => "any text".to_string(),
        Kind::SshOptions => "ssh options as -o Key=Value".to_string(),
        Kind::Host => "a host name or an IP address (letters, digits, '-', '_' and '.'; \
                       a name may not start with '-')"
            .to_string(),
        Kind::AbsPath => "an absolute path (starting with /)".to_string(),
        Kind::AbsPathList => "comma-separated absolute paths (each starting with /)".to_string(),
        Kind::Bool => "0 or 1 (also true/false, yes/no, on/off)".to_string(),
        Kind::Port => "a port number from 1 to 65535".to_string(),
        Kind::PositiveInt => "a positive integer (1 or more, digits only)".to_string(),
        Kind::Enum(allowed) => format!("one of {} (any case)", allowed.join(", ")),
        Kind::SecretEnv => "the name of an environment variable".to_string(),
        Kind::SecretFile => "the path of a file (not starting with '-')".to_string(),
        Kind::LoginName => {
            "a login name (letters, digits, '.', '_', '-'; not starting with '-')".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys::{LOG_LEVELS, PING_TYPES};

    #[test]
    fn bools() {
        for (s, want) in [
            ("1", Some(true)),
            ("0", Some(false)),
            ("", Some(false)),
            ("TRUE", Some(true)),
            ("yes", Some(true)),
            ("On", Some(true)),
            ("off", Some(false)),
            ("No", Some(false)),
            ("2", None),
            ("y", None),
            ("enabled", None),
        ] {
            assert_eq!(parse_bool(s), want, "{s:?}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_port("3306"), Some(3306));
        assert_eq!(parse_port("0"), None);
        assert_eq!(parse_port("65536"), None);
        assert_eq!(parse_port("33o6"), None);
        assert_eq!(parse_positive("3"), Some(3));
        assert_eq!(parse_positive("0"), None);
        assert_eq!(parse_positive("-1"), None);
        assert_eq!(parse_positive("+1"), None);
        assert_eq!(parse_positive("1.5"), None);
        assert_eq!(parse_positive(""), None);
        assert_eq!(parse_positive("99999999999"), None);
    }

    #[test]
    fn enums() {
        assert_eq!(parse_enum("select", PING_TYPES), Some("SELECT"));
        assert_eq!(parse_enum("Connect", PING_TYPES), Some("CONNECT"));
        assert_eq!(parse_enum("INSERT", PING_TYPES), Some("INSERT"));
        assert_eq!(parse_enum("PING", PING_TYPES), None);
        assert_eq!(parse_enum("WARNING", LOG_LEVELS), Some("warning"));
        assert_eq!(parse_enum("warn", LOG_LEVELS), None);
    }

    #[test]
    fn control_characters_are_refused_in_every_kind() {
        use crate::config::keys::KEYS;
        for info in KEYS {
            for bad in ["a\u{1b}[2Jb", "x\ny", "x\u{0}y", "x\ty", "\u{7f}"] {
                let err = check(info.kind, bad).expect_err(info.name);
                assert!(err.contains("control characters"), "{}: {err}", info.name);
            }
        }
        // Surrounding blanks are trimmed as before, not refused.
        assert!(check(Kind::Text, " value\t").is_ok());
    }

    #[test]
    fn hosts_are_names_or_ip_literals() {
        for good in [
            "db1",
            "db1.example.com",
            "198.18.0.11",
            "::1",
            "fe80::1",
            "my_host-2.lan",
            "",
        ] {
            assert!(check(Kind::Host, good).is_ok(), "{good:?}");
        }
        for bad in [
            "-oProxyCommand=id",
            "db1 db2",
            "db1;reboot",
            "$(id)",
            "db1`x`",
            "a..b",
            ".db1",
            "db1/x",
            "user@db1",
            "db1:3306",
            "db1.-x",
        ] {
            let err = check(Kind::Host, bad).expect_err(bad);
            assert!(err.contains("host name or an IP address"), "{bad}: {err}");
        }
    }

    #[test]
    fn paths_must_be_absolute_and_login_names_plain() {
        assert!(check(Kind::AbsPath, "/var/lib/ha-manager").is_ok());
        assert!(check(Kind::AbsPath, "").is_ok(), "empty means unset");
        for bad in ["var/tmp", "-rf", "~/x", "./x"] {
            assert!(check(Kind::AbsPath, bad).is_err(), "{bad}");
        }
        assert!(check(Kind::AbsPathList, "/var/lib/mysql, /data/binlog").is_ok());
        assert!(check(Kind::AbsPathList, "/var/lib/mysql,binlog").is_err());
        assert!(check(Kind::SecretFile, "-x").is_err());
        assert!(check(Kind::SecretFile, "secrets/pw").is_ok());
        assert!(check(Kind::LoginName, "mha").is_ok());
        for bad in ["-oProxyCommand=id", "a b", "a@b", "a;b"] {
            assert!(check(Kind::LoginName, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists() {
        assert_eq!(
            split_list(" /var/lib/mysql , /var/log/mysql,,"),
            ["/var/lib/mysql", "/var/log/mysql"]
        );
        assert!(split_list("").is_empty());
    }
}
