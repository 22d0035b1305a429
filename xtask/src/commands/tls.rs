//! `cargo xtask tls`: TLS material for a Windows node (CA, server cert, client cert, the
//! node's daemon.json and install.ps1), in place of upstream's dockertls-windows container.
//! The flags, their limits and the files written are defined once, in the tls-spec crate,
//! for this side and the xtask-tls crate. This file checks them before any work (bad input →
//! exit 2, nothing written, cargo not even asked), runs `xtask-tls make` through cargo (which
//! checks the --ca folder, makes the certs and writes them, or with -n/--dry-run writes
//! nothing), reads its outcome and tells the user what was (or would be) written. The crypto
//! lives in that crate so xtask's own cold build stays small; cargo compiles it the first
//! time someone makes or inspects certs.

use std::path::Path;
use std::process::Stdio;

use anyhow::Context;
use serde_json::Value;
use tls_spec::{escaped, shown_path, Entry, Invalid, Outcome, Spec};
use xshell::Shell;

use crate::error::BadInput;

pub use tls_spec::Args;

/// `cargo xtask [-n] tls …`. `json` is refused: tls writes files and reports them as text.
pub fn run(args: &Args, dry_run: bool, json: bool) -> anyhow::Result<()> {
    if json {
        return Err(BadInput::new(
            "--json",
            "tls",
            "tls has no machine-readable output",
            "drop --json; -n/--dry-run lists the files it would write, with their modes",
        ));
    }
    let spec = args.validate().map_err(bad_input)?;
    spec.check_fs().map_err(bad_input)?;
    // Before the child writes: afterwards every entry exists.
    let entries = spec.entries();
    match make(&spec, dry_run)? {
        Outcome::Done => {
            crate::error::print(&report(&spec, &entries, dry_run))?;
            Ok(())
        }
        Outcome::Refused(invalid) => Err(bad_input(invalid)),
        // The child bounded each value in its message; this bounds the whole.
        Outcome::Failed(message) => anyhow::bail!(
            "xtask-tls make failed, nothing written: {}",
            escaped(&message, 2000)
        ),
    }
}

fn bad_input(i: Invalid) -> anyhow::Error {
    BadInput::new(i.flag, i.value, i.problem, i.hint)
}

/// Runs `xtask-tls make` and reads its outcome from its stdout. Its stderr (cargo's build
/// errors on first use) reaches the user as it comes.
fn make(spec: &Spec, dry_run: bool) -> anyhow::Result<Outcome> {
    let sh = Shell::new()?;
    let out = std::process::Command::from(tls_cmd(&sh, &spec.make_argv(dry_run)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .context("running xtask-tls make through cargo")?;
    let text = String::from_utf8_lossy(&out.stdout);
    match Outcome::from_json(&text) {
        Some(o) if out.status.code() == Some(i32::from(o.exit_code())) => Ok(o),
        _ => anyhow::bail!(
            "xtask-tls make failed ({}) without a report; see the messages above (run from {})",
            out.status,
            crate::config::project_root().display()
        ),
    }
}

/// What was written (or, for a dry run, would be), each path with its mode, and what next.
fn report(spec: &Spec, entries: &[Entry], dry_run: bool) -> String {
    let ips: Vec<String> = spec.ips.iter().map(|i| i.to_string()).collect();
    let mut s = if dry_run {
        format!(
            "tls: dry run, nothing written. For node {} ({}), valid {} days, it would write:\n",
            spec.server_name,
            ips.join(", "),
            spec.days
        )
    } else {
        format!(
            "tls: certificates for node {} ({}), valid {} days:\n",
            spec.server_name,
            ips.join(", "),
            spec.days
        )
    };
    for e in entries {
        let (would, did) = match (e.is_dir, e.exists) {
            (true, true) => ("use", "used"),
            (true, false) => ("create", "created"),
            (false, true) => ("replace", "replaced"),
            (false, false) => ("write", "wrote"),
        };
        let verb = if dry_run { would } else { did };
        let path = if e.is_dir {
            format!("{}/", shown_path(&e.path))
        } else {
            shown_path(&e.path)
        };
        s += &format!("  {verb} {path} (mode {:04o})\n", e.mode);
    }
    let out = shown_path(&spec.out);
    if let Some(ca) = &spec.ca {
        let checked = if dry_run {
            " (checked: a valid CA whose key fits)"
        } else {
            ""
        };
        s += &format!("  issued by the CA in {}{checked}\n", shown_path(ca));
    }
    if dry_run {
        return s;
    }
    s += "next:\n";
    s += &format!(
        "  copy {out}/node to the Windows node and run there, as Administrator, in that folder:\n    powershell -ExecutionPolicy Bypass -File .\\install.ps1\n"
    );
    s += &format!(
        "  then use DOCKER_CERT_PATH={out}/client REMOTE_DOCKER_URL=tcp://{}:2376, and check with `cargo xtask doctor`\n",
        spec.server_name
    );
    if spec.ca.is_none() {
        s += &format!(
            "  keep {out}/ca private (never commit it): more nodes/clients are issued with --ca {out}/ca --out <another folder outside this checkout>\n"
        );
    }
    if inside_checkout(&spec.out) {
        s += &format!(
            "  {out} is inside this checkout: .gitignore keeps ca/, node/ and client/ out of `git add -A` here, but move the folder out (a CA key belongs nowhere near a repository)\n"
        );
    }
    s
}

/// Whether OUT lies inside this checkout, where a `git add -A` would pick the keys up were it
/// not for .gitignore. Compared after resolving links and `..`; OUT exists once written.
fn inside_checkout(out: &Path) -> bool {
    match (
        out.canonicalize(),
        crate::config::project_root().canonicalize(),
    ) {
        (Ok(out), Ok(root)) => out.starts_with(root),
        _ => false,
    }
}

/// `$CARGO run --quiet --manifest-path ROOT/Cargo.toml --package xtask-tls -- ARGS`: cargo
/// builds the tls crate on first use. CARGO is set by cargo for the binary it runs; a
/// binary started some other way falls back to `cargo` on PATH.
fn tls_cmd<'a>(sh: &'a Shell, args: &[String]) -> xshell::Cmd<'a> {
    announce_build();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = crate::config::project_root().join("Cargo.toml");
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
        let root = crate::config::project_root();
        let sources = newest(&root.join("tls/src")).max(newest(&root.join("tls/Cargo.toml")));
        match built {
            None => eprintln!(
                "xtask: building the certificate tool xtask-tls (rcgen, ring, x509-parser; first use only: \
                 ~30 s on 2 idle cores, a minute or more on a busy machine; needs rustc ≥ 1.88)…"
            ),
            Some(b) if sources.is_some_and(|s| s > b) => {
                eprintln!("xtask: rebuilding the certificate tool xtask-tls (its sources changed, ~30 s)…")
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

/// `xtask-tls inspect DIR --json`: the facts doctor judges a client cert folder by.
pub fn inspect(dir: &Path) -> anyhow::Result<Value> {
    let sh = Shell::new()?;
    let args = [
        "inspect".to_string(),
        dir.display().to_string(),
        "--json".to_string(),
    ];
    let out = tls_cmd(&sh, &args)
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
    serde_json::from_slice(&out.stdout).context("reading xtask-tls inspect's JSON")
}
