//! MHA's INI grammar, as Perl Config::Tiny reads it (L0). Rules, in Config::Tiny's order:
//! - a line that is blank or whose first non-blank character is `#` or `;` is a comment;
//! - ` ; ` (a semicolon with whitespace on both sides and text after it) starts a
//!   trailing comment (Config::Tiny 2.17+); a `#` or `;` anywhere else is data, so
//!   `password=se#cr;et` is `se#cr;et`;
//! - `[name]` starts a section; the name is trimmed and may contain spaces
//!   (`[server default]`); a section seen twice continues the first one (Config::Tiny
//!   merges them);
//! - `key = value` with whitespace trimmed around both; keys are case-sensitive;
//! - one pair of matching surrounding quotes is removed from the value (MHA does this
//!   after reading).
//!
//! We are stricter than Config::Tiny where it silently loses data: a key twice in one
//! section and a key before any section are errors. Error messages never quote the
//! offending line, because it may hold a password.

use std::path::Path;

use super::error::ConfigError;
use super::model::Origin;
use super::raw::{RawEntry, RawFile, RawSection};

/// Parses the text of an MHA `.cnf` file. `path` is only used in messages.
pub(crate) fn parse(path: &Path, text: &str) -> Result<RawFile, ConfigError> {
    let origin = |line: usize| Origin {
        file: path.to_path_buf(),
        line,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<RawSection> = Vec::new();
    let mut current: Option<usize> = None;

    for (index, raw_line) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw_line.trim_end_matches('\r');
        let start = line.trim_start();
        if start.is_empty() || start.starts_with('#') || start.starts_with(';') {
            continue;
        }
        let line = strip_trailing_comment(line);
        let trimmed = line.trim();

        if let Some(inner) = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            let name = inner.trim();
            if name.is_empty() {
                return Err(ConfigError::Syntax {
                    origin: origin(line_no),
                    message: "empty section name '[]'; write e.g. [server1]".to_string(),
                });
            }
            current = Some(match sections.iter().position(|s| s.name == name) {
                Some(existing) => existing,
                None => {
                    sections.push(RawSection {
                        name: name.to_string(),
                        line: line_no,
                        entries: Vec::new(),
                    });
                    sections.len() - 1
                }
            });
            continue;
        }

        let Some((key, value)) = line.split_once('=') else {
            return Err(ConfigError::Syntax {
                origin: origin(line_no),
                message: "this line is neither a [section] header, a name=value pair nor a \
                          comment (# or ;); fix or comment it out"
                    .to_string(),
            });
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(ConfigError::Syntax {
                origin: origin(line_no),
                message: "missing parameter name before '='; write name=value".to_string(),
            });
        }
        let Some(section_index) = current else {
            return Err(ConfigError::KeyOutsideSection {
                origin: origin(line_no),
                key: key.to_string(),
            });
        };
        let section = &mut sections[section_index];
        if let Some(first) = section.get(key) {
            return Err(ConfigError::DuplicateKey {
                origin: origin(line_no),
                section: section.name.clone(),
                key: key.to_string(),
                first_line: first.line,
            });
        }
        section.entries.push(RawEntry {
            key: key.to_string(),
            value: unquote(value.trim()).to_string(),
            line: line_no,
        });
    }
    Ok(RawFile {
        path: path.to_path_buf(),
        sections,
    })
}

/// Config::Tiny's `s/\s\;\s.+$//`: cut at the first whitespace-`;`-whitespace that is
/// followed by at least one more character.
fn strip_trailing_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c');
    for i in 0..b.len().saturating_sub(3) {
        if is_ws(b[i]) && b[i + 1] == b';' && is_ws(b[i + 2]) {
            // `i` is an ASCII byte, so it is a char boundary.
            return &line[..i];
        }
    }
    line
}

/// Removes one pair of matching surrounding quotes. MHA's own regex also eats a lone
/// trailing quote; we keep such a value as written rather than corrupt it.
pub(crate) fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(q) && value.ends_with(q) {
            return &value[1..value.len() - 1];
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<RawFile, ConfigError> {
        parse(Path::new("app1.cnf"), text)
    }

    /// (section, key) -> value of the single entry found.
    fn value(file: &RawFile, section: &str, key: &str) -> Option<String> {
        file.sections
            .iter()
            .find(|s| s.name == section)?
            .get(key)
            .map(|e| e.value.clone())
    }

    #[test]
    fn values_table() {
        // (line inside [s], key, expected value)
        let cases = [
            ("a=b", "a", "b"),
            ("  a  =  b c  ", "a", "b c"),
            ("a=", "a", ""),
            ("password=se#cr;et", "password", "se#cr;et"),
            ("password=abc#def", "password", "abc#def"),
            ("a=One ; Two", "a", "One"),
            ("a=One;Two", "a", "One;Two"),
            ("a=One; Two", "a", "One; Two"),
            ("a=One ;", "a", "One ;"),
            ("a=x # not a comment", "a", "x # not a comment"),
            ("a=\"quoted value\"", "a", "quoted value"),
            ("a='single'", "a", "single"),
            ("a=\"\"", "a", ""),
            ("a=\"mismatched'", "a", "\"mismatched'"),
            ("a=\"", "a", "\""),
            ("a=b=c", "a", "b=c"),
            ("\ta\t=\tb\t", "a", "b"),
            ("a=b\r", "a", "b"),
            ("Key=v", "Key", "v"),
        ];
        for (line, key, want) in cases {
            let file = p(&format!("[s]\n{line}\n")).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            assert_eq!(
                value(&file, "s", key).as_deref(),
                Some(want),
                "line {line:?}"
            );
        }
    }

    #[test]
    fn keys_are_case_sensitive() {
        let file = p("[s]\nuser=a\nUSER=b\n").expect("parses");
        assert_eq!(value(&file, "s", "user").as_deref(), Some("a"));
        assert_eq!(value(&file, "s", "USER").as_deref(), Some("b"));
    }

    #[test]
    fn comments_blank_lines_and_sections() {
        let text = "\u{feff}# top comment\n\
                    ; another\n\
                    \n\
                    [server default]\n\
                    \x20   # indented comment\n\
                    \t; indented semicolon comment\n\
                    user=root\n\
                    [ server1 ]  ; primary\n\
                    hostname=h1\n\
                    [server default]\n\
                    port=3307\n";
        let file = p(text).expect("parses");
        let names: Vec<_> = file.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["server default", "server1"]);
        let default = &file.sections[0];
        assert_eq!(default.line, 4);
        assert_eq!(
            default
                .entries
                .iter()
                .map(|e| (e.key.as_str(), e.line))
                .collect::<Vec<_>>(),
            [("user", 7), ("port", 11)]
        );
        assert_eq!(file.sections[1].line, 8);
        assert_eq!(value(&file, "server1", "hostname").as_deref(), Some("h1"));
    }

    #[test]
    fn crlf_line_endings() {
        let file = p("[server1]\r\nhostname=h1\r\n").expect("parses");
        assert_eq!(value(&file, "server1", "hostname").as_deref(), Some("h1"));
    }

    #[test]
    fn errors_table() {
        let cases: &[(&str, usize, &str)] = &[
            ("[s]\njust some words\n", 2, "neither a [section] header"),
            ("[s]\n=value\n", 2, "missing parameter name"),
            ("[]\n", 1, "empty section name"),
            ("[ ]\n", 1, "empty section name"),
            ("user=root\n[s]\n", 1, "outside any section"),
            ("[s]\na=1\n\na=2\n", 4, "set twice in [s] (lines 2 and 4)"),
            (
                "[s]\na=1\n[t]\n[s]\na=2\n",
                5,
                "set twice in [s] (lines 2 and 5)",
            ),
            ("[s\n", 1, "neither a [section] header"),
        ];
        for (text, line, needle) in cases {
            let err = p(text).expect_err(text);
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("app1.cnf:{line}:")),
                "{text:?}: {msg}"
            );
            assert!(msg.contains(needle), "{text:?}: {msg}");
        }
    }

    #[test]
    fn syntax_errors_do_not_echo_the_line() {
        let err = p("[s]\npassword TopSecret42\n").expect_err("bad line");
        assert!(!err.to_string().contains("TopSecret42"));
        assert!(!format!("{err:?}").contains("TopSecret42"));
    }

    #[test]
    fn garbage_never_panics() {
        // A cheap deterministic fuzz: mixes of the characters the grammar cares about.
        let alphabet: Vec<char> = "[]=#;'\" \t\r\nab1é\u{feff}\\".chars().collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let _ = p(&s);
            let _ = strip_trailing_comment(&s);
            let _ = unquote(&s);
        }
    }
}
