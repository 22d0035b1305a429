//! The flags of `cargo xtask tls` (also `xtask-tls make`'s) and their validation into a
//! [`Spec`], pure (no I/O), and the argv that hands a `Spec` to xtask-tls.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::dns::dns_problem;
use crate::shown::{bounded, quoted, shown, shown_long};

/// Longest validity accepted for the server and client certs, in days (ten years).
pub const MAX_DAYS: u32 = 3650;
/// Validity when --days is not given.
pub const DEFAULT_DAYS: u32 = 365;
/// Largest --backdate (testing only), in days.
pub const MAX_BACKDATE: u32 = 36_500;

/// Flags of `cargo xtask tls`. Each also reads a TLS_* environment variable, so
/// `make tls TLS_SERVER_NAME=… TLS_IP=… TLS_OUT=…` works like the other make variables.
/// Values are kept as given (strings) and checked by [`Args::validate`], so that a bad one is
/// refused with its flag, its value and a hint rather than by clap's parser.
#[derive(clap::Args, Debug, Clone, Default)]
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

/// Validated flags: what to make and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub server_name: String,
    pub ips: Vec<IpAddr>,
    /// More DNS names, without duplicates and without the server name itself.
    pub dns: Vec<String>,
    pub days: u32,
    pub out: PathBuf,
    /// The folder of an existing CA to issue from; None makes a new CA in OUT/ca.
    pub ca: Option<PathBuf>,
    pub force: bool,
    pub backdate: u32,
}

/// A refused flag (bad input: exit 2): the flag, its value (cut to a bounded length), what is
/// wrong and how to fix it. The value is shown escaped by [`fmt::Display`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub flag: String,
    pub value: String,
    pub problem: String,
    pub hint: String,
}

impl Invalid {
    pub fn new(
        flag: impl Into<String>,
        value: &str,
        problem: impl Into<String>,
        hint: impl Into<String>,
    ) -> Invalid {
        Invalid {
            flag: flag.into(),
            value: bounded(value),
            problem: problem.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The same shape and policy as xtask's BadInput: FLAG="value": problem, then the hint.
        write!(
            f,
            "{}={}: {}",
            shown(&self.flag),
            quoted(&self.value),
            shown_long(&self.problem)
        )?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", shown_long(&self.hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}

const SERVER_NAME_HINT: &str =
    "a DNS name such as winbuild.example.com (letters, digits, '-', dots; labels of at most 63 characters, 253 in all); give addresses with --ip";
const DNS_HINT: &str =
    "more host names of the node, comma separated, e.g. --dns winbuild,winbuild.corp (labels of at most 63 characters, 253 in all)";
pub(crate) const CA_HINT: &str =
    "point --ca at the ca/ folder of an earlier `cargo xtask tls --out DIR` (DIR/ca, holding ca.pem and ca-key.pem)";

impl Args {
    /// Checks every flag (no I/O) and returns what to make.
    pub fn validate(&self) -> Result<Spec, Invalid> {
        let name = self.server_name.trim();
        if name.is_empty() {
            return Err(Invalid::new(
                "--server-name",
                &self.server_name,
                "it is empty",
                "the node's host name, e.g. --server-name winbuild.example.com",
            ));
        }
        if let Some(why) = dns_problem(name) {
            return Err(Invalid::new(
                "--server-name",
                &self.server_name,
                format!("not a host name: {why}"),
                SERVER_NAME_HINT,
            ));
        }

        let mut ips = Vec::new();
        for part in self.ip.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) if !ips.contains(&ip) => ips.push(ip),
                Ok(_) => {}
                Err(_) => {
                    return Err(Invalid::new(
                        "--ip",
                        &self.ip,
                        format!("'{}' is not an IP address", shown(part)),
                        "the node's addresses, comma separated, e.g. --ip 10.0.0.5 or --ip 10.0.0.5,fd00::5",
                    ))
                }
            }
        }

        let mut dns: Vec<String> = Vec::new();
        if let Some(v) = self.dns.as_deref().filter(|v| !v.trim().is_empty()) {
            for part in v.split(',') {
                let d = part.trim();
                if let Some(why) = dns_problem(d) {
                    return Err(Invalid::new(
                        "--dns",
                        v,
                        format!("'{}' is not a DNS name: {why}", shown(part)),
                        DNS_HINT,
                    ));
                }
                if d != name && !dns.iter().any(|x| x == d) {
                    dns.push(d.to_string());
                }
            }
        }

        let days = match self.days.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_DAYS,
            Some(d) => match d.parse::<u32>() {
                Ok(n) if (1..=MAX_DAYS).contains(&n) => n,
                _ => {
                    return Err(Invalid::new(
                        "--days",
                        d,
                        format!("expected a number of days from 1 to {MAX_DAYS}"),
                        format!("the default is {DEFAULT_DAYS}"),
                    ))
                }
            },
        };
        let backdate = match self.backdate.as_deref().map(str::trim) {
            None | Some("") => 0,
            Some(d) => match d.parse::<u32>() {
                Ok(n) if n <= MAX_BACKDATE => n,
                _ => {
                    return Err(Invalid::new(
                        "--backdate",
                        d,
                        format!("expected a number of days from 0 to {MAX_BACKDATE}"),
                        "testing only",
                    ))
                }
            },
        };

        if self.out.is_empty() {
            return Err(Invalid::new(
                "--out",
                "",
                "it is empty",
                "name the folder to write ca/, node/ and client/ into, e.g. --out ~/xtask-certs",
            ));
        }
        let ca = match self.ca.as_deref() {
            None | Some("") => None,
            Some(c) => Some(PathBuf::from(c)),
        };
        Ok(Spec {
            server_name: name.to_string(),
            ips,
            dns,
            days,
            out: PathBuf::from(&self.out),
            ca,
            force: self.force,
            backdate,
        })
    }
}

impl Spec {
    /// `make …` for xtask-tls. Every flag is passed, empty when unset, so the child never
    /// falls back to a TLS_* variable that this side read differently.
    pub fn make_argv(&self, dry_run: bool) -> Vec<String> {
        let join = |v: Vec<String>| v.join(",");
        let mut argv = vec![
            "make".to_string(),
            format!("--server-name={}", self.server_name),
            format!(
                "--ip={}",
                join(self.ips.iter().map(|i| i.to_string()).collect())
            ),
            format!("--dns={}", join(self.dns.clone())),
            format!("--days={}", self.days),
            format!("--out={}", self.out.display()),
            format!(
                "--ca={}",
                self.ca
                    .as_ref()
                    .map(|c| c.display().to_string())
                    .unwrap_or_default()
            ),
            format!("--backdate={}", self.backdate),
        ];
        if self.force {
            argv.push("--force".into());
        }
        if dry_run {
            argv.push("--dry-run".into());
        }
        argv
    }
}
