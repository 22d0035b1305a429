//! `cargo xtask promotion RUN.json`: prints the kubernetes/k8s.io `images.yaml` entries
//! (image name, `dmap` of digest → tags) for every tag a run pushed, from its run report —
//! the lines a promotion PR adds (format: `exec::report::promotion`). Only a run that
//! succeeded is promoted: a failed or interrupted run's tags are a mix of new and old.

use std::path::{Path, PathBuf};

use crate::error::{print, StepFailed};
use crate::exec::report::promotion;

/// What promotion is handed: the run report.
#[derive(Debug, Clone)]
pub struct Input {
    pub report: PathBuf,
}

pub fn run(Input { report }: Input) -> anyhow::Result<()> {
    let report: &Path = &report;
    let doc = crate::exec::report::read::read(report)?;
    if doc["result"] != "succeeded" {
        return Err(StepFailed(format!(
            "promotion: the run in {} {} (exit {}): promote only a run that succeeded — run it again, then `cargo xtask verify` its tags",
            report.display(),
            doc["result"].as_str().unwrap_or("did not succeed"),
            doc["exit_code"]
        ))
        .into());
    }
    let p = promotion::entries(&doc).map_err(|e| {
        crate::error::BadInput::new(
            "RUN.json",
            report.display().to_string(),
            e,
            "name the run report a run wrote",
        )
    })?;
    for why in &p.left_out {
        eprintln!("xtask: warning: left out {why}");
    }
    print(&format!(
        "# images.yaml entries for kubernetes/k8s.io (registry.k8s.io/images/<staging project>/images.yaml)\n# from the run report {} ({} run, {})\n{}",
        report.display(),
        doc["mode"].as_str().unwrap_or("?"),
        doc["finished"].as_str().unwrap_or("?"),
        p.yaml
    ))
}
