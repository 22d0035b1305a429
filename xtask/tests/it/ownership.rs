//! What a run owns (issue 19 §1), against a fake docker on PATH: each push's digest is read
//! from docker's own output; a node push that sent an image this run did not build, a cache
//! build that read a Windows image this run did not push, a push that reported no digest, or
//! a pushed tag another run replaced before the end all end the run 1, naming the tag; a cache
//! build that lost the naming race to another run is built again. The real two-runs case is
//! `concurrent_e2e.rs`.

use crate::support::*;

fn world() -> World {
    let w = World::new("owned");
    w.image("alpha", "1.0");
    w
}

fn xtask(w: &World, args: &[&str]) -> std::process::Command {
    let mut c = w.xtask();
    c.args(args)
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("RETRIES", "1");
    c
}

fn hook(w: &World, body: &str) -> std::path::PathBuf {
    let p = w.root().join("hook.sh");
    write(&p, body);
    p
}

fn last_line(err: &str) -> &str {
    err.trim_end().lines().last().unwrap_or_default()
}

#[test]
fn a_green_run_reads_back_every_tag_it_pushed() {
    let w = world();
    let o = run(&mut xtask(&w, &["push-as-linux"]));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("xtask: reading back the 2 tags this run pushed")
            && err.contains("xtask: all 2 pushed tags hold this run's images"),
        "{err}"
    );
    assert!(
        err.contains("xtask: pushed sha256:")
            && err.contains(" to 127.0.0.1:5000/e2e/alpha:1.0-linux-cache"),
        "{err}"
    );
}

#[test]
fn a_pushed_tag_another_run_replaced_ends_the_run_1_naming_it() {
    let w = world();
    let o = run(xtask(&w, &["push-as-linux"]).env("FAKE_REGISTRY_MOVED", "alpha:1.0-linux-cache"));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("another run replaced 1 of the 2 tags this run pushed: 127.0.0.1:5000/e2e/alpha:1.0-linux-cache holds sha256:"),
        "{err}"
    );
    assert_eq!(last_line(&err), "xtask: exit 1 (failed)", "{err}");
}

#[test]
fn a_tag_that_cannot_be_read_back_is_not_called_done() {
    let w = world();
    let o = run(xtask(&w, &["push"]).env("FAKE_REGISTRY_MISSING", "alpha:1.0"));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("could not read back 1 of the tags this run pushed")
            && err.contains("127.0.0.1:5000/e2e/alpha:1.0: "),
        "{err}"
    );
}

#[test]
fn a_node_push_of_an_image_this_run_did_not_build_fails_the_step() {
    let w = world();
    // The build names the tag to one image; by the push, another run's build renamed it.
    let h = hook(
        &w,
        r##"
if [[ " $* " == *" build "* ]]; then
  echo "#7 exporting manifest list sha256:$(printf 'a%.0s' {1..64}) 0.0s done" >&2
  t=; p=; for a in "$@"; do [[ $p == -t ]] && t=$a; p=$a; done
  echo "#7 naming to $t done" >&2
fi
"##,
    );
    let o = run(xtask(&w, &["push"]).env("FAKE_DOCKER_HOOK", &h));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("step 2/2 failed: push 127.0.0.1:5000/e2e/alpha:1.0")
            && err.contains("the node pushed 127.0.0.1:5000/e2e/alpha:1.0 as sha256:")
            && err.contains(&format!(
                "not sha256:{} which this run built",
                "a".repeat(64)
            )),
        "{err}"
    );
}

#[test]
fn a_cache_build_that_read_another_runs_windows_image_fails_the_step() {
    let w = world();
    let h = hook(
        &w,
        r##"
if [[ "$1" == buildx && " $* " == *" --output=type=registry "* ]]; then
  echo "#4 resolve 127.0.0.1:5000/e2e/alpha:1.0@sha256:$(printf 'b%.0s' {1..64}) 0.1s done" >&2
fi
"##,
    );
    let o = run(xtask(&w, &["push-as-linux"]).env("FAKE_DOCKER_HOOK", &h));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("failed: cache 127.0.0.1:5000/e2e/alpha:1.0-linux-cache")
            && err.contains(&format!(
                "the cache build read 127.0.0.1:5000/e2e/alpha:1.0 as sha256:{}",
                "b".repeat(64)
            )),
        "{err}"
    );
}

#[test]
fn a_push_that_reports_no_digest_is_not_called_done() {
    let w = world();
    let h = hook(
        &w,
        r##"
if [[ " $* " == *" push "* ]]; then echo "pushed, says nothing"; exit 0; fi
"##,
    );
    let o = run(xtask(&w, &["push"]).env("FAKE_DOCKER_HOOK", &h));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("docker did not say which digest it pushed to 127.0.0.1:5000/e2e/alpha:1.0"),
        "{err}"
    );
}

#[test]
fn a_cache_build_that_lost_the_naming_race_is_built_again() {
    let w = world();
    let o = run(xtask(&w, &["sub-repush-as-linux", "alpha"])
        .env("FAKE_DOCKER_FLAKY", " --output=type=registry ")
        .env("FAKE_DOCKER_FLAKY_TIMES", "1")
        .env(
            "FAKE_DOCKER_FLAKY_MSG",
            "ERROR: failed to solve: image \"127.0.0.1:5000/e2e/alpha:1.0-linux-cache\": already exists",
        ));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("another run named the same image at the same moment, retry 1/1"),
        "{err}"
    );
}
