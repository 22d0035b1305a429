//! A client cert folder (ca.pem, cert.pem, key.pem: what docker's --tls* flags name), checked
//! once, here, for config, preflight and doctor alike: each file a regular file with a PEM
//! block of its kind, the client certificate not expired, the key readable and its mode.
//! The answer is data (`Facts` or a `Problem`); each caller words it for its own report.
//! Nothing is printed from the files (a key never reaches a message).

pub mod pem;
pub mod tool;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::BadInput;
use crate::files::read_small;

/// The three files, what each must hold (the PEM block labels accepted) and what it is.
pub const CERT_FILES: &[(&str, &[&str], &str)] = &[
    (
        "ca.pem",
        &["CERTIFICATE"],
        "the CA certificate that signed the node's",
    ),
    ("cert.pem", &["CERTIFICATE"], "the client certificate"),
    (
        "key.pem",
        &["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"],
        "the client's private key",
    ),
];

/// Largest cert file read: PEM files are a few kB; anything larger is not one.
const CERT_FILE_MAX: u64 = 1 << 20;

/// What a sound folder holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// key.pem's permission bits.
    pub key_mode: u32,
    /// Others (group or world) may read the key.
    pub key_shared: bool,
    /// The client certificate's notAfter, Unix seconds.
    pub not_after: i64,
}

/// Why a folder is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NoFolder,
    /// Files that are not there.
    Missing(Vec<&'static str>),
    /// A file that is there but wrong: which, and why.
    File {
        file: &'static str,
        why: String,
    },
    /// A file that cannot be opened by this user (key.pem, most often).
    Unreadable {
        file: &'static str,
        why: String,
    },
}

/// How to fix a problem.
pub const CREATE_HINT: &str = "create the client certs with `cargo xtask tls` (or copy ca.pem, cert.pem, key.pem from the node) into it";
pub const MISSING_HINT: &str = "the folder must hold ca.pem, cert.pem and key.pem (the client side of `cargo xtask tls`: OUT/client)";
pub const REMAKE_HINT: &str =
    "make the client certs again with `cargo xtask tls --ca CA_FOLDER --out DIR` and use DIR/client";

impl Problem {
    /// The problem in words (the folder is named by the caller).
    pub fn what(&self) -> String {
        match self {
            Problem::NoFolder => "no such folder".into(),
            Problem::Missing(files) => format!("missing {}", files.join(", ")),
            Problem::File { file, why } => format!("{file}: {why}"),
            Problem::Unreadable { file, why } => format!("{file} cannot be read: {why}"),
        }
    }

    /// The problem as bad input (exit 2) naming `var`, the folder, what is wrong and the fix:
    /// how config and preflight refuse a folder.
    pub fn bad_input(&self, var: &str, dir: &Path) -> anyhow::Error {
        BadInput::new(var, dir.display().to_string(), self.what(), self.hint(dir))
    }

    /// Its fix.
    pub fn hint(&self, dir: &Path) -> String {
        match self {
            Problem::NoFolder => CREATE_HINT.into(),
            Problem::Missing(_) => MISSING_HINT.into(),
            Problem::File { .. } => REMAKE_HINT.into(),
            Problem::Unreadable { file, .. } => {
                format!("make {} readable by this user", dir.join(file).display())
            }
        }
    }
}

/// A private key file's mode, and whether others may read it (group or world bits set).
/// An unreadable mode counts as private: opening the key is checked on its own.
pub fn key_mode(key: &Path) -> (u32, bool) {
    let mode = fs::metadata(key)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o600);
    (mode, mode & 0o077 != 0)
}

/// Checks the folder's files for form (the cheap check config and preflight make): present,
/// regular, a PEM block of their kind, the client certificate unexpired at `now`.
pub fn check_form(dir: &Path, now: i64) -> Result<i64, Problem> {
    if !dir.is_dir() {
        return Err(Problem::NoFolder);
    }
    let missing: Vec<&'static str> = CERT_FILES
        .iter()
        .map(|(f, _, _)| *f)
        .filter(|f| fs::metadata(dir.join(f)).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(Problem::Missing(missing));
    }
    let mut not_after = 0;
    for &(file, labels, what) in CERT_FILES {
        let bad = |why: String| Problem::File { file, why };
        let text = read_small(&dir.join(file), CERT_FILE_MAX).map_err(bad)?;
        let blocks = pem::blocks(&text);
        let Some(block) = blocks.iter().find(|b| labels.contains(&b.label.as_str())) else {
            return Err(bad(if text.trim().is_empty() {
                "it is empty".to_string()
            } else {
                format!(
                    "holds no PEM block `-----BEGIN {}-----` ({what})",
                    labels[0]
                )
            }));
        };
        if file != "cert.pem" {
            continue;
        }
        not_after = pem::not_after(&block.der)
            .ok_or_else(|| bad("its CERTIFICATE block is not an X.509 certificate".to_string()))?;
        if not_after < now {
            return Err(bad(format!(
                "the client certificate expired on {}",
                pem::date(not_after)
            )));
        }
    }
    Ok(not_after)
}

/// The files there and readable by this user, and the key's mode: what doctor checks itself
/// before the certificate tool reads the certificates.
pub fn present(dir: &Path) -> Result<(u32, bool), Problem> {
    if !dir.is_dir() {
        return Err(Problem::NoFolder);
    }
    let missing: Vec<&'static str> = CERT_FILES
        .iter()
        .map(|(f, _, _)| *f)
        .filter(|f| !dir.join(f).is_file())
        .collect();
    if !missing.is_empty() {
        return Err(Problem::Missing(missing));
    }
    for &(file, _, _) in CERT_FILES {
        fs::File::open(dir.join(file)).map_err(|e| Problem::Unreadable {
            file,
            why: e.to_string(),
        })?;
    }
    Ok(key_mode(&dir.join("key.pem")))
}

/// The whole check a run makes before its first step: form, then the files opened by this
/// user and the key's mode read.
pub fn examine(dir: &Path) -> Result<Facts, Problem> {
    let not_after = check_form(dir, unix_now())?;
    let (key_mode, key_shared) = present(dir)?;
    Ok(Facts {
        key_mode,
        key_shared,
        not_after,
    })
}

/// Seconds since the Unix epoch now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_and_missing_files_are_named() {
        let dir = std::env::temp_dir().join(format!("xtask-certs-{}", std::process::id()));
        assert_eq!(check_form(&dir, 0), Err(Problem::NoFolder));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("ca.pem"), "x").unwrap();
        assert_eq!(
            check_form(&dir, 0),
            Err(Problem::Missing(vec!["cert.pem", "key.pem"]))
        );
        fs::write(dir.join("cert.pem"), "").unwrap();
        fs::write(dir.join("key.pem"), "").unwrap();
        let p = check_form(&dir, 0).unwrap_err();
        assert!(p.what().starts_with("ca.pem: holds no PEM block"), "{p:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
