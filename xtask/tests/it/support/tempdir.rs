//! `TempDir`: the one way a test of xtask gets a folder of its own, for the integration tests
//! (support/mod.rs re-exports it) and the unit tests in src/ (main.rs includes this file under
//! `cfg(test)` as `crate::tempdir`). Unique per process and per call, so tests on parallel
//! threads of one binary never share one; emptied first; removed when dropped.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A private folder, removed on drop: under cargo's CARGO_TARGET_TMPDIR for integration tests
/// (inside the target dir, where `cargo clean` finds it), the system's temp dir for unit tests
/// (cargo gives them none).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let base = option_env!("CARGO_TARGET_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let p = base.join(format!(
            "xtask-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
