//! Doctor's checks of a node's client cert folder: the three files, the key's mode, and the
//! client certificate's facts (from `xtask-tls inspect`): signed by the ca.pem beside it, the
//! key is its key, a client cert, valid now and for 30 more days.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

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
    facts: &Result<Value, String>,
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
    let now = f["now"].as_i64().unwrap_or_else(unix_now);
    let cert = &f["certs"]["cert.pem"];
    let ca = &f["certs"]["ca.pem"];
    for (name, c) in [("ca.pem", ca), ("cert.pem", cert)] {
        if let Some(e) = c["error"].as_str() {
            r.hint(
                Status::Fail,
                s,
                "client cert",
                format!("{dir}/{name}: {e}"),
                remake.into(),
            );
            return;
        }
    }
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    if cert["signed_by_ca"] != true {
        fails.push(format!(
            "cert.pem (issuer {}) is not signed by the ca.pem next to it ({})",
            cn(&cert["issuer_cn"]),
            cn(&ca["subject_cn"])
        ));
    }
    let key = &f["keys"]["key.pem"];
    match (&key["matches_cert"], key["error"].as_str()) {
        (Value::Bool(false), _) => fails.push("key.pem is not the key of cert.pem".into()),
        (_, Some(e)) => warns.push(format!("key.pem not checked against cert.pem: {e}")),
        _ => {}
    }
    let eku: Vec<&str> = cert["extended_key_usage"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    if !eku.is_empty() && !eku.iter().any(|e| *e == "clientAuth" || *e == "any") {
        fails.push(format!(
            "cert.pem is not a client cert (extended key usage {})",
            eku.join(", ")
        ));
    }
    for (name, c) in [("cert.pem", cert), ("ca.pem", ca)] {
        let nb = c["not_before"].as_i64().unwrap_or(i64::MIN);
        let na = c["not_after"].as_i64().unwrap_or(i64::MAX);
        let until = c["not_after_utc"].as_str().unwrap_or("?");
        if na < now {
            fails.push(format!("{name} expired on {until}"));
        } else if nb > now {
            fails.push(format!(
                "{name} is not valid before {} (check this machine's clock)",
                c["not_before_utc"].as_str().unwrap_or("?")
            ));
        } else if na - now < EXPIRY_WARN_DAYS * 86_400 {
            warns.push(format!(
                "{name} expires in {} days ({until})",
                (na - now) / 86_400
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
        let na = cert["not_after"].as_i64().unwrap_or(now);
        r.add(
            Status::Ok,
            s,
            "client cert",
            format!(
                "{}, signed by ca.pem ({}), valid until {} ({} days)",
                cn(&cert["subject_cn"]),
                cn(&ca["subject_cn"]),
                cert["not_after_utc"].as_str().unwrap_or("?"),
                (na - now) / 86_400
            ),
        );
    }
}

fn cn(v: &Value) -> String {
    v.as_str()
        .map(|s| format!("CN={s}"))
        .unwrap_or_else(|| "no CN".into())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
