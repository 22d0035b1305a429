//! Lint findings for hand-made folders: each rule, its line and its severity.

use super::*;
use crate::tempdir::TempDir;
use std::fs;

/// A folder of these files, removed when dropped.
fn folder(tag: &str, files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new(tag);
    for (name, text) in files {
        fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

const GOOD_WINDOWS: &str =
    "ARG BASEIMAGE=mcr.microsoft.com/windows/nanoserver:1809\nFROM $BASEIMAGE\nRUN echo hi\n";
const GOOD_CACHE: &str = "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE AS src\nFROM scratch\nCOPY --from=src /x /x\n";

fn lines(tag: &str, files: &[(&str, &str)]) -> Vec<String> {
    let f = folder(tag, files);
    let prefix = format!("{}/", f.0.display());
    check(&f.0)
        .iter()
        .map(|x| x.to_string().replace(&prefix, ""))
        .collect()
}

fn with(tag: &str, name: &str, text: &str) -> Vec<String> {
    let mut files = vec![
        ("VERSION", "1.0\n"),
        ("Dockerfile_windows", GOOD_WINDOWS),
        ("Dockerfile", GOOD_CACHE),
    ];
    files.retain(|(n, _)| *n != name);
    files.push((name, text));
    lines(tag, &files)
}

#[test]
fn a_good_folder_has_no_findings() {
    assert_eq!(
        with("good", "BASEIMAGE", "windows/amd64/1809=x:1\n"),
        Vec::<String>::new()
    );
}

#[test]
fn run_and_workdir_in_windows_stages_are_errors_with_their_line() {
    let got = with(
        "run",
        "Dockerfile",
        "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE AS src\nRUN \\\n  dir\nFROM src AS again\nworkdir /x\nFROM scratch\nRUN ok\nWORKDIR /ok\n",
    );
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].starts_with("Dockerfile:3: error: RUN in a Windows stage (stage \"src\" at line 2: --platform=windows/amd64)"), "{}", got[0]);
    assert!(got[0].ends_with("buildx cannot run it; move it to Dockerfile_windows"));
    assert!(got[1].starts_with("Dockerfile:6: error: WORKDIR in a Windows stage (stage \"again\" at line 5: FROM the Windows stage \"src\")"), "{}", got[1]);
}

#[test]
fn source_must_be_a_global_arg_used_by_a_from() {
    let got = with(
        "nosrc",
        "Dockerfile",
        "FROM --platform=windows/amd64 x AS src\nFROM scratch\nCOPY --from=src /a /a\n",
    );
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].starts_with("Dockerfile: error: no `ARG SOURCE`"),
        "{}",
        got[0]
    );
    assert!(
        got[1].starts_with("Dockerfile: error: no FROM uses $SOURCE"),
        "{}",
        got[1]
    );
    let got = with(
        "stagesrc",
        "Dockerfile",
        "FROM --platform=windows/amd64 $SOURCE AS src\nARG SOURCE\nFROM scratch\n",
    );
    assert!(
        got[0].starts_with("Dockerfile:2: error: `ARG SOURCE` is inside a stage"),
        "{got:#?}"
    );
    let got = with(
        "unused",
        "Dockerfile",
        "ARG SOURCE\nFROM --platform=windows/amd64 other AS src\nFROM scratch\n",
    );
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].contains("no FROM uses $SOURCE"));
}

#[test]
fn warnings_for_odd_but_buildable_files() {
    let got = with(
        "linuxsrc",
        "Dockerfile",
        "ARG SOURCE\nFROM ${SOURCE} AS src\nFROM scratch\n",
    );
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("Dockerfile:2: warning: FROM ${SOURCE} without --platform=windows/"),
        "{}",
        got[0]
    );
    let got = with(
        "last",
        "Dockerfile",
        "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE\n",
    );
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("Dockerfile:2: warning: the last stage (#0) is a Windows stage"),
        "{}",
        got[0]
    );
    let got = with("eof", "Dockerfile", "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE AS src\nFROM scratch\nCOPY --from=src /a /a \\\n");
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("Dockerfile:4: warning: the instruction ends with a line continuation"),
        "{}",
        got[0]
    );
}

#[test]
fn two_word_platform_is_an_error() {
    let got = with(
        "twoword",
        "Dockerfile",
        "ARG SOURCE\nFROM --platform windows/amd64 $SOURCE AS src\nRUN x\nFROM scratch\n",
    );
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].starts_with("Dockerfile:2: error: `--platform windows/amd64` (two words)"),
        "{}",
        got[0]
    );
    assert!(
        got[1].starts_with("Dockerfile:3: error: RUN in a Windows stage"),
        "{}",
        got[1]
    );
}

#[test]
fn missing_files_and_unparsable_files() {
    let got = lines("missing", &[("VERSION", "1.0\n")]);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].starts_with("Dockerfile_windows: error: missing"));
    assert!(got[1].starts_with("Dockerfile: error: missing"));
    let got = with(
        "unparsable",
        "Dockerfile_windows",
        "# escape=`\nFROM x\nRUNN y\n",
    );
    assert_eq!(
        got,
        vec!["Dockerfile_windows:3: error: cannot parse it: unknown instruction: RUNN"]
    );
    let got = with("nofrom", "Dockerfile", "ARG SOURCE\nCOPY a b\n");
    assert_eq!(got, vec!["Dockerfile:2: error: COPY before the first FROM"]);
}

#[test]
fn version_and_baseimage_problems_name_the_file_and_line() {
    let got = with("badversion", "VERSION", "1.0 beta\n");
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("VERSION: error: \"1.0 beta\": not a valid tag"),
        "{}",
        got[0]
    );
    let got = with(
        "badbase",
        "BASEIMAGE",
        "windows/amd64/1809=x:1\nlinux/amd64=y\n",
    );
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with(
            "BASEIMAGE:2: error: \"linux/amd64=y\": the key does not start with windows/amd64/"
        ),
        "{}",
        got[0]
    );
}

#[test]
fn baseimage_without_arg_baseimage_is_a_warning() {
    let got = lines(
        "nobasearg",
        &[
            ("VERSION", "1.0\n"),
            ("BASEIMAGE", "windows/amd64/1809=x:1\n"),
            ("Dockerfile_windows", "FROM x:1\n"),
            ("Dockerfile", GOOD_CACHE),
        ],
    );
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("Dockerfile_windows: warning: BASEIMAGE lists base images"),
        "{}",
        got[0]
    );
}

/// The findings for a folder; its kind is read from its files, as `lint` reads it.
fn lines_of(tag: &str, files: &[(&str, &str)]) -> Vec<String> {
    let f = folder(tag, files);
    let prefix = format!("{}/", f.0.display());
    check(&f.0)
        .iter()
        .map(|x| x.to_string().replace(&prefix, ""))
        .collect()
}

const CACHE_ONLY: &str = "ARG BASEIMAGE\nFROM --platform=windows/amd64 $BASEIMAGE AS core\nFROM scratch\nCOPY --from=core /Windows/System32/netapi32.dll /Windows/System32/netapi32.dll\n";

#[test]
fn a_cache_only_image_builds_from_arg_baseimage_and_needs_no_dockerfile_windows() {
    let base = (
        "BASEIMAGE",
        "linux/amd64/1809=mcr.microsoft.com/windows/servercore:ltsc2019\n",
    );
    let got = lines_of(
        "co-good",
        &[("VERSION", "1.0\n"), base, ("Dockerfile", CACHE_ONLY)],
    );
    assert_eq!(got, Vec::<String>::new());
    // A node image's cache Dockerfile (ARG SOURCE) is wrong here: BASEIMAGE is what is passed.
    let got = lines_of(
        "co-source",
        &[("VERSION", "1.0\n"), base, ("Dockerfile", GOOD_CACHE)],
    );
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].starts_with("Dockerfile: error: no `ARG BASEIMAGE` before the first FROM: a cache-only image is built once per BASEIMAGE line"),
        "{}",
        got[0]
    );
    assert!(
        got[1].starts_with("Dockerfile: error: no FROM uses $BASEIMAGE"),
        "{}",
        got[1]
    );
    // buildx alone builds it: RUN in its Windows stage is as wrong as in any cache Dockerfile.
    let got = lines_of("co-run",
        &[
            ("VERSION", "1.0\n"),
            base,
            (
                "Dockerfile",
                "ARG BASEIMAGE\nFROM --platform=windows/amd64 $BASEIMAGE AS core\nRUN del x\nFROM scratch\n",
            ),
        ],
    );
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("Dockerfile:3: error: RUN in a Windows stage"));
}

const PS_WINDOWS: &str = "# escape=`\nARG BASEIMAGE=x:1\n# xtask: version-arg=PS_VERSION\nARG PS_VERSION=7.6.9\nFROM $BASEIMAGE\nARG PS_VERSION\nRUN echo $env:PS_VERSION\n";

#[test]
fn version_arg_directive_ties_the_arg_to_version() {
    let folder = |version: &str, windows: &str| {
        lines_of(
            "verarg",
            &[
                ("VERSION", version),
                ("Dockerfile_windows", windows),
                ("Dockerfile", GOOD_CACHE),
            ],
        )
    };
    assert_eq!(folder("7.6.9\n", PS_WINDOWS), Vec::<String>::new());
    let got = folder("7.6.10\n", PS_WINDOWS);
    assert_eq!(
        got,
        vec!["Dockerfile_windows:4: error: ARG PS_VERSION=7.6.9 differs from VERSION 7.6.10 (`# xtask: version-arg=PS_VERSION` at line 3): the image would be tagged 7.6.10 but built with PS_VERSION=7.6.9; make them equal"]
    );
    // Without the directive nothing is compared: the ARG may mean something else.
    let got = folder(
        "1.0\n",
        &PS_WINDOWS.replace("# xtask: version-arg=PS_VERSION\n", "\n"),
    );
    assert_eq!(got, Vec::<String>::new());
    // The directive must name a global ARG with a default.
    let got = folder(
        "7.6.9\n",
        &PS_WINDOWS.replace("ARG PS_VERSION=7.6.9\n", "ARG PS_VER=7.6.9\n"),
    );
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("Dockerfile_windows:3: error: `# xtask: version-arg=PS_VERSION` names no global `ARG PS_VERSION=<default>`"),
        "{}",
        got[0]
    );
    // A typo in a directive is not silently ignored.
    let got = folder(
        "7.6.9\n",
        &PS_WINDOWS.replace("version-arg=PS_VERSION", "version_arg=PS_VERSION"),
    );
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("Dockerfile_windows:3: warning: unknown `# xtask:` directive \"version_arg=PS_VERSION\""),
        "{}",
        got[0]
    );
}

#[test]
fn symlinks_made_in_dockerfile_windows_are_a_warning_until_acknowledged() {
    let windows = "# escape=`\nFROM x:1 AS prep\nSHELL [\"powershell\", \"-Command\"]\nRUN Expand-Archive a.zip C:\\PowerShell; `\n    cmd /c mklink C:\\PowerShell\\powershell.exe pwsh.exe\nFROM x:1\nRUN New-Item -ItemType SymbolicLink -Path C:\\a -Target b\nRUN mklink /J C:\\j C:\\t\n";
    let folder = |windows: &str| {
        lines_of(
            "symlink",
            &[
                ("VERSION", "1.0\n"),
                ("Dockerfile_windows", windows),
                ("Dockerfile", GOOD_CACHE),
            ],
        )
    };
    let got = folder(windows);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].starts_with(
            "Dockerfile_windows:4: warning: RUN creates a symbolic link (mklink): consumers"
        ),
        "{}",
        got[0]
    );
    assert!(got[0].contains("docker/buildx#373"), "{}", got[0]);
    assert!(
        got[1].starts_with(
            "Dockerfile_windows:7: warning: RUN creates a symbolic link (SymbolicLink)"
        ),
        "{}",
        got[1]
    );
    let acknowledged = windows.replace(
        "FROM x:1 AS prep",
        "# xtask: allow=symlink\nFROM x:1 AS prep",
    );
    assert_eq!(folder(&acknowledged), Vec::<String>::new());
}
