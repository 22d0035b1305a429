//! Resolving each node build's isolation once the nodes have said what they are (preflight
//! asks them): `auto` follows the compatibility table (`config::decide_isolation`), a Linux
//! stand-in gets no flag, a release newer than its node is refused before any build. Pure:
//! the answers are handed in, the plan's data is updated, what was decided is returned for
//! the run to show. Then `route_builders`: which builder each build goes through so that its
//! isolation is kept (`config::builder_route`, the decision table), or a refusal.

use super::{Action, BuildIsolation, BuildVia, Plan};
use crate::error::BadInput;
use crate::windows::{builder_route, Builder, Route};
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

/// What a Windows node's engine said about itself, as far as builds care (read by preflight
/// from `docker info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    /// "Docker 27.5.1", as the engine names itself.
    pub version: String,
    /// The builder the docker CLI picks for it by itself.
    pub builder: Builder,
    /// Whether the engine still has the classic builder (`DOCKER_BUILDKIT=0` reaches it).
    pub classic: bool,
    /// "windowsfilter", "containerd snapshotter", …
    pub store: String,
    /// The daemon's default isolation (None: not said).
    pub default_isolation: Option<Isolation>,
}

/// One build's route, for the run's output and doctor: per node and release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub url: String,
    pub os: Option<String>,
    pub route: Route,
    pub via: BuildVia,
    /// The isolation the build needs (None: none asked for).
    pub needs: Option<Isolation>,
    pub why: String,
}

/// Decides the builder of every node build whose node's engine is known (`engine` by URL;
/// a Linux stand-in or a node not asked answers None and keeps its default builder). Err:
/// bad input (exit 2) — a build whose isolation nothing on its engine honours — before any
/// build.
pub fn route_builders(
    plan: &mut Plan,
    engine: &dyn Fn(&str) -> Option<Engine>,
) -> anyhow::Result<Vec<Routed>> {
    let mut out: Vec<Routed> = Vec::new();
    for step in &mut plan.steps {
        let os = step.os.clone();
        let Action::Build {
            node,
            isolation,
            builder,
            ..
        } = &mut step.action
        else {
            continue;
        };
        let Some(e) = engine(node.address()) else {
            continue;
        };
        let r = route_one(node.address(), os.as_deref(), &e, *isolation)?;
        *builder = r.via;
        if !out.iter().any(|o| o.url == r.url && o.os == r.os) {
            out.push(r);
        }
    }
    Ok(out)
}

/// One node build on engine `e`: its route, or the refusal.
pub fn route_one(
    url: &str,
    os: Option<&str>,
    e: &Engine,
    isolation: BuildIsolation,
) -> anyhow::Result<Routed> {
    let needs = match isolation {
        BuildIsolation::Is(i) => Some(i),
        BuildIsolation::NodeDefault | BuildIsolation::FromNode => None,
    };
    let route = builder_route(e.builder, e.classic, e.default_isolation, needs);
    let default = e
        .default_isolation
        .map(Isolation::word)
        .unwrap_or("not said");
    let release = os.unwrap_or("1809 (compat mode)");
    let (via, why) = match (route, needs) {
        (Route::AsPlanned, None) => (
            BuildVia::Default(e.builder),
            format!("no isolation asked for: the {} builder as is", e.builder.word()),
        ),
        (Route::AsPlanned, Some(i)) => (
            BuildVia::Default(e.builder),
            format!("the classic builder sends --isolation={}", i.word()),
        ),
        (Route::DefaultIsolation, Some(i)) => (
            BuildVia::Default(e.builder),
            format!(
                "BuildKit drops --isolation, but the daemon's default isolation is {}, the one needed",
                i.word()
            ),
        ),
        (Route::ClassicBuilder, Some(i)) => (
            BuildVia::Classic,
            format!(
                "BuildKit would drop --isolation={} (the daemon's default is {default}): the engine's classic builder keeps it",
                i.word()
            ),
        ),
        (Route::Refuse, Some(i)) => {
            return Err(BadInput::new(
                "OS_VERSIONS",
                release,
                format!(
                    "node {url} ({}, {} builder, {} image store, default isolation {default}) cannot build {release} with {} isolation: BuildKit drops --isolation and this engine has no classic builder",
                    e.version, e.builder.word(), e.store, i.word()
                ),
                format!(
                    "set `\"exec-opts\": [\"isolation={}\"]` in the node's daemon.json (every build there then runs with it), or give {release} a node of its own release",
                    i.word()
                ),
            ));
        }
        (_, None) => (BuildVia::Default(e.builder), "no isolation asked for".into()),
    };
    Ok(Routed {
        url: url.to_string(),
        os: os.map(String::from),
        route,
        via,
        needs,
        why,
    })
}

impl Routed {
    /// One line for the run's output.
    pub fn line(&self) -> String {
        format!(
            "node {}: {} → {} — {}",
            self.url,
            self.os.as_deref().unwrap_or("compat mode"),
            self.via.word().unwrap_or_default(),
            self.why
        )
    }
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

    fn engine(builder: Builder, classic: bool, default: Option<Isolation>) -> Engine {
        Engine {
            version: "Docker 29.1.0".into(),
            builder,
            classic,
            store: "containerd snapshotter".into(),
            default_isolation: default,
        }
    }

    #[test]
    fn builds_keep_their_isolation_or_are_refused() {
        use BuildIsolation::*;
        use Isolation::*;
        let r = |e: &Engine, i| route_one("tcp://win:2376", Some("1809"), e, i);
        let bk = engine(Builder::BuildKit, true, Some(Process));
        let d = r(&bk, Is(HyperV)).unwrap();
        assert_eq!((d.route, d.via), (Route::ClassicBuilder, BuildVia::Classic));
        let d = r(&bk, Is(Process)).unwrap();
        assert_eq!(
            (d.route, d.via),
            (
                Route::DefaultIsolation,
                BuildVia::Default(Builder::BuildKit)
            )
        );
        let classic = engine(Builder::Classic, true, Some(Process));
        let d = r(&classic, Is(HyperV)).unwrap();
        assert_eq!(d.via, BuildVia::Default(Builder::Classic));
        let d = r(&bk, NodeDefault).unwrap();
        assert_eq!(d.route, Route::AsPlanned);
        let e = r(&engine(Builder::BuildKit, false, Some(Process)), Is(HyperV)).unwrap_err();
        let msg = e.to_string();
        assert_eq!(crate::error::code(&e), 2);
        for want in [
            "tcp://win:2376",
            "Docker 29.1.0",
            "BuildKit",
            "1809",
            "isolation=hyperv",
        ] {
            assert!(msg.contains(want), "{want}: {msg}");
        }
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
