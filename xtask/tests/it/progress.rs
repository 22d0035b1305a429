//! Long waits say what is happening: `doctor` prints each check as it finishes (its first
//! lines are out while a slow check still runs; --json stays one document), and the first
//! use of the certificate tool says it is being built.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::Value;

#[test]
fn doctor_prints_each_check_as_it_finishes() {
    let w = World::new("doctor-live");
    w.image("alpha", "1.0");
    // The registry check (the last one) takes 3 s.
    let mut child = w
        .xtask()
        .args(["doctor", "sub-repush-as-linux-alpha"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("FAKE_DOCKER_SLEEP", "3")
        .env("FAKE_DOCKER_SLEEP_ON", " imagetools ")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    loop {
        let line = lines.next().expect("doctor ended early").expect("line");
        seen.push(line.clone());
        // (the fake's `--version` answer is not a version: a warning, "!")
        if line.contains("  local: docker CLI  ") {
            break;
        }
    }
    let first = Instant::now();
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "the first check printed only at the end: {seen:?}"
    );
    let rest: Vec<String> = lines.map(|l| l.expect("line")).collect();
    // The 3 s registry check started after the first line was out, so the rest came later.
    assert!(
        first.elapsed() >= Duration::from_secs(2),
        "the first check printed only at the end: {seen:?}"
    );
    assert!(child.wait().expect("wait").success(), "{seen:?} {rest:?}");
    assert!(seen[0].starts_with("doctor sub-repush-as-linux-alpha (compat mode)"));
    assert!(
        rest.iter().any(|l| l.starts_with("✓  local: registry")),
        "{rest:?}"
    );
    assert!(
        rest.last()
            .is_some_and(|l| l.starts_with("all checks passed")),
        "{rest:?}"
    );

    // --json: one document, nothing before it.
    let o = run(w
        .xtask()
        .args(["doctor", "sub-repush-as-linux-alpha", "--json"])
        .env("REGISTRY", "127.0.0.1:5000/e2e"));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["ok"], true);
}

/// Runs `tls` with the test's own cargo (as tls_doctor.rs does).
fn tls(exe: &Path, out: &Path) -> std::process::Output {
    let mut c = Command::new(exe);
    c.env_clear()
        .env("CARGO", env!("CARGO"))
        .args([
            "tls",
            "--server-name",
            "winbuild",
            "--ip",
            "127.0.0.1",
            "--out",
        ])
        .arg(out);
    for k in [
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "CARGO_TARGET_DIR",
        "HOME",
    ] {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    let path = std::env::var("PATH").unwrap_or_default();
    c.env("PATH", format!("{path}:/usr/bin:/bin"));
    c.output().expect("xtask tls")
}

#[test]
fn the_first_use_of_the_certificate_tool_says_it_builds() {
    let t = TempDir::new("tls-note");
    // A copy of xtask with no xtask-tls beside it: to it, the tool was never built.
    let copy = t.path().join("bin/xtask");
    fs::create_dir_all(copy.parent().expect("bin")).expect("mkdir");
    fs::copy(env!("CARGO_BIN_EXE_xtask"), &copy).expect("copy xtask");
    let o = tls(&copy, &t.path().join("a"));
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("xtask: building the certificate tool xtask-tls ("),
        "{err}"
    );
    assert!(t.path().join("a/client/cert.pem").is_file());
    // Built now (by that run, beside the real xtask): no note.
    let o = tls(Path::new(env!("CARGO_BIN_EXE_xtask")), &t.path().join("b"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("certificate tool"), "{}", stderr(&o));
}
