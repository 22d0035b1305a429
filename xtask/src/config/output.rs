//! The output group: what a run leaves behind and shows — its JSON report (REPORT), its step
//! logs (LOG_DIR) and quiet progress (--quiet, QUIET=1).

use std::path::PathBuf;

use super::parse::parse_switch;
use super::Env;
use crate::error::BadInput;

/// What a run leaves behind and shows: its report, its step logs, quiet progress.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Write a JSON report of the run to FILE at its end (succeeded, failed or interrupted).
    #[arg(long, env = "REPORT", value_name = "FILE")]
    pub report: Option<String>,
    /// Write each step's full output to its own file in DIR (created if missing).
    #[arg(long, env = "LOG_DIR", value_name = "DIR")]
    pub log_dir: Option<String>,
    /// Show only a line per step start and end, a failing step's last lines and the summary;
    /// full output goes to log files (LOG_DIR, else target/xtask-logs/…) [env: QUIET=1].
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// The run's outputs, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// REPORT: the run's JSON report is written here (absolute).
    pub report: Option<PathBuf>,
    /// LOG_DIR: each step's output goes to a file here (absolute; created at run start).
    pub log_dir: Option<PathBuf>,
    /// QUIET: the terminal shows step starts and ends, a failure's tail and the summary.
    pub quiet: bool,
}

/// A path the run writes (REPORT, LOG_DIR): None when unset, absolute (from the current
/// folder) when set, refused when set but empty.
fn output_path(var: &str, v: Option<&str>, hint: &str) -> anyhow::Result<Option<PathBuf>> {
    match v {
        None => Ok(None),
        Some("") => Err(BadInput::new(var, "", "it is empty", hint)),
        Some(p) => {
            let p = PathBuf::from(p);
            let cwd = std::env::current_dir().unwrap_or_default();
            Ok(Some(if p.is_absolute() { p } else { cwd.join(p) }))
        }
    }
}

impl OutputArgs {
    pub fn resolve(self, env: &Env) -> anyhow::Result<Output> {
        let report = output_path(
            "REPORT",
            self.report.as_deref(),
            "a file whose folder exists, e.g. REPORT=target/run.json",
        )?;
        if let Some(r) = report.as_ref().filter(|r| r.is_dir()) {
            return Err(BadInput::new(
                "REPORT",
                r.display().to_string(),
                "is a folder",
                "name the JSON file to write, e.g. REPORT=target/run.json",
            ));
        }
        if let Some(folder) = report
            .as_ref()
            .and_then(|r| r.parent())
            .filter(|p| !p.is_dir())
        {
            return Err(BadInput::new(
                "REPORT",
                self.report.clone().unwrap_or_default(),
                format!("its folder {} does not exist", folder.display()),
                "create the folder first, or name a file in an existing one",
            ));
        }
        let log_dir = output_path(
            "LOG_DIR",
            self.log_dir.as_deref(),
            "a folder (created if missing), e.g. LOG_DIR=target/logs",
        )?;
        if let Some(d) = log_dir.as_ref().filter(|d| d.exists() && !d.is_dir()) {
            return Err(BadInput::new(
                "LOG_DIR",
                d.display().to_string(),
                "exists and is not a folder",
                "name a new or existing folder",
            ));
        }
        // A plain switch on the command line, as --skip-unchanged; QUIET=1 means the same.
        let quiet = self.quiet
            || parse_switch(
                "QUIET",
                env.get("QUIET"),
                "QUIET=1 (or --quiet) shows only step starts, ends and the summary",
            )?;
        Ok(Output {
            report,
            log_dir,
            quiet,
        })
    }
}
