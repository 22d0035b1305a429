//! The run report (`--report FILE`, REPORT): one JSON document per run that got past
//! validation — succeeded, failed or interrupted — with the target, mode, times, result and
//! exit code, and per step what it did, where, how it ended, its log file, the tag it pushes
//! and the digest the registry holds for that tag now (or why there is none). `document` is
//! pure; `digests` asks the registry; `write` replaces the file atomically. README's "Run
//! report" table is the format's contract: change both together.

mod digests;
pub mod time;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use serde_json::{json, Value};

pub use digests::digests;

use super::logs;
use super::summary::State;
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
                Action::Build { node, .. } | Action::Push { node } => Some(node.url.clone()),
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

/// Writes the report to `path` atomically: a temporary file beside it, synced, renamed over
/// it, so a reader sees the old report or the whole new one, never half of one.
pub fn write(path: &Path, doc: &Value) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp: PathBuf = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let text = serde_json::to_string_pretty(doc)? + "\n";
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

#[cfg(test)]
mod tests;
