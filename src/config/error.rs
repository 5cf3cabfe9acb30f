//! `ConfigError`: every way loading a configuration can fail (L0 type, also used by the
//! L1 loader). Each message names the file (and line when known) and says what to do.
//! No variant ever carries a password or other secret value.

use std::path::PathBuf;

use thiserror::Error;

use super::model::Origin;

/// Why a configuration could not be loaded.
#[derive(Debug, Error)]
pub(crate) enum ConfigError {
    /// A file could not be read at all.
    #[error("cannot read {}: {source}; check the path and its permissions", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file is not valid INI (Config::Tiny grammar) or TOML.
    #[error("{origin}: {message}")]
    Syntax { origin: Origin, message: String },

    /// A `key=value` line before the first `[section]` header.
    #[error(
        "{origin}: parameter '{key}' is outside any section; \
         move it under [server default] or a [serverN] block"
    )]
    KeyOutsideSection { origin: Origin, key: String },

    /// The same key twice in one section.
    #[error(
        "{origin}: '{key}' is set twice in [{section}] (lines {first_line} and {}); keep only one",
        origin.line
    )]
    DuplicateKey {
        origin: Origin,
        section: String,
        key: String,
        first_line: usize,
    },

    /// A section (or TOML table) that is not `server default`, `server...` or `binlog...`.
    #[error("{origin}: invalid section [{section}]; {hint}")]
    UnknownSection {
        origin: Origin,
        section: String,
        hint: String,
    },

    /// A parameter name that neither MHA nor ha-manager knows.
    #[error("unknown parameter '{key}' at {origin}; {}", match suggestion {
        Some(s) => format!("did you mean '{s}'?"),
        None => "see docs/config-reference.md for the parameters".to_string(),
    })]
    UnknownKey {
        origin: Origin,
        key: String,
        suggestion: Option<String>,
    },

    /// A value that does not parse as what the parameter needs. Never raised for secrets.
    #[error("{origin}: bad value '{value}' for '{key}': expected {expected}")]
    BadValue {
        origin: Origin,
        key: String,
        value: String,
        expected: String,
    },

    /// A `[serverN]`/`[binlogN]` block without `hostname`.
    #[error("{origin}: [{section}] has no hostname; add hostname=<host name or IP> to it")]
    MissingHostname { origin: Origin, section: String },

    /// Two server blocks pointing at the same MySQL instance (both in the app file).
    #[error(
        "{origin}: [{section}] uses {addr}, already used by [{first_section}] at line \
         {first_line}; each server needs its own host:port"
    )]
    DuplicateServer {
        origin: Origin,
        section: String,
        first_section: String,
        first_line: usize,
        addr: String,
    },

    /// The application file defines no server.
    #[error("{}: no [serverN] block; define at least one server with a hostname", file.display())]
    NoServers { file: PathBuf },

    /// Two sources for one password in the same block (`password` and `password_env`, ...).
    #[error(
        "{origin}: [{section}] sets both '{first}' (line {first_line}) and '{second}'; \
         give each password only one source per block"
    )]
    ConflictingSecretSources {
        origin: Origin,
        section: String,
        first: String,
        first_line: usize,
        second: String,
    },

    /// `password_env`/`password_file` (or the repl/smtp variants) could not be read.
    #[error("{origin}: cannot get '{key}' for [{section}]: {reason}")]
    Secret {
        origin: Origin,
        section: String,
        key: String,
        /// Names the variable or file and the fix; never the value.
        reason: String,
    },

    /// A parameter that requires another one that is missing (e.g. `smtp_host` without `smtp_to`).
    #[error(
        "{origin}: '{key}' is set but '{missing}' is not; set '{missing}' too, or remove '{key}'"
    )]
    MissingKey {
        origin: Origin,
        key: String,
        missing: String,
    },

    /// `init_conf_load_script` failed, timed out or printed something unusable.
    #[error("{origin}: init_conf_load_script '{script}': {reason}")]
    InitScript {
        /// Where the script is configured.
        origin: Origin,
        script: String,
        reason: String,
    },
}
