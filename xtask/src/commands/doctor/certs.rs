//! Doctor's checks of a node's client cert folder: the three files, the key's mode, and the
//! client certificate's facts (from `xtask-tls inspect`): signed by the ca.pem beside it, the
//! key is its key, a client cert, valid now and for 30 more days.

use tls_spec::{CertFacts, Facts};

use super::report::{first_line, Report, Status};
use crate::certs::{self as room, Problem};
use crate::config::Node;

/// A client cert expiring sooner than this is a warning.
const EXPIRY_WARN_DAYS: i64 = 30;

/// The three files, readable; the key private to its owner (a warning otherwise: docker
/// itself does not insist).
pub(super) fn check_files(r: &mut Report, s: &str, node: &Node) -> bool {
    let dir = &node.cert_path;
    let var = node.cert_variable();
    let make_hint = format!(
        "put the client/ folder of `cargo xtask tls --out OUT` there (ca.pem, cert.pem, key.pem), or point {var} at it"
    );
    // The certs room's presence check, in doctor's words; the certificates themselves are
    // read by the certificate tool (`check_client_cert`).
    let (mode, shared) = match room::present(dir) {
        Ok(m) => m,
        Err(p) => {
            let what = match &p {
                Problem::NoFolder => "no such folder".to_string(),
                Problem::Missing(files) => files
                    .iter()
                    .map(|f| format!("{f} missing"))
                    .collect::<Vec<_>>()
                    .join(", "),
                Problem::Unreadable { file, why } => format!("{file} unreadable ({why})"),
                Problem::File { .. } => p.what(),
            };
            let hint = match p {
                Problem::File { .. } | Problem::Unreadable { .. } => p.hint(dir),
                _ => make_hint,
            };
            r.hint(
                Status::Fail,
                s,
                "certs",
                format!("{}: {what}", dir.display()),
                hint,
            );
            return false;
        }
    };
    let key = dir.join("key.pem");
    if shared {
        r.hint(
            Status::Warn,
            s,
            "certs",
            format!(
                "{}: key.pem is mode {mode:04o}, readable by others",
                dir.display()
            ),
            format!("chmod 600 {}", key.display()),
        );
    } else {
        r.add(
            Status::Ok,
            s,
            "certs",
            format!("{}: ca.pem, cert.pem, key.pem ({mode:04o})", dir.display()),
        );
    }
    true
}

/// The client cert's facts from `xtask-tls inspect`: signed by the ca.pem beside it, the
/// key is its key, a client cert, valid now and for 30 more days.
pub(super) fn check_client_cert(
    r: &mut Report,
    s: &str,
    node: &Node,
    facts: &Result<Facts, String>,
) {
    let f = match facts {
        Ok(f) => f,
        Err(e) => {
            r.hint(
                Status::Warn,
                s,
                "client cert",
                format!("not checked: {}", first_line(e)),
                "run `cargo xtask doctor` through cargo (it builds the xtask-tls checker)".into(),
            );
            return;
        }
    };
    let dir = node.cert_path.display();
    let remake =
        "make a matching set with `cargo xtask tls --ca OUT/ca …` and use its client/ folder";
    let now = f.now;
    // Each of the two certificates, or the failure that it has no facts.
    let mut read = |name: &str| -> Option<&CertFacts> {
        let why = match f.certs.get(name) {
            Some(Ok(c)) => return Some(c),
            Some(Err(e)) => e.clone(),
            // check_files saw it; gone since, or the inspector did not look.
            None => "missing".to_string(),
        };
        r.hint(
            Status::Fail,
            s,
            "client cert",
            format!("{dir}/{name}: {why}"),
            remake.into(),
        );
        None
    };
    let Some(ca) = read("ca.pem") else { return };
    let Some(cert) = read("cert.pem") else { return };
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    if cert.signed_by_ca != Some(true) {
        fails.push(format!(
            "cert.pem (issuer {}) is not signed by the ca.pem next to it ({})",
            cn(&cert.issuer_cn),
            cn(&ca.subject_cn)
        ));
    }
    if let Some(key) = f.keys.get("key.pem") {
        match (key.matches_cert, &key.error) {
            (Some(false), _) => fails.push("key.pem is not the key of cert.pem".into()),
            (_, Some(e)) => warns.push(format!("key.pem not checked against cert.pem: {e}")),
            _ => {}
        }
    }
    let eku = &cert.extended_key_usage;
    if !eku.is_empty() && !eku.iter().any(|e| e == "clientAuth" || e == "any") {
        fails.push(format!(
            "cert.pem is not a client cert (extended key usage {})",
            eku.join(", ")
        ));
    }
    for (name, c) in [("cert.pem", cert), ("ca.pem", ca)] {
        let until = &c.not_after_utc;
        if c.not_after < now {
            fails.push(format!("{name} expired on {until}"));
        } else if c.not_before > now {
            fails.push(format!(
                "{name} is not valid before {} (check this machine's clock)",
                c.not_before_utc
            ));
        } else if c.not_after - now < EXPIRY_WARN_DAYS * 86_400 {
            warns.push(format!(
                "{name} expires in {} days ({until})",
                (c.not_after - now) / 86_400
            ));
        }
    }
    if !fails.is_empty() {
        r.hint(
            Status::Fail,
            s,
            "client cert",
            format!("{dir}: {}", fails.join("; ")),
            remake.into(),
        );
    } else if !warns.is_empty() {
        r.hint(
            Status::Warn,
            s,
            "client cert",
            format!("{dir}: {}", warns.join("; ")),
            format!("renew it: {remake}"),
        );
    } else {
        r.add(
            Status::Ok,
            s,
            "client cert",
            format!(
                "{}, signed by ca.pem ({}), valid until {} ({} days)",
                cn(&cert.subject_cn),
                cn(&ca.subject_cn),
                cert.not_after_utc,
                (cert.not_after - now) / 86_400
            ),
        );
    }
}

fn cn(v: &Option<String>) -> String {
    v.as_deref()
        .map(|s| format!("CN={s}"))
        .unwrap_or_else(|| "no CN".into())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tls_spec::{CertFacts, Facts, KeyFacts};

    use super::*;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_800_000_000;

    fn cert(cn: &str, days_left: i64, eku: &[&str]) -> CertFacts {
        CertFacts {
            subject_cn: Some(cn.into()),
            issuer_cn: Some("ca".into()),
            is_ca: cn == "ca",
            sans: vec![],
            key_usage: vec![],
            extended_key_usage: eku.iter().map(|s| s.to_string()).collect(),
            not_before: NOW - DAY,
            not_after: NOW + days_left * DAY,
            not_before_utc: "before".into(),
            not_after_utc: "after".into(),
            signed_by_ca: Some(true),
        }
    }

    fn facts(client: Result<CertFacts, String>, matches: Option<bool>) -> Facts {
        Facts {
            dir: "/certs".into(),
            now: NOW,
            missing: vec![],
            certs: BTreeMap::from([
                ("ca.pem".into(), Ok(cert("ca", 3000, &[]))),
                ("cert.pem".into(), client),
            ]),
            keys: BTreeMap::from([(
                "key.pem".into(),
                KeyFacts {
                    mode: "0600".into(),
                    private_to_owner: true,
                    cert: "cert.pem".into(),
                    matches_cert: matches,
                    error: None,
                },
            )]),
        }
    }

    /// The one check doctor adds for these facts: its status and detail.
    fn judged(f: Facts) -> (Status, String) {
        let node = Node::for_test(None, "tcp://winbuild:2376", "/certs");
        let mut r = Report::default();
        check_client_cert(&mut r, "node", &node, &Ok(f));
        assert_eq!(r.checks.len(), 1);
        let c = r.checks.remove(0);
        (c.status, c.detail)
    }

    #[test]
    fn the_typed_facts_are_judged() {
        let (st, d) = judged(facts(Ok(cert("client", 100, &["clientAuth"])), Some(true)));
        assert_eq!(st, Status::Ok, "{d}");
        assert!(d.starts_with("CN=client, signed by ca.pem (CN=ca), valid until after (100 days)"));

        let (st, d) = judged(facts(Ok(cert("client", 10, &["clientAuth"])), Some(true)));
        assert_eq!(
            (st, d.contains("cert.pem expires in 10 days")),
            (Status::Warn, true),
            "{d}"
        );

        let (st, d) = judged(facts(Ok(cert("client", -1, &["serverAuth"])), Some(false)));
        assert_eq!(st, Status::Fail, "{d}");
        for want in [
            "expired on after",
            "not a client cert",
            "key.pem is not the key",
        ] {
            assert!(d.contains(want), "{want}: {d}");
        }

        let unsigned = CertFacts {
            signed_by_ca: None,
            ..cert("client", 100, &[])
        };
        let (st, d) = judged(facts(Ok(unsigned), None));
        assert_eq!(st, Status::Fail, "{d}");
        assert!(
            d.contains("is not signed by the ca.pem next to it (CN=ca)"),
            "{d}"
        );

        let (st, d) = judged(facts(Err("not a PEM certificate".into()), None));
        assert_eq!(
            (st, d.as_str()),
            (Status::Fail, "/certs/cert.pem: not a PEM certificate")
        );
    }
}
