//! `cargo xtask report RUN.json [--out FILE]`: draws a run report as a timeline page (HTML
//! with an inline SVG, no JavaScript): every step on its lane, its state and seconds, the
//! bytes docker said it pushed and pulled (read from the step logs the report names, when
//! they are still there). Writes FILE (default: RUN.json's path with `.html`) and says where.

use std::path::{Path, PathBuf};

use crate::error::{print, BadInput};
use crate::exec::report::{timeline, traffic};

/// What report is handed: the run report, and where to write its page.
#[derive(Debug, Clone)]
pub struct Input {
    pub report: PathBuf,
    pub out: Option<PathBuf>,
}

pub fn run(input: Input) -> anyhow::Result<()> {
    let (report, out): (&Path, Option<&Path>) = (&input.report, input.out.as_deref());
    let doc = crate::exec::report::read::read(report)?;
    let logs: Vec<Option<traffic::Traffic>> = doc["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    let log = s["log"].as_str()?;
                    traffic::of_log(&std::fs::read_to_string(log).ok()?)
                })
                .collect()
        })
        .unwrap_or_default();
    let page = timeline::html(&doc, &logs).map_err(|e| {
        BadInput::new(
            "RUN.json",
            report.display().to_string(),
            e,
            "name the run report a run wrote",
        )
    })?;
    let out: PathBuf = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| report.with_extension("html"));
    std::fs::write(&out, page)
        .map_err(|e| anyhow::anyhow!("writing the timeline {}: {e}", out.display()))?;
    print(&format!("timeline written to {}\n", out.display()))
}
