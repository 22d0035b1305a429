//! What the user sees while a plan runs: `[n/N] what (image)` when a step starts or is
//! skipped and a line with its time when it ends; docker's output line by line (prefixed with
//! its image and node when steps can interleave) unless quiet; each step's output in its log
//! file when there is a log folder; the last lines of each step kept for its failure message,
//! which also names the step's log file.

use std::collections::{HashSet, VecDeque};

use super::logs::Logs;
use super::state::State;
use super::term::write_line;
use super::Options;
use crate::plan::Plan;

/// Lines of a step's output kept for its failure message.
const TAIL: usize = 8;

/// Characters of one output line in a failure message, and of all of them together.
const DETAIL_LINE: usize = 240;
const DETAIL_MAX: usize = 1200;

/// At most `max` characters of `s`, with how much was cut.
pub fn clip_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}… ({} bytes)", &s[..i], s.len()),
        None => s.to_string(),
    }
}

pub struct Output {
    /// Prefix lines with their step: several steps can print at once.
    prefixed: bool,
    /// Only step starts and ends reach the terminal; output goes to the logs.
    quiet: bool,
    tails: Vec<VecDeque<String>>,
    logs: Option<Logs>,
}

impl Output {
    /// Says where the step logs go, when they go anywhere.
    pub fn new(plan: &Plan, opts: &Options) -> Output {
        let nodes = plan.steps.iter().map(|s| &s.node).collect::<HashSet<_>>();
        let logs = opts.log_dir.clone().map(|d| Logs::new(d, plan));
        if let Some(l) = &logs {
            write_line(
                true,
                &format!(
                    "xtask: each step's full output goes to {}/",
                    l.dir.display()
                ),
            );
        }
        Output {
            prefixed: opts.limits.jobs > 1 && nodes.len() > 1,
            quiet: opts.quiet,
            tails: vec![VecDeque::new(); plan.steps.len()],
            logs,
        }
    }

    pub fn started(&mut self, plan: &Plan, step: usize) {
        let s = &plan.steps[step];
        let n = plan.steps.len();
        write_line(
            true,
            &format!("[{}/{n}] {} ({})", s.id, s.what, s.context()),
        );
        if let Some(l) = &mut self.logs {
            l.open(plan, step);
        }
    }

    pub fn skipped(&self, plan: &Plan, step: usize) {
        let s = &plan.steps[step];
        let n = plan.steps.len();
        let why = s.skip.as_deref().unwrap_or_default();
        write_line(
            true,
            &format!("[{}/{n}] skip {} ({}): {why}", s.id, s.what, s.context()),
        );
    }

    /// One line of a step's output (or of xtask about the step), on the stream it came on.
    pub fn line(&mut self, plan: &Plan, step: usize, text: String, stderr: bool) {
        // Docker relays what nodes and registries say: control characters (a terminal
        // escape, a carriage return that overwrites the line) are shown, not obeyed.
        let text = if text.chars().any(|c| c.is_control() && c != '\t') {
            text.chars()
                .map(|c| match c {
                    '\t' => c.to_string(),
                    c if c.is_control() => c.escape_debug().to_string(),
                    c => c.to_string(),
                })
                .collect()
        } else {
            text
        };
        if let Some(l) = &mut self.logs {
            l.line(step, &text);
        }
        if !self.quiet {
            let line = if self.prefixed {
                let s = &plan.steps[step];
                match &s.os {
                    Some(os) => format!("[{} {os}] {text}", s.image),
                    None => format!("[{} {}] {text}", s.image, s.node.label()),
                }
            } else {
                text.clone()
            };
            write_line(stderr, &line);
        }
        let tail = &mut self.tails[step];
        // Kept cut: a huge line is shown cut in the message anyway.
        tail.push_back(clip_chars(&text, DETAIL_LINE));
        if tail.len() > TAIL {
            tail.pop_front();
        }
    }

    /// A step ended: `[n/N] done in 2.1s: what (image)`, and its log closed.
    pub fn ended(&mut self, plan: &Plan, step: usize, state: &State) {
        let s = &plan.steps[step];
        let n = plan.steps.len();
        let took = state.took().unwrap_or_default().as_secs_f64();
        let how = match state {
            State::Ok(_) => format!("done in {took:.1}s"),
            State::Failed(..) => format!("FAILED after {took:.1}s"),
            _ => format!("{} after {took:.1}s", state.key()),
        };
        write_line(
            true,
            &format!("[{}/{n}] {how}: {} ({})", s.id, s.what, s.context()),
        );
        if let Some(l) = &mut self.logs {
            l.close(step, state);
        }
    }

    /// What a failure message adds about the step: its last non-blank lines (each cut at
    /// `DETAIL_LINE` characters, `DETAIL_MAX` in all, the newest kept), and the file holding all
    /// of them — bounded so the log's name and the hint after it always fit the message.
    pub fn failure_detail(&self, plan: &Plan, step: usize) -> String {
        let mut tail: Vec<String> = Vec::new();
        let mut room = DETAIL_MAX;
        for l in self.tails[step]
            .iter()
            .rev()
            .filter(|l| !l.trim().is_empty())
        {
            let l = clip_chars(l, DETAIL_LINE);
            let n = l.chars().count();
            if n > room {
                break;
            }
            room -= n;
            tail.push(l);
        }
        tail.reverse();
        let mut out = String::new();
        if !tail.is_empty() {
            out.push_str(&format!("\n  last output:\n    {}", tail.join("\n    ")));
        }
        if let Some(l) = &self.logs {
            let path = l.path(&plan.steps[step]);
            out.push_str(&format!("\n  full output: {}", path.display()));
        }
        out
    }
}
