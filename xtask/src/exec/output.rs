//! What the user sees while a plan runs: `[n/N] what (image)` when a step starts or is
//! skipped, docker's output line by line (prefixed with its image and node when steps can
//! interleave), and the last lines of each step kept for its failure message.

use std::collections::{HashSet, VecDeque};

use crate::plan::Plan;

/// Lines of a step's output kept for its failure message.
const TAIL: usize = 8;

pub struct Output {
    /// Prefix lines with their step: several steps can print at once.
    prefixed: bool,
    tails: Vec<VecDeque<String>>,
}

impl Output {
    pub fn new(plan: &Plan, jobs: usize) -> Output {
        let nodes = plan.steps.iter().map(|s| &s.node).collect::<HashSet<_>>();
        Output {
            prefixed: jobs > 1 && nodes.len() > 1,
            tails: vec![VecDeque::new(); plan.steps.len()],
        }
    }

    pub fn started(&self, plan: &Plan, step: usize) {
        let s = &plan.steps[step];
        let n = plan.steps.len();
        eprintln!("[{}/{n}] {} ({})", s.id, s.what, s.context());
    }

    pub fn skipped(&self, plan: &Plan, step: usize) {
        let s = &plan.steps[step];
        let n = plan.steps.len();
        let why = s.skip.as_deref().unwrap_or_default();
        eprintln!("[{}/{n}] skip {} ({}): {why}", s.id, s.what, s.context());
    }

    /// One line of a step's output (or of xtask about the step), on the stream it came on.
    pub fn line(&mut self, plan: &Plan, step: usize, text: String, stderr: bool) {
        let line = if self.prefixed {
            let s = &plan.steps[step];
            match &s.os {
                Some(os) => format!("[{} {os}] {text}", s.image),
                None => format!("[{} {}] {text}", s.image, s.node.label()),
            }
        } else {
            text.clone()
        };
        if stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
        let tail = &mut self.tails[step];
        tail.push_back(text);
        if tail.len() > TAIL {
            tail.pop_front();
        }
    }

    /// The step's last non-blank lines, for its failure message.
    pub fn tail(&self, step: usize) -> Vec<&str> {
        self.tails[step]
            .iter()
            .map(String::as_str)
            .filter(|l| !l.trim().is_empty())
            .collect()
    }
}
