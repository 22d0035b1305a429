//! The run report on the real stack: a matrix `push-as-linux` on two nodes with REPORT,
//! LOG_DIR and QUIET; every digest in the report is the one the registry serves for that tag
//! (read through its HTTP API by ci/registry.py, not through docker or the tool). Ignored
//! without the stack (`make e2e`).

use std::fs;
use std::path::PathBuf;

use crate::support::stack::Stack;
use crate::support::TempDir;
use serde_json::Value;

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn a_matrix_runs_report_matches_the_registry() {
    let s = Stack::get();
    let r = s.namespace("report");
    let out = TempDir::new("report-e2e");
    let file = out.path().join("run.json");
    let logs = out.path().join("logs");
    let mut c = s.xtask(&r, &s.fixtures());
    c.args(["push-as-linux", "--quiet"])
        .env("OS_VERSIONS", "1809 ltsc2022")
        .env(
            "REMOTE_DOCKER_URL_ltsc2022",
            s.var("REMOTE_DOCKER_URL_ltsc2022"),
        )
        .env("DOCKER_CERT_BASE_PATH", s.var("DOCKER_CERT_BASE_PATH"))
        .env("REPORT", &file)
        .env("LOG_DIR", &logs);
    let o = c.output().expect("xtask");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(o.stdout.is_empty(), "quiet: docker's output is in the logs");

    let v: Value = serde_json::from_str(&fs::read_to_string(&file).expect("report")).expect("json");
    assert_eq!(v["result"], "succeeded");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["mode"], "matrix");
    assert_eq!(v["os_versions"], serde_json::json!(["1809", "ltsc2022"]));
    let steps = v["steps"].as_array().expect("steps");
    let mut checked = Vec::new();
    for step in steps {
        assert_eq!(step["state"], "ok", "{step:#}");
        let log = PathBuf::from(step["log"].as_str().expect("log"));
        assert!(log.is_file(), "{}", log.display());
        let Some(tag) = step["pushes"].as_str() else {
            assert_eq!(step["kind"], "build");
            continue;
        };
        let registry = s.digest(tag, None);
        assert!(registry.starts_with("sha256:"), "{registry}");
        assert_eq!(step["digest"], registry.as_str(), "{tag}: {step:#}");
        checked.push(step["kind"].as_str().expect("kind").to_string());
    }
    // Node pushes, cache builds and manifest lists were all compared.
    for kind in ["push", "cache", "manifest-list"] {
        assert!(
            checked.iter().any(|k| k == kind),
            "no {kind} step: {checked:?}"
        );
    }
    // The manifest list's entry: the digest is the list's own, not one of its images'.
    let list = steps
        .iter()
        .find(|s| s["kind"] == "manifest-list")
        .expect("a list step");
    let tag = list["pushes"].as_str().expect("list tag");
    let inspect = s.inspect(tag).expect("list in the registry");
    assert!(
        inspect["manifests"].is_array(),
        "{tag} is a list: {inspect:#}"
    );
    // Each step's log holds docker's own output.
    let build = fs::read_to_string(steps[0]["log"].as_str().expect("log")).expect("log");
    assert!(build.lines().count() > 3, "{build}");
}
