//! Writing `make`'s files under OUT so that a failure leaves nothing behind, with exact modes
//! whatever the umask (keys 0600, their folders 0700). Everything is first written into a
//! staging folder on the same file system, then renamed into place: a new OUT in one rename;
//! into an existing OUT, a new folder in one rename and each file of an existing folder in
//! one (a file it replaces is moved into the staging folder until the end). On any error
//! every change made so far is undone, newest first, and the staging folder removed.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use tls_spec::{shown_path, DIR_MODE};

/// One file to write: OUT/folder/name.
pub struct File {
    pub folder: &'static str,
    pub name: &'static str,
    pub mode: u32,
    pub text: String,
}

/// Called with a path before each change to the file system; an error stops the install
/// there (and undoes it). The real run passes `|_| Ok(())`; tests fail it at every step.
pub type Probe<'a> = &'a mut dyn FnMut(&Path) -> io::Result<()>;

/// How to take back one change.
enum Undo {
    RemoveAll(PathBuf),
    /// A folder made for OUT's parents: removed only if still empty.
    RemoveDir(PathBuf),
    RemoveFile(PathBuf),
    /// Put a replaced file back.
    Restore {
        backup: PathBuf,
        to: PathBuf,
    },
    Mode {
        path: PathBuf,
        mode: u32,
    },
}

impl Undo {
    /// Best effort: an undo that fails cannot be helped by stopping the others.
    fn run(self) {
        let _ = match self {
            Undo::RemoveAll(p) => fs::remove_dir_all(p),
            Undo::RemoveDir(p) => fs::remove_dir(p),
            Undo::RemoveFile(p) => fs::remove_file(p),
            Undo::Restore { backup, to } => {
                let _ = fs::remove_file(&to);
                fs::rename(backup, to)
            }
            Undo::Mode { path, mode } => {
                fs::set_permissions(path, fs::Permissions::from_mode(mode))
            }
        };
    }
}

/// Writes `files` under `out`, all or nothing.
pub fn install(out: &Path, files: &[File], probe: Probe) -> anyhow::Result<()> {
    let mut undo = Vec::new();
    let result = steps(out, files, probe, &mut undo);
    if result.is_err() {
        while let Some(u) = undo.pop() {
            u.run();
        }
    }
    result
}

fn steps(out: &Path, files: &[File], probe: Probe, undo: &mut Vec<Undo>) -> anyhow::Result<()> {
    let pid = std::process::id();
    if fs::symlink_metadata(out).is_err() {
        // A new OUT: staged next to it, then one rename.
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = out
            .file_name()
            .with_context(|| format!("--out {} names no folder", shown_path(out)))?;
        make_parents(parent, probe, undo)?;
        let staging = parent.join(format!(".{}.xtask-tls-{pid}", name.to_string_lossy()));
        stage(&staging, files, probe, undo)?;
        step(
            probe,
            out,
            || fs::rename(&staging, out),
            "moving the certs to",
        )?;
        undo.push(Undo::RemoveAll(out.to_path_buf()));
        return Ok(());
    }

    let staging = out.join(format!(".xtask-tls-{pid}"));
    stage(&staging, files, probe, undo)?;
    for folder in folders(files) {
        let target = out.join(folder);
        let staged = staging.join(folder);
        let Ok(meta) = fs::symlink_metadata(&target) else {
            step(probe, &target, || fs::rename(&staged, &target), "moving in")?;
            undo.push(Undo::RemoveAll(target));
            continue;
        };
        // An existing folder: it is about to hold a key, so 0700 like a new one.
        let mode = meta.permissions().mode() & 0o7777;
        if mode != DIR_MODE {
            step(
                probe,
                &target,
                || set_mode(&target, DIR_MODE),
                "setting mode 0700 on",
            )?;
            undo.push(Undo::Mode {
                path: target.clone(),
                mode,
            });
        }
        for f in files.iter().filter(|f| f.folder == folder) {
            let dst = target.join(f.name);
            if fs::symlink_metadata(&dst).is_ok() {
                let keep = staging.join(".replaced").join(folder);
                fs::create_dir_all(&keep)
                    .with_context(|| format!("creating {}", shown_path(&keep)))?;
                let backup = keep.join(f.name);
                step(probe, &dst, || fs::rename(&dst, &backup), "setting aside")?;
                undo.push(Undo::Restore {
                    backup,
                    to: dst.clone(),
                });
            } else {
                undo.push(Undo::RemoveFile(dst.clone()));
            }
            step(
                probe,
                &dst,
                || fs::rename(staged.join(f.name), &dst),
                "moving in",
            )?;
        }
    }
    step(probe, &staging, || fs::remove_dir_all(&staging), "removing")?;
    Ok(())
}

/// Writes every file into a new `staging` folder (0700), in its folder (0700).
fn stage(staging: &Path, files: &[File], probe: Probe, undo: &mut Vec<Undo>) -> anyhow::Result<()> {
    // Only a run killed with this very pid can have left one; it is ours to replace.
    let _ = fs::remove_dir_all(staging);
    step(probe, staging, || make_dir(staging, DIR_MODE), "creating")?;
    undo.push(Undo::RemoveAll(staging.to_path_buf()));
    for folder in folders(files) {
        let dir = staging.join(folder);
        step(probe, &dir, || make_dir(&dir, DIR_MODE), "creating")?;
    }
    for f in files {
        let path = staging.join(f.folder).join(f.name);
        step(
            probe,
            &path,
            || write_file(&path, f.mode, &f.text),
            "writing",
        )?;
    }
    Ok(())
}

/// Creates the missing parents of OUT (0755 at most: they hold no key), remembering them.
fn make_parents(parent: &Path, probe: Probe, undo: &mut Vec<Undo>) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    let mut p = Some(parent);
    while let Some(d) = p.filter(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err())
    {
        missing.push(d.to_path_buf());
        p = d.parent();
    }
    while let Some(d) = missing.pop() {
        step(
            probe,
            &d,
            || fs::DirBuilder::new().mode(0o755).create(&d),
            "creating",
        )?;
        undo.push(Undo::RemoveDir(d));
    }
    Ok(())
}

/// One change: the probe, then the change itself, with the path in its error.
fn step(
    probe: Probe,
    path: &Path,
    change: impl FnOnce() -> io::Result<()>,
    what: &str,
) -> anyhow::Result<()> {
    probe(path)
        .and_then(|_| change())
        .with_context(|| format!("{what} {}", shown_path(path)))
}

fn folders(files: &[File]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    for f in files {
        if !v.contains(&f.folder) {
            v.push(f.folder);
        }
    }
    v
}

/// A folder with exactly `mode` (the umask only narrows DirBuilder's mode, so it is set
/// again).
fn make_dir(path: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new().mode(mode).create(path)?;
    set_mode(path, mode)
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// A new file created with `mode` (a key is never readable by others, not even for a
/// moment), then set to exactly `mode` whatever the umask, written and synced.
fn write_file(path: &Path, mode: u32, text: &str) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}
