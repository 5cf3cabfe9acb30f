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
pub(crate) fn check(kind: Kind, value: &str) -> Result<(), String> {
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
        Kind::SecretEnv | Kind::SecretFile => !value.trim().is_empty(),
    };
    if ok {
        Ok(())
    } else {
        Err(expected(kind))
    }
}

/// What `kind` accepts, in words.
pub(crate) fn expected(kind: Kind) -> String {
    match kind {
        Kind::Text | Kind::List | Kind::Secret | Kind::Argv => "any text".to_string(),
        Kind::Bool => "0 or 1 (also true/false, yes/no, on/off)".to_string(),
        Kind::Port => "a port number from 1 to 65535".to_string(),
        Kind::PositiveInt => "a positive integer (1 or more, digits only)".to_string(),
        Kind::Enum(allowed) => format!("one of {} (any case)", allowed.join(", ")),
        Kind::SecretEnv => "the name of an environment variable".to_string(),
        Kind::SecretFile => "the path of a file".to_string(),
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
    fn lists() {
        assert_eq!(
            split_list(" /var/lib/mysql , /var/log/mysql,,"),
            ["/var/lib/mysql", "/var/log/mysql"]
        );
        assert!(split_list("").is_empty());
    }
}
