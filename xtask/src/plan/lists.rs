//! Manifest lists of matrix mode: the list tag and its per-version entries as the plan holds
//! them, and what makes a list right — it references exactly the manifests the per-version
//! tags hold now, each entry with the os.version that image must carry, one entry per Windows
//! build. Digests and os.version values are only known once the images are pushed, so
//! `docker::resolve` reads them at run time; the plan shows placeholders. The list step, the
//! skip-unchanged probe and `verify` all judge a list with `problems`.

use crate::docker;
use crate::docker::oci::{short_digest, ListItem};
use crate::docker::resolve::Resolved;
use crate::windows::build_of_os_version as windows_build;

/// One Windows image that goes into a manifest list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The per-version tag, e.g. `R/I:V-windows-amd64-1809`.
    pub tag: String,
    pub os: String,
    /// The release's Windows build (known, or given as `NAME=BUILD`): the build its
    /// os.version must carry.
    pub build: Option<u32>,
    /// The base image (from BASEIMAGE): where os.version comes from when the pushed image's
    /// config lacks it.
    pub base: Option<String>,
}

/// A manifest list over per-version images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSpec {
    pub list: String,
    /// The list's repository (`R/I`): the entries' configs are read as `R/I@sha256:…`.
    pub repo: String,
    pub entries: Vec<ListEntry>,
}

impl ListSpec {
    /// The commands the list step runs: per entry, what the tag points at now and the
    /// os.version it must carry (the base is read only when the config lacks it); the list,
    /// pushed in one command; then the check that the registry holds exactly that list, over
    /// the manifests the tags still hold (another run may have moved them meanwhile).
    /// `<digest of TAG>` and `<descriptor of TAG>` stand for what is resolved at run time.
    pub fn commands(&self) -> Vec<Vec<String>> {
        let mut cmds: Vec<Vec<String>> = Vec::new();
        for e in &self.entries {
            cmds.push(docker::inspect_descriptor(&e.tag));
            cmds.push(docker::inspect_config(&format!(
                "{}@<digest of {}>",
                self.repo, e.tag
            )));
            if let Some(base) = &e.base {
                cmds.push(docker::inspect_raw(base));
            }
        }
        let sources: Vec<String> = self
            .entries
            .iter()
            .map(|e| format!("<descriptor of {}>", e.tag))
            .collect();
        cmds.push(docker::imagetools_create(&self.list, &sources));
        cmds.extend(self.confirm_commands());
        cmds
    }

    /// The read-back after the push: where each tag points now, and the list itself.
    pub fn confirm_commands(&self) -> Vec<Vec<String>> {
        let mut cmds: Vec<Vec<String>> = self
            .entries
            .iter()
            .map(|e| docker::inspect_descriptor(&e.tag))
            .collect();
        cmds.push(docker::inspect_raw(&self.list));
        cmds
    }

    /// `docker buildx imagetools create` of the list over `wanted` (in entry order).
    pub fn create(&self, wanted: &[Resolved]) -> Vec<String> {
        let sources: Vec<String> = wanted
            .iter()
            .map(|w| w.descriptor.windows_source(&w.os_version))
            .collect();
        docker::imagetools_create(&self.list, &sources)
    }

    /// Why a list over `wanted` (resolved for `self.entries`, in order) must not be pushed:
    /// an os.version that is not its release's Windows build, or two entries for one build
    /// (a Windows host would pick either). Empty when it may.
    pub fn conflicts(&self, wanted: &[Resolved]) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (e, w)) in self.entries.iter().zip(wanted).enumerate() {
            let build = windows_build(&w.os_version);
            if let (Some(want), Some(got)) = (e.build, build) {
                if want != got {
                    out.push(format!(
                        "{} carries os.version {}, not release {}'s build {want}",
                        e.tag, w.os_version, e.os
                    ));
                }
            }
            let twin = self.entries[..i]
                .iter()
                .zip(wanted)
                .find(|(_, o)| build.is_some() && windows_build(&o.os_version) == build);
            if let Some((other, _)) = twin {
                out.push(format!(
                    "{} and {} both carry Windows build {} ({})",
                    other.tag,
                    e.tag,
                    build.unwrap_or_default(),
                    w.os_version
                ));
            }
        }
        out
    }

    /// Why the list the registry holds (`found`'s image entries) is not the list over
    /// `wanted` (resolved for `self.entries`, in order): each problem names the tag it is
    /// about. Empty when the list is exactly right.
    pub fn problems(&self, wanted: &[Resolved], found: &[ListItem]) -> Vec<String> {
        let mut out = self.conflicts(wanted);
        for (e, w) in self.entries.iter().zip(wanted) {
            let d = &w.descriptor.digest;
            let hits: Vec<&ListItem> = found.iter().filter(|f| f.digest == *d).collect();
            match hits.as_slice() {
                [] => out.push(format!(
                    "{} has no entry for {} ({}, its manifest now)",
                    self.list,
                    e.tag,
                    short_digest(d)
                )),
                [f] => match &f.os_version {
                    _ if f.platform != "windows/amd64" => out.push(format!(
                        "{}'s entry for {} says {}, not windows/amd64",
                        self.list, e.tag, f.platform
                    )),
                    None => out.push(format!(
                        "{}'s entry for {} lacks os.version (want {})",
                        self.list, e.tag, w.os_version
                    )),
                    Some(v) if *v != w.os_version => out.push(format!(
                        "{}'s entry for {} carries os.version {v}, want {}",
                        self.list, e.tag, w.os_version
                    )),
                    Some(_) => {}
                },
                _ => out.push(format!(
                    "{} has {} entries for {}",
                    self.list,
                    hits.len(),
                    e.tag
                )),
            }
        }
        for f in found {
            if !wanted.iter().any(|w| w.descriptor.digest == f.digest) {
                out.push(format!(
                    "{} has an entry ({} {}{}) that is no per-version tag's current manifest",
                    self.list,
                    f.platform,
                    short_digest(&f.digest),
                    f.os_version
                        .as_deref()
                        .map(|v| format!(" {v}"))
                        .unwrap_or_default()
                ));
            }
        }
        // Two entries for one build, whatever they point at: a host would pick either.
        let builds: Vec<u32> = found
            .iter()
            .filter_map(|f| f.os_version.as_deref().and_then(windows_build))
            .collect();
        for (i, b) in builds.iter().enumerate() {
            if builds[..i].contains(b) && !builds[i + 1..].contains(b) {
                out.push(format!(
                    "{} has two entries for Windows build {b}",
                    self.list
                ));
            }
        }
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::oci::Descriptor;

    fn digest(n: u8) -> String {
        format!("sha256:{}", format!("{n:x}").repeat(64))
    }

    fn spec() -> ListSpec {
        ListSpec {
            list: "r/a:1".into(),
            repo: "r/a".into(),
            entries: ["1809", "ltsc2022"]
                .map(|os| ListEntry {
                    tag: format!("r/a:1-windows-amd64-{os}"),
                    os: os.into(),
                    build: crate::windows::build_of_release(os),
                    base: None,
                })
                .into(),
        }
    }

    fn wanted() -> Vec<Resolved> {
        [(1, "10.0.17763.6532"), (2, "10.0.20348.2849")]
            .map(|(n, v)| Resolved {
                descriptor: Descriptor {
                    media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                    digest: digest(n),
                    size: 100,
                },
                os_version: v.into(),
            })
            .into()
    }

    fn item(n: u8, v: Option<&str>) -> ListItem {
        ListItem {
            digest: digest(n),
            platform: "windows/amd64".into(),
            os_version: v.map(String::from),
        }
    }

    #[test]
    fn the_exact_list_has_no_problems_in_any_order() {
        let found = [
            item(2, Some("10.0.20348.2849")),
            item(1, Some("10.0.17763.6532")),
        ];
        assert_eq!(spec().problems(&wanted(), &found), Vec::<String>::new());
    }

    #[test]
    fn an_old_manifest_a_missing_os_version_and_a_twin_build_are_named() {
        let s = spec();
        let w = wanted();
        // The 1809 entry points at an old manifest.
        let p = s.problems(
            &w,
            &[
                item(3, Some("10.0.17763.6532")),
                item(2, Some("10.0.20348.2849")),
            ],
        );
        assert!(
            p.iter()
                .any(|m| m.contains("no entry for r/a:1-windows-amd64-1809")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|m| m.contains("no per-version tag's current")),
            "{p:?}"
        );
        // Right digests, no os.version.
        let p = s.problems(&w, &[item(1, None), item(2, Some("10.0.20348.2849"))]);
        assert_eq!(
            p,
            vec!["r/a:1's entry for r/a:1-windows-amd64-1809 lacks os.version (want 10.0.17763.6532)"]
        );
        // Another os.version than the image's.
        let p = s.problems(
            &w,
            &[
                item(1, Some("10.0.17763.1")),
                item(2, Some("10.0.20348.2849")),
            ],
        );
        assert!(p[0].contains("carries os.version 10.0.17763.1"), "{p:?}");
        // A third entry with a build already there.
        let p = s.problems(
            &w,
            &[
                item(1, Some("10.0.17763.6532")),
                item(2, Some("10.0.20348.2849")),
                item(4, Some("10.0.17763.6532")),
            ],
        );
        assert!(
            p.iter()
                .any(|m| m.contains("two entries for Windows build 17763")),
            "{p:?}"
        );
        // Nothing there.
        assert_eq!(s.problems(&w, &[]).len(), 2);
    }

    #[test]
    fn images_of_one_build_or_the_wrong_build_conflict() {
        let s = spec();
        let mut w = wanted();
        assert!(s.conflicts(&w).is_empty());
        w[1].os_version = "10.0.17763.6532".into();
        let c = s.conflicts(&w);
        assert!(
            c.iter()
                .any(|m| m.contains("not release ltsc2022's build 20348")),
            "{c:?}"
        );
        assert!(
            c.iter()
                .any(|m| m.contains("both carry Windows build 17763")),
            "{c:?}"
        );
    }

    #[test]
    fn the_plan_shows_placeholders_and_one_create() {
        let cmds = spec().commands();
        let create: Vec<&Vec<String>> = cmds
            .iter()
            .filter(|c| c.get(3).is_some_and(|w| w == "create"))
            .collect();
        assert_eq!(create.len(), 1);
        assert_eq!(
            create[0][4..],
            [
                "-t",
                "r/a:1",
                "<descriptor of r/a:1-windows-amd64-1809>",
                "<descriptor of r/a:1-windows-amd64-ltsc2022>"
            ]
        );
        assert!(!cmds.iter().flatten().any(|w| w == "manifest"));
    }
}
