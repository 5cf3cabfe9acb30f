//! The one resolver for both front ends (L0): raw sections in, a validated [`Config`]
//! out. Applies MHA's precedence (global `[server default]` < application
//! `[server default]` < `init_conf_load_script` output < server block), MHA's defaults
//! (anchors §1.5) and ours, MHA's "config order" for server blocks, and every check in
//! [`layers`]. Secrets are fetched through a callback so this stays pure.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::keys::{self, Kind as KeyKind, PASSWORD, REPL_PASSWORD, SMTP_PASSWORD};
use super::layers::{self, check_section, Defaults, Found, Kind, Layer, Role};
#[cfg(test)]
use super::model::Secret;
use super::model::{
    AppSettings, Config, ConfigNote, HookCommand, HostKeyCheck, LogLevel, Origin, PingType,
    ServerSpec, SmtpSettings, SmtpTls, SshSpec, SslMode, TlsSpec,
};
use super::raw::RawFile;
use super::secrets::{SecretLookup, Secrets};
use super::value;
use super::words;

mod repl_tls;

/// MHA's default `master_binlog_dir`.
/// `manager_workdir` when none is set: private to the manager (created root-owned 0700),
/// not MHA's world-writable `/var/tmp`, where anyone could plant or remove the lock,
/// the failover markers or a saved binlog tail.
pub(crate) const DEFAULT_MANAGER_WORKDIR: &str = "/var/lib/ha-manager";
pub(crate) const DEFAULT_BINLOG_DIRS: &str = "/var/lib/mysql,/var/log/mysql";

/// Everything the resolver reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResolveInput<'a> {
    /// The application name (the app file's basename without extension).
    pub app: &'a str,
    /// The global defaults file; only its `[server default]` is used.
    pub global: Option<&'a RawFile>,
    /// The application file.
    pub app_file: &'a RawFile,
    /// `init_conf_load_script`'s output as one `[server default]` section.
    pub script_output: Option<&'a RawFile>,
}

/// Checks the files and returns the `init_conf_load_script` to run, if one is set in
/// `[server default]` (application first, then global), with where it is set. The
/// loader runs it and passes its output back as [`ResolveInput::script_output`].
pub(crate) fn init_conf_load_script(
    global: Option<&RawFile>,
    app_file: &RawFile,
) -> Result<Option<(HookCommand, Origin)>, ConfigError> {
    let mut sink_notes = Vec::new();
    let mut sink_keys = BTreeSet::new();
    let defaults = check_files(global, app_file, None, &mut sink_notes, &mut sink_keys)?;
    let found = defaults.app("init_conf_load_script");
    Ok(argv(found)?.zip(found.map(|f| f.origin())))
}

/// Resolves raw sections into a [`Config`].
pub(crate) fn resolve(
    input: &ResolveInput<'_>,
    lookup: &mut SecretLookup<'_>,
) -> Result<Config, ConfigError> {
    let mut notes = Vec::new();
    let mut keys_set = BTreeSet::new();
    let defaults = check_files(
        input.global,
        input.app_file,
        input.script_output,
        &mut notes,
        &mut keys_set,
    )?;
    let mut secrets = Secrets::new(lookup);

    let settings = app_settings(&defaults, &mut secrets, &mut notes)?;

    let mut server_blocks = Vec::new();
    let mut binlog_blocks = Vec::new();
    for section in &input.app_file.sections {
        match layers::classify(input.app_file, section)? {
            Kind::Default => {}
            Kind::Server => server_blocks.push(Layer::new(input.app_file, section)),
            Kind::Binlog => binlog_blocks.push(Layer::new(input.app_file, section)),
        }
    }
    if server_blocks.is_empty() {
        return Err(ConfigError::NoServers {
            file: input.app_file.path.clone(),
        });
    }
    sort_config_order(&mut server_blocks);
    binlog_blocks.sort_by(|a, b| a.section.name.cmp(&b.section.name));

    let servers = server_blocks
        .iter()
        .map(|b| server(&defaults, b, &mut secrets))
        .collect::<Result<Vec<_>, _>>()?;
    check_duplicates(&servers)?;
    let binlog_servers = binlog_blocks
        .iter()
        .map(|b| server(&defaults, b, &mut secrets))
        .collect::<Result<Vec<_>, _>>()?;

    let files = input
        .global
        .iter()
        .map(|g| g.path.clone())
        .chain([input.app_file.path.clone()])
        .collect();
    Ok(Config {
        app: input.app.to_string(),
        files,
        settings,
        servers,
        binlog_servers,
        keys_set,
        notes,
    })
}

/// Runs the per-section checks over every file and builds the defaults stack.
fn check_files<'a>(
    global: Option<&'a RawFile>,
    app_file: &'a RawFile,
    script_output: Option<&'a RawFile>,
    notes: &mut Vec<ConfigNote>,
    keys_set: &mut BTreeSet<String>,
) -> Result<Defaults<'a>, ConfigError> {
    let mut chain = Vec::new();
    if let Some(file) = script_output {
        for section in &file.sections {
            let layer = Layer::new(file, section);
            check_section(&layer, Role::ScriptOutput, notes, keys_set)?;
            chain.push(layer);
        }
    }
    let script_layers = chain.len();
    for section in &app_file.sections {
        let layer = Layer::new(app_file, section);
        match layers::classify(app_file, section)? {
            Kind::Default => {
                check_section(&layer, Role::Default, notes, keys_set)?;
                chain.push(layer);
            }
            Kind::Server | Kind::Binlog => check_section(&layer, Role::Server, notes, keys_set)?,
        }
    }
    if let Some(file) = global {
        for section in &file.sections {
            let layer = Layer::new(file, section);
            if section.is_default() {
                check_section(&layer, Role::Default, notes, keys_set)?;
                chain.push(layer);
            } else {
                notes.push(ConfigNote {
                    origin: layer.header(),
                    message: format!(
                        "[{}] in the global file is ignored: only its [server default] is read \
                         (as in MHA); move server blocks to the application file",
                        section.name
                    ),
                });
            }
        }
    }
    Ok(Defaults {
        chain,
        script_layers,
    })
}

fn app_settings(
    d: &Defaults<'_>,
    secrets: &mut Secrets<'_, '_>,
    notes: &mut Vec<ConfigNote>,
) -> Result<AppSettings, ConfigError> {
    let log_level = match enumerated(d.app("log_level"), keys::LOG_LEVELS)? {
        Some("debug") => LogLevel::Debug,
        Some("warning") => LogLevel::Warning,
        Some("error") => LogLevel::Error,
        _ => LogLevel::Info,
    };
    let ping_type = match enumerated(d.app("ping_type"), keys::PING_TYPES)? {
        Some("CONNECT") => PingType::Connect,
        Some("INSERT") => PingType::Insert,
        _ => PingType::Select,
    };
    let host_key_check = match enumerated(d.app("host_key_check"), keys::HOST_KEY_CHECKS)? {
        Some("accept-new") => HostKeyCheck::AcceptNew,
        _ => HostKeyCheck::Strict,
    };
    Ok(AppSettings {
        log_level,
        manager_workdir: PathBuf::from(
            text(d.app("manager_workdir")).unwrap_or(DEFAULT_MANAGER_WORKDIR.into()),
        ),
        manager_log: text(d.app("manager_log")).map(PathBuf::from),
        check_repl_delay: boolean(d.app("check_repl_delay"), true)?,
        check_repl_filter: boolean(d.app("check_repl_filter"), true)?,
        latest_priority: boolean(d.app("latest_priority"), true)?,
        multi_tier_slave: boolean(d.app("multi_tier_slave"), false)?,
        ping_interval: seconds(d.app("ping_interval"), 3)?,
        ping_type,
        ping_misses: positive(d.app("ping_misses"), 3)?,
        allow_errant_promotion: boolean(d.app("allow_errant_promotion"), false)?,
        secondary_check_script: argv(d.app("secondary_check_script"))?,
        master_ip_failover_script: argv(d.app("master_ip_failover_script"))?,
        master_ip_online_change_script: argv(d.app("master_ip_online_change_script"))?,
        shutdown_script: argv(d.app("shutdown_script"))?,
        report_script: argv(d.app("report_script"))?,
        init_conf_load_script: argv(init_script_setting(d))?,
        client_bindir: text(d.app("client_bindir")),
        client_libdir: text(d.app("client_libdir")),
        known_hosts_file: text(d.app("known_hosts_file")).map(PathBuf::from),
        host_key_check,
        mysql_timeout: seconds(d.app("mysql_timeout"), 5)?,
        command_timeout: seconds(d.app("command_timeout"), 60)?,
        smtp: smtp(d, secrets, notes)?,
    })
}

/// The script's own output cannot name the script (it has already run).
fn init_script_setting<'a>(d: &Defaults<'a>) -> Option<Found<'a>> {
    d.chain
        .iter()
        .skip(d.script_layers)
        .find_map(|l| l.get("init_conf_load_script"))
}

fn smtp(
    d: &Defaults<'_>,
    secrets: &mut Secrets<'_, '_>,
    notes: &mut Vec<ConfigNote>,
) -> Result<Option<SmtpSettings>, ConfigError> {
    let host = d.app("smtp_host");
    let Some(host_text) = text(host) else {
        let stray = keys::KEYS
            .iter()
            .filter(|k| k.name.starts_with("smtp_") && k.name != "smtp_host")
            .find_map(|k| d.app(k.name));
        if let Some(found) = stray {
            notes.push(ConfigNote {
                origin: found.origin(),
                message: format!(
                    "'{}' has no effect without smtp_host; no report mail is sent",
                    found.entry.key
                ),
            });
        }
        return Ok(None);
    };
    let host_origin = host.map(|f| f.origin()).unwrap_or_default();
    let missing = |key: &str| ConfigError::MissingKey {
        origin: host_origin.clone(),
        key: "smtp_host".to_string(),
        missing: key.to_string(),
    };
    let from = text(d.app("smtp_from")).ok_or_else(|| missing("smtp_from"))?;
    let to = d
        .app("smtp_to")
        .map(|f| value::split_list(f.value()))
        .filter(|to| !to.is_empty())
        .ok_or_else(|| missing("smtp_to"))?;
    let tls = match enumerated(d.app("smtp_tls"), keys::SMTP_TLS)? {
        Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        _ => SmtpTls::None,
    };
    Ok(Some(SmtpSettings {
        host: host_text,
        port: port(d.app("smtp_port"), 25)?,
        from,
        to,
        user: text(d.app("smtp_user")),
        password: secrets.get(&d.levels(None), SMTP_PASSWORD)?,
        tls,
    }))
}

fn server(
    d: &Defaults<'_>,
    block: &Layer<'_>,
    secrets: &mut Secrets<'_, '_>,
) -> Result<ServerSpec, ConfigError> {
    let get = |key: &str| d.server(block, key);
    let hostname = text(get("hostname")).ok_or_else(|| ConfigError::MissingHostname {
        origin: block.header(),
        section: block.section.name.clone(),
    })?;
    let ip = text(get("ip"));
    let ssh_host = text(get("ssh_ip"))
        .or_else(|| text(get("ssh_host")))
        .or_else(|| ip.clone())
        .unwrap_or_else(|| hostname.clone());
    let ssh = SshSpec {
        host: ssh_host,
        port: port(get("ssh_port"), 22)?,
        user: text(get("ssh_user")),
        options: argv(get("ssh_options"))?
            .map(|c| c.argv)
            .unwrap_or_default(),
        connection_timeout: seconds(get("ssh_connection_timeout"), 5)?,
    };
    let levels = d.levels(Some(block));
    let master_binlog_dir = match get("master_binlog_dir").map(|f| value::split_list(f.value())) {
        Some(dirs) if !dirs.is_empty() => dirs,
        _ => value::split_list(DEFAULT_BINLOG_DIRS),
    };
    Ok(ServerSpec {
        name: block.section.name.clone(),
        origin: block.header(),
        hostname,
        ip,
        port: port(get("port"), 3306)?,
        ssh,
        node_label: text(get("node_label")),
        candidate_master: boolean(get("candidate_master"), false)?,
        no_master: boolean(get("no_master"), false)?,
        ignore_fail: boolean(get("ignore_fail"), false)?,
        skip_init_ssh_check: boolean(get("skip_init_ssh_check"), false)?,
        skip_reset_slave: boolean(get("skip_reset_slave"), false)?,
        // MHA: an empty user means root.
        user: text(get("user")).unwrap_or_else(|| "root".to_string()),
        password: secrets.get(&levels, PASSWORD)?.unwrap_or_default(),
        repl_user: text(get("repl_user")),
        repl_password: secrets.get(&levels, REPL_PASSWORD)?,
        disable_log_bin: boolean(get("disable_log_bin"), false)?,
        master_pid_file: text(get("master_pid_file")),
        handle_raw_binlog: boolean(get("handle_raw_binlog"), true)?,
        remote_workdir: text(get("remote_workdir")).unwrap_or_else(|| "/var/tmp".to_string()),
        master_binlog_dir,
        use_gtid_auto_pos: boolean(get("use_gtid_auto_pos"), true)?,
        tls: tls(&get)?,
        repl_tls: repl_tls::repl_tls(&get)?,
    })
}

/// `ssl_mode` and its files; a mode that checks the certificate needs
/// `ssl_ca`, and `ssl_cert`/`ssl_key` go together.
fn tls<'a>(get: &impl Fn(&str) -> Option<Found<'a>>) -> Result<TlsSpec, ConfigError> {
    let path = |key: &str| text(get(key)).map(PathBuf::from);
    // As the mysql client: ssl_ca alone means verify_ca.
    let mode = match enumerated(get("ssl_mode"), keys::SSL_MODES)? {
        Some("preferred") => SslMode::Preferred,
        Some("required") => SslMode::Required,
        Some("verify_ca") => SslMode::VerifyCa,
        Some("verify_identity") => SslMode::VerifyIdentity,
        Some(_) => SslMode::Disabled,
        None if path("ssl_ca").is_some() => SslMode::VerifyCa,
        None => SslMode::Disabled,
    };
    let spec = TlsSpec {
        mode,
        ca: path("ssl_ca"),
        cert: path("ssl_cert"),
        key: path("ssl_key"),
    };
    let needs = |key: &str, missing: &str| {
        let origin = get(key).map(|f| f.origin()).unwrap_or_default();
        ConfigError::MissingKey {
            origin,
            key: key.to_string(),
            missing: missing.to_string(),
        }
    };
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyIdentity) && spec.ca.is_none() {
        return Err(needs("ssl_mode", "ssl_ca"));
    }
    match (&spec.cert, &spec.key) {
        (Some(_), None) => return Err(needs("ssl_cert", "ssl_key")),
        (None, Some(_)) => return Err(needs("ssl_key", "ssl_cert")),
        _ => {}
    }
    if mode == SslMode::Disabled && (spec.ca.is_some() || spec.cert.is_some()) {
        let f = get("ssl_mode").or_else(|| get("ssl_cert"));
        return Err(ConfigError::BadValue {
            origin: f.as_ref().map(|f| f.origin()).unwrap_or_default(),
            key: "ssl_mode".into(),
            value: "disabled".into(),
            expected: "a mode that uses TLS (preferred, required, verify_ca, verify_identity) \
                       since ssl_ca/ssl_cert are set; or remove them"
                .into(),
        });
    }
    Ok(spec)
}

/// MHA's config order: by name; then, if every name is `server<non-digits><digits>...`,
/// numerically by that first number (stable, so ties keep name order). This is what
/// makes `server2` come before `server10`.
fn sort_config_order(blocks: &mut [Layer<'_>]) {
    blocks.sort_by(|a, b| a.section.name.cmp(&b.section.name));
    let numbers: Option<Vec<&str>> = blocks
        .iter()
        .map(|b| server_number(&b.section.name))
        .collect();
    if numbers.is_some() {
        blocks.sort_by(|a, b| {
            match (
                server_number(&a.section.name),
                server_number(&b.section.name),
            ) {
                (Some(x), Some(y)) => cmp_decimal(x, y),
                _ => Ordering::Equal,
            }
        });
    }
}

/// The digits of MHA's `^server\D*(\d+)`.
fn server_number(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("server")?;
    let start = rest.find(|c: char| c.is_ascii_digit())?;
    let digits = &rest[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    Some(&digits[..end])
}

/// Compares decimal digit strings by value, whatever their length.
fn cmp_decimal(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Two blocks on one `ip:port` (hostname when no ip) would be one server counted twice.
fn check_duplicates(servers: &[ServerSpec]) -> Result<(), ConfigError> {
    for (i, later) in servers.iter().enumerate() {
        let addr = format!("{}:{}", later.mysql_addr(), later.port);
        if let Some(first) = servers[..i]
            .iter()
            .find(|s| format!("{}:{}", s.mysql_addr(), s.port) == addr)
        {
            return Err(ConfigError::DuplicateServer {
                origin: later.origin.clone(),
                section: later.name.clone(),
                first_section: first.name.clone(),
                first_line: first.origin.line,
                addr,
            });
        }
    }
    Ok(())
}

// ---- typed readers; values were checked already, but a failure is still an error ----

fn bad(found: &Found<'_>, kind: KeyKind) -> ConfigError {
    ConfigError::BadValue {
        origin: found.origin(),
        key: found.entry.key.clone(),
        value: found.value().to_string(),
        expected: value::expected(kind),
    }
}

/// Text, where empty means unset.
fn text(found: Option<Found<'_>>) -> Option<String> {
    found
        .map(|f| f.value().trim())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn boolean(found: Option<Found<'_>>, default: bool) -> Result<bool, ConfigError> {
    match found {
        None => Ok(default),
        Some(f) => value::parse_bool(f.value()).ok_or_else(|| bad(&f, KeyKind::Bool)),
    }
}

fn port(found: Option<Found<'_>>, default: u16) -> Result<u16, ConfigError> {
    match found {
        None => Ok(default),
        Some(f) => value::parse_port(f.value()).ok_or_else(|| bad(&f, KeyKind::Port)),
    }
}

fn positive(found: Option<Found<'_>>, default: u32) -> Result<u32, ConfigError> {
    match found {
        None => Ok(default),
        Some(f) => value::parse_positive(f.value()).ok_or_else(|| bad(&f, KeyKind::PositiveInt)),
    }
}

fn seconds(found: Option<Found<'_>>, default: u32) -> Result<Duration, ConfigError> {
    positive(found, default).map(|s| Duration::from_secs(u64::from(s)))
}

fn enumerated(
    found: Option<Found<'_>>,
    allowed: &'static [&'static str],
) -> Result<Option<&'static str>, ConfigError> {
    match found {
        None => Ok(None),
        Some(f) => value::parse_enum(f.value(), allowed)
            .map(Some)
            .ok_or_else(|| bad(&f, KeyKind::Enum(allowed))),
    }
}

/// A command line as argv; empty means unset.
fn argv(found: Option<Found<'_>>) -> Result<Option<HookCommand>, ConfigError> {
    let Some(f) = found else { return Ok(None) };
    let words = words::split(f.value()).map_err(|e| ConfigError::BadValue {
        origin: f.origin(),
        key: f.entry.key.clone(),
        value: f.value().to_string(),
        expected: e.expected().to_string(),
    })?;
    Ok((!words.is_empty()).then_some(HookCommand { argv: words }))
}

/// A lookup that refuses every source: for callers with no environment or files to offer
/// (pure tests, [`resolve_str`](super::resolve_str)).
#[cfg(test)]
pub(crate) fn no_secret_lookup(source: &super::secrets::SecretSource) -> Result<Secret, String> {
    Err(match source {
        super::secrets::SecretSource::Env(name) => {
            format!("environment variable {name} cannot be read here (no secret lookup given)")
        }
        super::secrets::SecretSource::File(path) => format!(
            "file {} cannot be read here (no secret lookup given)",
            path.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{keys, resolve_str};

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

    #[test]
    fn ssl_keys_per_server_and_default_in_both_formats() {
        let cnf = ini_ok(
            "[server default]\nuser=u\nssl_mode=verify_identity\nssl_ca=/etc/ha/ca.pem\n\
             [server1]\nhostname=h1\n\
             [server2]\nhostname=h2\nssl_mode=required\nssl_cert=/etc/ha/c.pem\nssl_key=/etc/ha/c.key\n\
             [server3]\nhostname=h3\nssl_mode=DISABLED\nssl_ca=\n",
        );
        let ca = Some(PathBuf::from("/etc/ha/ca.pem"));
        assert_eq!(
            cnf.servers[0].tls,
            TlsSpec {
                mode: SslMode::VerifyIdentity,
                ca: ca.clone(),
                ..TlsSpec::default()
            }
        );
        assert_eq!(
            cnf.servers[1].tls,
            TlsSpec {
                mode: SslMode::Required,
                ca: ca.clone(),
                cert: Some("/etc/ha/c.pem".into()),
                key: Some("/etc/ha/c.key".into()),
            }
        );
        assert_eq!(
            cnf.servers[2].tls,
            TlsSpec::default(),
            "empty ssl_ca unsets it"
        );
        let t = toml(
            "[default]\nuser = \"u\"\nssl_ca = \"/etc/ha/ca.pem\"\n\
             [servers.server1]\nhostname = \"h1\"\n\
             [servers.server2]\nhostname = \"h2\"\nssl_mode = \"preferred\"\n",
        )
        .unwrap();
        assert_eq!(
            t.servers[0].tls.mode,
            SslMode::VerifyCa,
            "ssl_ca alone means verify_ca"
        );
        assert_eq!(t.servers[1].tls.mode, SslMode::Preferred);
        // Without any key: plain, as before.
        let plain = ini_ok("[server1]\nhostname=h1\n");
        assert_eq!(plain.servers[0].tls, TlsSpec::default());
    }

    #[test]
    fn bad_ssl_settings_name_the_file_and_line() {
        let cases = [
            (
                "[server1]\nhostname=h1\nssl_mode=verify\n",
                "app1.cnf:3: bad value 'verify' for 'ssl_mode'",
            ),
            (
                "[server1]\nhostname=h1\nssl_mode=verify_ca\n",
                "app1.cnf:3: 'ssl_mode' is set but 'ssl_ca' is not",
            ),
            (
                "[server1]\nhostname=h1\nssl_mode=required\nssl_cert=/c.pem\n",
                "app1.cnf:4: 'ssl_cert' is set but 'ssl_key' is not",
            ),
            (
                "[server1]\nhostname=h1\nssl_mode=required\nssl_key=/c.key\n",
                "app1.cnf:4: 'ssl_key' is set but 'ssl_cert' is not",
            ),
            (
                "[server1]\nhostname=h1\nssl_ca=ca.pem\n",
                "app1.cnf:3: bad value 'ca.pem' for 'ssl_ca'",
            ),
            (
                "[server1]\nhostname=h1\nssl_mode=disabled\nssl_ca=/ca.pem\n",
                "app1.cnf:3: bad value 'disabled' for 'ssl_mode'",
            ),
        ];
        for (text, want) in cases {
            let got = ini_err(text);
            assert!(got.starts_with(want), "{got}\n--- wanted ---\n{want}");
        }
        let got =
            toml_err("[servers.server1]\nhostname = \"h1\"\nssl_mode = \"verify_identity\"\n");
        assert!(
            got.contains("app1.toml:3:") && got.contains("'ssl_ca' is not"),
            "{got}"
        );
    }

    fn toml_err(text: &str) -> String {
        match toml(text) {
            Ok(_) => panic!("expected an error for\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    fn names(cfg: &Config) -> Vec<&str> {
        cfg.servers.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn defaults_match_mha_and_ours() {
        let cfg = ini_ok("[server1]\nhostname=h1\n");
        assert_eq!(cfg.app, "app1");
        let s = &cfg.servers[0];
        assert_eq!(s.hostname, "h1");
        assert_eq!(s.ip, None);
        assert_eq!(s.port, 3306);
        assert_eq!(s.ssh.host, "h1");
        assert_eq!(s.ssh.port, 22);
        assert_eq!(s.ssh.user, None);
        assert!(s.ssh.options.is_empty());
        assert_eq!(s.ssh.connection_timeout, Duration::from_secs(5));
        assert_eq!(s.user, "root");
        assert!(s.password.is_empty());
        assert_eq!(s.repl_user, None);
        assert_eq!(s.repl_password, None);
        assert!(!s.candidate_master && !s.no_master && !s.ignore_fail);
        assert!(!s.skip_init_ssh_check && !s.skip_reset_slave && !s.disable_log_bin);
        assert!(s.handle_raw_binlog && s.use_gtid_auto_pos);
        assert_eq!(s.remote_workdir, "/var/tmp");
        assert_eq!(s.master_binlog_dir, ["/var/lib/mysql", "/var/log/mysql"]);
        assert_eq!(s.origin.to_string(), "app1.cnf:1");

        let a = &cfg.settings;
        assert_eq!(a.log_level, LogLevel::Info);
        assert_eq!(a.manager_workdir, PathBuf::from("/var/lib/ha-manager"));
        assert_eq!(a.manager_log, None);
        assert!(a.check_repl_delay && a.check_repl_filter && a.latest_priority);
        assert!(!a.multi_tier_slave);
        assert_eq!(a.ping_interval, Duration::from_secs(3));
        assert_eq!(a.ping_type, PingType::Select);
        assert_eq!(a.ping_misses, 3);
        assert_eq!(a.host_key_check, HostKeyCheck::Strict);
        assert_eq!(a.known_hosts_file, None);
        assert_eq!(a.mysql_timeout, Duration::from_secs(5));
        assert_eq!(a.command_timeout, Duration::from_secs(60));
        assert_eq!(a.smtp, None);
        assert_eq!(a.init_conf_load_script, None);
        assert!(cfg.notes.is_empty(), "{:?}", cfg.notes);
        assert_eq!(cfg.files, [PathBuf::from("app1.cnf")]);
        assert_eq!(cfg.keys_set.iter().collect::<Vec<_>>(), ["hostname"]);
    }

    #[test]
    fn precedence_global_then_app_default_then_server() {
        let global = "[server default]\nuser=g_user\nport=3300\nssh_port=2200\nping_interval=7\n\
                      log_level=debug\n";
        let app = "[server default]\nuser=a_user\nport=3301\n\
                   [server1]\nhostname=h1\nport=3302\n\
                   [server2]\nhostname=h2\n";
        let cfg = resolve_str("app1.cnf", app, false, Some(global)).expect("resolves");
        let (s1, s2) = (&cfg.servers[0], &cfg.servers[1]);
        assert_eq!(
            (s1.user.as_str(), s1.port, s1.ssh.port),
            ("a_user", 3302, 2200)
        );
        assert_eq!(
            (s2.user.as_str(), s2.port, s2.ssh.port),
            ("a_user", 3301, 2200)
        );
        assert_eq!(cfg.settings.ping_interval, Duration::from_secs(7));
        assert_eq!(cfg.settings.log_level, LogLevel::Debug);
        assert_eq!(
            cfg.files,
            [
                PathBuf::from("masterha_default.cnf"),
                PathBuf::from("app1.cnf")
            ]
        );
        for key in [
            "user",
            "port",
            "ssh_port",
            "ping_interval",
            "log_level",
            "hostname",
        ] {
            assert!(cfg.keys_set.contains(key), "{key}");
        }
    }

    #[test]
    fn global_file_sections_other_than_default_are_ignored_with_a_note() {
        let global = "[server default]\nuser=g\n[server9]\nhostname=ignored\nbogus_key=1\n";
        let cfg = resolve_str("app1.cnf", "[server1]\nhostname=h1\n", false, Some(global))
            .expect("resolves");
        assert_eq!(names(&cfg), ["server1"]);
        assert_eq!(cfg.notes.len(), 1);
        assert_eq!(cfg.notes[0].origin.to_string(), "masterha_default.cnf:3");
        assert!(cfg.notes[0]
            .message
            .contains("[server9] in the global file is ignored"));
        assert!(!cfg.keys_set.contains("bogus_key"));
    }

    #[test]
    fn config_order() {
        let cases: &[(&[&str], &[&str])] = &[
            (
                &["server1", "server2", "server10"],
                &["server1", "server2", "server10"],
            ),
            (
                &["server10", "server2", "server1"],
                &["server1", "server2", "server10"],
            ),
            (&["server02", "server1"], &["server1", "server02"]),
            // MHA's `^server\D*(\d+)`: a name part before the number still sorts numerically.
            (
                &["server_db10", "server_db9"],
                &["server_db9", "server_db10"],
            ),
            // One name without a number: plain string order for all.
            (
                &["serverA", "server10", "server2"],
                &["server10", "server2", "serverA"],
            ),
            (&["server_b", "server_a"], &["server_a", "server_b"]),
        ];
        for (input, want) in cases {
            let text: String = input
                .iter()
                .enumerate()
                .map(|(i, n)| format!("[{n}]\nhostname=h{i}\n"))
                .collect();
            assert_eq!(names(&ini_ok(&text)), *want, "input {input:?}");
        }
        let cfg = ini_ok("[server1]\nhostname=a\n[binlog2]\nhostname=b2\n[binlog1]\nhostname=b1\n");
        let binlogs: Vec<_> = cfg.binlog_servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(binlogs, ["binlog1", "binlog2"]);
    }

    #[test]
    fn cmp_decimal_by_value() {
        assert_eq!(cmp_decimal("2", "10"), Ordering::Less);
        assert_eq!(cmp_decimal("007", "7"), Ordering::Equal);
        assert_eq!(
            cmp_decimal("100000000000000000000000", "99999999999999999999999"),
            Ordering::Greater
        );
    }

    /// Each error case in both syntaxes: (INI, TOML, text both messages contain,
    /// INI location, TOML location).
    #[test]
    fn errors_in_both_front_ends() {
        let cases: &[(&str, &str, &str, &str, &str)] = &[
            (
                "[server default]\nuser=a\n\npasword=x\n[server1]\nhostname=h\n",
                "[default]\nuser = \"a\"\npasword = \"x\"\n[servers.server1]\nhostname = \"h\"\n",
                "unknown parameter 'pasword' at app1.",
                "app1.cnf:4",
                "app1.toml:3",
            ),
            (
                "[server1]\nhostname=h\nping-interval=3\n",
                "[servers.server1]\nhostname = \"h\"\nping-interval = 3\n",
                "did you mean 'ping_interval'?",
                "app1.cnf:3",
                "app1.toml:3",
            ),
            (
                "[server1]\nhostname=h\nport=abc\n",
                "[servers.server1]\nhostname = \"h\"\nport = \"abc\"\n",
                "bad value 'abc' for 'port': expected a port number from 1 to 65535",
                "app1.cnf:3",
                "app1.toml:3",
            ),
            (
                "[server default]\nping_interval=0\n[server1]\nhostname=h\n",
                "[default]\nping_interval = 0\n[servers.server1]\nhostname = \"h\"\n",
                "bad value '0' for 'ping_interval': expected a positive integer",
                "app1.cnf:2",
                "app1.toml:2",
            ),
            (
                "[server default]\nssh_connection_timeout=-5\n[server1]\nhostname=h\n",
                "[default]\nssh_connection_timeout = -5\n[servers.server1]\nhostname = \"h\"\n",
                "bad value '-5' for 'ssh_connection_timeout'",
                "app1.cnf:2",
                "app1.toml:2",
            ),
            (
                "[server default]\nping_interval=1.5\n[server1]\nhostname=h\n",
                "[default]\nping_interval = 1.5\n[servers.server1]\nhostname = \"h\"\n",
                "bad value '1.5' for 'ping_interval'",
                "app1.cnf:2",
                "app1.toml:2",
            ),
            (
                "[server default]\nping_interval=3.0\n[server1]\nhostname=h\n",
                "[default]\nping_interval = 3.0\n[servers.server1]\nhostname = \"h\"\n",
                "bad value '3.0' for 'ping_interval'",
                "app1.cnf:2",
                "app1.toml:2",
            ),
            (
                "[server1]\nhostname=h\ncandidate_master=2\n",
                "[servers.server1]\nhostname = \"h\"\ncandidate_master = 2\n",
                "bad value '2' for 'candidate_master': expected 0 or 1",
                "app1.cnf:3",
                "app1.toml:3",
            ),
            (
                "[server default]\nping_type=PING\n[server1]\nhostname=h\n",
                "[default]\nping_type = \"PING\"\n[servers.server1]\nhostname = \"h\"\n",
                "bad value 'PING' for 'ping_type': expected one of SELECT, CONNECT, INSERT",
                "app1.cnf:2",
                "app1.toml:2",
            ),
            (
                "[server default]\nlog_level=verbose\n[server1]\nhostname=h\n",
                "[default]\nlog_level = \"verbose\"\n[servers.server1]\nhostname = \"h\"\n",
                "expected one of debug, info, warning, error",
                "app1.cnf:2",
                "app1.toml:2",
            ),
            (
                "[server default]\nhost_key_check=no\n[server1]\nhostname=h\n",
                "[default]\nhost_key_check = \"no\"\n[servers.server1]\nhostname = \"h\"\n",
                "expected one of strict, accept-new",
                "app1.cnf:2",
                "app1.toml:2",
            ),
            (
                "[server1]\nport=3306\n",
                "[servers.server1]\nport = 3306\n",
                "[server1] has no hostname",
                "app1.cnf:1",
                "app1.toml:1",
            ),
            (
                "[server1]\nhostname=h\n[binlog1]\nport=1\n",
                "[servers.server1]\nhostname = \"h\"\n[binlog.binlog1]\nport = 1\n",
                "[binlog1] has no hostname",
                "app1.cnf:3",
                "app1.toml:3",
            ),
            (
                "[server1]\nhostname=h\n[server2]\nhostname=h\n",
                "[servers.server1]\nhostname = \"h\"\n[servers.server2]\nhostname = \"h\"\n",
                "[server2] uses h:3306, already used by [server1] at line 1;",
                "app1.cnf:3",
                "app1.toml:3",
            ),
            (
                "[server default]\nuser=x\n",
                "[default]\nuser = \"x\"\n",
                "no [serverN] block",
                "app1.cnf",
                "app1.toml",
            ),
            (
                "[server1]\nhostname=h\npassword=a\npassword_env=B\n",
                "[servers.server1]\nhostname = \"h\"\npassword = \"a\"\npassword_env = \"B\"\n",
                "sets both 'password' (line 3) and 'password_env'",
                "app1.cnf:4",
                "app1.toml:4",
            ),
            (
                "[server default]\nsmtp_host=mail\nsmtp_to=a@b\n[server1]\nhostname=h\n",
                "[default]\nsmtp_host = \"mail\"\nsmtp_to = [\"a@b\"]\n[servers.server1]\nhostname = \"h\"\n",
                "'smtp_host' is set but 'smtp_from' is not",
                "app1.cnf:2",
                "app1.toml:2",
            ),
            (
                "[server default]\nreport_script=/bin/report 'unclosed\n[server1]\nhostname=h\n",
                "[default]\nreport_script = \"/bin/report 'unclosed\"\n[servers.server1]\nhostname = \"h\"\n",
                "single quote is closed",
                "app1.cnf:2",
                "app1.toml:2",
            ),
        ];
        // "file:line" followed by ':' (start of most messages) or ';' (unknown key).
        let located = |msg: &str, at: &str| {
            msg.contains(&format!("{at}:")) || msg.contains(&format!("{at};"))
        };
        for (ini_text, toml_text, needle, ini_at, toml_at) in cases {
            let e = ini_err(ini_text);
            assert!(e.contains(needle), "INI: {e}\nwanted: {needle}");
            assert!(located(&e, ini_at), "INI location {ini_at}: {e}");
            let e = toml_err(toml_text);
            assert!(e.contains(needle), "TOML: {e}\nwanted: {needle}");
            assert!(located(&e, toml_at), "TOML location {toml_at}: {e}");
        }
    }

    #[test]
    fn duplicates_use_ip_when_given() {
        let dup = [
            "[server1]\nhostname=a\nip=10.0.0.1\n[server2]\nhostname=b\nip=10.0.0.1\n",
            "[server default]\nport=3307\n[server1]\nhostname=a\n[server2]\nhostname=a\n",
        ];
        for text in dup {
            assert!(
                ini_err(text).contains("already used by [server1]"),
                "{text}"
            );
        }
        let distinct = [
            "[server1]\nhostname=a\n[server2]\nhostname=a\nport=3307\n",
            "[server1]\nhostname=a\nip=10.0.0.1\n[server2]\nhostname=a\nip=10.0.0.2\n",
            // A binlog server may sit on a server's host:port (MHA does not compare them).
            "[server1]\nhostname=a\n[binlog1]\nhostname=a\n",
        ];
        for text in distinct {
            assert!(ini(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn booleans_accept_mha_and_words() {
        for (v, want) in [
            ("1", true),
            ("0", false),
            ("yes", true),
            ("no", false),
            ("on", true),
            ("off", false),
            ("true", true),
            ("FALSE", false),
            ("", false),
        ] {
            let cfg = ini_ok(&format!("[server1]\nhostname=h\nno_master={v}\n"));
            assert_eq!(cfg.servers[0].no_master, want, "{v:?}");
        }
    }

    #[test]
    fn enums_are_case_insensitive() {
        let cfg = ini_ok(
            "[server default]\nping_type=connect\nlog_level=WARNING\nhost_key_check=Accept-New\n\
             [server1]\nhostname=h\n",
        );
        assert_eq!(cfg.settings.ping_type, PingType::Connect);
        assert_eq!(cfg.settings.log_level, LogLevel::Warning);
        assert_eq!(cfg.settings.host_key_check, HostKeyCheck::AcceptNew);
        let cfg = ini_ok("[server default]\nping_type=Insert\n[server1]\nhostname=h\n");
        assert_eq!(cfg.settings.ping_type, PingType::Insert);
    }

    #[test]
    fn ssh_host_precedence() {
        let cases = [
            ("", "h"),
            ("ip=10.0.0.1\n", "10.0.0.1"),
            ("ip=10.0.0.1\nssh_host=mgmt-h\n", "mgmt-h"),
            (
                "ip=10.0.0.1\nssh_host=mgmt-h\nssh_ip=10.1.0.1\n",
                "10.1.0.1",
            ),
            ("ssh_ip=10.1.0.1\n", "10.1.0.1"),
        ];
        for (extra, want) in cases {
            let cfg = ini_ok(&format!("[server1]\nhostname=h\n{extra}"));
            assert_eq!(cfg.servers[0].ssh.host, want, "{extra:?}");
        }
    }

    #[test]
    fn hooks_and_ssh_options_are_split_into_argv() {
        let cfg = ini_ok(
            "[server default]\n\
             master_ip_failover_script=/usr/local/bin/mip --vip=\"198.18.0.100/24\" --note='a b'\n\
             report_script=\n\
             ssh_options=-o 'ProxyJump=admin@bastion' -o ServerAliveInterval=5\n\
             [server1]\nhostname=h\n",
        );
        let hook = cfg.settings.master_ip_failover_script.expect("set");
        assert_eq!(
            hook.argv,
            ["/usr/local/bin/mip", "--vip=198.18.0.100/24", "--note=a b"]
        );
        assert_eq!(cfg.settings.report_script, None);
        assert_eq!(
            cfg.servers[0].ssh.options,
            [
                "-o",
                "ProxyJump=admin@bastion",
                "-o",
                "ServerAliveInterval=5"
            ]
        );
        // TOML arrays give the same argv.
        let cfg = toml(
            "[default]\nmaster_ip_failover_script = [\"/usr/local/bin/mip\", \"--vip=198.18.0.100/24\", \"--note=a b\"]\n\
             [servers.server1]\nhostname = \"h\"\n",
        )
        .expect("toml");
        assert_eq!(
            cfg.settings.master_ip_failover_script.expect("set").argv,
            ["/usr/local/bin/mip", "--vip=198.18.0.100/24", "--note=a b"]
        );
    }

    #[test]
    fn unsafe_values_are_refused_at_load_naming_file_line_and_fix() {
        let cases = [
            (
                "[server default]\nssh_options=-o ProxyCommand=nc\\ %h\\ %p\n[server1]\nhostname=h\n",
                "app1.cnf:2",
                "option 'ProxyCommand' is not allowed; ssh_options takes only -o Key=Value",
            ),
            (
                "[server default]\n[server1]\nhostname=h\nssh_options=-o Include=/tmp/x\n",
                "app1.cnf:4",
                "option 'Include' is not allowed",
            ),
            (
                "[server default]\n[server1]\nhostname=-oProxyCommand=id\n",
                "app1.cnf:3",
                "expected a host name or an IP address",
            ),
            (
                "[server default]\n[server1]\nhostname=db1;reboot\n",
                "app1.cnf:3",
                "expected a host name or an IP address",
            ),
            (
                "[server default]\n[server1]\nhostname=h\nssh_host=a b\n",
                "app1.cnf:4",
                "expected a host name or an IP address",
            ),
            (
                "[server default]\nmanager_workdir=var/tmp\n[server1]\nhostname=h\n",
                "app1.cnf:2",
                "expected an absolute path",
            ),
            (
                "[server default]\nremote_workdir=-rf\n[server1]\nhostname=h\n",
                "app1.cnf:2",
                "expected an absolute path",
            ),
            (
                "[server default]\nmaster_binlog_dir=/var/lib/mysql,binlogs\n[server1]\nhostname=h\n",
                "app1.cnf:2",
                "comma-separated absolute paths",
            ),
            (
                "[server default]\nssh_user=-oProxyCommand=id\n[server1]\nhostname=h\n",
                "app1.cnf:2",
                "expected a login name",
            ),
            (
                "[server default]\nnode_label=a\u{1b}[2Jb\n[server1]\nhostname=h\n",
                "app1.cnf:2",
                "without control characters",
            ),
        ];
        for (text, at, says) in cases {
            let err = ini_err(text);
            assert!(err.starts_with(at), "{text}: {err}");
            assert!(err.contains(says), "{text}: {err}");
            assert!(
                !err.contains('\u{1b}'),
                "the escape is shown escaped: {err:?}"
            );
        }
        // A refused password is never shown.
        let err = ini_err("[server default]\npassword=se\u{7}cret\n[server1]\nhostname=h\n");
        assert!(
            err.starts_with("app1.cnf:2") && !err.contains("se"),
            "{err}"
        );
        // TOML strings can hold escapes; they are refused the same way.
        let err =
            toml_err("[default]\nnode_label = \"a\\nb\"\n[servers.server1]\nhostname = \"h\"\n");
        assert!(
            err.contains("app1.toml:2") && err.contains("control characters"),
            "{err}"
        );
        let err = toml_err(
            "[default]\nssh_options = [\"-o\", \"LocalCommand=id\"]\n[servers.server1]\nhostname = \"h\"\n",
        );
        assert!(
            err.contains("app1.toml:2") && err.contains("'LocalCommand'"),
            "{err}"
        );
    }

    #[test]
    fn text_values_and_lists() {
        let cfg = ini_ok(
            "[server default]\nuser=\nmaster_binlog_dir= /data/binlog , /var/log/mysql \n\
             manager_log=/var/log/app1.log\nclient_bindir=/usr/local/mysql/bin\n\
             [server1]\nhostname=h\nrepl_user=\n[server2]\nhostname=h2\nmaster_binlog_dir=\n",
        );
        let (s1, s2) = (&cfg.servers[0], &cfg.servers[1]);
        assert_eq!(s1.user, "root");
        assert_eq!(s1.repl_user, None);
        assert_eq!(s1.master_binlog_dir, ["/data/binlog", "/var/log/mysql"]);
        assert_eq!(s2.master_binlog_dir, ["/var/lib/mysql", "/var/log/mysql"]);
        assert_eq!(
            cfg.settings.manager_log,
            Some(PathBuf::from("/var/log/app1.log"))
        );
        assert_eq!(
            cfg.settings.client_bindir.as_deref(),
            Some("/usr/local/mysql/bin")
        );
    }

    #[test]
    fn smtp_settings() {
        let cfg = ini_ok(
            "[server default]\nsmtp_host=mail.example\nsmtp_from=ha@example\n\
             smtp_to=dba@example, ops@example\nsmtp_user=ha\nsmtp_password=pw\n\
             [server1]\nhostname=h\n",
        );
        let smtp = cfg.settings.smtp.expect("smtp");
        assert_eq!(smtp.host, "mail.example");
        assert_eq!(smtp.port, 25);
        assert_eq!(smtp.tls, SmtpTls::None);
        assert_eq!(smtp.to, ["dba@example", "ops@example"]);
        assert_eq!(smtp.user.as_deref(), Some("ha"));
        assert_eq!(smtp.password.as_ref().map(Secret::expose), Some("pw"));

        let cfg = ini_ok("[server default]\nsmtp_port=587\n[server1]\nhostname=h\n");
        assert_eq!(cfg.settings.smtp, None);
        assert!(cfg.notes[0]
            .message
            .contains("'smtp_port' has no effect without smtp_host"));

        let e = ini_err("[server default]\nsmtp_host=m\nsmtp_from=a@b\n[server1]\nhostname=h\n");
        assert!(e.contains("'smtp_to' is not"), "{e}");
        let e = ini_err("[server default]\nsmtp_tls=ssl\n[server1]\nhostname=h\n");
        assert!(e.contains("expected one of none, starttls, tls"), "{e}");
    }

    #[test]
    fn not_yet_acted_on_reports_set_keys() {
        let cfg = ini_ok(
            "[server default]\nshutdown_script=/bin/fence\nclient_libdir=/opt/lib\nping_interval=2\n\
             handle_raw_binlog=0\n[server1]\nhostname=h\nignore_fail=1\ndisable_log_bin=1\n",
        );
        assert_eq!(
            keys::not_yet_acted_on(&cfg),
            ["disable_log_bin", "handle_raw_binlog"]
        );
        assert!(keys::not_yet_acted_on(&ini_ok("[server1]\nhostname=h\n")).is_empty());
    }

    #[test]
    fn init_conf_load_script_is_found_and_its_output_overrides_defaults() {
        let app = crate::config::cnf::parse(
            std::path::Path::new("app1.cnf"),
            "[server default]\nuser=a\npassword=file-pw\ninit_conf_load_script=/bin/load --app app1\n\
             [server1]\nhostname=h\n[server2]\nhostname=h2\nuser=own\n",
        )
        .expect("parses");
        let (cmd, origin) = init_conf_load_script(None, &app).expect("ok").expect("set");
        assert_eq!(cmd.argv, ["/bin/load", "--app", "app1"]);
        assert_eq!(origin.to_string(), "app1.cnf:4");

        let out = crate::config::init_script::parse_output(
            "/bin/load --app app1",
            &origin,
            "user=script\npassword=script-pw\ninit_conf_load_script=/bin/other\n",
        )
        .expect("output parses");
        let input = ResolveInput {
            app: "app1",
            global: None,
            app_file: &app,
            script_output: Some(&out),
        };
        let cfg = resolve(&input, &mut no_secret_lookup).expect("resolves");
        assert_eq!(cfg.servers[0].user, "script");
        assert_eq!(cfg.servers[0].password.expose(), "script-pw");
        // The server block still wins over the script, as over any default.
        assert_eq!(cfg.servers[1].user, "own");
        assert_eq!(
            cfg.settings.init_conf_load_script.map(|c| c.argv),
            Some(vec!["/bin/load".to_string(), "--app".into(), "app1".into()])
        );
        assert!(cfg.notes.iter().any(|n| n.message.contains("runs once")));
        assert_eq!(cfg.files, [PathBuf::from("app1.cnf")]);
    }

    #[test]
    fn garbage_never_panics_through_the_resolver() {
        let pieces = [
            "[server default]\n",
            "[server1]\n",
            "[server2]\n",
            "[binlog1]\n",
            "[x]\n",
            "hostname=h\n",
            "hostname=\n",
            "ip=1\n",
            "port=0\n",
            "port=65535\n",
            "password=p\n",
            "password_env=E\n",
            "candidate_master=yes\n",
            "ping_type=\n",
            "ssh_options='\n",
            "smtp_host=m\n",
            "smtp_to=,\n",
            "=\n",
            "a\n",
            "#c\n",
            " ; x\n",
        ];
        let mut seed: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..3000 {
            let mut text = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let _ = ini(&text);
        }
    }
}
