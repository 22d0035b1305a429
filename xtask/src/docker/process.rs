//! The one way xtask runs a docker child: stdin closed, stdout and stderr read line by line on
//! threads of their own (a chatty child never blocks on a full pipe), each line either handed
//! on as it comes (the executor streams build output) or kept (queries read JSON), the last
//! lines kept for error messages, an optional deadline after which the child is killed, and
//! its pid published while it runs so a signal handler can stop it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Lines of output kept for an error message.
const TAIL: usize = 20;

/// Where a running child's pid is published (None while nothing runs).
pub type PidSlot = Arc<Mutex<Option<u32>>>;

/// Receives each line of output as it comes: (text, from stderr).
pub type LineSink = Arc<dyn Fn(String, bool) + Send + Sync>;

/// What to run and how.
pub struct Spec<'a> {
    /// The program (the docker CLI found on PATH); `argv[0]` names it for messages only.
    pub program: &'a Path,
    pub argv: &'a [String],
    /// Killed when still running after this long.
    pub deadline: Option<Duration>,
    /// Output lines go here as they come; without one, stdout and stderr are kept.
    pub sink: Option<LineSink>,
    /// Keep stdout (to read it) even when there is a sink: only stderr streams then.
    pub keep_stdout: bool,
    pub pid: Option<&'a PidSlot>,
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// A non-zero exit or a signal, as the OS words it ("exit status: 1").
    Failed(String),
    /// Still running at the deadline: killed.
    TimedOut,
    /// It could not be started (or waited for): why.
    Error(String),
}

/// What a finished child left behind.
#[derive(Debug, Clone)]
pub struct Finished {
    pub exit: Exit,
    /// Kept stdout (empty when a sink took its lines).
    pub stdout: String,
    /// Kept stderr (empty when a sink took the lines).
    pub stderr: String,
    /// The last lines of both streams, in arrival order.
    pub tail: Vec<String>,
}

pub fn run(spec: Spec) -> Finished {
    let not_started = |why: String| Finished {
        exit: Exit::Error(why),
        stdout: String::new(),
        stderr: String::new(),
        tail: Vec::new(),
    };
    let mut cmd = Command::new(spec.program);
    cmd.args(spec.argv.iter().skip(1))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return not_started(format!("cannot run {}: {e}", spec.program.display())),
    };
    if let Some(slot) = spec.pid {
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(child.id());
    }
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let out = child.stdout.take().map(|s| {
        pump(
            s,
            false,
            spec.sink.clone().filter(|_| !spec.keep_stdout),
            tail.clone(),
        )
    });
    let err = child
        .stderr
        .take()
        .map(|s| pump(s, true, spec.sink.clone(), tail.clone()));
    let until = spec.deadline.map(|d| Instant::now() + d);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if until.is_none_or(|u| Instant::now() < u) => {
                thread::sleep(Duration::from_millis(20))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(Exit::TimedOut);
            }
            Err(e) => break Err(Exit::Error(format!("waiting for docker failed: {e}"))),
        }
    };
    if let Some(slot) = spec.pid {
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
    let (stdout, stderr) = match &status {
        // A plugin docker started (buildx) may still hold the pipes of a killed child open:
        // its readers are left to finish on their own.
        Err(Exit::TimedOut) => (String::new(), String::new()),
        _ => (
            out.and_then(|h| h.join().ok()).unwrap_or_default(),
            err.and_then(|h| h.join().ok()).unwrap_or_default(),
        ),
    };
    let tail = tail
        .lock()
        .map(|t| t.iter().cloned().collect())
        .unwrap_or_default();
    let exit = match status {
        Ok(s) if s.success() => Exit::Success,
        Ok(s) => Exit::Failed(s.to_string()),
        Err(e) => e,
    };
    Finished {
        exit,
        stdout,
        stderr,
        tail,
    }
}

/// Reads one stream line by line: hands each line to the sink, or keeps it.
fn pump<R: Read + Send + 'static>(
    stream: R,
    stderr: bool,
    sink: Option<LineSink>,
    tail: Arc<Mutex<VecDeque<String>>>,
) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut kept = String::new();
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        while matches!(reader.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&buf)
                .trim_end_matches(['\n', '\r'])
                .to_string();
            buf.clear();
            if let Ok(mut t) = tail.lock() {
                t.push_back(text.clone());
                if t.len() > TAIL {
                    t.pop_front();
                }
            }
            match &sink {
                Some(sink) => sink(text, stderr),
                None => {
                    kept.push_str(&text);
                    kept.push('\n');
                }
            }
        }
        kept
    })
}
