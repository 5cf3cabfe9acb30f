//! Copying binlogs and relay logs from a host into the manager's workdir:
//! only the bytes needed (the dead master's binlog from the start position
//! on, after its header; relay logs from the one that holds the position
//! on), streamed to private files, never held in memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use super::{Kit, StepError};
use crate::binlog::{self, BinlogError, LogSource};
use crate::config::ServerSpec;
use crate::topology::position::BinlogPos;
use crate::topology::status::ServerFacts;
use crate::transport::node::{Node, NodeError};

/// How much of a log's start is read to find its header's end (a binlog)
/// or where the master's stream begins (a relay log).
const HEAD: u64 = 64 << 10;

/// A log file copied (whole, or its head and the part from an offset on)
/// into a private directory of the workdir.
#[derive(Debug, Clone)]
pub(crate) struct LocalLog {
    pub name: String,
    pub path: PathBuf,
    /// `(head_end, resume_at)` when the bytes in between were not copied.
    pub skip: Option<(u64, u64)>,
    /// Bytes copied.
    pub copied: u64,
}

impl LogSource for LocalLog {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self) -> Result<Box<dyn std::io::Read + '_>, BinlogError> {
        let file = std::fs::File::open(&self.path).map_err(|e| BinlogError::Io {
            file: self.path.display().to_string(),
            offset: 0,
            reason: e.to_string(),
        })?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, file)))
    }

    fn skip(&self) -> Option<(u64, u64)> {
        self.skip
    }
}

/// Copies fetched from one host, oldest first; the directory holding them
/// is removed when the last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub logs: Vec<LocalLog>,
    _dir: Arc<tempfile::TempDir>,
}

impl Fetched {
    /// Bytes copied in all.
    pub(crate) fn copied(&self) -> u64 {
        self.logs.iter().map(|l| l.copied).sum()
    }
}

fn scratch(kit: &Kit, host: &str) -> Result<tempfile::TempDir, StepError> {
    crate::state::Workdir::of(&kit.config)
        .scratch_dir()
        .map_err(|e| {
            StepError::state(
                host,
                format!("cannot make a directory for the copied logs in manager_workdir: {e}"),
            )
        })
}

/// Streams `path` on the host into the local file `local`: the `head`
/// bytes first when given, then the host's bytes from `from` on.
async fn copy(
    node: &Node<'_>,
    path: &str,
    size: u64,
    head: Option<&[u8]>,
    from: u64,
    local: &Path,
) -> Result<u64, NodeError> {
    let local_err = |e: std::io::Error| NodeError::Missing {
        host: node.spec.label(),
        what: format!("cannot write {}: {e}", local.display()),
    };
    let file = tokio::fs::File::create(local).await.map_err(local_err)?;
    let mut sink = tokio::io::BufWriter::with_capacity(1 << 16, file);
    let mut copied = 0;
    if let Some(head) = head {
        sink.write_all(head).await.map_err(local_err)?;
        copied += head.len() as u64;
    }
    copied += node.fetch_to(path, from, size, &mut sink).await?;
    sink.flush().await.map_err(local_err)?;
    Ok(copied)
}

/// The log files in `dir` named `<stem>.<digits>`, oldest first, from `first` on.
pub(crate) fn log_files_from(names: &[String], stem: &str, first_seq: u64) -> Vec<String> {
    let mut files: Vec<(u64, String)> = names
        .iter()
        .filter_map(|n| {
            let (s, seq) = n.rsplit_once('.')?;
            (s == stem && !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()))
                .then(|| Some((seq.parse::<u64>().ok()?, n.clone())))?
        })
        .filter(|(seq, _)| *seq >= first_seq)
        .collect();
    files.sort();
    files.into_iter().map(|(_, n)| n).collect()
}

/// Copies a server's binlog files from `start.file` on, from the first of
/// its `master_binlog_dir` that holds that file: of the first, only its
/// header and the bytes from `start.pos` on; the later ones whole.
pub(crate) async fn fetch_binlogs(
    kit: &Kit,
    spec: &ServerSpec,
    start: &BinlogPos,
) -> Result<Fetched, StepError> {
    let node = kit.node(spec);
    let host = spec.label();
    let fail = |e| StepError::remote(&host, "copying its binlog", e);
    for dir in &spec.master_binlog_dir {
        let Ok(names) = node.list(dir).await else {
            continue;
        };
        let files = log_files_from(&names, start.stem(), start.seq().unwrap_or(0));
        if files.first() != Some(&start.file) {
            continue;
        }
        let scratch = scratch(kit, &host)?;
        let mut logs = Vec::new();
        for (i, name) in files.into_iter().enumerate() {
            let path = format!("{}/{name}", dir.trim_end_matches('/'));
            let local = scratch.path().join(&name);
            let size = node.size(&path).await.map_err(fail)?;
            let mut skip = None;
            let mut head = None;
            if i == 0 && start.pos > HEAD && size > HEAD {
                let bytes = node.head(&path, HEAD).await.map_err(fail)?;
                if let Some(end) = binlog::head_end(&name, &bytes).filter(|&e| e < start.pos) {
                    skip = Some((end, start.pos));
                    head = Some(bytes[..end as usize].to_vec());
                }
            }
            let from = skip.map_or(0, |(_, resume)| resume);
            let copied = copy(&node, &path, size, head.as_deref(), from, &local)
                .await
                .map_err(fail)?;
            tracing::info!(
                "{host}: copied {copied} bytes of {path} ({size} bytes){}",
                match skip {
                    Some((h, r)) => format!(": its header ({h} bytes) and the rest from {r}"),
                    None => String::new(),
                }
            );
            logs.push(LocalLog {
                name,
                path: local,
                skip,
                copied,
            });
        }
        return Ok(Fetched {
            logs,
            _dir: Arc::new(scratch),
        });
    }
    Err(StepError::state(
        spec.label(),
        format!(
            "{} not found in master_binlog_dir ({})",
            start.file,
            spec.master_binlog_dir.join(",")
        ),
    ))
}

/// Copies the relay logs of a slave that may hold `earliest` (the earliest
/// master position any other server needs from them) and all later ones:
/// from the newest back, each relay log's head says where the master's
/// stream begins in it; the first that begins at or before `earliest` is
/// the oldest copied (all of them when none says so).
pub(crate) async fn fetch_relay_logs(
    kit: &Kit,
    spec: &ServerSpec,
    facts: &ServerFacts,
    earliest: Option<&BinlogPos>,
) -> Result<Fetched, StepError> {
    let host = spec.label();
    let fail = |e| StepError::remote(&host, "copying its relay logs", e);
    let node = kit.node(spec);
    let current = facts
        .replica
        .as_ref()
        .map(|r| r.relay_log_file.clone())
        .unwrap_or_default();
    let current = current.rsplit('/').next().unwrap_or("").to_owned();
    let stem = current
        .rsplit_once('.')
        .map(|(s, _)| s.to_owned())
        .unwrap_or_default();
    let dir = facts.relay_log_dir.clone();
    let names = log_files_from(&node.list(&dir).await.map_err(fail)?, &stem, 0);
    let mut first = 0;
    if let Some(target) = earliest {
        for (i, name) in names.iter().enumerate().rev() {
            let head = node
                .head(&format!("{dir}/{name}"), HEAD)
                .await
                .map_err(fail)?;
            if let Some(begins) = binlog::relay_start(name, &head) {
                if begins.stem() == target.stem() && begins <= *target {
                    first = i;
                    break;
                }
            }
        }
    }
    let scratch = scratch(kit, &host)?;
    let mut logs = Vec::new();
    for (i, name) in names.iter().enumerate().skip(first) {
        let path = format!("{dir}/{name}");
        let size = node.size(&path).await.map_err(fail)?;
        let local = scratch.path().join(name);
        let mut log = None;
        if i == first {
            if let Some(target) = earliest {
                log = copy_relay_from(&node, facts, name, &path, size, target, &local)
                    .await
                    .map_err(fail)?;
            }
        }
        let log = match log {
            Some(log) => log,
            None => {
                let copied = copy(&node, &path, size, None, 0, &local)
                    .await
                    .map_err(fail)?;
                LocalLog {
                    name: name.clone(),
                    path: local,
                    skip: None,
                    copied,
                }
            }
        };
        logs.push(log);
    }
    let fetched = Fetched {
        logs,
        _dir: Arc::new(scratch),
    };
    tracing::info!(
        "{host}: copied {} relay log(s), {} bytes, from {}",
        fetched.logs.len(),
        fetched.copied(),
        fetched.logs.first().map_or("-", |l| l.name.as_str())
    );
    Ok(fetched)
}

/// Cuts, from the latest slave's copied relay logs, the difference after
/// `target` for `spec`'s server, into a file kept in `manager_workdir`
/// (0600, journaled: what each slave was given stays on record). The diff
/// and the file.
pub(crate) async fn cut_relay_diff(
    kit: &Kit,
    relay: &Fetched,
    target: &BinlogPos,
    spec: &ServerSpec,
) -> Result<(binlog::Diff, PathBuf), StepError> {
    let host = spec.label();
    let op = "cutting the relay-log difference";
    let mut saved = crate::state::Workdir::of(&kit.config)
        .new_relay_diff(&spec.hostname, spec.port)
        .map_err(|e| {
            StepError::state(&host, format!("cannot keep the relay-log difference: {e}"))
        })?;
    let (relay, target, h) = (relay.clone(), target.clone(), host.clone());
    let (diff, saved) = blocking(&host, op, move || {
        let cut = binlog::find_master_pos(&relay.logs, &target)
            .map_err(|e| StepError::binlog(&h, op, e))?;
        let diff = binlog::cut_diff_into(&relay.logs, &cut, &mut saved.out)
            .map_err(|e| StepError::binlog(&h, op, e))?;
        Ok((diff, saved))
    })
    .await?;
    let path = saved.keep().map_err(|e| {
        StepError::state(&host, format!("cannot keep the relay-log difference: {e}"))
    })?;
    let shown = path.display().to_string();
    tracing::info!("{host}: the relay-log difference is kept in {shown}");
    kit.log.facts(|f| f.saved_diffs.push(shown));
    Ok((diff, path))
}

/// Cuts the dead master's binlog tail after `start` from its copied
/// binlogs into `saved` (a file in the workdir).
pub(crate) async fn cut_tail(
    host: &str,
    logs: Fetched,
    start: &BinlogPos,
    mut saved: crate::state::SavedLog,
) -> Result<(binlog::Diff, crate::state::SavedLog), StepError> {
    let op = "cutting the binlog tail";
    let (start, h) = (start.clone(), host.to_owned());
    blocking(host, op, move || {
        let diff = binlog::binlog_tail_into(&logs.logs, &start, &mut saved.out)
            .map_err(|e| StepError::binlog(&h, op, e))?;
        Ok((diff, saved))
    })
    .await
}

/// Copies the relay log `name` (the one that holds `target`) as its header
/// and the bytes from where `target` lies on, when the slave's own report
/// says where: it is the relay log its SQL thread is in, and
/// `Relay_Log_Pos` ↔ `Exec_Master_Log_Pos` maps master positions to relay
/// log offsets (events are copied verbatim, so within one stretch of the
/// master's stream the two move together). The copy is checked: the event
/// where it resumes must begin at `target`. `None` (the caller copies the
/// file whole) when the mapping does not apply or the check fails.
async fn copy_relay_from(
    node: &Node<'_>,
    facts: &ServerFacts,
    name: &str,
    path: &str,
    size: u64,
    target: &BinlogPos,
    local: &Path,
) -> Result<Option<LocalLog>, NodeError> {
    let Some(r) = facts.replica.as_ref() else {
        return Ok(None);
    };
    let current = r.relay_log_file.rsplit('/').next().unwrap_or("");
    if current != name || r.exec.file != target.file || r.exec.pos < target.pos {
        return Ok(None);
    }
    let Some(resume_at) = r.relay_log_pos.checked_sub(r.exec.pos - target.pos) else {
        return Ok(None);
    };
    if resume_at > size || resume_at <= HEAD {
        return Ok(None);
    }
    let head = node.head(path, HEAD).await?;
    let Some(head_end) = binlog::relay_head_end(name, &head).filter(|&e| e < resume_at) else {
        return Ok(None);
    };
    let copied = copy(
        node,
        path,
        size,
        Some(&head[..head_end as usize]),
        resume_at,
        local,
    )
    .await?;
    let log = LocalLog {
        name: name.to_owned(),
        path: local.to_path_buf(),
        skip: Some((head_end, resume_at)),
        copied,
    };
    let (check, t) = (log.clone(), target.clone());
    let found = tokio::task::spawn_blocking(move || binlog::find_master_pos(&[check], &t))
        .await
        .ok()
        .and_then(|r| r.ok());
    if found.is_some_and(|cut| cut.offset == resume_at) {
        tracing::info!(
            "{}: relay log {path} ({size} bytes): its header and the bytes from offset \
             {resume_at}, where {target} lies ({copied} bytes)",
            node.spec.label()
        );
        Ok(Some(log))
    } else {
        tracing::info!(
            "{}: {target} is not at offset {resume_at} of {path}: copying it whole",
            node.spec.label()
        );
        Ok(None)
    }
}

/// Runs a cut of logs into a file (CPU and disk work) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    host: &str,
    op: &str,
    work: impl FnOnce() -> Result<T, StepError> + Send + 'static,
) -> Result<T, StepError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StepError::state(host, format!("{op}: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_files_are_ordered_numerically_and_filtered() {
        let names: Vec<String> = [
            "relay-bin.000010",
            "relay-bin.index",
            "relay-bin.000002",
            "mysql-bin.000003",
            "relay-bin.000009",
            "relay-bin.info",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            log_files_from(&names, "relay-bin", 0),
            ["relay-bin.000002", "relay-bin.000009", "relay-bin.000010"]
        );
        assert_eq!(
            log_files_from(&names, "relay-bin", 9),
            ["relay-bin.000009", "relay-bin.000010"]
        );
        assert_eq!(log_files_from(&names, "mysql-bin", 3), ["mysql-bin.000003"]);
    }
}
