//! How each step stands: pending, running, or how it ended. The executor's core value, read by
//! the scheduler, the output, the summary, the logs and the report, so it sits below them all.

use std::time::{Duration, Instant};

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Pending,
    Running(Instant),
    Ok(Duration),
    Failed(Duration, String),
    /// Stopped by a signal while running.
    Stopped(Duration),
    /// Not run: its output is already in the registry (skip-unchanged).
    Skipped,
}

impl State {
    /// Whether steps waiting for this one may start.
    pub fn done(&self) -> bool {
        matches!(self, State::Ok(_) | State::Skipped)
    }

    /// The state's name in the run report: ok, failed, stopped, skipped, not-started.
    pub fn key(&self) -> &'static str {
        match self {
            State::Ok(_) => "ok",
            State::Failed(..) => "failed",
            State::Stopped(_) => "stopped",
            State::Skipped => "skipped",
            State::Pending | State::Running(_) => "not-started",
        }
    }

    /// How long the step ran, when it ran.
    pub fn took(&self) -> Option<Duration> {
        match self {
            State::Ok(d) | State::Failed(d, _) | State::Stopped(d) => Some(*d),
            State::Pending | State::Running(_) | State::Skipped => None,
        }
    }
}
