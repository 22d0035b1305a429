//! Coverage: the Windows Server releases Kubernetes' Windows clusters run today, and what a
//! manifest list (or a set of releases) that lacks one of them means for those clusters —
//! Microsoft's matrix: a host runs its own release with process isolation, an older one only
//! with Hyper-V, a newer one never; a Hyper-V host given a list without its release picks the
//! newest entry's layers and fails with HCS_E_IMAGE_MISMATCH
//! (kubernetes-sigs/windows-testing#557). Used by lint, doctor and verify.

use super::build_of_release;

/// The Windows Server releases Kubernetes' Windows clusters run today (Microsoft supports
/// them; upstream keeps 1809), with the product their nodes run: every manifest list should
/// carry an entry for each (`coverage` says what breaks without one), and `OS_VERSIONS=all`
/// means these. Builds come from `KNOWN_RELEASES`. Add a release here when clusters start
/// running it; drop one when upstream does.
pub const SUPPORTED_RELEASES: &[(&str, &str)] = &[
    ("1809", "Windows Server 2019"),
    ("ltsc2022", "Windows Server 2022"),
    ("ltsc2025", "Windows Server 2025"),
];

/// `OS_VERSIONS=all`: every supported release (`SUPPORTED_RELEASES`), in order.
pub fn all_supported() -> String {
    SUPPORTED_RELEASES
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
    SUPPORTED_RELEASES
        .iter()
        .filter_map(|&(name, product)| {
            let build = build_of_release(name)?;
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
