//! The releases group: OS_VERSIONS' words as Windows releases — a known name (`1809`,
//! `ltsc2022`, …), or a release the tool does not know named together with its build
//! (`NAME=BUILD`). A typo is refused with the known names; so are two names for one Windows
//! build, which would give a manifest list two entries for the same os.version. Empty is
//! compat mode (upstream's tags); any release is matrix mode. The build of every release is
//! kept: isolation and the list entries are decided from it.

use super::parse::parse_list;
use crate::error::{shown, BadInput};
use crate::windows::{self, Release, BUILDS, KNOWN_RELEASES};

/// The Windows releases (matrix mode).
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Windows releases")]
pub struct OsArgs {
    /// Releases to build for, space separated: matrix mode. Known: 1809 (= ltsc2019), ltsc2022, ltsc2025, 2004, 20H2; another as NAME=BUILD, e.g. "ltsc2022 next=30000"; "all": every supported release.
    #[arg(long, env = "OS_VERSIONS", value_name = "\"OS …\"")]
    pub os_versions: Option<String>,
}

/// The releases a run builds for, in the given order; empty in compat mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Releases(pub Vec<Release>);

impl Releases {
    pub fn is_matrix(&self) -> bool {
        !self.0.is_empty()
    }

    /// The names, in order.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|r| r.name.clone()).collect()
    }
}

impl OsArgs {
    pub fn resolve(self) -> anyhow::Result<Releases> {
        // OS_VERSIONS=all: every supported release (windows::coverage::SUPPORTED_RELEASES).
        let all = windows::coverage::all_supported();
        let value = match self.os_versions.as_deref() {
            Some(v) if v.trim() == "all" => Some(all.as_str()),
            v => v,
        };
        let words = parse_list(
            "OS_VERSIONS",
            value,
            |w| match w.split_once('=') {
                Some((name, build)) => {
                    windows::is_release_name(name) && !build.is_empty() && !build.contains('=')
                }
                None => windows::is_release_name(w),
            },
            "release (letters and digits, or NAME=BUILD)",
            "1809 ltsc2022 ltsc2025",
        )?;
        let (names, builds) = resolve(value, &words)?;
        Ok(Releases(
            names
                .into_iter()
                .zip(builds)
                .map(|(name, build)| Release { name, build })
                .collect(),
        ))
    }
}

/// The release names (tags and REMOTE_DOCKER_URL_<os> use them) and their builds, same order.
/// `words` have passed the list's syntax check (each once, letters and digits or NAME=BUILD).
fn resolve(value: Option<&str>, words: &[String]) -> anyhow::Result<(Vec<String>, Vec<u32>)> {
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
                if let Some(b) = windows::build_of_release(name) {
                    return Err(bad(
                        format!(
                            "'{name}' is a release the tool knows (build {b}): it takes no =BUILD"
                        ),
                        format!(
                            "write just {name}; NAME=BUILD is for a release the tool does not know"
                        ),
                    ));
                }
                // `LTSC2022=20348` would be a second name for a release the tool knows, its
                // tags and node variable spelled unlike everyone else's.
                if let Some((known, _)) = KNOWN_RELEASES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    return Err(bad(
                        format!("'{}' differs only in case from the known release {known}: release names are case-sensitive", shown(name)),
                        format!("write {known} (without =BUILD)"),
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
            None => match windows::build_of_release(word) {
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
        if let Some((_, b)) = out.iter().find(|(n, _)| *n == name) {
            return Err(bad(
                format!("{name} is named twice, with builds {b} and {build}"),
                format!("name each release once: keep one {name}=BUILD"),
            ));
        }
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
        assert!(
            err("LTSC2022=20348").contains("differs only in case from the known release ltsc2022")
        );
        assert!(err("Ltsc2025=30000").contains("write ltsc2025"));
        assert!(err("next=abc").contains("not a Windows build number"));
        assert!(err("next=123").contains("not a Windows build number"));
        assert!(err("next=30000 next=30001")
            .contains("next is named twice, with builds 30000 and 30001"));
        assert!(
            err("LTSC2022=30000").contains("differs only in case from the known release ltsc2022")
        );
    }
}
