//! Cache-only images (a `Dockerfile`, `linux/amd64/<os>=<image>` BASEIMAGE lines, no
//! `Dockerfile_windows`), without a stack: their plan in compat mode (every BASEIMAGE line,
//! after the node images, whose argv stays upstream's; only when named: compat mode's default
//! set is the node images) and matrix mode (OS_VERSIONS); a run of
//! only cache-only images needs no node (no URL, no certs, only buildx called); sub-targets that
//! only build or push on the node refuse them; doctor checks no node for them; the folder
//! contradictions are bad input. The real-stack side is in `consumer_e2e.rs`.

use std::path::PathBuf;

use crate::support::*;

const CACHE_ONLY_DOCKERFILE: &str = "ARG BASEIMAGE\nFROM --platform=windows/amd64 $BASEIMAGE AS core\nFROM scratch\nCOPY --from=core /Windows/System32/netapi32.dll /Windows/System32/netapi32.dll\n";

/// A cache-only image folder: VERSION, Dockerfile, BASEIMAGE with `lines`.
fn cache_only(w: &World, name: &str, lines: &str) -> PathBuf {
    let d = w.images().join(name);
    write(&d.join("VERSION"), "1.0\n");
    write(&d.join("Dockerfile"), CACHE_ONLY_DOCKERFILE);
    write(&d.join("BASEIMAGE"), lines);
    d
}

const CORE_LINES: &str = "# servercore per release\nlinux/amd64/1809=mcr.microsoft.com/windows/servercore:ltsc2019\nlinux/amd64/ltsc2022=REGISTRY/servercore:ltsc2022\n";

fn world() -> World {
    let w = World::new("cacheonly");
    w.image("alpha", "1.0.0");
    cache_only(&w, "core", CORE_LINES);
    w
}

fn argvs(w: &World, args: &[&str], env: &[(&str, &str)]) -> Vec<Vec<String>> {
    let mut c = w.xtask();
    c.args(args).env("REGISTRY", "127.0.0.1:5000/e2e");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = run(&mut c);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    bash_argvs(&stdout(&o))
}

fn cache_argv(w: &World, os: &str, base: &str) -> Vec<String> {
    let mut a: Vec<String> = [
        "docker",
        "buildx",
        "build",
        "--progress=plain",
        "--no-cache",
        "--pull",
        "--output=type=registry",
        "--platform",
        "linux/amd64",
        "--build-arg",
    ]
    .map(String::from)
    .into();
    a.push(format!("OS_VERSION={os}"));
    a.push("--build-arg".into());
    a.push(format!("BASEIMAGE={base}"));
    a.push("-t".into());
    a.push(format!("127.0.0.1:5000/e2e/core:1.0-linux-amd64-{os}"));
    a.push(format!("{}/", w.images().join("core").display()));
    a
}

#[test]
fn compat_mode_builds_every_baseimage_line_after_the_node_images_unchanged() {
    let w = world();
    let node = [("REMOTE_DOCKER_URL", "tcp://winbuild:2376")];
    let both = argvs(&w, &["plan", "all-push-as-linux", "alpha", "core"], &node);
    let alone = argvs(&w, &["plan", "all-push-as-linux", "alpha"], &node);
    // The node image's commands are exactly what they are without the cache-only image.
    assert_eq!(both[..alone.len()], alone[..]);
    assert_eq!(alone.len(), 3);
    // Then one buildx build per BASEIMAGE line, REGISTRY replaced, no node.
    assert_eq!(
        both[alone.len()..],
        [
            cache_argv(&w, "1809", "mcr.microsoft.com/windows/servercore:ltsc2019"),
            cache_argv(&w, "ltsc2022", "127.0.0.1:5000/e2e/servercore:ltsc2022"),
        ]
    );
    // Targets that only build or push on the node have nothing to do for it.
    for t in ["all-build", "all-push"] {
        let with = argvs(&w, &["plan", t, "alpha", "core"], &node);
        assert_eq!(with, argvs(&w, &["plan", t, "alpha"], &node), "{t}");
    }
    // sub-repush-as-linux builds its cache images alone.
    assert_eq!(
        argvs(&w, &["plan", "sub-repush-as-linux-core"], &[]),
        both[alone.len()..]
    );
    assert!(w.calls().is_empty(), "planning ran docker: {:?}", w.calls());
}

/// Compat mode's default set is upstream's: the node images. A cache-only image is built when
/// named (IMAGES, an argument, its sub-target) or in matrix mode, and the run says what it left
/// out and how to get it.
#[test]
fn compat_mode_default_set_leaves_cache_only_images_out_and_says_so() {
    let w = world();
    let node = [("REMOTE_DOCKER_URL", "tcp://winbuild:2376")];
    let default = argvs(&w, &["plan", "all-push-as-linux"], &node);
    assert_eq!(
        default,
        argvs(&w, &["plan", "all-push-as-linux", "alpha"], &node)
    );
    let o = run(w
        .xtask()
        .args(["plan", "all-push-as-linux"])
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("not built: cache-only core") && err.contains("sub-repush-as-linux-IMG"),
        "{err}"
    );
    // Named through IMAGES: built, and no note.
    let o = run(w
        .xtask()
        .args(["plan", "all-push-as-linux"])
        .env("IMAGES", "alpha core")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("note:"), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("core:1.0-linux-amd64-1809"),
        "{}",
        stdout(&o)
    );
    // Matrix mode's default set has every image.
    let o = run(w
        .xtask()
        .args(["plan", "all-push-as-linux"])
        .env("OS_VERSIONS", "1809")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("core:1.0-linux-amd64-1809"),
        "{}",
        stdout(&o)
    );
    assert!(!stderr(&o).contains("note:"), "{}", stderr(&o));
}

#[test]
fn matrix_mode_builds_the_os_versions_and_no_list_or_plain_tag() {
    let w = world();
    let env = [
        ("OS_VERSIONS", "ltsc2022"),
        ("REMOTE_DOCKER_URL", "tcp://winbuild:2376"),
    ];
    let o = run(w
        .xtask()
        .args(["plan", "all-push-as-linux", "--json"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .envs(env));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let core: Vec<&serde_json::Value> = v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["image"] == "core")
        .collect();
    assert_eq!(core.len(), 1, "{core:#?}");
    assert_eq!(core[0]["kind"], "cache");
    assert_eq!(core[0]["node"], "local");
    assert_eq!(core[0]["depends_on"], serde_json::json!([]));
    let argv: Vec<String> = serde_json::from_value(core[0]["argv"].clone()).expect("argv");
    assert_eq!(
        argv,
        cache_argv(&w, "ltsc2022", "127.0.0.1:5000/e2e/servercore:ltsc2022")
    );

    // A release its BASEIMAGE lacks is bad input, hinting at the linux/amd64 key.
    let o = run(w
        .xtask()
        .args(["plan", "all-push-as-linux"])
        .env("OS_VERSIONS", "1809 ltsc2025"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("core/BASEIMAGE"), "{err}");
    assert!(err.contains("no line for OS version ltsc2025"), "{err}");
    assert!(err.contains("linux/amd64/ltsc2025=<base image>"), "{err}");
}

#[test]
fn a_run_of_only_cache_only_images_needs_no_node_nor_certs() {
    let w = world();
    for (args, mode) in [
        (vec!["push-as-linux", "core"], None),
        (vec!["sub-repush-as-linux-core"], None),
        (vec!["push-as-linux", "core"], Some("1809 ltsc2022")),
    ] {
        let _ = std::fs::remove_file(w.log());
        let mut c = w.xtask();
        c.args(&args)
            .env("REGISTRY", "127.0.0.1:5000/e2e")
            .env("DOCKER_CERT_PATH", w.root().join("no-such-certs"))
            .env_remove("REMOTE_DOCKER_URL");
        if let Some(oses) = mode {
            c.env("OS_VERSIONS", oses);
        }
        let o = run(&mut c);
        assert!(o.status.success(), "{args:?} {mode:?}: {}", stderr(&o));
        let calls = w.mutating_calls();
        assert_eq!(calls.len(), 2, "{calls:?}");
        for call in &calls {
            assert_eq!(call[..2], ["buildx", "build"], "{call:?}");
            assert!(!call.iter().any(|a| a.starts_with("--tls")), "{call:?}");
        }
    }
    // A mixed run still needs the node, for the node image only.
    let _ = std::fs::remove_file(w.log());
    let o = run(w
        .xtask()
        .args(["push-as-linux"])
        .env_remove("REMOTE_DOCKER_URL"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("REMOTE_DOCKER_URL"), "{}", stderr(&o));
    assert!(w.mutating_calls().is_empty(), "{:?}", w.mutating_calls());
}

#[test]
fn sub_build_and_sub_push_refuse_a_cache_only_image() {
    let w = world();
    for t in ["sub-build-core", "sub-push-core"] {
        let o = run(w
            .xtask()
            .arg(t)
            .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
        assert_eq!(o.status.code(), Some(2), "{t}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("image=\"core\": a cache-only image"), "{err}");
        assert!(err.contains("hint: sub-repush-as-linux-core"), "{err}");
        assert!(w.mutating_calls().is_empty(), "{:?}", w.mutating_calls());
    }
}

#[test]
fn doctor_checks_no_node_for_cache_only_images() {
    let w = world();
    let o = run(w
        .xtask()
        .args(["doctor", "push-as-linux", "core", "--json"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env_remove("REMOTE_DOCKER_URL"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&o), stderr(&o)));
    let scopes = |v: &serde_json::Value| -> Vec<String> {
        v["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| c["scope"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert!(scopes(&v).iter().all(|s| s == "local"), "{v}");
    assert!(
        v.to_string()
            .contains("all-push-as-linux does not use a Windows node (its images are cache-only"),
        "{v}"
    );
    // With the node image too, the node is checked (and found unset).
    let o = run(w
        .xtask()
        .args(["doctor", "push-as-linux", "--json"])
        .env_remove("REMOTE_DOCKER_URL"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(scopes(&v).iter().any(|s| s == "node"), "{v}");
}

#[test]
fn contradicting_folders_are_bad_input() {
    // linux/amd64 lines beside a Dockerfile_windows.
    let w = World::new("cacheonly-bad");
    let a = w.image("alpha", "1.0");
    write(&a.join("BASEIMAGE"), "linux/amd64/1809=x:1\n");
    let o = run(w.xtask().args(["plan", "all-push-as-linux"]));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("alpha/BASEIMAGE:1=\"linux/amd64/1809=x:1\""),
        "{err}"
    );
    assert!(err.contains("make a cache-only image"), "{err}");
    assert!(err.contains("Dockerfile_windows exists"), "{err}");
    // One file, two kinds.
    write(
        &a.join("BASEIMAGE"),
        "windows/amd64/1809=x:1\n\nlinux/amd64/ltsc2022=y:1\n",
    );
    let o = run(w.xtask().args(["plan", "all-push-as-linux"]));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("alpha/BASEIMAGE:3"), "{err}");
    assert!(
        err.contains("a linux/amd64/ line after windows/amd64/ lines (line 1)"),
        "{err}"
    );
    // A cache-only image without its Dockerfile.
    let w = World::new("cacheonly-nodf");
    let c = cache_only(&w, "core", CORE_LINES);
    std::fs::remove_file(c.join("Dockerfile")).expect("rm");
    let o = run(w.xtask().args(["plan", "sub-repush-as-linux-core"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("core/Dockerfile\": missing"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("a cache-only image"), "{}", stderr(&o));
    assert!(w.calls().is_empty());
}
