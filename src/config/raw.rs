//! Raw configuration records: what both front ends (MHA INI and TOML) produce and the
//! resolver consumes. Text only, with line numbers; no meaning is attached yet (L0).

use std::path::PathBuf;

/// The name of MHA's defaults block, `[server default]`.
pub(crate) const DEFAULT_SECTION: &str = "server default";

/// One `key=value` line (or TOML key) inside a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub key: String,
    /// The value as text, surrounding quotes already removed.
    pub value: String,
    /// 1-based line of the key.
    pub line: usize,
}

/// One `[section]` with its entries in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawSection {
    /// `server default`, `server1`, `binlog1`, ... (TOML names are mapped to these).
    pub name: String,
    /// 1-based line of the section header.
    pub line: usize,
    pub entries: Vec<RawEntry>,
}

impl RawSection {
    /// The entry for `key`, if the section sets it.
    pub(crate) fn get(&self, key: &str) -> Option<&RawEntry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// Whether this is `[server default]`.
    pub(crate) fn is_default(&self) -> bool {
        self.name == DEFAULT_SECTION
    }
}

/// One parsed file: where it came from and its sections in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawFile {
    /// The path as the user gave it; used in every message about this file.
    pub path: PathBuf,
    pub sections: Vec<RawSection>,
}
