//! The TOML front end (L0): reads the native TOML form and produces the same raw
//! sections as the MHA INI parser, so one resolver serves both.
//!
//! ```toml
//! [default]              # = [server default]
//! user = "hauser"
//! ping_interval = 1      # numbers and booleans become the same text as in INI
//! [servers.server1]      # = [server1]
//! hostname = "198.18.0.11"
//! candidate_master = true
//! [binlog.binlog1]       # = [binlog1]
//! ```
//!
//! Booleans become `1`/`0`, numbers their decimal text. An array is accepted for list
//! parameters (joined with `,`) and for commands (each element one argv word). Error
//! messages use the toml crate's short message and our own line number, never its
//! source excerpt, which could show a password.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::{Spanned, Value};

use super::error::ConfigError;
use super::keys::{self, Kind};
use super::model::Origin;
use super::raw::{RawEntry, RawFile, RawSection, DEFAULT_SECTION};
use super::words;

const LAYOUT_HINT: &str =
    "a TOML config has only [default], [servers.<name>] and [binlog.<name>] tables";

/// Parses the text of a TOML config. `path` is only used in messages.
pub(crate) fn parse(path: &Path, text: &str) -> Result<RawFile, ConfigError> {
    let lines = LineIndex::new(text);
    let origin = |offset: usize| Origin {
        file: path.to_path_buf(),
        line: lines.line(offset),
    };
    let root = toml::from_str::<Node>(text).map_err(|e| ConfigError::Syntax {
        origin: Origin {
            file: path.to_path_buf(),
            line: e.span().map_or(0, |s| lines.line(s.start)),
        },
        message: format!(
            "invalid TOML: {}; fix the syntax here",
            friendly(e.message())
        ),
    })?;
    let Node::Table(top) = root else {
        return Err(ConfigError::Syntax {
            origin: origin(0),
            message: "invalid TOML: the document is not a table".to_string(),
        });
    };

    let mut sections = Vec::new();
    for (key, node) in top {
        let at = origin(key.span().start);
        match (key.get_ref().as_str(), node) {
            ("default", Node::Table(entries)) => {
                sections.push(section(DEFAULT_SECTION, at, entries, &origin)?);
            }
            (group @ ("servers" | "binlog"), Node::Table(blocks)) => {
                let prefix = if group == "servers" {
                    "server"
                } else {
                    "binlog"
                };
                for (name, block) in blocks {
                    let at = origin(name.span().start);
                    let name = name.into_inner();
                    if !name.starts_with(prefix) || name == DEFAULT_SECTION {
                        return Err(ConfigError::UnknownSection {
                            origin: at,
                            section: format!("{group}.{name}"),
                            hint: format!(
                                "names under [{group}] must start with \"{prefix}\", as MHA's \
                                 blocks do, e.g. [{group}.{prefix}1]"
                            ),
                        });
                    }
                    let Node::Table(entries) = block else {
                        return Err(not_a_table(at, &format!("{group}.{name}")));
                    };
                    sections.push(section(&name, at, entries, &origin)?);
                }
            }
            (name @ ("default" | "servers" | "binlog"), Node::Leaf(_)) => {
                return Err(not_a_table(at, name));
            }
            (name, _) => {
                let hint = if keys::lookup(name).is_some() {
                    format!("'{name}' is a parameter: put it under [default] or a [servers.<name>] table")
                } else {
                    LAYOUT_HINT.to_string()
                };
                return Err(ConfigError::UnknownSection {
                    origin: at,
                    section: name.to_string(),
                    hint,
                });
            }
        }
    }
    sections.sort_by_key(|s| s.line);
    Ok(RawFile {
        path: path.to_path_buf(),
        sections,
    })
}

fn not_a_table(origin: Origin, name: &str) -> ConfigError {
    ConfigError::UnknownSection {
        origin,
        section: name.to_string(),
        hint: format!("'{name}' must be a table; {LAYOUT_HINT}"),
    }
}

/// Builds one raw section from a TOML table of parameters.
fn section(
    name: &str,
    at: Origin,
    entries: Vec<(Spanned<String>, Node)>,
    origin: &dyn Fn(usize) -> Origin,
) -> Result<RawSection, ConfigError> {
    let mut out = Vec::with_capacity(entries.len());
    for (key, node) in entries {
        let entry_origin = origin(key.span().start);
        let key = key.into_inner();
        let Node::Leaf(value) = node else {
            return Err(ConfigError::Syntax {
                origin: entry_origin,
                message: format!(
                    "'{key}' in [{name}] is a table; parameters take a string, number, \
                     boolean or (for lists and commands) an array"
                ),
            });
        };
        let text = to_text(&key, &value).map_err(|expected| ConfigError::Syntax {
            origin: entry_origin.clone(),
            message: format!("'{key}' in [{name}] must be {expected}"),
        })?;
        out.push(RawEntry {
            key,
            value: text,
            line: entry_origin.line,
        });
    }
    out.sort_by_key(|e| e.line);
    Ok(RawSection {
        name: name.to_string(),
        line: at.line,
        entries: out,
    })
}

/// The INI text equivalent of a TOML value; `Err` says what was expected.
fn to_text(key: &str, value: &Value) -> Result<String, String> {
    let kind = keys::lookup(key).map(|k| k.kind);
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Integer(i) => Ok(i.to_string()),
        // Debug keeps the fraction (`3.0`), so a float never passes for an integer.
        Value::Float(f) => Ok(format!("{f:?}")),
        Value::Boolean(b) => Ok(if *b { "1" } else { "0" }.to_string()),
        Value::Array(items) => {
            let items = items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    Value::Integer(i) => Ok(i.to_string()),
                    _ => Err("an array of strings".to_string()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            match kind {
                Some(Kind::List | Kind::AbsPathList) => {
                    if items.iter().any(|i| i.contains(',')) {
                        return Err("an array whose elements contain no ','".to_string());
                    }
                    Ok(items.join(","))
                }
                Some(Kind::Argv | Kind::SshOptions) => Ok(items
                    .iter()
                    .map(|w| words::quote(w))
                    .collect::<Vec<_>>()
                    .join(" ")),
                // Unknown keys get reported by the resolver, with did-you-mean.
                None => Ok(items.join(",")),
                Some(_) => Err("a single value, not an array (arrays are for lists and \
                                commands)"
                    .to_string()),
            }
        }
        Value::Datetime(_) => Err("a string, number or boolean, not a date".to_string()),
        Value::Table(_) => Err("a string, number or boolean, not a table".to_string()),
    }
}

/// Turns the toml crate's internal wording into something a user can act on.
fn friendly(message: &str) -> String {
    if message.contains("$__toml_private_datetime") {
        "dates and times are not allowed as values; put the value in quotes".to_string()
    } else {
        message.to_string()
    }
}

/// Byte offset to 1-based line number.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}

/// A TOML value that remembers where each table key is. serde's derive cannot do this
/// (an untagged enum buffers its input and loses the spans), so the visitor is by hand.
enum Node {
    Table(Vec<(Spanned<String>, Node)>),
    Leaf(Value),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Boolean(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Integer(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        i64::try_from(v)
            .map(|v| Node::Leaf(Value::Integer(v)))
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Float(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Leaf(Value::String(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Leaf(Value::String(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Node::Leaf(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Node::Table(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<RawFile, ConfigError> {
        parse(Path::new("app1.toml"), text)
    }

    /// (key, value, line)
    type Entry = (String, String, usize);

    fn flat(file: &RawFile) -> Vec<(String, usize, Vec<Entry>)> {
        file.sections
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    s.line,
                    s.entries
                        .iter()
                        .map(|e| (e.key.clone(), e.value.clone(), e.line))
                        .collect(),
                )
            })
            .collect()
    }

    fn e(k: &str, v: &str, l: usize) -> Entry {
        (k.to_string(), v.to_string(), l)
    }

    #[test]
    fn maps_tables_to_mha_sections() {
        let text = r#"# comment
[default]
user = "hauser"
ping_interval = 1
check_repl_delay = false
master_binlog_dir = ["/data/binlog", "/var/log/mysql"]
master_ip_failover_script = ["/usr/local/bin/vip", "--dev", "eth 0"]

[servers.server1]
hostname = "198.18.0.11"
candidate_master = true

[binlog.binlog1]
hostname = "198.18.0.20"
"#;
        let file = p(text).expect("parses");
        assert_eq!(
            flat(&file),
            vec![
                (
                    "server default".to_string(),
                    2,
                    vec![
                        e("user", "hauser", 3),
                        e("ping_interval", "1", 4),
                        e("check_repl_delay", "0", 5),
                        e("master_binlog_dir", "/data/binlog,/var/log/mysql", 6),
                        e(
                            "master_ip_failover_script",
                            "/usr/local/bin/vip --dev 'eth 0'",
                            7
                        ),
                    ]
                ),
                (
                    "server1".to_string(),
                    9,
                    vec![
                        e("hostname", "198.18.0.11", 10),
                        e("candidate_master", "1", 11)
                    ]
                ),
                (
                    "binlog1".to_string(),
                    13,
                    vec![e("hostname", "198.18.0.20", 14)]
                ),
            ]
        );
    }

    #[test]
    fn other_table_forms_are_equivalent() {
        let a = p("[servers.server1]\nhostname = \"h\"\n").expect("a");
        let b = p("[servers]\nserver1.hostname = \"h\"\n").expect("b");
        let c = p("servers = { server1 = { hostname = \"h\" } }\n").expect("c");
        for f in [&a, &b, &c] {
            assert_eq!(f.sections.len(), 1);
            assert_eq!(f.sections[0].name, "server1");
            assert_eq!(f.sections[0].entries[0].value, "h");
        }
    }

    #[test]
    fn errors_table() {
        let cases: &[(&str, usize, &str)] = &[
            ("[default]\nuser = \"x\n", 2, "invalid TOML"),
            ("[default]\nuser = 1\nuser = 2\n", 3, "duplicate key"),
            ("\n[global]\nuser = \"x\"\n", 2, "invalid section [global]"),
            ("user = \"x\"\n", 1, "put it under [default]"),
            (
                "[servers.db1]\nhostname = \"h\"\n",
                1,
                "must start with \"server\"",
            ),
            (
                "[binlog.server1]\nhostname = \"h\"\n",
                1,
                "must start with \"binlog\"",
            ),
            ("servers = 3\n", 1, "must be a table"),
            ("[servers]\nserver1 = \"h\"\n", 2, "must be a table"),
            (
                "[default]\nwhen = 1979-05-27T07:32:00Z\n",
                2,
                "dates and times",
            ),
            ("[default]\nuser = [\"a\", \"b\"]\n", 2, "not an array"),
            ("[default]\nsmtp_to = [\"a,b\"]\n", 2, "contain no ','"),
            ("[default]\nport = [[1]]\n", 2, "array of strings"),
            ("[default]\n\n[default.nested]\nx = 1\n", 3, "is a table"),
        ];
        for (text, line, needle) in cases {
            let err = p(text).expect_err(text);
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("app1.toml:{line}:")),
                "{text:?}: {msg}"
            );
            assert!(msg.contains(needle), "{text:?}: {msg}");
        }
    }

    #[test]
    fn syntax_errors_do_not_show_source_text() {
        let err = p("[default]\npassword = \"TopSecret42\n").expect_err("unterminated");
        assert!(!err.to_string().contains("TopSecret42"), "{err}");
        let err = p("[default]\npassword = TopSecret42\n").expect_err("bare");
        assert!(!err.to_string().contains("TopSecret42"), "{err}");
    }

    #[test]
    fn line_index() {
        let idx = LineIndex::new("a\nbc\n\nd");
        assert_eq!(
            [0, 1, 2, 4, 5, 6, 100].map(|o| idx.line(o)),
            [1, 1, 2, 2, 3, 4, 4]
        );
    }

    #[test]
    fn garbage_never_panics() {
        let alphabet: Vec<char> = "[]=.\"'{},#\n abs1-:T".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for _ in 0..(seed % 30) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let _ = p(&s);
        }
    }
}
