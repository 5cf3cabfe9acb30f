//! The precedence stack and the checks every raw section goes through (L0):
//! global `[server default]` < application `[server default]` < `init_conf_load_script`
//! output < server block. Unknown keys, malformed values, keys set where they have no
//! effect and doubled password sources are all found here, before anything is built.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::ConfigError;
use super::keys::{self, Scope, TRIOS};
use super::model::{ConfigNote, Origin};
use super::raw::{RawEntry, RawFile, RawSection, DEFAULT_SECTION};
use super::value;

/// One section in the stack, with the file it came from.
#[derive(Clone, Copy)]
pub(crate) struct Layer<'a> {
    pub file: &'a Path,
    pub section: &'a RawSection,
}

impl<'a> Layer<'a> {
    pub(crate) fn new(file: &'a RawFile, section: &'a RawSection) -> Self {
        Layer {
            file: &file.path,
            section,
        }
    }

    pub(crate) fn origin(&self, line: usize) -> Origin {
        Origin {
            file: self.file.to_path_buf(),
            line,
        }
    }

    /// Where the section header is.
    pub(crate) fn header(&self) -> Origin {
        self.origin(self.section.line)
    }

    pub(crate) fn get(&self, key: &str) -> Option<Found<'a>> {
        self.section.get(key).map(|entry| Found {
            layer: *self,
            entry,
        })
    }
}

/// A value found in the stack, with where it was set.
#[derive(Clone, Copy)]
pub(crate) struct Found<'a> {
    pub layer: Layer<'a>,
    pub entry: &'a RawEntry,
}

impl<'a> Found<'a> {
    pub(crate) fn value(&self) -> &'a str {
        &self.entry.value
    }

    pub(crate) fn origin(&self) -> Origin {
        self.layer.origin(self.entry.line)
    }
}

/// The `[server default]` layers, most specific first.
pub(crate) struct Defaults<'a> {
    pub chain: Vec<Layer<'a>>,
    /// How many layers at the front of `chain` are `init_conf_load_script` output.
    pub script_layers: usize,
}

impl<'a> Defaults<'a> {
    /// The value of an application-wide key (server blocks never count for these).
    pub(crate) fn app(&self, key: &str) -> Option<Found<'a>> {
        self.chain.iter().find_map(|l| l.get(key))
    }

    /// The value of `key` for a server block: its own, else inherited unless the key is
    /// per-server only (MHA does not inherit those).
    pub(crate) fn server(&self, block: &Layer<'a>, key: &str) -> Option<Found<'a>> {
        block.get(key).or_else(|| {
            let inherited = keys::lookup(key).is_some_and(|k| k.scope != Scope::PerServerOnly);
            if inherited {
                self.app(key)
            } else {
                None
            }
        })
    }

    /// The layers to search for `block` (or the defaults alone), most specific first.
    pub(crate) fn levels(&self, block: Option<&Layer<'a>>) -> Vec<Layer<'a>> {
        block
            .into_iter()
            .copied()
            .chain(self.chain.iter().copied())
            .collect()
    }
}

/// What a section is, which decides where its keys take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `[server default]` of the global or application file.
    Default,
    /// The `name=value` lines printed by `init_conf_load_script`.
    ScriptOutput,
    /// `[serverN]` or `[binlogN]`.
    Server,
}

/// Classifies an application-file section by MHA's rule: `server default`, or a name
/// starting with `server`/`binlog` followed by a non-blank character.
pub(crate) fn classify(file: &RawFile, section: &RawSection) -> Result<Kind, ConfigError> {
    let name = section.name.as_str();
    if name == DEFAULT_SECTION {
        return Ok(Kind::Default);
    }
    let normalised = name.to_ascii_lowercase().replace(['_', '-'], " ");
    let looks_like_default = [
        "server default",
        "default",
        "serverdefault",
        "server  default",
    ]
    .contains(&normalised.as_str());
    let after = |prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| !c.is_whitespace())
    };
    if !looks_like_default {
        if after("server") {
            return Ok(Kind::Server);
        }
        if after("binlog") {
            return Ok(Kind::Binlog);
        }
    }
    let hint = if looks_like_default {
        "did you mean [server default]?".to_string()
    } else {
        "a block must be [server default] or be named server<name> (e.g. [server1]) or \
         binlog<name> (e.g. [binlog1])"
            .to_string()
    };
    Err(ConfigError::UnknownSection {
        origin: Origin {
            file: file.path.clone(),
            line: section.line,
        },
        section: name.to_string(),
        hint,
    })
}

/// The kinds of application-file sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Default,
    Server,
    Binlog,
}

/// Checks every entry of one section and records notes and the keys set.
pub(crate) fn check_section(
    layer: &Layer<'_>,
    role: Role,
    notes: &mut Vec<ConfigNote>,
    keys_set: &mut BTreeSet<String>,
) -> Result<(), ConfigError> {
    let section = &layer.section.name;
    for entry in &layer.section.entries {
        let origin = layer.origin(entry.line);
        let Some(info) = keys::lookup(&entry.key) else {
            return Err(ConfigError::UnknownKey {
                origin,
                key: entry.key.clone(),
                suggestion: keys::did_you_mean(&entry.key).map(str::to_string),
            });
        };
        value::check(info.kind, &entry.value).map_err(|expected| ConfigError::BadValue {
            origin: origin.clone(),
            key: entry.key.clone(),
            // A password is never shown, even when it is refused.
            value: if info.kind == keys::Kind::Secret {
                "(hidden)".to_string()
            } else {
                value::shown(&entry.value)
            },
            expected,
        })?;
        keys_set.insert(entry.key.clone());
        match (role, info.scope) {
            (Role::Default | Role::ScriptOutput, Scope::PerServerOnly) => notes.push(ConfigNote {
                origin,
                message: format!(
                    "'{}' has no effect in [{section}]: it is not inherited (as in MHA); \
                     set it in each [serverN] block instead",
                    entry.key
                ),
            }),
            (Role::Server, Scope::AppOnly) => notes.push(ConfigNote {
                origin,
                message: format!(
                    "'{}' only takes effect in [server default]; it is ignored in [{section}]",
                    entry.key
                ),
            }),
            (Role::ScriptOutput, _) if entry.key == "init_conf_load_script" => {
                notes.push(ConfigNote {
                    origin,
                    message: "init_conf_load_script printed by init_conf_load_script is \
                              ignored; the script runs once"
                        .to_string(),
                })
            }
            _ => {}
        }
    }
    check_secret_sources(layer)
}

/// At most one of `password`, `password_env`, `password_file` (and likewise for the
/// repl and smtp passwords) per section; two would leave the winner to chance.
fn check_secret_sources(layer: &Layer<'_>) -> Result<(), ConfigError> {
    for trio in TRIOS {
        let mut set = trio.keys().into_iter().filter_map(|k| layer.section.get(k));
        if let (Some(first), Some(second)) = (set.next(), set.next()) {
            let (first, second) = if first.line <= second.line {
                (first, second)
            } else {
                (second, first)
            };
            return Err(ConfigError::ConflictingSecretSources {
                origin: layer.origin(second.line),
                section: layer.section.name.clone(),
                first: first.key.clone(),
                first_line: first.line,
                second: second.key.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The checks, exercised through the pure entry point.
    use std::path::PathBuf;
    use std::time::Duration;

    use crate::config::{resolve_str, Config, ConfigError};

    fn ini(text: &str) -> Result<Config, ConfigError> {
        resolve_str("app1.cnf", text, false, None)
    }

    fn ini_ok(text: &str) -> Config {
        ini(text).unwrap_or_else(|e| panic!("{e}\n--- in ---\n{text}"))
    }

    fn ini_err(text: &str) -> String {
        match ini(text) {
            Ok(_) => panic!("expected an error for\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unknown_key_message_is_exact() {
        let e = ini_err("[server default]\nuser=a\npassword=b\npasword=c\n[server1]\nhostname=h\n");
        assert_eq!(
            e,
            "unknown parameter 'pasword' at app1.cnf:4; did you mean 'password'?"
        );
        let e = ini_err("[server1]\nhostname=h\nfrobnicate=1\n");
        assert_eq!(
            e,
            "unknown parameter 'frobnicate' at app1.cnf:3; see docs/config-reference.md for the parameters"
        );
    }

    #[test]
    fn sections_table() {
        let ok = [
            "server1",
            "server_db1",
            "serverX",
            "servers",
            "server1 extra",
            "binlog1",
            "binlogA",
        ];
        for name in ok {
            let text = format!("[{name}]\nhostname=h\n[server99]\nhostname=other\n");
            assert!(ini(&text).is_ok(), "[{name}] should be accepted");
        }
        let bad: &[(&str, &str)] = &[
            ("mysql1", "server<name>"),
            ("server", "server<name>"),
            ("server 1", "server<name>"),
            ("binlog", "server<name>"),
            ("default", "did you mean [server default]?"),
            ("server_default", "did you mean [server default]?"),
            ("Server Default", "did you mean [server default]?"),
        ];
        for (name, hint) in bad {
            let e = ini_err(&format!("[server1]\nhostname=h\n\n[{name}]\nhostname=x\n"));
            assert!(
                e.starts_with(&format!("app1.cnf:4: invalid section [{name}]")),
                "{e}"
            );
            assert!(e.contains(hint), "{e}");
        }
    }

    #[test]
    fn per_server_keys_in_default_are_not_inherited() {
        let per_server = [
            ("candidate_master", "1"),
            ("no_master", "1"),
            ("ignore_fail", "1"),
            ("skip_init_ssh_check", "1"),
            ("hostname", "shared"),
            ("ip", "10.9.9.9"),
            ("ssh_host", "jump"),
            ("ssh_ip", "10.8.8.8"),
            ("node_label", "label"),
        ];
        for (key, value) in per_server {
            let text = format!("[server default]\n{key}={value}\n[server1]\nhostname=h1\n");
            let cfg = ini_ok(&text);
            let s = &cfg.servers[0];
            assert_eq!(s.hostname, "h1");
            assert_eq!(s.ip, None, "{key}");
            assert_eq!(s.ssh.host, "h1", "{key}");
            assert_eq!(s.node_label, None, "{key}");
            assert!(
                !s.candidate_master && !s.no_master && !s.ignore_fail && !s.skip_init_ssh_check
            );
            assert_eq!(cfg.notes.len(), 1, "{key}");
            assert_eq!(cfg.notes[0].origin.to_string(), "app1.cnf:2");
            assert!(cfg.notes[0]
                .message
                .contains(&format!("'{key}' has no effect in [server default]")));
            assert!(cfg.keys_set.contains(key));
        }
        // The same key in the server block works.
        let cfg = ini_ok("[server1]\nhostname=h1\ncandidate_master=1\n");
        assert!(cfg.servers[0].candidate_master);
    }

    #[test]
    fn app_keys_in_a_server_block_are_ignored_with_a_note() {
        let cfg = ini_ok(
            "[server default]\nping_interval=2\n[server1]\nhostname=h1\nping_interval=10\n\
             manager_workdir=/x\n",
        );
        assert_eq!(cfg.settings.ping_interval, Duration::from_secs(2));
        assert_eq!(
            cfg.settings.manager_workdir,
            PathBuf::from("/var/lib/ha-manager")
        );
        assert_eq!(cfg.notes.len(), 2);
        assert_eq!(cfg.notes[0].origin.to_string(), "app1.cnf:5");
        assert!(cfg.notes[0].message.contains(
            "'ping_interval' only takes effect in [server default]; it is ignored in [server1]"
        ));
        // Still validated: a bad value there is an error, as in MHA.
        assert!(ini_err("[server1]\nhostname=h\nping_interval=x\n").contains("app1.cnf:3"));
    }

    #[test]
    fn every_pair_of_password_sources_in_one_block_is_an_error() {
        for trio in crate::config::keys::TRIOS {
            let [a, b, c] = trio.keys();
            for (x, y) in [(a, b), (a, c), (b, c)] {
                let text = format!("[server default]\n{x}=v1\n{y}=v2\n[server1]\nhostname=h\n");
                let e = ini_err(&text);
                assert!(
                    e.contains(&format!("sets both '{x}' (line 2) and '{y}'")),
                    "{e}"
                );
            }
        }
    }
}
