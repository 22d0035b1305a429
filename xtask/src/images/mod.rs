//! Images: the folders of IMAGES_DIR, one helper image each (k8s test/images conventions):
//! `VERSION` (the tag), `Dockerfile_windows` (built on the node), `Dockerfile` (the Linux
//! cache image) and an optional `BASEIMAGE` (`windows/amd64/<os>=<image>` lines). A folder
//! without `Dockerfile_windows` whose BASEIMAGE lines are `linux/amd64/<os>=<image>` is a
//! cache-only image (k8s windows-servercore-cache), built by buildx alone. Reading and
//! checking them, and deciding each image's `Kind` once, happens here, before any plan is
//! made; everything after reads the kind, never the folder. Each file must be a regular file
//! (a FIFO would block the read forever), VERSION a tag, BASEIMAGE's values image references;
//! `check_tag` checks each tag a plan pushes against docker's limits.

mod read;

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::Selection;
use crate::error::{shown, BadInput};
use crate::reference;
use read::{need_file, regular};
pub use read::{read_baseimage, read_version, Baseimage};

/// What an image folder builds, decided by its files (see `kind_of`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `Dockerfile_windows` built on a Windows node and pushed from there; `Dockerfile` then
    /// re-pushes it as the Linux cache image (`--build-arg SOURCE=<the Windows image>`).
    /// BASEIMAGE lines, if any, are `windows/amd64/<os>=<image>`.
    Node,
    /// No `Dockerfile_windows`: `Dockerfile` is built by buildx alone, once per OS version,
    /// `--build-arg BASEIMAGE=<that version's line>`, tagged `V-linux-amd64-<os>`. BASEIMAGE
    /// lines are `linux/amd64/<os>=<image>` (the platform of what is built, as upstream's
    /// image-util.sh reads them). Needs no node.
    CacheOnly,
}

impl Kind {
    /// The BASEIMAGE key prefix of this kind's lines.
    pub fn base_key(self) -> &'static str {
        match self {
            Kind::Node => "windows/amd64/",
            Kind::CacheOnly => "linux/amd64/",
        }
    }

    /// The file the image's own build starts from: what skip-unchanged reads the bases of.
    pub fn build_file(self) -> &'static str {
        match self {
            Kind::Node => "Dockerfile_windows",
            Kind::CacheOnly => "Dockerfile",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub name: String,
    pub dir: PathBuf,
    pub version: String,
    pub kind: Kind,
    /// `(os, base image)` from BASEIMAGE, with the word REGISTRY already replaced.
    pub bases: Vec<(String, String)>,
}

impl Image {
    pub fn dockerfile_windows(&self) -> PathBuf {
        self.dir.join("Dockerfile_windows")
    }

    /// The Dockerfile the image's first build reads (`Kind::build_file`).
    pub fn build_file(&self) -> PathBuf {
        self.dir.join(self.kind.build_file())
    }

    pub fn is_cache_only(&self) -> bool {
        self.kind == Kind::CacheOnly
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
    /// The target builds on the node: a node image's Dockerfile_windows must exist.
    pub windows: bool,
    /// The target builds the Linux cache image: Dockerfile must exist.
    pub cache: bool,
}

/// What images are read against: the registry prefix (BASEIMAGE lines may name it) and the
/// releases (an image with a BASEIMAGE file must have a line for each).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub registry: &'a str,
    pub os_versions: &'a [String],
}

/// The images to handle: `only` (a sub-target's image), else the selection's names, else the
/// default set: every folder of IMAGES_DIR that has a VERSION file, sorted by name — in compat
/// mode without the cache-only ones (see `default_set`).
pub fn select(
    sel: &Selection,
    cx: Context,
    only: Option<&str>,
    wants: Wants,
) -> anyhow::Result<Vec<Image>> {
    let images = named_or_all(sel, cx, only, wants)?;
    if only.is_some() || !sel.names.is_empty() {
        return Ok(images);
    }
    let (images, left_out) = default_set(!cx.os_versions.is_empty(), images);
    if !left_out.is_empty() {
        crate::error::say(&format!(
            "xtask: note: compat mode's default set is the node images, as upstream's Makefile builds; \
             not built: cache-only {} (name it: IMAGES=… or sub-repush-as-linux-IMG; or set OS_VERSIONS)",
            left_out.join(", ")
        ));
    }
    Ok(images)
}
/// The default set (no image named): in matrix mode every image; in compat mode the node
/// images only — what upstream's Makefile builds. A cache-only image costs a buildx pull of a
/// multi-GB Server Core base per BASEIMAGE line to copy a few files, which upstream's
/// Makefile never does; it is built when named, or in matrix mode (image-util.sh's way).
/// Returns the images kept and the names left out.
pub fn default_set(matrix: bool, images: Vec<Image>) -> (Vec<Image>, Vec<String>) {
    if matrix {
        return (images, Vec::new());
    }
    let (left_out, kept): (Vec<Image>, Vec<Image>) =
        images.into_iter().partition(Image::is_cache_only);
    (kept, left_out.into_iter().map(|i| i.name).collect())
}

/// The images named, or every image of IMAGES_DIR (no default set): for the commands that look
/// at every folder (lint, pin-bases), whatever the mode.
pub fn named_or_all(
    sel: &Selection,
    cx: Context,
    only: Option<&str>,
    wants: Wants,
) -> anyhow::Result<Vec<Image>> {
    folders(sel, only)?
        .iter()
        .map(|(name, folder)| {
            let img = load(cx, name, folder, wants)?;
            // A sub-target that only builds or pushes on the node names an image that has
            // neither: say so rather than run an empty plan.
            if only.is_some() && !wants.cache && img.is_cache_only() {
                return Err(BadInput::new(
                    "image",
                    name,
                    "a cache-only image (BASEIMAGE lines linux/amd64/…, no Dockerfile_windows): it has no node build or push",
                    format!("sub-repush-as-linux-{name} builds its cache images with buildx, no node needed"),
                ));
            }
            Ok(img)
        })
        .collect()
}

/// The image folders to handle, as `select` picks them, without reading them: names and
/// folders. A name that is not a folder of IMAGES_DIR is bad input; what the folders hold is
/// for `select` (or `lint`) to check.
pub fn folders(sel: &Selection, only: Option<&str>) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let dir = &sel.dir;
    let names: Vec<String> = match only {
        Some(one) => {
            if !reference::is_path_component(one) {
                return Err(BadInput::new(
                    "image",
                    one,
                    "not a valid image name",
                    "name a folder of IMAGES_DIR, e.g. sub-build-powershell-helper",
                ));
            }
            vec![one.to_string()]
        }
        None if !sel.names.is_empty() => sel.names.clone(),
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
        .into_iter()
        .map(|name| {
            let folder = dir.join(&name);
            if !folder.is_dir() {
                let var = if only.is_some() { "image" } else { "IMAGES" };
                return Err(BadInput::new(
                    var,
                    &name,
                    format!(
                        "unknown image: no folder {}",
                        shown(&folder.display().to_string())
                    ),
                    format!("known images: {}", known()),
                ));
            }
            Ok((name, folder))
        })
        .collect()
}

/// Folder names of IMAGES_DIR that hold a VERSION file, sorted. Folders whose name starts
/// with a dot are skipped, as upstream's Makefile skips them. A VERSION that is not a regular
/// file still marks an image, so that reading it says what is wrong instead of skipping it.
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
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.path().is_dir() && fs::metadata(e.path().join("VERSION")).is_ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn load(cx: Context, name: &str, dir: &Path, wants: Wants) -> anyhow::Result<Image> {
    let shown = |f: &str| dir.join(f).display().to_string();
    if !reference::is_path_component(name) {
        return Err(BadInput::new(
            "image folder",
            shown(""),
            format!("'{name}' is not a valid repository name"),
            "rename the folder: lowercase letters, digits and . _ __ - between them",
        ));
    }
    let version = read_version(&dir.join("VERSION"))?;
    let base_file = dir.join("BASEIMAGE");
    let has_bases = regular(&base_file).map_err(|problem| {
        BadInput::new(
            "file",
            base_file.display().to_string(),
            problem,
            "BASEIMAGE is a text file of windows/amd64/<os>=<image> (or linux/amd64/<os>=<image>) lines",
        )
    })?;
    let baseimage = if has_bases {
        Some(read_baseimage(&base_file, cx.registry)?)
    } else {
        None
    };
    let kind = kind_of(dir, baseimage.as_ref())?;
    if kind == Kind::Node && wants.windows {
        need_file(
            &dir.join("Dockerfile_windows"),
            "missing",
            "every image built on the Windows node needs a Dockerfile_windows (a cache-only image \
             instead has a BASEIMAGE of linux/amd64/<os>=<image> lines)",
        )?;
    }
    // A cache-only image has nothing but its Dockerfile: needed whatever the target.
    if wants.cache || kind == Kind::CacheOnly {
        let (missing, hint) = match kind {
            Kind::Node => (
                "missing (push-as-linux builds the Linux cache image from it)",
                "add a Dockerfile with `ARG SOURCE`, `FROM --platform=windows/amd64 $SOURCE`, `FROM scratch`, `COPY --from`",
            ),
            Kind::CacheOnly => (
                "missing (a cache-only image, its BASEIMAGE lines being linux/amd64/…, is built from it)",
                "add a Dockerfile with `ARG BASEIMAGE`, `FROM --platform=windows/amd64 $BASEIMAGE`, `FROM scratch`, `COPY --from`",
            ),
        };
        need_file(&dir.join("Dockerfile"), missing, hint)?;
    }
    let bases = baseimage.map(|b| b.bases).unwrap_or_default();
    // Matrix mode: an image with a BASEIMAGE file must name a base for every requested version.
    if has_bases {
        for os in cx.os_versions {
            if !bases.iter().any(|(o, _)| o == os) {
                return Err(BadInput::new(
                    "file",
                    base_file.display().to_string(),
                    format!("has no line for OS version {os}"),
                    format!(
                        "add a line {}{os}=<base image>, or drop {os} from OS_VERSIONS",
                        kind.base_key()
                    ),
                ));
            }
        }
    }
    Ok(Image {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        version,
        kind,
        bases,
    })
}

/// The kind of the image in `dir`, from its BASEIMAGE (already read) and whether it has a
/// Dockerfile_windows: linux/amd64 lines and no Dockerfile_windows make a cache-only image;
/// anything else is a node image (whose missing Dockerfile_windows is reported by whoever
/// needs it). linux/amd64 lines beside a Dockerfile_windows contradict each other.
pub fn kind_of(dir: &Path, baseimage: Option<&Baseimage>) -> anyhow::Result<Kind> {
    let Some(b) = baseimage.filter(|b| b.kind == Some(Kind::CacheOnly)) else {
        return Ok(Kind::Node);
    };
    let windows = dir.join("Dockerfile_windows");
    if windows.is_file() {
        return Err(BadInput::at_line(
            dir.join("BASEIMAGE").display().to_string(),
            b.first_line,
            b.first_text.clone(),
            format!(
                "linux/amd64/ lines make a cache-only image (built by buildx alone), but {} exists",
                windows.display()
            ),
            "an image built on the Windows node has lines windows/amd64/<os>=<image>; a cache-only image has no Dockerfile_windows",
        ));
    }
    Ok(Kind::CacheOnly)
}

/// A tag the plan pushes for `img`, checked against docker's limits before anything runs
/// (a VERSION that fits alone may not fit with `-windows-amd64-ltsc2022` after it). The
/// refusal names VERSION when the tag part is too long, REGISTRY when the name is.
pub fn check_tag(img: &Image, tag: &str) -> anyhow::Result<()> {
    let (name, tag_part) = match tag.rfind(':').filter(|&i| !tag[i..].contains('/')) {
        Some(i) => (&tag[..i], &tag[i + 1..]),
        None => (tag, ""),
    };
    if tag_part.len() > reference::TAG_MAX {
        return Err(BadInput::new(
            img.dir.join("VERSION").display().to_string(),
            &img.version,
            format!(
                "the tag {} would be {} characters long; docker takes at most {}",
                shown(tag),
                tag_part.len(),
                reference::TAG_MAX
            ),
            format!(
                "shorten VERSION to at most {} characters: tags add up to {} characters after it",
                reference::TAG_MAX.saturating_sub(tag_part.len() - img.version.len()),
                tag_part.len() - img.version.len()
            ),
        ));
    }
    if name.len() > reference::NAME_MAX {
        return Err(BadInput::new(
            "REGISTRY",
            name.strip_suffix(&format!("/{}", img.name)).unwrap_or(name),
            format!(
                "the repository {} would be {} characters long; docker takes at most {}",
                shown(name),
                name.len(),
                reference::NAME_MAX
            ),
            "use a shorter registry prefix (or image folder name)",
        ));
    }
    if let Some(problem) = reference::reference_problem(tag) {
        return Err(BadInput::new(
            "tag",
            tag,
            format!("not a valid image reference: {problem}"),
            "check REGISTRY, the image folder's name and its VERSION",
        ));
    }
    Ok(())
}
