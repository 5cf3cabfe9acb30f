//! Pure guard: may a failover run now (last-failover window, error marker)?
//!
//! MHA's anti-flapping rules (`MasterFailover.pm`), decided here without I/O:
//! - `<app>.failover.error` exists: a previous failover stopped half-way, so
//!   the cluster may be half-switched. Every later failover is refused until
//!   an operator has looked and removed the file.
//! - `<app>.failover.complete` is younger than the window
//!   (`--last-failover-minute`, default 480): refused, "too early". An older
//!   one is stale and is removed silently.
//! - `--ignore-last-failover`: both markers are removed and the failover runs.
//!
//! The caller reads the markers (path and mtime), calls [`may_fail_over`],
//! and carries out the returned [`MarkerAction`]s.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};

/// MHA's default `--last_failover_minute`: 8 hours.
#[cfg(test)]
pub(crate) const DEFAULT_WINDOW: Duration = Duration::from_secs(480 * 60);

/// A marker file that exists, and when it was last modified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    pub path: PathBuf,
    pub modified: DateTime<FixedOffset>,
}

/// File work the caller must do before failing over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MarkerAction {
    Remove { path: PathBuf, why: &'static str },
}

/// Why a failover must not run now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error(
        "a previous failover did not finish ({path} exists, since {since}); the replication \
         topology may be half-switched. Check every server by hand, then remove {path} \
         (or run with --ignore-last-failover) to allow failovers again",
        path = .path.display(),
        since = .since.format("%Y-%m-%d %H:%M:%S")
    )]
    PreviousFailoverFailed {
        path: PathBuf,
        since: DateTime<FixedOffset>,
    },
    #[error(
        "last failover was at {at}, too early to fail over again (within {minutes} minutes); \
         remove {path} or use --ignore-last-failover",
        at = .at.format("%Y-%m-%d %H:%M:%S"),
        path = .path.display(),
        minutes = .window.as_secs() / 60
    )]
    TooEarly {
        path: PathBuf,
        at: DateTime<FixedOffset>,
        window: Duration,
    },
}

/// Decides whether a failover may run at `now`, given the markers found.
pub(crate) fn may_fail_over(
    now: DateTime<FixedOffset>,
    last_complete: Option<&Marker>,
    error_marker: Option<&Marker>,
    window: Duration,
    ignore_last_failover: bool,
) -> Result<Vec<MarkerAction>, Refusal> {
    if ignore_last_failover {
        let mut actions = Vec::new();
        if let Some(m) = error_marker {
            actions.push(MarkerAction::Remove {
                path: m.path.clone(),
                why: "--ignore-last-failover given",
            });
        }
        if let Some(m) = last_complete {
            actions.push(MarkerAction::Remove {
                path: m.path.clone(),
                why: "--ignore-last-failover given",
            });
        }
        return Ok(actions);
    }
    if let Some(m) = error_marker {
        return Err(Refusal::PreviousFailoverFailed {
            path: m.path.clone(),
            since: m.modified,
        });
    }
    match last_complete {
        None => Ok(Vec::new()),
        Some(m) => {
            // A marker from the future (clock stepped back) has a negative
            // age; it counts as recent, which errs on the side of not flapping.
            let age = now.signed_duration_since(m.modified);
            let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
            if age < window {
                Err(Refusal::TooEarly {
                    path: m.path.clone(),
                    at: m.modified,
                    window: window.to_std().unwrap_or(Duration::MAX),
                })
            } else {
                Ok(vec![MarkerAction::Remove {
                    path: m.path.clone(),
                    why: "older than the last-failover window",
                }])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn marker(name: &str, modified: &str) -> Marker {
        Marker {
            path: PathBuf::from(format!("/var/tmp/app1.failover.{name}")),
            modified: at(modified),
        }
    }

    const NOW: &str = "2024-05-01T12:00:00+02:00";

    fn remove(name: &str) -> PathBuf {
        PathBuf::from(format!("/var/tmp/app1.failover.{name}"))
    }

    #[test]
    fn guard_table() {
        let complete_recent = marker("complete", "2024-05-01T10:00:00+02:00");
        let complete_old = marker("complete", "2024-05-01T03:59:59+02:00");
        let complete_exactly = marker("complete", "2024-05-01T04:00:00+02:00");
        let complete_future = marker("complete", "2024-05-01T13:00:00+02:00");
        let error = marker("error", "2024-04-01T10:00:00+02:00");

        // (name, complete, error, ignore, want: Ok(paths removed) / Err(fragment))
        type Case<'a> = (
            &'a str,
            Option<&'a Marker>,
            Option<&'a Marker>,
            bool,
            Result<Vec<PathBuf>, &'a str>,
        );
        let cases: Vec<Case<'_>> = vec![
            ("no markers", None, None, false, Ok(vec![])),
            (
                "recent complete blocks",
                Some(&complete_recent),
                None,
                false,
                Err("last failover was at 2024-05-01 10:00:00, too early to fail over again (within 480 minutes); remove /var/tmp/app1.failover.complete or use --ignore-last-failover"),
            ),
            (
                "old complete is removed silently",
                Some(&complete_old),
                None,
                false,
                Ok(vec![remove("complete")]),
            ),
            (
                "exactly the window old is allowed",
                Some(&complete_exactly),
                None,
                false,
                Ok(vec![remove("complete")]),
            ),
            (
                "complete from the future blocks",
                Some(&complete_future),
                None,
                false,
                Err("too early"),
            ),
            (
                "error marker blocks, however old",
                None,
                Some(&error),
                false,
                Err("remove /var/tmp/app1.failover.error"),
            ),
            (
                "error marker wins over an old complete",
                Some(&complete_old),
                Some(&error),
                false,
                Err("did not finish"),
            ),
            (
                "ignore removes both",
                Some(&complete_recent),
                Some(&error),
                true,
                Ok(vec![remove("error"), remove("complete")]),
            ),
            ("ignore with nothing to remove", None, None, true, Ok(vec![])),
        ];
        let now = at(NOW);
        for (name, complete, err, ignore, want) in cases {
            let got = may_fail_over(now, complete, err, DEFAULT_WINDOW, ignore);
            match (want, got) {
                (Ok(paths), Ok(actions)) => {
                    let got: Vec<PathBuf> = actions
                        .into_iter()
                        .map(|MarkerAction::Remove { path, .. }| path)
                        .collect();
                    assert_eq!(got, paths, "{name}");
                }
                (Err(fragment), Err(refusal)) => {
                    let text = refusal.to_string();
                    assert!(text.contains(fragment), "{name}: {text}");
                }
                (want, got) => panic!("{name}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn error_refusal_explains_why() {
        let error = marker("error", "2024-04-01T10:00:00+02:00");
        let refusal = may_fail_over(at(NOW), None, Some(&error), DEFAULT_WINDOW, false)
            .expect_err("must refuse");
        let text = refusal.to_string();
        assert!(text.contains("since 2024-04-01 10:00:00"), "{text}");
        assert!(text.contains("half-switched"), "{text}");
        assert!(text.contains("--ignore-last-failover"), "{text}");
    }

    #[test]
    fn zero_window_never_blocks() {
        let complete = marker("complete", NOW);
        let got = may_fail_over(at(NOW), Some(&complete), None, Duration::ZERO, false);
        assert!(got.is_ok(), "{got:?}");
    }
}
