//! The checks on one image folder: VERSION and BASEIMAGE parse; Dockerfile_windows exists,
//! parses and takes BASEIMAGE when the folder lists bases; the cache Dockerfile has no
//! RUN/WORKDIR in a Windows stage, declares `ARG SOURCE` and builds FROM it.

use std::fs;
use std::path::Path;

use super::{Finding, Severity};
use crate::config::read_small;
use crate::config::DEFAULT_REGISTRY;
use crate::dockerfile::{self, Dockerfile, Windows};
use crate::error::{quoted, BadInput};
use crate::images;

/// Largest Dockerfile read: real ones are a few kB.
const DOCKERFILE_MAX: u64 = 1 << 20;

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
    if fs::symlink_metadata(&baseimage).is_ok() {
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
    let line = bad.line;
    let mut message = if bad.what == "file" || bad.value.is_empty() {
        bad.problem.clone()
    } else {
        format!("{}: {}", quoted(&bad.value), bad.problem)
    };
    if !bad.hint.is_empty() {
        message = format!("{message} ({})", bad.hint);
    }
    Finding::new(file, line, Severity::Error, message)
}

/// Reads and parses a Dockerfile; a problem becomes a finding and None.
fn read_and_parse(path: &Path, out: &mut Vec<Finding>) -> Option<Dockerfile> {
    let text = match read_small(path, DOCKERFILE_MAX) {
        Ok(t) => t,
        Err(problem) => {
            out.push(Finding::new(path, None, Severity::Error, problem));
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
    if fs::symlink_metadata(path).is_err() {
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
    if fs::symlink_metadata(path).is_err() {
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
