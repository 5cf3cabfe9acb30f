//! Configuration: MHA INI and TOML front ends, one resolver, one validated model.
//!
//! This file is the only part of `config` that touches the outside world (L1): it reads
//! the files, fetches `password_env`/`password_file` secrets and runs
//! `init_conf_load_script`. Everything else (`cnf`, `toml_file`, `resolve`, ...) is pure
//! and works on text.

pub(crate) mod cnf;
pub(crate) mod error;
pub(crate) mod init_script;
pub(crate) mod keys;
pub(crate) mod layers;
pub(crate) mod model;
pub(crate) mod raw;
pub(crate) mod resolve;
pub(crate) mod secrets;
pub(crate) mod ssh_options;
pub(crate) mod toml_file;
pub(crate) mod value;
pub(crate) mod words;

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub(crate) use error::ConfigError;
pub(crate) use model::{
    AppSettings, Config, ConfigNote, HookCommand, HostKeyCheck, LogLevel, Origin, PingType,
    ReplTls, Secret, ServerId, ServerSpec, SshSpec,
};
pub(crate) use raw::RawFile;
pub(crate) use secrets::SecretSource;

/// MHA's global defaults file, used when no `--global-conf` is given and it exists.
pub(crate) const DEFAULT_GLOBAL_FILE: &str = "/etc/masterha_default.cnf";

/// How long `init_conf_load_script` may run.
pub(crate) const INIT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Loads an application config (`.toml` → TOML, anything else → MHA INI) with the global
/// defaults from `global_file`, or from `/etc/masterha_default.cnf` when that exists.
pub(crate) fn load(app_file: &Path, global_file: Option<&Path>) -> Result<Config, ConfigError> {
    load_with_default_global(app_file, global_file, Path::new(DEFAULT_GLOBAL_FILE))
}

/// [`load`] with the implicit global file at `default_global_path` (for tests).
pub(crate) fn load_with_default_global(
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
#[cfg(test)]
pub(crate) fn resolve_str(
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
#[cfg(test)]
pub(crate) fn resolve_str_with_secrets(
    app_name_or_path: &str,
    app_text: &str,
    is_toml: bool,
    global_text: Option<&str>,
    lookup: &mut secrets::SecretLookup<'_>,
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
pub(crate) fn app_name(app_file: &Path) -> String {
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
        .map_err(|e| {
            fail(format!(
                "cannot start it: {e}; check the path and that it is executable"
            ))
        })?;

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
        return Err(fail(format!(
            "it failed ({status}); run it by hand to see why"
        )));
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

#[cfg(test)]
mod tests {
    use super::model::LogLevel;
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn conf(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("conf")
            .join(name)
    }

    /// A path that never exists, so no real /etc/masterha_default.cnf leaks into tests.
    fn no_global() -> PathBuf {
        PathBuf::from("/nonexistent/ha-manager-test/masterha_default.cnf")
    }

    fn load_test(app: &Path, global: Option<&Path>) -> Result<Config, ConfigError> {
        load_with_default_global(app, global, &no_global())
    }

    /// Clears what legitimately differs between two files describing one cluster.
    fn normalised(mut cfg: Config) -> Config {
        cfg.files.clear();
        for s in cfg.servers.iter_mut().chain(cfg.binlog_servers.iter_mut()) {
            s.origin = Origin::default();
        }
        for n in &mut cfg.notes {
            n.origin = Origin::default();
        }
        cfg
    }

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn shipped_cnf_and_toml_resolve_to_the_same_model() {
        let cnf = load_test(&conf("app1.cnf"), None).expect("app1.cnf");
        let toml = load_test(&conf("app1.toml"), None).expect("app1.toml");
        assert_eq!(cnf.files, [conf("app1.cnf")]);
        assert_eq!(toml.files, [conf("app1.toml")]);
        assert_eq!(cnf.servers[2].origin.line, 44);
        let (cnf, toml) = (normalised(cnf), normalised(toml));
        assert_eq!(cnf, toml);

        // And the model is what the files say.
        assert_eq!(cnf.app, "app1");
        assert!(cnf.notes.is_empty(), "{:?}", cnf.notes);
        let names: Vec<_> = cnf.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["server1", "server2", "server3"]);
        let s1 = &cnf.servers[0];
        assert_eq!(s1.password.expose(), "mha#Secret;1");
        assert_eq!(s1.node_label.as_deref(), Some("primary, rack A"));
        assert!(s1.candidate_master && !s1.no_master);
        assert!(cnf.servers[2].no_master);
        assert_eq!(cnf.servers[2].remote_workdir, "/data/mha");
        assert_eq!(cnf.servers[1].remote_workdir, "/var/tmp/mha");
        assert_eq!(
            cnf.settings.manager_log,
            Some(PathBuf::from("/var/log/masterha/app1/manager.log"))
        );
        assert_eq!(cnf.settings.master_ip_failover_script, None);
        assert!(
            keys::not_yet_acted_on(&cnf).is_empty(),
            "the sample uses only keys that are acted on"
        );
    }

    #[test]
    fn global_defaults_are_overridden_by_app_default_and_server_blocks() {
        let global = conf("masterha_default.cnf");
        for app in ["app1.cnf", "app1.toml"] {
            let cfg = load_test(&conf(app), Some(&global)).expect(app);
            assert_eq!(cfg.files, [global.clone(), conf(app)]);
            let (s1, s3) = (&cfg.servers[0], &cfg.servers[2]);
            // Global only: inherited.
            assert_eq!(s1.ssh.port, 22);
            assert_eq!(cfg.settings.log_level, LogLevel::Info);
            // Global, then the app default: the app default wins.
            assert_eq!(s1.user, "mha", "{app}");
            assert_eq!(s1.password.expose(), "mha#Secret;1");
            assert_eq!(s1.ssh.connection_timeout, Duration::from_secs(5));
            assert_eq!(s1.master_binlog_dir, ["/var/lib/mysql", "/var/log/mysql"]);
            assert_eq!(cfg.settings.ping_interval, Duration::from_secs(3));
            // Global, app default, then the server block: the server wins.
            assert_eq!(s1.remote_workdir, "/var/tmp/mha");
            assert_eq!(s3.remote_workdir, "/data/mha");
            assert!(cfg.keys_set.contains("log_level"));
        }
        // Without the app's values the global ones apply.
        let dir = tempfile::tempdir().expect("tempdir");
        let app = write(dir.path(), "app2.cnf", "[server1]\nhostname=h\n", 0o644);
        let cfg = load_test(&app, Some(&global)).expect("app2");
        assert_eq!(cfg.app, "app2");
        assert_eq!(
            cfg.servers[0].ssh.connection_timeout,
            Duration::from_secs(10)
        );
        assert_eq!(cfg.servers[0].master_binlog_dir, ["/var/lib/mysql"]);
        assert_eq!(cfg.settings.ping_interval, Duration::from_secs(1));
    }

    #[test]
    fn implicit_and_missing_global_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = write(dir.path(), "app1.cnf", "[server1]\nhostname=h\n", 0o644);
        let implicit = write(
            dir.path(),
            "global.cnf",
            "[server default]\nuser=g\n",
            0o644,
        );

        let cfg = load_with_default_global(&app, None, &implicit).expect("implicit");
        assert_eq!(cfg.servers[0].user, "g");
        assert_eq!(cfg.files, [implicit.clone(), app.clone()]);

        let cfg = load_with_default_global(&app, None, &no_global()).expect("none");
        assert_eq!(cfg.servers[0].user, "root");
        assert!(cfg.notes.is_empty());

        let missing = dir.path().join("missing.cnf");
        let cfg = load_with_default_global(&app, Some(&missing), &implicit).expect("missing");
        assert_eq!(
            cfg.servers[0].user, "root",
            "explicit path replaces the implicit one"
        );
        assert_eq!(cfg.notes.len(), 1);
        assert!(cfg.notes[0].message.contains("not found; skipped"));
    }

    #[test]
    fn unreadable_app_file_names_the_path() {
        let e = load_test(Path::new("/nonexistent/app9.cnf"), None).expect_err("missing");
        assert!(matches!(e, ConfigError::Read { .. }));
        assert!(
            e.to_string()
                .starts_with("cannot read /nonexistent/app9.cnf:"),
            "{e}"
        );
    }

    #[test]
    fn errors_from_files_carry_the_path_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = write(
            dir.path(),
            "app1.cnf",
            "[server1]\nhostname=h\npasword=x\n",
            0o644,
        );
        let e = load_test(&app, None).expect_err("unknown key");
        assert_eq!(
            e.to_string(),
            format!(
                "unknown parameter 'pasword' at {}:3; did you mean 'password'?",
                app.display()
            )
        );
    }

    #[test]
    fn password_file_must_be_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "ok.pw", "s3cret-from-file\n", 0o600);
        write(dir.path(), "ro.pw", "read-only\r\n", 0o400);
        let open = write(dir.path(), "open.pw", "TopSecret42\n", 0o644);
        let app = write(
            dir.path(),
            "app1.cnf",
            "[server default]\npassword_file=ok.pw\n[server1]\nhostname=h1\n\
             [server2]\nhostname=h2\npassword_file=ro.pw\n",
            0o644,
        );
        let cfg = load_test(&app, None).expect("private files");
        assert_eq!(cfg.servers[0].password.expose(), "s3cret-from-file");
        assert_eq!(cfg.servers[1].password.expose(), "read-only");

        let app = write(
            dir.path(),
            "app2.cnf",
            "[server1]\nhostname=h1\nrepl_password_file=open.pw\n",
            0o644,
        );
        let e = load_test(&app, None).expect_err("group-readable");
        let msg = e.to_string();
        assert!(msg.contains(&format!("{}:3", app.display())), "{msg}");
        assert!(msg.contains("'repl_password_file' for [server1]"), "{msg}");
        assert!(
            msg.contains(&format!("chmod 600 {}", open.display())),
            "{msg}"
        );
        assert!(msg.contains("mode 0644"), "{msg}");
        assert!(!msg.contains("TopSecret42"));

        let app = write(
            dir.path(),
            "app3.cnf",
            "[server1]\nhostname=h1\npassword_file=absent.pw\n",
            0o644,
        );
        let msg = load_test(&app, None).expect_err("absent").to_string();
        assert!(msg.contains("absent.pw"), "{msg}");
    }

    #[test]
    fn password_env_reads_the_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        // PATH is always set where tests run; no need to modify the environment.
        let app = write(
            dir.path(),
            "app1.cnf",
            "[server default]\npassword_env=PATH\n[server1]\nhostname=h1\n",
            0o644,
        );
        let cfg = load_test(&app, None).expect("env");
        assert_eq!(
            cfg.servers[0].password.expose(),
            std::env::var("PATH").expect("PATH")
        );

        let app = write(
            dir.path(),
            "app2.cnf",
            "[server default]\npassword_env=HA_MANAGER_TEST_SURELY_UNSET_VARIABLE\n\
             [server1]\nhostname=h1\n",
            0o644,
        );
        let msg = load_test(&app, None).expect_err("unset").to_string();
        assert!(
            msg.contains(":2: cannot get 'password_env' for [server default]"),
            "{msg}"
        );
        assert!(
            msg.contains("environment variable HA_MANAGER_TEST_SURELY_UNSET_VARIABLE is not set"),
            "{msg}"
        );
    }

    #[test]
    fn init_conf_load_script_overrides_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = write(
            dir.path(),
            "load.sh",
            "#!/bin/sh\necho \"password=from-$1\"\necho 'repl_password=\"r=p\"'\necho\n",
            0o755,
        );
        let app = write(
            dir.path(),
            "app1.cnf",
            &format!(
                "[server default]\npassword=file-pw\ninit_conf_load_script={} 'my app'\n\
                 [server1]\nhostname=h1\n[server2]\nhostname=h2\npassword=own\n",
                script.display()
            ),
            0o644,
        );
        let cfg = load_test(&app, None).expect("script runs");
        assert_eq!(cfg.servers[0].password.expose(), "from-my app");
        assert_eq!(
            cfg.servers[0].repl_password.as_ref().map(Secret::expose),
            Some("r=p")
        );
        assert_eq!(cfg.servers[1].password.expose(), "own");
        assert!(cfg.keys_set.contains("repl_password"));
        assert!(!format!("{cfg:?}").contains("from-my app"));
    }

    #[test]
    fn init_conf_load_script_failures() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            (
                "#!/bin/sh\necho 'pasword=TopSecret42'\n",
                "unknown parameter 'pasword'",
            ),
            ("#!/bin/sh\necho TopSecret42\n", "not name=value"),
            (
                "#!/bin/sh\necho password=TopSecret42\nexit 3\n",
                "it failed",
            ),
        ];
        for (i, (body, needle)) in cases.iter().enumerate() {
            let script = write(dir.path(), &format!("s{i}.sh"), body, 0o755);
            let app = write(
                dir.path(),
                &format!("app{i}.cnf"),
                &format!(
                    "[server default]\ninit_conf_load_script={}\n[server1]\nhostname=h\n",
                    script.display()
                ),
                0o644,
            );
            let msg = load_test(&app, None).expect_err(body).to_string();
            assert!(
                msg.starts_with(&format!(
                    "{}:2: init_conf_load_script '{}'",
                    app.display(),
                    script.display()
                )),
                "{msg}"
            );
            assert!(msg.contains(needle), "{msg}");
            assert!(!msg.contains("TopSecret42"), "{msg}");
        }

        let app = write(
            dir.path(),
            "appx.cnf",
            "[server default]\ninit_conf_load_script=/nonexistent/loader\n[server1]\nhostname=h\n",
            0o644,
        );
        let msg = load_test(&app, None).expect_err("missing").to_string();
        assert!(msg.contains("cannot start it"), "{msg}");
    }

    #[test]
    fn init_conf_load_script_is_bounded_in_time() {
        let command = HookCommand {
            argv: vec!["sleep".to_string(), "5".to_string()],
        };
        let started = Instant::now();
        let e = run_init_script(&command, &Origin::default(), Duration::from_millis(200))
            .expect_err("times out");
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(e.to_string().contains("did not finish within 0.2 s"), "{e}");
    }

    #[test]
    fn resolve_str_is_pure_and_names_the_app() {
        let cfg =
            resolve_str("conf/app7.cnf", "[server1]\nhostname=h\n", false, None).expect("resolves");
        assert_eq!(cfg.app, "app7");
        assert_eq!(app_name(Path::new("app1")), "app1");
        assert_eq!(app_name(Path::new("/etc/mha/app1.toml")), "app1");
        // The script is recorded, not run.
        let cfg = resolve_str(
            "app1.cnf",
            "[server default]\ninit_conf_load_script=/nonexistent/x\n[server1]\nhostname=h\n",
            false,
            None,
        )
        .expect("resolves");
        assert!(cfg.settings.init_conf_load_script.is_some());
    }
}

/// Deletes the `[name]` block (INI) or `[servers.name]` table (TOML) from a
/// config file, keeping every other line and comment; written atomically.
pub(crate) fn remove_server_block(path: &Path, name: &str) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let is_toml = path.extension().is_some_and(|e| e == "toml");
    let kept = without_block(&text, name, is_toml);
    verify_removed(path, &text, &kept, name, is_toml).map_err(|why| {
        std::io::Error::other(format!(
            "left {} unchanged: {why}; remove [{name}] by hand",
            path.display()
        ))
    })?;
    // The file holds passwords: the new text is never readable by others,
    // not even for a moment before it takes the old file's mode.
    let tmp = path.with_extension("tmp-ha-manager");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    std::io::Write::write_all(&mut file, kept.as_bytes())?;
    file.sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(&tmp, meta.permissions())?;
    }
    std::fs::rename(&tmp, path)
}

/// Checks with the real parser that `kept` is `text` without block `name`
/// and with every other block exactly as it was.
fn verify_removed(
    path: &Path,
    text: &str,
    kept: &str,
    name: &str,
    is_toml: bool,
) -> Result<(), String> {
    let parse = |t: &str| {
        if is_toml {
            toml_file::parse(path, t)
        } else {
            cnf::parse(path, t)
        }
        .map_err(|e| e.to_string())
    };
    let blocks = |raw: raw::RawFile| -> Vec<(String, Vec<(String, String)>)> {
        raw.sections
            .into_iter()
            .map(|s| {
                let entries = s.entries.into_iter().map(|e| (e.key, e.value)).collect();
                (s.name, entries)
            })
            .collect()
    };
    let before = blocks(parse(text)?);
    let after = blocks(parse(kept)?);
    if !before.iter().any(|(n, _)| n == name) {
        return Err(format!("it has no [{name}] block"));
    }
    let want: Vec<_> = before.into_iter().filter(|(n, _)| n != name).collect();
    if after != want {
        return Err(format!(
            "removing [{name}] would not leave the other blocks exactly as they are"
        ));
    }
    Ok(())
}

/// The text without the block's header and body (up to the next section header).
pub(crate) fn without_block(text: &str, name: &str, is_toml: bool) -> String {
    let header = if is_toml {
        format!("[servers.{name}]")
    } else {
        format!("[{name}]")
    };
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            skipping = trimmed == header;
        }
        if !skipping {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod rewrite_tests {
    use super::{remove_server_block, without_block};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_rewrite_is_verified_and_never_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app1.cnf");
        let ini =
            "[server default]\npassword=se#cr;et\n[server1]\nhostname=a\n[server2]\nhostname=b\n";
        std::fs::write(&path, ini).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        remove_server_block(&path, "server1").expect("removed");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[server default]\npassword=se#cr;et\n[server2]\nhostname=b\n"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");

        // A header the line matcher does not see ("[ server2 ]" is block "server2"
        // to the parser): refused, the file left as it was.
        let spaced = "[server default]\nuser=x\n[ server2 ]\nhostname=b\n";
        std::fs::write(&path, spaced).unwrap();
        let err = remove_server_block(&path, "server2").expect_err("not verified");
        assert!(err.to_string().contains("unchanged"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), spaced);
        // No such block: refused too.
        assert!(remove_server_block(&path, "server9").is_err());
    }

    #[test]
    fn removes_only_the_named_block_and_keeps_comments() {
        let ini = "# top\n[server default]\nuser=x\n\n[server1]\nhostname=a\n# about 2\n[server2]\nhostname=b\n[server10]\nhostname=c\n";
        assert_eq!(
            without_block(ini, "server1", false),
            "# top\n[server default]\nuser=x\n\n[server2]\nhostname=b\n[server10]\nhostname=c\n"
        );
        let toml = "[default]\nuser = \"x\"\n[servers.server1]\nhostname = \"a\"\n[servers.server2]\nhostname = \"b\"\n";
        assert_eq!(
            without_block(toml, "server2", true),
            "[default]\nuser = \"x\"\n[servers.server1]\nhostname = \"a\"\n"
        );
    }
}
