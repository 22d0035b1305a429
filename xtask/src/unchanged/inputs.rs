//! What an image's inputs are, read from disk: every entry of its folder as docker's build
//! context holds it (links not followed, FIFOs and devices never opened) and the base images
//! its first build starts FROM (with the build args a step passes): Dockerfile_windows of a
//! node image, Dockerfile of a cache-only image (its BASEIMAGE line). Hashed by `probe`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::sha256::Sha256;
use crate::dockerfile;
use crate::images::Image;

/// One entry of an image folder as docker's build context sees it.
enum Entry {
    File(PathBuf),
    /// A symbolic link: its target, as text. Docker's context sends the link, not what it
    /// points to, so a link loop or a link to /dev/zero cannot break the digest.
    Link(String),
    /// A FIFO or device: docker's context holds the entry (its type and device number),
    /// never its content; reading it would block or never end.
    Special(String),
}

/// Digest of every entry under `dir` as docker's build context holds it: regular files by
/// relative path and content, symbolic links by their target text (never followed), FIFOs
/// and devices by type only (never opened); sockets are left out, as docker leaves them out.
pub fn folder_digest(dir: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut entries = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            let meta =
                fs::symlink_metadata(&p).with_context(|| format!("reading {}", p.display()))?;
            let t = meta.file_type();
            let entry = if t.is_dir() {
                stack.push(p);
                continue;
            } else if t.is_file() {
                Entry::File(p.clone())
            } else if t.is_symlink() {
                let target = fs::read_link(&p)
                    .with_context(|| format!("reading the link {}", p.display()))?;
                Entry::Link(target.to_string_lossy().into_owned())
            } else if t.is_fifo() {
                Entry::Special("fifo".into())
            } else if t.is_char_device() || t.is_block_device() {
                let kind = if t.is_char_device() { "char" } else { "block" };
                Entry::Special(format!("{kind} {}", meta.rdev()))
            } else {
                continue; // a socket
            };
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            entries.insert(rel, entry);
        }
    }
    let mut h = Sha256::new();
    for (rel, entry) in entries {
        match entry {
            // Regular files hash as they always have, so existing labels still match.
            Entry::File(p) => hash_regular(&rel, &p, &mut h)?,
            Entry::Link(target) => h.update(format!("{rel}\0link\0{target}\0").as_bytes()),
            Entry::Special(what) => h.update(format!("{rel}\0{what}\0").as_bytes()),
        }
    }
    Ok(h.finish())
}

/// How much of a file is in memory at once while it is hashed: a 2 GB payload costs this, not
/// 2 GB (issue 19 §6).
const CHUNK: usize = 64 * 1024;

/// Hashes a regular file as `rel \0 size \0 content` (as it always has been, so existing
/// labels still match), streamed in `CHUNK`s. Checked on the open handle: a file swapped for
/// a FIFO since the folder was listed is refused, not read; one whose size changes while it is
/// read is refused too (its digest would describe neither version).
fn hash_regular(rel: &str, p: &Path, h: &mut Sha256) -> anyhow::Result<()> {
    use std::io::Read;
    let mut f = fs::File::open(p).with_context(|| format!("reading {}", p.display()))?;
    let meta = f
        .metadata()
        .with_context(|| format!("reading {}", p.display()))?;
    anyhow::ensure!(meta.is_file(), "{} changed while it was read", p.display());
    h.update(format!("{rel}\0{}\0", meta.len()).as_bytes());
    let mut buf = vec![0u8; CHUNK];
    let mut read = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
        };
        read += n as u64;
        anyhow::ensure!(read <= meta.len(), "{} grew while it was read", p.display());
        h.update(&buf[..n]);
    }
    anyhow::ensure!(
        read == meta.len(),
        "{} shrank while it was read",
        p.display()
    );
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tempdir::TempDir;
    use std::os::unix::fs::symlink;

    fn folder(tag: &str) -> TempDir {
        let t = TempDir::new(tag);
        let d = t.path().to_path_buf();
        fs::create_dir_all(d.join("sub")).expect("mkdir");
        fs::write(d.join("VERSION"), "1.0\n").expect("write");
        fs::write(d.join("sub/a"), "a").expect("write");
        t
    }

    #[test]
    fn links_are_hashed_by_target_and_never_followed() {
        let t = folder("links");
        let d = t.path().to_path_buf();
        let plain = folder_digest(&d).expect("digest");
        // A loop and a link to an endless device: neither is followed.
        symlink("loop", d.join("loop")).expect("symlink");
        symlink("/dev/zero", d.join("zero")).expect("symlink");
        symlink(".", d.join("sub/self")).expect("symlink");
        let linked = folder_digest(&d).expect("digest with links");
        assert_ne!(plain, linked);
        // Another target is another digest; the same target the same one.
        fs::remove_file(d.join("zero")).expect("rm");
        symlink("/dev/null", d.join("zero")).expect("symlink");
        let other = folder_digest(&d).expect("digest");
        assert_ne!(linked, other);
        assert_eq!(other, folder_digest(&d).expect("digest"));
    }

    #[test]
    fn a_fifo_is_an_entry_never_opened() {
        let t = folder("fifo");
        let d = t.path().to_path_buf();
        let plain = folder_digest(&d).expect("digest");
        let made = std::process::Command::new("mkfifo")
            .arg(d.join("pipe"))
            .status()
            .expect("mkfifo");
        assert!(made.success());
        // Would block forever if the FIFO were opened for reading.
        let with_fifo = folder_digest(&d).expect("digest with a fifo");
        assert_ne!(plain, with_fifo);
    }

    /// Peak resident memory of this process (VmHWM), in KiB.
    fn peak_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    #[test]
    fn a_big_file_is_hashed_as_a_stream() {
        // 16 MiB, sparse: reading it whole (as before, issue 19 §6) raises the peak by 16 MiB.
        let d = folder("big");
        let f = std::fs::File::create(d.path().join("payload.bin")).expect("create");
        f.set_len(16 << 20).expect("set_len");
        drop(f);
        let before = peak_kib();
        folder_digest(d.path()).expect("digest");
        let grew = peak_kib().saturating_sub(before);
        assert!(
            grew < 8 << 10,
            "hashing 16 MiB raised the peak by {grew} KiB"
        );
    }

    #[test]
    fn content_and_names_both_count() {
        let t = folder("content");
        let d = t.path().to_path_buf();
        let a = folder_digest(&d).expect("digest");
        fs::write(d.join("sub/a"), "b").expect("write");
        let b = folder_digest(&d).expect("digest");
        assert_ne!(a, b);
        fs::rename(d.join("sub/a"), d.join("sub/c")).expect("mv");
        assert_ne!(b, folder_digest(&d).expect("digest"));
    }
}
