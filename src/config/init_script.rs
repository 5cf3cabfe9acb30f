//! Reading `init_conf_load_script`'s output (L0): `name=value` lines that override the
//! application's `[server default]`, as MHA does. Running the script is the loader's job
//! (`config/mod.rs`); this only turns its text into a raw section. Values are never
//! quoted in errors: the script exists to hand over passwords.

use std::path::PathBuf;

use super::cnf::unquote;
use super::error::ConfigError;
use super::keys;
use super::model::Origin;
use super::raw::{RawEntry, RawFile, RawSection, DEFAULT_SECTION};

/// The pseudo file name under which the script's values are reported (`<script> (output)`).
pub(crate) fn output_path(script: &str) -> PathBuf {
    PathBuf::from(format!("{script} (output)"))
}

/// Parses the script's standard output. `script` names it in messages and `origin` is
/// where it is configured. Blank lines and `#` lines are skipped; everything after the
/// first `=` is the value (MHA cut at a second `=`, which broke such passwords); a later
/// line for the same name wins, as in MHA.
pub(crate) fn parse_output(
    script: &str,
    origin: &Origin,
    stdout: &str,
) -> Result<RawFile, ConfigError> {
    let fail = |reason: String| ConfigError::InitScript {
        origin: origin.clone(),
        script: script.to_string(),
        reason,
    };
    let mut entries: Vec<RawEntry> = Vec::new();
    for (index, line) in stdout.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(fail(format!(
                "line {line_no} of its output is not name=value; print one parameter per line"
            )));
        };
        let name = name.trim();
        if keys::lookup(name).is_none() {
            let hint = match keys::did_you_mean(name) {
                Some(s) => format!("did you mean '{s}'?"),
                None => "see docs/config-reference.md for the parameters".to_string(),
            };
            return Err(fail(format!(
                "line {line_no} of its output sets unknown parameter '{name}'; {hint}"
            )));
        }
        entries.retain(|e| e.key != name);
        entries.push(RawEntry {
            key: name.to_string(),
            value: unquote(value.trim()).to_string(),
            line: line_no,
        });
    }
    Ok(RawFile {
        path: output_path(script),
        sections: vec![RawSection {
            name: DEFAULT_SECTION.to_string(),
            line: 0,
            entries,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            file: "app1.cnf".into(),
            line: 3,
        }
    }

    #[test]
    fn parses_name_value_lines() {
        let out = "password=pa=ss#1\n\n# comment\nrepl_user = 'repl'\npassword=second\n";
        let file = parse_output("/bin/load", &origin(), out).expect("parses");
        assert_eq!(file.path, PathBuf::from("/bin/load (output)"));
        let s = &file.sections[0];
        assert!(s.is_default());
        let got: Vec<_> = s
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str(), e.line))
            .collect();
        assert_eq!(got, [("repl_user", "repl", 4), ("password", "second", 5)]);
    }

    #[test]
    fn errors_name_the_script_and_never_the_value() {
        let cases = [
            (
                "pasword=TopSecret42\n",
                "unknown parameter 'pasword'; did you mean 'password'?",
            ),
            ("TopSecret42\n", "line 1 of its output is not name=value"),
        ];
        for (out, needle) in cases {
            let err = parse_output("/bin/load", &origin(), out).expect_err(out);
            let msg = err.to_string();
            assert!(
                msg.starts_with("app1.cnf:3: init_conf_load_script '/bin/load'"),
                "{msg}"
            );
            assert!(msg.contains(needle), "{msg}");
            assert!(!msg.contains("TopSecret42"), "{msg}");
        }
    }
}
