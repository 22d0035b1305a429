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

use crate::config::Selection;
use crate::error::{print, shown, StepFailed};
use crate::images;
use crate::lint::{check, Finding, Severity};
use crate::reference;

/// Lints the selected image folders (plus, when no selection was given, notes folders that
/// are not images), prints the findings and a summary on stdout (or one JSON document with
/// --json); fails (exit 1) if any finding is an error. Only a selection that names no folder
/// is bad input (exit 2): what a folder holds is always a finding.
/// What lint is handed: the images and whether to answer in JSON.
#[derive(Debug, Clone)]
pub struct Input {
    pub selection: Selection,
    pub json: bool,
}

pub fn run(Input { selection, json }: Input) -> anyhow::Result<()> {
    let folders = images::folders(&selection, None)?;
    report(&selection, json, &folders)
}

fn report(selection: &Selection, json: bool, folders: &[(String, PathBuf)]) -> anyhow::Result<()> {
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
