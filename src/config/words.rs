//! Shell-like word splitting for hook commands and `ssh_options` (L0). Whitespace
//! separates words, single quotes keep everything literal, double quotes group and
//! honour `\"`, `\\`, `\$` and `` \` ``, a backslash outside quotes escapes the next
//! character. There is no expansion of any kind: the words become argv, never a shell line.

/// Why a value could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WordsError {
    UnclosedSingleQuote,
    UnclosedDoubleQuote,
    TrailingBackslash,
}

impl WordsError {
    /// What the user should write instead, for error messages.
    pub(crate) fn expected(&self) -> &'static str {
        match self {
            WordsError::UnclosedSingleQuote => "a command line whose single quote is closed",
            WordsError::UnclosedDoubleQuote => "a command line whose double quote is closed",
            WordsError::TrailingBackslash => {
                "a command line that does not end with a lone backslash"
            }
        }
    }
}

/// Splits `s` into words. An empty or all-blank string gives no words.
pub(crate) fn split(s: &str) -> Result<Vec<String>, WordsError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    // A word can be empty yet present (`''`), so track "inside a word" separately.
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(WordsError::UnclosedSingleQuote),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some('\n') => {}
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => return Err(WordsError::UnclosedDoubleQuote),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(WordsError::UnclosedDoubleQuote),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(x) => {
                    in_word = true;
                    cur.push(x);
                }
                None => return Err(WordsError::TrailingBackslash),
            },
            other => {
                in_word = true;
                cur.push(other);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Quotes `word` so that [`split`] gives it back unchanged (used to turn a TOML array
/// into one command-line string).
pub(crate) fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn split_table() {
        let cases: &[(&str, Vec<String>)] = &[
            ("", w(&[])),
            ("   ", w(&[])),
            ("/usr/bin/failover", w(&["/usr/bin/failover"])),
            (
                "/usr/local/bin/master_ip_failover --vip=10.0.0.5  --dev eth0",
                w(&[
                    "/usr/local/bin/master_ip_failover",
                    "--vip=10.0.0.5",
                    "--dev",
                    "eth0",
                ]),
            ),
            ("a 'b c' d", w(&["a", "b c", "d"])),
            ("a \"b c\" d", w(&["a", "b c", "d"])),
            (r#"a "b \"q\" c""#, w(&["a", r#"b "q" c"#])),
            (r#""a\nb""#, w(&[r"a\nb"])),
            (r"a\ b", w(&["a b"])),
            (r"'a\b'", w(&[r"a\b"])),
            ("x'y'\"z\"", w(&["xyz"])),
            ("'' x", w(&["", "x"])),
            (
                "-o 'ProxyJump=bastion host'",
                w(&["-o", "ProxyJump=bastion host"]),
            ),
            ("a\tb\nc", w(&["a", "b", "c"])),
            ("$HOME `id` ;rm", w(&["$HOME", "`id`", ";rm"])),
        ];
        for (input, want) in cases {
            assert_eq!(split(input).as_ref(), Ok(want), "input {input:?}");
        }
    }

    #[test]
    fn split_errors() {
        assert_eq!(split("a 'b"), Err(WordsError::UnclosedSingleQuote));
        assert_eq!(split("a \"b"), Err(WordsError::UnclosedDoubleQuote));
        assert_eq!(split("a \"b\\"), Err(WordsError::UnclosedDoubleQuote));
        assert_eq!(split("a\\"), Err(WordsError::TrailingBackslash));
    }

    #[test]
    fn quote_round_trips() {
        for word in ["plain", "", "two words", "it's", "a\"b", "$x", "--opt=v"] {
            assert_eq!(split(&quote(word)), Ok(vec![word.to_string()]), "{word:?}");
        }
    }
}
