//! Credentials where they live, against a fake docker and a tiny registry in the test that
//! asks for Basic auth (`/v2/` answers 401 without the right `Authorization`): a run that
//! pushes is refused before any docker command when this machine holds no credentials for
//! REGISTRY, or ones it refuses, or a credential helper that never answers (named, within
//! REGISTRY_TIMEOUT); it goes on when logged in; doctor says the same.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;

/// "user:pass" in base64.
const GOOD: &str = "dXNlcjpwYXNz";

/// A registry on loopback that wants `Basic GOOD`; answers until dropped.
struct Registry {
    host: String,
    stop: Arc<AtomicBool>,
}

impl Registry {
    fn start() -> Registry {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.set_nonblocking(true).expect("nonblocking");
        let host = l.local_addr().expect("addr").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Ok((mut c, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = c.set_nonblocking(false);
                let mut buf = [0u8; 8192];
                let n = c.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let answer = if req.contains(&format!("Authorization: Basic {GOOD}")) {
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_string()
                } else {
                    "HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n".to_string()
                };
                let _ = c.write_all(answer.as_bytes());
            }
        });
        Registry { host, stop }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn world() -> World {
    let w = World::new("creds");
    w.image("alpha", "1.0");
    w
}

/// Writes this machine's docker config.json (HOME is the world's root).
fn login(w: &World, config: &str) {
    let d = w.root().join(".docker");
    std::fs::create_dir_all(&d).expect("mkdir");
    std::fs::write(d.join("config.json"), config).expect("config.json");
}

fn push_as_linux(w: &World, reg: &Registry) -> std::process::Command {
    let mut c = w.xtask();
    c.arg("push-as-linux")
        .env("REGISTRY", format!("{}/e2e", reg.host))
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376");
    c
}

#[test]
fn logged_out_is_refused_before_any_docker_command() {
    let reg = Registry::start();
    let w = world();
    let o = run(&mut push_as_linux(&w, &reg));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("REGISTRY=\"{}/e2e\"", reg.host))
            && err.contains("asks for credentials and this machine holds none")
            && err.contains(&format!("docker login {}", reg.host)),
        "{err}"
    );
    assert!(w.mutating_calls().is_empty(), "{:?}", w.calls());
}

#[test]
fn logged_in_runs() {
    let reg = Registry::start();
    let w = world();
    login(
        &w,
        &format!(r#"{{"auths":{{"{}":{{"auth":"{GOOD}"}}}}}}"#, reg.host),
    );
    let o = run(&mut push_as_linux(&w, &reg));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!w.mutating_calls().is_empty());
}

#[test]
fn refused_credentials_are_refused_before_any_build() {
    let reg = Registry::start();
    let w = world();
    // "user:wrong"
    login(
        &w,
        &format!(
            r#"{{"auths":{{"{}":{{"auth":"dXNlcjp3cm9uZw=="}}}}}}"#,
            reg.host
        ),
    );
    let o = run(&mut push_as_linux(&w, &reg));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("refused this machine's credentials"), "{err}");
    assert!(w.mutating_calls().is_empty());
}

#[test]
fn a_credential_helper_that_never_answers_is_named_within_the_limit() {
    let reg = Registry::start();
    let w = world();
    let helper = w.bin().join("docker-credential-stuck");
    std::fs::write(&helper, "#!/bin/sh\nexec sleep 60\n").expect("helper");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    login(&w, r#"{"credsStore":"stuck"}"#);
    let t = Instant::now();
    let o = run(push_as_linux(&w, &reg).env("REGISTRY_TIMEOUT", "1"));
    let err = stderr(&o);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("credential helper docker-credential-stuck gave no answer within 1 s"),
        "{err}"
    );
    assert!(w.mutating_calls().is_empty());
}

#[test]
fn doctor_says_both_ways() {
    let reg = Registry::start();
    let w = world();
    let doctor = |w: &World| {
        run(w
            .xtask()
            .args(["doctor", "push-as-linux"])
            .env("REGISTRY", format!("{}/e2e", reg.host))
            .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"))
    };
    let out = stdout(&doctor(&w));
    let line = out
        .lines()
        .find(|l| l.contains("local: credentials"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.starts_with('✗') && line.contains("holds none"),
        "{out}"
    );
    assert!(out.contains(&format!("docker login {}", reg.host)), "{out}");
    login(
        &w,
        &format!(r#"{{"auths":{{"{}":{{"auth":"{GOOD}"}}}}}}"#, reg.host),
    );
    let out = stdout(&doctor(&w));
    let line = out
        .lines()
        .find(|l| l.contains("local: credentials"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.starts_with('✓') && line.contains("accepts this machine's credentials"),
        "{out}"
    );
}
