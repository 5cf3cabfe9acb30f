//! The allow-list of `ssh_options` (L0): which ssh settings a config may pass, as
//! `-o Key=Value` (or the few short flags that mean exactly one of them). Checked at load,
//! so a bad option is refused with its file and line before anything runs; the transport
//! turns the same pairs into ssh_config lines. Options that run commands (`ProxyCommand`,
//! `LocalCommand`, ...), pull in other files (`Include`, `Match`) or turn host-key
//! checking off are refused: a config value must never make ssh run something.

use super::words;

/// Keys that only tune the connection; their values are one word each.
const TUNING: &[&str] = &[
    "AddressFamily",
    "BatchMode",
    "Ciphers",
    "Compression",
    "ConnectionAttempts",
    "ConnectTimeout",
    "HostKeyAlgorithms",
    "IdentitiesOnly",
    "KexAlgorithms",
    "LogLevel",
    "MACs",
    "PasswordAuthentication",
    "Port",
    "PreferredAuthentications",
    "PubkeyAcceptedAlgorithms",
    "PubkeyAcceptedKeyTypes",
    "ServerAliveCountMax",
    "ServerAliveInterval",
    "TCPKeepAlive",
    "User",
];

/// Keys whose value is a file path (may be quoted in ssh_config).
const PATHS: &[&str] = &["IdentityFile", "UserKnownHostsFile", "GlobalKnownHostsFile"];

/// `StrictHostKeyChecking`: only the values that still check host keys.
const HOST_KEY_CHECKING: &str = "StrictHostKeyChecking";
const CHECKING_VALUES: &[&str] = &["yes", "accept-new"];

/// `ProxyJump`: a host, not a command; its value is checked as `[user@]host[:port]`.
const PROXY_JUMP: &str = "ProxyJump";

/// What to write instead, in every refusal.
const ALLOWED_HINT: &str = "ssh_options takes only -o Key=Value with Key one of AddressFamily, \
BatchMode, Ciphers, Compression, ConnectionAttempts, ConnectTimeout, GlobalKnownHostsFile, \
HostKeyAlgorithms, IdentitiesOnly, IdentityFile, KexAlgorithms, LogLevel, MACs, \
PasswordAuthentication, Port, PreferredAuthentications, ProxyJump, PubkeyAcceptedAlgorithms, \
ServerAliveCountMax, ServerAliveInterval, StrictHostKeyChecking (yes or accept-new), \
TCPKeepAlive, User, UserKnownHostsFile (and -i, -p, -l, -c, -J, -C, -4, -6, -q, -T, -n, -x)";

/// One allowed ssh setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshOption {
    /// The key as ssh spells it (canonical case).
    pub key: &'static str,
    pub value: String,
}

impl SshOption {
    /// The ssh_config line (paths quoted when they hold blanks).
    pub(crate) fn config_line(&self) -> String {
        if PATHS.contains(&self.key) && self.value.contains(' ') {
            format!("{} \"{}\"", self.key, self.value)
        } else {
            format!("{} {}", self.key, self.value)
        }
    }
}

/// Checks the words of `ssh_options` against the allow-list; `Err` says which word is
/// refused, why, and what is allowed.
pub(crate) fn parse(words: &[String]) -> Result<Vec<SshOption>, String> {
    let mut out = Vec::new();
    let mut it = words.iter();
    while let Some(word) = it.next() {
        let mut value_of = |flag: &str| {
            // `-oKey=Value` and `-o Key=Value` are both valid ssh syntax.
            let rest = &word[flag.len()..];
            if rest.is_empty() {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("'{flag}' needs a value"))
            } else {
                Ok(rest.to_owned())
            }
        };
        let (key, value) = match word.as_str() {
            w if w.starts_with("-o") => key_value(&value_of("-o")?)?,
            w if w.starts_with("-i") => ("IdentityFile".to_owned(), value_of("-i")?),
            w if w.starts_with("-p") => ("Port".to_owned(), value_of("-p")?),
            w if w.starts_with("-l") => ("User".to_owned(), value_of("-l")?),
            w if w.starts_with("-c") => ("Ciphers".to_owned(), value_of("-c")?),
            w if w.starts_with("-J") => (PROXY_JUMP.to_owned(), value_of("-J")?),
            "-C" => ("Compression".to_owned(), "yes".to_owned()),
            "-4" => ("AddressFamily".to_owned(), "inet".to_owned()),
            "-6" => ("AddressFamily".to_owned(), "inet6".to_owned()),
            "-q" => ("LogLevel".to_owned(), "QUIET".to_owned()),
            // ha-manager runs no tty, no stdin-less or X11 session anyway.
            "-T" | "-n" | "-x" => continue,
            other => return Err(format!("'{other}' is not allowed; {ALLOWED_HINT}")),
        };
        out.push(allowed(&key, value)?);
    }
    Ok(out)
}

/// Splits `Key=Value` (or `Key Value`).
fn key_value(kv: &str) -> Result<(String, String), String> {
    let (key, value) = kv
        .split_once('=')
        .or_else(|| kv.split_once(char::is_whitespace))
        .ok_or_else(|| format!("'-o {kv}' must be Key=Value"))?;
    Ok((key.trim().to_owned(), value.trim().to_owned()))
}

/// The option if `key` is allowed and `value` is safe for it.
fn allowed(key: &str, value: String) -> Result<SshOption, String> {
    let shown = format!("'{key}={value}'");
    if value.is_empty() {
        return Err(format!("{shown} has no value"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{shown} contains a control character"));
    }
    if value.starts_with('-') {
        return Err(format!("{shown}: a value may not start with '-'"));
    }
    let find = |list: &[&'static str]| list.iter().copied().find(|k| k.eq_ignore_ascii_case(key));
    let checking = key.eq_ignore_ascii_case(HOST_KEY_CHECKING);
    let jump = key.eq_ignore_ascii_case(PROXY_JUMP);
    if find(PATHS).is_none() && find(TUNING).is_none() && !checking && !jump {
        return Err(format!(
            "{shown}: option '{key}' is not allowed; {ALLOWED_HINT}"
        ));
    }
    if let Some(key) = find(PATHS) {
        if value.contains('"') {
            return Err(format!("{shown}: a path may not contain '\"'"));
        }
        return Ok(SshOption { key, value });
    }
    // Every other value is a single word: no blank can start a second setting.
    if value.chars().any(char::is_whitespace) || value.contains('"') {
        return Err(format!(
            "{shown}: the value must be one word, without blanks or quotes"
        ));
    }
    if let Some(key) = find(TUNING) {
        return Ok(SshOption { key, value });
    }
    if checking {
        let Some(v) = CHECKING_VALUES
            .iter()
            .find(|v| v.eq_ignore_ascii_case(&value))
        else {
            return Err(format!(
                "{shown} would stop checking host keys; ha-manager always checks them \
                 (set host_key_check=accept-new to learn new hosts' keys)"
            ));
        };
        return Ok(SshOption {
            key: HOST_KEY_CHECKING,
            value: (*v).to_owned(),
        });
    }
    proxy_jump(&value)
        .map(|()| SshOption {
            key: PROXY_JUMP,
            value,
        })
        .map_err(|why| format!("{shown}: {why}"))
}

/// `[user@]host[:port]`, comma-separated: names only, nothing a shell or ssh would expand.
fn proxy_jump(value: &str) -> Result<(), String> {
    for hop in value.split(',') {
        let ok = !hop.is_empty()
            && !hop.starts_with('-')
            && hop.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | ':' | '[' | ']')
            });
        if !ok {
            return Err(format!(
                "'{hop}' is not [user@]host[:port] (letters, digits, '.', '-', '_', '@', ':')"
            ));
        }
    }
    Ok(())
}

/// For the config loader: the raw value of `ssh_options`, split and checked.
pub(crate) fn check_value(value: &str) -> Result<(), String> {
    let words = words::split(value).map_err(|e| e.expected().to_string())?;
    parse(&words).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        words::split(s).expect("words")
    }

    fn lines(s: &str) -> Result<Vec<String>, String> {
        parse(&words(s)).map(|o| o.iter().map(SshOption::config_line).collect())
    }

    #[test]
    fn known_safe_options_are_translated() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("-i /root/.ssh/id_mha", &["IdentityFile /root/.ssh/id_mha"]),
            ("-i/root/.ssh/k", &["IdentityFile /root/.ssh/k"]),
            (
                "-o ConnectionAttempts=3 -oServerAliveInterval=10",
                &["ConnectionAttempts 3", "ServerAliveInterval 10"],
            ),
            (
                "-o connecttimeout=5 -o StrictHostKeyChecking=accept-new",
                &["ConnectTimeout 5", "StrictHostKeyChecking accept-new"],
            ),
            (
                "-o 'IdentityFile=/root/my keys/id' -o ProxyJump=admin@bastion:2222",
                &[
                    "IdentityFile \"/root/my keys/id\"",
                    "ProxyJump admin@bastion:2222",
                ],
            ),
            (
                "-p 2222 -l dba -C -4",
                &[
                    "Port 2222",
                    "User dba",
                    "Compression yes",
                    "AddressFamily inet",
                ],
            ),
            ("-q -T", &["LogLevel QUIET"]),
        ];
        for (input, want) in cases {
            assert_eq!(lines(input).unwrap(), *want, "{input}");
        }
    }

    #[test]
    fn options_that_run_commands_or_read_files_are_refused() {
        for (input, says) in [
            ("-o ProxyCommand=nc %h %p", "'ProxyCommand' is not allowed"),
            (
                "-o 'ProxyCommand=sh -c id'",
                "'ProxyCommand' is not allowed",
            ),
            ("-o LocalCommand=id", "'LocalCommand' is not allowed"),
            (
                "-o PermitLocalCommand=yes",
                "'PermitLocalCommand' is not allowed",
            ),
            ("-o Include=/tmp/x", "'Include' is not allowed"),
            ("-o Match=all", "'Match' is not allowed"),
            (
                "-o KnownHostsCommand=id",
                "'KnownHostsCommand' is not allowed",
            ),
            ("-o ForwardAgent=yes", "'ForwardAgent' is not allowed"),
            (
                "-o StrictHostKeyChecking=no",
                "would stop checking host keys",
            ),
            ("-o 'Port=22 ProxyCommand id'", "must be one word"),
            ("-o Port=-1", "may not start with '-'"),
            ("-o ProxyJump=-oProxyCommand=id", "may not start with '-'"),
            ("-o ProxyJump=a,-x", "not [user@]host[:port]"),
            ("-o ProxyJump=a;id", "not [user@]host[:port]"),
            ("-o 'User=a\nProxyCommand id'", "control character"),
            ("-A", "'-A' is not allowed"),
            ("-J 'a b'", "must be one word"),
            ("-L 80:x:80", "'-L' is not allowed"),
            ("somehost", "'somehost' is not allowed"),
            ("-o", "needs a value"),
            ("-i", "needs a value"),
            ("-o Port", "must be Key=Value"),
            ("-o Port=", "has no value"),
        ] {
            let err = lines(input).expect_err(input);
            assert!(err.contains(says), "{input}: {err}");
        }
    }
}
