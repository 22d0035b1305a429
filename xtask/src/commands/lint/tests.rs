//! Lint findings for hand-made folders: each rule, its line and its severity.

use super::*;

struct Folder(PathBuf);

impl Folder {
    fn new(tag: &str, files: &[(&str, &str)]) -> Folder {
        let dir = std::env::temp_dir().join(format!("xtask-lint-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        for (name, text) in files {
            fs::write(dir.join(name), text).expect("write");
        }
        Folder(dir)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const GOOD_WINDOWS: &str =
    "ARG BASEIMAGE=mcr.microsoft.com/windows/nanoserver:1809\nFROM $BASEIMAGE\nRUN echo hi\n";
const GOOD_CACHE: &str = "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE AS src\nFROM scratch\nCOPY --from=src /x /x\n";

fn lines(tag: &str, files: &[(&str, &str)]) -> Vec<String> {
    let f = Folder::new(tag, files);
    let prefix = format!("{}/", f.0.display());
    check(&f.0, crate::images::Kind::Node)
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
