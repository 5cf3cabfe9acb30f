//! Translates MHA's `ssh_options` (ssh command-line words) into ssh_config lines.
//!
//! openssh's session builder takes no free-form arguments, so the words are
//! turned into a config file that is passed with `-F`; the user's own
//! `~/.ssh/config` is included after them so it keeps working as with MHA.
//! Which options are allowed is decided once, by the config's allow-list
//! (`config::ssh_options`), which the loader already applied.

use crate::config::ssh_options;

/// An ssh_config fragment from `ssh_options` words, or why a word is refused.
pub(crate) fn to_ssh_config(words: &[String]) -> Result<Vec<String>, String> {
    ssh_options::parse(words).map(|options| {
        options
            .iter()
            .map(ssh_options::SshOption::config_line)
            .collect()
    })
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
        ];
        for (input, want) in cases {
            assert_eq!(to_ssh_config(&words(input)).unwrap(), *want, "{input}");
        }
    }

    #[test]
    fn a_word_outside_the_allow_list_never_reaches_the_ssh_config() {
        for input in [
            "-v",
            "-o ProxyCommand=nc",
            "-o LocalCommand=id",
            "-o Bad-Key=1",
            "somehost",
        ] {
            let err = to_ssh_config(&words(input)).unwrap_err();
            assert!(err.contains("not allowed"), "{input}: {err}");
        }
    }
}
