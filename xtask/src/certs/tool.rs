//! The certificate tool, xtask-tls, run through cargo: its crypto compiles only the first time
//! someone makes or inspects certs, so xtask's own cold build stays small. `command` is how
//! `tls` runs `xtask-tls make`; `inspect` reads a client cert folder's facts for doctor.

use std::path::Path;

use anyhow::Context;
use tls_spec::Facts;
use xshell::Shell;

/// `$CARGO run --quiet --manifest-path ROOT/Cargo.toml --package xtask-tls -- ARGS`: cargo
/// builds the tls crate on first use. CARGO is set by cargo for the binary it runs; a
/// binary started some other way falls back to `cargo` on PATH.
pub fn command<'a>(sh: &'a Shell, args: &[String]) -> xshell::Cmd<'a> {
    announce_build();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = crate::files::project_root().join("Cargo.toml");
    sh.cmd(cargo)
        .args(["run", "--quiet", "--manifest-path"])
        .arg(manifest)
        .args(["--package", "xtask-tls", "--"])
        .args(args)
}

/// cargo builds the tls crate quietly, 30 s to over a minute the first time (measured on 2
/// cores: see docs/internals.md): say so before, once, when its binary (beside this one: same
/// cargo, same profile) is missing or older than its sources.
fn announce_build() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let built = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join("xtask-tls")))
            .and_then(|bin| bin.metadata().ok()?.modified().ok());
        let root = crate::files::project_root();
        let sources = newest(&root.join("tls/src")).max(newest(&root.join("tls/Cargo.toml")));
        match built {
            None => {
                crate::error::say(
                    "xtask: building the certificate tool xtask-tls (rcgen, ring, x509-parser; first use only: \
                     ~30 s on 2 idle cores, a minute or more on a busy machine; needs rustc ≥ 1.88)…",
                );
            }
            Some(b) if sources.is_some_and(|s| s > b) => {
                crate::error::say(
                    "xtask: rebuilding the certificate tool xtask-tls (its sources changed, ~30 s)…",
                );
            }
            Some(_) => {}
        }
    });
}

/// The newest modification time of a file, or of any file under a folder.
fn newest(p: &Path) -> Option<std::time::SystemTime> {
    let meta = p.metadata().ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(p)
        .ok()?
        .flatten()
        .filter_map(|e| newest(&e.path()))
        .max()
}

/// `xtask-tls inspect DIR --json`: the facts doctor judges a client cert folder by (the typed
/// contract both crates share, `tls_spec::Facts`).
pub fn inspect(dir: &Path) -> anyhow::Result<Facts> {
    let sh = Shell::new()?;
    let args = [
        "inspect".to_string(),
        dir.display().to_string(),
        "--json".to_string(),
    ];
    let out = command(&sh, &args)
        .quiet()
        .ignore_status()
        .output()
        .context("running xtask-tls inspect through cargo")?;
    if !out.status.success() {
        anyhow::bail!(
            "xtask-tls inspect {} failed ({}): {}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Facts::from_json(&String::from_utf8_lossy(&out.stdout))
        .map_err(|e| anyhow::anyhow!("reading xtask-tls inspect's JSON: {e}"))
}
