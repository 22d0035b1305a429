//! DNS names as a certificate's subjectAltName carries them (RFC 1035/1123 host names):
//! labels of letters, digits and '-', neither starting nor ending with '-', at most 63
//! characters each, 253 in all. An IP address is not a DNS name (it goes to --ip).

use std::net::IpAddr;

use crate::shown::shown;

/// Longest DNS label.
pub const MAX_LABEL: usize = 63;
/// Longest DNS name (without a trailing dot).
pub const MAX_NAME: usize = 253;

/// Why `s` is not a DNS name a certificate can carry, or None when it is one.
pub fn dns_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.parse::<IpAddr>().is_ok() || s.starts_with('[') {
        return Some("it is an IP address (give those with --ip)".into());
    }
    let chars = s.chars().count();
    if chars > MAX_NAME {
        return Some(format!(
            "{chars} characters (a DNS name has at most {MAX_NAME})"
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Some(format!(
            "'{}' is not allowed (letters, digits, '-' and dots only)",
            shown(&c.to_string())
        ));
    }
    let labels: Vec<&str> = s.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Some("an empty label (two dots in a row, or a dot at an end)".into());
        }
        if label.len() > MAX_LABEL {
            return Some(format!(
                "the label '{}' is {} characters (at most {MAX_LABEL})",
                shown(label),
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!(
                "the label '{}' starts or ends with '-'",
                shown(label)
            ));
        }
    }
    // "10.0.0.256" or "1.2.3": not an address, but resolvers and TLS libraries read an
    // all-digit last label as one.
    if labels.len() > 1
        && labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(
            "its last label is all digits, like an IP address (give addresses with --ip)".into(),
        );
    }
    None
}
