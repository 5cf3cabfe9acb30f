//! The precedence stack and the checks every raw section goes through (L0):
//! global `[server default]` < application `[server default]` < `init_conf_load_script`
//! output < server block. Unknown keys, malformed values, keys set where they have no
//! effect and doubled password sources are all found here, before anything is built.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::ConfigError;
use super::keys::{self, Scope};
use super::model::{ConfigNote, Origin};
use super::raw::{RawEntry, RawFile, RawSection, DEFAULT_SECTION};
use super::secrets::TRIOS;
use super::value;

/// One section in the stack, with the file it came from.
#[derive(Clone, Copy)]
pub struct Layer<'a> {
    pub file: &'a Path,
    pub section: &'a RawSection,
}

impl<'a> Layer<'a> {
    pub fn new(file: &'a RawFile, section: &'a RawSection) -> Self {
        Layer {
            file: &file.path,
            section,
        }
    }

    pub fn origin(&self, line: usize) -> Origin {
        Origin {
            file: self.file.to_path_buf(),
            line,
        }
    }

    /// Where the section header is.
    pub fn header(&self) -> Origin {
        self.origin(self.section.line)
    }

    pub fn get(&self, key: &str) -> Option<Found<'a>> {
        self.section.get(key).map(|entry| Found { layer: *self, entry })
    }
}

/// A value found in the stack, with where it was set.
#[derive(Clone, Copy)]
pub struct Found<'a> {
    pub layer: Layer<'a>,
    pub entry: &'a RawEntry,
}

impl<'a> Found<'a> {
    pub fn value(&self) -> &'a str {
        &self.entry.value
    }

    pub fn origin(&self) -> Origin {
        self.layer.origin(self.entry.line)
    }
}

/// The `[server default]` layers, most specific first.
pub struct Defaults<'a> {
    pub chain: Vec<Layer<'a>>,
    /// How many layers at the front of `chain` are `init_conf_load_script` output.
    pub script_layers: usize,
}

impl<'a> Defaults<'a> {
    /// The value of an application-wide key (server blocks never count for these).
    pub fn app(&self, key: &str) -> Option<Found<'a>> {
        self.chain.iter().find_map(|l| l.get(key))
    }

    /// The value of `key` for a server block: its own, else inherited unless the key is
    /// per-server only (MHA does not inherit those).
    pub fn server(&self, block: &Layer<'a>, key: &str) -> Option<Found<'a>> {
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
    pub fn levels(&self, block: Option<&Layer<'a>>) -> Vec<Layer<'a>> {
        block.into_iter().copied().chain(self.chain.iter().copied()).collect()
    }
}

/// What a section is, which decides where its keys take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `[server default]` of the global or application file.
    Default,
    /// The `name=value` lines printed by `init_conf_load_script`.
    ScriptOutput,
    /// `[serverN]` or `[binlogN]`.
    Server,
}

/// Classifies an application-file section by MHA's rule: `server default`, or a name
/// starting with `server`/`binlog` followed by a non-blank character.
pub fn classify(file: &RawFile, section: &RawSection) -> Result<Kind, ConfigError> {
    let name = section.name.as_str();
    if name == DEFAULT_SECTION {
        return Ok(Kind::Default);
    }
    let normalised = name.to_ascii_lowercase().replace(['_', '-'], " ");
    let looks_like_default = ["server default", "default", "serverdefault", "server  default"]
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
pub enum Kind {
    Default,
    Server,
    Binlog,
}

/// Checks every entry of one section and records notes and the keys set.
pub fn check_section(
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
            value: entry.value.clone(),
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
