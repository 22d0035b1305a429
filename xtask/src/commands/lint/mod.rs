//! `cargo xtask lint`: the checks on each image folder that need no Docker, by the image's
//! kind — the cache `Dockerfile` has no RUN/WORKDIR in a Windows stage (buildx cannot run
//! them), declares `ARG SOURCE` (`ARG BASEIMAGE` for a cache-only image) and builds FROM it;
//! `Dockerfile_windows` exists and parses, and its symlinks are pointed out; VERSION and
//! BASEIMAGE parse, and an ARG named by `# xtask: version-arg=` equals VERSION. One
//! `path:line: error|warning: message` line per finding, then a summary (or, with --json,
//! one JSON document); any error fails with exit 1 after every image was checked — a bad
//! VERSION or BASEIMAGE is a finding, not a stop. `plan` shows the same findings as warnings
//! (`warnings_for`).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

mod checks;
mod directives;
#[cfg(test)]
mod tests;

use serde_json::{json, Value};

use crate::config::{names, Config, Needs, Opts};
use crate::error::{print, shown, StepFailed};
use crate::images::{self, Image};
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

    /// `path:line`, or `path` for a finding about the whole file (escaped: a path may hold
    /// anything).
    fn location(&self) -> String {
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

    fn json(&self) -> Value {
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

/// Lints the selected image folders (plus, when no selection was given, notes folders that
/// are not images), prints the findings and a summary on stdout (or one JSON document with
/// --json); fails (exit 1) if any finding is an error. Only a selection that names no folder
/// is bad input (exit 2): what a folder holds is always a finding.
pub fn run(opts: Opts, bases: bool, online: bool) -> anyhow::Result<()> {
    let cfg = Config::load(&opts, Needs { node: false })?;
    let folders = images::folders(&cfg, None)?;
    report(&cfg, &folders, Extra { bases, online })
}

/// The checks that leave this machine (`--bases`, `--online`).
#[derive(Default, Clone, Copy)]
struct Extra {
    bases: bool,
    online: bool,
}

fn report(cfg: &Config, folders: &[(String, PathBuf)], extra: Extra) -> anyhow::Result<()> {
    let mut findings = Vec::new();
    if cfg.selection.is_empty() {
        findings.extend(stray_folders(&cfg.images_dir));
    }
    for (name, dir) in folders {
        if !names::is_path_component(name) {
            findings.push(Finding::new(
                dir,
                None,
                Severity::Error,
                format!(
                    "'{}' is not a valid repository name: rename the folder (lowercase letters, digits and . _ __ - between them)",
                    shown(name)
                ),
            ));
        }
        findings.extend(check(dir));
    }
    // A consumer of one of our images at an older VERSION than that image's folder says. The
    // folders that do not load are findings above already.
    if let Ok(imgs) = super::images_as_they_are(cfg, None) {
        let edges = super::graph::edges(&imgs, &cfg.registry);
        for (dir, message) in super::graph::stale_references(&imgs, &edges) {
            findings.push(Finding::new(&dir, None, Severity::Warning, message));
        }
        findings.extend(online_and_bases(cfg, &imgs, extra)?);
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if cfg.json {
        let v = json!({
            "ok": errors == 0,
            "images": folders.len(),
            "errors": errors,
            "warnings": warnings,
            "findings": findings.iter().map(Finding::json).collect::<Vec<_>>(),
        });
        print(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
    } else {
        for f in &findings {
            print(&format!("{f}\n"))?;
        }
        print(&format!(
            "lint: {} checked, {}, {}\n",
            plural(folders.len(), "image"),
            plural(errors, "error"),
            plural(warnings, "warning")
        ))?;
    }
    if errors > 0 {
        return Err(StepFailed(format!(
            "lint failed: {} (listed {})",
            plural(errors, "error"),
            if cfg.json { "in the JSON" } else { "above" }
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

/// `--bases` (a base newer than what was built: a warning; what holds: said on stderr) and
/// `--online` (a missing PowerShell asset or hashes line: an error).
fn online_and_bases(cfg: &Config, imgs: &[Image], extra: Extra) -> anyhow::Result<Vec<Finding>> {
    let mut out = Vec::new();
    if extra.online {
        let base = std::env::var("POWERSHELL_RELEASES_URL")
            .unwrap_or_else(|_| super::online::DEFAULT_RELEASES.to_string());
        for img in imgs
            .iter()
            .filter(|i| super::online::downloads_powershell(i))
        {
            let problems = super::online::check(&base, &img.version, cfg.registry_timeout);
            if problems.is_empty() {
                eprintln!(
                    "xtask: online: {}: PowerShell {} asset and hashes.sha256 found at {base}",
                    img.name, img.version
                );
            }
            for p in problems {
                out.push(Finding::new(
                    &img.dir.join("VERSION"),
                    None,
                    Severity::Error,
                    p,
                ));
            }
        }
    }
    if extra.bases {
        let docker_cli = crate::preflight::find_docker()?;
        crate::preflight::buildx(&docker_cli)?;
        for c in super::bases::check(&docker_cli, cfg, imgs) {
            if c.stale {
                out.push(Finding::new(&c.file, None, Severity::Warning, c.message));
            } else {
                eprintln!("xtask: bases: {}", c.message);
            }
        }
    }
    Ok(out)
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
