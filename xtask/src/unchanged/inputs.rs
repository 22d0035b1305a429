//! What an image's inputs are, read from disk: every file of its folder and the base images
//! its first build starts FROM (with the build args a step passes): Dockerfile_windows of a
//! node image, Dockerfile of a cache-only image (its BASEIMAGE line). Hashed by `probe`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::Context;

use super::sha256::Sha256;
use crate::dockerfile;
use crate::images::Image;

/// Digest of every file under `dir`: relative path and content, in sorted order.
pub fn folder_digest(dir: &Path) -> anyhow::Result<String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, p);
            }
        }
    }
    let mut h = Sha256::new();
    for (rel, p) in files {
        let data = fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
        h.update(format!("{rel}\0{}\0", data.len()).as_bytes());
        h.update(&data);
    }
    Ok(h.finish())
}

/// The images a build of `img` starts from (see `Dockerfile::external_bases`). An unreadable
/// or unparsable Dockerfile yields none: the build itself will then fail.
pub fn bases(img: &Image, build_args: &[(String, String)]) -> Vec<String> {
    let Ok(text) = fs::read_to_string(img.build_file()) else {
        return vec![];
    };
    dockerfile::parse(&text)
        .ok()
        .and_then(|df| df.external_bases(build_args).ok())
        .unwrap_or_default()
}
