//! Skip-unchanged on the real stack: a re-run with nothing changed skips build, push and
//! cache; a changed file, a changed VERSION, or a base image that now resolves to another
//! digest each rebuild. Upstream's always-rebuild stays the default.

use std::process::Output;

use crate::support::stack::Stack;

fn run(s: &Stack, r: &str, dir: &std::path::Path) -> String {
    let o: Output = s
        .xtask(r, dir)
        .args(["push-as-linux", "--skip-unchanged"])
        .output()
        .expect("xtask");
    let t = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{t}");
    t
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn unchanged_inputs_skip_and_each_kind_of_change_rebuilds() {
    let s = Stack::get();
    let r = s.namespace("unchanged");
    let tmp = crate::support::TempDir::new("unchanged");
    let dir = tmp.path().join("images");
    let alpha = dir.join("alpha");
    for f in [
        "VERSION",
        "Dockerfile",
        "BASEIMAGE",
        "payload/hello.txt",
        "payload/config.ini",
        "payload/sub/nested.txt",
    ] {
        let text = std::fs::read_to_string(s.fixtures().join("alpha").join(f)).expect("fixture");
        crate::support::write(&alpha.join(f), &text);
    }
    // This test's own base image, so moving it disturbs no other test.
    crate::support::write(
        &alpha.join("Dockerfile_windows"),
        &format!("ARG BASEIMAGE={r}/windows-base:1809\nFROM $BASEIMAGE\nCOPY payload/ /alpha/\n"),
    );

    let first = run(&s, &r, &dir);
    assert!(
        first.contains("3 ok, 0 failed") && !first.contains("skipped"),
        "{first}"
    );

    // Nothing changed: all three steps skipped, and the plan says why.
    let again = run(&s, &r, &dir);
    assert!(
        again.contains("0 ok, 0 failed, 0 stopped, 0 not started, 3 skipped (unchanged)"),
        "{again}"
    );
    assert!(
        again.contains("skip build") && again.contains("unchanged (inputs "),
        "{again}"
    );
    assert!(s.inspect(&format!("{r}/alpha:1.0-linux-cache")).is_some());

    // A changed file rebuilds everything of the image.
    crate::support::write(&alpha.join("payload/hello.txt"), "changed\n");
    let changed = run(&s, &r, &dir);
    assert!(
        changed.contains("3 ok, 0 failed") && !changed.contains("skipped"),
        "{changed}"
    );
    assert!(run(&s, &r, &dir).contains("3 skipped"));

    // A new VERSION is a new tag: built.
    crate::support::write(&alpha.join("VERSION"), "1.1\n");
    let bumped = run(&s, &r, &dir);
    assert!(
        bumped.contains("3 ok, 0 failed") && !bumped.contains("skipped"),
        "{bumped}"
    );
    assert!(s.inspect(&format!("{r}/alpha:1.1")).is_some());
    assert!(run(&s, &r, &dir).contains("3 skipped"));

    // The base tag now resolves to another digest (a Windows patch Tuesday): rebuilt.
    let host = s.var("REGISTRY_HOST");
    let repo = format!("{}/windows-base", r.split_once('/').expect("ns").1);
    let o = std::process::Command::new("python3")
        .arg(s.root.join("ci/registry.py"))
        .args(["seed-base", &host, &repo, "1809", "10.0.17763.9999"])
        .output()
        .expect("seed");
    assert!(o.status.success());
    let patched = run(&s, &r, &dir);
    assert!(
        patched.contains("3 ok, 0 failed") && !patched.contains("skipped"),
        "{patched}"
    );

    // Without the flag, upstream's behaviour: always rebuild.
    let o = s
        .xtask(&r, &dir)
        .args(["push-as-linux"])
        .output()
        .expect("xtask");
    assert!(String::from_utf8_lossy(&o.stderr).contains("3 ok, 0 failed"));
}
