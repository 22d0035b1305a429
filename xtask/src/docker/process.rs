//! The one way xtask runs a docker child: stdin closed, stdout and stderr read line by line on
//! threads of their own (a chatty child never blocks on a full pipe), each line either handed
//! on as it comes (the executor streams build output) or kept (queries read JSON), the last
//! lines kept for error messages. Nothing waits forever: a query has a deadline after which
//! the child is killed; a step has a watch that is asked what to do each time the child has
//! been silent for a while. And nothing outlives xtask:
//!
//! - a stop flag (set when xtask is stopping: a signal, its output closed) keeps a child from
//!   starting — it is read again in the forked child just before `exec`, so a signal that
//!   arrives while a step goes from one command to the next cannot let one more through — and
//!   stops a running one: SIGTERM (docker cancels its build or push), SIGKILL after a grace;
//! - every child is its own process group, so a terminal's Ctrl-C reaches xtask alone, which
//!   decides, and stopping a child also stops the plugin (buildx) it started;
//! - every child gets SIGKILL when xtask dies, even by SIGKILL (`PR_SET_PDEATHSIG`). The
//!   kernel sends it when the *thread* that forked the child ends; `run` forks on the caller's
//!   thread and returns only once the child has ended, so that thread outlives the child.
//!
//! Three libc calls through plain FFI, as in `exec::signals`: a crate for them would cost more
//! compile time than the lines it saves.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Lines of output kept for an error message.
const TAIL: usize = 20;

/// Bytes of output kept for an error message, all lines together: a child that prints a few
/// huge lines must not fill memory or a message (issue 19 §6).
const TAIL_BYTES: usize = 16 * 1024;

/// Bytes of one line handed on or kept in the tail; the rest of the line is counted and
/// dropped (`… (N more bytes)`). Kept stdout (a query's JSON answer) is held to
/// `KEPT_LINE_MAX` instead: it is read, not shown.
const LINE_MAX: usize = 8 * 1024;
const KEPT_LINE_MAX: usize = 16 * 1024 * 1024;

/// How long a child asked to stop (SIGTERM) may take before it is killed: docker cancels a
/// remote build or push in a second or two; one that hangs on a dead peer is not waited for.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// How often a running child is looked at (exit, stop flag, deadline, watch).
const POLL: Duration = Duration::from_millis(20);

/// How often the processes under a child are looked at for a credential helper.
const HELPER_POLL: Duration = Duration::from_millis(250);

/// Receives each line of output as it comes: (text, from stderr).
pub type LineSink = Arc<dyn Fn(String, bool) + Send + Sync>;

/// What to do about a child that has been silent: called with how long it has printed nothing;
/// `Some(why)` ends it (SIGTERM, SIGKILL after `STOP_GRACE`), `None` lets it go on.
pub struct Watch<'a> {
    /// Silence before the first call, and between calls while the silence lasts.
    pub every: Duration,
    pub check: &'a dyn Fn(Duration) -> Option<String>,
}

/// What to run and how.
pub struct Spec<'a> {
    /// The program (the docker CLI found on PATH); `argv[0]` names it for messages only.
    pub program: &'a Path,
    pub argv: &'a [String],
    /// Set in the child's environment on top of xtask's (a build routed to the classic
    /// builder: `DOCKER_BUILDKIT=0`).
    pub env: &'a [(String, String)],
    /// Written to the child's stdin, which is then closed (a credential helper reads the
    /// registry's name there); None: stdin is /dev/null.
    pub stdin: Option<&'a [u8]>,
    /// Killed when still running after this long.
    pub deadline: Option<Duration>,
    /// Output lines go here as they come; without one, stdout and stderr are kept.
    pub sink: Option<LineSink>,
    /// Keep stdout (to read it) even when there is a sink: only stderr streams then.
    pub keep_stdout: bool,
    /// Set when xtask is stopping: the child is not started, or is stopped.
    pub stop: Option<&'static AtomicBool>,
    pub watch: Option<Watch<'a>>,
    /// How long a credential helper docker runs (`docker-credential-*`, for the registry's
    /// password) may take: one that has not answered by then ends the child, named. A helper
    /// waiting on a keyring or a prompt makes docker wait silently forever, while node and
    /// registry both answer the watch (issue 19 §5).
    pub helper_limit: Option<Duration>,
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// A non-zero exit or a signal, as the OS words it ("exit status: 1").
    Failed(String),
    /// Still running at the deadline: killed.
    TimedOut,
    /// xtask is stopping (the stop flag): not started, or stopped, or it failed meanwhile.
    Stopped,
    /// Ended because the watch said so: its reason.
    Abandoned(String),
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
    let ended = |exit: Exit| Finished {
        exit,
        stdout: String::new(),
        stderr: String::new(),
        tail: Vec::new(),
    };
    let stopping = || spec.stop.is_some_and(|s| s.load(Ordering::SeqCst));
    if stopping() {
        return ended(Exit::Stopped);
    }
    let mut cmd = Command::new(spec.program);
    cmd.args(spec.argv.iter().skip(1))
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A command for a node (its own -H) goes where its argv says, whatever builder the user's
    // environment picks for local builds (`argv::NOT_FOR_NODES`).
    if spec.argv.iter().any(|a| a == "-H") {
        for var in super::argv::NOT_FOR_NODES {
            cmd.env_remove(var);
        }
    }
    let parent = std::process::id() as i32;
    let stop = spec.stop;
    // SAFETY: the hook runs in the forked child before exec and calls only async-signal-safe
    // functions (setpgid, prctl, getppid, an atomic load); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            sys::own_group();
            sys::die_with_parent();
            // xtask died before the line above: nobody would send the signal.
            if sys::parent() != parent {
                return Err(io::Error::from_raw_os_error(sys::EINTR));
            }
            if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                return Err(io::Error::from_raw_os_error(sys::EINTR));
            }
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(_) if stopping() => return ended(Exit::Stopped),
        Err(e) => {
            return ended(Exit::Error(format!(
                "cannot run {}: {e}",
                spec.program.display()
            )))
        }
    };
    if let (Some(bytes), Some(mut pipe)) = (spec.stdin, child.stdin.take()) {
        // Small (a registry name): fits the pipe's buffer, so this write does not block on a
        // child that never reads; the pipe is closed when `pipe` drops.
        use std::io::Write;
        let _ = pipe.write_all(bytes);
    }
    let pid = child.id() as i32;
    let started = Instant::now();
    // Milliseconds after `started` of the last line of output (either stream).
    let last_line = Arc::new(AtomicU64::new(0));
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let out = child.stdout.take().map(|s| {
        let sink = spec.sink.clone().filter(|_| !spec.keep_stdout);
        pump(s, false, sink, tail.clone(), started, last_line.clone())
    });
    let err = child.stderr.take().map(|s| {
        let sink = spec.sink.clone();
        pump(s, true, sink, tail.clone(), started, last_line.clone())
    });
    let silent_since = || started + Duration::from_millis(last_line.load(Ordering::SeqCst));
    let until = spec.deadline.map(|d| started + d);
    let mut next_check = spec.watch.as_ref().map(|w| started + w.every);
    // Why xtask ended the child, and when it sent SIGTERM (None: already killed).
    let mut ending: Option<(Exit, Option<Instant>)> = None;
    // Credential helpers seen running under the child, since when; looked for every HELPER_POLL.
    let mut helpers_seen: std::collections::HashMap<i32, (String, Instant)> = Default::default();
    let mut next_helper_look = started + HELPER_POLL;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(e) => {
                sys::signal_group(pid, sys::SIGKILL);
                let _ = child.wait();
                break Err(Exit::Error(format!("waiting for docker failed: {e}")));
            }
        }
        let now = Instant::now();
        if let Some((_, asked)) = &mut ending {
            if asked.is_some_and(|t| now.duration_since(t) > STOP_GRACE) {
                sys::signal_group(pid, sys::SIGKILL);
                *asked = None;
            }
        } else if stopping() {
            sys::signal_group(pid, sys::SIGTERM);
            ending = Some((Exit::Stopped, Some(now)));
        } else if until.is_some_and(|u| now >= u) {
            // A query that hangs has nothing to cancel: killed at once. When a credential
            // helper is what it waits for, that helper is named, not the registry.
            let helper = helpers::running_under(pid).into_iter().next();
            sys::signal_group(pid, sys::SIGKILL);
            ending = Some((
                match (helper, spec.deadline) {
                    (Some((_, name)), Some(d)) => Exit::Abandoned(helpers::silent(&name, d)),
                    _ => Exit::TimedOut,
                },
                None,
            ));
        } else if let Some(limit) = spec.helper_limit.filter(|_| now >= next_helper_look) {
            next_helper_look = now + HELPER_POLL;
            let running = helpers::running_under(pid);
            helpers_seen.retain(|p, _| running.iter().any(|(q, _)| q == p));
            for (p, name) in running {
                helpers_seen.entry(p).or_insert((name, now));
            }
            if let Some((name, _)) = helpers_seen
                .values()
                .find(|(_, since)| now.duration_since(*since) >= limit)
            {
                sys::signal_group(pid, sys::SIGTERM);
                ending = Some((Exit::Abandoned(helpers::silent(name, limit)), Some(now)));
            }
        } else if let (Some(w), Some(at)) = (&spec.watch, next_check) {
            let quiet = silent_since();
            if now >= at.max(quiet + w.every) {
                let why = (w.check)(now.duration_since(quiet));
                match why {
                    // A line that came while the check ran means the child is alive.
                    Some(why) if silent_since() == quiet => {
                        sys::signal_group(pid, sys::SIGTERM);
                        ending = Some((Exit::Abandoned(why), Some(Instant::now())));
                    }
                    _ => next_check = Some(Instant::now() + w.every),
                }
            }
        }
        thread::sleep(POLL);
    };
    let tail: Vec<String> = tail
        .lock()
        .map(|t| t.iter().cloned().collect())
        .unwrap_or_default();
    let exit = match (status, ending) {
        // Finished its work before the signal took effect: done is done.
        (Ok(s), _) if s.success() => Exit::Success,
        (_, Some((why, _))) => why,
        (Ok(_), None) if stopping() => Exit::Stopped,
        (Ok(s), None) => Exit::Failed(s.to_string()),
        (Err(e), None) => e,
    };
    let (stdout, stderr) = match exit {
        // A plugin docker started (buildx) may still hold the pipes of a child that was
        // ended: its readers are left to finish on their own.
        Exit::TimedOut | Exit::Stopped | Exit::Abandoned(_) => (String::new(), String::new()),
        _ => (
            out.and_then(|h| h.join().ok()).unwrap_or_default(),
            err.and_then(|h| h.join().ok()).unwrap_or_default(),
        ),
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
    started: Instant,
    last_line: Arc<AtomicU64>,
) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut kept = String::new();
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        let max = if sink.is_some() {
            LINE_MAX
        } else {
            KEPT_LINE_MAX
        };
        while let Ok(Some(dropped)) = read_line(&mut reader, &mut buf, max) {
            last_line.store(started.elapsed().as_millis() as u64, Ordering::SeqCst);
            let mut text = String::from_utf8_lossy(&buf)
                .trim_end_matches('\r')
                .to_string();
            if dropped > 0 {
                text.push_str(&format!("… ({dropped} more bytes)"));
            }
            if let Ok(mut t) = tail.lock() {
                t.push_back(clip(&text, LINE_MAX));
                while t.len() > TAIL
                    || (t.len() > 1 && t.iter().map(String::len).sum::<usize>() > TAIL_BYTES)
                {
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

/// Reads one line into `buf` (without its newline), keeping at most `max` bytes of it:
/// Ok(Some(bytes dropped)), Ok(None) at the end of the stream. A line never costs more
/// memory than `max`, however long the child makes it.
fn read_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<usize>> {
    buf.clear();
    let mut dropped = 0;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(any.then_some(dropped));
        }
        any = true;
        let (line, used, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (&avail[..i], i + 1, true),
            None => (avail, avail.len(), false),
        };
        let take = max.saturating_sub(buf.len()).min(line.len());
        buf.extend_from_slice(&line[..take]);
        dropped += line.len() - take;
        r.consume(used);
        if done {
            return Ok(Some(dropped));
        }
    }
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &s[..end], s.len() - end)
}

/// docker's credential helpers (`docker-credential-NAME`, run by the docker CLI and by buildx
/// for a registry's password), found under a child in /proc.
mod helpers {
    use std::collections::HashMap;
    use std::time::Duration;

    /// The credential helpers running anywhere under `root`: (pid, program name).
    pub fn running_under(root: i32) -> Vec<(i32, String)> {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            // `pid (comm) state ppid …`: comm may hold anything, so read after its last ')'.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<i32>().ok());
            if let Some(ppid) = ppid {
                children.entry(ppid).or_default().push(pid);
            }
        }
        let mut found = Vec::new();
        let mut todo = children.get(&root).cloned().unwrap_or_default();
        while let Some(pid) = todo.pop() {
            if let Some(name) = program(pid).filter(|n| n.starts_with("docker-credential-")) {
                found.push((pid, name));
            }
            todo.extend(children.get(&pid).cloned().unwrap_or_default());
        }
        found
    }

    /// The file name of the program a process runs (its argv[0], or what a script's
    /// interpreter was given).
    fn program(pid: i32) -> Option<String> {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        cmdline
            .split(|&b| b == 0)
            .take(2)
            .map(|a| {
                String::from_utf8_lossy(a)
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .find(|n| n.starts_with("docker-credential-"))
    }

    /// What a credential helper that did not answer is told as.
    pub fn silent(name: &str, waited: Duration) -> String {
        format!(
            "the credential helper {} did not answer within {} (limit: REGISTRY_TIMEOUT): docker asks it for the registry's password before talking to the registry; see credsStore / credHelpers in $DOCKER_CONFIG/config.json (it may be waiting for a keyring or a prompt)",
            crate::error::shown(name),
            super::super::seconds(waited)
        )
    }
}

/// The libc calls: process groups, signals, the parent-death signal.
mod sys {
    pub const SIGTERM: i32 = 15;
    pub const SIGKILL: i32 = 9;
    pub const EINTR: i32 = 4;

    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
        fn setpgid(pid: i32, pgid: i32) -> i32;
        fn getppid() -> i32;
        #[cfg(target_os = "linux")]
        fn prctl(option: i32, ...) -> i32;
    }

    /// Sends `sig` to the child's process group (the child and the plugin it started), or to
    /// the child alone if it has no group of its own yet.
    pub fn signal_group(pid: i32, sig: i32) {
        // SAFETY: plain syscall wrappers; a group or pid that is gone yields ESRCH, ignored.
        unsafe {
            if kill(-pid, sig) != 0 {
                kill(pid, sig);
            }
        }
    }

    /// In a forked child: a process group of its own (the terminal's Ctrl-C goes to xtask's).
    pub fn own_group() {
        // SAFETY: setpgid(0, 0) changes only the calling process.
        unsafe {
            setpgid(0, 0);
        }
    }

    /// The parent's pid (1 or a subreaper once the parent died).
    pub fn parent() -> i32 {
        // SAFETY: getppid cannot fail.
        unsafe { getppid() }
    }

    /// In a forked child: SIGKILL when the thread that forked it (and so xtask) dies.
    pub fn die_with_parent() {
        #[cfg(target_os = "linux")]
        // SAFETY: prctl(PR_SET_PDEATHSIG = 1, sig) only sets a flag on the calling process.
        unsafe {
            prctl(1, SIGKILL as std::ffi::c_ulong);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::path::PathBuf;

    fn bin(name: &str) -> PathBuf {
        which::which(name).expect("on PATH")
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn spec<'a>(program: &'a Path, argv: &'a [String]) -> Spec<'a> {
        Spec {
            program,
            argv,
            env: &[],
            stdin: None,
            deadline: None,
            sink: None,
            keep_stdout: true,
            stop: None,
            watch: None,
            helper_limit: None,
        }
    }

    #[test]
    fn a_set_stop_flag_starts_nothing() {
        static STOP: AtomicBool = AtomicBool::new(true);
        let tmp = crate::tempdir::TempDir::new("stop");
        let dir = tmp.path().join("touched");
        let touch = bin("touch");
        let a = argv(&["touch", &dir.display().to_string()]);
        let f = run(Spec {
            stop: Some(&STOP),
            ..spec(&touch, &a)
        });
        assert_eq!(f.exit, Exit::Stopped);
        assert!(!dir.exists(), "the child ran");
    }

    #[test]
    fn a_running_child_is_stopped_when_the_flag_is_set() {
        static STOP: AtomicBool = AtomicBool::new(false);
        let sleep = bin("sleep");
        let a = argv(&["sleep", "30"]);
        let t = Instant::now();
        let setter = thread::spawn(|| {
            thread::sleep(Duration::from_millis(300));
            STOP.store(true, Ordering::SeqCst);
        });
        let f = run(Spec {
            stop: Some(&STOP),
            ..spec(&sleep, &a)
        });
        let _ = setter.join();
        assert_eq!(f.exit, Exit::Stopped);
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }

    #[test]
    fn a_silent_child_is_ended_when_the_watch_says_so() {
        let sh = bin("sh");
        let a = argv(&["sh", "-c", "echo started; exec sleep 30"]);
        let asked = Cell::new(None);
        let check = |silent: Duration| {
            asked.set(Some(silent));
            Some("the node did not answer".to_string())
        };
        let t = Instant::now();
        let f = run(Spec {
            watch: Some(Watch {
                every: Duration::from_millis(300),
                check: &check,
            }),
            ..spec(&sh, &a)
        });
        assert_eq!(f.exit, Exit::Abandoned("the node did not answer".into()));
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        let silent = asked.get().expect("the watch was asked");
        assert!(silent >= Duration::from_millis(300), "{silent:?}");
        assert_eq!(f.tail, ["started"]);
    }

    #[test]
    fn the_watch_is_asked_only_about_silence_and_again_while_it_lasts() {
        let sh = bin("sh");
        let calls = Cell::new(0);
        let check = |_| {
            calls.set(calls.get() + 1);
            None
        };
        let watch = || Watch {
            every: Duration::from_millis(400),
            check: &check,
        };
        // A line every 100 ms: never silent for 400 ms.
        let chatty = argv(&[
            "sh",
            "-c",
            "for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 0.1; done",
        ]);
        let f = run(Spec {
            watch: Some(watch()),
            ..spec(&sh, &chatty)
        });
        assert_eq!(f.exit, Exit::Success);
        assert_eq!(calls.get(), 0);
        // Silent for 1.5 s: asked about every 400 ms, and let go on.
        let quiet = argv(&["sh", "-c", "sleep 1.5"]);
        let f = run(Spec {
            watch: Some(watch()),
            ..spec(&sh, &quiet)
        });
        assert_eq!(f.exit, Exit::Success);
        assert!((2..=4).contains(&calls.get()), "{}", calls.get());
    }

    #[test]
    fn the_tail_is_bounded_in_bytes_and_long_lines_are_cut() {
        // One 1 MB line, then 30 lines of 2 KB: the tail keeps the last lines within its
        // bytes, the long line cut (before: kept whole, 20 lines of any size).
        let sh = bin("sh");
        let f = run(spec(
            &sh,
            &argv(&[
                "sh",
                "-c",
                "head -c 1000000 /dev/zero | tr '\\0' x; echo; i=0; while [ $i -lt 30 ]; do head -c 2000 /dev/zero | tr '\\0' y; echo; i=$((i+1)); done; exit 3",
            ]),
        ));
        let bytes: usize = f.tail.iter().map(String::len).sum();
        assert!(bytes <= TAIL_BYTES + LINE_MAX, "{bytes}");
        assert!(f.tail.iter().all(|l| l.len() < LINE_MAX + 40));
        assert!(f.tail.last().is_some_and(|l| l.starts_with("yyy")));
        let mut r = io::Cursor::new(vec![b'z'; 100_000]);
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut r, &mut buf, 10).ok(), Some(Some(99_990)));
        assert_eq!(buf.len(), 10);
        assert_eq!(read_line(&mut r, &mut buf, 10).ok(), Some(None));
    }

    #[test]
    fn output_and_exit_status_come_back() {
        let sh = bin("sh");
        let a = argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]);
        let f = run(spec(&sh, &a));
        assert_eq!(f.exit, Exit::Failed("exit status: 3".into()));
        assert_eq!(f.stdout, "out\n");
        assert_eq!(f.stderr, "err\n");
    }
}
