//! What a Windows node is asked, on the real stack: every stand-in node sits behind a
//! Windows-persona front (`ci/front.py`, docs/personas.md) that answers as a Windows engine and
//! records every request it saw (method, path, query, header names). These tests run the tool
//! through those fronts and assert on the records: a compat run sends no isolation; a one-host
//! matrix on the Windows Server 2025 classic persona sends hyperv for 1809 and process for
//! ltsc2022 and ltsc2025; the Docker 29 containerd persona builds through BuildKit and pushes
//! indexes with an attestation, over which lists and verify still work; each persona answers
//! `docker version`/`docker info` as its engine. Ignored without the stack (`make e2e`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::stack::{images, Stack};
use crate::support::TempDir;
use serde_json::Value;

fn ok(o: &Output, what: &str) -> String {
    let t = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success(),
        "{what} failed ({:?}):\n{t}",
        o.status.code()
    );
    t
}

/// One front of the stack (`$PERSONA_DIR/fronts.json`, written by `ci/stack.sh up`).
struct Front {
    url: String,
    persona: String,
    record: PathBuf,
}

fn front(s: &Stack, name: &str) -> Front {
    let file = Path::new(&s.var("PERSONA_DIR")).join("fronts.json");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    let all: Value = serde_json::from_str(&text).expect("fronts.json");
    let f = all
        .as_array()
        .expect("array")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no front {name} in {text}"));
    let field = |k: &str| f[k].as_str().expect("field").to_string();
    Front {
        url: field("url"),
        persona: field("persona"),
        record: PathBuf::from(field("record")),
    }
}

/// The requests a front recorded whose query or path mentions `needle` (this test's
/// namespace: other tests use the same fronts at the same time).
fn recorded(f: &Front, needle: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(&f.record).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains(needle))
        .map(|l| serde_json::from_str(l).expect("record line"))
        .collect()
}

/// The classic builds recorded for `needle`, as (tag, the isolation the CLI sent).
fn classic_builds(f: &Front, needle: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = recorded(f, needle)
        .into_iter()
        .filter(|r| r["action"] == "classic-build")
        .map(|r| {
            (
                r["query"]["t"][0].as_str().unwrap_or_default().to_string(),
                r["query"]["isolation"][0].as_str().map(String::from),
            )
        })
        .collect();
    out.sort();
    out
}

/// A namespace seeded with the three stand-in bases (1809, ltsc2022, ltsc2025).
fn namespace3(s: &Stack, name: &str) -> String {
    let ns = s.namespace(name);
    let repo = format!("{}/windows-base", ns.split_once('/').expect("ns").1);
    let o = Command::new("python3")
        .arg(s.root.join("ci/registry.py"))
        .args([
            "seed-base",
            &s.var("REGISTRY_HOST"),
            &repo,
            "ltsc2025",
            &s.var("NODE_OS_VERSION_ltsc2025"),
        ])
        .output()
        .expect("registry.py");
    ok(&o, "seed-base ltsc2025");
    ns
}

/// The fixture image alpha with a BASEIMAGE line for ltsc2025 too.
fn alpha_for_three(s: &Stack) -> TempDir {
    let t = TempDir::new("personas-images");
    let dir = t.path().join("alpha");
    let o = Command::new("cp")
        .arg("-R")
        .arg(s.fixtures().join("alpha"))
        .arg(&dir)
        .output()
        .expect("cp");
    ok(&o, "cp -R alpha");
    let base = dir.join("BASEIMAGE");
    let mut text = std::fs::read_to_string(&base).expect("BASEIMAGE");
    if !text.contains("windows/amd64/ltsc2025=") {
        text.push_str("windows/amd64/ltsc2025=REGISTRY/windows-base:ltsc2025\n");
        std::fs::write(&base, text).expect("write BASEIMAGE");
    }
    t
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_compat_run_sends_no_isolation_and_pushes_plain_manifests() {
    let s = Stack::get();
    let f = front(&s, "node-1809");
    assert_ne!(
        f.persona, "linux",
        "node 1809 must speak Windows by default"
    );
    let r = s.namespace("pcompat");
    // This machine's credentials for the registry (the stack's registry asks for none and
    // takes any): the CLI sends them with the build as X-Registry-Config; the front hands them
    // to its build child and records only the registry's name.
    let config = TempDir::new("personas-docker-config");
    let secret = "front-must-not-log-this";
    let auth = String::from_utf8(
        Command::new("base64")
            .arg("-w0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .expect("stdin")
                    .write_all(format!("e2e:{secret}").as_bytes())?;
                c.wait_with_output()
            })
            .expect("base64")
            .stdout,
    )
    .expect("utf-8");
    let host = s.var("REGISTRY_HOST");
    std::fs::write(
        config.path().join("config.json"),
        format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#),
    )
    .expect("config.json");
    std::os::unix::fs::symlink(
        Path::new(&s.var("DOCKER_CONFIG")).join("cli-plugins"),
        config.path().join("cli-plugins"),
    )
    .expect("cli-plugins");
    let out = ok(
        &s.xtask(&r, &s.fixtures())
            .args(["push", "alpha"])
            .env("DOCKER_CONFIG", config.path())
            .output()
            .expect("xtask"),
        "xtask push alpha (compat)",
    );
    let builds = classic_builds(&f, &r);
    assert_eq!(
        builds,
        vec![(format!("{r}/alpha:1.0"), None)],
        "the classic builds node 1809 was asked for:\n{out}"
    );
    // Upstream's argv: --no-cache --pull, the Dockerfile, the tag; credentials travel as the
    // X-Registry-Config header (its name recorded, never its value).
    let rec = recorded(&f, &r);
    let build = rec
        .iter()
        .find(|r| r["action"] == "classic-build")
        .expect("build");
    assert_eq!(build["query"]["nocache"][0], "1", "{build}");
    assert_eq!(build["query"]["pull"][0], "1", "{build}");
    assert_eq!(
        build["query"]["dockerfile"][0], "Dockerfile_windows",
        "{build}"
    );
    assert!(
        build["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .any(|h| h == "X-Registry-Config"),
        "{build}"
    );
    assert_eq!(
        build["build"]["credentials_for"][0],
        host.as_str(),
        "{build}"
    );
    let all = std::fs::read_to_string(&f.record).expect("record");
    assert!(
        !all.contains(secret) && !all.contains(&auth),
        "a credential was recorded"
    );
    assert!(
        rec.iter()
            .any(|r| r["method"] == "POST" && r["path"].as_str().unwrap_or("").ends_with("/push")),
        "no push recorded: {rec:?}"
    );
    // A classic Windows engine pushes a plain manifest, not an index with an attestation.
    let v = s.inspect(&format!("{r}/alpha:1.0")).expect("pushed");
    assert_eq!(v["kind"], "manifest", "{v}");
    assert_eq!(images(&v)[0].0, "windows");
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_one_host_matrix_on_a_2025_classic_node_sends_hyperv_for_1809_only() {
    let s = Stack::get();
    let f = front(&s, "node-ltsc2025");
    assert_eq!(
        f.persona, "ws2025-docker27",
        "the 2025 classic persona by default"
    );
    let r = namespace3(&s, "ponehost");
    let images_dir = alpha_for_three(&s);
    let out = ok(
        &s.xtask(&r, images_dir.path())
            .args(["push", "alpha"])
            .env("OS_VERSIONS", "1809 ltsc2022 ltsc2025")
            .env("REMOTE_DOCKER_URL", &f.url)
            .output()
            .expect("xtask"),
        "xtask push alpha (one-host matrix)",
    );
    let builds = classic_builds(&f, &r);
    let want: Vec<(String, Option<String>)> = [
        ("1809", "hyperv"),
        ("ltsc2022", "process"),
        ("ltsc2025", "process"),
    ]
    .iter()
    .map(|(os, i)| {
        (
            format!("{r}/alpha:1.0-windows-amd64-{os}"),
            Some(i.to_string()),
        )
    })
    .collect();
    assert_eq!(builds, want, "what the 2025 node was asked:\n{out}");
    // The front took isolation out of what reached the Linux stand-in.
    for rec in recorded(&f, &r)
        .iter()
        .filter(|r| r["action"] == "classic-build")
    {
        assert!(rec["removed"]["isolation"].is_array(), "{rec}");
        assert!(
            !rec["build"]["argv"].to_string().contains("isolation"),
            "{rec}"
        );
    }
    // The list: three Windows entries, each with its release's os.version.
    let list = s.inspect(&format!("{r}/alpha:1.0")).expect("list");
    let mut vs: Vec<Option<String>> = images(&list).into_iter().map(|i| i.2).collect();
    vs.sort();
    let mut want: Vec<Option<String>> = ["1809", "ltsc2022", "ltsc2025"]
        .iter()
        .map(|os| Some(s.var(&format!("NODE_OS_VERSION_{os}"))))
        .collect();
    want.sort();
    assert_eq!(vs, want, "{list}");
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn the_buildkit_persona_pushes_indexes_with_attestations_and_lists_and_verify_hold() {
    let s = Stack::get();
    let f = front(&s, "persona-ws2025-docker29-containerd");
    // ltsc2022 and ltsc2025 on a 2025 host: process isolation, the engine's default, so this
    // holds whatever builder the tool picks for isolations the default would not give.
    let r = namespace3(&s, "pbuildkit");
    let images_dir = alpha_for_three(&s);
    let run = |args: &[&str]| {
        s.xtask(&r, images_dir.path())
            .args(args)
            .env("OS_VERSIONS", "ltsc2022 ltsc2025")
            .env("REMOTE_DOCKER_URL", &f.url)
            .output()
            .expect("xtask")
    };
    // The whole main job, with --skip-unchanged from the start (so the images carry their
    // inputs label and a second run can be judged unchanged).
    let out = ok(
        &run(&["push-as-linux", "alpha", "--skip-unchanged"]),
        "xtask push-as-linux alpha (BuildKit persona)",
    );
    // BuildKit: the CLI went through /session and /grpc (hijacked, passed through), never
    // the classic POST /build.
    let text = std::fs::read_to_string(&f.record).expect("record");
    let all: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("line"))
        .collect();
    assert!(
        all.iter()
            .any(|r| r["action"] == "hijack" && r["path"].as_str().unwrap_or("").ends_with("/grpc")),
        "no /grpc seen:\n{out}"
    );
    assert!(classic_builds(&f, &r).is_empty(), "{out}");
    // The CLI spoke API 1.50 (its newest: the persona claims 1.52), mapped down for the
    // stand-in.
    assert!(
        all.iter().any(|r| r["forwarded_path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/v1.45/"))),
        "no /vNN/ mapped down"
    );
    for os in ["ltsc2022", "ltsc2025"] {
        let tag = format!("{r}/alpha:1.0-windows-amd64-{os}");
        let v = s.inspect(&tag).expect("per-version tag");
        assert_eq!(v["kind"], "index", "{tag}: {v}");
        let platforms: Vec<String> = v["manifests"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|m| format!("{}/{}", m["platform"]["os"], m["platform"]["architecture"]))
            .collect();
        assert!(
            platforms.iter().any(|p| p.contains("unknown")),
            "{tag}: no attestation entry: {platforms:?}"
        );
    }
    let list = s.inspect(&format!("{r}/alpha:1.0")).expect("list");
    let mut vs: Vec<Option<String>> = images(&list).into_iter().map(|i| i.2).collect();
    vs.sort();
    assert_eq!(
        vs,
        vec![
            Some(s.var("NODE_OS_VERSION_ltsc2022")),
            Some(s.var("NODE_OS_VERSION_ltsc2025"))
        ],
        "{list}"
    );
    let v = ok(&run(&["verify", "alpha"]), "xtask verify alpha");
    assert!(v.contains("all 6 tags hold"), "{v}");
    // Skip-unchanged reads the attestation indexes too: a second run leaves the list alone.
    let again = ok(
        &run(&["push-as-linux", "alpha", "--skip-unchanged"]),
        "xtask push-as-linux --skip-unchanged",
    );
    assert!(
        again
            .lines()
            .any(|l| l.contains("skip manifest-list") || l.contains("skipped: unchanged (the list")),
        "{again}"
    );
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn every_persona_answers_as_its_engine() {
    let s = Stack::get();
    let file = Path::new(&s.var("PERSONA_DIR")).join("fronts.json");
    let all: Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("fronts.json")).expect("json");
    let certs = s.var("DOCKER_CERT_PATH");
    let mut seen = Vec::new();
    for f in all.as_array().expect("fronts") {
        let persona = f["persona"].as_str().expect("persona");
        let url = f["url"].as_str().expect("url");
        let ask = |args: &[&str]| -> Value {
            let o = s
                .cmd("docker")
                .args(["--tlsverify", "--tlscacert"])
                .arg(format!("{certs}/ca.pem"))
                .arg("--tlscert")
                .arg(format!("{certs}/cert.pem"))
                .arg("--tlskey")
                .arg(format!("{certs}/key.pem"))
                .args(["-H", url])
                .args(args)
                .output()
                .expect("docker");
            let t = ok(&o, &format!("docker {args:?} on {persona}"));
            serde_json::from_str(t.trim()).unwrap_or_else(|e| panic!("{persona}: {e}: {t}"))
        };
        let server = ask(&["version", "--format", "{{json .Server}}"]);
        let info = ask(&["info", "--format", "{{json .}}"]);
        if persona == "linux" {
            assert_eq!(server["Os"], "linux", "{persona}");
            continue;
        }
        assert_eq!(server["Os"], "windows", "{persona}: {server}");
        assert_eq!(info["OSType"], "windows", "{persona}");
        let kernel = server["KernelVersion"].as_str().unwrap_or_default();
        assert!(kernel.starts_with("10.0 "), "{persona}: {kernel}");
        let store = info["DriverStatus"].to_string();
        if persona.contains("containerd") {
            assert!(
                store.contains("io.containerd.snapshotter.v1"),
                "{persona}: {store}"
            );
        } else {
            assert_eq!(info["Driver"], "windowsfilter", "{persona}");
            assert!(
                !store.contains("io.containerd.snapshotter.v1"),
                "{persona}: {store}"
            );
        }
        let isolation = if persona.ends_with("-hyperv") {
            "hyperv"
        } else {
            "process"
        };
        assert_eq!(info["Isolation"], isolation, "{persona}");
        seen.push(persona.to_string());
    }
    for p in [
        "ws2019-docker20.10",
        "ws2022-docker26",
        "ws2025-docker27",
        "ws2025-docker29-containerd",
        "mcr-ws2022",
    ] {
        assert!(
            seen.iter().any(|s| s == p),
            "persona {p} not served: {seen:?}"
        );
    }
}

/// Issue 18 §2 on the engines of 2026: Docker 29 on Windows Server 2025 with the containerd
/// image store picks BuildKit, which drops `--isolation`. A one-host matrix there must send each
/// build whose isolation differs from the daemon's default through the classic builder
/// (DOCKER_BUILDKIT=0 for that build: the recorded request is a classic `POST /build` carrying
/// the isolation), and keep BuildKit for the builds the default already isolates rightly.
#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_one_host_matrix_on_docker29_containerd_keeps_every_builds_isolation() {
    let s = Stack::get();
    // (persona, daemon default) → the releases routed to the classic builder, and theirs.
    let cases = [
        (
            "ws2025-docker29-containerd",
            vec![("1809", "hyperv")],
            vec!["ltsc2022", "ltsc2025"],
        ),
        (
            "ws2025-docker29-containerd-hyperv",
            vec![("ltsc2022", "process"), ("ltsc2025", "process")],
            vec!["1809"],
        ),
    ];
    for (persona, classic, buildkit) in cases {
        let f = front(&s, &format!("persona-{persona}"));
        let r = namespace3(&s, &format!("proute{}", persona.len()));
        let images_dir = alpha_for_three(&s);
        let out = ok(
            &s.xtask(&r, images_dir.path())
                .args(["push", "alpha"])
                .env("OS_VERSIONS", "1809 ltsc2022 ltsc2025")
                .env("REMOTE_DOCKER_URL", &f.url)
                .output()
                .expect("xtask"),
            &format!("xtask push alpha on {persona}"),
        );
        let want: Vec<(String, Option<String>)> = classic
            .iter()
            .map(|(os, i)| {
                (
                    format!("{r}/alpha:1.0-windows-amd64-{os}"),
                    Some(i.to_string()),
                )
            })
            .collect();
        assert_eq!(
            classic_builds(&f, &r),
            want,
            "{persona}: the classic builds and the isolation each carried:\n{out}"
        );
        for os in &buildkit {
            assert!(
                out.lines().any(|l| l.starts_with("xtask: builder:")
                    && l.contains(&format!(": {os} → BuildKit"))),
                "{persona}: {os} should stay on BuildKit:\n{out}"
            );
        }
        // Every release is in the list, each with its os.version.
        let list = s.inspect(&format!("{r}/alpha:1.0")).expect("list");
        assert_eq!(images(&list).len(), 3, "{persona}: {list}");
    }
}
