//! Issue 19 §2–§4 against a fake docker: settings that were silently ignored or misread
//! (STEP_IDLE_TIMEOUT below STEP_IDLE_CHECK, ISOLATION in compat mode, a release name in the
//! wrong case, a build of only cache-only images), the output paths checked before the first
//! step (REPORT, LOG_DIR), the report written through a non-regular file, step logs that never
//! follow a planted symlink, lint's errors refusing a run, the user's docker environment
//! checked by the preflight, and KEEP_GOING.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

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

/// Exit 2, the last line xtask's bad-input line, `want` in the message, no docker work (only
/// read-only queries: versions, inspects).
fn refused(w: &World, o: &std::process::Output, want: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(want), "want {want:?} in: {err}");
    assert!(
        err.trim_end().ends_with("xtask: exit 2 (bad input)"),
        "{err}"
    );
    assert!(w.work_calls().is_empty(), "{:?}", w.work_calls());
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
    // Named: compat mode's default set leaves a cache-only image out by itself (and says so).
    for target in ["all-build", "all-push"] {
        let o = run(&mut xtask(&w, &[target, "core"]));
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

// ---- §2 output paths checked before the first step, §3 writing files ----

fn is_char_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    fs::metadata(p).is_ok_and(|m| m.file_type().is_char_device())
}

#[test]
fn a_report_through_a_link_to_dev_null_leaves_dev_null_a_device() {
    // Before: the temp-and-rename put a regular file where the link was (and, given
    // /dev/null itself as root, where /dev/null was). Only a link is handed to xtask here.
    let w = world("devnull");
    let link = w.root().join("report-link");
    std::os::unix::fs::symlink("/dev/null", &link).expect("symlink");
    let o = run(xtask(&w, &["push-as-linux"]).env("REPORT", &link));
    assert!(o.status.success(), "{}", stderr(&o));
    let meta = fs::symlink_metadata(&link).expect("link");
    assert!(
        meta.file_type().is_symlink(),
        "the link was replaced: {meta:?}"
    );
    assert!(
        is_char_device(Path::new("/dev/null")),
        "/dev/null is no device"
    );
    assert_eq!(fs::metadata("/dev/null").map(|m| m.len()).ok(), Some(0));
}

#[test]
fn a_report_into_a_fifo_is_written_through_it() {
    let w = world("fifo");
    let fifo = w.root().join("report.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // The reader: opening blocks until a writer opens the FIFO.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(fs::read_to_string(&path));
    });
    let o = run(xtask(&w, &["push-as-linux"]).env("REPORT", &fifo));
    let got = rx.recv_timeout(Duration::from_secs(10));
    if got.is_err() {
        // Let the reader go: nobody wrote through the FIFO.
        let _ = fs::OpenOptions::new().write(true).open(&fifo);
    }
    assert!(o.status.success(), "{}", stderr(&o));
    let text = got
        .expect("the report came through the FIFO")
        .expect("read");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["result"], "succeeded");
    use std::os::unix::fs::FileTypeExt;
    let meta = fs::symlink_metadata(&fifo).expect("fifo");
    assert!(meta.file_type().is_fifo(), "replaced: {meta:?}");
}

#[test]
fn a_report_into_a_fifo_nobody_reads_does_not_hang_the_run() {
    let w = world("fifonoreader");
    let fifo = w.root().join("report.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let start = Instant::now();
    let o = run(xtask(&w, &["push-as-linux"]).env("REPORT", &fifo));
    assert!(start.elapsed() < Duration::from_secs(30));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("the run report was not written") && err.contains("no reader"),
        "{err}"
    );
}

#[test]
fn step_logs_never_follow_a_planted_symlink() {
    // Before: File::create followed a link at a log's name and wrote the step's output into
    // its target.
    let w = world("loglink");
    let logs = w.root().join("logs");
    fs::create_dir_all(&logs).expect("logs");
    let victim = w.root().join("victim");
    fs::write(&victim, "precious\n").expect("victim");
    for name in [
        "1-build-alpha.log",
        "01-build-alpha.log",
        "02-build-beta.log",
    ] {
        std::os::unix::fs::symlink(&victim, logs.join(name)).expect("symlink");
    }
    let o = run(xtask(&w, &["all-build"]).env("LOG_DIR", &logs));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&victim).expect("victim"), "precious\n");
    let log = logs.join("01-build-alpha.log");
    assert!(!fs::symlink_metadata(&log)
        .expect("log")
        .file_type()
        .is_symlink());
    assert!(fs::read_to_string(&log).expect("log").contains("# step 1/"));
}

#[test]
fn an_unwritable_log_folder_is_refused_before_the_first_step() {
    // /proc/self exists and is a folder no file can be created in (root included). Before: the
    // run went ahead with a warning that its logs were incomplete.
    let w = world("logunwritable");
    for (k, v) in [("LOG_DIR", "/proc/self"), ("LOG_DIR", "/proc/self/")] {
        let o = run(xtask(&w, &["push-as-linux"]).env(k, v));
        refused(&w, &o, "a step log cannot be written in it");
        let o = run(xtask(&w, &["push-as-linux", "--quiet"]).env(k, v));
        refused(&w, &o, "LOG_DIR=");
    }
    // Quiet mode's own folder, under CARGO_TARGET_DIR.
    let o = run(xtask(&w, &["push-as-linux", "--quiet"]).env("CARGO_TARGET_DIR", "/proc/self"));
    refused(&w, &o, "QUIET's log folder");
}

#[test]
fn output_paths_that_collide_or_cannot_be_written_are_refused() {
    let w = world("outputs");
    let logs = w.root().join("logs");
    fs::create_dir_all(&logs).expect("logs");
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        // The report at one of this run's own step logs (in a run of 6 steps).
        (
            vec![
                ("LOG_DIR", logs.display().to_string()),
                (
                    "REPORT",
                    logs.join("03-push-alpha.log").display().to_string(),
                ),
            ],
            "is step 3's own log",
        ),
        // The same path for both (through another spelling).
        (
            vec![
                ("LOG_DIR", logs.join("x").display().to_string()),
                ("REPORT", format!("{}/./x", logs.display())),
            ],
            "is the step-log folder",
        ),
        // Inside an image folder: the build context would change every run.
        (
            vec![(
                "LOG_DIR",
                w.images().join("alpha/logs").display().to_string(),
            )],
            "lies inside the image folder",
        ),
        (
            vec![(
                "REPORT",
                w.images().join("beta/run.json").display().to_string(),
            )],
            "lies inside the image folder",
        ),
        // A name with no room for the temporary `.NAME.tmp-PID`.
        (
            vec![(
                "REPORT",
                w.root().join("r".repeat(250)).display().to_string(),
            )],
            "cannot be written",
        ),
    ];
    for (env, want) in cases {
        let o = run(xtask(&w, &["push-as-linux"]).envs(env.iter().map(|(k, v)| (*k, v))));
        refused(&w, &o, want);
    }
    // An image the run does not select is still an image folder.
    let o =
        run(xtask(&w, &["push-as-linux", "alpha"]).env("LOG_DIR", w.images().join("beta/logs")));
    refused(&w, &o, "lies inside the image folder");
    // Nothing was created in the image folders.
    assert!(!w.images().join("alpha/logs").exists());
    assert!(!w.images().join("beta/logs").exists());
}

#[test]
fn a_run_that_published_everything_is_not_failed_by_its_report() {
    // The report's folder disappears during the run (removed by the fake docker at the last
    // push). Before: exit 1 after every image was pushed.
    let w = world("reportlate");
    let out = w.root().join("out");
    fs::create_dir_all(&out).expect("out");
    let hook = w.root().join("hook.sh");
    fs::write(
        &hook,
        format!(
            "if [[ \" $* \" == *' buildx build '* && \" $* \" == *beta* ]]; then rm -rf '{}'; fi\n",
            out.display()
        ),
    )
    .expect("hook");
    let o = run(xtask(&w, &["push-as-linux"])
        .env("REPORT", out.join("run.json"))
        .env("FAKE_DOCKER_HOOK", &hook));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("warning: every step succeeded, but the run report was not written"),
        "{err}"
    );
}

// ---- §2 lint's errors refuse a run ----

#[test]
fn lint_errors_refuse_the_run_before_the_node_builds_anything() {
    // Before: the node image was built and pushed, and the run failed at the cache step.
    let w = world("linterr");
    let beta = w.images().join("beta");
    write(
        &beta.join("Dockerfile"),
        "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE AS src\nWORKDIR C:\\\\out\nFROM scratch\nCOPY --from=src /out /out\n",
    );
    for target in ["push-as-linux", "sub-repush-as-linux-beta", "all-build"] {
        let o = run(&mut xtask(&w, &[target]));
        refused(&w, &o, &format!("{}:3=", beta.join("Dockerfile").display()));
        assert!(
            stderr(&o).contains("WORKDIR in a Windows stage"),
            "{}",
            stderr(&o)
        );
        // Not even the read-only checks ran.
        assert!(w.calls().is_empty(), "{:?}", w.calls());
    }
    // A version ARG that is not VERSION.
    let w = world("linterr2");
    let alpha = w.images().join("alpha");
    write(
        &alpha.join("Dockerfile_windows"),
        "# xtask: version-arg=APP_VERSION\nARG APP_VERSION=0.9\nFROM mcr.microsoft.com/windows/nanoserver:1809\nCOPY payload/ /payload/\n",
    );
    let o = run(&mut xtask(&w, &["sub-push-alpha"]));
    refused(&w, &o, "Dockerfile_windows:2=\"ARG APP_VERSION=0.9\"");
    // --dry-run shows the plan and the same error.
    let o = run(&mut xtask(&w, &["sub-push-alpha", "--dry-run"]));
    refused(&w, &o, "differs from VERSION");
    assert!(stdout(&o).contains(" push "), "{}", stdout(&o));
}

// ---- §2 the user's docker environment, checked by the preflight ----

/// A FAKE_DOCKER_HOOK file with `body`.
fn hook(w: &World, body: &str) -> std::path::PathBuf {
    let p = w.root().join("hook.sh");
    fs::write(&p, body).expect("hook");
    p
}

#[test]
fn a_docker_environment_that_sends_local_work_elsewhere_is_refused() {
    // Before: each of these let the node build and push, then failed at the cache step.
    let w = world("dockerenv");
    let o = run(xtask(&w, &["push-as-linux"]).env("DOCKER_HOST", "tcp://WINBUILD:2376/"));
    refused(
        &w,
        &o,
        "DOCKER_HOST=\"tcp://WINBUILD:2376/\": names the Windows node",
    );

    let o = run(xtask(&w, &["push-as-linux"])
        .env("DOCKER_CONTEXT", "nosuch")
        .env("FAKE_DOCKER_FAIL", " context inspect "));
    refused(&w, &o, "DOCKER_CONTEXT=\"nosuch\": no such docker context");

    let o = run(xtask(&w, &["push-as-linux"])
        .env("BUILDX_BUILDER", "nosuch")
        .env("FAKE_DOCKER_FAIL", " buildx inspect "));
    refused(&w, &o, "BUILDX_BUILDER=\"nosuch\": no such buildx builder");

    // DOCKER_TLS_VERIFY with this machine's plain socket: `docker version` still answers, but
    // buildx speaks https to the socket; `buildx inspect` says so in an Error: line, exit 0
    // (as seen on the stack), and every cache build would fail.
    let h = hook(
        &w,
        "if [[ \"$1 $2\" == 'buildx inspect' && -n ${DOCKER_TLS_VERIFY:-} ]]; then printf 'Name: default\\nError:         error during connect: Head \"https://%%2Fsock/_ping\": dial tcp: lookup /sock: no such host\\n'; exit 0; fi\n",
    );
    let o = run(xtask(&w, &["push-as-linux"])
        .env("DOCKER_TLS_VERIFY", "1")
        .env("FAKE_DOCKER_HOOK", &h));
    refused(
        &w,
        &o,
        "DOCKER_TLS_VERIFY=\"1\": buildx cannot reach the daemon",
    );
    assert!(
        stderr(&o).contains("error during connect"),
        "{}",
        stderr(&o)
    );
    // The daemon itself not answering with it.
    let h = hook(
        &w,
        "if [[ $1 == version ]]; then echo 'Error: http: server gave HTTP response to HTTPS client' >&2; exit 1; fi\n",
    );
    let o = run(xtask(&w, &["push-as-linux"])
        .env("DOCKER_TLS_VERIFY", "0")
        .env("FAKE_DOCKER_HOOK", &h));
    refused(
        &w,
        &o,
        "DOCKER_TLS_VERIFY=\"0\": the local docker does not answer",
    );

    // A context that exists but is a Windows node.
    let h = hook(
        &w,
        "if [[ $1 == version ]]; then printf '{\"Os\":\"windows\",\"KernelVersion\":\"10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)\"}\\n'; exit 0; fi\n",
    );
    let o = run(xtask(&w, &["push-as-linux"])
        .env("DOCKER_CONTEXT", "win")
        .env("FAKE_DOCKER_HOOK", &h));
    refused(&w, &o, "is a Windows daemon");

    // The same environment is fine for a run with no local step (only node work).
    let o = run(xtask(&w, &["all-push"])
        .env("DOCKER_CONTEXT", "win")
        .env("FAKE_DOCKER_HOOK", &h));
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn buildx_builder_reaches_the_cache_builds_but_not_the_node_builds() {
    // `docker build` is `docker buildx build`: before, BUILDX_BUILDER sent the node's build
    // to that builder instead of the node.
    let w = world("buildxbuilder");
    let seen = w.root().join("builder.log");
    let h = hook(
        &w,
        &format!(
            "printf '%s %s\\n' \"${{BUILDX_BUILDER-unset}}\" \"$*\" >> '{}'\n",
            seen.display()
        ),
    );
    let o = run(xtask(&w, &["push-as-linux"])
        .env("BUILDX_BUILDER", "mine")
        .env("FAKE_DOCKER_HOOK", &h));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&seen).expect("log");
    let node: Vec<&str> = text.lines().filter(|l| l.contains(" -H ")).collect();
    let local: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("buildx build"))
        .collect();
    assert!(
        !node.is_empty() && node.iter().all(|l| l.starts_with("unset ")),
        "{text}"
    );
    assert!(
        !local.is_empty() && local.iter().all(|l| l.starts_with("mine ")),
        "{text}"
    );
}

// ---- §2 KEEP_GOING ----

/// The run report's (image, kind, state) per step.
fn report_states(path: &Path) -> Vec<(String, String, String)> {
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).expect("report")).expect("JSON");
    v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            let f = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            (f("image"), f("kind"), f("state"))
        })
        .collect()
}

#[test]
fn keep_going_runs_independent_images_after_a_failure_and_names_every_failure() {
    // Before: KEEP_GOING, -k and make's -k meant nothing; the first failure stopped the run.
    let fail_alpha_build = " -t 127.0.0.1:5000/e2e/alpha:1.0 ";
    for how in [
        vec![("KEEP_GOING", "1")],
        vec![("MAKEFLAGS", "k -j2 --jobserver-auth=3,4")],
        vec![],
    ] {
        let w = world("keepgoing");
        let report = w.root().join("run.json");
        let mut c = xtask(&w, &["push-as-linux"]);
        c.env("REPORT", &report)
            .env("FAKE_DOCKER_FAIL", fail_alpha_build);
        if how.is_empty() {
            c.arg("-k");
        }
        let o = run(c.envs(how.iter().copied()));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{how:?}: {err}");
        let states = report_states(&report);
        let state = |img: &str, kind: &str| {
            states
                .iter()
                .find(|s| s.0 == img && s.1 == kind)
                .map(|s| s.2.clone())
                .unwrap_or_default()
        };
        assert_eq!(state("alpha", "build"), "failed", "{states:?}");
        // What depends on the failed build never started; beta went all the way.
        assert_eq!(state("alpha", "push"), "not-started", "{states:?}");
        assert_eq!(state("alpha", "cache"), "not-started", "{states:?}");
        for kind in ["build", "push", "cache"] {
            assert_eq!(state("beta", kind), "ok", "{how:?} {states:?}");
        }
        assert!(err.contains("step 1/6 failed: build"), "{err}");
    }

    // Without it, the first failure stops the run: beta is not built.
    let w = world("nokeepgoing");
    let o = run(xtask(&w, &["push-as-linux"]).env("FAKE_DOCKER_FAIL", fail_alpha_build));
    assert_eq!(o.status.code(), Some(1));
    assert!(!w.calls().iter().any(|c| c.join(" ").contains("beta:2.0 ")));
}

#[test]
fn keep_going_with_two_failures_names_both_and_holds_back_the_list() {
    let w = world("keepgoing2");
    let report = w.root().join("run.json");
    // alpha's ltsc2022 build and beta's 1809 cache fail.
    let h = hook(
        &w,
        "if [[ \" $* \" == *'alpha:1.0-windows-amd64-ltsc2022 '* && \" $* \" == *' build '* ]] || [[ \" $* \" == *'beta:2.0-linux-amd64-1809 '* ]]; then echo 'fake: failing' >&2; exit 1; fi\n",
    );
    let o = run(xtask(&w, &["push-as-linux", "-k"])
        .env("OS_VERSIONS", "1809 ltsc2022")
        .env("REPORT", &report)
        .env("FAKE_DOCKER_HOOK", &h));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // (beta's list fails too: the fake docker answers no list lookups.)
    assert!(
        err.contains(" steps failed: 3 (alpha), 14 (beta)")
            && err.contains("step 3/16 failed: build")
            && err.contains("step 14/16 failed: cache"),
        "{err}"
    );
    let states = report_states(&report);
    // Neither image's list: alpha lacks ltsc2022's push, beta its 1809 cache (the plain
    // cache tag waits for it).
    let lists: Vec<_> = states.iter().filter(|s| s.1 == "manifest-list").collect();
    assert!(!lists.is_empty(), "{states:?}");
    for l in states
        .iter()
        .filter(|s| s.0 == "alpha" && s.1 == "manifest-list")
    {
        assert_eq!(l.2, "not-started", "{states:?}");
    }
    // alpha's 1809 side went on.
    assert!(
        states
            .iter()
            .any(|s| s.0 == "alpha" && s.1 == "cache" && s.2 == "ok"),
        "{states:?}"
    );
}
