//! Windows knowledge, in one place: the releases the tool knows and their builds, the build
//! number of a release name, of a kernel version string (what a node reports) and of an
//! os.version (what a list entry carries), (`isolation`) Microsoft's host × container
//! compatibility table, and (`coverage`) the releases clusters run and what a list lacking one
//! breaks. Pure data and functions: nothing here asks a node.

pub mod coverage;
pub mod isolation;

pub use isolation::{
    decide as decide_isolation, reason as isolation_reason, route as builder_route, Builder,
    Isolation, Route,
};

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

/// Windows 10 / Server builds are five digits; anything else is a typo.
pub const BUILDS: std::ops::RangeInclusive<u32> = 10_000..=99_999;

/// A Windows release a run builds for: its name (tags and REMOTE_DOCKER_URL_<name> use it) and
/// its build (known, or given as `NAME=BUILD`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Release {
    pub name: String,
    pub build: u32,
}

/// A release name for matrix mode (`1809`, `ltsc2022`, `20H2`): it becomes part of a tag and
/// of an environment variable name (REMOTE_DOCKER_URL_<os>), so letters and digits only.
pub fn is_release_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// The Windows build of a known release name.
pub fn build_of_release(name: &str) -> Option<u32> {
    KNOWN_RELEASES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, build)| build)
}

/// The build of a Windows kernel version: "10.0 17763 (17763.1.amd64fre.rs5_release…)"
/// (what a Windows daemon reports) or "10.0.17763.6532".
pub fn build_of_kernel(kernel: &str) -> Option<u32> {
    let rest = kernel.trim().strip_prefix("10.0")?;
    let digits: String = rest
        .trim_start_matches([' ', '.'])
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// The Windows build of an os.version (`10.0.17763.6532` → 17763).
pub fn build_of_os_version(os_version: &str) -> Option<u32> {
    os_version.split('.').nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases() {
        assert_eq!(build_of_release("ltsc2019"), build_of_release("1809"));
        assert_eq!(build_of_release("ltsc2025"), Some(26100));
        assert_eq!(build_of_release("LTSC2022"), None);
    }

    #[test]
    fn builds_of_kernels_and_os_versions() {
        assert_eq!(
            build_of_kernel("10.0 26100 (26100.1.amd64fre.ge_release.240331-1435)"),
            Some(26100)
        );
        assert_eq!(build_of_kernel("10.0.17763.6532"), Some(17763));
        assert_eq!(build_of_kernel("6.1.0-18-amd64"), None);
        assert_eq!(build_of_os_version("10.0.20348.2849"), Some(20348));
        assert_eq!(build_of_os_version("10.0"), None);
    }

    #[test]
    fn release_names() {
        assert!(is_release_name("20H2"));
        assert!(!is_release_name("ltsc-2022"));
        assert!(!is_release_name(""));
    }
}
