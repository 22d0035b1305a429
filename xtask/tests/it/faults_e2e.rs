//! Faults on the real stack: the registry down while pushing (and coming back during the
//! retries), a node going down mid-run, a Dockerfile that fails to build, a node or registry
//! that accepts connections and never answers. Each ends with exit 1, the failing step, image
//! and node (or the silent registry) named, dependent steps not started, the summary printed,
//! and no manifest list pointing at a missing image. These tests stop shared pieces of the
//! stack, so each has the stack to itself (`Stack::exclusive`) and restores what it stopped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::stack::Stack;

/// Restarts a stopped piece of the stack when the test ends, also when it panics.
struct Restore<'a>(&'a Stack, &'static [&'static str]);

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        self.0.stack_sh(self.1);
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `cmd`, reading its stderr; at the first line `at` accepts, does `fault` (whose result
/// lives until the run ends). Returns the exit status, all of stderr, and `fault`'s result.
fn run_until<R>(
    cmd: &mut std::process::Command,
    at: impl Fn(&str) -> bool,
    fault: impl FnOnce() -> R,
) -> (std::process::ExitStatus, String, R) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        seen.push(line.clone());
        if at(&line) {
            break;
        }
    }
    let kept = fault();
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().expect("wait");
    (status, seen.join("\n"), kept)
}

fn matrix(c: &mut std::process::Command, s: &Stack) {
    c.env("OS_VERSIONS", "1809 ltsc2022")
        .env(
            "REMOTE_DOCKER_URL_ltsc2022",
            s.var("REMOTE_DOCKER_URL_ltsc2022"),
        )
        .env("DOCKER_CERT_BASE_PATH", s.var("DOCKER_CERT_BASE_PATH"));
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn registry_down_while_pushing_fails_the_pushes_and_pushes_no_list() {
    let s = Stack::exclusive();
    let r = s.namespace("regdown");
    let dir = s.fixtures();
    let mut c = s.xtask(&r, &dir);
    matrix(&mut c, &s);
    let o = c.args(["build", "alpha"]).output().expect("build");
    assert!(o.status.success(), "{}", text(&o));

    s.stack_sh(&["stop-registry"]);
    let restore = Restore(&s, &["start-registry"]);
    let mut c = s.xtask(&r, &dir);
    matrix(&mut c, &s);
    let o = c
        .args(["sub-push-alpha"])
        .env("RETRIES", "0")
        .output()
        .expect("push");
    drop(restore);

    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("failed: push") && t.contains("(image alpha, node "),
        "{t}"
    );
    assert!(
        t.contains("not started") && t.contains("manifest-list"),
        "{t}"
    );
    assert!(
        s.inspect(&format!("{r}/alpha:1.0")).is_none(),
        "a list was pushed"
    );
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_push_survives_the_registry_coming_back_during_retries() {
    let s = Stack::exclusive();
    let r = s.namespace("regback");
    let dir = s.fixtures();
    let o = s
        .xtask(&r, &dir)
        .args(["sub-build", "beta"])
        .output()
        .expect("build");
    assert!(o.status.success(), "{}", text(&o));

    s.stack_sh(&["stop-registry"]);
    let restore = Restore(&s, &["start-registry"]);
    // The first failed attempt is announced as a retry: bring the registry back then.
    let (status, t, ()) = run_until(
        s.xtask(&r, &dir)
            .args(["sub-push", "beta"])
            .env("RETRIES", "5"),
        |line| line.contains("retry 1/5"),
        || drop(restore),
    );
    assert!(status.success(), "{t}");
    assert!(t.contains("transient error, retry 1/5"), "{t}");
    assert!(s.inspect(&format!("{r}/beta:2.1")).is_some());
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_node_going_down_mid_run_stops_the_run() {
    let s = Stack::exclusive();
    let r = s.namespace("nodedown");
    let dir = s.fixtures();
    // Stop the node once the second build has started.
    let (status, t, restore) = run_until(
        s.xtask(&r, &dir).args(["push-as-linux"]),
        |line| line.starts_with("[2/6] build"),
        || {
            s.stack_sh(&["stop-node", "1809"]);
            Restore(&s, &["start-node", "1809"])
        },
    );
    drop(restore);
    assert_eq!(status.code(), Some(1), "{t}");
    assert!(t.contains(" failed: ") && t.contains(", node): "), "{t}");
    assert!(t.contains("not started"), "{t}");
    // The cache builds come after every push: none may have run.
    for img in ["alpha:1.0", "beta:2.1"] {
        assert!(
            s.inspect(&format!("{r}/{img}-linux-cache")).is_none(),
            "{img} cache pushed"
        );
    }
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_dockerfile_that_fails_to_build_stops_the_run() {
    let s = Stack::exclusive();
    let r = s.namespace("badfile");
    let tmp = crate::support::TempDir::new("badfile");
    let dir = tmp.path().join("images");
    let d = dir.join("broken");
    crate::support::write(&d.join("VERSION"), "0.1\n");
    let base = format!("{}/windows-base:1809", r);
    crate::support::write(
        &d.join("Dockerfile_windows"),
        &format!("FROM {base}\nCOPY no-such-file /x\n"),
    );
    crate::support::write(&d.join("Dockerfile"), "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE AS s\nFROM scratch\nCOPY --from=s /x /x\n");
    let o = s
        .xtask(&r, &dir)
        .args(["push-as-linux"])
        .output()
        .expect("run");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("step 1/3 failed: build") && t.contains("(image broken, node)"),
        "{t}"
    );
    assert!(
        t.contains("0 ok, 1 failed, 0 stopped, 2 not started"),
        "{t}"
    );
    assert!(s.inspect(&format!("{r}/broken:0.1")).is_none());
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_run_with_certs_from_another_ca_stops_before_any_step() {
    let s = Stack::exclusive();
    let r = s.namespace("wrongca");
    let tmp = crate::support::TempDir::new("wrongca");
    let other = tmp.path().join("other");
    let o = s
        .cmd(env!("CARGO_BIN_EXE_xtask"))
        .env("CARGO", env!("CARGO"))
        .args([
            "tls",
            "--server-name",
            "localhost",
            "--ip",
            "127.0.0.1",
            "--out",
        ])
        .arg(&other)
        .output()
        .expect("xtask tls");
    assert!(o.status.success(), "{}", text(&o));
    let o = s
        .xtask(&r, &s.fixtures())
        .args(["push-as-linux"])
        .env("DOCKER_CERT_PATH", other.join("client"))
        .output()
        .expect("run");
    let t = text(&o);
    // The node probe made before the run (`docker version` over TLS) meets the wrong CA:
    // the run ends there, naming the node and the cause, before any build.
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&s.var("REMOTE_DOCKER_URL_1809")) && t.contains("no step was started"),
        "{t}"
    );
    assert!(t.contains("unknown authority"), "{t}");
    assert!(!t.contains("[1/6]"), "a step started: {t}");
}

/// A TCP listener on 127.0.0.1 that accepts every connection and never answers: a wedged node
/// or registry. Stopped (by its pid) when dropped.
struct Wedged {
    child: Child,
    port: u16,
}

impl Wedged {
    fn start() -> Wedged {
        let script = "import socket\n\
            s = socket.socket()\n\
            s.bind(('127.0.0.1', 0))\n\
            s.listen(64)\n\
            print(s.getsockname()[1], flush=True)\n\
            held = []\n\
            while True:\n    held.append(s.accept())\n";
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port");
        let port = line.trim().parse().expect("a port number");
        Wedged { child, port }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Wedged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn timed(c: &mut Command) -> (Output, Duration) {
    let t = Instant::now();
    let o = c.output().expect("run xtask");
    (o, t.elapsed())
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_wedged_registry_ends_verify_and_a_push_naming_it() {
    let s = Stack::exclusive();
    let wedged = Wedged::start();
    let registry = format!("{}/e2e", wedged.host());
    let silent = format!(
        "registry {} did not answer within 3 s (limit: REGISTRY_TIMEOUT)",
        wedged.host()
    );

    let (o, took) = timed(
        s.xtask(&registry, &s.fixtures())
            .args(["verify"])
            .env("REGISTRY_TIMEOUT", "3"),
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains(&silent), "{t}");
    assert!(took < Duration::from_secs(15), "{took:?}");

    // The build pulls its base from the stack's registry; the push meets the silent one.
    let (o, took) = timed(
        s.xtask(&registry, &s.fixtures())
            .args(["push", "alpha"])
            .env("STEP_IDLE_CHECK", "3")
            .env("REGISTRY_TIMEOUT", "3"),
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("step 2/2 failed: push") && t.contains("(image alpha, node)"),
        "{t}"
    );
    assert!(t.contains(&silent), "{t}");
    assert!(t.contains("1 ok, 1 failed, 0 stopped"), "{t}");
    assert!(took < Duration::from_secs(90), "{took:?}");
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_wedged_node_ends_the_run_naming_it() {
    let s = Stack::exclusive();
    let wedged = Wedged::start();
    let r = s.namespace("wedgednode");
    let url = format!("tcp://{}", wedged.host());
    let (o, took) = timed(
        s.xtask(&r, &s.fixtures())
            .args(["push-as-linux", "alpha"])
            .env("REMOTE_DOCKER_URL", &url)
            .env("STEP_IDLE_CHECK", "3")
            .env("NODE_TIMEOUT", "3"),
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&format!("node {url}"))
            && t.contains("within 3 s")
            && t.contains("NODE_TIMEOUT"),
        "{t}"
    );
    // Found by the probe before the run: no step started.
    assert!(!t.contains("] build "), "{t}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(s.inspect(&format!("{r}/alpha:1.0")).is_none());
}
