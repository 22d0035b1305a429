//! Step logs: each started step's full output (docker's lines and xtask's notes about it) in
//! a file of its own, named so a listing sorts in step order
//! (`03-push-powershell-helper-1809.log`), with a header saying what the step is and a
//! footer saying how it ended. The folder is LOG_DIR, or in quiet mode one per run under
//! `target/xtask-logs/`, so quiet output never loses anything; it is proven writable before
//! the first step. A log is always a fresh file (`create_fresh`): never a symlink followed.

use std::fs::{self, File};
use std::io::{LineWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::state::State;
use super::time;
use crate::config::project_root;
use crate::error::BadInput;
use crate::plan::{Action, Plan, Step};

/// The folder this run's step logs go to, not yet created, with the variable that names it:
/// LOG_DIR when set; else, in quiet mode, `target/xtask-logs/<UTC time>-<pid>`
/// (CARGO_TARGET_DIR when set); else none.
pub fn folder(
    log_dir: Option<&Path>,
    quiet: bool,
    now: SystemTime,
) -> Option<(&'static str, PathBuf)> {
    match log_dir {
        Some(d) => Some(("LOG_DIR", d.to_path_buf())),
        None if quiet => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .filter(|v| !v.is_empty())
                .map(|t| project_root().join(t))
                .unwrap_or_else(|| project_root().join("target"));
            let run = format!("{}-{}", time::compact(now), std::process::id());
            Some(("QUIET's log folder", target.join("xtask-logs").join(run)))
        }
        None => None,
    }
}

/// Creates the log folder and proves a step log can be written in it: a file whose name is as
/// long as the plan's longest log name is created there and removed. A folder that cannot be
/// created or written is bad input, found before any docker command — not a run whose logs
/// (in quiet mode its only full output) silently go nowhere.
pub fn prepare(folder: Option<(&str, PathBuf)>, plan: &Plan) -> anyhow::Result<Option<PathBuf>> {
    let Some((var, dir)) = folder else {
        return Ok(None);
    };
    let bad = |what: String| {
        BadInput::new(
            var,
            dir.display().to_string(),
            what,
            "name a folder you can write to, e.g. LOG_DIR=target/logs",
        )
    };
    fs::create_dir_all(&dir).map_err(|e| bad(format!("cannot create the folder: {e}")))?;
    let longest = plan
        .steps
        .iter()
        .map(|s| file_name(s, plan.steps.len()).len())
        .max()
        .unwrap_or(0);
    let mut probe = format!(".xtask-write-check-{}", std::process::id());
    while probe.len() < longest {
        probe.push('_');
    }
    let probe = dir.join(probe);
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            Ok(Some(dir))
        }
        Err(e) => Err(bad(format!("a step log cannot be written in it: {e}"))),
    }
}

/// `03-push-powershell-helper-1809.log`: the step number zero-padded to the plan's width
/// (at least two digits), its kind, image and OS version. Image names and OS versions are
/// validated path components, so the name is a plain file name.
pub fn file_name(step: &Step, steps: usize) -> String {
    let w = steps.to_string().len().max(2);
    let mut name = format!("{:0w$}-{}-{}", step.id, step.kind().word(), step.image);
    if let Some(os) = &step.os {
        name.push('-');
        name.push_str(os);
    }
    name.push_str(".log");
    name
}

/// A new file at `path`, whatever was there: the old entry (an earlier run's log, or a symlink
/// someone planted at a log's name) is removed, then the file is created with O_EXCL, which
/// never follows a symlink — one planted again in between makes the open fail, and the step's
/// log is said to be incomplete, rather than written wherever the link points.
fn create_fresh(path: &Path) -> std::io::Result<File> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// The open log files of one run.
pub struct Logs {
    pub dir: PathBuf,
    steps: usize,
    files: Vec<Option<LineWriter<File>>>,
    /// A write failed: said once, not per line.
    warned: bool,
}

impl Logs {
    pub fn new(dir: PathBuf, plan: &Plan) -> Logs {
        Logs {
            dir,
            steps: plan.steps.len(),
            files: plan.steps.iter().map(|_| None).collect(),
            warned: false,
        }
    }

    pub fn path(&self, step: &Step) -> PathBuf {
        self.dir.join(file_name(step, self.steps))
    }

    /// Opens (replaces) the step's file and writes its header.
    pub fn open(&mut self, plan: &Plan, step: usize) {
        let s = &plan.steps[step];
        let path = self.path(s);
        let mut head = format!(
            "# step {}/{}: {} ({}, {})\n# started {}\n",
            s.id,
            self.steps,
            s.what,
            s.image,
            s.node.label(),
            time::rfc3339(SystemTime::now()),
        );
        // The one command of a build, push or cache step (a list's are resolved as it runs
        // and appear below as xtask's notes).
        if !matches!(s.action, Action::List(_)) {
            if let Some(argv) = s.commands().first() {
                head.push_str(&format!("# command: {}\n", argv.join(" ")));
            }
        }
        match create_fresh(&path) {
            Ok(f) => {
                let mut f = LineWriter::new(f);
                let ok = f.write_all(head.as_bytes()).is_ok();
                self.files[step] = Some(f);
                if !ok {
                    self.failed(format!("{}: cannot write", path.display()));
                }
            }
            Err(e) => self.failed(format!("{}: {e}", path.display())),
        }
    }

    pub fn line(&mut self, step: usize, text: &str) {
        let Some(f) = self.files[step].as_mut() else {
            return;
        };
        if writeln!(f, "{text}").is_err() {
            self.files[step] = None;
            self.failed(format!(
                "step {}'s log in {}: write failed",
                step + 1,
                self.dir.display()
            ));
        }
    }

    /// Writes the footer (how the step ended) and closes the file.
    pub fn close(&mut self, step: usize, state: &State) {
        let Some(mut f) = self.files[step].take() else {
            return;
        };
        let took = state
            .took()
            .map(|d| format!(" after {:.1}s", d.as_secs_f64()))
            .unwrap_or_default();
        let why = match state {
            State::Failed(_, msg) => format!(": {msg}"),
            _ => String::new(),
        };
        let _ = writeln!(f, "# {}{took}{why}", state.key());
        let _ = f.flush();
    }

    fn failed(&mut self, what: String) {
        if !self.warned {
            self.warned = true;
            super::term::write_line(
                true,
                &format!("xtask: warning: a step log is incomplete ({what})"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Inputs, NodeRef};

    fn step(id: usize, os: Option<&str>) -> Step {
        Step {
            id,
            what: "push r/powershell-helper:7.6".into(),
            image: "powershell-helper".into(),
            os: os.map(String::from),
            node: NodeRef::Local,
            tag: "r/powershell-helper:7.6".into(),
            inputs: None::<Inputs>,
            action: Action::Cache {
                context: "/x".into(),
                build_args: Vec::new(),
            },
            after: Vec::new(),
            skip: None,
        }
    }

    #[test]
    fn names_sort_in_step_order() {
        assert_eq!(
            file_name(&step(3, Some("1809")), 6),
            "03-cache-powershell-helper-1809.log"
        );
        assert_eq!(
            file_name(&step(3, None), 6),
            "03-cache-powershell-helper.log"
        );
        assert_eq!(
            file_name(&step(7, None), 120),
            "007-cache-powershell-helper.log"
        );
        let mut names: Vec<String> = (1..=12).map(|i| file_name(&step(i, None), 12)).collect();
        let order = names.clone();
        names.sort();
        assert_eq!(names, order);
    }
}
