//! Release engineering on the real stack (issue 21): a matrix run's report drawn as a
//! timeline and turned into images.yaml entries whose digests are the registry's;
//! `verify --against` a "promoted" copy (the same manifests under another name) passes, and
//! names a flattened list and a list that lost os.version; the stack's lists (1809 and
//! ltsc2022 only) get the ltsc2025 coverage warning; a changed base digest is seen by
//! `lint --bases` and rebuilt under SKIP_UNCHANGED. Registry facts are read through
//! `ci/registry.py` (the registry's HTTP API), never through the tool.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::stack::Stack;
use serde_json::Value;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: &Output, what: &str) -> String {
    let t = text(o);
    assert!(
        o.status.success(),
        "{what} failed ({:?}):\n{t}",
        o.status.code()
    );
    t
}

fn matrix(s: &Stack, r: &str, dir: &Path) -> Command {
    let mut c = s.xtask(r, dir);
    c.env("OS_VERSIONS", "1809 ltsc2022")
        .env(
            "REMOTE_DOCKER_URL_ltsc2022",
            s.var("REMOTE_DOCKER_URL_ltsc2022"),
        )
        .env("DOCKER_CERT_BASE_PATH", s.var("DOCKER_CERT_BASE_PATH"));
    c
}

/// Where the pictures of the last stack run are kept for a person to look at.
fn keep_dir(s: &Stack) -> PathBuf {
    let d = s.root.join("target/release-e2e");
    std::fs::create_dir_all(&d).expect("mkdir target/release-e2e");
    d
}

/// A promoter's copy of FROM at TO, verbatim (same digest): an index through `docker buildx
/// imagetools create -t TO FROM`; a single manifest (what a classic Windows node pushes) byte
/// for byte with its blobs (`imagetools create` would wrap it in a list of its own).
fn copy(s: &Stack, from: &str, to: &str, extra: &[&str]) {
    let single = s.inspect(from).is_some_and(|v| v["kind"] != "index");
    if single && extra.is_empty() {
        let script = "import sys\nsys.path.insert(0, sys.argv[1])\nimport json, registry as r\nh, repo, ref = r.parse_ref(sys.argv[2])\n_, hdr, body = r.request('GET', f'{r.base_url(h, repo)}/manifests/{ref}', headers={'Accept': r.ACCEPT})\nm = json.loads(body)\nh2, repo2, tag = r.parse_ref(sys.argv[3])\nfor d in [m['config']['digest']] + [l['digest'] for l in m['layers']]:\n    r.push_blob(h2, repo2, r.get_blob(h, repo, d))\nr.request('PUT', f'{r.base_url(h2, repo2)}/manifests/{tag}', data=body, headers={'Content-Type': m.get('mediaType') or hdr.get('Content-Type')}, ok=(201,))\n";
        let o = Command::new("python3")
            .args(["-c", script])
            .arg(s.root.join("ci"))
            .args([from, to])
            .output()
            .expect("python3");
        ok(&o, &format!("copy {to}"));
        return;
    }
    let o = s
        .cmd("docker")
        .args(["buildx", "imagetools", "create"])
        .args(extra)
        .args(["-t", to, from])
        .output()
        .expect("docker");
    ok(&o, &format!("imagetools create {to}"));
}

/// Puts the single manifest at FROM (`host/repo@digest`) at the tag TO, whose repository
/// already holds its blobs (ci/registry.py's own helpers, as a flattening promotion did).
fn flatten(s: &Stack, from: &str, to: &str) {
    let script = "import json, sys\nsys.path.insert(0, sys.argv[1])\nimport registry as r\nh, repo, d = r.parse_ref(sys.argv[2])\n_, _, body = r.request('GET', f'{r.base_url(h, repo)}/manifests/{d}', headers={'Accept': r.ACCEPT})\nh2, repo2, tag = r.parse_ref(sys.argv[3])\nr.push_manifest(h2, repo2, tag, json.loads(body))\n";
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(s.root.join("ci"))
        .args([from, to])
        .output()
        .expect("python3");
    ok(&o, &format!("flatten {to}"));
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_matrix_run_is_drawn_promoted_and_compared_with_its_copy() {
    let s = Stack::get();
    let r = s.namespace("release");
    let dir = s.fixtures();
    let tmp = crate::support::TempDir::new("release-e2e");
    let report = tmp.path().join("run.json");
    // The step logs are kept with the page: `report` reads the bytes docker said from them.
    let logs = keep_dir(&s).join("logs");
    let _ = std::fs::remove_dir_all(&logs);
    let o = matrix(&s, &r, &dir)
        .args(["push-as-linux"])
        .env("REPORT", &report)
        .env("LOG_DIR", &logs)
        .output()
        .expect("xtask");
    ok(&o, "push-as-linux");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let steps = doc["steps"].as_array().expect("steps");
    assert!(
        steps.iter().all(|st| st["started_seconds"].is_number()),
        "every step that ran has its start: {doc}"
    );

    // The timeline: one page, no script, a bar per step, kept for a screenshot.
    let page = keep_dir(&s).join("timeline.html");
    let o = s
        .xtask(&r, &dir)
        .args(["report"])
        .arg(&report)
        .arg("--out")
        .arg(&page)
        .output()
        .expect("report");
    ok(&o, "report");
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(html.contains("<svg") && !html.contains("<script"), "{html}");
    assert_eq!(
        html.matches("<g><title>").count(),
        steps.len(),
        "one bar per step"
    );
    std::fs::copy(&report, keep_dir(&s).join("run.json")).expect("keep the report");

    // Promotion: images.yaml entries whose digests are what the registry holds.
    let o = s
        .xtask(&r, &dir)
        .arg("promotion")
        .arg(&report)
        .output()
        .expect("promotion");
    let yaml = ok(&o, "promotion");
    eprintln!("--- promotion ---\n{yaml}");
    let list_digest = s.digest(&format!("{r}/beta:2.1"), None);
    assert!(
        yaml.contains("- name: beta\n  dmap:\n")
            && yaml.contains(&format!("    \"{list_digest}\": [\"2.1\"]\n")),
        "{yaml}"
    );
    let cache = s.digest(&format!("{r}/alpha:1.0-linux-cache"), None);
    assert!(yaml.contains(&format!("\"{cache}\": [")), "{yaml}");

    // Coverage: the stack's lists have no ltsc2025 entry.
    let o = matrix(&s, &r, &dir)
        .args(["verify", "beta"])
        .output()
        .expect("verify");
    let t = ok(&o, "verify");
    eprintln!("--- verify ---\n{t}");
    assert!(
        t.contains(&format!("warning: {r}/beta:2.1 has no entry for ltsc2025 (build 26100): clusters with Windows Server 2025 nodes would fail")),
        "{t}"
    );
    assert!(t.contains("HCS_E_IMAGE_MISMATCH"), "{t}");

    // A promoted copy: every tag copied verbatim under another name → no difference.
    let other = format!("{}/promoted-{}", s.var("REGISTRY_HOST"), std::process::id());
    let tags: Vec<String> = steps
        .iter()
        .filter_map(|st| st["pushes"].as_str().map(String::from))
        .filter(|t| t.contains("/beta:"))
        .collect();
    for t in &tags {
        let to = t.replacen(&r, &other, 1);
        copy(&s, t, &to, &[]);
    }
    let against = |what: &str| -> Output {
        let o = matrix(&s, &r, &dir)
            .args(["verify", "beta", "--against", &other])
            .output()
            .expect("verify --against");
        eprintln!("--- verify --against ({what}) ---\n{}", text(&o));
        o
    };
    let o = against("a faithful copy");
    let t = ok(&o, "verify --against");
    assert!(
        t.contains(&format!(
            "verify --against {other}: all {} tags the same",
            tags.len()
        )),
        "{t}"
    );

    // Flattened: the list tag there is one Windows manifest (the 1809 image's, put at the
    // tag through the registry's API: this buildx has no --prefer-index=false).
    let promoted_list = format!("{other}/beta:2.1");
    let one = s.digest(
        &format!("{r}/beta:2.1-windows-amd64-1809"),
        Some("windows/amd64"),
    );
    flatten(&s, &format!("{r}/beta@{one}"), &promoted_list);
    let o = against("flattened");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("a list here, a single manifest there: the promotion flattened it"),
        "{t}"
    );

    // A list without os.version on its entries.
    let entries: Vec<String> = ["1809", "ltsc2022"]
        .iter()
        .map(|os| {
            s.digest(
                &format!("{r}/beta:2.1-windows-amd64-{os}"),
                Some("windows/amd64"),
            )
        })
        .collect();
    s.put_list(&promoted_list, &entries);
    let o = against("no os.version");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("here, none there"), "{t}");
}

/// Re-seeds `NS/windows-base:OS` as a new base image (another os.version: another digest),
/// as a Patch Tuesday refresh moves a floating tag.
fn reseed(s: &Stack, ns: &str, os: &str, os_version: &str) {
    let repo = format!("{}/windows-base", ns.split_once('/').expect("ns").1);
    let o = Command::new("python3")
        .arg(s.root.join("ci/registry.py"))
        .args(["seed-base", &s.var("REGISTRY_HOST"), &repo, os, os_version])
        .output()
        .expect("registry.py");
    ok(&o, "seed-base");
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_new_base_digest_is_seen_rebuilt_and_pinned() {
    let s = Stack::get();
    let r = s.namespace("bases");
    let tmp = crate::support::TempDir::new("release-bases");
    let dir = tmp.path().join("images");
    let beta = dir.join("beta");
    copy_dir(&s.fixtures().join("beta"), &beta);
    let base_1809 = format!("{r}/windows-base:1809");
    let old = s.digest(&base_1809, None);
    // 1809 pinned to today's base, ltsc2022 floating.
    crate::support::write(
        &beta.join("BASEIMAGE"),
        &format!("windows/amd64/1809=REGISTRY/windows-base:1809@{old}\nwindows/amd64/ltsc2022=REGISTRY/windows-base:ltsc2022\n"),
    );
    let push = |what: &str| {
        let o = matrix(&s, &r, &dir)
            .args(["push", "beta", "--skip-unchanged"])
            .output()
            .expect("xtask");
        ok(&o, what)
    };
    push("first push");
    let lint = |what: &str| -> Output {
        let o = matrix(&s, &r, &dir)
            .args(["lint", "--bases"])
            .output()
            .expect("lint --bases");
        eprintln!("--- lint --bases ({what}) ---\n{}", text(&o));
        o
    };
    let o = lint("fresh");
    let t = ok(&o, "lint --bases");
    assert!(
        t.contains(&format!(
            "{r}/beta:2.1-windows-amd64-1809 is built from its pin "
        )),
        "{t}"
    );

    // Patch Tuesday: both bases move.
    let v1809 = s.var("NODE_OS_VERSION_1809");
    let v2022 = s.var("NODE_OS_VERSION_ltsc2022");
    let bump = |v: &str| format!("{}.{}", v.rsplit_once('.').expect("patch").0, 9999);
    reseed(&s, &r, "1809", &bump(&v1809));
    reseed(&s, &r, "ltsc2022", &bump(&v2022));
    let new = s.digest(&base_1809, None);
    assert_ne!(old, new);
    let o = lint("moved");
    let t = ok(&o, "lint --bases");
    assert!(
        t.contains(&format!(
            "{r}/beta:2.1-windows-amd64-ltsc2022 was built from an older base"
        )),
        "{t}"
    );
    assert!(t.contains("pinned to "), "the stale pin is named: {t}");
    assert!(
        t.contains(&format!(
            "{r}/beta:2.1-windows-amd64-1809 is built from its pin "
        )),
        "a pinned image is built from its pin, not the moved tag: {t}"
    );

    // SKIP_UNCHANGED: the floating ltsc2022 base moved, so ltsc2022 rebuilds; 1809 is pinned
    // to the old digest, so it stays (its build and push skipped).
    let t = push("push after the base moved");
    eprintln!("--- push --skip-unchanged after the base moved ---\n{t}");
    assert!(t.contains("2 skipped"), "{t}");
    let o = lint("after the rebuild");
    let t = text(&o);
    assert!(
        t.contains(&format!(
            "{r}/beta:2.1-windows-amd64-ltsc2022 is built from today's"
        )),
        "{t}"
    );

    // The monthly refresh: the pin moves to today's digest, old and new os.version shown.
    let o = matrix(&s, &r, &dir)
        .args(["pin-bases"])
        .output()
        .expect("pin-bases");
    let t = ok(&o, "pin-bases");
    eprintln!("--- pin-bases ---\n{t}");
    assert!(
        t.contains(&format!("({v1809}) → ")) && t.contains(&format!("({})", bump(&v1809))),
        "{t}"
    );
    let file = std::fs::read_to_string(beta.join("BASEIMAGE")).expect("BASEIMAGE");
    assert!(
        file.contains(&format!("windows-base:1809@{new}\n")),
        "{file}"
    );
    assert!(
        file.contains("windows/amd64/ltsc2022=REGISTRY/windows-base:ltsc2022\n"),
        "unpinned lines stay: {file}"
    );
    // And the images rebuild: BASEIMAGE (one of their inputs) changed, 1809's base with it.
    let t = push("push after the pin moved");
    assert!(
        !t.contains("skipped (unchanged)"),
        "everything rebuilt: {t}"
    );
    let o = lint("after the pin moved");
    let t = ok(&o, "lint --bases");
    assert!(
        t.contains(&format!(
            "{r}/beta:2.1-windows-amd64-1809 is built from its pin "
        )),
        "{t}"
    );
    assert!(t.contains("0 warnings"), "{t}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}
