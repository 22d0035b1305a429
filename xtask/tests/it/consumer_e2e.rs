//! The consumer half, on the real stack: after the tool pushed the cache images (compat mode,
//! matrix mode, a run of only cache-only images), a downstream Windows image is built the way
//! Kubernetes' image-util.sh builds every Windows test image — `docker buildx build --platform
//! windows/amd64 --provenance=false --sbom=false --output=type=registry` on the Linux daemon,
//! `FROM --platform=linux/amd64 <cache image> AS …`, `FROM <Windows base>`, `COPY --from`, no
//! RUN — and read back through the registry's HTTP API: a windows/amd64 image whose files sit
//! at their Windows paths (`Files/…`), with the content of the right release. The helper
//! fixture holds a relative symlink (as powershell-helper's `powershell.exe -> pwsh.exe`): what
//! its target becomes at each hop is asserted as it is (buildx prefixes `Files/`,
//! docker/buildx#373) and written in docs/consuming.md. Ignored without the stack (`make e2e`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::stack::{images, Stack};
use crate::support::TempDir;
use serde_json::Value;

fn ok(o: &Output, what: &str) -> String {
    let text = format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success(),
        "{what} failed ({:?}):\n{text}",
        o.status.code()
    );
    text
}

/// The consumer fixtures (ci/fixtures/consumer: `linky`, a node image with a symlink, and
/// `base-cache`, a cache-only image over the stack's Windows bases) in a folder of the test's
/// own, the default base of `linky`'s Dockerfile_windows pointing into `ns`.
fn fixtures(s: &Stack, ns: &str) -> (TempDir, PathBuf) {
    let tmp = TempDir::new("consumer");
    let dir = tmp.path().join("images");
    // cp -R keeps the payload's symlink a symlink (as git checked it out).
    let o = Command::new("cp")
        .arg("-R")
        .arg(s.root.join("ci/fixtures/consumer"))
        .arg(&dir)
        .output()
        .expect("cp");
    ok(&o, "cp -R ci/fixtures/consumer");
    let link = dir.join("linky/payload/bin/alias.exe");
    assert_eq!(
        std::fs::read_link(&link).expect("the fixture's alias.exe is a symlink"),
        PathBuf::from("tool.exe")
    );
    let f = dir.join("linky/Dockerfile_windows");
    let text = std::fs::read_to_string(&f).expect("Dockerfile_windows");
    let text = text.replace("ARG BASEIMAGE=REGISTRY/", &format!("ARG BASEIMAGE={ns}/"));
    std::fs::write(&f, text).expect("write");
    (tmp, dir)
}

/// The consumer: a Windows image taking files out of both cache images, in the style of
/// upstream's busybox (powershell-helper's `-linux-cache`) and agnhost
/// (`windows-servercore-cache:1.0-linux-amd64-$OS_VERSION`), with busybox's symlink workaround.
const CONSUMER: &str = r#"# A downstream Windows image, built as image-util.sh builds one: buildx on Linux, no RUN.
ARG REGISTRY
ARG OS_VERSION
ARG HELPER_TAG=1.0-linux-cache
# --platform=linux/amd64: the build is for windows/amd64, and the cache images are Linux images
# (kubernetes/kubernetes#100337).
FROM --platform=linux/amd64 $REGISTRY/linky:$HELPER_TAG AS helper
FROM --platform=linux/amd64 $REGISTRY/base-cache:1.0-linux-amd64-$OS_VERSION AS core
FROM $REGISTRY/windows-base:$OS_VERSION
COPY --from=helper /linky /tools
# busybox's workaround for docker/buildx#373: the link's target where the rewritten link points.
COPY --from=helper /linky/bin/tool.exe /tools/bin/Files/
COPY --from=core /Windows/System32/fixture-base.txt /Windows/System32/fixture-base-copy.txt
"#;

/// Builds and pushes the consumer for `os` as image-util.sh does; returns its reference.
fn build_consumer(s: &Stack, ns: &str, name: &str, os: &str, helper_tag: &str) -> String {
    let ctx = TempDir::new("consumer-ctx");
    crate::support::write(&ctx.path().join("Dockerfile"), CONSUMER);
    let tag = format!("{ns}/consumer:{name}");
    let o = s
        .cmd("docker")
        .args([
            "buildx",
            "build",
            "--progress=plain",
            "--no-cache",
            "--pull",
            "--output=type=registry",
            "--platform",
            "windows/amd64",
            "--provenance=false",
            "--sbom=false",
        ])
        .arg("--build-arg")
        .arg(format!("REGISTRY={ns}"))
        .arg("--build-arg")
        .arg(format!("OS_VERSION={os}"))
        .arg("--build-arg")
        .arg(format!("HELPER_TAG={helper_tag}"))
        .args(["-t", &tag, "-f"])
        .arg(ctx.path().join("Dockerfile"))
        .arg(ctx.path())
        .output()
        .expect("docker buildx build");
    ok(&o, &format!("consumer build {tag}"));
    tag
}

/// The one image at REF (attestations aside): `os/arch`, its files, its symlinks.
fn image(s: &Stack, reference: &str) -> (String, Vec<String>, BTreeMap<String, String>) {
    let v = s
        .inspect(reference)
        .unwrap_or_else(|| panic!("{reference} not in the registry"));
    let imgs = images(&v);
    assert_eq!(imgs.len(), 1, "{reference}: {imgs:?}");
    let img = match v["manifests"].as_array() {
        Some(m) => m
            .iter()
            .find(|e| !e["image"].is_null())
            .map(|e| e["image"].clone())
            .unwrap_or(Value::Null),
        None => v["image"].clone(),
    };
    let links = img["links"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut files = imgs[0].3.clone();
    files.sort();
    (format!("{}/{}", imgs[0].0, imgs[0].1), files, links)
}

/// The file's content at REF, as text.
fn cat(s: &Stack, reference: &str, path: &str) -> String {
    let bytes = s
        .cat(reference, path)
        .unwrap_or_else(|| panic!("{reference} has no {path}"));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What each hop makes of the helper's `bin/alias.exe -> tool.exe` (asserted, and written in
/// docs/consuming.md): BuildKit writes a Windows layer's symlink target with
/// a `Files/` prefix (docker/buildx#373) — the stand-in node does so in the Windows image itself
/// (a real Windows node stores the target as given) — reads it back without the prefix into the
/// Linux cache image, and prefixes it again in the consumer's Windows layer.
const NODE_LINK: &str = "Files/tool.exe";
const CACHE_LINK: &str = "tool.exe";
const CONSUMER_LINK: &str = "Files/tool.exe";

/// The consumer at REF for release `os`: a single windows/amd64 manifest (no index, so
/// `docker manifest create` takes it), the helper's files at `Files/tools/…`, the rewritten
/// symlink, busybox's workaround file where the link points, and the cache-only image's file of
/// that release.
fn assert_consumer(s: &Stack, reference: &str, os: &str) {
    let v = s.inspect(reference).expect("consumer pushed");
    assert_eq!(v["kind"], "manifest", "{reference}: {v}");
    let (platform, files, links) = image(s, reference);
    assert_eq!(platform, "windows/amd64", "{reference}");
    for want in [
        "Files/License.txt",
        "Files/tools/README.txt",
        "Files/tools/bin/tool.exe",
        "Files/tools/bin/alias.exe",
        "Files/tools/bin/Files/tool.exe",
        "Files/Windows/System32/fixture-base-copy.txt",
    ] {
        assert!(
            files.iter().any(|f| f == want),
            "{reference} lacks {want}: {files:?}"
        );
    }
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("Files/") || f.starts_with("Hives/")),
        "{reference}: a file outside Files/ and Hives/: {files:?}"
    );
    assert_eq!(
        links.get("Files/tools/bin/alias.exe").map(String::as_str),
        Some(CONSUMER_LINK),
        "{reference}: {links:?}"
    );
    // The rewritten link, resolved from its folder as Windows does, finds the workaround copy.
    let resolved = format!("Files/tools/bin/{CONSUMER_LINK}");
    assert!(files.contains(&resolved), "{resolved} not in {files:?}");
    assert_eq!(cat(s, reference, &resolved), "the tool\r\n");
    assert_eq!(
        cat(s, reference, "Files/Windows/System32/fixture-base-copy.txt"),
        format!(
            "fixture base {}\r\n",
            s.var(&format!("NODE_OS_VERSION_{os}"))
        )
    );
}

fn xtask(s: &Stack, ns: &str, dir: &Path, args: &[&str]) -> Command {
    let mut c = s.xtask(ns, dir);
    c.args(args);
    c
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn compat_mode_cache_images_serve_a_buildx_only_consumer() {
    let s = Stack::get();
    let ns = s.namespace("consumer-compat");
    let (_tmp, dir) = fixtures(&s, &ns);
    let out = ok(
        &xtask(&s, &ns, &dir, &["push-as-linux", "linky", "base-cache"])
            .output()
            .expect("xtask"),
        "push-as-linux (compat)",
    );
    // Compat mode: linky's three upstream steps, then base-cache (named: compat mode's default
    // set is the node images) for every BASEIMAGE line.
    assert!(
        out.contains("summary all-push-as-linux: 5 ok, 0 failed"),
        "{out}"
    );

    // The symlink at each hop before the consumer.
    let (platform, _, links) = image(&s, &format!("{ns}/linky:1.0"));
    assert_eq!(platform, "windows/amd64");
    assert_eq!(
        links.get("Files/linky/bin/alias.exe").map(String::as_str),
        Some(NODE_LINK),
        "{links:?}"
    );
    let (platform, files, links) = image(&s, &format!("{ns}/linky:1.0-linux-cache"));
    assert_eq!(platform, "linux/amd64");
    assert_eq!(
        files,
        [
            "linky/README.txt",
            "linky/bin/alias.exe",
            "linky/bin/tool.exe"
        ]
    );
    assert_eq!(
        links.get("linky/bin/alias.exe").map(String::as_str),
        Some(CACHE_LINK),
        "{links:?}"
    );
    for os in ["1809", "ltsc2022"] {
        let r = format!("{ns}/base-cache:1.0-linux-amd64-{os}");
        let (platform, files, _) = image(&s, &r);
        assert_eq!(platform, "linux/amd64", "{r}");
        assert_eq!(
            files,
            ["License.txt", "Windows/System32/fixture-base.txt"],
            "{r}"
        );
    }

    // Consumers on both releases' bases, from the one plain -linux-cache tag.
    for os in ["1809", "ltsc2022"] {
        let r = build_consumer(&s, &ns, &format!("compat-{os}"), os, "1.0-linux-cache");
        assert_consumer(&s, &r, os);
    }
    // verify checks the images the run was given (the default set has only linky).
    let o = xtask(&s, &ns, &dir, &["verify", "linky", "base-cache"])
        .output()
        .expect("verify");
    assert!(ok(&o, "verify").contains("all 4 tags hold"));
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn matrix_mode_pushes_the_plain_cache_tag_and_per_release_caches_that_consumers_use() {
    let s = Stack::get();
    let ns = s.namespace("consumer-matrix");
    let (_tmp, dir) = fixtures(&s, &ns);
    let run = |args: &[&str]| {
        let mut c = xtask(&s, &ns, &dir, args);
        c.env("OS_VERSIONS", "1809 ltsc2022").env(
            "REMOTE_DOCKER_URL_ltsc2022",
            s.var("REMOTE_DOCKER_URL_ltsc2022"),
        );
        c.output().expect("xtask")
    };
    let out = ok(&run(&["push-as-linux"]), "push-as-linux (matrix)");
    // linky: 2 builds, 2 pushes, 1 list, 2 caches, the plain cache; base-cache: 2 caches.
    assert!(
        out.contains("summary all-push-as-linux: 10 ok, 0 failed"),
        "{out}"
    );

    // The plain tag holds what the first release's cache image holds.
    let plain = image(&s, &format!("{ns}/linky:1.0-linux-cache"));
    let first = image(&s, &format!("{ns}/linky:1.0-linux-amd64-1809"));
    assert_eq!(plain.0, "linux/amd64");
    assert_eq!((&plain.1, &plain.2), (&first.1, &first.2));
    let v = s
        .inspect(&format!("{ns}/linky:1.0-windows-amd64-1809"))
        .expect("pushed");
    let fixture_os = v["manifests"]
        .as_array()
        .and_then(|m| m.iter().find(|e| !e["image"].is_null()))
        .map(|e| e["image"]["labels"]["fixture.os-version"].clone())
        .unwrap_or_else(|| v["image"]["labels"]["fixture.os-version"].clone());
    assert_eq!(fixture_os, "1809");

    // Consumers: from the plain tag (written against compat mode) and from a per-release tag,
    // each with the cache-only image of its own release.
    let r = build_consumer(&s, &ns, "matrix-1809", "1809", "1.0-linux-cache");
    assert_consumer(&s, &r, "1809");
    let r = build_consumer(
        &s,
        &ns,
        "matrix-ltsc2022",
        "ltsc2022",
        "1.0-linux-amd64-ltsc2022",
    );
    assert_consumer(&s, &r, "ltsc2022");

    // verify checks every tag, the plain one included, and notices it gone.
    let o = run(&["verify"]);
    let out = ok(&o, "verify (matrix)");
    assert!(out.contains("all 8 tags hold"), "{out}");
    assert!(
        out.contains(&format!("✓  {ns}/linky:1.0-linux-cache ")),
        "{out}"
    );
    // The plain tag is a copy: the very manifest (or index) the first release's tag holds.
    assert_eq!(
        s.digest(&format!("{ns}/linky:1.0-linux-cache"), None),
        s.digest(&format!("{ns}/linky:1.0-linux-amd64-1809"), None)
    );
    // Deleting it by digest would delete the 1809 tag's image too: point it elsewhere instead
    // (a list over the Windows image, not a linux/amd64 image).
    let windows = s.digest(
        &format!("{ns}/linky:1.0-windows-amd64-1809"),
        Some("windows/amd64"),
    );
    s.put_list(&format!("{ns}/linky:1.0-linux-cache"), &[windows]);
    let o = run(&["verify"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("1 of 8 tags wrong: {ns}/linky:1.0-linux-cache")),
        "{err}"
    );
}

/// A run of only cache-only images: no REMOTE_DOCKER_URL, no certificates, no node touched;
/// doctor agrees; skip-unchanged hashes the folder and the base of each release.
#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn cache_only_images_need_no_node_and_skip_when_unchanged() {
    let s = Stack::get();
    let ns = s.namespace("consumer-nonode");
    let (tmp, dir) = fixtures(&s, &ns);
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let run = |args: &[&str]| {
        let mut c = s.cmd(env!("CARGO_BIN_EXE_xtask"));
        c.env("REGISTRY", &ns)
            .env("IMAGES_DIR", &dir)
            .env("HOME", &home)
            .env("OS_VERSIONS", "1809 ltsc2022")
            .args(args);
        c.output().expect("xtask")
    };
    let out = ok(
        &run(&["push-as-linux", "base-cache", "--skip-unchanged"]),
        "push-as-linux base-cache",
    );
    assert!(
        out.contains("2 ok, 0 failed") && !out.contains("skipped"),
        "{out}"
    );

    let out = ok(&run(&["doctor", "push-as-linux", "base-cache"]), "doctor");
    assert!(
        out.contains("all-push-as-linux does not use a Windows node (its images are cache-only"),
        "{out}"
    );
    let out = ok(&run(&["verify", "push-as-linux", "base-cache"]), "verify");
    assert!(out.contains("all 2 tags hold"), "{out}");

    let out = ok(
        &run(&["push-as-linux", "base-cache", "--skip-unchanged"]),
        "second run",
    );
    assert!(
        out.contains("0 ok, 0 failed, 0 stopped, 0 not started, 2 skipped (unchanged)"),
        "{out}"
    );

    // ltsc2022's base moves to a new patch: only that release is rebuilt.
    let host = s.var("REGISTRY_HOST");
    let repo = format!("{}/windows-base", ns.split_once('/').expect("ns").1);
    let o = Command::new("python3")
        .arg(s.root.join("ci/registry.py"))
        .args(["seed-base", &host, &repo, "ltsc2022", "10.0.20348.9999"])
        .output()
        .expect("seed");
    ok(&o, "seed-base");
    let out = ok(
        &run(&["push-as-linux", "base-cache", "--skip-unchanged"]),
        "after the base moved",
    );
    assert!(
        out.contains("1 ok, 0 failed, 0 stopped, 0 not started, 1 skipped (unchanged)"),
        "{out}"
    );
    assert_eq!(
        cat(
            &s,
            &format!("{ns}/base-cache:1.0-linux-amd64-ltsc2022"),
            "Windows/System32/fixture-base.txt"
        ),
        "fixture base 10.0.20348.9999\r\n"
    );
}
