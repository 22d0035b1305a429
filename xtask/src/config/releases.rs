//! OS_VERSIONS' words as Windows releases: a known name (`1809`, `ltsc2022`, …), or a release
//! the tool does not know named together with its build (`NAME=BUILD`). A typo is refused
//! with the known names; so are two names for one Windows build, which would give a manifest
//! list two entries for the same os.version.

use super::names::{self, KNOWN_RELEASES};
use crate::error::{shown, BadInput};

/// Windows 10 / Server builds are five digits; anything else is a typo.
const BUILDS: std::ops::RangeInclusive<u32> = 10_000..=99_999;

/// The release names (tags and REMOTE_DOCKER_URL_<os> use them) and their builds, same order.
/// `words` have passed the list's syntax check (each once, letters and digits or NAME=BUILD).
pub fn resolve(value: Option<&str>, words: &[String]) -> anyhow::Result<(Vec<String>, Vec<u32>)> {
    let value = value.unwrap_or_default();
    let known = || {
        KNOWN_RELEASES
            .iter()
            .map(|(n, b)| format!("{n} ({b})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let bad = |problem: String, hint: String| BadInput::new("OS_VERSIONS", value, problem, hint);
    let mut out: Vec<(String, u32)> = Vec::new();
    for word in words {
        let (name, build) = match word.split_once('=') {
            Some((name, build)) => {
                if let Some(b) = names::windows_build(name) {
                    return Err(bad(
                        format!(
                            "'{name}' is a release the tool knows (build {b}): it takes no =BUILD"
                        ),
                        format!(
                            "write just {name}; NAME=BUILD is for a release the tool does not know"
                        ),
                    ));
                }
                match build.parse::<u32>() {
                    Ok(b) if BUILDS.contains(&b) => (name.to_string(), b),
                    _ => {
                        return Err(bad(
                            format!("'{}': the build after '=' is not a Windows build number", shown(word)),
                            "NAME=BUILD with the release's build number, e.g. ltsc2022=20348 (the third part of os.version 10.0.BUILD.N)".into(),
                        ))
                    }
                }
            }
            None => match names::windows_build(word) {
                Some(b) => (word.clone(), b),
                None => {
                    let case = KNOWN_RELEASES
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(word))
                        .map(|(n, _)| format!(" (names are case-sensitive: {n})"))
                        .unwrap_or_default();
                    return Err(bad(
                        format!("'{}' is not a Windows release the tool knows{case}", shown(word)),
                        format!(
                            "known: {}; a release the tool does not know is named with its build, NAME=BUILD (e.g. next=30000)",
                            known()
                        ),
                    ));
                }
            },
        };
        if let Some((other, _)) = out.iter().find(|(_, b)| *b == build) {
            return Err(bad(
                format!("{other} and {name} are the same Windows build ({build}): a manifest list would get two entries for it"),
                format!("name each release once: drop {name} or {other}"),
            ));
        }
        out.push((name, build));
    }
    Ok(out.into_iter().unzip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn ok(s: &str) -> (Vec<String>, Vec<u32>) {
        resolve(Some(s), &words(s)).expect(s)
    }

    fn err(s: &str) -> String {
        resolve(Some(s), &words(s)).expect_err(s).to_string()
    }

    #[test]
    fn known_and_named_releases() {
        assert_eq!(
            ok("1809 ltsc2022 next=30000"),
            (words("1809 ltsc2022 next"), vec![17763, 20348, 30000])
        );
        assert_eq!(ok(""), (vec![], vec![]));
    }

    #[test]
    fn typos_and_twins_are_refused() {
        let e = err("ltsc2202");
        assert!(e.contains("'ltsc2202' is not a Windows release"), "{e}");
        assert!(e.contains("ltsc2022 (20348)"), "{e}");
        assert!(
            err("1809 ltsc2019").contains("1809 and ltsc2019 are the same Windows build (17763)")
        );
        assert!(err("ltsc2022 LTSC2022").contains("case-sensitive: ltsc2022"));
        assert!(err("ltsc2022 other=20348").contains("same Windows build (20348)"));
        assert!(err("1809=17763").contains("takes no =BUILD"));
        assert!(err("next=abc").contains("not a Windows build number"));
        assert!(err("next=123").contains("not a Windows build number"));
    }
}

/// `OS_VERSIONS=all`: every supported release (`names::SUPPORTED_RELEASES`), in order.
pub fn all_supported() -> String {
    names::SUPPORTED_RELEASES
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a list (or a set of releases) that covers only `builds` means for each supported
/// release it lacks: which clusters would fail and why, one warning each. `what` names the
/// list (`127.0.0.1:5000/e2e/i:1.0`, `OS_VERSIONS`, `BASEIMAGE`). Microsoft's matrix: a host
/// runs its own release with process isolation, an older one only with Hyper-V, a newer one
/// never; a Hyper-V host given a list without its release picks the newest entry's layers and
/// fails with HCS_E_IMAGE_MISMATCH (kubernetes-sigs/windows-testing#557).
pub fn coverage(what: &str, builds: &[u32]) -> Vec<String> {
    names::SUPPORTED_RELEASES
        .iter()
        .filter_map(|&(name, product)| {
            let build = names::windows_build(name)?;
            if builds.contains(&build) {
                return None;
            }
            let older = builds.iter().filter(|&&b| b < build).max();
            let why = match older {
                Some(b) => format!(
                    "with process isolation they run no other release's entry, and with Hyper-V isolation the host picks the newest entry's layers (build {b}) and fails with HCS_E_IMAGE_MISMATCH (kubernetes-sigs/windows-testing#557)"
                ),
                None => "every entry is of a newer release, which a Windows host never runs"
                    .to_string(),
            };
            Some(format!(
                "{what} has no entry for {name} (build {build}): clusters with {product} nodes would fail to run it — {why}; add {name} to OS_VERSIONS (or OS_VERSIONS=all) and to BASEIMAGE"
            ))
        })
        .collect()
}

/// `coverage` for a set of release names (OS_VERSIONS, BASEIMAGE's releases); a name the
/// tool knows no build of (NAME=BUILD) covers nothing supported.
pub fn coverage_of_names(what: &str, names_: &[String]) -> Vec<String> {
    let builds: Vec<u32> = names_
        .iter()
        .filter_map(|n| names::windows_build(n))
        .collect();
    coverage(what, &builds)
}

#[cfg(test)]
mod coverage_tests {
    use super::*;

    #[test]
    fn a_list_without_2025_names_hyperv_2025_hosts() {
        let w = coverage("r/i:1.0", &[17763, 20348]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("r/i:1.0 has no entry for ltsc2025 (build 26100): clusters with Windows Server 2025 nodes would fail"), "{}", w[0]);
        assert!(
            w[0].contains("HCS_E_IMAGE_MISMATCH") && w[0].contains("build 20348"),
            "{}",
            w[0]
        );
        let w = coverage("OS_VERSIONS", &[26100]);
        assert_eq!(w.len(), 2);
        assert!(
            w[0].contains("Windows Server 2019") && w[0].contains("newer release"),
            "{}",
            w[0]
        );
        assert!(coverage("x", &[17763, 20348, 26100]).is_empty());
        assert_eq!(all_supported(), "1809 ltsc2022 ltsc2025");
    }
}
