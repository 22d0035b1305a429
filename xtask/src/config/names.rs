//! Docker's reference grammar, hand-written: registry prefixes, repository path components,
//! tags, whole image references (with their length limits), host names, and the Windows
//! releases the tool knows. Kept regex-free so xtask stays a fast cold build; the grammar is
//! small enough to read as code.

/// A repository path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
pub fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !is_alnum_lower(b[0]) || !is_alnum_lower(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum_lower(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__" or any number of "-".
        let start = i;
        while i < b.len() && !is_alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &s[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum_lower(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_tag(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
}

/// Longest tag docker accepts.
pub const TAG_MAX: usize = 128;
/// Longest repository name (registry host and path) docker accepts.
pub const NAME_MAX: usize = 255;

/// A host name or IPv4 address: dot-separated labels `[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?`
/// of at most 63 characters, 253 in all; all-digit labels only as a valid IPv4 address
/// (`999.1.1.1` is neither); or a bracketed IPv6 address.
pub fn is_host(s: &str) -> bool {
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    let labels_ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        });
    let numeric = s.split('.').all(|l| l.bytes().all(|c| c.is_ascii_digit()));
    labels_ok && (!numeric || s.parse::<std::net::Ipv4Addr>().is_ok())
}

/// `host[:port]` as docker accepts it in a reference or a URL.
pub fn is_host_port(s: &str) -> bool {
    let (host, port) = split_host_port(s);
    is_host(host) && port.is_none_or(is_port)
}

/// Splits `host:port` (with `[v6]:port` support); the port is None when absent.
pub fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        return match s.find("]:") {
            Some(i) => (&s[..=i], Some(&s[i + 2..])),
            None => (s, None),
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    }
}

pub fn is_port(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.bytes().all(|c| c.is_ascii_digit())
        && matches!(p.parse::<u32>(), Ok(1..=65535))
}

/// Why a REGISTRY value (a reference without tag: `[host[:port]/]path/…`) is invalid,
/// or None when it is valid.
pub fn registry_problem(r: &str) -> Option<String> {
    if r.is_empty() {
        return Some("it is empty".into());
    }
    if r.len() > 200 {
        return Some("it is longer than 200 characters".into());
    }
    name_problem(r)
}

/// Why `r` is not a repository name by the grammar (length aside), or None.
fn name_problem(r: &str) -> Option<String> {
    if r.is_empty() {
        return Some("it is empty".into());
    }
    if r.ends_with('/') {
        return Some("it ends with '/'".into());
    }
    let mut parts = r.split('/').peekable();
    let first = parts.next().unwrap_or_default();
    // Docker treats the first component as a registry host when it has a '.' or ':' or is
    // localhost; otherwise it is a Docker Hub namespace and must be lowercase.
    let is_domain = first.contains('.') || first.contains(':') || first == "localhost";
    if is_domain {
        if !is_host_port(first) {
            return Some(format!("'{first}' is not a valid registry host[:port]"));
        }
    } else if !is_path_component(first) {
        return Some(format!(
            "'{first}' is not a valid repository path component (lowercase letters, digits, separators . _ __ -)"
        ));
    }
    for p in parts {
        if !is_path_component(p) {
            return Some(format!(
                "'{p}' is not a valid repository path component (lowercase letters, digits, separators . _ __ -)"
            ));
        }
    }
    None
}

/// Why `s` is not an image reference docker accepts (`[host[:port]/]path[:tag][@digest]`,
/// the name at most 255 characters), or None. A reference never starts with `-`, so it cannot
/// read as a flag.
pub fn reference_problem(s: &str) -> Option<String> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(alg, hex)| {
            alg == "sha256"
                && hex.len() == 64
                && hex
                    .bytes()
                    .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        });
        if !ok {
            return Some("the digest after '@' is not sha256:<64 hex digits>".into());
        }
    }
    // A ':' after the last '/' starts the tag; one before it belongs to host:port.
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if name.len() > NAME_MAX {
        return Some(format!(
            "the name is {} characters long; docker takes at most {NAME_MAX}",
            name.len()
        ));
    }
    if let Some(problem) = name_problem(name) {
        return Some(format!("the name: {problem}"));
    }
    match tag {
        Some(t) if t.len() > TAG_MAX => Some(format!(
            "the tag is {} characters long; docker takes at most {TAG_MAX}",
            t.len()
        )),
        Some(t) if !is_tag(t) => Some(format!(
            "'{t}' is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})"
        )),
        _ => None,
    }
}

/// An OS version word for matrix mode (`1809`, `ltsc2022`, `20H2`): it becomes part of a tag
/// and of an environment variable name (REMOTE_DOCKER_URL_<os>), so letters and digits only.
pub fn is_os_version(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// The Windows releases the tool knows, with their build numbers: a node must run at least
/// this build to run their containers, and a list entry's os.version is
/// `10.0.<build>.<patch>`. Any other release is named with its build (`NAME=BUILD`).
pub const KNOWN_RELEASES: &[(&str, u32)] = &[
    ("1809", 17763),
    ("ltsc2019", 17763),
    ("2004", 19041),
    ("20H2", 19042),
    ("ltsc2022", 20348),
    ("ltsc2025", 26100),
];

/// The Windows Server releases Kubernetes' Windows clusters run today (Microsoft supports
/// them; upstream keeps 1809), with the product their nodes run: every manifest list should
/// carry an entry for each (`config::releases::coverage` says what breaks without one), and
/// `OS_VERSIONS=all` means these. Builds come from `KNOWN_RELEASES`. Add a release here when
/// clusters start running it; drop one when upstream does.
pub const SUPPORTED_RELEASES: &[(&str, &str)] = &[
    ("1809", "Windows Server 2019"),
    ("ltsc2022", "Windows Server 2022"),
    ("ltsc2025", "Windows Server 2025"),
];

/// The Windows build number of a known release name.
pub fn windows_build(os: &str) -> Option<u32> {
    KNOWN_RELEASES
        .iter()
        .find(|(name, _)| *name == os)
        .map(|&(_, build)| build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components() {
        for ok in [
            "a",
            "abc",
            "a.b",
            "a_b",
            "a__b",
            "a---b",
            "powershell-helper",
            "e2e",
        ] {
            assert!(is_path_component(ok), "{ok}");
        }
        for bad in [
            "", "A", "a..b", "a___b", "-a", "a-", "a b", "a/b", "ü", "a.-b",
        ] {
            assert!(!is_path_component(bad), "{bad}");
        }
    }

    #[test]
    fn tags() {
        assert!(is_tag("7.4.6"));
        assert!(is_tag("_x"));
        assert!(is_tag(&"a".repeat(128)));
        assert!(!is_tag(&"a".repeat(129)));
        assert!(!is_tag(".x"));
        assert!(!is_tag("-x"));
        assert!(!is_tag("1 2"));
        assert!(!is_tag(""));
    }

    #[test]
    fn registries() {
        for ok in [
            "registry.k8s.io/e2e-test-images",
            "127.0.0.1:5000/e2e",
            "localhost/x",
            "localhost:5000",
            "myuser",
            "[::1]:5000/a/b",
            "gcr.io",
        ] {
            assert_eq!(registry_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "Registry.k8s.io/E2E",
            "host:99999/x",
            "host:/x",
            "a//b",
            "a/",
            "my user",
            "$(id)",
            "../x",
        ] {
            assert!(registry_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        for ok in [
            "winbuild",
            "a.example.com",
            "10.1.2.3",
            "[::1]",
            "x-1.y",
            "1a.2b",
        ] {
            assert!(is_host(ok), "{ok}");
        }
        let long_label = "a".repeat(64);
        let long_name = ["a"; 130].join(".");
        for bad in [
            "",
            "999.1.1.1",
            "1.2.3",
            "-a",
            "a_b",
            "a..b",
            "[::g]",
            "u:p@h",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            assert!(!is_host(bad), "{bad}");
        }
    }

    #[test]
    fn references() {
        for ok in [
            "mcr.microsoft.com/windows/nanoserver:ltsc2022",
            "busybox",
            "127.0.0.1:5000/e2e/base:1809",
            "localhost:5000/a",
            "reg.io/a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "reg.io/a:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(reference_problem(ok), None, "{ok}");
        }
        let long_tag = format!("a:{}", "1".repeat(129));
        let long_name = format!("reg.io/{}", "a".repeat(250));
        for bad in [
            "",
            "--platform=linux/arm64",
            "-x",
            "a:",
            "a@sha256:12",
            "A/b",
            "a b",
            "a:.x",
            long_tag.as_str(),
            long_name.as_str(),
        ] {
            assert!(reference_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn releases() {
        assert_eq!(windows_build("ltsc2019"), windows_build("1809"));
        assert_eq!(windows_build("ltsc2025"), Some(26100));
        assert_eq!(windows_build("LTSC2022"), None);
    }
}
