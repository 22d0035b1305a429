//! Isolation: Microsoft's host × container compatibility table (what ISOLATION=auto
//! follows). Pure: the node's Windows build is read elsewhere (preflight) and handed in.
//!
//! The table (Windows builds: 1809 = 17763, ltsc2022 = 20348, ltsc2025 = 26100):
//! - host build == release build: process isolation;
//! - a Windows Server 2025 host (26100) runs ltsc2022 (20348) containers with process isolation;
//! - any other release older than the host: Hyper-V isolation only;
//! - a release newer than the host does not run at all.

/// How docker isolates a Windows build (`docker build --isolation=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isolation {
    Process,
    HyperV,
}

impl Isolation {
    /// The word ISOLATION and docker's `--isolation` both use.
    pub fn word(self) -> &'static str {
        match self {
            Isolation::Process => "process",
            Isolation::HyperV => "hyperv",
        }
    }
}

/// Why a release cannot be built on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooNew {
    pub host: u32,
    pub release: u32,
}

/// The isolation a host of Windows build `host` runs containers of build `release` with, by
/// Microsoft's compatibility matrix; Err when the release is newer than the host.
pub fn decide(host: u32, release: u32) -> Result<Isolation, TooNew> {
    const WS2025: u32 = 26100;
    const WS2022: u32 = 20348;
    if release > host {
        Err(TooNew { host, release })
    } else if release == host || (host == WS2025 && release == WS2022) {
        Ok(Isolation::Process)
    } else {
        Ok(Isolation::HyperV)
    }
}

/// Why `decide` chose what it chose, for run output and doctor.
pub fn reason(host: u32, release: u32) -> &'static str {
    match decide(host, release) {
        Err(_) => "the release is newer than the host: no isolation runs it",
        Ok(_) if host == release => "same build as the host",
        Ok(Isolation::Process) => "a Windows Server 2025 host runs ltsc2022 containers",
        Ok(Isolation::HyperV) => "an older release on a newer host runs only under Hyper-V",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::windows::build_of_release as windows_build;

    #[test]
    fn the_table_over_hosts_and_releases() {
        use Isolation::*;
        let b = |os: &str| windows_build(os).expect("known release");
        // host build → [1809, ltsc2022, ltsc2025]
        let want: [(u32, [Option<Isolation>; 3]); 3] = [
            (17763, [Some(Process), None, None]),
            (20348, [Some(HyperV), Some(Process), None]),
            (26100, [Some(HyperV), Some(Process), Some(Process)]),
        ];
        for (host, row) in want {
            for (os, w) in ["1809", "ltsc2022", "ltsc2025"].into_iter().zip(row) {
                let got = decide(host, b(os));
                match w {
                    Some(i) => assert_eq!(got, Ok(i), "host {host}, release {os}"),
                    None => assert_eq!(
                        got,
                        Err(TooNew {
                            host,
                            release: b(os)
                        }),
                        "host {host}, release {os}"
                    ),
                }
                assert!(!reason(host, b(os)).is_empty());
            }
        }
    }

    #[test]
    fn only_the_2025_host_runs_2022_with_process_isolation() {
        // A host newer than 2025 is not assumed to keep that exception.
        assert_eq!(decide(26200, 20348), Ok(Isolation::HyperV));
        assert_eq!(decide(26200, 26100), Ok(Isolation::HyperV));
        assert_eq!(decide(20348, 19041), Ok(Isolation::HyperV));
    }
}
