//! Resolving each node build's isolation once the nodes have said what they are (preflight
//! asks them): `auto` follows the compatibility table (`config::decide_isolation`), a Linux
//! stand-in gets no flag, a release newer than its node is refused before any build. Pure:
//! the answers are handed in, the plan's data is updated, what was decided is returned for
//! the run to show.

use super::{Action, BuildIsolation, Plan};
use crate::error::BadInput;
use crate::windows::{decide_isolation, isolation_reason, Isolation};

/// What a node said about itself, as far as isolation cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeSays {
    /// A Windows node and its OS build (17763, 20348, 26100, …).
    Windows(u32),
    /// A Windows node whose kernel version carries no build we can read.
    WindowsUnknownBuild(String),
    /// Not Windows (the test stack's Linux dockerd): a stand-in of whichever release it is
    /// configured for, building with no isolation flag.
    StandIn(String),
}

/// One decision, for the run's output: per node and release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub url: String,
    /// The release (None: compat mode).
    pub os: Option<String>,
    pub says: NodeSays,
    pub isolation: BuildIsolation,
    /// Why, in words.
    pub why: String,
    /// Something the user should know (a forced isolation the table advises against).
    pub warning: Option<String>,
}

impl Decided {
    /// One line for the run's output.
    pub fn line(&self) -> String {
        let node = match &self.says {
            NodeSays::Windows(b) => format!("node {} (Windows build {b})", self.url),
            NodeSays::WindowsUnknownBuild(k) => {
                format!("node {} (Windows, kernel \"{k}\")", self.url)
            }
            NodeSays::StandIn(os) => format!("node {} (a stand-in: Os {os})", self.url),
        };
        let release = self.os.as_deref().unwrap_or("compat mode");
        let flag = match self.isolation {
            BuildIsolation::NodeDefault => "no --isolation flag".to_string(),
            BuildIsolation::FromNode => "undecided".to_string(),
            BuildIsolation::Is(i) => format!("--isolation={}", i.word()),
        };
        format!("{node}: {release} → {flag} ({})", self.why)
    }
}

/// Decides the isolation of every node build whose node answered (`says` by URL; a node not
/// asked keeps its plan value, a dry-run's placeholder). Err: bad input (exit 2) — a release
/// newer than its node, or `auto` with a release or node build it cannot place in the table.
pub fn resolve_isolation(
    plan: &mut Plan,
    says: &dyn Fn(&str) -> Option<NodeSays>,
) -> anyhow::Result<Vec<Decided>> {
    let mut out: Vec<Decided> = Vec::new();
    for step in &mut plan.steps {
        let os = step.os.clone();
        let Action::Build {
            node, isolation, ..
        } = &mut step.action
        else {
            continue;
        };
        let Some(said) = says(node.address()) else {
            continue;
        };
        let d = decide(node.address(), os.as_deref(), node.build, &said, *isolation)?;
        *isolation = d.isolation;
        if !out.iter().any(|o| o.url == d.url && o.os == d.os) {
            out.push(d);
        }
    }
    Ok(out)
}

/// One node build: the isolation it gets on a node that said `said`.
fn decide(
    url: &str,
    os: Option<&str>,
    build: Option<u32>,
    said: &NodeSays,
    planned: BuildIsolation,
) -> anyhow::Result<Decided> {
    let mut d = Decided {
        url: url.to_string(),
        os: os.map(String::from),
        says: said.clone(),
        isolation: planned,
        why: String::new(),
        warning: None,
    };
    let (os, host) = match (os, said) {
        (_, NodeSays::StandIn(node_os)) => {
            // A Linux dockerd has no Windows isolation: it stands in for a node of the
            // release, which would build with process isolation.
            if planned != BuildIsolation::Is(Isolation::HyperV) {
                d.isolation = BuildIsolation::NodeDefault;
            }
            d.why = format!(
                "a {node_os} stand-in for {}: builds as a node of that release would, with process isolation",
                os.unwrap_or("the compat-mode node")
            );
            return Ok(d);
        }
        (None, NodeSays::Windows(b)) => {
            // Compat mode: upstream's argv, whatever the node (doctor warns).
            d.why = match planned {
                BuildIsolation::Is(i) => format!("ISOLATION={}", i.word()),
                _ => "compat mode: upstream's argv".into(),
            };
            let want = crate::windows::build_of_release("1809").unwrap_or(17763);
            if *b != want && planned == BuildIsolation::NodeDefault {
                d.warning = Some(format!(
                    "compat mode builds 1809 images with upstream's command (no --isolation flag), but node {url} runs build {b}, not 1809's {want}: only a process-isolation match runs them (set OS_VERSIONS for matrix mode, which picks the isolation)"
                ));
            }
            return Ok(d);
        }
        (None, NodeSays::WindowsUnknownBuild(_)) => {
            d.why = "compat mode: upstream's argv".into();
            return Ok(d);
        }
        (Some(os), NodeSays::WindowsUnknownBuild(kernel)) => {
            if planned == BuildIsolation::FromNode {
                return Err(BadInput::new(
                    "ISOLATION",
                    "auto",
                    format!("node {url} (for {os}) reports kernel version \"{kernel}\", with no Windows build in it to choose an isolation by"),
                    "set ISOLATION=process or ISOLATION=hyperv",
                ));
            }
            d.why = "forced by ISOLATION".into();
            return Ok(d);
        }
        (Some(os), NodeSays::Windows(host)) => (os, *host),
    };
    let Some(release) = build else {
        if planned == BuildIsolation::FromNode {
            return Err(BadInput::new(
                "OS_VERSIONS",
                os,
                format!("no known Windows build for release {os}: ISOLATION=auto cannot choose its isolation on node {url} (build {host})"),
                "use 1809, ltsc2022 or ltsc2025, or set ISOLATION=process or ISOLATION=hyperv",
            ));
        }
        d.why = "forced by ISOLATION".into();
        return Ok(d);
    };
    let table = decide_isolation(host, release).map_err(|_| {
        BadInput::new(
            "OS_VERSIONS",
            os,
            format!("node {url} runs Windows build {host}, older than {os} (build {release}): a release newer than its host does not run, with any isolation"),
            format!("point REMOTE_DOCKER_URL_{os} at a node of build {release} or newer (Windows Server 2025, build 26100, runs 1809, ltsc2022 and ltsc2025), or drop {os} from OS_VERSIONS"),
        )
    })?;
    match planned {
        BuildIsolation::FromNode => {
            d.isolation = BuildIsolation::Is(table);
            d.why = isolation_reason(host, release).into();
        }
        BuildIsolation::Is(forced) => {
            d.why = format!("forced by ISOLATION={}", forced.word());
            if forced == Isolation::Process && table == Isolation::HyperV {
                d.warning = Some(format!(
                    "ISOLATION=process on node {url}: build {host} runs {os} (build {release}) containers only under Hyper-V isolation; its builds will most likely fail (ISOLATION=auto chooses hyperv)"
                ));
            }
        }
        BuildIsolation::NodeDefault => d.why = "no --isolation flag".into(),
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(os: Option<&str>, said: NodeSays, planned: BuildIsolation) -> anyhow::Result<Decided> {
        decide(
            "tcp://win:2376",
            os,
            os.and_then(crate::windows::build_of_release),
            &said,
            planned,
        )
    }

    #[test]
    fn auto_follows_the_table_and_refuses_a_release_newer_than_its_node() {
        use BuildIsolation::*;
        use Isolation::*;
        let auto = |os: &str, build: u32| {
            one(Some(os), NodeSays::Windows(build), FromNode).map(|d| d.isolation)
        };
        assert_eq!(auto("1809", 17763).unwrap(), Is(Process));
        assert_eq!(auto("1809", 26100).unwrap(), Is(HyperV));
        assert_eq!(auto("ltsc2022", 26100).unwrap(), Is(Process));
        assert_eq!(auto("ltsc2022", 20348).unwrap(), Is(Process));
        assert_eq!(auto("1809", 20348).unwrap(), Is(HyperV));
        let e = auto("ltsc2025", 20348).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("tcp://win:2376")
                && msg.contains("20348")
                && msg.contains("ltsc2025")
                && msg.contains("26100"),
            "{msg}"
        );
        assert_eq!(crate::error::code(&e), 2);
        // Forced: the refusal stands; a forced process isolation the table advises against
        // is kept, with a warning.
        assert!(one(Some("ltsc2025"), NodeSays::Windows(17763), Is(HyperV)).is_err());
        let d = one(Some("1809"), NodeSays::Windows(26100), Is(Process)).unwrap();
        assert_eq!(d.isolation, Is(Process));
        assert!(d.warning.is_some());
        let d = one(Some("1809"), NodeSays::Windows(26100), Is(HyperV)).unwrap();
        assert_eq!((d.isolation, d.warning), (Is(HyperV), None));
    }

    #[test]
    fn a_stand_in_gets_no_flag_and_compat_keeps_upstreams_argv() {
        use BuildIsolation::*;
        let linux = || NodeSays::StandIn("linux".into());
        for planned in [FromNode, Is(Isolation::Process), NodeDefault] {
            let d = one(Some("ltsc2022"), linux(), planned).unwrap();
            assert_eq!(d.isolation, NodeDefault, "{planned:?}");
            assert!(d.line().contains("stand-in"), "{}", d.line());
        }
        let d = one(None, NodeSays::Windows(20348), NodeDefault).unwrap();
        assert_eq!(d.isolation, NodeDefault);
        assert!(d.warning.as_deref().unwrap_or("").contains("17763"));
        let d = one(None, NodeSays::Windows(17763), NodeDefault).unwrap();
        assert_eq!((d.isolation, d.warning), (NodeDefault, None));
    }

    #[test]
    fn auto_cannot_place_an_unknown_release_or_build() {
        let e = one(
            Some("20H1"),
            NodeSays::Windows(20348),
            BuildIsolation::FromNode,
        )
        .unwrap_err();
        assert!(e.to_string().contains("OS_VERSIONS=\"20H1\""), "{e}");
        let e = one(
            Some("1809"),
            NodeSays::WindowsUnknownBuild("10.0".into()),
            BuildIsolation::FromNode,
        )
        .unwrap_err();
        assert!(e.to_string().contains("ISOLATION"), "{e}");
    }

    #[test]
    fn a_named_release_is_decided_by_its_own_build() {
        // OS_VERSIONS="next=30000": newer than a 2025 node, refused before any build.
        let said = NodeSays::Windows(26100);
        let e = decide(
            "tcp://win:2376",
            Some("next"),
            Some(30000),
            &said,
            BuildIsolation::FromNode,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("older than next (build 30000)"), "{e}");
        // "old=17763" on the same node: Hyper-V, as 1809 would be.
        let d = decide(
            "tcp://win:2376",
            Some("old"),
            Some(17763),
            &said,
            BuildIsolation::FromNode,
        )
        .unwrap();
        assert_eq!(d.isolation, BuildIsolation::Is(Isolation::HyperV));
    }
}
