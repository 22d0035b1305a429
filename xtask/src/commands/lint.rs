//! `cargo xtask lint`: the checks on each image folder that need no Docker, by the image's
//! kind — the cache `Dockerfile` has no RUN/WORKDIR in a Windows stage (buildx cannot run
//! them), declares `ARG SOURCE` (`ARG BASEIMAGE` for a cache-only image) and builds FROM it;
//! `Dockerfile_windows` exists and parses, and its symlinks are pointed out; VERSION and
//! BASEIMAGE parse, and an ARG named by `# xtask: version-arg=` equals VERSION. One
//! `path:line: error|warning: message` line per finding, then a summary (or, with --json,
//! one JSON document); any error fails with exit 1 after every image was checked — a bad
//! VERSION or BASEIMAGE is a finding, not a stop. The checks themselves are `crate::lint`'s;
//! `plan`, `--dry-run` and a run show the same findings and refuse while any is an error.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::Planning;
use crate::config::{Registry, Selection};
use crate::depends;
use crate::docker::Client;
use crate::error::{print, shown, StepFailed};
use crate::freshness::{bases, online};
use crate::images::{self, Image};
use crate::lint::{check, Finding, Severity};
use crate::reference;

/// What lint is handed: the images, the registry (a BASEIMAGE's REGISTRY word names a base of
/// ours; `--bases` reads the pushed images), the checks that leave this machine, and whether
/// to answer in JSON.
#[derive(Debug, Clone)]
pub struct Input {
    pub selection: Selection,
    pub registry: Registry,
    /// `--bases`: each BASEIMAGE tag's digest now against what the pushed images were built from.
    pub bases: bool,
    /// `--online`: the PowerShell release asset and hashes.sha256 for VERSION exist.
    pub online: bool,
    pub json: bool,
}

/// Lints the selected image folders (plus, when no selection was given, notes folders that
/// are not images), prints the findings and a summary on stdout (or one JSON document with
/// --json); fails (exit 1) if any finding is an error. Only a selection that names no folder
/// is bad input (exit 2): what a folder holds is always a finding.
pub fn run(input: Input) -> anyhow::Result<()> {
    let folders = images::folders(&input.selection, None)?;
    report(&input, &folders)
}

fn report(input: &Input, folders: &[(String, PathBuf)]) -> anyhow::Result<()> {
    let (selection, json) = (&input.selection, input.json);
    let mut findings = Vec::new();
    if selection.names.is_empty() {
        findings.extend(stray_folders(&selection.dir));
    }
    for (name, dir) in folders {
        if !reference::is_path_component(name) {
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
    let cx = images::Context {
        registry: &input.registry.prefix,
        os_versions: &[],
    };
    if let Ok(imgs) = images::named_or_all(selection, cx, None, Planning::as_they_are()) {
        let edges = depends::edges(&imgs, &input.registry.prefix);
        for (dir, message) in depends::stale_references(&imgs, &edges) {
            findings.push(Finding::new(&dir, None, Severity::Warning, message));
        }
        findings.extend(online_and_bases(input, &imgs)?);
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if json {
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
            if json { "in the JSON" } else { "above" }
        ))
        .into());
    }
    Ok(())
}

/// The checks that leave this machine: `--online` (the PowerShell download of every image that
/// fetches one), `--bases` (each pushed Windows image against its base's digest now).
fn online_and_bases(input: &Input, imgs: &[Image]) -> anyhow::Result<Vec<Finding>> {
    let mut out = Vec::new();
    if input.online {
        let base = std::env::var("POWERSHELL_RELEASES_URL")
            .unwrap_or_else(|_| online::DEFAULT_RELEASES.to_string());
        for img in imgs.iter().filter(|i| online::downloads_powershell(i)) {
            let problems = online::check(&base, &img.version, input.registry.timeout);
            if problems.is_empty() {
                crate::error::say(&format!(
                    "xtask: online: {}: PowerShell {} asset and hashes.sha256 found at {base}",
                    img.name, img.version
                ));
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
    if input.bases {
        let docker = Client::find(input.registry.timeout)?;
        crate::preflight::buildx(&docker)?;
        for c in bases::check(&docker, &input.registry.prefix, imgs) {
            if c.stale {
                out.push(Finding::new(&c.file, None, Severity::Warning, c.message));
            } else {
                crate::error::say(&format!("xtask: bases: {}", c.message));
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
