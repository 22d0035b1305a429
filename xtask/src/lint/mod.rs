//! Lint's checks, a library the `lint` command and the run both use: the checks on each image
//! folder that need no Docker, by the image's kind — the cache `Dockerfile` has no
//! RUN/WORKDIR in a Windows stage (buildx cannot run them), declares `ARG SOURCE` (`ARG
//! BASEIMAGE` for a cache-only image) and builds FROM it; `Dockerfile_windows` exists and
//! parses, and its symlinks are pointed out; VERSION and BASEIMAGE parse, and an ARG named by
//! `# xtask: version-arg=` equals VERSION. Each finding is data (file, line, severity,
//! message); `plan`, `--dry-run` and a run show them, and a run refuses while any is an
//! error (`findings_for`).

use std::fmt;
use std::path::{Path, PathBuf};

mod checks;
mod directives;
#[cfg(test)]
mod tests;

use serde_json::{json, Value};

use crate::error::{shown, BadInput};
use crate::images::Image;
pub use checks::check;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    /// None when the finding is about the whole file (or its absence).
    pub line: Option<usize>,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    pub fn new(file: &Path, line: Option<usize>, severity: Severity, message: String) -> Finding {
        Finding {
            file: file.to_path_buf(),
            line,
            severity,
            message,
        }
    }

    /// `path:line`, or `path` for a finding about the whole file (escaped: a path may hold
    /// anything).
    pub fn location(&self) -> String {
        let file = shown(&self.file.display().to_string());
        match self.line {
            Some(line) => format!("{file}:{line}"),
            None => file,
        }
    }

    pub fn severity_word(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "file": self.file.display().to_string(),
            "line": self.line,
            "severity": self.severity_word(),
            "message": self.message,
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.location(),
            self.severity_word(),
            crate::error::shown_long(&self.message)
        )
    }
}

/// Every finding for `images`, one line each as `plan`, `--dry-run` and a run show them on
/// stderr (`warning: …` or `error: …`), and, when any is an error, the refusal: lint's errors
/// are bad input (exit 2, the first one's file:line) for every command that plans a run — a
/// cache Dockerfile buildx cannot build would otherwise be found only after the node image was
/// built and pushed. Commands reach lint's verdict on a run through this one function.
pub fn findings_for(images: &[Image]) -> (Vec<String>, Option<anyhow::Error>) {
    let findings: Vec<Finding> = images.iter().flat_map(|image| check(&image.dir)).collect();
    let lines = findings
        .iter()
        .map(|f| format!("{}: {}: {}", f.severity_word(), f.location(), f.message))
        .collect();
    let errors: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let refusal = errors.first().map(|first| {
        let n = errors.len();
        let problem = format!(
            "{} (lint: {n} error{} in all, listed above)",
            first.message,
            if n == 1 { "" } else { "s" }
        );
        let hint = "fix what `cargo xtask lint` reports before a run: nothing is built or pushed while lint finds an error";
        let file = first.file.display().to_string();
        match first.line {
            Some(line) => {
                BadInput::at_line(file, line, line_text(&first.file, line), problem, hint)
            }
            None => BadInput::new(file, "", problem, hint),
        }
    });
    (lines, refusal)
}

/// The text of line `line` (1-based) of `file`, trimmed: the value a refusal quotes.
fn line_text(file: &Path, line: usize) -> String {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| {
            t.lines()
                .nth(line.saturating_sub(1))
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_default()
}
