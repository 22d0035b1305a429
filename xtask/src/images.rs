//! Images: the folders of IMAGES_DIR, one helper image each (k8s test/images conventions):
//! `VERSION` (the tag), `Dockerfile_windows` (built on the node), `Dockerfile` (the Linux
//! cache image) and an optional `BASEIMAGE` (`windows/amd64/<os>=<image>` lines). Reading and
//! checking them happens here, before any plan is made.

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::names;
use crate::config::Config;
use crate::error::BadInput;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub name: String,
    pub dir: PathBuf,
    pub version: String,
    /// `(os, base image)` from BASEIMAGE, with the word REGISTRY already replaced.
    pub bases: Vec<(String, String)>,
}

impl Image {
    pub fn dockerfile_windows(&self) -> PathBuf {
        self.dir.join("Dockerfile_windows")
    }

    /// The build context as upstream passes it: the folder with a trailing slash.
    pub fn context(&self) -> String {
        format!("{}/", self.dir.display())
    }

    pub fn base_for(&self, os: &str) -> Option<&str> {
        self.bases
            .iter()
            .find(|(o, _)| o == os)
            .map(|(_, b)| b.as_str())
    }
}

/// What the target needs from each image folder.
#[derive(Debug, Clone, Copy)]
pub struct Wants {
    /// The target builds on the node: Dockerfile_windows must exist.
    pub windows: bool,
    /// The target builds the Linux cache image: Dockerfile must exist.
    pub cache: bool,
}

/// The images to handle: `only` (a sub-target's image), else the config's selection, else
/// every folder of IMAGES_DIR that has a VERSION file, sorted by name.
pub fn select(cfg: &Config, only: Option<&str>, wants: Wants) -> anyhow::Result<Vec<Image>> {
    let dir = &cfg.images_dir;
    let names: Vec<String> = match only {
        Some(one) => {
            if !names::is_path_component(one) {
                return Err(BadInput::new(
                    "image",
                    one,
                    "not a valid image name",
                    "name a folder of IMAGES_DIR, e.g. sub-build-powershell-helper",
                ));
            }
            vec![one.to_string()]
        }
        None if !cfg.selection.is_empty() => cfg.selection.clone(),
        None => discover(dir)?,
    };
    if names.is_empty() {
        return Err(BadInput::new(
            "IMAGES_DIR",
            dir.display().to_string(),
            "holds no image folder (a folder with a VERSION file)",
            "point IMAGES_DIR at the folder that holds one folder per image",
        ));
    }
    let known = || discover(dir).unwrap_or_default().join(", ");
    names
        .iter()
        .map(|name| {
            let folder = dir.join(name);
            if !folder.is_dir() {
                let var = if only.is_some() { "image" } else { "IMAGES" };
                return Err(BadInput::new(
                    var,
                    name,
                    format!("unknown image: no folder {}", folder.display()),
                    format!("known images: {}", known()),
                ));
            }
            load(cfg, name, &folder, wants)
        })
        .collect()
}

/// Folder names of IMAGES_DIR that hold a VERSION file, sorted.
fn discover(dir: &Path) -> anyhow::Result<Vec<String>> {
    let entries = fs::read_dir(dir).map_err(|e| {
        BadInput::new(
            "IMAGES_DIR",
            dir.display().to_string(),
            format!("cannot read the folder: {e}"),
            "point IMAGES_DIR at a readable folder",
        )
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("VERSION").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn load(cfg: &Config, name: &str, dir: &Path, wants: Wants) -> anyhow::Result<Image> {
    let shown = |f: &str| dir.join(f).display().to_string();
    if !names::is_path_component(name) {
        return Err(BadInput::new(
            "image folder",
            shown(""),
            format!("'{name}' is not a valid repository name"),
            "rename the folder: lowercase letters, digits and . _ __ - between them",
        ));
    }
    let version = read_version(&dir.join("VERSION"))?;
    if wants.windows && !dir.join("Dockerfile_windows").is_file() {
        return Err(BadInput::new(
            "file",
            shown("Dockerfile_windows"),
            "missing",
            "every image needs a Dockerfile_windows, built on the Windows node",
        ));
    }
    if wants.cache && !dir.join("Dockerfile").is_file() {
        return Err(BadInput::new(
            "file",
            shown("Dockerfile"),
            "missing (push-as-linux builds the Linux cache image from it)",
            "add a Dockerfile with `ARG SOURCE`, `FROM --platform=windows/amd64 $SOURCE`, `FROM scratch`, `COPY --from`",
        ));
    }
    let base_file = dir.join("BASEIMAGE");
    let bases = if base_file.is_file() {
        read_baseimage(&base_file, &cfg.registry)?
    } else {
        Vec::new()
    };
    // Matrix mode: an image with a BASEIMAGE file must name a base for every requested version.
    if base_file.is_file() {
        for os in &cfg.os_versions {
            if !bases.iter().any(|(o, _)| o == os) {
                return Err(BadInput::new(
                    "file",
                    base_file.display().to_string(),
                    format!("has no line for OS version {os}"),
                    format!(
                        "add a line windows/amd64/{os}=<base image>, or drop {os} from OS_VERSIONS"
                    ),
                ));
            }
        }
    }
    Ok(Image {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        version,
        bases,
    })
}

/// VERSION holds one tag on one line (a trailing newline is fine).
pub fn read_version(path: &Path) -> anyhow::Result<String> {
    let shown = path.display().to_string();
    let text = fs::read_to_string(path).map_err(|e| {
        BadInput::new(
            "file",
            &shown,
            format!("cannot read it: {e}"),
            "each image folder needs a VERSION file holding the tag",
        )
    })?;
    let version = text.strip_suffix('\n').unwrap_or(&text);
    let version = version.strip_suffix('\r').unwrap_or(version);
    let hint = "VERSION holds one tag on one line: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, e.g. 7.4.6";
    if version.trim().is_empty() {
        return Err(BadInput::new(shown, text, "it is empty", hint));
    }
    if version.contains('\n') {
        return Err(BadInput::new(
            shown,
            text,
            "it has more than one line",
            hint,
        ));
    }
    if !names::is_tag(version) {
        return Err(BadInput::new(shown, version, "not a valid tag", hint));
    }
    Ok(version.to_string())
}

/// BASEIMAGE: `windows/amd64/<os>=<image>` per line; blank lines and `#` comments allowed.
pub fn read_baseimage(path: &Path, registry: &str) -> anyhow::Result<Vec<(String, String)>> {
    let shown = path.display().to_string();
    let text = fs::read_to_string(path)
        .map_err(|e| BadInput::new("file", &shown, format!("cannot read it: {e}"), ""))?;
    let hint = "each line is windows/amd64/<os>=<image>, e.g. windows/amd64/ltsc2022=mcr.microsoft.com/windows/nanoserver:ltsc2022";
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = i + 1;
        let Some((key, image)) = line.split_once('=') else {
            return Err(BadInput::at_line(&shown, at, line, "no '='", hint));
        };
        let Some(os) = key.strip_prefix("windows/amd64/") else {
            return Err(BadInput::at_line(
                &shown,
                at,
                line,
                "the key does not start with windows/amd64/",
                hint,
            ));
        };
        if !names::is_os_version(os) {
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
        if out.iter().any(|(o, _)| o == os) {
            return Err(BadInput::at_line(
                &shown,
                at,
                line,
                format!("a second line for {os}"),
                hint,
            ));
        }
        // Upstream's convention: the word REGISTRY stands for the configured registry.
        out.push((os.to_string(), image.replace("REGISTRY", registry)));
    }
    Ok(out)
}
