//! `cargo xtask lint`: the checks on each image folder that need no Docker, by the image's
//! kind — the cache `Dockerfile` has no RUN/WORKDIR in a Windows stage (buildx cannot run
//! them), declares `ARG SOURCE` (`ARG BASEIMAGE` for a cache-only image) and builds FROM it;
//! `Dockerfile_windows` exists and parses, and its symlinks are pointed out; VERSION and
//! BASEIMAGE parse, and an ARG named by `# xtask: version-arg=` equals VERSION. One
//! `path:line: error|warning: message` line per finding, then a summary; any error fails with
//! exit 1. `plan` shows the same findings as warnings (`warnings_for`).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

mod checks;
mod directives;
#[cfg(test)]
mod tests;

use crate::config::{Config, Needs, Opts};
use crate::error::StepFailed;
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
    pub(super) fn new(
        file: &Path,
        line: Option<usize>,
        severity: Severity,
        message: String,
    ) -> Finding {
        Finding {
            file: file.to_path_buf(),
            line,
            severity,
            message,
        }
    }

    /// `path:line`, or `path` for a finding about the whole file.
    fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file.display()),
            None => self.file.display().to_string(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {severity}: {}", self.location(), self.message)
    }
}

/// Lints `images` (plus, when no selection was given, notes folders that are not images),
/// prints the findings and a summary on stdout; fails (exit 1) if any finding is an error.
pub fn run(opts: Opts) -> anyhow::Result<()> {
    let cfg = Config::load(&opts, Needs { node: false })?;
    let images = super::images_as_they_are(&cfg, None)?;
    report(&cfg, &images)
}

fn report(cfg: &Config, images: &[Image]) -> anyhow::Result<()> {
    let mut findings = Vec::new();
    if cfg.selection.is_empty() {
        findings.extend(stray_folders(&cfg.images_dir));
    }
    for image in images {
        findings.extend(check(&image.dir, image.kind));
    }
    for f in &findings {
        println!("{f}");
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    println!(
        "lint: {} checked, {}, {}",
        plural(images.len(), "image"),
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    if errors > 0 {
        return Err(StepFailed(format!(
            "lint failed: {} (listed above)",
            plural(errors, "error")
        ))
        .into());
    }
    Ok(())
}

/// Every finding for `images`, one line each, for `plan` to show as warnings: a plan is still
/// printed, but what `lint` would fail on is worth seeing before a build.
pub fn warnings_for(images: &[Image]) -> Vec<String> {
    images
        .iter()
        .flat_map(|image| check(&image.dir, image.kind))
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

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Sub-folders of IMAGES_DIR without a VERSION file: image discovery skips them silently, so
/// a forgotten VERSION would drop an image from every target.
fn stray_folders(dir: &Path) -> Vec<Finding> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Finding> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.join("VERSION").exists())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .map(|p| {
            Finding::new(
                &p,
                None,
                Severity::Warning,
                "no VERSION file, so this folder is not an image and every target skips it"
                    .to_string(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}
