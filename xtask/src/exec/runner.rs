//! Running the docker commands of one step: each through the process helper, its output
//! lines sent to the scheduler as events (so they print in order with the other steps'),
//! its pid published so a signal can stop it, retries of transient registry errors.

use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use super::retry::sleep_unless_signalled;
use super::{signals, Event};
use crate::docker::process::{self, Exit, PidSlot};

/// Runs docker commands for one step and reports their output.
pub struct Runner<'a> {
    pub docker: &'a std::path::Path,
    /// 0-based index of the step.
    pub step: usize,
    pub tx: &'a Sender<Event>,
    pub pid: &'a PidSlot,
}

/// What a finished command left behind.
pub struct Output {
    pub stdout: String,
}

impl Runner<'_> {
    /// Runs `argv` (argv[0] is "docker"), streaming its output (stdout kept instead when
    /// `capture`). Err carries the exit status and the output tail.
    pub fn run(&self, argv: &[String], capture: bool) -> Result<Output, (String, Vec<String>)> {
        let tx = self.tx.clone();
        let step = self.step;
        let sink: process::LineSink = Arc::new(move |text, stderr| {
            let _ = tx.send(Event::Line { step, text, stderr });
        });
        let f = process::run(process::Spec {
            program: self.docker,
            argv,
            deadline: None,
            sink: Some(sink),
            keep_stdout: capture,
            pid: Some(self.pid),
        });
        match f.exit {
            Exit::Success => Ok(Output { stdout: f.stdout }),
            Exit::Failed(status) => Err((format!("docker exited with {status}"), f.tail)),
            Exit::TimedOut => Err(("docker did not finish in time".into(), f.tail)),
            Exit::Error(e) => Err((e, f.tail)),
        }
    }

    /// Tells the user something about this step, on stderr, in the step's stream.
    pub fn say(&self, text: String) {
        let _ = self.tx.send(Event::Line {
            step: self.step,
            text,
            stderr: true,
        });
    }

    /// Runs `argv`, retrying up to `retries` times with doubling backoff when the failure
    /// is worth another try: `why` says why from the output tail (`retry::registry_retry`,
    /// `retry::build_retry`), None when it is not. Each retry is announced with the reason.
    pub fn with_retries(
        &self,
        argv: &[String],
        retries: u32,
        backoff: Duration,
        why: fn(&[String]) -> Option<&'static str>,
    ) -> Result<Output, String> {
        let mut wait = backoff;
        let mut attempt = 0;
        loop {
            match self.run(argv, false) {
                Ok(out) => return Ok(out),
                Err((msg, tail)) => {
                    let reason = why(&tail);
                    let Some(reason) =
                        reason.filter(|_| signals::caught().is_none() && attempt < retries)
                    else {
                        return Err(msg);
                    };
                    attempt += 1;
                    self.say(format!(
                        "xtask: {reason}, retry {attempt}/{retries} in {:.1}s",
                        wait.as_secs_f64()
                    ));
                    if !sleep_unless_signalled(wait) {
                        return Err(msg);
                    }
                    wait *= 2;
                }
            }
        }
    }
}
