//! `make`: a CA (new, or reused with --ca), a server cert for the Windows node and a client
//! cert, written as
//!
//!   OUT/ca/{ca.pem,ca-key.pem}                                   (only for a new CA)
//!   OUT/node/{ca.pem,server-cert.pem,server-key.pem,daemon.json,install.ps1}
//!   OUT/client/{ca.pem,cert.pem,key.pem}                         (a DOCKER_CERT_PATH)
//!
//! Keys are ECDSA P-256 (docker's Go TLS on Windows and Linux takes them). Private keys are
//! created mode 0600 (never readable by others, not even for a moment) and never printed.
//! Nothing is overwritten without --force, and nothing is written when anything would be.

use std::fmt;
use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

use crate::node;

/// The longest validity `--days` accepts: ten years.
pub const MAX_DAYS: u32 = 3650;

/// A new CA lives at least this long, so that more nodes and clients can be issued from it
/// (`--ca`) for years without redistributing ca.pem.
const CA_MIN_DAYS: u32 = 3650;

/// Certificates start this much before now: a Windows node whose clock is a little behind
/// would otherwise reject a fresh client cert as not yet valid.
const SKEW: Duration = Duration::hours(1);

#[derive(clap::Args, Debug)]
pub struct Opts {
    /// The node's host name: the server cert's CN and a DNS SAN.
    #[arg(long, value_name = "NAME")]
    pub server_name: String,
    /// The node's IP addresses (IP SANs), comma separated.
    #[arg(
        long = "ip",
        value_name = "A[,B…]",
        value_delimiter = ',',
        required = true
    )]
    pub ips: Vec<IpAddr>,
    /// More DNS names for the server cert, comma separated.
    #[arg(long, value_name = "X[,Y…]", value_delimiter = ',')]
    pub dns: Vec<String>,
    /// Validity of the server and client certs, in days.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=MAX_DAYS as i64))]
    pub days: u32,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Issue with this existing CA (a folder with ca.pem and ca-key.pem) instead of a new one.
    #[arg(long, value_name = "DIR")]
    pub ca: Option<PathBuf>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
    /// Testing: start the validity of the server and client certs N days ago (with
    /// --days 1 --backdate 10 they expired 9 days ago).
    #[arg(long, hide = true, default_value_t = 0, value_name = "N")]
    pub backdate: u32,
}

/// Refused before writing anything (bad input: exit 2).
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// One file to write.
struct Out {
    path: PathBuf,
    text: String,
    private: bool,
}

pub fn run(opts: &Opts) -> anyhow::Result<()> {
    let written = make(opts)?;
    println!(
        "xtask-tls: certificates for node {} ({}), valid {} days:",
        opts.server_name,
        opts.ips
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        opts.days
    );
    for p in &written {
        println!("  wrote {}", p.display());
    }
    let out = opts.out.display();
    if let Some(ca) = &opts.ca {
        println!("  issued by the CA in {}", ca.display());
    }
    println!("next:");
    println!("  copy {out}/node to the Windows node and run, as Administrator: .\\install.ps1");
    println!("  then use DOCKER_CERT_PATH={out}/client REMOTE_DOCKER_URL=tcp://{}:2376, and check with `cargo xtask doctor`", opts.server_name);
    if opts.ca.is_none() {
        println!(
            "  keep {out}/ca/ca-key.pem private: more nodes/clients are issued with --ca {out}/ca"
        );
    }
    Ok(())
}

/// Makes everything and writes it; returns the paths written, in order.
pub fn make(opts: &Opts) -> anyhow::Result<Vec<PathBuf>> {
    check(opts)?;
    let now = OffsetDateTime::now_utc();
    let start = now - Duration::days(i64::from(opts.backdate)) - SKEW;
    let end = start + SKEW + Duration::days(i64::from(opts.days));

    // The CA: reused, or made here.
    let (ca_pem, ca_key, ca_issuer, new_ca) = match &opts.ca {
        Some(dir) => {
            let (pem, key) = load_ca(dir)?;
            let issuer = Issuer::from_ca_cert_pem(&pem, key_copy(&key)?)
                .with_context(|| format!("reading {}", dir.join("ca.pem").display()))?;
            (pem, key, issuer, false)
        }
        None => {
            let key = KeyPair::generate().context("generating the CA key")?;
            let mut params = CertificateParams::default();
            let id = params.key_identifier(&key);
            params.distinguished_name = dn(&format!("xtask-tls CA {}", hex(&id[..4])));
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            params.not_before = now - SKEW;
            params.not_after = now + Duration::days(i64::from(opts.days.max(CA_MIN_DAYS)));
            let cert = params.self_signed(&key).context("signing the CA cert")?;
            let pem = cert.pem();
            (pem, key_copy(&key)?, Issuer::new(params, key), true)
        }
    };

    // The node's server cert: CN=NAME; SANs: NAME and --dns as DNS, every --ip as IP.
    let server_key = KeyPair::generate().context("generating the server key")?;
    let mut server = CertificateParams::default();
    server.distinguished_name = dn(&opts.server_name);
    let mut sans = vec![dns_san(&opts.server_name)?];
    for d in &opts.dns {
        if d != &opts.server_name {
            sans.push(dns_san(d)?);
        }
    }
    sans.extend(opts.ips.iter().map(|ip| SanType::IpAddress(*ip)));
    server.subject_alt_names = sans;
    server.is_ca = IsCa::ExplicitNoCa;
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    server.not_before = start;
    server.not_after = end;
    let server_cert = server
        .signed_by(&server_key, &ca_issuer)
        .context("signing the server cert")?;

    // The client cert docker presents to the node: CN=client, clientAuth.
    let client_key = KeyPair::generate().context("generating the client key")?;
    let mut client = CertificateParams::default();
    client.distinguished_name = dn("client");
    client.is_ca = IsCa::ExplicitNoCa;
    client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    client.use_authority_key_identifier_extension = true;
    client.not_before = start;
    client.not_after = end;
    let client_cert = client
        .signed_by(&client_key, &ca_issuer)
        .context("signing the client cert")?;

    let mut files = Vec::new();
    if new_ca {
        let dir = opts.out.join("ca");
        files.push(public(dir.join("ca.pem"), &ca_pem));
        files.push(private(dir.join("ca-key.pem"), ca_key.serialize_pem()));
    }
    let n = opts.out.join("node");
    files.push(public(n.join("ca.pem"), &ca_pem));
    files.push(public(n.join("server-cert.pem"), &server_cert.pem()));
    files.push(private(
        n.join("server-key.pem"),
        server_key.serialize_pem(),
    ));
    files.push(public(n.join("daemon.json"), &node::daemon_json()));
    files.push(public(
        n.join("install.ps1"),
        &node::install_ps1(&opts.server_name),
    ));
    let c = opts.out.join("client");
    files.push(public(c.join("ca.pem"), &ca_pem));
    files.push(public(c.join("cert.pem"), &client_cert.pem()));
    files.push(private(c.join("key.pem"), client_key.serialize_pem()));

    let mut written = Vec::new();
    for f in &files {
        write(f)?;
        written.push(f.path.clone());
    }
    Ok(written)
}

/// Every refusal, before anything is generated or written.
fn check(opts: &Opts) -> anyhow::Result<()> {
    let refuse = |m: String| -> anyhow::Result<()> { Err(Refused(m).into()) };
    if opts.server_name.is_empty() {
        return refuse("--server-name is empty".into());
    }
    if opts.ips.is_empty() {
        return refuse("--ip names no address".into());
    }
    if opts.days == 0 || opts.days > MAX_DAYS {
        return refuse(format!("--days {} is not from 1 to {MAX_DAYS}", opts.days));
    }
    if let Some(dir) = &opts.ca {
        for f in ["ca.pem", "ca-key.pem"] {
            if !dir.join(f).is_file() {
                return refuse(format!(
                    "--ca {}: no {f} there (the folder OUT/ca of an earlier `make`)",
                    dir.display()
                ));
            }
        }
    }
    if !opts.force {
        for p in planned(opts) {
            if p.exists() {
                return refuse(format!(
                    "{} exists: not overwriting it (--force replaces it)",
                    p.display()
                ));
            }
        }
    }
    Ok(())
}

/// The paths `make` writes.
pub fn planned(opts: &Opts) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if opts.ca.is_none() {
        v.push(opts.out.join("ca/ca.pem"));
        v.push(opts.out.join("ca/ca-key.pem"));
    }
    for f in node::NODE_FILES {
        v.push(opts.out.join("node").join(f));
    }
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        v.push(opts.out.join("client").join(f));
    }
    v
}

/// ca.pem and ca-key.pem of an existing CA, checked to belong together and to be a CA.
fn load_ca(dir: &Path) -> anyhow::Result<(String, KeyPair)> {
    let cert_path = dir.join("ca.pem");
    let key_path = dir.join("ca-key.pem");
    let pem = fs::read_to_string(&cert_path)
        .with_context(|| format!("reading {}", cert_path.display()))?;
    let key_pem =
        fs::read_to_string(&key_path).with_context(|| format!("reading {}", key_path.display()))?;
    let key = KeyPair::from_pem(&key_pem)
        .map_err(|e| anyhow::anyhow!("{}: not a PKCS#8 private key ({e})", key_path.display()))?;
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: not a PEM certificate ({e})", cert_path.display()))?;
    let cert = parsed
        .parse_x509()
        .map_err(|e| anyhow::anyhow!("{}: not an X.509 certificate ({e})", cert_path.display()))?;
    if !cert.is_ca() {
        bail!(
            "{} is not a CA certificate (no basicConstraints CA:TRUE)",
            cert_path.display()
        );
    }
    if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        bail!(
            "{} is not the key of {}",
            key_path.display(),
            cert_path.display()
        );
    }
    if !cert.validity().is_valid() {
        bail!(
            "{}: the CA is expired or not yet valid",
            cert_path.display()
        );
    }
    Ok((pem, key))
}

/// A second handle on a key (rcgen's Issuer takes ownership of one).
fn key_copy(key: &KeyPair) -> anyhow::Result<KeyPair> {
    KeyPair::try_from(key.serialized_der()).context("copying a key pair")
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn dns_san(name: &str) -> anyhow::Result<SanType> {
    Ok(SanType::DnsName(name.to_string().try_into().map_err(
        |e| Refused(format!("'{name}' is not a DNS name ({e})")),
    )?))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn public(path: PathBuf, text: &str) -> Out {
    Out {
        path,
        text: text.to_string(),
        private: false,
    }
}

fn private(path: PathBuf, text: String) -> Out {
    Out {
        path,
        text,
        private: true,
    }
}

/// Writes through a temporary file in the same folder, created with the final mode, then
/// renamed over the target: a key is never world-readable, and an interrupted run never
/// leaves a half-written file under the real name.
fn write(f: &Out) -> anyhow::Result<()> {
    let dir = f
        .path
        .parent()
        .with_context(|| format!("{} has no folder", f.path.display()))?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = f
        .path
        .file_name()
        .with_context(|| format!("{} has no file name", f.path.display()))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let _ = fs::remove_file(&tmp);
    let mode = if f.private { 0o600 } else { 0o644 };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(f.text.as_bytes())
        .and_then(|_| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &f.path).with_context(|| format!("renaming to {}", f.path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests;
