//! Isolation: Microsoft's host × container compatibility table (what ISOLATION=auto
//! follows). Pure: the node's Windows build is read elsewhere (preflight) and handed in.
//!
//! The table (Windows builds: 1809 = 17763, ltsc2022 = 20348, ltsc2025 = 26100):
//! - host build == release build: process isolation;
//! - a Windows Server 2025 host (26100) runs ltsc2022 (20348) containers with process isolation;
//! - any other release older than the host: Hyper-V isolation only;
//! - a release newer than the host does not run at all.
//!
//! And which builder keeps a build's isolation (`route`): the docker CLI picks the builder
//! from the daemon's `/_ping` (`Builder-Version: 2` is BuildKit) unless `DOCKER_BUILDKIT`
//! says otherwise (docker/cli `cli/command/cli.go`, `BuildKitEnabled`). Only the classic
//! `POST /build` carries `isolation=…`; through BuildKit the CLI's `--isolation` is dropped
//! with a warning ("isolation flag is deprecated with BuildKit", docker/buildx
//! `commands/build.go`) and Docker's embedded BuildKit runs every build container with the
//! daemon's default isolation (moby/moby#50942, `exec-opts: ["isolation=hyperv"]`).

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

/// Which builder the docker CLI uses against a node by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    /// The classic `POST /build`: honours `--isolation`.
    Classic,
    /// BuildKit (buildx on the daemon's embedded BuildKit): the daemon's default isolation.
    BuildKit,
}

impl Builder {
    pub fn word(self) -> &'static str {
        match self {
            Builder::Classic => "classic",
            Builder::BuildKit => "BuildKit",
        }
    }
}

/// What the tool does with one node build, given its engine and the isolation it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Run it as planned: no isolation is asked for, or the node's default builder is the
    /// classic one, which sends `--isolation` with the build.
    AsPlanned,
    /// BuildKit drops `--isolation`, but the daemon's default isolation is the one needed.
    DefaultIsolation,
    /// BuildKit would drop the isolation: this build goes through the engine's classic
    /// builder (`DOCKER_BUILDKIT=0` in the child's environment), which honours it.
    ClassicBuilder,
    /// Nothing on this engine honours it: refused before any build.
    Refuse,
}

/// The decision table: engine (default `builder`, whether a `classic` builder is still
/// there, its `default` isolation when known) × the isolation a build `needs` (None: none is
/// asked for — compat mode's upstream argv, a Linux stand-in) → what to do.
///
/// Evidence: the classic builder is the one path that carries a per-build isolation (the
/// `isolation` query of `POST /build`); the daemon serves it whatever `Builder-Version` it
/// advertises — the header is only the *suggested* builder (docker/cli#5001, #5178), and
/// moby/moby#53625 (BuildKit by default on Windows with the containerd store) keeps honouring
/// an explicit choice. The classic builder works with the containerd image store on Windows:
/// moby's Windows integration suite builds its images with it on that store (moby/moby#46539).
/// BuildKit inside dockerd takes the daemon's default isolation for every build container
/// (moby/moby#50942); standalone buildkitd likewise only for the whole daemon
/// (moby/buildkit#7067), never per build.
pub fn route(
    builder: Builder,
    classic: bool,
    default: Option<Isolation>,
    needs: Option<Isolation>,
) -> Route {
    let Some(needs) = needs else {
        return Route::AsPlanned;
    };
    match builder {
        Builder::Classic => Route::AsPlanned,
        Builder::BuildKit if default == Some(needs) => Route::DefaultIsolation,
        Builder::BuildKit if classic => Route::ClassicBuilder,
        Builder::BuildKit => Route::Refuse,
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

    #[test]
    fn the_builder_table() {
        use Builder::*;
        use Isolation::*;
        use Route::*;
        // (builder, classic builder there, default isolation, needed) → route
        type Row = (Builder, bool, Option<Isolation>, Option<Isolation>, Route);
        let table: &[Row] = &[
            // Nothing asked (compat mode, a stand-in): as planned on every engine.
            (Classic, true, Some(Process), None, AsPlanned),
            (BuildKit, true, Some(Process), None, AsPlanned),
            (BuildKit, false, None, None, AsPlanned),
            // The classic builder carries the flag.
            (Classic, true, Some(Process), Some(HyperV), AsPlanned),
            (Classic, true, Some(HyperV), Some(Process), AsPlanned),
            (Classic, true, None, Some(HyperV), AsPlanned),
            // BuildKit: the daemon default when it is the one needed…
            (
                BuildKit,
                true,
                Some(Process),
                Some(Process),
                DefaultIsolation,
            ),
            (BuildKit, true, Some(HyperV), Some(HyperV), DefaultIsolation),
            (
                BuildKit,
                false,
                Some(HyperV),
                Some(HyperV),
                DefaultIsolation,
            ),
            // …else the classic builder when the engine has one…
            (BuildKit, true, Some(Process), Some(HyperV), ClassicBuilder),
            (BuildKit, true, Some(HyperV), Some(Process), ClassicBuilder),
            (BuildKit, true, None, Some(HyperV), ClassicBuilder),
            // …else refused.
            (BuildKit, false, Some(Process), Some(HyperV), Refuse),
            (BuildKit, false, Some(HyperV), Some(Process), Refuse),
            (BuildKit, false, None, Some(Process), Refuse),
        ];
        for &(b, classic, default, needs, want) in table {
            assert_eq!(
                route(b, classic, default, needs),
                want,
                "{b:?} classic={classic} default={default:?} needs={needs:?}"
            );
        }
    }
}
