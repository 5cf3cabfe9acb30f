//! Translates MHA's `ssh_options` (ssh command-line words) into ssh_config lines.
//!
//! openssh's session builder takes no free-form arguments, so the words are
//! turned into a config file that is passed with `-F`; the user's own
//! `~/.ssh/config` is included after them so it keeps working as with MHA.

/// An ssh_config fragment from `ssh_options` words, or the word that cannot be translated.
pub(crate) fn to_ssh_config(words: &[String]) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
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
        let line = match word.as_str() {
            w if w.starts_with("-o") => option_line(&value_of("-o")?)?,
            w if w.starts_with("-i") => format!("IdentityFile {}", quote(&value_of("-i")?)),
            w if w.starts_with("-p") => format!("Port {}", value_of("-p")?),
            w if w.starts_with("-l") => format!("User {}", value_of("-l")?),
            w if w.starts_with("-c") => format!("Ciphers {}", value_of("-c")?),
            w if w.starts_with("-J") => format!("ProxyJump {}", value_of("-J")?),
            "-C" => "Compression yes".to_owned(),
            "-4" => "AddressFamily inet".to_owned(),
            "-6" => "AddressFamily inet6".to_owned(),
            "-q" => "LogLevel QUIET".to_owned(),
            "-A" => "ForwardAgent yes".to_owned(),
            "-a" => "ForwardAgent no".to_owned(),
            "-T" | "-n" | "-x" => continue,
            other => {
                return Err(format!(
                    "'{other}' is not supported in ssh_options; use -o Key=Value, -i, -p, -l, -c, -J, -C, -4, -6"
                ))
            }
        };
        lines.push(line);
    }
    Ok(lines)
}

fn option_line(kv: &str) -> Result<String, String> {
    let (key, value) = kv
        .split_once('=')
        .or_else(|| kv.split_once(char::is_whitespace))
        .ok_or_else(|| format!("'-o {kv}' must be Key=Value"))?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("'-o {kv}': '{key}' is not an ssh option name"));
    }
    Ok(format!("{key} {}", value.trim()))
}

fn quote(path: &str) -> String {
    if path.contains(char::is_whitespace) {
        format!("\"{path}\"")
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn translates_common_mha_options() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("-i /root/.ssh/id_mha", &["IdentityFile /root/.ssh/id_mha"]),
            ("-i/root/.ssh/k", &["IdentityFile /root/.ssh/k"]),
            (
                "-o ConnectionAttempts=3 -oServerAliveInterval=10",
                &["ConnectionAttempts 3", "ServerAliveInterval 10"],
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
            assert_eq!(to_ssh_config(&words(input)).unwrap(), *want, "{input}");
        }
    }

    #[test]
    fn rejects_what_cannot_be_translated() {
        for input in [
            "-v",
            "-i",
            "-o",
            "-o =x",
            "-o Bad-Key=1",
            "-L 80:x:80",
            "somehost",
        ] {
            let err = to_ssh_config(&words(input)).unwrap_err();
            assert!(!err.is_empty(), "{input}");
        }
    }
}
