//! Config: the variables, one group per file, each group defined for clap (flag and
//! environment variable of the same name: flag > env > default; make forwards its variables
//! as env) next to the typed value it validates itself into (`resolve`). A command declares
//! the groups that mean something to it (cli/args.rs) and is handed only their typed values.
//! A value that is wrong becomes a `BadInput` (exit 2) naming it, before anything runs.
//!
//! Groups: `registry` (REGISTRY, REGISTRY_TIMEOUT), `selection` (IMAGES_DIR, IMAGES),
//! `releases` (OS_VERSIONS), `nodes` (REMOTE_DOCKER_URL[_<os>], --node, DOCKER_CERT_PATH,
//! DOCKER_CERT_BASE_PATH, ISOLATION, NODE_TIMEOUT), `run` (JOBS, NODE_JOBS, LOCAL_JOBS,
//! RETRIES, STEP_IDLE_*, SKIP_UNCHANGED), `output` (REPORT, LOG_DIR, QUIET), `switches`
//! (--dry-run, --json).

mod make;
mod nodes;
mod output;
mod parse;
mod registry;
mod releases;
mod run;
mod selection;
mod switches;
mod unused;

pub use crate::files::project_root;
pub use nodes::{check_certs, IsolationChoice, Node, NodeArgs, Nodes};
pub use output::{Output, OutputArgs};
pub use registry::{Registry, RegistryArgs, DEFAULT_REGISTRY};
pub use releases::{OsArgs, Releases};
pub use run::{RunArgs, RunSettings, SkipArg};
pub use selection::{ImagesArg, ImagesDirArg, Selection};
pub use switches::{DryRunArgs, JsonArg};

/// The environment as config reads it, for the variables that have no clap flag
/// (REMOTE_DOCKER_URL_<os>, SKIP_UNCHANGED, QUIET, HOME): every variable that holds UTF-8
/// (cli/ refuses the ones it reads that do not, naming them). Tests make one from pairs.
#[derive(Debug, Clone, Default)]
pub struct Env(pub Vec<(String, String)>);

impl Env {
    pub fn process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What the groups noticed but did not refuse (a variable set that means nothing here): said
/// once, on stderr, when a command's input is complete.
#[derive(Debug, Default)]
pub struct Warnings(pub Vec<String>);

impl Warnings {
    pub fn print(self) {
        for w in self.0 {
            crate::error::say(&format!("xtask: warning: {w}"));
        }
    }
}
