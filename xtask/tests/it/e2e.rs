//! End to end on the real stack (ci/stack.sh): the user's entry points (`make … all-build`,
//! `all-push`, `all-push-as-linux`, `sub-*`, and `xtask verify`) against TLS dockerds that
//! write Windows-layout images, a buildx daemon and a registry; every result checked through
//! the registry's HTTP API, independently of the tool. Ignored without the stack (`make e2e`).

use std::path::Path;

use crate::support::stack::{images, Stack};

fn ok(o: &std::process::Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({:?}):\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn files(v: &[(String, String, Option<String>, Vec<String>)]) -> Vec<String> {
    let mut f = v[0].3.clone();
    f.sort();
    f
}

/// The one image (attestations aside) at REF: its platform, and its sorted file list.
fn one_image(s: &Stack, reference: &str, platform: &str) -> Vec<String> {
    let v = s
        .inspect(reference)
        .unwrap_or_else(|| panic!("{reference} not in the registry"));
    let imgs = images(&v);
    assert_eq!(imgs.len(), 1, "{reference}: {imgs:?}");
    assert_eq!(
        format!("{}/{}", imgs[0].0, imgs[0].1),
        platform,
        "{reference}"
    );
    files(&imgs)
}

/// The Windows image at REF: one windows/amd64 image whose layers hold `want`.
fn assert_windows(s: &Stack, reference: &str, want: &[&str]) {
    let files = one_image(s, reference, "windows/amd64");
    for w in want {
        assert!(
            files.iter().any(|f| f == w),
            "{reference} lacks {w}: {files:?}"
        );
    }
}

/// The cache image at REF: one linux/amd64 image holding exactly `want`.
fn assert_cache(s: &Stack, reference: &str, want: &[&str]) {
    assert_eq!(one_image(s, reference, "linux/amd64"), want, "{reference}");
}

const ALPHA_WIN: [&str; 3] = [
    "Files/alpha/hello.txt",
    "Files/alpha/config.ini",
    "Files/alpha/sub/nested.txt",
];
const ALPHA_CACHE: [&str; 3] = [
    "alpha/config.ini",
    "alpha/hello.txt",
    "alpha/sub/nested.txt",
];
const BETA_WIN: [&str; 1] = ["Files/beta/bin/tool.txt"];
const BETA_CACHE: [&str; 1] = ["usr/local/bin/tool.txt"];

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn make_all_push_as_linux_then_verify() {
    let s = Stack::get();
    let r = s.namespace("compat");
    let dir = s.fixtures();
    let o = s.make(&r, &dir, "all-push-as-linux", &[]);
    ok(&o, "make all-push-as-linux");
    assert_windows(&s, &format!("{r}/alpha:1.0"), &ALPHA_WIN);
    assert_windows(&s, &format!("{r}/beta:2.1"), &BETA_WIN);
    assert_cache(&s, &format!("{r}/alpha:1.0-linux-cache"), &ALPHA_CACHE);
    assert_cache(&s, &format!("{r}/beta:2.1-linux-cache"), &BETA_CACHE);

    // verify agrees, then notices a tag deleted behind its back.
    let o = s.xtask(&r, &dir).arg("verify").output().expect("verify");
    ok(&o, "verify");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("all 4 tags hold"), "{out}");
    assert_eq!(out.matches('✓').count(), 4, "{out}");

    s.delete(&format!("{r}/beta:2.1-linux-cache"));
    let o = s.xtask(&r, &dir).arg("verify").output().expect("verify");
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        out.contains(&format!("✗  {r}/beta:2.1-linux-cache")),
        "{out}"
    );
    assert!(out.contains("missing"), "{out}");
    assert!(
        err.contains(&format!("1 of 4 tags wrong: {r}/beta:2.1-linux-cache")),
        "{err}"
    );
}

/// README's quick start: `. target/stack/env; make all-push-as-linux` in a
/// shell that has nothing else (no DOCKER_*, no IMAGES_DIR): the env file alone suffices.
#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn readme_main_job_runs_from_the_stack_env_file_alone() {
    let s = Stack::get();
    let r = s.var("REGISTRY");
    let tags = [
        format!("{r}/alpha:1.0"),
        format!("{r}/beta:2.1"),
        format!("{r}/alpha:1.0-linux-cache"),
        format!("{r}/beta:2.1-linux-cache"),
    ];
    // An earlier run on a stack left up may have pushed these: start from none.
    for t in &tags {
        if s.inspect(t).is_some() {
            s.delete(t);
        }
    }
    let mut c = std::process::Command::new("bash");
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir(&s.root)
        .arg("-c")
        .arg(r#". "$1" && make --no-print-directory all-push-as-linux"#)
        .arg("bash")
        .arg(&s.file);
    for k in ["HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"] {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    ok(&c.output().expect("bash"), ". env; make all-push-as-linux");
    assert_windows(&s, &tags[0], &ALPHA_WIN);
    assert_windows(&s, &tags[1], &BETA_WIN);
    assert_cache(&s, &tags[2], &ALPHA_CACHE);
    assert_cache(&s, &tags[3], &BETA_CACHE);
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn make_all_build_all_push_and_sub_targets_do_only_their_part() {
    let s = Stack::get();
    let r = s.namespace("sub");
    let dir = s.fixtures();

    // all-build builds on the node and pushes nothing.
    ok(&s.make(&r, &dir, "all-build", &[]), "make all-build");
    assert!(
        s.inspect(&format!("{r}/alpha:1.0")).is_none(),
        "all-build pushed"
    );

    // sub-push-alpha pushes alpha only (it was built above).
    ok(
        &s.make(&r, &dir, "sub-push-alpha", &[]),
        "make sub-push-alpha",
    );
    assert_windows(&s, &format!("{r}/alpha:1.0"), &ALPHA_WIN);
    assert!(
        s.inspect(&format!("{r}/beta:2.1")).is_none(),
        "sub-push-alpha pushed beta"
    );

    // sub-repush-as-linux-alpha makes alpha's cache image only.
    ok(
        &s.make(&r, &dir, "sub-repush-as-linux-alpha", &[]),
        "make sub-repush-as-linux-alpha",
    );
    assert_cache(&s, &format!("{r}/alpha:1.0-linux-cache"), &ALPHA_CACHE);
    assert!(s.inspect(&format!("{r}/beta:2.1-linux-cache")).is_none());

    // all-push builds and pushes both, no cache image for beta.
    ok(&s.make(&r, &dir, "all-push", &[]), "make all-push");
    assert_windows(&s, &format!("{r}/beta:2.1"), &BETA_WIN);
    assert!(s.inspect(&format!("{r}/beta:2.1-linux-cache")).is_none());

    // sub-build-beta rebuilds; sub-repush-as-linux-beta then needs no node at all.
    ok(
        &s.make(&r, &dir, "sub-build-beta", &[]),
        "make sub-build-beta",
    );
    let o = s
        .cmd("make")
        .arg(format!("REGISTRY={r}"))
        .arg(format!("IMAGES_DIR={}", dir.display()))
        .arg("sub-repush-as-linux-beta")
        .output()
        .expect("make");
    ok(&o, "make sub-repush-as-linux-beta without a node");
    assert_cache(&s, &format!("{r}/beta:2.1-linux-cache"), &BETA_CACHE);
}

fn matrix_vars(s: &Stack) -> Vec<String> {
    vec![
        "OS_VERSIONS=1809 ltsc2022".into(),
        format!("REMOTE_DOCKER_URL_1809={}", s.var("REMOTE_DOCKER_URL_1809")),
        format!(
            "REMOTE_DOCKER_URL_ltsc2022={}",
            s.var("REMOTE_DOCKER_URL_ltsc2022")
        ),
        format!("DOCKER_CERT_BASE_PATH={}", s.var("DOCKER_CERT_BASE_PATH")),
    ]
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn matrix_on_two_nodes_pushes_per_version_images_a_list_with_os_versions_and_caches() {
    let s = Stack::get();
    let r = s.namespace("matrix");
    let dir = s.fixtures();
    let o = s.make(&r, &dir, "all-push-as-linux", &matrix_vars(&s));
    ok(&o, "make all-push-as-linux (matrix)");
    let v1809 = s.var("NODE_OS_VERSION_1809");
    let v2022 = s.var("NODE_OS_VERSION_ltsc2022");
    for (img, win, cache, ver) in [
        ("alpha", &ALPHA_WIN[..], &ALPHA_CACHE[..], "1.0"),
        ("beta", &BETA_WIN[..], &BETA_CACHE[..], "2.1"),
    ] {
        for os in ["1809", "ltsc2022"] {
            let tag = format!("{r}/{img}:{ver}-windows-amd64-{os}");
            assert_windows(&s, &tag, win);
            // Built on that version's node from that version's base.
            let v = s.inspect(&tag).expect("tag");
            let label = v.to_string();
            assert!(
                label.contains(&format!("\"fixture.os-version\":\"{os}\"")),
                "{tag}: {label}"
            );
            assert_cache(&s, &format!("{r}/{img}:{ver}-linux-amd64-{os}"), cache);
        }
        // The plain tag consumers written against compat mode reference.
        assert_cache(&s, &format!("{r}/{img}:{ver}-linux-cache"), cache);
        // The list: both Windows images, each entry with its release's os.version.
        let list = s.inspect(&format!("{r}/{img}:{ver}")).expect("list");
        let mut entries: Vec<(String, Option<String>)> = images(&list)
            .into_iter()
            .map(|(os, arch, osv, _)| (format!("{os}/{arch}"), osv))
            .collect();
        entries.sort();
        assert_eq!(
            entries,
            vec![
                ("windows/amd64".to_string(), Some(v1809.clone())),
                ("windows/amd64".to_string(), Some(v2022.clone()))
            ],
            "{img}"
        );
    }
    let o = s
        .xtask(&r, &dir)
        .args(["verify"])
        .env("OS_VERSIONS", "1809 ltsc2022")
        .output()
        .expect("verify");
    ok(&o, "verify (matrix)");
    // Per image: 2 Windows images, the list, 2 per-release caches and the plain cache.
    assert!(String::from_utf8_lossy(&o.stdout).contains("all 12 tags hold"));
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn matrix_from_plain_manifests_like_a_real_windows_node() {
    // A real Windows node's classic builder pushes a plain manifest, not an index with an
    // attestation; BUILDX_NO_DEFAULT_ATTESTATIONS makes the stand-in nodes do the same.
    let s = Stack::get();
    let r = s.namespace("plain");
    let dir = s.fixtures();
    let mut c = s.xtask(&r, &dir);
    c.args(["push", "beta"])
        .env("OS_VERSIONS", "1809 ltsc2022")
        .env(
            "REMOTE_DOCKER_URL_ltsc2022",
            s.var("REMOTE_DOCKER_URL_ltsc2022"),
        )
        .env("DOCKER_CERT_BASE_PATH", s.var("DOCKER_CERT_BASE_PATH"))
        .env("BUILDX_NO_DEFAULT_ATTESTATIONS", "1");
    ok(&c.output().expect("xtask"), "xtask push (plain manifests)");
    let entry = s
        .inspect(&format!("{r}/beta:2.1-windows-amd64-1809"))
        .expect("entry");
    assert_eq!(
        entry["kind"], "manifest",
        "the node pushed an index: {entry}"
    );
    let list = s.inspect(&format!("{r}/beta:2.1")).expect("list");
    let mut vs: Vec<Option<String>> = images(&list).into_iter().map(|i| i.2).collect();
    vs.sort();
    assert_eq!(
        vs,
        vec![
            Some(s.var("NODE_OS_VERSION_1809")),
            Some(s.var("NODE_OS_VERSION_ltsc2022"))
        ]
    );
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn matrix_build_failing_on_one_node_pushes_no_list_and_names_the_node() {
    let s = Stack::get();
    let r = s.namespace("matrixfail");
    // A copy of alpha whose ltsc2022 base does not exist: only that node's build fails.
    let tmp = crate::support::TempDir::new("matrixfail");
    let dir = tmp.path().join("images");
    copy_dir(&s.fixtures().join("alpha"), &dir.join("alpha"));
    crate::support::write(
        &dir.join("alpha/BASEIMAGE"),
        "windows/amd64/1809=REGISTRY/windows-base:1809\nwindows/amd64/ltsc2022=REGISTRY/windows-base:nosuch\n",
    );
    let o = s.make(&r, &dir, "all-push-as-linux", &matrix_vars(&s));
    let err = String::from_utf8_lossy(&o.stderr);
    // make reports xtask's exit status 1 (a step failed) as "Error 1".
    assert!(!o.status.success() && err.contains("Error 1"), "{err}");
    assert!(
        err.contains("failed: build") && err.contains("node ltsc2022"),
        "{err}"
    );
    assert!(err.contains("not started"), "{err}");
    // No list points at a missing image; no cache for the failed version.
    assert!(
        s.inspect(&format!("{r}/alpha:1.0")).is_none(),
        "a list was pushed"
    );
    assert!(s
        .inspect(&format!("{r}/alpha:1.0-linux-amd64-ltsc2022"))
        .is_none());
    assert!(s
        .inspect(&format!("{r}/alpha:1.0-windows-amd64-ltsc2022"))
        .is_none());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}
