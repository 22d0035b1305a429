//! Two releases at once on the real stack (issue 19 §1): two `push-as-linux` runs in matrix
//! mode of *different* content (two branches: one file differs) on the same tags, started
//! together. The registry is never called done mixed: at most one run exits 0, and that one
//! owns every tag it pushed — each holds the digest its output said it pushed, and the files
//! in the Windows images and the cache image are its own; a run that does not own its release
//! exits 1 naming tags. Checked through the registry's HTTP API (`ci/registry.py`).

use std::path::Path;
use std::process::Output;

use crate::support::stack::Stack;

const OSES: [&str; 2] = ["1809", "ltsc2022"];

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

/// `xtask: pushed DIGEST to TAG` lines: what a run says it pushed.
fn pushed(err: &str) -> Vec<(String, String)> {
    err.lines()
        .filter_map(|l| l.split_once("xtask: pushed ").map(|(_, r)| r))
        .filter_map(|r| r.split_once(" to "))
        .map(|(d, t)| (t.trim().to_string(), d.to_string()))
        .collect()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn two_runs_of_different_content_never_both_call_the_release_done() {
    let s = Stack::get();
    let tmp = crate::support::TempDir::new("concurrent");
    let mut dirs = Vec::new();
    for who in ["A", "B"] {
        let images = tmp.path().join(who).join("images");
        copy_dir(&s.fixtures().join("beta"), &images.join("beta"));
        crate::support::write(
            &images.join("beta/payload/bin/tool.txt"),
            &format!("tool of branch {who}\n"),
        );
        dirs.push(images);
    }
    for round in 1..=3 {
        let r = s.namespace(&format!("concurrent{round}"));
        let children: Vec<_> = dirs
            .iter()
            .map(|d| {
                s.xtask(&r, d)
                    .env("OS_VERSIONS", OSES.join(" "))
                    .env(
                        "REMOTE_DOCKER_URL_ltsc2022",
                        s.var("REMOTE_DOCKER_URL_ltsc2022"),
                    )
                    .env("DOCKER_CERT_BASE_PATH", s.var("DOCKER_CERT_BASE_PATH"))
                    .args(["push-as-linux", "beta"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("xtask")
            })
            .collect();
        let outs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait"))
            .collect();
        let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
        let all = outs
            .iter()
            .zip(["A", "B"])
            .map(|(o, who)| format!("--- run {who} ({:?}):\n{}", o.status.code(), text(o)))
            .collect::<Vec<_>>()
            .join("\n");
        eprintln!("round {round}: exit codes {codes:?}");
        // For the record (`--nocapture`): how each run ended, and whose files each tag holds.
        for (o, who) in outs.iter().zip(["A", "B"]) {
            let t = text(o);
            let end: Vec<&str> = t.lines().rev().take(2).collect();
            eprintln!(
                "  run {who}: {}",
                end.into_iter().rev().collect::<Vec<_>>().join(" / ")
            );
        }
        let whose = |reference: &str, path: &str| {
            s.cat(reference, path)
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .trim()
                        .replace("tool of branch ", "")
                })
                .unwrap_or_else(|| "-".into())
        };
        for os in OSES {
            eprintln!(
                "  registry: windows-amd64-{os} holds {}, linux-amd64-{os} holds {}",
                whose(
                    &format!("{r}/beta:2.1-windows-amd64-{os}"),
                    "Files/beta/bin/tool.txt"
                ),
                whose(
                    &format!("{r}/beta:2.1-linux-amd64-{os}"),
                    "usr/local/bin/tool.txt"
                )
            );
        }
        eprintln!(
            "  registry: linux-cache holds {}",
            whose(
                &format!("{r}/beta:2.1-linux-cache"),
                "usr/local/bin/tool.txt"
            )
        );
        assert!(
            codes.iter().filter(|c| **c == Some(0)).count() <= 1,
            "round {round}: both runs called the release done:\n{all}"
        );
        for (o, who) in outs.iter().zip(["A", "B"]) {
            let err = text(o);
            match o.status.code() {
                Some(0) => {
                    // The winner owns every tag it pushed, and the content is its own.
                    let p = pushed(&err);
                    assert_eq!(
                        p.len(),
                        6,
                        "round {round}, run {who}: 6 tags pushed:\n{err}"
                    );
                    for (tag, digest) in &p {
                        assert_eq!(
                            &s.digest(tag, None),
                            digest,
                            "round {round}, run {who} exited 0 but {tag} is not what it pushed:\n{all}"
                        );
                    }
                    let mine = format!("tool of branch {who}\n").into_bytes();
                    for os in OSES {
                        let t = format!("{r}/beta:2.1-windows-amd64-{os}");
                        assert_eq!(
                            s.cat(&t, "Files/beta/bin/tool.txt").as_ref(),
                            Some(&mine),
                            "round {round}, run {who}: {t} holds another run's file:\n{all}"
                        );
                        let c = format!("{r}/beta:2.1-linux-amd64-{os}");
                        assert_eq!(
                            s.cat(&c, "usr/local/bin/tool.txt").as_ref(),
                            Some(&mine),
                            "round {round}, run {who}: {c} holds another run's file:\n{all}"
                        );
                    }
                    let c = format!("{r}/beta:2.1-linux-cache");
                    assert_eq!(
                        s.cat(&c, "usr/local/bin/tool.txt").as_ref(),
                        Some(&mine),
                        "round {round}, run {who}: {c}:\n{all}"
                    );
                }
                Some(1) => {
                    assert!(
                        err.contains("another run") && err.contains(&format!("{r}/beta:2.1")),
                        "round {round}, run {who} failed without naming the other run's tags:\n{all}"
                    );
                    assert!(
                        err.trim_end().ends_with("xtask: exit 1 (failed)"),
                        "round {round}, run {who}:\n{all}"
                    );
                }
                other => panic!("round {round}, run {who}: exit {other:?}:\n{all}"),
            }
        }
    }
}
