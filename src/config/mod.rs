//! Configuration: MHA INI and TOML front ends, one resolver, one validated model.
//!
//! This file is the only part of `config` that touches the outside world (L1): it reads
//! the files, fetches `password_env`/`password_file` secrets and runs
//! `init_conf_load_script`. Everything else (`cnf`, `toml_file`, `resolve`, ...) is pure
//! and works on text.

pub mod cnf;
pub mod error;
pub mod init_script;
pub mod keys;
pub mod layers;
pub mod model;
pub mod raw;
pub mod resolve;
pub mod secrets;
pub mod toml_file;
pub mod value;
pub mod words;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use error::ConfigError;
pub use model::*;
pub use raw::RawFile;
pub use secrets::{SecretLookup, SecretSource};

/// MHA's global defaults file, used when no `--global-conf` is given and it exists.
pub const DEFAULT_GLOBAL_FILE: &str = "/etc/masterha_default.cnf";

/// How long `init_conf_load_script` may run.
pub const INIT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Loads an application config (`.toml` → TOML, anything else → MHA INI) with the global
/// defaults from `global_file`, or from `/etc/masterha_default.cnf` when that exists.
pub fn load(app_file: &Path, global_file: Option<&Path>) -> Result<Config, ConfigError> {
    load_with_default_global(app_file, global_file, Path::new(DEFAULT_GLOBAL_FILE))
}

/// [`load`] with the implicit global file at `default_global_path` (for tests).
pub fn load_with_default_global(
    app_file: &Path,
    global_file: Option<&Path>,
    default_global_path: &Path,
) -> Result<Config, ConfigError> {
    let mut notes = Vec::new();
    let global = match global_file {
        Some(path) if path.exists() => Some(read_and_parse(path)?),
        Some(path) => {
            // MHA skips a missing global file with a warning; so do we, visibly.
            notes.push(ConfigNote {
                origin: Origin {
                    file: path.to_path_buf(),
                    line: 0,
                },
                message: "global configuration file not found; skipped (as MHA does)".into(),
            });
            None
        }
        None if default_global_path.is_file() => Some(read_and_parse(default_global_path)?),
        None => None,
    };
    let app = read_and_parse(app_file)?;

    let script_output = match resolve::init_conf_load_script(global.as_ref(), &app)? {
        Some((command, origin)) => {
            let stdout = run_init_script(&command, &origin, INIT_SCRIPT_TIMEOUT)?;
            Some(init_script::parse_output(
                &command.argv.join(" "),
                &origin,
                &stdout,
            )?)
        }
        None => None,
    };

    let input = resolve::ResolveInput {
        app: &app_name(app_file),
        global: global.as_ref(),
        app_file: &app,
        script_output: script_output.as_ref(),
    };
    let mut config = resolve::resolve(&input, &mut read_secret)?;
    notes.append(&mut config.notes);
    config.notes = notes;
    Ok(config)
}

/// Pure entry point: resolves config text without touching files, the environment or
/// processes. `password_env`/`password_file` fail (use [`resolve_str_with_secrets`]) and
/// `init_conf_load_script` is recorded but not run.
pub fn resolve_str(
    app_name_or_path: &str,
    app_text: &str,
    is_toml: bool,
    global_text: Option<&str>,
) -> Result<Config, ConfigError> {
    resolve_str_with_secrets(
        app_name_or_path,
        app_text,
        is_toml,
        global_text,
        &mut resolve::no_secret_lookup,
    )
}

/// [`resolve_str`] with a secret lookup for `*_env`/`*_file` passwords.
pub fn resolve_str_with_secrets(
    app_name_or_path: &str,
    app_text: &str,
    is_toml: bool,
    global_text: Option<&str>,
    lookup: &mut SecretLookup<'_>,
) -> Result<Config, ConfigError> {
    let app_path = Path::new(app_name_or_path);
    let app = if is_toml {
        toml_file::parse(app_path, app_text)?
    } else {
        cnf::parse(app_path, app_text)?
    };
    let global = global_text
        .map(|text| cnf::parse(Path::new("masterha_default.cnf"), text))
        .transpose()?;
    let input = resolve::ResolveInput {
        app: &app_name(app_path),
        global: global.as_ref(),
        app_file: &app,
        script_output: None,
    };
    resolve::resolve(&input, lookup)
}

/// MHA's `<app>`: the file's basename without extension.
pub fn app_name(app_file: &Path) -> String {
    app_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| app_file.display().to_string())
}

fn is_toml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

fn read_and_parse(path: &Path) -> Result<RawFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if is_toml(path) {
        toml_file::parse(path, &text)
    } else {
        cnf::parse(path, &text)
    }
}

/// The real secret lookup: environment variables and files readable by the owner only.
fn read_secret(source: &SecretSource) -> Result<Secret, String> {
    match source {
        SecretSource::Env(name) => match std::env::var(name) {
            Ok(v) => Ok(Secret::new(v)),
            Err(std::env::VarError::NotPresent) => Err(format!(
                "environment variable {name} is not set; export it before starting ha-manager"
            )),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("environment variable {name} is not valid UTF-8"))
            }
        },
        SecretSource::File(path) => read_secret_file(path).map(Secret::new),
    }
}

fn read_secret_file(path: &Path) -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "{shown} is accessible by group or others (mode {mode:04o}); \
             a password file must be 0600 or stricter: chmod 600 {shown}"
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// Runs the script as argv (no shell), bounded by `timeout`, and returns its stdout.
/// Its stderr goes to ours, as with MHA's backticks; its stdout is never shown.
fn run_init_script(
    command: &HookCommand,
    origin: &Origin,
    timeout: Duration,
) -> Result<String, ConfigError> {
    let script = command.argv.join(" ");
    let fail = |reason: String| ConfigError::InitScript {
        origin: origin.clone(),
        script: script.clone(),
        reason,
    };
    let (program, args) = command
        .argv
        .split_first()
        .ok_or_else(|| fail("the command is empty".to_string()))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(format!("cannot start it: {e}; check the path and that it is executable")))?;

    // Read stdout on a thread so a chatty script cannot block on a full pipe.
    let (tx, rx) = mpsc::channel();
    if let Some(mut stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let result = stdout.read_to_end(&mut buf).map(|_| buf);
            let _ = tx.send(result);
        });
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "did not finish within {} s and was stopped",
                    timeout.as_secs_f64()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(fail(format!("cannot wait for it: {e}"))),
        }
    };
    if !status.success() {
        return Err(fail(format!("it failed ({status}); run it by hand to see why")));
    }
    let remaining = deadline.saturating_duration_since(Instant::now());
    let bytes = match rx.recv_timeout(remaining.max(Duration::from_millis(100))) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return Err(fail(format!("cannot read its output: {e}"))),
        Err(_) => {
            return Err(fail(
                "its output stayed open after it exited (a background process holds it)"
                    .to_string(),
            ))
        }
    };
    String::from_utf8(bytes).map_err(|_| fail("its output is not valid UTF-8".to_string()))
}

