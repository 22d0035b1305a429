//! Running the docker commands of one step: each through the process helper, its output
//! lines sent to the scheduler as events (so they print in order with the other steps'),
//! bounded (a registry query by its deadline, anything else by the step's watch), never
//! started once xtask is stopping, and retries of transient registry errors.

use std::cell::Cell;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::retry::sleep_unless_signalled;
use super::watch::StepWatch;
use super::{signals, Event};
use crate::docker::said::{Listener, Said};
use crate::docker::{self, process};

/// Runs docker commands for one step and reports their output.
pub struct Runner<'a> {
    pub docker: &'a std::path::Path,
    /// 0-based index of the step.
    pub step: usize,
    pub tx: &'a Sender<Event>,
    /// The deadline of a registry query (REGISTRY_TIMEOUT), for callers to pass to `run`.
    pub registry_timeout: Duration,
    /// What a command without a deadline is held to while it is silent.
    pub watch: &'a StepWatch<'a>,
    /// Set when xtask is stopping (`signals::STOP`): no command starts any more.
    pub stop: &'static AtomicBool,
    /// The step's environment on top of xtask's (`Step::env`).
    pub env: &'a [(String, String)],
    /// The last command was ended for want of an answer (deadline or watch): a retry would
    /// wait as long again.
    pub gave_up: Cell<bool>,
    /// Read what docker says it did (`docker::said`): the tag the step writes and the SOURCE
    /// it reads, when it has them.
    pub listen: Option<(String, Option<String>)>,
}

/// What a finished command left behind.
pub struct Output {
    pub stdout: String,
    /// What docker's output said it pushed or built (empty without `listen`).
    pub said: Said,
}

impl Runner<'_> {
    /// Runs `argv` (argv[0] is "docker"), streaming its output (stdout kept instead when
    /// `capture`). With a `deadline` it is a registry query whose last word is the reference
    /// asked about: killed at the deadline, the message names that reference's registry.
    /// Without one, the step's watch decides about silence. Once xtask is stopping nothing
    /// starts. Err carries what happened and the output tail.
    pub fn run(
        &self,
        argv: &[String],
        capture: bool,
        deadline: Option<Duration>,
    ) -> Result<Output, (String, Vec<String>)> {
        let tx = self.tx.clone();
        let step = self.step;
        let listener = self
            .listen
            .as_ref()
            .map(|(tag, source)| Arc::new(Mutex::new(Listener::new(tag, source.as_deref()))));
        let heard = listener.clone();
        let sink: process::LineSink = Arc::new(move |text, stderr| {
            if let Some(l) = &heard {
                if let Ok(mut l) = l.lock() {
                    l.line(&text);
                }
            }
            let _ = tx.send(Event::Line { step, text, stderr });
        });
        let check = |silent| self.watch.check(silent);
        let watch = match deadline {
            Some(_) => None,
            None => Some(process::Watch {
                every: self.watch.timeouts.every(),
                check: &check,
            }),
        };
        let f = process::run(process::Spec {
            program: self.docker,
            env: self.env,
            stdin: None,
            argv,
            deadline,
            sink: Some(sink),
            keep_stdout: capture,
            stop: Some(self.stop),
            watch,
            helper_limit: deadline.is_none().then_some(self.registry_timeout),
        });
        self.gave_up.set(matches!(
            f.exit,
            process::Exit::TimedOut | process::Exit::Abandoned(_)
        ));
        match f.exit {
            process::Exit::Success => Ok(Output {
                stdout: f.stdout,
                said: listener
                    .and_then(|l| l.lock().ok().map(|l| l.said.clone()))
                    .unwrap_or_default(),
            }),
            process::Exit::Failed(status) => Err((format!("docker exited with {status}"), f.tail)),
            process::Exit::TimedOut => {
                let reference = argv.last().map(String::as_str).unwrap_or_default();
                let limit = deadline.unwrap_or_default();
                Err((docker::registry_silent(reference, limit), f.tail))
            }
            process::Exit::Stopped => Err(("stopped: xtask is stopping".into(), f.tail)),
            process::Exit::Abandoned(why) => Err((why, f.tail)),
            process::Exit::Error(e) => Err((e, f.tail)),
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
    /// `retry::build_retry`), None when it is not, and the step's registry still answers. Each
    /// retry is announced with the reason.
    pub fn with_retries(
        &self,
        argv: &[String],
        retries: u32,
        backoff: Duration,
        why: fn(&[String]) -> Option<&'static str>,
    ) -> Result<Output, String> {
        let mut wait = backoff;
        let mut attempt = 0;
        let mut said_before: Option<String> = None;
        loop {
            match self.run(argv, false, None) {
                Ok(out) => return Ok(out),
                Err((msg, tail)) => {
                    let reason = why(&tail);
                    let Some(reason) = reason.filter(|_| {
                        signals::caught().is_none() && !self.gave_up.get() && attempt < retries
                    }) else {
                        return Err(msg);
                    };
                    // A server error that comes back word for word is the server's state, not
                    // a passing fault (a full disk, a broken storage driver): once is enough.
                    let said = tail.iter().rev().find(|l| !l.trim().is_empty()).cloned();
                    if reason == super::retry::SERVER_ERROR && said.is_some() && said == said_before
                    {
                        return Err(format!(
                            "{msg}; not retrying: the registry answered the same server error twice, which a passing fault would not"
                        ));
                    }
                    said_before = said;
                    if let Some(why) = self.watch.registry_silent() {
                        return Err(format!("{why}; not retrying ({msg})"));
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::watch::Timeouts;
    use std::sync::atomic::Ordering;

    #[test]
    fn once_stopping_no_command_starts() {
        static STOP: AtomicBool = AtomicBool::new(false);
        let touch = which::which("touch").expect("touch on PATH");
        let tmp = crate::tempdir::TempDir::new("runner");
        let dir = tmp.path().to_path_buf();
        let timeouts = Timeouts {
            registry: Duration::from_secs(5),
            node: Duration::from_secs(5),
            idle_check: Duration::from_secs(60),
            idle: Duration::from_secs(60),
        };
        let watch = StepWatch {
            docker: &touch,
            timeouts,
            node: None,
            registry: None,
        };
        let (tx, _rx) = std::sync::mpsc::channel();
        let runner = Runner {
            docker: &touch,
            step: 0,
            tx: &tx,
            registry_timeout: timeouts.registry,
            watch: &watch,
            stop: &STOP,
            env: &[],
            gave_up: Cell::new(false),
            listen: None,
        };
        let argv = |f: &str| vec!["touch".to_string(), dir.join(f).display().to_string()];
        assert!(runner.run(&argv("before"), false, None).is_ok());
        assert!(dir.join("before").exists());
        STOP.store(true, Ordering::SeqCst);
        for deadline in [None, Some(Duration::from_secs(5))] {
            let e = runner.run(&argv("after"), false, deadline).err();
            assert_eq!(
                e.map(|e| e.0).as_deref(),
                Some("stopped: xtask is stopping")
            );
        }
        assert!(runner
            .with_retries(
                &argv("after"),
                3,
                Duration::ZERO,
                super::super::retry::registry_retry
            )
            .is_err());
        assert!(
            !dir.join("after").exists(),
            "a command started after the stop"
        );
    }
}
