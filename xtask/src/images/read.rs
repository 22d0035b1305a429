//! Reading an image folder's small files: each must be a regular file (a FIFO would block
//! the read forever); VERSION a tag on one line; BASEIMAGE `windows/amd64/<os>=<image>` (node
//! image) or `linux/amd64/<os>=<image>` (cache-only image) lines whose values are image
//! references.

use std::fs;
use std::path::Path;

use super::Kind;
use crate::error::BadInput;
use crate::files;
use crate::reference;

/// Largest VERSION or BASEIMAGE read: both are a few lines.
const SMALL_FILE_MAX: u64 = 1 << 20;

/// Whether `path` is a regular file: Ok(true), Ok(false) when it does not exist, or the
/// problem with it (a FIFO, a device, a folder).
pub(super) fn regular(path: &Path) -> Result<bool, String> {
    match fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(true),
        Ok(m) => Err(format!("not a regular file ({})", files::kind(&m))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
}

/// A regular file a target needs: missing is `missing`, anything else but a regular file is
/// named for what it is.
pub(super) fn need_file(path: &Path, missing: &str, hint: &str) -> anyhow::Result<()> {
    let shown_path = path.display().to_string();
    match regular(path) {
        Ok(true) => Ok(()),
        Ok(false) => Err(BadInput::new("file", shown_path, missing, hint)),
        Err(problem) => Err(BadInput::new("file", shown_path, problem, hint)),
    }
}

/// VERSION holds one tag on one line. Trailing blank lines are fine: upstream's Makefile
/// reads it with `$(shell cat VERSION)`, which drops them.
pub fn read_version(path: &Path) -> anyhow::Result<String> {
    let shown_path = path.display().to_string();
    let text = files::read_small(path, SMALL_FILE_MAX).map_err(|problem| {
        BadInput::new(
            "file",
            &shown_path,
            problem,
            "each image folder needs a VERSION file holding the tag",
        )
    })?;
    let version = text.trim_end_matches(['\n', '\r']);
    let hint = "VERSION holds one tag on one line: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, e.g. 7.4.6";
    if version.trim().is_empty() {
        return Err(BadInput::new(shown_path, text, "it is empty", hint));
    }
    if version.contains('\n') {
        return Err(BadInput::new(
            shown_path,
            text,
            "it has more than one line",
            hint,
        ));
    }
    if !reference::is_tag(version) {
        return Err(BadInput::new(shown_path, version, "not a valid tag", hint));
    }
    Ok(version.to_string())
}

/// A BASEIMAGE file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseimage {
    /// What its keys say: `windows/amd64/` lines a node image, `linux/amd64/` lines a
    /// cache-only image; None for a file without lines.
    pub kind: Option<Kind>,
    /// `(os, image)` per line, REGISTRY replaced.
    pub bases: Vec<(String, String)>,
    /// The first line (number and text), for messages about the whole file.
    pub first_line: usize,
    pub first_text: String,
}

/// BASEIMAGE: `windows/amd64/<os>=<image>` (node image) or `linux/amd64/<os>=<image>`
/// (cache-only image) per line, one kind per file; blank lines and `#` comments allowed.
pub fn read_baseimage(path: &Path, registry: &str) -> anyhow::Result<Baseimage> {
    let shown = path.display().to_string();
    let text = files::read_small(path, SMALL_FILE_MAX).map_err(|problem| {
        BadInput::new(
            "file",
            &shown,
            problem,
            "BASEIMAGE is a text file of windows/amd64/<os>=<image> lines",
        )
    })?;
    let hint = "each line is windows/amd64/<os>=<image> (built on the node), e.g. windows/amd64/ltsc2022=mcr.microsoft.com/windows/nanoserver:ltsc2022, or, for a cache-only image, linux/amd64/<os>=<image>";
    let mut out = Baseimage {
        kind: None,
        bases: Vec::new(),
        first_line: 0,
        first_text: String::new(),
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = i + 1;
        let Some((key, image)) = line.split_once('=') else {
            return Err(BadInput::at_line(&shown, at, line, "no '='", hint));
        };
        let Some((kind, os)) = [Kind::Node, Kind::CacheOnly]
            .into_iter()
            .find_map(|k| key.strip_prefix(k.base_key()).map(|os| (k, os)))
        else {
            return Err(BadInput::at_line(
                &shown,
                at,
                line,
                "the key does not start with windows/amd64/ (or linux/amd64/)",
                hint,
            ));
        };
        match out.kind {
            None => {
                out.kind = Some(kind);
                out.first_line = at;
                out.first_text = line.to_string();
            }
            Some(k) if k != kind => {
                return Err(BadInput::at_line(
                    &shown,
                    at,
                    line,
                    format!(
                        "a {} line after {} lines (line {}): one file holds one kind",
                        kind.base_key(),
                        k.base_key(),
                        out.first_line
                    ),
                    "windows/amd64/ lines for an image built on the Windows node, linux/amd64/ lines for a cache-only image",
                ));
            }
            Some(_) => {}
        }
        if !crate::windows::is_release_name(os) {
            return Err(BadInput::at_line(
                &shown,
                at,
                line,
                format!("'{os}' is not an OS version"),
                hint,
            ));
        }
        if image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(BadInput::at_line(
                &shown,
                at,
                line,
                "the image is empty or holds spaces",
                hint,
            ));
        }
        if out.bases.iter().any(|(o, _)| o == os) {
            return Err(BadInput::at_line(
                &shown,
                at,
                line,
                format!("a second line for {os}"),
                hint,
            ));
        }
        // Upstream's convention: the word REGISTRY stands for the configured registry.
        let image = image.replace("REGISTRY", registry);
        if let Some(problem) = reference::reference_problem(&image) {
            return Err(BadInput::at_line(
                &shown,
                at,
                line,
                format!(
                    "'{}' is not an image reference: {problem}",
                    crate::error::shown(&image)
                ),
                hint,
            ));
        }
        out.bases.push((os.to_string(), image));
    }
    Ok(out)
}
