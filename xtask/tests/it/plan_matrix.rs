//! Matrix-mode plans (OS_VERSIONS set) for 1, 2 and 3 OS versions, as goldens: per-version
//! tags and nodes, build args, the isolation (forced with ISOLATION=hyperv for 1 and 3;
//! `auto`, the default, for 2: a placeholder, decided from the node's build at run time),
//! lists over every version with os.version resolved at run time, per-version caches plus the
//! plain `V-linux-cache` from the first OS version, and the dependency structure (text and
//! JSON).
//! `UPDATE_GOLDENS=1 cargo test --test it plan_matrix::` rewrites the golden files.

use crate::support::*;

fn world() -> World {
    let w = World::new("matrix");
    let a = w.image("alpha", "1.0");
    write(
        &a.join("BASEIMAGE"),
        "# bases per release\nwindows/amd64/1809=REGISTRY/nanoserver:1809\nwindows/amd64/ltsc2022=mcr.microsoft.com/windows/nanoserver:ltsc2022\nwindows/amd64/ltsc2025=mcr.microsoft.com/windows/nanoserver:ltsc2025\n",
    );
    // beta has no BASEIMAGE: no BASEIMAGE build arg, no base to fall back on for os.version.
    w.image("beta", "2.0");
    w
}

fn plan(w: &World, os_versions: &str, json: bool) -> String {
    plan_with(w, os_versions, json, Some("hyperv"))
}

fn plan_with(w: &World, os_versions: &str, json: bool, isolation: Option<&str>) -> String {
    let mut c = w.xtask();
    c.args(["plan", "all-push-as-linux"])
        .env("REGISTRY", "registry.example.com/e2e")
        .env("OS_VERSIONS", os_versions)
        .env("REMOTE_DOCKER_URL", "tcp://win-any:2376")
        .env("REMOTE_DOCKER_URL_ltsc2022", "tcp://win2022:2376")
        .env("DOCKER_CERT_BASE_PATH", w.root().join("certbase"));
    if let Some(i) = isolation {
        c.env("ISOLATION", i);
    }
    if json {
        c.arg("--json");
    }
    let o = run(&mut c);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .replace(&w.images().display().to_string(), "IMAGES")
        .replace(&w.root().join("certbase").display().to_string(), "CERTBASE")
}

fn golden(name: &str, got: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDENS").is_some() {
        std::fs::write(&path, got).expect("write golden");
    }
    let want =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no golden {}", path.display()));
    assert_eq!(got, want, "{name} differs (UPDATE_GOLDENS=1 to accept)");
}

#[test]
fn one_os_version() {
    golden("matrix-1.txt", &plan(&world(), "1809", false));
}

#[test]
fn two_os_versions_isolation_auto() {
    let w = world();
    let auto = plan_with(&w, "1809 ltsc2022", false, None);
    golden("matrix-2.txt", &auto);
    // The plan asks no node: every node build shows what decides its isolation.
    let builds: Vec<&str> = auto
        .lines()
        .filter(|l| l.contains(" build --no-cache"))
        .collect();
    assert_eq!(builds.len(), 4);
    assert!(builds
        .iter()
        .all(|l| l.contains("'--isolation=<auto: from node build>'")));
    // ISOLATION=auto says the same; process and hyperv write the flag out.
    assert_eq!(plan_with(&w, "1809 ltsc2022", false, Some("auto")), auto);
    for forced in ["process", "hyperv"] {
        let p = plan_with(&w, "1809 ltsc2022", false, Some(forced));
        assert_eq!(
            p,
            auto.replace(
                "'--isolation=<auto: from node build>'",
                &format!("--isolation={forced}")
            )
        );
    }
}

#[test]
fn three_os_versions() {
    let w = world();
    golden("matrix-3.txt", &plan(&w, "1809 ltsc2022 ltsc2025", false));
    golden("matrix-3.json", &plan(&w, "1809 ltsc2022 ltsc2025", true));
}

#[test]
fn structure_per_node_and_list_after_every_push() {
    let w = world();
    let v: serde_json::Value =
        serde_json::from_str(&plan(&w, "1809 ltsc2022 ltsc2025", true)).expect("json");
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(v["mode"], "matrix");
    // Per image: 3 builds, 3 pushes, 1 list, 3 caches and the plain `-linux-cache`.
    assert_eq!(steps.len(), 22);
    // The plain tag is the first OS version's cache image, copied in the registry after it
    // is pushed (not built a second time).
    let plain: Vec<&serde_json::Value> = steps
        .iter()
        .filter(|s| {
            s["what"]
                .as_str()
                .is_some_and(|t| t.ends_with("-linux-cache"))
        })
        .collect();
    assert_eq!(plain.len(), 2, "{plain:#?}");
    for p in plain {
        assert_eq!(p["kind"], "cache");
        assert_eq!(p["os_version"], "1809");
        let argv: Vec<String> = serde_json::from_value(p["argv"].clone()).expect("argv");
        let image = p["image"].as_str().expect("image");
        assert_eq!(
            argv[..5],
            ["docker", "buildx", "imagetools", "create", "-t"],
            "{argv:?}"
        );
        assert!(
            argv[6].contains(image) && argv[6].ends_with("-linux-amd64-1809"),
            "{argv:?}"
        );
        let after: Vec<u64> = serde_json::from_value(p["depends_on"].clone()).expect("deps");
        let source = steps
            .iter()
            .find(|s| s["id"] == serde_json::json!(after[0]))
            .expect("dependency");
        assert_eq!(after.len(), 1, "{p:#}");
        assert!(
            source["what"]
                .as_str()
                .is_some_and(|w| w.ends_with(&argv[6])),
            "the copy waits for the cache image it copies: {source:#}"
        );
    }
    for s in steps {
        let kind = s["kind"].as_str().expect("kind");
        let after: Vec<u64> = serde_json::from_value(s["depends_on"].clone()).expect("deps");
        let dep = |i: u64| &steps[i as usize - 1];
        match kind {
            "build" => assert!(after.is_empty()),
            "push" => {
                assert_eq!(after.len(), 1);
                assert_eq!(dep(after[0])["kind"], "build");
                assert_eq!(dep(after[0])["os_version"], s["os_version"]);
                assert_eq!(dep(after[0])["node"], s["node"]);
            }
            "manifest-list" => {
                // The list waits for every version's push of its image.
                assert_eq!(after.len(), 3);
                assert!(after
                    .iter()
                    .all(|&a| dep(a)["kind"] == "push" && dep(a)["image"] == s["image"]));
                assert_eq!(s["node"], "local");
            }
            "cache" => {
                // A cache build waits for its release's push; the plain tag's copy for the
                // first release's cache image (checked above).
                assert_eq!(after.len(), 1);
                let plain = s["what"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("-linux-cache"));
                let want = if plain { "cache" } else { "push" };
                assert_eq!(dep(after[0])["kind"], want);
                assert_eq!(dep(after[0])["os_version"], s["os_version"]);
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    // Node URLs: the per-version variable wins, REMOTE_DOCKER_URL is the fallback; certs per version.
    let argv = |i: usize| -> Vec<String> {
        serde_json::from_value(steps[i]["argv"].clone()).expect("argv")
    };
    let by_os = |os: &str| {
        steps
            .iter()
            .position(|s| s["kind"] == "build" && s["os_version"] == os)
            .expect("build")
    };
    assert_eq!(argv(by_os("ltsc2022"))[9], "tcp://win2022:2376");
    assert_eq!(argv(by_os("1809"))[9], "tcp://win-any:2376");
    assert!(argv(by_os("ltsc2025"))[3].ends_with("CERTBASE/.docker-ltsc2025/ca.pem"));
}
