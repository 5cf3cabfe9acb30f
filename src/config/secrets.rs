//! Which source a password comes from, and fetching it through a caller-supplied
//! lookup so that this stays pure (L0). The lookup (in `config/mod.rs`) reads the
//! environment or a 0600 file; here we only choose the source and attach file:line to
//! failures. Secret values never enter an error or a note.

use std::collections::HashMap;
use std::path::PathBuf;

use super::error::ConfigError;
use super::layers::Layer;
use super::model::Secret;

/// Where a password is to be read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretSource {
    /// An environment variable, by name.
    Env(String),
    /// A file; relative paths are already resolved against the config file's directory.
    File(PathBuf),
}

/// Fetches a secret. `Err` is a reason for people that names the variable or file and
/// the fix, never the value.
pub type SecretLookup<'a> = dyn FnMut(&SecretSource) -> Result<Secret, String> + 'a;

/// The three ways to give one password.
#[derive(Debug, Clone, Copy)]
pub struct Trio {
    pub clear: &'static str,
    pub env: &'static str,
    pub file: &'static str,
}

impl Trio {
    pub fn keys(&self) -> [&'static str; 3] {
        [self.clear, self.env, self.file]
    }
}

pub const PASSWORD: Trio = Trio {
    clear: "password",
    env: "password_env",
    file: "password_file",
};
pub const REPL_PASSWORD: Trio = Trio {
    clear: "repl_password",
    env: "repl_password_env",
    file: "repl_password_file",
};
pub const SMTP_PASSWORD: Trio = Trio {
    clear: "smtp_password",
    env: "smtp_password_env",
    file: "smtp_password_file",
};
pub const TRIOS: [Trio; 3] = [PASSWORD, REPL_PASSWORD, SMTP_PASSWORD];

/// Resolves secrets, asking the lookup at most once per source (a `password_file` in
/// `[server default]` serves every server but is read once).
pub struct Secrets<'l, 'a> {
    lookup: &'l mut SecretLookup<'a>,
    cache: HashMap<SecretSource, Result<Secret, String>>,
}

impl<'l, 'a> Secrets<'l, 'a> {
    pub fn new(lookup: &'l mut SecretLookup<'a>) -> Self {
        Secrets {
            lookup,
            cache: HashMap::new(),
        }
    }

    /// The password for `trio` from the most specific layer (first in `levels`) that sets
    /// any of its three keys; `None` when no layer does.
    pub fn get(&mut self, levels: &[Layer<'_>], trio: Trio) -> Result<Option<Secret>, ConfigError> {
        for layer in levels {
            if let Some(e) = layer.section.get(trio.clear) {
                return Ok(Some(Secret::new(e.value.clone())));
            }
            let (entry, source) = if let Some(e) = layer.section.get(trio.env) {
                (e, SecretSource::Env(e.value.trim().to_string()))
            } else if let Some(e) = layer.section.get(trio.file) {
                let path = PathBuf::from(e.value.trim());
                let path = match layer.file.parent() {
                    Some(dir) if path.is_relative() => dir.join(path),
                    _ => path,
                };
                (e, SecretSource::File(path))
            } else {
                continue;
            };
            let lookup = &mut *self.lookup;
            let result = self
                .cache
                .entry(source)
                .or_insert_with_key(|source| lookup(source));
            return match result {
                Ok(secret) => Ok(Some(secret.clone())),
                Err(reason) => Err(ConfigError::Secret {
                    origin: layer.origin(entry.line),
                    section: layer.section.name.clone(),
                    key: entry.key.clone(),
                    reason: reason.clone(),
                }),
            };
        }
        Ok(None)
    }
}
