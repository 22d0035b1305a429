//! What `make` writes under OUT, with which modes, and the checks of the file system that
//! come before anything is written:
//!
//!   OUT/ca/{ca.pem,ca-key.pem}                                   (only for a new CA)
//!   OUT/node/{ca.pem,server-cert.pem,server-key.pem,daemon.json,install.ps1}
//!   OUT/client/{ca.pem,cert.pem,key.pem}                         (a DOCKER_CERT_PATH)
//!
//! Every one of the three folders holds a private key, so each is 0700.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::args::{Invalid, Spec, CA_HINT};
use crate::shown::shown_path;

/// Mode of a certificate or config file.
pub const FILE_MODE: u32 = 0o644;
/// Mode of a private key.
pub const KEY_MODE: u32 = 0o600;
/// Mode of a folder that holds a private key (and of OUT when it is created).
pub const DIR_MODE: u32 = 0o700;

/// A folder of OUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// The CA: keep private.
    Ca,
    /// For the Windows node.
    Node,
    /// The client's DOCKER_CERT_PATH.
    Client,
}

impl Folder {
    pub fn name(self) -> &'static str {
        match self {
            Folder::Ca => "ca",
            Folder::Node => "node",
            Folder::Client => "client",
        }
    }
}

/// What a file holds; xtask-tls matches on it to produce the content, so a file added to
/// [`LAYOUT`] does not compile there until it says what goes in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    CaCert,
    CaKey,
    ServerCert,
    ServerKey,
    DaemonJson,
    InstallPs1,
    ClientCert,
    ClientKey,
}

/// One file of the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct File {
    pub folder: Folder,
    pub name: &'static str,
    pub item: Item,
}

impl File {
    pub fn private(&self) -> bool {
        matches!(self.item, Item::CaKey | Item::ServerKey | Item::ClientKey)
    }
    pub fn mode(&self) -> u32 {
        if self.private() {
            KEY_MODE
        } else {
            FILE_MODE
        }
    }
}

const fn file(folder: Folder, name: &'static str, item: Item) -> File {
    File { folder, name, item }
}

/// Every file, in the order written.
pub const LAYOUT: [File; 10] = [
    file(Folder::Ca, "ca.pem", Item::CaCert),
    file(Folder::Ca, "ca-key.pem", Item::CaKey),
    file(Folder::Node, "ca.pem", Item::CaCert),
    file(Folder::Node, "server-cert.pem", Item::ServerCert),
    file(Folder::Node, "server-key.pem", Item::ServerKey),
    file(Folder::Node, "daemon.json", Item::DaemonJson),
    file(Folder::Node, "install.ps1", Item::InstallPs1),
    file(Folder::Client, "ca.pem", Item::CaCert),
    file(Folder::Client, "cert.pem", Item::ClientCert),
    file(Folder::Client, "key.pem", Item::ClientKey),
];

/// A folder or file of the plan, with its final mode and whether it is there already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: PathBuf,
    pub mode: u32,
    pub is_dir: bool,
    pub exists: bool,
}

impl Spec {
    /// The folders written: OUT/ca only for a new CA.
    pub fn folders(&self) -> Vec<Folder> {
        let mut v = Vec::new();
        if self.ca.is_none() {
            v.push(Folder::Ca);
        }
        v.extend([Folder::Node, Folder::Client]);
        v
    }

    /// The files written, in order.
    pub fn files(&self) -> Vec<File> {
        let folders = self.folders();
        LAYOUT
            .into_iter()
            .filter(|f| folders.contains(&f.folder))
            .collect()
    }

    pub fn folder_path(&self, folder: Folder) -> PathBuf {
        self.out.join(folder.name())
    }

    pub fn path(&self, f: &File) -> PathBuf {
        self.folder_path(f.folder).join(f.name)
    }

    /// Everything `make` creates or replaces, folders before their files: OUT itself when it
    /// is new, each folder (mode 0700 even when it exists) and each file.
    pub fn entries(&self) -> Vec<Entry> {
        let entry = |path: PathBuf, mode, is_dir| Entry {
            exists: fs::symlink_metadata(&path).is_ok(),
            path,
            mode,
            is_dir,
        };
        let mut v = Vec::new();
        if fs::metadata(&self.out).is_err() {
            v.push(entry(self.out.clone(), DIR_MODE, true));
        }
        for folder in self.folders() {
            v.push(entry(self.folder_path(folder), DIR_MODE, true));
            for f in self.files().iter().filter(|f| f.folder == folder) {
                v.push(entry(self.path(f), f.mode(), false));
            }
        }
        v
    }

    /// The checks of the file system, before anything is written: OUT is (or can become) a
    /// folder, the CA folder holds its two files, every folder to write into is a real
    /// folder, and no file would be replaced without --force.
    pub fn check_fs(&self) -> Result<(), Invalid> {
        let out_s = self.out.to_string_lossy();
        let out_bad = |problem: String, hint: &str| Invalid::new("--out", &out_s, problem, hint);
        match fs::metadata(&self.out) {
            Ok(m) if !m.is_dir() => {
                return Err(out_bad(
                    "exists and is not a folder".into(),
                    "name a new or existing folder",
                ))
            }
            Ok(_) => {}
            Err(_) if fs::symlink_metadata(&self.out).is_ok() => {
                return Err(out_bad(
                    "is a symbolic link to nothing".into(),
                    "name a new or existing folder",
                ))
            }
            Err(_) => {
                if let Some(a) = blocking_ancestor(&self.out) {
                    return Err(out_bad(
                        format!("{} is not a folder", shown_path(&a)),
                        "name a folder whose parents are folders",
                    ));
                }
            }
        }

        if let Some(dir) = &self.ca {
            for f in ["ca.pem", "ca-key.pem"] {
                if !dir.join(f).is_file() {
                    return Err(Invalid::new(
                        "--ca",
                        &dir.to_string_lossy(),
                        format!("no {f} in it"),
                        CA_HINT,
                    ));
                }
            }
        }

        for folder in self.folders() {
            let p = self.folder_path(folder);
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => {}
                Ok(m) => {
                    let what = if m.file_type().is_symlink() {
                        "a symbolic link"
                    } else {
                        "a file"
                    };
                    return Err(out_bad(
                        format!(
                            "{} is {what} where the folder {}/ goes: nothing written",
                            shown_path(&p),
                            folder.name()
                        ),
                        "move it away, or choose another --out",
                    ));
                }
                Err(_) => {}
            }
        }

        for f in self.files() {
            let p = self.path(&f);
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => {
                    return Err(out_bad(
                        format!("{} is a folder where a file goes", shown_path(&p)),
                        "move it away, or choose another --out",
                    ))
                }
                Ok(_) if !self.force => {
                    return Err(out_bad(
                        format!("{} exists: not overwriting it", shown_path(&p)),
                        "add --force to replace the certs (certs made before then stop working with a new CA), or choose another --out; --ca OUT/ca keeps the CA",
                    ))
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(out_bad(
                        format!("cannot look at {}: {e}", shown_path(&p)),
                        "check the folder's permissions",
                    ))
                }
            }
        }
        Ok(())
    }
}

/// The nearest existing ancestor of a missing `path` when it is not a folder (so the folders
/// could not be created), else None.
fn blocking_ancestor(path: &Path) -> Option<PathBuf> {
    let mut p = path.parent();
    while let Some(a) = p.filter(|a| !a.as_os_str().is_empty()) {
        if let Ok(m) = fs::metadata(a) {
            return (!m.is_dir()).then(|| a.to_path_buf());
        }
        p = a.parent();
    }
    None
}
