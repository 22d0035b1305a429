//! `inspect DIR`: facts about a cert folder, for `cargo xtask doctor` to judge. Per
//! certificate (ca.pem, cert.pem, server-cert.pem): subject CN, issuer CN, SANs, key usages,
//! extended key usages, CA or not, validity, and whether ca.pem's key really signed it (a
//! signature check, not a name comparison). Per private key (key.pem, server-key.pem,
//! ca-key.pem): its file mode and whether it is the key of its certificate. Missing files are
//! listed, not errors: doctor reports them. A key's content is never printed. The facts are
//! tls-spec's `Facts`, the contract xtask reads back.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rcgen::KeyPair;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tls_spec::{CertFacts, Facts, KeyFacts};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

const CERTS: [&str; 3] = ["ca.pem", "cert.pem", "server-cert.pem"];
/// Each key with the certificate it belongs to.
const KEYS: [(&str, &str); 3] = [
    ("key.pem", "cert.pem"),
    ("server-key.pem", "server-cert.pem"),
    ("ca-key.pem", "ca.pem"),
];

pub fn run(dir: &Path, json: bool) -> anyhow::Result<()> {
    let facts = facts(dir);
    if json {
        println!("{}", facts.to_json());
    } else {
        print!("{}", text(&facts));
    }
    Ok(())
}

/// The facts about the cert folder `dir`.
pub fn facts(dir: &Path) -> Facts {
    let now = OffsetDateTime::now_utc();
    let mut missing = Vec::new();
    let mut certs = BTreeMap::new();
    let ca_pem = fs::read(dir.join("ca.pem")).ok();
    let ca = ca_pem.as_deref().map(parse);
    for name in CERTS {
        let path = dir.join(name);
        if !path.exists() {
            missing.push(name.to_string());
            continue;
        }
        let facts = match fs::read(&path) {
            Err(e) => Err(format!("cannot read: {e}")),
            Ok(bytes) => cert_facts(&bytes, ca.as_ref(), name == "ca.pem"),
        };
        certs.insert(name.to_string(), facts);
    }
    let mut keys = BTreeMap::new();
    for (name, cert_name) in KEYS {
        let path = dir.join(name);
        let Ok(meta) = fs::metadata(&path) else {
            missing.push(name.to_string());
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        let mut k = KeyFacts {
            mode: format!("{mode:04o}"),
            private_to_owner: mode & 0o077 == 0,
            cert: cert_name.to_string(),
            matches_cert: None,
            error: None,
        };
        match fs::read_to_string(&path) {
            Err(e) => k.error = Some(format!("cannot read: {e}")),
            Ok(pem) => match KeyPair::from_pem(&pem) {
                Err(e) => {
                    k.error = Some(format!(
                        "not an unencrypted PKCS#8 private key (\"BEGIN PRIVATE KEY\"): {e}"
                    ))
                }
                Ok(key) => {
                    let cert_bytes = fs::read(dir.join(cert_name)).ok();
                    k.matches_cert = cert_bytes.as_deref().map(parse).and_then(|c| match c {
                        Parsed::Ok(der) => parse_der(&der).ok().map(|cert| {
                            cert.public_key().subject_public_key.data.as_ref()
                                == key.public_key_raw()
                        }),
                        Parsed::Err(_) => None,
                    });
                }
            },
        }
        keys.insert(name.to_string(), k);
    }
    Facts {
        dir: dir.display().to_string(),
        now: now.unix_timestamp(),
        missing,
        certs,
        keys,
    }
}

/// A PEM file's first certificate as DER, or why there is none.
enum Parsed {
    Ok(Vec<u8>),
    Err(String),
}

fn parse(bytes: &[u8]) -> Parsed {
    match x509_parser::pem::parse_x509_pem(bytes) {
        Ok((_, pem)) if pem.label == "CERTIFICATE" => Parsed::Ok(pem.contents),
        Ok((_, pem)) => Parsed::Err(format!(
            "holds a \"{}\" PEM block, not a CERTIFICATE",
            pem.label
        )),
        Err(e) => Parsed::Err(format!("not a PEM certificate: {e}")),
    }
}

fn parse_der(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c)
        .map_err(|e| format!("not an X.509 certificate: {e}"))
}

fn cert_facts(bytes: &[u8], ca: Option<&Parsed>, is_ca_file: bool) -> Result<CertFacts, String> {
    let der = match parse(bytes) {
        Parsed::Ok(d) => d,
        Parsed::Err(e) => return Err(e),
    };
    let cert = parse_der(&der)?;
    let cn = |n: &x509_parser::x509::X509Name| {
        n.iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(String::from)
    };
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for g in &ext.value.general_names {
            match g {
                GeneralName::DNSName(d) => sans.push(format!("DNS:{d}")),
                GeneralName::IPAddress(b) => sans.push(format!("IP:{}", ip(b))),
                other => sans.push(format!("{other:?}")),
            }
        }
    }
    let mut eku = Vec::new();
    if let Ok(Some(ext)) = cert.extended_key_usage() {
        let e = ext.value;
        for (on, name) in [
            (e.any, "any"),
            (e.server_auth, "serverAuth"),
            (e.client_auth, "clientAuth"),
            (e.code_signing, "codeSigning"),
            (e.email_protection, "emailProtection"),
            (e.time_stamping, "timeStamping"),
            (e.ocsp_signing, "OCSPSigning"),
        ] {
            if on {
                eku.push(name.to_string());
            }
        }
    }
    let mut ku = Vec::new();
    if let Ok(Some(ext)) = cert.key_usage() {
        let k = ext.value;
        for (on, name) in [
            (k.digital_signature(), "digitalSignature"),
            (k.key_encipherment(), "keyEncipherment"),
            (k.key_cert_sign(), "keyCertSign"),
            (k.crl_sign(), "cRLSign"),
        ] {
            if on {
                ku.push(name.to_string());
            }
        }
    }
    let validity = cert.validity();
    let nb = validity.not_before.timestamp();
    let na = validity.not_after.timestamp();
    // "signed_by_ca": ca.pem itself must be self-signed; any other cert signed by ca.pem.
    // A real signature check with ca.pem's public key, and the issuer name must match too.
    let signed_by_ca = if is_ca_file {
        Some(cert.verify_signature(None).is_ok())
    } else {
        match ca {
            Some(Parsed::Ok(ca_der)) => parse_der(ca_der).ok().map(|ca| {
                cert.issuer() == ca.subject()
                    && cert.verify_signature(Some(ca.public_key())).is_ok()
            }),
            _ => None,
        }
    };
    Ok(CertFacts {
        subject_cn: cn(cert.subject()),
        issuer_cn: cn(cert.issuer()),
        is_ca: cert.is_ca(),
        sans,
        key_usage: ku,
        extended_key_usage: eku,
        not_before: nb,
        not_after: na,
        not_before_utc: utc(nb),
        not_after_utc: utc(na),
        signed_by_ca,
    })
}

fn ip(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => format!("{b:?}"),
    }
}

fn utc(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ts.to_string())
}

/// The facts for a person: one line per file.
fn text(f: &Facts) -> String {
    let shown = |v: Option<bool>| v.map_or("null".to_string(), |b| b.to_string());
    let mut out = String::new();
    for (name, c) in &f.certs {
        let c = match c {
            Err(e) => {
                out.push_str(&format!("{name}: {e}\n"));
                continue;
            }
            Ok(c) => c,
        };
        out.push_str(&format!(
            "{name}: CN={} issuer CN={} ca={} sans=[{}] ku=[{}] eku=[{}] valid {} .. {} signed_by_ca={}\n",
            c.subject_cn.as_deref().unwrap_or("-"),
            c.issuer_cn.as_deref().unwrap_or("-"),
            c.is_ca,
            c.sans.join(", "),
            c.key_usage.join(", "),
            c.extended_key_usage.join(", "),
            c.not_before_utc,
            c.not_after_utc,
            shown(c.signed_by_ca),
        ));
    }
    for (name, k) in &f.keys {
        out.push_str(&format!(
            "{name}: mode {} matches {}: {}{}\n",
            k.mode,
            k.cert,
            shown(k.matches_cert),
            k.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
        ));
    }
    if !f.missing.is_empty() {
        out.push_str(&format!("missing: {}\n", f.missing.join(", ")));
    }
    out
}
