//! Which source a password comes from, and fetching it through a caller-supplied
//! lookup so that this stays pure (L0). The lookup (in `config/mod.rs`) reads the
//! environment or a 0600 file; here we only choose the source and attach file:line to
//! failures. Secret values never enter an error or a note.

use std::collections::HashMap;
use std::path::PathBuf;

use super::error::ConfigError;
use super::keys::Trio;
use super::layers::Layer;
use super::model::Secret;

/// Where a password is to be read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum SecretSource {
    /// An environment variable, by name.
    Env(String),
    /// A file; relative paths are already resolved against the config file's directory.
    File(PathBuf),
}

/// Fetches a secret. `Err` is a reason for people that names the variable or file and
/// the fix, never the value.
pub(crate) type SecretLookup<'a> = dyn FnMut(&SecretSource) -> Result<Secret, String> + 'a;

/// Resolves secrets, asking the lookup at most once per source (a `password_file` in
/// `[server default]` serves every server but is read once).
pub(crate) struct Secrets<'l, 'a> {
    lookup: &'l mut SecretLookup<'a>,
    cache: HashMap<SecretSource, Result<Secret, String>>,
}

impl<'l, 'a> Secrets<'l, 'a> {
    pub(crate) fn new(lookup: &'l mut SecretLookup<'a>) -> Self {
        Secrets {
            lookup,
            cache: HashMap::new(),
        }
    }

    /// The password for `trio` from the most specific layer (first in `levels`) that sets
    /// any of its three keys; `None` when no layer does.
    pub(crate) fn get(
        &mut self,
        levels: &[Layer<'_>],
        trio: Trio,
    ) -> Result<Option<Secret>, ConfigError> {
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

#[cfg(test)]
mod tests {
    //! Source choice and secrecy, exercised through the pure entry points.
    use super::*;
    use crate::config::{resolve_str, resolve_str_with_secrets, Config};

    const SECRET: &str = "TopSecret42";

    fn ini(text: &str) -> Result<Config, ConfigError> {
        resolve_str("app1.cnf", text, false, None)
    }

    fn toml(text: &str) -> Result<Config, ConfigError> {
        resolve_str("app1.toml", text, true, None)
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

    /// A lookup that records requests and serves fixed values.
    fn recording<'a>(
        calls: &'a mut Vec<SecretSource>,
    ) -> impl FnMut(&SecretSource) -> Result<Secret, String> + 'a {
        move |source: &SecretSource| {
            calls.push(source.clone());
            match source {
                SecretSource::Env(name) if name == "DB_PW" => Ok(Secret::new("from-env")),
                SecretSource::File(path) if path.ends_with("repl.pw") => {
                    Ok(Secret::new("from-file"))
                }
                SecretSource::Env(name) => Err(format!("environment variable {name} is not set")),
                SecretSource::File(path) => Err(format!("cannot read {}", path.display())),
            }
        }
    }

    #[test]
    fn password_sources_and_precedence() {
        let text = "[server default]\npassword=clear\nrepl_password_file=secrets/repl.pw\n\
                    [server1]\nhostname=h1\n\
                    [server2]\nhostname=h2\npassword_env=DB_PW\n\
                    [server3]\nhostname=h3\nrepl_password=own\n";
        let mut calls = Vec::new();
        let cfg = resolve_str_with_secrets(
            "/etc/mha/app1.cnf",
            text,
            false,
            None,
            &mut recording(&mut calls),
        )
        .expect("resolves");
        let pw: Vec<_> = cfg
            .servers
            .iter()
            .map(|s| s.password.expose().to_string())
            .collect();
        assert_eq!(pw, ["clear", "from-env", "clear"]);
        let repl: Vec<_> = cfg
            .servers
            .iter()
            .map(|s| s.repl_password.as_ref().map(|p| p.expose().to_string()))
            .collect();
        assert_eq!(
            repl,
            [
                Some("from-file".to_string()),
                Some("from-file".to_string()),
                Some("own".to_string())
            ]
        );
        // Relative to the config file's directory, and fetched once for two servers.
        assert_eq!(
            calls,
            [
                SecretSource::File(PathBuf::from("/etc/mha/secrets/repl.pw")),
                SecretSource::Env("DB_PW".to_string()),
            ]
        );
    }

    #[test]
    fn secret_lookup_failure_names_source_and_block() {
        let mut calls = Vec::new();
        let e = resolve_str_with_secrets(
            "app1.cnf",
            "[server1]\nhostname=h\npassword_env=MISSING_VAR\n",
            false,
            None,
            &mut recording(&mut calls),
        )
        .expect_err("missing");
        assert_eq!(
            e.to_string(),
            "app1.cnf:3: cannot get 'password_env' for [server1]: environment variable MISSING_VAR is not set"
        );
        // Without a lookup (resolve_str), the message says why.
        let e = ini_err("[server1]\nhostname=h\npassword_file=/x\n");
        assert!(e.contains("no secret lookup given"), "{e}");
    }

    #[test]
    fn secrets_never_appear_in_debug_display_or_errors() {
        let cfg = ini_ok(&format!(
            "[server default]\npassword={SECRET}\nrepl_password={SECRET}\n\
             smtp_host=m\nsmtp_from=a@b\nsmtp_to=c@d\nsmtp_password={SECRET}\n\
             [server1]\nhostname=h\n"
        ));
        assert_eq!(cfg.servers[0].password.expose(), SECRET);
        let shown = format!("{cfg:?} {:#?} {}", cfg, cfg.servers[0].password);
        assert!(!shown.contains(SECRET), "secret in Debug/Display");
        for note in &cfg.notes {
            assert!(!note.message.contains(SECRET));
        }

        let failing = [
            format!("[server1]\nhostname=h\npassword={SECRET}\npassword_env=X\n"),
            format!("[server1]\nhostname=h\npassword={SECRET}\nport=x\n"),
            format!("[server1]\nhostname=h\npassword={SECRET}\npasword={SECRET}\n"),
            format!("[server1]\nhostname=h\npassword={SECRET}\npassword={SECRET}\n"),
            format!("[server1]\npassword={SECRET}\n"),
            format!("[server1]\nhostname=h\npassword {SECRET}\n"),
            format!("password={SECRET}\n[server1]\nhostname=h\n"),
        ];
        for text in &failing {
            let e = ini(text).expect_err(text);
            assert!(!e.to_string().contains(SECRET), "{e}");
            assert!(!format!("{e:?}").contains(SECRET), "{e:?}");
        }
        let toml_failing = [
            format!("[default]\npassword = \"{SECRET}\"\npassword_env = \"X\"\n[servers.server1]\nhostname = \"h\"\n"),
            format!("[default]\npassword = \"{SECRET}\n"),
            format!("[default]\npassword = {SECRET}\n"),
        ];
        for text in &toml_failing {
            let e = toml(text).expect_err(text);
            assert!(!e.to_string().contains(SECRET), "{e}");
            assert!(!format!("{e:?}").contains(SECRET), "{e:?}");
        }
    }
}
