//! Compat-mode plans are upstream's commands exactly: for 1 and 3 images and every target and
//! sub-target, the argv sequence of `xtask plan` equals what an upstream-style Makefile runs
//! (`make -n`, both read back through bash), and one golden spells it out literally.

use crate::support::*;

const TARGETS: [&str; 6] = [
    "all-build",
    "all-push",
    "all-push-as-linux",
    "sub-build-beta",
    "sub-push-beta",
    "sub-repush-as-linux-beta",
];

fn world(images: &[&str]) -> World {
    let w = World::new("compat");
    for (i, name) in images.iter().enumerate() {
        w.image(name, &format!("1.{i}.0"));
    }
    w
}

fn xtask_argvs(w: &World, target: &str) -> Vec<Vec<String>> {
    let o = run(w
        .xtask()
        .args(["plan", target])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert!(o.status.success(), "{target}: {}", stderr(&o));
    bash_argvs(&stdout(&o))
}

fn upstream_argvs(w: &World, target: &str) -> Vec<Vec<String>> {
    let mk = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/upstream-style.mk"
    );
    let o = run(std::process::Command::new("make")
        .args(["-n", "-s", "-f", mk, target])
        .arg("REGISTRY=127.0.0.1:5000/e2e")
        .arg("REMOTE_DOCKER_URL=tcp://winbuild:2376")
        .arg(format!("DOCKER_CERT_PATH={}", w.certs().display()))
        .arg(format!("IMAGES_DIR={}", w.images().display())));
    assert!(o.status.success(), "make {target}: {}", stderr(&o));
    bash_argvs(&stdout(&o))
}

#[test]
fn three_images_every_target_matches_upstream() {
    let w = world(&["alpha", "beta", "gamma"]);
    for t in TARGETS {
        let ours = xtask_argvs(&w, t);
        let theirs = upstream_argvs(&w, t);
        assert!(!ours.is_empty(), "{t}: empty plan");
        assert_eq!(ours, theirs, "{t}");
    }
    // Upstream's order: all builds, then all pushes, then all cache builds.
    let verbs: Vec<String> = xtask_argvs(&w, "all-push-as-linux")
        .iter()
        .map(|a| match a.get(10).map(String::as_str) {
            Some("build") | Some("push") => format!("{} {}", a[10], a.last().unwrap_or(&a[0])),
            _ => format!("cache {}", a.last().unwrap_or(&a[0])),
        })
        .collect();
    assert_eq!(verbs.len(), 9);
    assert!(verbs[..3].iter().all(|v| v.starts_with("build")));
    assert!(verbs[3..6].iter().all(|v| v.starts_with("push")));
    assert!(verbs[6..].iter().all(|v| v.starts_with("cache")));
}

#[test]
fn one_image_every_target_matches_upstream() {
    let w = world(&["beta"]);
    for t in TARGETS {
        assert_eq!(xtask_argvs(&w, t), upstream_argvs(&w, t), "{t}");
    }
}

#[test]
fn golden_one_image_all_push_as_linux() {
    let w = world(&["beta"]);
    let o = run(w
        .xtask()
        .args(["plan", "all-push-as-linux"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    let text = stdout(&o)
        .replace(&w.images().display().to_string(), "IMAGES")
        .replace(&w.certs().display().to_string(), "CERTS");
    let golden = "\
# [1/3] build 127.0.0.1:5000/e2e/beta:1.0.0 (beta, node)
docker --tlsverify --tlscacert CERTS/ca.pem --tlscert CERTS/cert.pem --tlskey CERTS/key.pem -H tcp://winbuild:2376 build --no-cache --pull -t 127.0.0.1:5000/e2e/beta:1.0.0 -f IMAGES/beta/Dockerfile_windows IMAGES/beta/
# [2/3] push 127.0.0.1:5000/e2e/beta:1.0.0 (beta, node) after 1
docker --tlsverify --tlscacert CERTS/ca.pem --tlscert CERTS/cert.pem --tlskey CERTS/key.pem -H tcp://winbuild:2376 push 127.0.0.1:5000/e2e/beta:1.0.0
# [3/3] cache 127.0.0.1:5000/e2e/beta:1.0.0-linux-cache (beta, local) after 2
docker buildx build --progress=plain --no-cache --pull --output=type=registry --platform linux/amd64 --build-arg SOURCE=127.0.0.1:5000/e2e/beta:1.0.0 -t 127.0.0.1:5000/e2e/beta:1.0.0-linux-cache IMAGES/beta/
";
    assert_eq!(text, golden);
}

#[test]
fn defaults_registry_and_cert_path() {
    let w = world(&["alpha"]);
    let o = run(w
        .xtask()
        .env_remove("DOCKER_CERT_PATH")
        .args(["plan", "all-push"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let argvs = bash_argvs(&stdout(&o));
    let home_certs = w.root().join(".docker");
    assert_eq!(argvs[0][3], home_certs.join("ca.pem").display().to_string());
    assert_eq!(
        argvs[1].last().map(String::as_str),
        Some("registry.k8s.io/e2e-test-images/alpha:1.0.0")
    );
    // No node configured: the plan still works and shows where the URL goes.
    assert_eq!(argvs[0][9], "<REMOTE_DOCKER_URL>");
}

#[test]
fn json_plan_has_steps_with_argv_image_node_and_dependencies() {
    let w = world(&["alpha", "beta"]);
    let o = run(w
        .xtask()
        .args(["plan", "all-push-as-linux", "--json"])
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 6);
    assert_eq!(v["target"], "all-push-as-linux");
    assert_eq!(steps[2]["image"], "alpha");
    assert_eq!(steps[2]["node"], "node");
    assert_eq!(steps[2]["depends_on"], serde_json::json!([1]));
    assert_eq!(steps[4]["node"], "local");
    assert_eq!(steps[4]["depends_on"], serde_json::json!([3]));
    // The JSON argv is what the text plan runs.
    let text = run(w
        .xtask()
        .args(["plan", "all-push-as-linux"])
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    let from_text = bash_argvs(&stdout(&text));
    let from_json: Vec<Vec<String>> = steps
        .iter()
        .map(|s| serde_json::from_value(s["argv"].clone()).expect("argv"))
        .collect();
    assert_eq!(from_text, from_json);
    assert!(w.calls().is_empty(), "planning ran docker: {:?}", w.calls());
}

#[test]
fn dry_run_prints_the_plan_and_runs_nothing() {
    let w = world(&["alpha"]);
    let plan = run(w
        .xtask()
        .args(["plan", "all-push-as-linux"])
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    let dry = run(w
        .xtask()
        .args(["push-as-linux", "--dry-run"])
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert_eq!(stdout(&plan), stdout(&dry));
    assert!(w.calls().is_empty());
}

#[test]
fn pasted_lines_with_odd_characters_give_the_same_argv() {
    let w = World::new("quoting");
    // Image and cert folders whose paths hold spaces, quotes, $(…) and backslashes.
    let odd = w.root().join("it's a \"dir\" $(touch PWNED) `x` \\ ; &");
    let images = odd.join("images");
    let certs = odd.join("certs");
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        write(&certs.join(f), "x");
    }
    let d = images.join("alpha");
    write(&d.join("VERSION"), "1.0\n");
    write(&d.join("Dockerfile_windows"), "FROM x\n");
    write(&d.join("Dockerfile"), "FROM x\n");
    let o = run(w
        .xtask()
        .args(["plan", "all-push-as-linux", "--json"])
        .env("IMAGES_DIR", &images)
        .env("DOCKER_CERT_PATH", &certs)
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let want: Vec<Vec<String>> = v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| serde_json::from_value(s["argv"].clone()).expect("argv"))
        .collect();
    let text = run(w
        .xtask()
        .args(["plan", "all-push-as-linux"])
        .env("IMAGES_DIR", &images)
        .env("DOCKER_CERT_PATH", &certs)
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    let got = bash_argvs(&stdout(&text));
    assert_eq!(got, want);
    assert!(got[0].iter().any(|a| a.contains("$(touch PWNED)")));
    assert!(!w.root().join("PWNED").exists() && !std::path::Path::new("PWNED").exists());
}
