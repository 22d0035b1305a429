//! One node for every release, against a fake docker answering as a Windows node of build
//! 17763, 20348 or 26100: the isolation each release's build gets (ISOLATION=auto), the
//! refusal of a release newer than its node before any build, the probe's deadline, one
//! build at a time on a node shared by two releases while its pushes overlap the next build
//! (timestamps in the fake's log), the Hyper-V hint on a failed build, --dry-run's decision,
//! compat mode's untouched argv, and the new variables' bad input.

use std::time::{Duration, Instant};

use crate::support::*;

const RELEASES: &str = "1809 ltsc2022 ltsc2025";

fn world(images: &[&str]) -> World {
    let w = World::new("iso");
    for (i, name) in images.iter().enumerate() {
        w.image(name, &format!("{}.0", i + 1));
    }
    w
}

/// xtask with one node (REMOTE_DOCKER_URL only) for every release of `releases`.
fn on_one_node(w: &World, releases: &str, args: &[&str]) -> std::process::Command {
    let mut c = w.xtask();
    c.args(args)
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("OS_VERSIONS", releases);
    c
}

/// The `--isolation=…` word of each node build, by its OS_VERSION build arg.
fn isolation_by_release(w: &World) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = w
        .mutating_calls()
        .into_iter()
        .filter(|c| c.iter().any(|a| a == "build") && c.iter().any(|a| a == "-H"))
        .map(|c| {
            let os = c
                .iter()
                .find_map(|a| a.strip_prefix("OS_VERSION=").map(String::from))
                .expect("OS_VERSION");
            let iso = c
                .iter()
                .find_map(|a| a.strip_prefix("--isolation=").map(String::from));
            (os, iso)
        })
        .collect();
    out.sort();
    out
}

fn some(os: &str, iso: &str) -> (String, Option<String>) {
    (os.to_string(), Some(iso.to_string()))
}

#[test]
fn a_2025_host_builds_every_release_older_ones_under_hyperv() {
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, RELEASES, &["build"]).env("FAKE_NODE_BUILD", "26100"));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        isolation_by_release(&w),
        vec![
            some("1809", "hyperv"),
            some("ltsc2022", "process"),
            some("ltsc2025", "process")
        ]
    );
    // The run says what it decided, and why, before the builds.
    assert!(
        err.contains(
            "xtask: isolation: node tcp://winbuild:2376 (Windows build 26100): 1809 → --isolation=hyperv"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "ltsc2022 → --isolation=process (a Windows Server 2025 host runs ltsc2022 containers)"
        ),
        "{err}"
    );
    // Asked once, though three releases name it.
    assert_eq!(w.probes(), vec!["tcp://winbuild:2376".to_string()]);
}

#[test]
fn a_2022_host_builds_1809_under_hyperv_and_ltsc2022_with_process() {
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, "1809 ltsc2022", &["build"]).env("FAKE_NODE_BUILD", "20348"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        isolation_by_release(&w),
        vec![some("1809", "hyperv"), some("ltsc2022", "process")]
    );
}

#[test]
fn a_2019_host_builds_1809_with_process_isolation() {
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, "1809", &["build"]).env("FAKE_NODE_BUILD", "17763"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(isolation_by_release(&w), vec![some("1809", "process")]);
}

#[test]
fn a_release_newer_than_its_node_is_refused_before_any_build() {
    for (host, refused) in [("20348", "ltsc2025"), ("17763", "ltsc2022")] {
        let w = world(&["alpha", "beta"]);
        let o = run(on_one_node(&w, RELEASES, &["push-as-linux"]).env("FAKE_NODE_BUILD", host));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("OS_VERSIONS=\"{refused}\""))
                && err.contains("node tcp://winbuild:2376")
                && err.contains(&format!("Windows build {host}")),
            "{err}"
        );
        assert!(err.contains("hint:"), "{err}");
        // The node was asked, read-only; nothing was built, pushed or cached.
        assert_eq!(w.probes().len(), 1);
        assert_eq!(w.mutating_calls(), Vec::<Vec<String>>::new());
    }
    // Forcing an isolation does not make a newer release run.
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, "ltsc2025", &["build"])
        .env("FAKE_NODE_BUILD", "20348")
        .env("ISOLATION", "hyperv"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(w.mutating_calls().is_empty());
}

#[test]
fn forced_isolation_is_written_for_every_build() {
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, "1809 ltsc2022", &["build"])
        .env("FAKE_NODE_BUILD", "26100")
        .env("ISOLATION", "process"));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        isolation_by_release(&w),
        vec![some("1809", "process"), some("ltsc2022", "process")]
    );
    // 1809 on a 2025 host runs only under Hyper-V: said before the build.
    assert!(
        err.contains("warning: ISOLATION=process on node tcp://winbuild:2376"),
        "{err}"
    );
}

#[test]
fn a_linux_stand_in_builds_without_an_isolation_flag_and_says_so() {
    // The fake answers as the stack's Linux dockerd when no build is given.
    let w = world(&["alpha"]);
    let o = run(&mut on_one_node(&w, "1809 ltsc2022", &["build"]));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        isolation_by_release(&w),
        vec![("1809".into(), None), ("ltsc2022".into(), None)]
    );
    assert!(
        err.contains("(a stand-in: Os linux): 1809 → no --isolation flag"),
        "{err}"
    );
}

#[test]
fn compat_mode_keeps_upstreams_argv_on_any_node() {
    let w = world(&["alpha"]);
    let mut c = w.xtask();
    c.args(["push-as-linux"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("FAKE_NODE_BUILD", "26100");
    let o = run(&mut c);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let plan = run(w
        .xtask()
        .args(["plan", "all-push-as-linux"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    let planned: Vec<Vec<String>> = bash_argvs(&stdout(&plan))
        .into_iter()
        .map(|a| a[1..].to_vec())
        .collect();
    assert_eq!(w.mutating_calls(), planned);
    assert!(!stdout(&plan).contains("--isolation"));
    // The node is not 1809's: said, not changed.
    assert!(
        err.contains("warning: compat mode builds 1809 images") && err.contains("26100"),
        "{err}"
    );
}

#[test]
fn a_node_that_does_not_answer_ends_the_run_before_any_build() {
    let w = world(&["alpha"]);
    let t = Instant::now();
    let o = run(on_one_node(&w, "1809 ltsc2022", &["push-as-linux"])
        .env("FAKE_DOCKER_SLEEP", "30")
        // The probe, not the buildx check (`buildx version`, which has no deadline).
        .env("FAKE_DOCKER_SLEEP_ON", " info --format ")
        .env("NODE_TIMEOUT", "1"));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(
        err.contains("node tcp://winbuild:2376 (for 1809, ltsc2022) did not answer")
            && err.contains("within 1 s")
            && err.contains("NODE_TIMEOUT"),
        "{err}"
    );
    assert!(w.mutating_calls().is_empty());
    // Compat mode probes its node the same way.
    let w = world(&["alpha"]);
    let o = run(w
        .xtask()
        .args(["build"])
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("FAKE_DOCKER_FAIL", " info --format ")
        .env("NODE_TIMEOUT", "1"));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("node tcp://winbuild:2376 (compat mode) did not answer")
            && err.contains("failing on purpose"),
        "{err}"
    );
    assert!(w.mutating_calls().is_empty());
}

/// Intervals of the timed steps of one kind on one node.
fn spans(w: &World, kind: &str, url: &str) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = w
        .timed()
        .into_iter()
        .filter(|(k, u, _, _)| k == kind && u == url)
        .map(|(_, _, s, e)| (s, e))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

fn overlaps(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[test]
fn a_node_shared_by_two_releases_builds_one_at_a_time() {
    let w = world(&["alpha", "beta"]);
    let o = run(on_one_node(&w, "1809 ltsc2022", &["build"])
        .env("FAKE_NODE_BUILD", "26100")
        .env("FAKE_DOCKER_TIMED", "1")
        .env("FAKE_BUILD_SECS", "0.4"));
    assert!(o.status.success(), "{}", stderr(&o));
    let builds = spans(&w, "build", "tcp://winbuild:2376");
    assert_eq!(builds.len(), 4, "{:?}", w.timed());
    // Whichever release: no two build spans on the node overlap.
    for (i, a) in builds.iter().enumerate() {
        for b in &builds[i + 1..] {
            assert!(!overlaps(*a, *b), "builds overlap on one node: {builds:?}");
        }
    }
    // NODE_JOBS=2 lets two run at once on it.
    let w = world(&["alpha", "beta"]);
    let o = run(on_one_node(&w, "1809 ltsc2022", &["build"])
        .env("FAKE_NODE_BUILD", "26100")
        .env("NODE_JOBS", "2")
        .env("FAKE_DOCKER_RENDEZVOUS", "2"));
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_node_pushes_image_k_while_it_builds_image_k_plus_1() {
    // Compat mode has no manifest lists, so the fake docker can run every step; -j 2 lets a
    // push run beside a build (compat's default, -j 1, keeps upstream's order).
    let w = world(&["alpha", "beta", "gamma"]);
    let o = run(w
        .xtask()
        .args(["push", "-j", "2"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("FAKE_DOCKER_TIMED", "1")
        // A push shorter than a build, as on a real node: each push fits beside the next build.
        .env("FAKE_BUILD_SECS", "0.8")
        .env("FAKE_PUSH_SECS", "0.4"));
    assert!(o.status.success(), "{}", stderr(&o));
    let url = "tcp://winbuild:2376";
    let builds = spans(&w, "build", url);
    let pushes = spans(&w, "push", url);
    assert_eq!((builds.len(), pushes.len()), (3, 3), "{:?}", w.timed());
    for (i, a) in builds.iter().enumerate() {
        for b in &builds[i + 1..] {
            assert!(
                !overlaps(*a, *b),
                "two builds at once on one node: {builds:?}"
            );
        }
    }
    for k in 0..2 {
        assert!(
            overlaps(pushes[k], builds[k + 1]),
            "push {k} {:?} did not overlap build {} {:?}",
            pushes[k],
            k + 1,
            builds[k + 1]
        );
    }
    // With -j 1 (compat's default) nothing overlaps: upstream's order.
    let w = world(&["alpha", "beta"]);
    let o = run(w
        .xtask()
        .args(["push"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("FAKE_DOCKER_TIMED", "1")
        .env("FAKE_BUILD_SECS", "0.2")
        .env("FAKE_PUSH_SECS", "0.2"));
    assert!(o.status.success(), "{}", stderr(&o));
    let mut all: Vec<(String, f64, f64)> = w
        .timed()
        .into_iter()
        .map(|(k, _, s, e)| (k, s, e))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1));
    let kinds: Vec<&str> = all.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(kinds, ["build", "build", "push", "push"]);
    for pair in all.windows(2) {
        assert!(pair[0].2 <= pair[1].1, "overlap with -j 1: {all:?}");
    }
}

#[test]
fn two_nodes_each_build_one_at_a_time_side_by_side() {
    let w = world(&["alpha", "beta"]);
    let o = run(on_one_node(&w, "1809 ltsc2022", &["build"])
        .env("REMOTE_DOCKER_URL_ltsc2022", "tcp://win2022:2376")
        .env(
            "FAKE_NODE_BUILDS",
            "tcp://winbuild:2376=17763 tcp://win2022:2376=20348",
        )
        .env("FAKE_DOCKER_TIMED", "1")
        .env("FAKE_BUILD_SECS", "0.6"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        isolation_by_release(&w),
        vec![
            some("1809", "process"),
            some("1809", "process"),
            some("ltsc2022", "process"),
            some("ltsc2022", "process")
        ]
    );
    let a = spans(&w, "build", "tcp://winbuild:2376");
    let b = spans(&w, "build", "tcp://win2022:2376");
    assert_eq!((a.len(), b.len()), (2, 2));
    assert!(!overlaps(a[0], a[1]) && !overlaps(b[0], b[1]));
    assert!(
        overlaps(a[0], b[0]),
        "the nodes did not build at once: {a:?} {b:?}"
    );
}

#[test]
fn a_failed_hyperv_build_hints_at_the_hyperv_role() {
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, "1809", &["build"])
        .env("FAKE_NODE_BUILD", "26100")
        .env("FAKE_DOCKER_FAIL", " --isolation=hyperv "));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("hint: this build ran with Hyper-V isolation")
            && err.contains("Hyper-V role")
            && err.contains("nested virtualisation"),
        "{err}"
    );
    // A process-isolated failure gets no such hint.
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, "ltsc2025", &["build"])
        .env("FAKE_NODE_BUILD", "26100")
        .env("FAKE_DOCKER_FAIL", " build "));
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("Hyper-V role"), "{}", stderr(&o));
}

#[test]
fn dry_run_asks_the_nodes_and_shows_the_decision() {
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, RELEASES, &["build", "--dry-run"]).env("FAKE_NODE_BUILD", "26100"));
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "{err}");
    let argvs = bash_argvs(&out);
    let iso: Vec<&str> = argvs
        .iter()
        .filter_map(|a| a.iter().find_map(|x| x.strip_prefix("--isolation=")))
        .collect();
    assert_eq!(iso, vec!["hyperv", "process", "process"], "{out}");
    assert!(
        err.contains("xtask: isolation: node tcp://winbuild:2376"),
        "{err}"
    );
    assert_eq!(w.probes().len(), 1);
    assert!(w.mutating_calls().is_empty());
    // Forced, on a Linux stand-in: what the run does (no flag), not what was forced.
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, "1809", &["build", "--dry-run"]).env("ISOLATION", "process"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("--isolation"), "{}", stdout(&o));
    assert!(w.mutating_calls().is_empty());
    // It refuses what a run would refuse.
    let w = world(&["alpha"]);
    let o = run(on_one_node(&w, RELEASES, &["build", "-n"]).env("FAKE_NODE_BUILD", "20348"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // Without a node set up, the placeholder stays and nothing is asked.
    let w = world(&["alpha"]);
    let o = run(w
        .xtask()
        .args(["build", "--dry-run"])
        .env("OS_VERSIONS", "1809"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("'--isolation=<auto: from node build>'"));
    assert!(stderr(&o).contains("decided from its node's Windows build at run time"));
    assert!(w.calls().is_empty());
}

#[test]
fn the_new_variables_are_checked_before_any_docker_command() {
    for (var, value) in [
        ("ISOLATION", "HyperV"),
        ("NODE_TIMEOUT", "0"),
        ("NODE_TIMEOUT", "10s"),
        ("LOCAL_JOBS", "0"),
        ("NODE_JOBS", "many"),
    ] {
        let w = world(&["alpha"]);
        let o = run(on_one_node(&w, "1809", &["push-as-linux"]).env(var, value));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{var}={value}: {err}");
        assert!(err.contains(&format!("{var}=\"{value}\"")), "{err}");
        assert!(w.calls().is_empty(), "{var}: {:?}", w.calls());
    }
}
