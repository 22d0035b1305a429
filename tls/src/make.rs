//! `make`: a CA (new, or reused with --ca), a server cert for the Windows node and a client
//! cert, in the layout tls-spec defines (OUT/ca, OUT/node, OUT/client). Keys are ECDSA P-256
//! (docker's Go TLS on Windows and Linux takes them) and never printed. Everything is checked
//! before anything is written — the flags and the file system (tls-spec, the same code xtask
//! ran), then the --ca folder (its key fits its cert, the cert is a valid CA) — and place.rs
//! writes so that a failure leaves nothing behind. The result goes to xtask as an [`Outcome`].

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};
use tls_spec::{Args, Invalid, Item, Outcome, Spec};

use crate::node;
use crate::place::{self, Probe};

/// A new CA lives at least this long, so that more nodes and clients can be issued from it
/// (`--ca`) for years without redistributing ca.pem.
const CA_MIN_DAYS: u32 = 3650;

/// Certificates start this much before now: a Windows node whose clock is a little behind
/// would otherwise reject a fresh client cert as not yet valid.
const SKEW: Duration = Duration::hours(1);

/// `make`, as xtask-tls's command: the outcome xtask reads.
pub fn run(args: &Args, dry_run: bool) -> Outcome {
    match make(args, dry_run, &mut |_| Ok(())) {
        Ok(_) => Outcome::Done,
        Err(e) => match e.downcast::<Invalid>() {
            Ok(invalid) => Outcome::Refused(invalid),
            Err(e) => Outcome::Failed(format!("{e:#}")),
        },
    }
}

/// Checks everything, then (unless `dry_run`) makes the certs and writes them; returns the
/// paths written, in order. `probe` is called before each file-system change (tests make
/// it fail to prove that a failure leaves nothing behind).
pub fn make(args: &Args, dry_run: bool, probe: Probe) -> anyhow::Result<Vec<PathBuf>> {
    let spec = args.validate()?;
    spec.check_fs()?;
    let reused = match &spec.ca {
        Some(dir) => Some(load_ca(dir)?),
        None => None,
    };
    if dry_run {
        return Ok(Vec::new());
    }
    let made = certs(&spec, reused)?;
    let files: Vec<place::File> = spec
        .files()
        .into_iter()
        .map(|f| place::File {
            folder: f.folder.name(),
            name: f.name,
            mode: f.mode(),
            text: match f.item {
                Item::CaCert => made.ca_pem.clone(),
                Item::CaKey => made.ca_key.clone(),
                Item::ServerCert => made.server_pem.clone(),
                Item::ServerKey => made.server_key.clone(),
                Item::DaemonJson => node::daemon_json(),
                Item::InstallPs1 => node::install_ps1(&spec.server_name),
                Item::ClientCert => made.client_pem.clone(),
                Item::ClientKey => made.client_key.clone(),
            },
        })
        .collect();
    place::install(&spec.out, &files, probe)?;
    Ok(spec.files().iter().map(|f| spec.path(f)).collect())
}

/// The PEM texts of one run.
struct Made {
    ca_pem: String,
    ca_key: String,
    server_pem: String,
    server_key: String,
    client_pem: String,
    client_key: String,
}

/// Signs the CA (unless reused), the server cert and the client cert, in memory.
fn certs(spec: &Spec, reused: Option<(String, KeyPair)>) -> anyhow::Result<Made> {
    let now = OffsetDateTime::now_utc();
    let start = now - Duration::days(i64::from(spec.backdate)) - SKEW;
    let end = start + SKEW + Duration::days(i64::from(spec.days));

    // The CA: reused, or made here.
    let (ca_pem, ca_key, ca_issuer) = match reused {
        Some((pem, key)) => {
            let issuer = Issuer::from_ca_cert_pem(&pem, key_copy(&key)?)
                .map_err(|e| ca_invalid(spec, format!("ca.pem cannot issue certificates ({e})")))?;
            (pem, key, issuer)
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
            params.not_after = now + Duration::days(i64::from(spec.days.max(CA_MIN_DAYS)));
            let cert = params.self_signed(&key).context("signing the CA cert")?;
            let pem = cert.pem();
            (pem, key_copy(&key)?, Issuer::new(params, key))
        }
    };

    // The node's server cert: CN=NAME; SANs: NAME and --dns as DNS, every --ip as IP.
    let server_key = KeyPair::generate().context("generating the server key")?;
    let mut server = CertificateParams::default();
    server.distinguished_name = dn(&spec.server_name);
    let mut sans = vec![dns_san(&spec.server_name)?];
    for d in &spec.dns {
        sans.push(dns_san(d)?);
    }
    sans.extend(spec.ips.iter().map(|ip| SanType::IpAddress(*ip)));
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

    Ok(Made {
        ca_pem,
        ca_key: ca_key.serialize_pem(),
        server_pem: server_cert.pem(),
        server_key: server_key.serialize_pem(),
        client_pem: client_cert.pem(),
        client_key: client_key.serialize_pem(),
    })
}

/// A refusal of --ca (exit 2), naming the folder.
fn ca_invalid(spec: &Spec, problem: String) -> Invalid {
    let dir = spec.ca.as_deref().unwrap_or(Path::new(""));
    ca_problem(dir, problem)
}

fn ca_problem(dir: &Path, problem: String) -> Invalid {
    Invalid::new(
        "--ca",
        &dir.to_string_lossy(),
        problem,
        "point --ca at the ca/ folder of an earlier `cargo xtask tls` as it was written: its ca.pem (a CA certificate) and that certificate's ca-key.pem",
    )
}

/// ca.pem and ca-key.pem of an existing CA, checked to be a CA that may sign, to belong
/// together and to be valid now. Every problem is a refusal naming --ca.
fn load_ca(dir: &Path) -> anyhow::Result<(String, KeyPair)> {
    let bad = |problem: String| -> anyhow::Error { ca_problem(dir, problem).into() };
    let read = |name: &str| {
        fs::read_to_string(dir.join(name)).map_err(|e| bad(format!("cannot read {name}: {e}")))
    };
    let pem = read("ca.pem")?;
    let key_pem = read("ca-key.pem")?;
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| bad(format!("ca.pem is not a PEM certificate ({e})")))?;
    if parsed.label != "CERTIFICATE" {
        return Err(bad(format!(
            "ca.pem holds a \"{}\" PEM block, not a CERTIFICATE",
            tls_spec::shown(&parsed.label)
        )));
    }
    let cert = parsed
        .parse_x509()
        .map_err(|e| bad(format!("ca.pem is not an X.509 certificate ({e})")))?;
    if !cert.is_ca() {
        return Err(bad(
            "ca.pem is not a CA certificate (no basicConstraints CA:TRUE): it cannot issue certs"
                .into(),
        ));
    }
    if let Ok(Some(ku)) = cert.key_usage() {
        if !ku.value.key_cert_sign() {
            return Err(bad(
                "ca.pem may not sign certificates (its keyUsage lacks keyCertSign)".into(),
            ));
        }
    }
    let key = KeyPair::from_pem(&key_pem).map_err(|e| {
        bad(format!(
            "ca-key.pem is not an unencrypted PKCS#8 private key ({e})"
        ))
    })?;
    if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(bad("ca-key.pem is not the key of ca.pem".into()));
    }
    if !cert.validity().is_valid() {
        return Err(bad(format!(
            "ca.pem is expired or not yet valid (valid {} to {})",
            cert.validity().not_before,
            cert.validity().not_after
        )));
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

/// A DNS SAN; tls-spec has checked the name, so rcgen refusing it is a bug, not bad input.
fn dns_san(name: &str) -> anyhow::Result<SanType> {
    Ok(SanType::DnsName(name.to_string().try_into().with_context(
        || format!("rcgen refused the DNS name '{}'", tls_spec::shown(name)),
    )?))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests;
