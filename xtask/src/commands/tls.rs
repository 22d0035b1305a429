//! `cargo xtask tls`: TLS material for a Windows node (CA, server cert, client cert, the
//! node's daemon.json and install.ps1), in place of upstream's dockertls-windows container.
//! This file owns the flags: it validates every one before any work (bad input → exit 2,
//! nothing written) and then runs the `xtask-tls` crate's binary through cargo, which makes
//! the certs. The crypto lives in that crate so xtask's own cold build stays small; cargo
//! compiles it the first time someone makes or inspects certs.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;
use xshell::Shell;

use crate::config::names;
use crate::error::BadInput;

/// Longest validity accepted, in days (ten years); the tls crate enforces the same.
const MAX_DAYS: u32 = 3650;

/// Flags of `cargo xtask tls`. Each also reads a TLS_* environment variable, so
/// `make tls TLS_SERVER_NAME=… TLS_IP=… TLS_OUT=…` works like the other make variables.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The node's host name: the server cert's CN and a DNS name in it.
    #[arg(long, env = "TLS_SERVER_NAME", value_name = "NAME")]
    pub server_name: String,
    /// The node's IP addresses, comma separated (clients may connect by these).
    #[arg(long, env = "TLS_IP", value_name = "A[,B…]")]
    pub ip: String,
    /// More DNS names of the node, comma separated.
    #[arg(long, env = "TLS_DNS", value_name = "X[,Y…]")]
    pub dns: Option<String>,
    /// Validity of the server and client certs in days [default: 365].
    #[arg(long, env = "TLS_DAYS", value_name = "N")]
    pub days: Option<String>,
    /// Output folder: OUT/ca (keep private), OUT/node (copy to the node), OUT/client (DOCKER_CERT_PATH).
    #[arg(long, env = "TLS_OUT", value_name = "DIR")]
    pub out: String,
    /// Issue from this existing CA folder (OUT/ca of an earlier run) instead of a new CA.
    #[arg(long, env = "TLS_CA", value_name = "DIR")]
    pub ca: Option<String>,
    /// Replace existing files (certs made before stop working with the new CA).
    #[arg(long)]
    pub force: bool,
    /// Testing only: the certs' validity starts N days ago (with --days 1, expired certs).
    #[arg(long, hide = true, value_name = "N")]
    pub backdate: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let argv = make_argv(args)?;
    let sh = Shell::new()?;
    // Inherited stdio: cargo's build errors (first use) and the tool's report reach the user.
    let status = std::process::Command::from(tls_cmd(&sh, &argv))
        .status()
        .context("running xtask-tls make through cargo")?;
    if !status.success() {
        anyhow::bail!(
            "xtask-tls make failed ({status}); see its message above (run from {})",
            crate::config::project_root().display()
        );
    }
    Ok(())
}

/// Validates the flags and returns the `xtask-tls make …` arguments.
fn make_argv(a: &Args) -> anyhow::Result<Vec<String>> {
    let name = a.server_name.trim();
    if name.is_empty() {
        return Err(BadInput::new(
            "--server-name",
            &a.server_name,
            "it is empty",
            "the node's host name, e.g. --server-name winbuild.example.com",
        ));
    }
    if !is_dns_name(name) {
        return Err(BadInput::new(
            "--server-name",
            &a.server_name,
            "not a host name",
            "a DNS name such as winbuild.example.com (letters, digits, '-', dots); give addresses with --ip",
        ));
    }

    let mut ips = Vec::new();
    for part in a.ip.split(',') {
        match part.trim().parse::<IpAddr>() {
            Ok(ip) => ips.push(ip.to_string()),
            Err(_) => {
                return Err(BadInput::new(
                    "--ip",
                    &a.ip,
                    format!("'{part}' is not an IP address"),
                    "the node's addresses, comma separated, e.g. --ip 10.0.0.5 or --ip 10.0.0.5,fd00::5",
                ))
            }
        }
    }

    let mut dns = Vec::new();
    if let Some(v) = a.dns.as_deref().filter(|v| !v.trim().is_empty()) {
        for part in v.split(',') {
            if !is_dns_name(part.trim()) {
                return Err(BadInput::new(
                    "--dns",
                    v,
                    format!("'{part}' is not a DNS name"),
                    "more host names of the node, comma separated, e.g. --dns winbuild,winbuild.corp",
                ));
            }
            dns.push(part.trim().to_string());
        }
    }

    let days = match a.days.as_deref() {
        None | Some("") => 365,
        Some(d) => match d.parse::<u32>() {
            Ok(n) if (1..=MAX_DAYS).contains(&n) => n,
            _ => {
                return Err(BadInput::new(
                    "--days",
                    d,
                    format!("expected a number of days from 1 to {MAX_DAYS}"),
                    "the default is 365",
                ))
            }
        },
    };
    let backdate = match a.backdate.as_deref() {
        None | Some("") => None,
        Some(d) => match d.parse::<u32>() {
            Ok(n) if n <= 36500 => Some(n),
            _ => {
                return Err(BadInput::new(
                    "--backdate",
                    d,
                    "expected a number of days",
                    "testing only",
                ))
            }
        },
    };

    if a.out.is_empty() {
        return Err(BadInput::new(
            "--out",
            "",
            "it is empty",
            "name the folder to write ca/, node/ and client/ into, e.g. --out certs",
        ));
    }
    let out = PathBuf::from(&a.out);
    if out.exists() && !out.is_dir() {
        return Err(BadInput::new(
            "--out",
            &a.out,
            "exists and is not a folder",
            "name a new or existing folder",
        ));
    }

    let ca = match a.ca.as_deref() {
        None => None,
        Some(c) => {
            let dir = PathBuf::from(c);
            for f in ["ca.pem", "ca-key.pem"] {
                if !dir.join(f).is_file() {
                    return Err(BadInput::new(
                        "--ca",
                        c,
                        format!("no {f} in it"),
                        "point --ca at the ca/ folder of an earlier `cargo xtask tls --out DIR` (DIR/ca, holding ca.pem and ca-key.pem)",
                    ));
                }
            }
            Some(dir)
        }
    };

    if !a.force {
        if let Some(existing) = planned(&out, ca.is_some()).into_iter().find(|p| p.exists()) {
            return Err(BadInput::new(
                "--out",
                &a.out,
                format!("{} exists: not overwriting it", existing.display()),
                "add --force to replace the certs (certs made before then stop working with a new CA), or choose another --out; --ca OUT/ca keeps the CA",
            ));
        }
    }

    let mut argv: Vec<String> = vec![
        "make".into(),
        "--server-name".into(),
        name.into(),
        "--ip".into(),
        ips.join(","),
    ];
    if !dns.is_empty() {
        argv.push("--dns".into());
        argv.push(dns.join(","));
    }
    argv.extend(["--days".into(), days.to_string()]);
    argv.extend(["--out".into(), path(&out)]);
    if let Some(ca) = &ca {
        argv.extend(["--ca".into(), path(ca)]);
    }
    if a.force {
        argv.push("--force".into());
    }
    if let Some(b) = backdate {
        argv.extend(["--backdate".into(), b.to_string()]);
    }
    Ok(argv)
}

/// The files `xtask-tls make` writes under OUT (the same list as the tls crate's `planned`).
fn planned(out: &Path, reuse_ca: bool) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if !reuse_ca {
        v.push(out.join("ca/ca.pem"));
        v.push(out.join("ca/ca-key.pem"));
    }
    for f in [
        "ca.pem",
        "server-cert.pem",
        "server-key.pem",
        "daemon.json",
        "install.ps1",
    ] {
        v.push(out.join("node").join(f));
    }
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        v.push(out.join("client").join(f));
    }
    v
}

/// A DNS name: host name labels, not an IP address (those go to --ip).
fn is_dns_name(s: &str) -> bool {
    names::is_host(s) && s.parse::<IpAddr>().is_err() && !s.starts_with('[')
}

fn path(p: &Path) -> String {
    p.display().to_string()
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

/// cargo builds the tls crate quietly, ~25 s the first time: say so before, once, when its
/// binary (beside this one: same cargo, same profile) is missing or older than its sources.
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
            None => eprintln!("xtask: building the certificate tool xtask-tls (first use, ~30 s)…"),
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
    let args = ["inspect".to_string(), path(dir), "--json".to_string()];
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
