//! Builds keep their isolation on every engine, against a fake docker answering `docker info`
//! as a Windows engine: classic (windowsfilter) or with the containerd image store (BuildKit,
//! FAKE_NODE_STORE=containerd), with a default isolation (FAKE_NODE_ISOLATION). What each
//! node build was run with — its `--isolation` and the `DOCKER_BUILDKIT` in its environment —
//! is recorded by a hook; `plan`/`--dry-run` show the same, the report records it, doctor
//! lists the engine and each release's builder.

use std::fs;

use crate::support::*;
use serde_json::Value;

const RELEASES: &str = "1809 ltsc2022 ltsc2025";

fn world() -> World {
    let w = World::new("engines");
    w.image("alpha", "1.0");
    // Record each node build's DOCKER_BUILDKIT (the fake goes on to answer as usual).
    fs::write(
        w.root().join("hook.sh"),
        r#"if [[ " $* " == *" build "* && " $* " == *" -H "* ]]; then
  os=; for a in "$@"; do [[ $a == OS_VERSION=* ]] && os=${a#OS_VERSION=}; done
  iso=none; for a in "$@"; do [[ $a == --isolation=* ]] && iso=${a#--isolation=}; done
  printf '%s %s %s\n' "${os:-compat}" "$iso" "${DOCKER_BUILDKIT-unset}" >> "$FAKE_DOCKER_LOG.builds"
fi
"#,
    )
    .expect("hook");
    w
}

/// xtask with one node for every release of `releases`, answering as build `build` with
/// image store `store` ("containerd" or "") and default isolation `default`.
fn on(w: &World, releases: &str, build: &str, store: &str, default: &str) -> std::process::Command {
    let mut c = w.xtask();
    c.env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("FAKE_DOCKER_HOOK", w.root().join("hook.sh"))
        .env("FAKE_NODE_BUILD", build)
        .env("FAKE_NODE_STORE", store)
        .env("FAKE_NODE_ISOLATION", default)
        .env("FAKE_NODE_VERSION", "29.1.4");
    if !releases.is_empty() {
        c.env("OS_VERSIONS", releases);
    }
    c
}

/// "release isolation DOCKER_BUILDKIT" per node build, sorted.
fn builds(w: &World) -> Vec<String> {
    let text = fs::read_to_string(w.root().join("docker.log.builds")).unwrap_or_default();
    let mut v: Vec<String> = text.lines().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn a_buildkit_engine_builds_an_older_release_through_the_classic_builder() {
    let w = world();
    let report = w.root().join("report.json");
    let o = run(on(&w, RELEASES, "26100", "containerd", "process")
        .arg("build")
        .env("REPORT", &report));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    // 1809 needs Hyper-V, which BuildKit would drop: the classic builder, with the flag.
    // ltsc2022 and ltsc2025 need process isolation, the daemon's default: BuildKit as is.
    assert_eq!(
        builds(&w),
        vec![
            "1809 hyperv 0",
            "ltsc2022 process unset",
            "ltsc2025 process unset"
        ]
    );
    assert!(
        err.contains(
            "xtask: builder: node tcp://winbuild:2376: 1809 → classic (DOCKER_BUILDKIT=0)"
        ),
        "{err}"
    );
    let doc: Value =
        serde_json::from_str(&fs::read_to_string(&report).expect("report")).expect("JSON");
    let by_os: Vec<(String, String, String)> = doc["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["kind"] == "build")
        .map(|s| {
            (
                s["os_version"].as_str().unwrap_or_default().to_string(),
                s["builder"].as_str().unwrap_or_default().to_string(),
                s["isolation"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        by_os,
        vec![
            (
                "1809".into(),
                "classic (DOCKER_BUILDKIT=0)".into(),
                "hyperv".into()
            ),
            ("ltsc2022".into(), "BuildKit".into(), "process".into()),
            ("ltsc2025".into(), "BuildKit".into(), "process".into()),
        ]
    );
}

#[test]
fn a_hyperv_default_keeps_buildkit_for_the_release_that_needs_it() {
    let w = world();
    let o = run(on(&w, RELEASES, "26100", "containerd", "hyperv").arg("build"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        builds(&w),
        vec![
            "1809 hyperv unset",
            "ltsc2022 process 0",
            "ltsc2025 process 0"
        ]
    );
}

#[test]
fn a_classic_engine_needs_no_change() {
    let w = world();
    let o = run(on(&w, RELEASES, "26100", "", "process").arg("build"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        builds(&w),
        vec![
            "1809 hyperv unset",
            "ltsc2022 process unset",
            "ltsc2025 process unset"
        ]
    );
}

#[test]
fn compat_mode_keeps_upstreams_argv_and_environment_on_a_buildkit_engine() {
    let w = world();
    let o = run(on(&w, "", "17763", "containerd", "process").arg("build"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(builds(&w), vec!["compat none unset"]);
}

#[test]
fn dry_run_and_json_show_the_environment_a_build_needs() {
    let w = world();
    let o = run(on(&w, RELEASES, "26100", "containerd", "process").args(["build", "--dry-run"]));
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("DOCKER_BUILDKIT=0 docker "), "{out}");
    assert!(lines[0].contains("--isolation=hyperv"), "{out}");
    assert!(lines[1].starts_with("docker "), "{out}");
    // The lines still run as bash reads them.
    assert_eq!(bash_argvs(&out).len(), 3, "{out}");
    assert!(w.mutating_calls().is_empty());

    let o = run(on(&w, RELEASES, "26100", "containerd", "process").args([
        "build",
        "--dry-run",
        "--json",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let envs: Vec<&Value> = v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| &s["env"])
        .collect();
    assert_eq!(envs[0]["DOCKER_BUILDKIT"], "0", "{v}");
    assert!(envs[1].as_object().is_some_and(|m| m.is_empty()), "{v}");
}

/// The doctor line for `check` of node 1809, without its padding.
fn doctor_line(out: &str, check: &str) -> String {
    let prefix = format!("node 1809: {check} ");
    out.lines()
        .find_map(|l| {
            l.split_once(&prefix)
                .map(|(_, rest)| rest.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {check} line: {out}"))
}

#[test]
fn doctor_lists_the_engine_and_each_releases_builder() {
    let w = world();
    let o = run(on(&w, "1809", "26100", "containerd", "process").args(["doctor", "build"]));
    let out = stdout(&o);
    assert_eq!(
        doctor_line(&out, "engine"),
        "Docker 29.1.4, BuildKit builder, containerd snapshotter image store, default isolation process"
    );
    assert!(
        doctor_line(&out, "builder").starts_with(
            "1809: classic (DOCKER_BUILDKIT=0) — BuildKit would drop --isolation=hyperv"
        ),
        "{out}"
    );
    let o = run(on(&w, "1809", "26100", "", "process").args(["doctor", "build"]));
    let out = stdout(&o);
    assert_eq!(
        doctor_line(&out, "engine"),
        "Docker 29.1.4, classic builder, windowsfilter image store, default isolation process"
    );
    assert_eq!(
        doctor_line(&out, "builder"),
        "1809: classic — the classic builder sends --isolation=hyperv"
    );
}

#[test]
fn compat_mode_with_forced_hyperv_shows_the_classic_builder_in_a_dry_run() {
    let w = world();
    let o = run(on(&w, "", "26100", "containerd", "process")
        .args(["build", "--dry-run"])
        .env("ISOLATION", "hyperv"));
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = out
        .lines()
        .find(|l| !l.starts_with('#'))
        .expect("a build line");
    assert!(
        line.starts_with("DOCKER_BUILDKIT=0 docker ") && line.contains("--isolation=hyperv"),
        "{out}"
    );
    // And the run does what the dry run said.
    let o = run(on(&w, "", "26100", "containerd", "process")
        .arg("build")
        .env("ISOLATION", "hyperv"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(builds(&w), vec!["compat hyperv 0"]);
}
