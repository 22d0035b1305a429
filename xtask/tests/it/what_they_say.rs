//! What nodes, registries and docker say reaches the terminal escaped and bounded (issue 19
//! §5), against a fake docker on PATH: a node's `Os`, the registry's config fields in verify's
//! table, docker's own output lines; verify says "unknown" with docker's whole reason when it
//! cannot ask, "missing"/wrong only when it read something else.

use crate::support::*;

/// No raw control character but newline and tab: nothing a terminal would obey.
fn assert_inert(what: &str, text: &str) {
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{what}: a raw control character reached the terminal:\n{text:?}"
    );
}

fn world() -> World {
    let w = World::new("said");
    w.image("alpha", "1.0");
    w
}

fn hook(w: &World, body: &str) -> std::path::PathBuf {
    let p = w.root().join("hook.sh");
    write(&p, body);
    p
}

#[test]
fn a_nodes_os_is_shown_escaped_and_bounded() {
    let w = world();
    let long = "x".repeat(5000);
    let h = hook(
        &w,
        &format!(
            r##"
if [[ " $* " == *" version --format "* || " $* " == *" info --format "* ]]; then
  printf '{{"Version":"fake","ServerVersion":"fake","Os":"li\\u001b]0;pwned\\u0007nux{long}","OSType":"li\\u001b]0;pwned\\u0007nux{long}","Arch":"amd64","KernelVersion":"6.1\\r\\u001b[2K"}}\n'
  exit 0
fi
"##
        ),
    );
    let o = run(w
        .xtask()
        .args(["build"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("OS_VERSIONS", "1809")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("FAKE_DOCKER_HOOK", &h));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_inert("build", &err);
    assert!(err.contains("li\\u{1b}]0;pwned\\u{7}nux"), "{err}");
    assert!(err.len() < 3000, "not bounded: {} bytes", err.len());
}

#[test]
fn docker_output_lines_are_shown_not_obeyed() {
    let w = world();
    let h = hook(
        &w,
        r##"
if [[ " $* " == *" build "* ]]; then printf 'step 1\r\033[2Kfaked over\n'; fi
"##,
    );
    let o = run(w
        .xtask()
        .args(["sub-build-alpha"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("FAKE_DOCKER_HOOK", &h));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(o.status.success(), "{all}");
    assert_inert("a build's output", &all);
    assert!(all.contains("step 1\\r\\u{1b}[2Kfaked over"), "{all}");
}

#[test]
fn verify_escapes_what_the_registry_says() {
    let w = world();
    let o = run(w
        .xtask()
        .args(["verify", "push"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("FAKE_DOCKER_JSON_ON", "{{json .Image}}")
        .env(
            "FAKE_DOCKER_JSON",
            r#"{"os":"win\u001b[31mdows","architecture":"amd64"}"#,
        ));
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert_inert("verify's table", &out);
    assert!(out.contains("win\\u{1b}[31mdows/amd64"), "{out}");
    // Read, and not what it must be: wrong.
    assert!(stderr(&o).contains("1 of 1 tags wrong"), "{}", stderr(&o));
}

#[test]
fn verify_says_unknown_with_the_whole_reason_when_it_cannot_ask() {
    let w = world();
    let reason = "error getting credentials - err: exit status 1, out: the keyring is locked and nobody is here to unlock it, so no password for 127.0.0.1:5000 can be read now";
    let h = hook(
        &w,
        &format!(
            r##"
if [[ "$1 $2 $3" == "buildx imagetools inspect" ]]; then echo "ERROR: {reason}" >&2; exit 1; fi
"##
        ),
    );
    let o = run(w
        .xtask()
        .args(["verify", "push"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("FAKE_DOCKER_HOOK", &h));
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    // Before: "✗ … error getting credentials - err: exit status 1, out: the keyring is lo"
    // (cut at 120 characters) and counted as wrong.
    assert!(out.contains(&format!("unknown: {reason}")), "{out}");
    assert!(
        err.contains("1 of 1 tags unknown (the registry could not be asked")
            && !err.contains("tags wrong"),
        "{err}"
    );
    let o = run(w
        .xtask()
        .args(["verify", "push", "--json"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("FAKE_DOCKER_HOOK", &h));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(j["rows"][0]["state"], "unknown", "{j}");
    assert_eq!(j["summary"]["wrong"], serde_json::json!([]), "{j}");
    assert_eq!(
        j["summary"]["unknown"],
        serde_json::json!(["127.0.0.1:5000/e2e/alpha:1.0"]),
        "{j}"
    );
    // A tag the registry says is not there was read: missing, wrong.
    let h = hook(
        &w,
        r##"
if [[ "$1 $2 $3" == "buildx imagetools inspect" ]]; then echo "ERROR: 127.0.0.1:5000/e2e/alpha:1.0: not found" >&2; exit 1; fi
"##,
    );
    let o = run(w
        .xtask()
        .args(["verify", "push"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("FAKE_DOCKER_HOOK", &h));
    assert!(stdout(&o).contains("missing"), "{}", stdout(&o));
    assert!(stderr(&o).contains("1 of 1 tags wrong"), "{}", stderr(&o));
}
