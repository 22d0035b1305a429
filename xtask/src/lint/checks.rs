//! The checks on one image folder, by its kind: VERSION and BASEIMAGE parse; for an image
//! built on the node, Dockerfile_windows exists, parses, takes BASEIMAGE when the folder lists
//! bases, and says where it creates symlinks; the cache Dockerfile has no RUN/WORKDIR in a
//! Windows stage and builds FROM the global ARG the tool passes (SOURCE for a node image's
//! cache, BASEIMAGE for a cache-only image). `# xtask:` comment directives (`directives`)
//! tie a Dockerfile ARG to VERSION and acknowledge symlinks.

use std::fs;
use std::path::Path;

use super::directives::{self, Directives};
use super::{Finding, Severity};
use crate::config::DEFAULT_REGISTRY;
use crate::dockerfile::{self, Dockerfile, Windows};
use crate::error::{quoted, BadInput};
use crate::files::read_small;
use crate::images::{self, Kind};

/// Largest Dockerfile read: real ones are a few kB.
const DOCKERFILE_MAX: u64 = 1 << 20;

/// Every finding for one image folder, in file order: VERSION, BASEIMAGE,
/// Dockerfile_windows (node images), Dockerfile. The kind is read from the folder as
/// `images` decides it; a folder whose BASEIMAGE cannot be read is checked as a node image.
pub fn check(dir: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let version_file = dir.join("VERSION");
    let version = match images::read_version(&version_file) {
        Ok(v) => Some(v),
        Err(e) => {
            out.push(from_error(&version_file, &e));
            None
        }
    };
    let baseimage = dir.join("BASEIMAGE");
    let mut has_bases = false;
    let mut kind = Kind::Node;
    if fs::symlink_metadata(&baseimage).is_ok() {
        // The registry only replaces the word REGISTRY; any will do to check the syntax.
        match images::read_baseimage(&baseimage, DEFAULT_REGISTRY) {
            Ok(b) => {
                has_bases = !b.bases.is_empty();
                match images::kind_of(dir, Some(&b)) {
                    Ok(k) => kind = k,
                    Err(e) => out.push(from_error(&baseimage, &e)),
                }
            }
            Err(e) => out.push(from_error(&baseimage, &e)),
        }
    }
    let version = version.as_deref();
    match kind {
        Kind::Node => {
            check_windows(
                &dir.join("Dockerfile_windows"),
                has_bases,
                version,
                &mut out,
            );
            check_cache(&dir.join("Dockerfile"), &SOURCE, version, &mut out);
        }
        Kind::CacheOnly => check_cache(&dir.join("Dockerfile"), &BASEIMAGE, version, &mut out),
    }
    out
}

/// The global ARG a cache Dockerfile must build FROM, and what to say about it.
struct Input {
    arg: &'static str,
    /// Why the ARG must be global: what the tool passes in it.
    passes: &'static str,
    /// What the FROM that uses it copies out of.
    from: &'static str,
    /// The whole shape of the file, for a missing one.
    shape: &'static str,
}

/// A node image's cache Dockerfile: the tool passes the Windows image the node pushed.
const SOURCE: Input = Input {
    arg: "SOURCE",
    passes: "the tool passes the Windows image as --build-arg SOURCE=<image>",
    from: "the cache image must copy out of the Windows image the node built \
           (`FROM --platform=windows/amd64 $SOURCE AS src`)",
    shape: "missing: push-as-linux builds the Linux cache image from it (`ARG SOURCE`, \
            `FROM --platform=windows/amd64 $SOURCE AS src`, `FROM scratch`, `COPY --from=src`)",
};

/// A cache-only image's Dockerfile: the tool passes each BASEIMAGE line's image.
const BASEIMAGE: Input = Input {
    arg: "BASEIMAGE",
    passes: "a cache-only image is built once per BASEIMAGE line with --build-arg \
             BASEIMAGE=<that line's image>",
    from: "a cache-only image copies out of the image its BASEIMAGE line names \
           (`FROM --platform=windows/amd64 $BASEIMAGE AS core`)",
    shape: "missing: a cache-only image (BASEIMAGE lines linux/amd64/…, no Dockerfile_windows) \
            is built from it (`ARG BASEIMAGE`, `FROM --platform=windows/amd64 $BASEIMAGE AS \
            core`, `FROM scratch`, `COPY --from=core`)",
};

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

/// Reads and parses a Dockerfile, with its `# xtask:` directives; a problem becomes a
/// finding (and None when the file cannot be used).
fn read_and_parse(path: &Path, out: &mut Vec<Finding>) -> Option<(Dockerfile, Directives)> {
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
            let found = directives::read(&text);
            for (line, message) in &found.unknown {
                out.push(Finding::new(
                    path,
                    Some(*line),
                    Severity::Warning,
                    message.clone(),
                ));
            }
            Some((df, found))
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
/// — and that it takes the base image matrix mode passes when BASEIMAGE lists some — plus
/// what its consumers should know: the symlinks it creates, its version ARG.
fn check_windows(path: &Path, has_bases: bool, version: Option<&str>, out: &mut Vec<Finding>) {
    if fs::symlink_metadata(path).is_err() {
        out.push(Finding::new(
            path,
            None,
            Severity::Error,
            "missing: every image built on the Windows node needs a Dockerfile_windows (a \
             cache-only image instead has a BASEIMAGE of linux/amd64/<os>=<image> lines)"
                .to_string(),
        ));
        return;
    }
    let Some((df, found)) = read_and_parse(path, out) else {
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
    check_version_arg(path, &df, &found, version, out);
    if found.allow_symlink.is_none() {
        for ins in df.instructions.iter().filter(|i| i.keyword == "RUN") {
            if let Some(how) = directives::creates_symlink(&ins.args) {
                out.push(Finding::new(
                    path,
                    Some(ins.line),
                    Severity::Warning,
                    format!(
                        "RUN creates a symbolic link ({how}): consumers that COPY it out of the \
                         cache image into a Windows image get its target prefixed with `Files\\` \
                         by buildx (docker/buildx#373), so they must copy the target file there \
                         too (docs/consuming.md); once they are told, say so with \
                         `# xtask: allow=symlink`"
                    ),
                ));
            }
        }
    }
}

/// `# xtask: version-arg=NAME`: the global `ARG NAME=<default>` must equal VERSION, so the
/// tag and what the image installs cannot drift apart (the tool does not pass NAME: compat
/// mode's argv stays upstream's).
fn check_version_arg(
    path: &Path,
    df: &Dockerfile,
    found: &Directives,
    version: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let Some((line, name)) = &found.version_arg else {
        return;
    };
    let scope = df.scope(&[]);
    let declared = df.global_args().find(|i| {
        dockerfile::words(&i.args)
            .iter()
            .any(|w| w.split('=').next() == Some(name.as_str()))
    });
    match (declared, scope.get(name.as_str()).cloned().flatten()) {
        (Some(ins), Some(default)) => {
            if let Some(version) = version.filter(|v| *v != default) {
                out.push(Finding::new(
                    path,
                    Some(ins.line),
                    Severity::Error,
                    format!(
                        "ARG {name}={default} differs from VERSION {version} (`# xtask: \
                         version-arg={name}` at line {line}): the image would be tagged \
                         {version} but built with {name}={default}; make them equal"
                    ),
                ));
            }
        }
        _ => out.push(Finding::new(
            path,
            Some(*line),
            Severity::Error,
            format!(
                "`# xtask: version-arg={name}` names no global `ARG {name}=<default>` (before \
                 the first FROM) to compare with VERSION"
            ),
        )),
    }
}

/// The cache Dockerfile, built by buildx on Linux: no RUN/WORKDIR in a Windows stage, a
/// global `ARG <input>` (SOURCE: the Windows image; BASEIMAGE: a cache-only image's base)
/// that a FROM uses.
fn check_cache(path: &Path, input: &Input, version: Option<&str>, out: &mut Vec<Finding>) {
    if fs::symlink_metadata(path).is_err() {
        out.push(Finding::new(
            path,
            None,
            Severity::Error,
            input.shape.to_string(),
        ));
        return;
    }
    let Some((df, found)) = read_and_parse(path, out) else {
        return;
    };
    check_version_arg(path, &df, &found, version, out);
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

    let arg = input.arg;
    if !df.declares_global_arg(arg) {
        let in_stage = df.instructions.iter().find(|i| {
            i.keyword == "ARG"
                && dockerfile::words(&i.args)
                    .iter()
                    .any(|w| w.split('=').next() == Some(arg))
        });
        out.push(match in_stage {
            Some(i) => err(
                i.line,
                format!(
                    "`ARG {arg}` is inside a stage, where no FROM can use it; declare it before \
                     the first FROM"
                ),
            ),
            None => Finding::new(
                path,
                None,
                Severity::Error,
                format!("no `ARG {arg}` before the first FROM: {}", input.passes),
            ),
        });
    }
    let from_source: Vec<_> = stages
        .iter()
        .filter(|s| dockerfile::uses_variable(&s.base, arg, df.escape))
        .collect();
    if from_source.is_empty() {
        out.push(Finding::new(
            path,
            None,
            Severity::Error,
            format!("no FROM uses ${arg}: {}", input.from),
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
