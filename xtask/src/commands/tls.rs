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
use tls_spec::{escaped, shown_path, Entry, Invalid, Outcome, Spec};
use xshell::Shell;

use crate::certs::tool;
use crate::error::BadInput;
use tls_spec::Args;

/// `cargo xtask [-n] tls …`. `json` is refused: tls writes files and reports them as text.
/// What tls is handed: its flags (tls-spec), -n and the (refused) --json.
#[derive(Debug, Clone)]
pub struct Input {
    pub args: Args,
    pub dry_run: bool,
    pub json: bool,
}

pub fn run(input: Input) -> anyhow::Result<()> {
    let Input {
        args,
        dry_run,
        json,
    } = input;
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
    let out = std::process::Command::from(tool::command(&sh, &spec.make_argv(dry_run)))
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
            crate::files::project_root().display()
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
        crate::files::project_root().canonicalize(),
    ) {
        (Ok(out), Ok(root)) => out.starts_with(root),
        _ => false,
    }
}
