//! Issue 19 §2–§4 against a fake docker: settings that were silently ignored or misread
//! (STEP_IDLE_TIMEOUT below STEP_IDLE_CHECK, ISOLATION in compat mode, a release name in the
//! wrong case, a build of only cache-only images), the output paths checked before the first
//! step (REPORT, LOG_DIR), the report written through a non-regular file, step logs that never
//! follow a planted symlink, lint's errors refusing a run, the user's docker environment
//! checked by the preflight, and KEEP_GOING.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::*;

fn world(tag: &str) -> World {
    let w = World::new(tag);
    w.image("alpha", "1.0");
    w.image("beta", "2.0");
    w
}

fn xtask(w: &World, args: &[&str]) -> Command {
    let mut c = w.xtask();
    c.args(args)
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376");
    c
}

/// Exit 2, the last line xtask's bad-input line, `want` in the message, no docker work.
fn refused(w: &World, o: &std::process::Output, want: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(want), "want {want:?} in: {err}");
    assert!(
        err.trim_end().ends_with("xtask: exit 2 (bad input)"),
        "{err}"
    );
    assert!(w.mutating_calls().is_empty(), "{:?}", w.mutating_calls());
}

// ---- §4 settings silently ignored or misread ----

#[test]
fn an_idle_timeout_below_the_check_interval_is_enforced() {
    // Before: silence was looked at only every STEP_IDLE_CHECK (30 s), so a 1 s limit ended
    // the step after 30 s.
    let w = world("idle");
    let start = Instant::now();
    let o = run(xtask(&w, &["sub-build-alpha"])
        .env("FAKE_DOCKER_SLEEP", "600")
        .env("STEP_IDLE_CHECK", "30")
        .env("STEP_IDLE_TIMEOUT", "1"));
    let took = start.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("(limit: STEP_IDLE_TIMEOUT)"), "{err}");
    assert!(took < Duration::from_secs(15), "{took:?}: {err}");
}

#[test]
fn isolation_in_compat_mode_is_warned_about() {
    let w = world("isocompat");
    for v in ["process", "auto"] {
        let o = run(xtask(&w, &["plan", "all-build"]).env("ISOLATION", v));
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!(
                "warning: ISOLATION={v} means nothing without OS_VERSIONS"
            )),
            "{err}"
        );
    }
    // hyperv does change compat mode's argv: no warning.
    let o = run(xtask(&w, &["plan", "all-build"]).env("ISOLATION", "hyperv"));
    assert!(!stderr(&o).contains("means nothing"), "{}", stderr(&o));
    assert!(stdout(&o).contains("--isolation"), "{}", stdout(&o));
}

#[test]
fn a_release_name_in_another_case_is_refused() {
    let w = world("relcase");
    for v in ["LTSC2022=20348", "ltsc2022 Ltsc2025=30000", "LTSC2022"] {
        let o = run(xtask(&w, &["push-as-linux"]).env("OS_VERSIONS", v));
        refused(&w, &o, "OS_VERSIONS=");
        assert!(stderr(&o).contains("case-sensitive"), "{}", stderr(&o));
    }
}

#[test]
fn a_build_of_only_cache_only_images_says_why_nothing_ran() {
    let w = World::new("cacheonlybuild");
    let d = w.images().join("core");
    write(&d.join("VERSION"), "1.0\n");
    write(
        &d.join("Dockerfile"),
        "ARG BASEIMAGE\nFROM --platform=windows/amd64 $BASEIMAGE AS core\nFROM scratch\nCOPY --from=core /x /x\n",
    );
    write(
        &d.join("BASEIMAGE"),
        "linux/amd64/1809=mcr.microsoft.com/windows/servercore:ltsc2019\n",
    );
    for target in ["all-build", "all-push"] {
        let o = run(&mut xtask(&w, &[target]));
        let err = stderr(&o);
        assert!(o.status.success(), "{err}");
        assert!(
            err.contains(&format!(
                "{target} has nothing to run for core: it is cache-only"
            )) && err.contains("all-push-as-linux"),
            "{target}: {err}"
        );
    }
    assert!(w.mutating_calls().is_empty(), "{:?}", w.mutating_calls());
}

/// A path that exists and is no regular file, for tests that must not touch it.
#[allow(dead_code)]
fn is_char_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    fs::metadata(p).is_ok_and(|m| m.file_type().is_char_device())
}
