//! `cargo xtask lint` end to end on throw-away image folders: findings as `path:line`, exit 1
//! on errors and 0 on warnings only; `plan` shows the findings as warnings on stderr and keeps
//! stdout the plan; the repo's own images and the e2e fixtures lint clean.

use std::path::{Path, PathBuf};

use crate::support::*;

const WINDOWS_RUN: &str = "\
# The cache image, wrongly doing work in the Windows stage.
ARG SOURCE
FROM --platform=windows/amd64 $SOURCE AS src
RUN mkdir C:\\out
FROM scratch
COPY --from=src /out /out
";

fn lint(w: &World, args: &[&str]) -> std::process::Output {
    run(w.xtask().arg("lint").args(args))
}

fn code(o: &std::process::Output) -> Option<i32> {
    o.status.code()
}

fn dockerfile(dir: &Path) -> PathBuf {
    dir.join("Dockerfile")
}

#[test]
fn run_in_a_windows_stage_is_an_error_at_path_and_line() {
    let w = World::new("lint-run");
    let a = w.image("a", "1.0");
    let b = w.image("b", "1.0");
    write(&dockerfile(&a), WINDOWS_RUN);
    // Every image's findings come in one run, not just the first image's.
    write(
        &dockerfile(&b),
        "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE AS src\nFROM src\nworkdir /app\nFROM scratch\n",
    );
    let o = lint(&w, &[]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(1), "{out}\n{}", stderr(&o));
    let want_a = format!(
        "{}:4: error: RUN in a Windows stage (stage \"src\" at line 3: --platform=windows/amd64) — buildx cannot run it; move it to Dockerfile_windows",
        dockerfile(&a).display()
    );
    let want_b = format!(
        "{}:4: error: WORKDIR in a Windows stage (stage #1 at line 3: FROM the Windows stage \"src\")",
        dockerfile(&b).display()
    );
    assert!(out.lines().any(|l| l == want_a), "{out}");
    assert!(out.lines().any(|l| l.starts_with(&want_b)), "{out}");
    assert!(
        out.ends_with("lint: 2 images checked, 2 errors, 0 warnings\n"),
        "{out}"
    );
    assert!(
        stderr(&o).contains("lint failed: 2 errors"),
        "{}",
        stderr(&o)
    );
    assert!(w.calls().is_empty(), "lint ran docker: {:?}", w.calls());

    // Naming one image lints only that one.
    let o = lint(&w, &["b"]);
    assert_eq!(code(&o), Some(1));
    assert!(!stdout(&o).contains("/a/"), "{}", stdout(&o));
}

#[test]
fn run_and_workdir_in_a_linux_stage_are_fine() {
    let w = World::new("lint-linux");
    let a = w.image("a", "1.0");
    write(
        &dockerfile(&a),
        "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE AS src\nFROM --platform=linux/amd64 busybox AS tools\nWORKDIR /x\nRUN true\nFROM scratch\nWORKDIR /app\nCOPY --from=src /a /a\n",
    );
    let o = lint(&w, &[]);
    assert_eq!(code(&o), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "lint: 1 image checked, 0 errors, 0 warnings\n");
}

#[test]
fn missing_arg_source_is_an_error() {
    let w = World::new("lint-source");
    let a = w.image("a", "1.0");
    write(
        &dockerfile(&a),
        "FROM --platform=windows/amd64 registry.example/a:1.0 AS src\nFROM scratch\nCOPY --from=src /a /a\n",
    );
    let o = lint(&w, &[]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(1), "{out}");
    let path = dockerfile(&a).display().to_string();
    assert!(
        out.contains(&format!(
            "{path}: error: no `ARG SOURCE` before the first FROM"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{path}: error: no FROM uses $SOURCE")),
        "{out}"
    );
}

#[test]
fn missing_dockerfile_windows_is_an_error() {
    let w = World::new("lint-nowin");
    let a = w.image("a", "1.0");
    std::fs::remove_file(a.join("Dockerfile_windows")).expect("rm");
    let o = lint(&w, &[]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(1), "{out}\n{}", stderr(&o));
    assert!(
        out.contains(&format!(
            "{}: error: missing: every image built on the Windows node needs a Dockerfile_windows",
            a.join("Dockerfile_windows").display()
        )),
        "{out}"
    );
}

#[test]
fn unparsable_dockerfile_windows_is_an_error_at_its_line() {
    let w = World::new("lint-parse");
    let a = w.image("a", "1.0");
    write(
        &a.join("Dockerfile_windows"),
        "# escape=`\nFROM mcr.microsoft.com/windows/nanoserver:1809\nRUN echo `\n  hi\nCOPPY a b\n",
    );
    let o = lint(&w, &[]);
    assert_eq!(code(&o), Some(1));
    let want = format!(
        "{}:5: error: cannot parse it: unknown instruction: COPPY",
        a.join("Dockerfile_windows").display()
    );
    assert!(stdout(&o).lines().any(|l| l == want), "{}", stdout(&o));
}

/// A VERSION or BASEIMAGE that does not parse is a finding at its file (and line), like any
/// other: lint goes on to the other images and fails with exit 1 at the end (issue 11 §7; it
/// used to stop at the first with exit 2).
#[test]
fn bad_version_and_baseimage_are_findings_and_every_image_is_checked() {
    let w = World::new("lint-base");
    let a = w.image("a", "1.0");
    let b = w.image("b", "1.0");
    let c = w.image("c", "1.0");
    write(
        &a.join("BASEIMAGE"),
        "windows/amd64/1809=mcr.microsoft.com/windows/nanoserver:1809\nwindows/amd64/ltsc2022 mcr.microsoft.com/windows/nanoserver:ltsc2022\n",
    );
    write(&b.join("VERSION"), "1.0 beta\n");
    write(
        &c.join("BASEIMAGE"),
        "windows/amd64/1809=--platform=linux/arm64\n",
    );
    let o = lint(&w, &[]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(1), "{out}\n{}", stderr(&o));
    assert!(
        out.contains(&format!("{}:2: error: ", a.join("BASEIMAGE").display())),
        "{out}"
    );
    assert!(out.contains("no '='"), "{out}");
    assert!(
        out.contains(&format!(
            "{}: error: \"1.0 beta\": not a valid tag",
            b.join("VERSION").display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{}:1: error: ", c.join("BASEIMAGE").display())),
        "{out}"
    );
    assert!(out.contains("is not an image reference"), "{out}");
    assert!(
        out.ends_with("lint: 3 images checked, 3 errors, 0 warnings\n"),
        "{out}"
    );
}

#[test]
fn json_lists_the_findings_for_machines() {
    let w = World::new("lint-json");
    let a = w.image("a", "1.0");
    w.image("b", "1.0");
    write(&dockerfile(&a), WINDOWS_RUN);
    let o = lint(&w, &["--json"]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["ok"], false);
    assert_eq!(v["images"], 2);
    assert_eq!(v["errors"], 1);
    let f = &v["findings"][0];
    assert_eq!(f["file"], dockerfile(&a).display().to_string());
    assert_eq!(f["line"], 4);
    assert_eq!(f["severity"], "error");
    assert!(f["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("RUN in a Windows stage"));
    // Clean: ok, no findings, exit 0.
    let o = lint(&w, &["b", "--json"]);
    assert_eq!(code(&o), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["findings"], serde_json::json!([]));
}

#[test]
fn a_fifo_or_odd_name_is_a_finding_not_a_hang() {
    let w = World::new("lint-fifo");
    let a = w.image("a", "1.0");
    w.image("Bad_Name", "1.0");
    std::fs::remove_file(a.join("Dockerfile")).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(a.join("Dockerfile"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let o = lint(&w, &[]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(1), "{out}\n{}", stderr(&o));
    assert!(
        out.contains(&format!(
            "{}: error: not a regular file (a FIFO)",
            dockerfile(&a).display()
        )),
        "{out}"
    );
    assert!(
        out.contains("'Bad_Name' is not a valid repository name"),
        "{out}"
    );
}

#[test]
fn baseimage_that_dockerfile_windows_ignores_is_a_warning() {
    let w = World::new("lint-basearg");
    let a = w.image("a", "1.0");
    write(
        &a.join("BASEIMAGE"),
        "windows/amd64/1809=mcr.microsoft.com/windows/nanoserver:1809\n",
    );
    write(
        &a.join("Dockerfile_windows"),
        "FROM mcr.microsoft.com/windows/nanoserver:1809\nCOPY a b\n",
    );
    let o = lint(&w, &[]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "{}: warning: BASEIMAGE lists base images, but no `ARG BASEIMAGE`",
            a.join("Dockerfile_windows").display()
        )),
        "{out}"
    );
    assert!(out.ends_with("0 errors, 1 warning\n"), "{out}");
}

#[test]
fn plan_prints_lint_findings_on_stderr_and_the_same_plan_on_stdout() {
    // lint's errors are bad input for a run (issue 19 §2): plan and --dry-run still print the
    // plan and show the errors as errors; --dry-run exits 2 as the run would, plan says so.
    let w = World::new("lint-plan");
    w.image("a", "1.0");
    let b = w.image("b", "2.0");
    let plan = |extra: &[&str], code: i32| {
        let o = run(w
            .xtask()
            .args(["plan", "all-push-as-linux"])
            .args(extra)
            .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        o
    };
    let clean = plan(&[], 0);
    let clean_json = plan(&["--json"], 0);
    assert_eq!(stderr(&clean), "");

    write(&dockerfile(&b), WINDOWS_RUN);
    let o = plan(&[], 0);
    assert_eq!(stdout(&o), stdout(&clean));
    let err = stderr(&o);
    let want = format!(
        "error: {}:4: RUN in a Windows stage (stage \"src\" at line 3: --platform=windows/amd64) — buildx cannot run it; move it to Dockerfile_windows",
        dockerfile(&b).display()
    );
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        vec![
            want.as_str(),
            "note: a run of this plan is refused (exit 2) while lint finds an error"
        ],
        "{err}"
    );

    let o = plan(&["--json"], 0);
    assert_eq!(stdout(&o), stdout(&clean_json));
    serde_json::from_str::<serde_json::Value>(&stdout(&o)).expect("stdout is JSON");
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));

    // --dry-run prints the plan the same way, so it refuses the same way.
    let o = run(w
        .xtask()
        .args(["--dry-run", "all-push-as-linux"])
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&clean));
    let err = stderr(&o);
    assert!(
        err.starts_with(&want)
            && err.contains(&format!("{}:4=\"RUN mkdir C:", dockerfile(&b).display()))
            && err.contains("(lint: 1 error in all, listed above)")
            && err.trim_end().ends_with("xtask: exit 2 (bad input)"),
        "{err}"
    );
    assert!(w.calls().is_empty(), "planning ran docker: {:?}", w.calls());
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[test]
fn the_repos_images_and_the_e2e_fixtures_lint_clean() {
    let w = World::new("lint-repo");
    for dir in ["images", "ci/fixtures/images", "ci/fixtures/consumer"] {
        let o = run(w.xtask().arg("lint").env("IMAGES_DIR", repo(dir)));
        let out = stdout(&o);
        assert_eq!(code(&o), Some(0), "{dir}: {out}\n{}", stderr(&o));
        assert!(
            out.ends_with(" checked, 0 errors, 0 warnings\n"),
            "{dir}: {out}"
        );
        assert_eq!(out.lines().count(), 1, "{dir}: {out}");
    }
}

/// powershell-helper's tag and the PowerShell release it installs: its Dockerfile_windows ties
/// `ARG PS_VERSION` to VERSION (`# xtask: version-arg=PS_VERSION`), so a bump of one alone fails
/// lint (and so `make test`).
#[test]
fn powershell_helpers_version_and_ps_version_cannot_drift() {
    let w = World::new("lint-psversion");
    let src = repo("images/powershell-helper");
    let dst = w.images().join("powershell-helper");
    for f in ["VERSION", "BASEIMAGE", "Dockerfile", "Dockerfile_windows"] {
        write(
            &dst.join(f),
            &std::fs::read_to_string(src.join(f)).expect("read"),
        );
    }
    let o = lint(&w, &[]);
    assert_eq!(code(&o), Some(0), "{}", stdout(&o));
    let version = std::fs::read_to_string(dst.join("VERSION")).expect("VERSION");
    let version = version.trim();
    write(&dst.join("VERSION"), "7.6.99\n");
    let o = lint(&w, &[]);
    let out = stdout(&o);
    assert_eq!(code(&o), Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "Dockerfile_windows:{}: error: ARG PS_VERSION={version} differs from VERSION 7.6.99",
            std::fs::read_to_string(dst.join("Dockerfile_windows"))
                .expect("read")
                .lines()
                .position(|l| l.starts_with("ARG PS_VERSION="))
                .expect("ARG PS_VERSION line")
                + 1
        )),
        "{out}"
    );
}
