//! Lint's checks, a library the `lint` command and the run both use: the checks on each image
//! folder that need no Docker, by the image's kind — the cache `Dockerfile` has no
//! RUN/WORKDIR in a Windows stage (buildx cannot run them), declares `ARG SOURCE` (`ARG
//! BASEIMAGE` for a cache-only image) and builds FROM it; `Dockerfile_windows` exists and
//! parses, and its symlinks are pointed out; VERSION and BASEIMAGE parse, and an ARG named by
//! `# xtask: version-arg=` equals VERSION. Each finding is data (file, line, severity,
//! message); `plan` shows them as warnings (`warnings_for`).

use std::fmt;
use std::path::{Path, PathBuf};

mod checks;
mod directives;
#[cfg(test)]
mod tests;

use serde_json::{json, Value};

use crate::error::shown;
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

    fn severity_word(&self) -> &'static str {
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

/// Every finding for `images`, one line each, for `plan` to show as warnings: a plan is still
/// printed, but what `lint` would fail on is worth seeing before a build.
pub fn warnings_for(images: &[Image]) -> Vec<String> {
    images
        .iter()
        .flat_map(|image| check(&image.dir))
        .map(|f| match f.severity {
            Severity::Warning => format!("{}: {}", f.location(), f.message),
            Severity::Error => format!(
                "{}: {} (an error for `cargo xtask lint`)",
                f.location(),
                f.message
            ),
        })
        .collect()
}
