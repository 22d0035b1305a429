//! What `xtask-tls inspect DIR --json` reports about a cert folder, typed once for the writer
//! (xtask-tls, which reads the certificates with x509-parser) and the reader (xtask doctor,
//! which judges them), as `Outcome` is for `make`. The JSON shape:
//!
//!   {"dir": "…", "now": UNIX, "missing": ["server-cert.pem", …],
//!    "certs": {"cert.pem": {"subject_cn": "…"|null, "issuer_cn": …, "is_ca": bool,
//!              "sans": ["DNS:…", "IP:…"], "key_usage": […], "extended_key_usage": […],
//!              "not_before": UNIX, "not_after": UNIX, "not_before_utc": "RFC 3339",
//!              "not_after_utc": "…", "signed_by_ca": bool|null}
//!              | {"error": "…"}},
//!    "keys": {"key.pem": {"mode": "0600", "private_to_owner": bool, "cert": "cert.pem",
//!             "matches_cert": bool|null, "error": "…" (only when it could not be read)}}}

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// The facts about one cert folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub dir: String,
    /// The inspector's clock (Unix seconds), which validity is judged against.
    pub now: i64,
    /// The known files that are not there: doctor reports them, they are not errors.
    pub missing: Vec<String>,
    /// Each certificate file present, by file name: its facts, or why it has none.
    pub certs: BTreeMap<String, Result<CertFacts, String>>,
    /// Each private key file present, by file name.
    pub keys: BTreeMap<String, KeyFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    pub is_ca: bool,
    /// `DNS:name`, `IP:address`, or another kind as the parser names it.
    pub sans: Vec<String>,
    pub key_usage: Vec<String>,
    /// `serverAuth`, `clientAuth`, `any`, …; empty when the certificate has no such extension.
    pub extended_key_usage: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
    pub not_before_utc: String,
    pub not_after_utc: String,
    /// ca.pem: whether it is self-signed; any other: whether ca.pem's key signed it (and the
    /// names match). None when there is no readable ca.pem to check against.
    pub signed_by_ca: Option<bool>,
}

/// A private key file (its content is never reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    /// The file mode, four octal digits.
    pub mode: String,
    pub private_to_owner: bool,
    /// The certificate file this key belongs to.
    pub cert: String,
    /// Whether it is that certificate's key; None when that could not be told.
    pub matches_cert: Option<bool>,
    /// Why the key could not be read or parsed.
    pub error: Option<String>,
}

impl Facts {
    pub fn to_value(&self) -> Value {
        let certs: Map<String, Value> = self
            .certs
            .iter()
            .map(|(name, c)| {
                let v = match c {
                    Err(e) => json!({ "error": e }),
                    Ok(c) => json!({
                        "subject_cn": c.subject_cn,
                        "issuer_cn": c.issuer_cn,
                        "is_ca": c.is_ca,
                        "sans": c.sans,
                        "key_usage": c.key_usage,
                        "extended_key_usage": c.extended_key_usage,
                        "not_before": c.not_before,
                        "not_after": c.not_after,
                        "not_before_utc": c.not_before_utc,
                        "not_after_utc": c.not_after_utc,
                        "signed_by_ca": c.signed_by_ca,
                    }),
                };
                (name.clone(), v)
            })
            .collect();
        let keys: Map<String, Value> = self
            .keys
            .iter()
            .map(|(name, k)| {
                let mut v = json!({
                    "mode": k.mode,
                    "private_to_owner": k.private_to_owner,
                    "cert": k.cert,
                    "matches_cert": k.matches_cert,
                });
                if let Some(e) = &k.error {
                    v["error"] = json!(e);
                }
                (name.clone(), v)
            })
            .collect();
        json!({
            "dir": self.dir,
            "now": self.now,
            "missing": self.missing,
            "certs": certs,
            "keys": keys,
        })
    }

    /// The document `xtask-tls inspect --json` prints.
    pub fn to_json(&self) -> String {
        // A Value of strings, numbers and maps always serializes.
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
    }

    /// The facts in `text`, or what in it does not fit the contract (the field named).
    pub fn from_json(text: &str) -> Result<Facts, String> {
        let v: Value = serde_json::from_str(text.trim()).map_err(|e| format!("not JSON: {e}"))?;
        let certs = object(&v, "certs")?
            .iter()
            .map(|(name, c)| {
                let at = format!("certs.{name}");
                let facts = match c.get("error") {
                    Some(e) => Err(e
                        .as_str()
                        .ok_or_else(|| format!("{at}.error is not a string"))?
                        .to_string()),
                    None => Ok(cert(c, &at)?),
                };
                Ok((name.clone(), facts))
            })
            .collect::<Result<_, String>>()?;
        let keys = object(&v, "keys")?
            .iter()
            .map(|(name, k)| Ok((name.clone(), key(k, &format!("keys.{name}"))?)))
            .collect::<Result<_, String>>()?;
        Ok(Facts {
            dir: string(&v, "dir", "")?,
            now: int(&v, "now", "")?,
            missing: strings(&v, "missing", "")?,
            certs,
            keys,
        })
    }
}

fn cert(c: &Value, at: &str) -> Result<CertFacts, String> {
    Ok(CertFacts {
        subject_cn: opt_string(c, "subject_cn", at)?,
        issuer_cn: opt_string(c, "issuer_cn", at)?,
        is_ca: boolean(c, "is_ca", at)?,
        sans: strings(c, "sans", at)?,
        key_usage: strings(c, "key_usage", at)?,
        extended_key_usage: strings(c, "extended_key_usage", at)?,
        not_before: int(c, "not_before", at)?,
        not_after: int(c, "not_after", at)?,
        not_before_utc: string(c, "not_before_utc", at)?,
        not_after_utc: string(c, "not_after_utc", at)?,
        signed_by_ca: opt_bool(c, "signed_by_ca", at)?,
    })
}

fn key(k: &Value, at: &str) -> Result<KeyFacts, String> {
    Ok(KeyFacts {
        mode: string(k, "mode", at)?,
        private_to_owner: boolean(k, "private_to_owner", at)?,
        cert: string(k, "cert", at)?,
        matches_cert: opt_bool(k, "matches_cert", at)?,
        error: opt_string(k, "error", at)?,
    })
}

/// `at.field` for messages (`certs.cert.pem.not_after`).
fn path(at: &str, field: &str) -> String {
    if at.is_empty() {
        field.to_string()
    } else {
        format!("{at}.{field}")
    }
}

fn field<'v>(v: &'v Value, f: &str, at: &str) -> Result<&'v Value, String> {
    v.get(f)
        .ok_or_else(|| format!("{} is missing", path(at, f)))
}

fn object<'v>(v: &'v Value, f: &str) -> Result<&'v Map<String, Value>, String> {
    field(v, f, "")?
        .as_object()
        .ok_or_else(|| format!("{f} is not an object"))
}

fn string(v: &Value, f: &str, at: &str) -> Result<String, String> {
    field(v, f, at)?
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("{} is not a string", path(at, f)))
}

fn int(v: &Value, f: &str, at: &str) -> Result<i64, String> {
    field(v, f, at)?
        .as_i64()
        .ok_or_else(|| format!("{} is not an integer", path(at, f)))
}

fn boolean(v: &Value, f: &str, at: &str) -> Result<bool, String> {
    field(v, f, at)?
        .as_bool()
        .ok_or_else(|| format!("{} is not true or false", path(at, f)))
}

fn strings(v: &Value, f: &str, at: &str) -> Result<Vec<String>, String> {
    field(v, f, at)?
        .as_array()
        .and_then(|a| a.iter().map(|s| s.as_str().map(String::from)).collect())
        .ok_or_else(|| format!("{} is not a list of strings", path(at, f)))
}

/// A field that may be null or absent.
fn opt_string(v: &Value, f: &str, at: &str) -> Result<Option<String>, String> {
    match v.get(f) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{} is not a string or null", path(at, f))),
    }
}

fn opt_bool(v: &Value, f: &str, at: &str) -> Result<Option<bool>, String> {
    match v.get(f) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(format!("{} is not true, false or null", path(at, f))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Facts {
        let cert = CertFacts {
            subject_cn: Some("client".into()),
            issuer_cn: Some("xtask CA".into()),
            is_ca: false,
            sans: vec![],
            key_usage: vec!["digitalSignature".into()],
            extended_key_usage: vec!["clientAuth".into()],
            not_before: 1_700_000_000,
            not_after: 1_900_000_000,
            not_before_utc: "2023-11-14T22:13:20Z".into(),
            not_after_utc: "2030-03-17T17:46:40Z".into(),
            signed_by_ca: Some(true),
        };
        let ca = CertFacts {
            subject_cn: None,
            is_ca: true,
            signed_by_ca: None,
            ..cert.clone()
        };
        Facts {
            dir: "/certs/client".into(),
            now: 1_800_000_000,
            missing: vec!["server-cert.pem".into()],
            certs: BTreeMap::from([
                ("ca.pem".into(), Ok(ca)),
                ("cert.pem".into(), Ok(cert)),
                ("odd.pem".into(), Err("not a PEM certificate".into())),
            ]),
            keys: BTreeMap::from([
                (
                    "key.pem".into(),
                    KeyFacts {
                        mode: "0600".into(),
                        private_to_owner: true,
                        cert: "cert.pem".into(),
                        matches_cert: Some(true),
                        error: None,
                    },
                ),
                (
                    "ca-key.pem".into(),
                    KeyFacts {
                        mode: "0644".into(),
                        private_to_owner: false,
                        cert: "ca.pem".into(),
                        matches_cert: None,
                        error: Some("not an unencrypted PKCS#8 private key".into()),
                    },
                ),
            ]),
        }
    }

    #[test]
    fn facts_round_trip() {
        let f = sample();
        assert_eq!(Facts::from_json(&f.to_json()), Ok(f.clone()));
        let v = f.to_value();
        // The shape doctor and people read: errors in place of facts, null for unknown.
        assert_eq!(
            v["certs"]["odd.pem"],
            json!({ "error": "not a PEM certificate" })
        );
        assert_eq!(v["certs"]["ca.pem"]["signed_by_ca"], Value::Null);
        assert_eq!(
            v["certs"]["cert.pem"]["extended_key_usage"][0],
            "clientAuth"
        );
        assert_eq!(v["keys"]["key.pem"].get("error"), None);
        assert_eq!(v["keys"]["ca-key.pem"]["matches_cert"], Value::Null);
    }

    #[test]
    fn what_breaks_the_contract_is_named() {
        let mut v = sample().to_value();
        v["certs"]["cert.pem"]
            .as_object_mut()
            .expect("cert")
            .remove("not_after");
        assert_eq!(
            Facts::from_json(&v.to_string()),
            Err("certs.cert.pem.not_after is missing".into())
        );
        let mut v = sample().to_value();
        v["keys"]["key.pem"]["private_to_owner"] = json!("yes");
        assert_eq!(
            Facts::from_json(&v.to_string()),
            Err("keys.key.pem.private_to_owner is not true or false".into())
        );
        let mut v = sample().to_value();
        v["now"] = json!("later");
        assert_eq!(
            Facts::from_json(&v.to_string()),
            Err("now is not an integer".into())
        );
        assert!(Facts::from_json("Compiling xtask-tls").is_err());
    }
}
