//! `cargo xtask lint`: the checks on each image folder that need no Docker — the cache
//! `Dockerfile` has no RUN/WORKDIR in a Windows stage (buildx cannot run them), declares
//! `ARG SOURCE` and builds FROM it; `Dockerfile_windows` exists and parses; VERSION and
//! BASEIMAGE parse. One `path:line: error|warning: message` line per finding, then a summary;
//! any error fails with exit 1. `plan` shows the same findings as warnings (`warnings_for`).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{Config, DEFAULT_REGISTRY};
use crate::dockerfile::{self, Dockerfile, Windows};
use crate::exit::{BadInput, StepFailed};
use crate::images::{self, Image};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    /// None when the finding is about the whole file (or its absence).
    pub line: Option<usize>,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    fn new(file: &Path, line: Option<usize>, severity: Severity, message: String) -> Finding {
        Finding {
            file: file.to_path_buf(),
            line,
            severity,
            message,
        }
    }

    /// `path:line`, or `path` for a finding about the whole file.
    fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file.display()),
            None => self.file.display().to_string(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {severity}: {}", self.location(), self.message)
    }
}

/// Lints `images` (plus, when no selection was given, notes folders that are not images),
/// prints the findings and a summary on stdout; fails (exit 1) if any finding is an error.
pub fn run(cfg: &Config, images: &[Image]) -> anyhow::Result<()> {
    let mut findings = Vec::new();
    if cfg.selection.is_empty() {
        findings.extend(stray_folders(&cfg.images_dir));
    }
    for image in images {
        findings.extend(check(&image.dir));
    }
    for f in &findings {
        println!("{f}");
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    println!(
        "lint: {} checked, {}, {}",
        plural(images.len(), "image"),
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    if errors > 0 {
        return Err(StepFailed(format!(
            "lint failed: {} (listed above)",
            plural(errors, "error")
        ))
        .into());
    }
    Ok(())
}

/// Every finding for `images`, one line each, for `plan` to show as warnings: a plan is still
/// printed, but what `lint` would fail on is worth seeing before a build.
pub fn warnings_for(images: &[Image]) -> Vec<String> {
    images
        .iter()
        .flat_map(|image| check(&image.dir))
        .map(|f| match f.severity {
            Severity::Warning => format!("{}: {}", f.location(), f.message),
            Severity::Error => format!(
                "{}: {} (an error for `cargo xtask lint`)",
                f.location(),
                f.message
            ),
        })
        .collect()
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Sub-folders of IMAGES_DIR without a VERSION file: image discovery skips them silently, so
/// a forgotten VERSION would drop an image from every target.
fn stray_folders(dir: &Path) -> Vec<Finding> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Finding> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.join("VERSION").exists())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .map(|p| {
            Finding::new(
                &p,
                None,
                Severity::Warning,
                "no VERSION file, so this folder is not an image and every target skips it"
                    .to_string(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// Every finding for one image folder, in file order: VERSION, BASEIMAGE, Dockerfile_windows,
/// Dockerfile.
pub fn check(dir: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let version = dir.join("VERSION");
    if let Err(e) = images::read_version(&version) {
        out.push(from_error(&version, &e));
    }
    let baseimage = dir.join("BASEIMAGE");
    let mut has_bases = false;
    if baseimage.is_file() {
        // The registry only replaces the word REGISTRY; any will do to check the syntax.
        match images::read_baseimage(&baseimage, DEFAULT_REGISTRY) {
            Ok(bases) => has_bases = !bases.is_empty(),
            Err(e) => out.push(from_error(&baseimage, &e)),
        }
    }
    check_windows(&dir.join("Dockerfile_windows"), has_bases, &mut out);
    check_cache(&dir.join("Dockerfile"), &mut out);
    out
}

/// An error from the images helpers as a finding, at the line it names if it names one.
fn from_error(file: &Path, err: &anyhow::Error) -> Finding {
    let Some(bad) = err.downcast_ref::<BadInput>() else {
        return Finding::new(file, None, Severity::Error, format!("{err:#}"));
    };
    let shown = file.display().to_string();
    let line = bad
        .what
        .strip_prefix(&shown)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|n| n.parse().ok());
    let mut message = if bad.what == "file" || bad.value.is_empty() {
        bad.problem.clone()
    } else {
        format!("{:?}: {}", bad.value, bad.problem)
    };
    if !bad.hint.is_empty() {
        message = format!("{message} ({})", bad.hint);
    }
    Finding::new(file, line, Severity::Error, message)
}

/// Reads and parses a Dockerfile; a problem becomes a finding and None.
fn read_and_parse(path: &Path, out: &mut Vec<Finding>) -> Option<Dockerfile> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            out.push(Finding::new(
                path,
                None,
                Severity::Error,
                format!("cannot read it: {e}"),
            ));
            return None;
        }
    };
    match dockerfile::parse(&text) {
        Ok(df) => {
            for n in &df.notices {
                out.push(Finding::new(
                    path,
                    Some(n.line),
                    Severity::Warning,
                    n.message.clone(),
                ));
            }
            Some(df)
        }
        Err(e) => {
            out.push(Finding::new(
                path,
                Some(e.line),
                Severity::Error,
                format!("cannot parse it: {}", e.message),
            ));
            None
        }
    }
}

/// Dockerfile_windows: built on the node, where RUN works, so only that it exists and parses
/// — and that it takes the base image matrix mode passes when BASEIMAGE lists some.
fn check_windows(path: &Path, has_bases: bool, out: &mut Vec<Finding>) {
    if !path.is_file() {
        out.push(Finding::new(
            path,
            None,
            Severity::Error,
            "missing: every image needs a Dockerfile_windows, built on the Windows node"
                .to_string(),
        ));
        return;
    }
    let Some(df) = read_and_parse(path, out) else {
        return;
    };
    if let Err(e) = df.stages() {
        out.push(Finding::new(path, Some(e.line), Severity::Error, e.message));
        return;
    }
    if has_bases && !df.declares_global_arg("BASEIMAGE") {
        out.push(Finding::new(
            path,
            None,
            Severity::Warning,
            "BASEIMAGE lists base images, but no `ARG BASEIMAGE` before the first FROM takes \
             them: matrix builds pass --build-arg BASEIMAGE=<image> and it would be ignored"
                .to_string(),
        ));
    }
}

/// The cache Dockerfile, built by buildx on Linux: no RUN/WORKDIR in a Windows stage, a
/// global `ARG SOURCE` (the tool passes the Windows image there) that a FROM uses.
fn check_cache(path: &Path, out: &mut Vec<Finding>) {
    if !path.is_file() {
        out.push(Finding::new(
            path,
            None,
            Severity::Error,
            "missing: push-as-linux builds the Linux cache image from it (`ARG SOURCE`, \
             `FROM --platform=windows/amd64 $SOURCE AS src`, `FROM scratch`, `COPY --from=src`)"
                .to_string(),
        ));
        return;
    }
    let Some(df) = read_and_parse(path, out) else {
        return;
    };
    let stages = match df.stages() {
        Ok(s) => s,
        Err(e) => {
            out.push(Finding::new(path, Some(e.line), Severity::Error, e.message));
            return;
        }
    };
    let err =
        |line: usize, message: String| Finding::new(path, Some(line), Severity::Error, message);
    let warn =
        |line: Option<usize>, message: String| Finding::new(path, line, Severity::Warning, message);

    for stage in &stages {
        if let Some(flag) = df.instructions[stage.from]
            .flag("platform")
            .filter(|f| f.separate)
        {
            let value = flag.value.as_deref().unwrap_or_default();
            out.push(err(
                stage.line,
                format!(
                    "`--platform {value}` (two words): BuildKit takes {value} for the image \
                     and fails (\"Missing a value on flag: platform\"); write --platform={value}"
                ),
            ));
        }
        let Some(why) = &stage.windows else {
            continue;
        };
        let why = match why {
            Windows::Platform { written, expanded } if written == expanded => {
                format!("--platform={written}")
            }
            Windows::Platform { written, expanded } => {
                format!("--platform={written}, which is {expanded}")
            }
            Windows::Base { stage } => format!("FROM the Windows stage {stage}"),
        };
        for &n in &stage.body {
            let ins = &df.instructions[n];
            if ins.keyword == "RUN" || ins.keyword == "WORKDIR" {
                out.push(err(
                    ins.line,
                    format!(
                        "{} in a Windows stage (stage {} at line {}: {why}) — buildx cannot run \
                         it; move it to Dockerfile_windows",
                        ins.keyword,
                        stage.label(),
                        stage.line
                    ),
                ));
            }
        }
    }

    if !df.declares_global_arg("SOURCE") {
        let in_stage = df.instructions.iter().find(|i| {
            i.keyword == "ARG"
                && dockerfile::words(&i.args)
                    .iter()
                    .any(|w| w.split('=').next() == Some("SOURCE"))
        });
        out.push(match in_stage {
            Some(i) => err(
                i.line,
                "`ARG SOURCE` is inside a stage, where no FROM can use it; declare it before \
                 the first FROM"
                    .to_string(),
            ),
            None => Finding::new(
                path,
                None,
                Severity::Error,
                "no `ARG SOURCE` before the first FROM: the tool passes the Windows image as \
                 --build-arg SOURCE=<image>"
                    .to_string(),
            ),
        });
    }
    let from_source: Vec<_> = stages
        .iter()
        .filter(|s| dockerfile::uses_variable(&s.base, "SOURCE", df.escape))
        .collect();
    if from_source.is_empty() {
        out.push(Finding::new(
            path,
            None,
            Severity::Error,
            "no FROM uses $SOURCE: the cache image must copy out of the Windows image the node \
             built (`FROM --platform=windows/amd64 $SOURCE AS src`)"
                .to_string(),
        ));
    }
    let mut source_not_windows = false;
    for stage in from_source.iter().filter(|s| s.windows.is_none()) {
        source_not_windows = true;
        out.push(warn(
            Some(stage.line),
            format!(
                "FROM {} without --platform=windows/…: buildx builds for linux/amd64 and \
                 would look for a Linux variant of the Windows image",
                stage.base
            ),
        ));
    }
    if !source_not_windows && stages.iter().all(|s| s.windows.is_none()) {
        out.push(warn(
            None,
            "no Windows stage (FROM --platform=windows/…): a cache image copies out of the \
             Windows image"
                .to_string(),
        ));
    }
    if let Some(last) = stages.last().filter(|s| s.windows.is_some()) {
        out.push(warn(
            Some(last.line),
            format!(
                "the last stage ({}) is a Windows stage, so the cache image would be a Windows \
                 image; end with a Linux stage (FROM scratch) that COPYs --from it",
                last.label()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
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
            got[0].starts_with(
                "Dockerfile:4: warning: the instruction ends with a line continuation"
            ),
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
}
