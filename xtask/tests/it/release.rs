//! Release engineering without the stack (issue 21): `plan --graph` and the build order of
//! images built from each other, `lint`'s stale-reference warning, `OS_VERSIONS=all`,
//! `report` on succeeded, failed and interrupted runs (a fake docker), `promotion`'s
//! refusals, and doctor's release-coverage warning.

use std::path::Path;

use crate::support::{run, stderr, stdout, write, World};
use serde_json::Value;

fn code(o: &std::process::Output) -> Option<i32> {
    o.status.code()
}

/// Two images where `busybox` is built from `helper`'s cache image, as upstream's busybox
/// takes PowerShell from powershell-helper.
fn consumer_world(tag: &str, used: &str) -> World {
    let w = World::new(tag);
    w.image("helper", "1.1");
    let b = w.image("busybox", "1.0");
    write(
        &b.join("Dockerfile_windows"),
        &format!("ARG BASEIMAGE=mcr.microsoft.com/windows/nanoserver:1809\nARG REGISTRY\nFROM --platform=linux/amd64 $REGISTRY/helper:{used}-linux-cache AS prep\nFROM $BASEIMAGE\nCOPY --from=prep /PowerShell /PowerShell\n"),
    );
    w
}

#[test]
fn plan_graph_orders_bases_first_and_the_run_waits_for_them() {
    let w = consumer_world("graph", "1.1");
    let o = run(w
        .xtask()
        .args(["plan", "--graph"])
        .env("REGISTRY", "r.example/e2e"));
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("build order: helper → busybox\n"), "{out}");
    assert!(
        out.contains("busybox ← helper (r.example/e2e/helper:1.1-linux-cache)"),
        "{out}"
    );
    let o = run(w
        .xtask()
        .args(["plan", "--graph-format", "mermaid"])
        .env("REGISTRY", "r.example/e2e"));
    assert!(
        stdout(&o).contains("  helper --> busybox\n"),
        "{}",
        stdout(&o)
    );
    let o = run(w
        .xtask()
        .args(["plan", "--graph", "--graph-format=dot"])
        .env("REGISTRY", "r.example/e2e"));
    assert!(
        stdout(&o).contains("\"helper\" -> \"busybox\";"),
        "{}",
        stdout(&o)
    );

    // The plan's JSON: busybox's build waits for every step of helper.
    let o = run(w
        .xtask()
        .args(["plan", "push-as-linux", "--json"])
        .env("REGISTRY", "r.example/e2e"));
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let plan: Value = serde_json::from_str(&stdout(&o)).expect("json");
    let steps = plan["steps"].as_array().expect("steps");
    let ids = |image: &str| -> Vec<u64> {
        steps
            .iter()
            .filter(|s| s["image"] == image)
            .map(|s| s["id"].as_u64().expect("id"))
            .collect()
    };
    let helper = ids("helper");
    let first_busybox = steps
        .iter()
        .find(|s| s["image"] == "busybox")
        .expect("busybox step");
    let after: Vec<u64> = first_busybox["depends_on"]
        .as_array()
        .expect("depends_on")
        .iter()
        .map(|v| v.as_u64().expect("id"))
        .collect();
    for h in helper {
        assert!(
            after.contains(&h),
            "busybox waits for helper's step {h}: {first_busybox}"
        );
    }

    // Independent images stay independent.
    let w2 = World::new("graph-free");
    w2.image("a", "1.0");
    w2.image("b", "1.0");
    let o = run(w2.xtask().args(["plan", "--graph"]));
    assert!(stdout(&o).contains("all are independent"), "{}", stdout(&o));
}

#[test]
fn lint_warns_of_a_base_used_at_an_older_version() {
    let w = consumer_world("graph-stale", "1.0");
    let o = run(w.xtask().arg("lint"));
    assert_eq!(code(&o), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("busybox is built from ")
            && out.contains("(helper 1.0), older than helper/VERSION (1.1)"),
        "{out}"
    );
    assert!(out.ends_with("0 errors, 1 warning\n"), "{out}");
}

#[test]
fn os_versions_all_is_every_supported_release() {
    let w = World::new("os-all");
    w.image("a", "1.0");
    let o = run(w
        .xtask()
        .args(["plan", "push", "--json"])
        .env("OS_VERSIONS", "all")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for os in ["1809", "ltsc2022", "ltsc2025"] {
        assert!(
            out.contains(&format!("a:1.0-windows-amd64-{os}")),
            "{os}: {out}"
        );
    }
}

fn report_doc(result: &str, states: &[(&str, Option<f64>, Option<f64>)]) -> Value {
    let steps: Vec<Value> = states
        .iter()
        .enumerate()
        .map(|(i, (state, start, secs))| {
            serde_json::json!({
                "number": i + 1, "kind": if i == 0 { "build" } else { "push" },
                "what": format!("step {}", i + 1), "image": "a", "os_version": null,
                "node": if i < 2 { "node" } else { "local" }, "node_url": null, "state": state,
                "seconds": secs, "started_seconds": start, "error": if *state == "failed" { Some("boom") } else { None },
                "skip_reason": null, "log": null, "tag": "r/a:1.0",
                "pushes": if i == 0 { None } else { Some("r/a:1.0") },
                "digest": null, "why_no_digest": "x",
            })
        })
        .collect();
    serde_json::json!({
        "format_version": 1, "target": "all-push-as-linux", "mode": "compat", "os_versions": [],
        "registry": "r", "started": "2026-12-02T03:00:00Z", "finished": "2026-12-02T03:00:09Z",
        "seconds": 9.0, "result": result, "exit_code": if result == "succeeded" { 0 } else { 1 },
        "error": null, "log_dir": null, "steps": steps,
    })
}

fn render(w: &World, name: &str, doc: &Value) -> String {
    let file = w.root().join(format!("{name}.json"));
    write(&file, &doc.to_string());
    let o = run(w.xtask().arg("report").arg(&file));
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let page = std::fs::read_to_string(file.with_extension("html")).expect("page written");
    assert!(page.contains("<svg") && !page.contains("<script"), "{page}");
    page
}

#[test]
fn report_draws_succeeded_failed_and_interrupted_runs() {
    let w = World::new("report-draw");
    let page = render(
        &w,
        "ok",
        &report_doc(
            "succeeded",
            &[
                ("ok", Some(0.0), Some(5.0)),
                ("ok", Some(5.0), Some(2.0)),
                ("ok", Some(7.0), Some(2.0)),
            ],
        ),
    );
    assert_eq!(page.matches("<g><title>").count(), 3);
    let page = render(
        &w,
        "failed",
        &report_doc(
            "failed",
            &[
                ("ok", Some(0.0), Some(5.0)),
                ("failed", Some(5.0), Some(1.0)),
                ("not-started", None, None),
            ],
        ),
    );
    assert!(
        page.contains("#c62828") && page.contains("Not run"),
        "{page}"
    );
    assert!(
        page.contains("boom"),
        "the failure is in the bar's title: {page}"
    );
    let page = render(
        &w,
        "stopped",
        &report_doc(
            "interrupted",
            &[
                ("ok", Some(0.0), Some(5.0)),
                ("stopped", Some(5.0), Some(1.5)),
                ("not-started", None, None),
            ],
        ),
    );
    assert!(
        page.contains("#ef6c00") && page.contains("interrupted"),
        "{page}"
    );

    // Not a report: bad input naming the file, nothing written.
    let bad = w.root().join("bad.json");
    write(&bad, "{\"x\": 1}");
    let o = run(w.xtask().arg("report").arg(&bad));
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a run report"), "{}", stderr(&o));
    assert!(!Path::new(&bad.with_extension("html")).exists());
}

#[test]
fn promotion_refuses_a_run_that_did_not_succeed() {
    let w = World::new("promotion");
    let file = w.root().join("run.json");
    write(
        &file,
        &report_doc("failed", &[("ok", Some(0.0), Some(1.0))]).to_string(),
    );
    let o = run(w.xtask().arg("promotion").arg(&file));
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("promote only a run that succeeded"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
    let o = run(w
        .xtask()
        .arg("promotion")
        .arg(w.root().join("missing.json")));
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
}

/// A local `python3 -m http.server` standing in for GitHub's releases (no internet here):
/// started on a free port, stopped (by its own pid) when dropped.
struct Releases {
    child: std::process::Child,
    url: String,
}

impl Releases {
    fn serve(root: &Path) -> Releases {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
            .current_dir(root)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 http.server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("its first line");
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .unwrap_or_else(|| panic!("no port in {line:?}"))
            .to_string();
        Releases {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Releases {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn lint_online_finds_the_powershell_asset_and_its_hash_line() {
    let w = World::new("online");
    let img = w.image("powershell-helper", "7.6.9");
    write(
        &img.join("Dockerfile_windows"),
        "ARG BASEIMAGE=mcr.microsoft.com/windows/nanoserver:1809\nFROM $BASEIMAGE\n# https://github.com/PowerShell/PowerShell/releases/download/v$PS_VERSION/PowerShell-$PS_VERSION-win-x64.zip\nCOPY payload/ /payload/\n",
    );
    let site = w.root().join("site/v7.6.9");
    write(
        &site.join("PowerShell-7.6.9-win-x64.zip"),
        "PK not really a zip",
    );
    // hashes.sha256 as 7.5.2 and later publish it: UTF-16LE with a BOM.
    let text = format!("{} *PowerShell-7.6.9-win-x64.zip\r\n", "ab".repeat(32));
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    std::fs::write(site.join("hashes.sha256"), bytes).expect("write hashes");
    let server = Releases::serve(&w.root().join("site"));

    let o = run(w
        .xtask()
        .args(["lint", "--online"])
        .env("POWERSHELL_RELEASES_URL", &server.url));
    assert_eq!(code(&o), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("PowerShell 7.6.9 asset and hashes.sha256 found"),
        "{}",
        stderr(&o)
    );

    // A typo in VERSION fails in seconds, naming the asset.
    write(&img.join("VERSION"), "7.6.99\n");
    let o = run(w
        .xtask()
        .args(["lint", "--online"])
        .env("POWERSHELL_RELEASES_URL", &server.url));
    assert_eq!(code(&o), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("VERSION: error: the PowerShell 7.6.99 asset")
            && out.contains("/v7.6.99/PowerShell-7.6.99-win-x64.zip"),
        "{out}"
    );
    assert!(out.contains("hashes.sha256"), "{out}");
}

#[test]
fn doctor_warns_when_os_versions_lacks_a_supported_release() {
    let w = World::new("doctor-coverage");
    w.image("alpha", "1.0");
    let o = run(w
        .xtask()
        .args(["doctor", "push", "--json"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("OS_VERSIONS", "1809 ltsc2022")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("doctor --json");
    let coverage: Vec<&Value> = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["check"] == "release coverage")
        .collect();
    assert_eq!(coverage.len(), 1, "{v}");
    let detail = coverage[0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("OS_VERSIONS has no entry for ltsc2025 (build 26100): clusters with Windows Server 2025 nodes would fail"),
        "{}",
        coverage[0]
    );
    // Every supported release: no such warning.
    let o = run(w
        .xtask()
        .args(["doctor", "push", "--json"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("OS_VERSIONS", "all")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert!(!stdout(&o).contains("release coverage"), "{}", stdout(&o));
}
