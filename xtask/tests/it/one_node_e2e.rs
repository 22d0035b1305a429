//! One node for every release, on the real stack: a matrix run of 1809 and ltsc2022 with only
//! REMOTE_DOCKER_URL set, so both releases build on the one node — the stack's ltsc2025 node,
//! which answers as Windows Server 2025 (its persona front, docs/personas.md): 1809 under
//! Hyper-V, ltsc2022 with process isolation, said in the run's output. Every result is checked
//! through the registry's HTTP API. Ignored without the stack (`make e2e`).

use crate::support::stack::{images, Stack};

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn both_releases_on_one_stand_in_node() {
    let s = Stack::get();
    let r = s.namespace("onenode");
    let url = s.var("REMOTE_DOCKER_URL_ltsc2025");
    let o = s
        .xtask(&r, &s.fixtures())
        .args(["push-as-linux"])
        .env("OS_VERSIONS", "1809 ltsc2022")
        .env("REMOTE_DOCKER_URL", &url)
        .output()
        .expect("xtask");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // The node was asked once and recognised as a Windows Server 2025 host for both releases.
    for (os, isolation) in [("1809", "hyperv"), ("ltsc2022", "process")] {
        assert!(
            err.contains(&format!(
                "xtask: isolation: node {url} (Windows build 26100): {os} → --isolation={isolation}"
            )),
            "{err}"
        );
    }
    // Both releases' builds went to the one node.
    let builds: Vec<&str> = err
        .lines()
        .filter(|l| {
            l.strip_prefix('[')
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                && l.contains("] build ")
        })
        .collect();
    assert_eq!(builds.len(), 4, "{err}");
    let v1809 = s.var("NODE_OS_VERSION_1809");
    let v2022 = s.var("NODE_OS_VERSION_ltsc2022");
    for (img, ver) in [("alpha", "1.0"), ("beta", "2.1")] {
        for os in ["1809", "ltsc2022"] {
            let tag = format!("{r}/{img}:{ver}-windows-amd64-{os}");
            let v = s
                .inspect(&tag)
                .unwrap_or_else(|| panic!("{tag} not pushed"));
            let imgs = images(&v);
            assert_eq!(imgs.len(), 1, "{tag}: {imgs:?}");
            assert_eq!(
                (imgs[0].0.as_str(), imgs[0].1.as_str()),
                ("windows", "amd64")
            );
            // Built for that release (its OS_VERSION build arg), from that release's base.
            assert!(
                v.to_string()
                    .contains(&format!("\"fixture.os-version\":\"{os}\"")),
                "{tag}: {v}"
            );
            let cache = format!("{r}/{img}:{ver}-linux-amd64-{os}");
            let c = s
                .inspect(&cache)
                .unwrap_or_else(|| panic!("{cache} not pushed"));
            assert_eq!(images(&c)[0].0, "linux", "{cache}");
        }
        let list = s
            .inspect(&format!("{r}/{img}:{ver}"))
            .unwrap_or_else(|| panic!("{img}: no list"));
        let mut vs: Vec<Option<String>> = images(&list).into_iter().map(|i| i.2).collect();
        vs.sort();
        assert_eq!(vs, vec![Some(v1809.clone()), Some(v2022.clone())], "{img}");
    }
}
