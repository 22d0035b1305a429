//! Where the repository is, and reading the small files the tool is given (VERSION, BASEIMAGE, Dockerfiles, PEM files)
//! without ever waiting on or following something that is not a regular file, and naming
//! what a non-regular file is in messages.

use std::fs;
use std::path::{Path, PathBuf};

/// The repository root: xtask lives in `<root>/xtask`.
pub fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}

/// Reads a small regular file as text. A FIFO, device or folder is refused before it is
/// opened (reading a FIFO would wait forever), so is a file larger than `max` bytes.
pub fn read_small(path: &Path, max: u64) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err(format!("not a regular file ({})", kind(&meta)));
    }
    if meta.len() > max {
        return Err(format!(
            "it is {} bytes, larger than any such file ({max} at most)",
            meta.len()
        ));
    }
    let bytes = fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())
}

/// What kind of file a non-regular file is, for messages.
pub fn kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}
