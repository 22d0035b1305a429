//! The executor against a fake docker on PATH: upstream's order, progress lines and summary,
//! a failure mid-way stops the run (exit 1, step and image named, later steps not started).

use crate::support::*;

fn world() -> World {
    let w = World::new("exec");
    w.image("alpha", "1.0");
    w.image("beta", "2.0");
    w.image("gamma", "3.0");
    w
}

fn xtask(w: &World, args: &[&str]) -> std::process::Command {
    let mut c = w.xtask();
    c.args(args)
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376");
    c
}

/// The docker calls the plan says TARGET makes, argv[0] dropped.
fn planned(w: &World, target: &str) -> Vec<Vec<String>> {
    let o = run(&mut xtask(w, &["plan", target]));
    bash_argvs(&stdout(&o))
        .into_iter()
        .map(|a| a[1..].to_vec())
        .collect()
}

#[test]
fn runs_the_plan_in_upstream_order() {
    let w = world();
    let o = run(&mut xtask(&w, &["push-as-linux"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(w.mutating_calls(), planned(&w, "all-push-as-linux"));
    let err = stderr(&o);
    assert!(
        err.contains("[1/9] build 127.0.0.1:5000/e2e/alpha:1.0 (alpha)"),
        "{err}"
    );
    assert!(
        err.contains("[9/9] cache 127.0.0.1:5000/e2e/gamma:3.0-linux-cache (gamma)"),
        "{err}"
    );
    assert!(
        err.contains("summary all-push-as-linux: 9 ok, 0 failed"),
        "{err}"
    );
    // docker's own output streams through.
    assert!(stdout(&o).contains("fake docker: buildx build ok"));
}

#[test]
fn make_names_and_sub_targets_run_only_their_step() {
    let w = world();
    let o = run(&mut xtask(&w, &["all-build"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(w.mutating_calls(), planned(&w, "all-build"));

    let w = world();
    let o = run(&mut xtask(&w, &["sub-push-beta"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let calls = w.mutating_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0][9..], ["push", "127.0.0.1:5000/e2e/beta:2.0"]);

    // The cache step alone needs no node.
    let w = world();
    let o = run(w
        .xtask()
        .args(["sub-repush-as-linux", "gamma"])
        .env("REGISTRY", "127.0.0.1:5000/e2e"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(w.mutating_calls(), planned(&w, "sub-repush-as-linux-gamma"));
}

#[test]
fn a_failure_mid_way_stops_the_run() {
    let w = world();
    let o =
        run(xtask(&w, &["push-as-linux"])
            .env("FAKE_DOCKER_FAIL", " push 127.0.0.1:5000/e2e/beta:2.0 "));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let all = planned(&w, "all-push-as-linux");
    // Three builds, alpha's push, beta's failed push; nothing after it.
    assert_eq!(w.mutating_calls(), all[..5].to_vec());
    let err = stderr(&o);
    assert!(
        err.contains("step 5/9 failed: push 127.0.0.1:5000/e2e/beta:2.0 (image beta, node)"),
        "{err}"
    );
    assert!(err.contains("fake docker: failing on purpose"), "{err}");
    assert!(
        err.contains("summary all-push-as-linux: 4 ok, 1 failed, 0 stopped, 4 not started"),
        "{err}"
    );
}

#[test]
fn a_permanent_push_error_is_not_retried() {
    // The fake fails with "failing on purpose": not a transient error, so one attempt only.
    let w = world();
    let o = run(xtask(&w, &["sub-push-alpha"]).env("FAKE_DOCKER_FAIL", " push "));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(w.mutating_calls().len(), 1);
}

#[test]
fn a_transient_push_error_is_retried_visibly_until_it_passes() {
    let w = world();
    let o = run(xtask(&w, &["sub-push-alpha"])
        .env("FAKE_DOCKER_FLAKY", " push ")
        .env("FAKE_DOCKER_FLAKY_TIMES", "2"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(w.work_calls().len(), 3);
    let err = stderr(&o);
    assert!(
        err.contains("retry 1/3") && err.contains("retry 2/3"),
        "{err}"
    );
}

#[test]
fn retries_are_bounded_and_a_node_build_is_not_retried() {
    let w = world();
    let o = run(xtask(&w, &["sub-push-alpha"])
        .env("RETRIES", "1")
        .env("FAKE_DOCKER_FLAKY", " push ")
        .env("FAKE_DOCKER_FLAKY_TIMES", "5"));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(w.work_calls().len(), 2);

    let w = world();
    let o = run(xtask(&w, &["sub-build-alpha"]).env("FAKE_DOCKER_FLAKY", " build "));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(w.mutating_calls().len(), 1);
}

#[test]
fn a_node_build_that_lost_a_naming_race_with_another_run_is_built_again() {
    // Two runs building one tag on one containerd-store daemon: the second cannot name it.
    let w = world();
    let o = run(xtask(&w, &["sub-build-alpha"])
        .env("FAKE_DOCKER_FLAKY", " build ")
        .env("FAKE_DOCKER_FLAKY_TIMES", "1")
        .env(
            "FAKE_DOCKER_FLAKY_MSG",
            "ERROR: failed to solve: image \"127.0.0.1:5000/e2e/alpha:1.0\": already exists",
        ));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(w.mutating_calls().len(), 2, "{err}");
    assert!(
        err.contains("another run named the same image at the same moment, retry 1/3"),
        "{err}"
    );
}

/// Waits until the fake docker has logged a call holding `word` (bounded).
fn wait_for_call(w: &World, word: &str) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !w.calls().iter().any(|c| c.iter().any(|a| a == word)) {
        assert!(std::time::Instant::now() < until, "docker never ran {word}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn interrupt(sig: &str, code: i32) {
    let marker = format!("61.{code}{}", std::process::id());
    let w = world();
    let child = xtask(&w, &["push-as-linux"])
        // A duration no other process sleeps for (one per test), to look for it afterwards.
        .env("FAKE_DOCKER_SLEEP", &marker)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for_call(&w, "build");
    let started = std::time::Instant::now();
    let k = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(k.success());
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    // The sleeping docker child was stopped, not waited out.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let err = stderr(&o);
    assert!(
        err.contains("0 ok, 0 failed, 1 stopped, 8 not started"),
        "{err}"
    );
    assert_eq!(w.mutating_calls().len(), 1);
    // None left running: the fake docker (exec'd into `sleep <marker>`) is gone.
    let left = std::process::Command::new("pgrep")
        .args(["-f", &format!("sleep {marker}")])
        .output()
        .expect("pgrep");
    assert!(
        left.stdout.is_empty(),
        "docker child left running: {}",
        stdout(&left)
    );
}

#[test]
fn ctrl_c_stops_the_running_docker_and_exits_130() {
    interrupt("-INT", 130);
}

#[test]
fn sigterm_stops_the_running_docker_and_exits_143() {
    interrupt("-TERM", 143);
}

#[test]
fn matrix_builds_on_different_nodes_run_at_the_same_time() {
    let w = World::new("parallel");
    w.image("alpha", "1.0");
    let matrix = |c: &mut std::process::Command| {
        c.env("OS_VERSIONS", "1809 ltsc2022")
            .env("REMOTE_DOCKER_URL_ltsc2022", "tcp://win2022:2376")
            .env("FAKE_DOCKER_RENDEZVOUS", "2");
    };
    // Each build waits for the other: only a parallel run gets through.
    let mut c = xtask(&w, &["build"]);
    matrix(&mut c);
    let o = run(&mut c);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    // Interleaved output stays readable: every docker line says whose it is.
    assert!(
        stdout(&o).lines().all(|l| l.starts_with("[alpha ")),
        "{}",
        stdout(&o)
    );
    assert!(
        err.contains("[alpha 1809] ") || stdout(&o).contains("[alpha 1809] "),
        "{err}"
    );
    assert!(
        err.contains("node 1809") && err.contains("node ltsc2022"),
        "{err}"
    );

    // One step at a time (-j 1), the same plan deadlocks the rendezvous and fails.
    let w2 = World::new("serial");
    w2.image("alpha", "1.0");
    let mut c = xtask(&w2, &["build", "-j", "1"]);
    matrix(&mut c);
    c.env("FAKE_DOCKER_RENDEZVOUS_WAIT", "100");
    let o = run(&mut c);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("builds did not run concurrently"));
}

#[test]
fn sighup_stops_the_running_docker_and_exits_129() {
    interrupt("-HUP", 129);
}

/// Whether a process runs `sleep <marker>`.
fn sleeping(marker: &str) -> bool {
    let o = std::process::Command::new("pgrep")
        .args(["-f", &format!("sleep {marker}")])
        .output()
        .expect("pgrep");
    !o.stdout.is_empty()
}

/// Waits (bounded by `limit`) until `f` holds; how long that took, or None.
fn within(limit: std::time::Duration, f: impl Fn() -> bool) -> Option<std::time::Duration> {
    let t = std::time::Instant::now();
    while t.elapsed() < limit {
        if f() {
            return Some(t.elapsed());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

#[test]
fn docker_children_die_with_xtask_even_when_it_is_killed_hard() {
    let marker = format!("71.{}", std::process::id());
    let w = world();
    let mut child = xtask(&w, &["push-as-linux"])
        .env("FAKE_DOCKER_SLEEP", &marker)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let secs = std::time::Duration::from_secs;
    assert!(
        within(secs(20), || sleeping(&marker)).is_some(),
        "the build never started"
    );
    let k = std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(k.success());
    let _ = child.wait();
    let gone = within(secs(5), || !sleeping(&marker));
    assert!(gone.is_some(), "the docker child outlived xtask");
    assert!(gone < Some(secs(2)), "took {gone:?}");
}

#[test]
fn a_signal_inside_a_list_step_starts_no_further_docker_command() {
    let marker = format!("72.{}", std::process::id());
    let w = World::new("list-signal");
    w.image("alpha", "1.0");
    let child = xtask(&w, &["sub-push", "alpha"])
        .env("OS_VERSIONS", "1809 ltsc2022")
        .env("REMOTE_DOCKER_URL_ltsc2022", "tcp://win2022:2376")
        // The list step's first lookup hangs: the signal comes while it runs.
        .env("FAKE_DOCKER_SLEEP", &marker)
        .env("FAKE_DOCKER_SLEEP_ON", " imagetools ")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let secs = std::time::Duration::from_secs;
    assert!(
        within(secs(20), || sleeping(&marker)).is_some(),
        "the list step never started"
    );
    let before = w.calls().len();
    let k = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(k.success());
    let o = child.wait_with_output().expect("wait");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert_eq!(w.calls().len(), before, "{:?}", &w.calls()[before..]);
    assert!(!w.calls().iter().any(|c| c.contains(&"create".to_string())));
    assert!(
        err.contains("2 ok, 0 failed, 1 stopped, 0 not started"),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains(" stopped ") && l.contains("manifest-list")),
        "{err}"
    );
    assert!(!err.contains("FAILED"), "{err}");
}

#[test]
fn a_closed_stdout_stops_the_run_quietly_with_141() {
    let marker = format!("73.{}", std::process::id());
    let w = World::new("epipe");
    w.image("alpha", "1.0");
    // Node 1809's build prints a line on stdout at once; ltsc2022's runs on, silent.
    let mut child = xtask(&w, &["build"])
        .env("OS_VERSIONS", "1809 ltsc2022")
        .env("REMOTE_DOCKER_URL_ltsc2022", "tcp://win2022:2376")
        .env("FAKE_DOCKER_SLEEP", &marker)
        .env("FAKE_DOCKER_SLEEP_ON", "tcp://win2022:2376 build ")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // The reader goes away, as `| head -1` does.
    drop(child.stdout.take());
    let t = std::time::Instant::now();
    let o = child.wait_with_output().expect("wait");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("output closed (SIGPIPE), stopping running steps"),
        "{err}"
    );
    assert!(err.contains("1 ok, 0 failed, 1 stopped"), "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    assert!(!sleeping(&marker), "a docker child was left running");
}

/// Runs `c`, returning its output and how long it took.
fn timed(c: &mut std::process::Command) -> (std::process::Output, std::time::Duration) {
    let t = std::time::Instant::now();
    let o = run(c);
    (o, t.elapsed())
}

#[test]
fn a_wedged_node_ends_the_run_naming_the_node_and_the_variable() {
    let w = world();
    // The node answers the probe before the run, then, once the build started, accepts and
    // never answers: the build and `docker version` hang.
    let (o, took) = timed(
        xtask(&w, &["push-as-linux"])
            .env("FAKE_DOCKER_SLEEP", "600")
            .env("FAKE_DOCKER_SLEEP_ON", "tcp://winbuild:2376")
            .env("FAKE_DOCKER_WEDGE_AFTER", "\x1fbuild\x1f")
            .env("STEP_IDLE_CHECK", "1")
            .env("NODE_TIMEOUT", "1"),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert!(err.contains("step 1/9 failed: build"), "{err}");
    assert!(
        err.contains("node tcp://winbuild:2376 did not answer `docker version` within 1 s")
            && err.contains("(limit: NODE_TIMEOUT)"),
        "{err}"
    );
    assert!(
        err.contains("0 ok, 1 failed, 0 stopped, 8 not started"),
        "{err}"
    );
}

#[test]
fn a_silent_step_on_a_live_node_ends_at_the_idle_limit() {
    let w = world();
    let (o, took) = timed(
        xtask(&w, &["sub-build-alpha"])
            .env("FAKE_DOCKER_SLEEP", "600")
            .env("STEP_IDLE_CHECK", "1")
            .env("STEP_IDLE_TIMEOUT", "3"),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took >= std::time::Duration::from_secs(3), "{took:?}");
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    assert!(
        err.contains("no output for 3 s although node tcp://winbuild:2376 answers")
            && err.contains("(limit: STEP_IDLE_TIMEOUT)"),
        "{err}"
    );
    // The node was asked while the step was silent, and answered.
    let asked = w
        .calls()
        .iter()
        .filter(|c| c.contains(&"version".to_string()))
        .count();
    assert!(asked >= 1, "{:?}", w.calls());
}

#[test]
fn a_wedged_registry_ends_a_push_naming_the_registry_without_retrying() {
    let w = world();
    let (o, took) = timed(
        xtask(&w, &["sub-push-alpha"])
            .env("FAKE_DOCKER_SLEEP", "600")
            .env("FAKE_DOCKER_SLEEP_ON", " push | imagetools ")
            .env("STEP_IDLE_CHECK", "1")
            .env("REGISTRY_TIMEOUT", "1"),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert!(
        err.contains("registry 127.0.0.1:5000 did not answer within 1 s (limit: REGISTRY_TIMEOUT)"),
        "{err}"
    );
    let pushes = w
        .calls()
        .iter()
        .filter(|c| c.contains(&"push".to_string()))
        .count();
    assert_eq!(pushes, 1, "{:?}", w.calls());
}

#[test]
fn a_wedged_registry_ends_the_unchanged_probe_and_verify_within_the_limit() {
    let w = world();
    let (o, took) = timed(
        xtask(&w, &["push-as-linux", "--skip-unchanged"])
            .env("FAKE_DOCKER_SLEEP", "600")
            .env("FAKE_DOCKER_SLEEP_ON", " imagetools ")
            .env("REGISTRY_TIMEOUT", "1"),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert!(
        err.contains("did not answer within 1 s (limit: REGISTRY_TIMEOUT)"),
        "{err}"
    );
    // Nothing was built or pushed.
    assert!(
        w.calls()
            .iter()
            .all(|c| c.contains(&"imagetools".to_string())
                || c.contains(&"version".to_string())
                || c.contains(&"info".to_string())),
        "{:?}",
        w.calls()
    );

    // verify asks about its 6 tags at once: one limit, not six.
    let w = world();
    let (o, took) = timed(
        xtask(&w, &["verify"])
            .env("FAKE_DOCKER_SLEEP", "600")
            .env("FAKE_DOCKER_SLEEP_ON", " imagetools ")
            .env("REGISTRY_TIMEOUT", "2"),
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(took < std::time::Duration::from_secs(6), "{took:?}");
    assert!(
        out.contains("registry 127.0.0.1:5000 did not answer within 2 s (limit: REGISTRY_TIMEOUT)"),
        "{out}"
    );
}

#[test]
fn the_limits_are_validated_before_any_docker_command() {
    for var in [
        "REGISTRY_TIMEOUT",
        "NODE_TIMEOUT",
        "STEP_IDLE_CHECK",
        "STEP_IDLE_TIMEOUT",
    ] {
        for value in ["0", "soon"] {
            let w = world();
            let o = run(xtask(&w, &["push-as-linux"]).env(var, value));
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{var}={value}: {err}");
            assert!(err.contains(&format!("{var}=\"{value}\"")), "{err}");
            assert!(w.calls().is_empty(), "{var}={value}: {:?}", w.calls());
        }
    }
}

#[test]
fn a_transient_error_is_not_retried_against_a_registry_that_does_not_answer() {
    let w = world();
    let (o, took) = timed(
        xtask(&w, &["sub-push-alpha"])
            .env("FAKE_DOCKER_FLAKY", " push ")
            .env("FAKE_DOCKER_FLAKY_MSG", "net/http: TLS handshake timeout")
            .env("FAKE_DOCKER_SLEEP", "600")
            .env("FAKE_DOCKER_SLEEP_ON", " imagetools ")
            .env("REGISTRY_TIMEOUT", "1"),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert!(
        err.contains(
            "registry 127.0.0.1:5000 did not answer within 1 s (limit: REGISTRY_TIMEOUT); not retrying"
        ),
        "{err}"
    );
    assert!(!err.contains("retry 1/3"), "{err}");
    assert_eq!(w.work_calls().len(), 1, "{:?}", w.calls());
}
