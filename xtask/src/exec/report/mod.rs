//! The run report (`--report FILE`, REPORT): one JSON document per run that got past
//! validation — succeeded, failed or interrupted — with the target, mode, times, result and
//! exit code, and per step what it did, where, how it ended, its log file, the tag it pushes
//! and the digest the registry holds for that tag now (or why there is none). `document` is
//! pure; `digests` asks the registry; `write` replaces a file atomically and writes a device or
//! pipe through. docs/report.md (the field tables) is the format's contract: change both
//! together.

mod digests;
pub mod promotion;
pub mod read;
pub mod timeline;
pub mod traffic;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use serde_json::{json, Value};

pub use digests::digests;

use super::state::State;
use super::{logs, time};
use crate::error::{self, Interrupted};
use crate::plan::{Action, Kind, Plan};

/// Bumped when a field changes meaning or goes away (new fields do not bump it).
pub const FORMAT_VERSION: u32 = 1;

/// What a run came to, as the report needs it.
pub struct Run<'a> {
    pub plan: &'a Plan,
    pub registry: &'a str,
    pub os_versions: &'a [String],
    pub started: SystemTime,
    pub finished: SystemTime,
    /// How each step ended; empty when the run stopped before its first step.
    pub states: &'a [State],
    /// When each step started; empty or None when it did not.
    pub starts: &'a [Option<SystemTime>],
    pub outcome: &'a anyhow::Result<()>,
    pub log_dir: Option<&'a Path>,
}

impl Run<'_> {
    /// The step's state (not started when the run ended before the executor).
    pub fn state(&self, step: usize) -> &State {
        self.states.get(step).unwrap_or(&State::Pending)
    }

    pub fn interrupted(&self) -> bool {
        matches!(self.outcome, Err(e) if e.downcast_ref::<Interrupted>().is_some())
    }
}

/// The digest the registry holds for a step's pushed tag, or why the report has none.
pub type Digest = Result<String, String>;

/// The report. `digests` has one entry per step (see `digests`).
pub fn document(run: &Run, digests: &[Digest]) -> Value {
    let (result, exit_code, error) = match run.outcome {
        Ok(()) => ("succeeded", 0, None),
        Err(e) => (
            if run.interrupted() {
                "interrupted"
            } else {
                "failed"
            },
            error::code(e),
            Some(format!("{e:#}")),
        ),
    };
    let n = run.plan.steps.len();
    let steps: Vec<Value> = run
        .plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let state = run.state(i);
            let node_url = match &s.action {
                Action::Build { node, .. } | Action::Push { node } => {
                    Some(node.address().to_string())
                }
                Action::Cache { .. } | Action::Copy { .. } | Action::List(_) => None,
            };
            let log = run
                .log_dir
                .map(|d| d.join(logs::file_name(s, n)))
                .filter(|p| state.took().is_some() && p.is_file())
                .map(|p| p.display().to_string());
            let pushes = (s.kind() != Kind::Build).then(|| s.tag.clone());
            // A node build's builder and isolation as run: the `--isolation` it sent (None:
            // the node's default) and the builder it went through (None: not asked).
            let (builder, isolation) = match &s.action {
                Action::Build {
                    builder, isolation, ..
                } => (builder.word(), isolation.word()),
                _ => (None, None),
            };
            let (digest, why) = match digests.get(i) {
                Some(Ok(d)) => (Some(d.clone()), None),
                Some(Err(why)) => (None, Some(why.clone())),
                None => (None, Some("not asked".to_string())),
            };
            json!({
                "number": s.id,
                "kind": s.kind().word(),
                "what": s.what,
                "image": s.image,
                "os_version": s.os,
                "node": s.node.label(),
                "node_url": node_url,
                "state": state.key(),
                "seconds": state.took().map(seconds),
                "started_seconds": run.starts.get(i).copied().flatten()
                    .and_then(|t| t.duration_since(run.started).ok())
                    .filter(|_| state.took().is_some())
                    .map(seconds),
                "error": match state { State::Failed(_, m) => Some(m.clone()), _ => None },
                "skip_reason": s.skip.as_ref().filter(|_| *state == State::Skipped),
                "log": log,
                "tag": s.tag,
                "builder": builder,
                "isolation": isolation,
                "pushes": pushes,
                "digest": digest,
                "why_no_digest": why,
            })
        })
        .collect();
    let elapsed = run.finished.duration_since(run.started).unwrap_or_default();
    json!({
        "format_version": FORMAT_VERSION,
        "target": run.plan.target.name(),
        "mode": if run.plan.matrix { "matrix" } else { "compat" },
        "os_versions": run.os_versions,
        "registry": run.registry,
        "started": time::rfc3339(run.started),
        "finished": time::rfc3339(run.finished),
        "seconds": seconds(elapsed),
        "result": result,
        "exit_code": exit_code,
        "error": error,
        "log_dir": run.log_dir.map(|d| d.display().to_string()),
        "steps": steps,
    })
}

/// Seconds to the millisecond, as a JSON number.
fn seconds(d: std::time::Duration) -> f64 {
    d.as_millis() as f64 / 1000.0
}

/// Writes the report to `path`. A path that already exists and is not a regular file — a
/// device such as /dev/null or /dev/stdout, a FIFO, /dev/fd/N from `>(…)`, or a link to one —
/// is written through, as a shell's `>` would: replacing it by a rename would put a regular
/// file where the device or pipe was (as root, /dev/null itself). Anything else is written
/// atomically: a temporary file beside it (`temp_name`), synced, renamed over it, so a reader
/// sees the old report or the whole new one, never half of one.
pub fn write(path: &Path, doc: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(doc)? + "\n";
    if is_special(path) {
        return write_through(path, text.as_bytes())
            .with_context(|| format!("writing the run report to {}", path.display()));
    }
    let tmp = temp_name(path);
    let written = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("writing the run report {}", path.display()))
}

/// Whether `path` exists (links followed) and is not a regular file or folder: written
/// through, never replaced.
pub fn is_special(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The temporary file `write` renames over `path`: `.NAME.tmp-PID` beside it. The preflight
/// creates it once to prove the folder is writable and the name not too long.
pub fn temp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `bytes` into an existing device or pipe. Opened without blocking, so a FIFO nobody
/// reads is an error now (ENXIO) instead of a run that never ends; then switched back to
/// blocking writes, so a reader slower than the report is waited for, not an EAGAIN.
fn write_through(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .custom_flags(sys::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(sys::ENXIO) {
                std::io::Error::new(e.kind(), "a pipe with no reader")
            } else {
                e
            }
        })?;
    sys::set_blocking(f.as_raw_fd())?;
    f.write_all(bytes)?;
    f.flush()
}

mod sys {
    /// Linux's O_NONBLOCK and ENXIO (the same on x86_64 and aarch64).
    pub const O_NONBLOCK: i32 = 0o4000;
    pub const ENXIO: i32 = 6;
    const F_GETFL: i32 = 3;
    const F_SETFL: i32 = 4;

    extern "C" {
        fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    }

    /// Clears O_NONBLOCK on an open descriptor.
    pub fn set_blocking(fd: i32) -> std::io::Result<()> {
        // SAFETY: fcntl on a descriptor this process owns, with integer arguments only.
        let flags = unsafe { fcntl(fd, F_GETFL) };
        if flags < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: as above.
        if unsafe { fcntl(fd, F_SETFL, flags & !O_NONBLOCK) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
