//! Plan: a pure function `Setup × [Image] × Target → Plan` (`build::plan`). A plan is the
//! ordered list of steps a target runs, each carrying data — its tag, node, build inputs,
//! the steps it waits for — from which its docker argv is rendered. No I/O happens here;
//! tests snapshot it and `plan`/`--dry-run`/`--json` print it.

mod build;
pub mod graph;
mod isolation;
mod lists;
mod render;
mod tags;
mod target;

use std::path::PathBuf;

use crate::config::{Node, Nodes, Releases};
use crate::docker;
use crate::windows::Builder;
use crate::windows::Isolation;

pub use build::{node_build_args, plan};
pub use isolation::{
    resolve_isolation, route_builders, route_one, Decided, Engine, NodeSays, Routed,
};
pub use lists::{ListEntry, ListSpec};
pub use render::print;
pub use tags::Tags;
pub use target::Target;

/// What a plan is made from besides the images and the target: the registry prefix, the
/// releases (none: compat mode), the nodes that build for them, and whether builds carry
/// skip-unchanged's inputs label.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    pub registry: &'a str,
    /// The release names, in order (empty in compat mode).
    pub os_versions: Vec<String>,
    pub nodes: &'a Nodes,
    pub skip_unchanged: bool,
}

impl<'a> Setup<'a> {
    pub fn new(
        registry: &'a str,
        releases: &Releases,
        nodes: &'a Nodes,
        skip_unchanged: bool,
    ) -> Setup<'a> {
        Setup {
            registry,
            os_versions: releases.names(),
            nodes,
            skip_unchanged,
        }
    }

    pub fn is_matrix(&self) -> bool {
        !self.os_versions.is_empty()
    }
}

/// The label holding skip-unchanged's inputs digest.
pub const INPUTS_LABEL: &str = "xtask.inputs";

/// Where a step runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeRef {
    /// This machine: buildx and docker manifest.
    Local,
    /// The Windows node for an OS version (None: compat mode's single node).
    Remote(Option<String>),
}

impl NodeRef {
    pub fn label(&self) -> String {
        match self {
            NodeRef::Local => "local".into(),
            NodeRef::Remote(None) => "node".into(),
            NodeRef::Remote(Some(os)) => format!("node {os}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Build,
    Push,
    Cache,
    List,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Build => "build",
            Kind::Push => "push",
            Kind::Cache => "cache",
            Kind::List => "manifest-list",
        }
    }
}

/// What a step does, as data; `Step::commands` renders the docker argv from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `docker build` on a Windows node.
    Build {
        node: Node,
        dockerfile: PathBuf,
        context: String,
        build_args: Vec<(String, String)>,
        isolation: BuildIsolation,
        /// The builder it goes through, once the node has said what it is.
        builder: BuildVia,
    },
    /// `docker push` from a Windows node.
    Push { node: Node },
    /// The Linux cache image, built by the local buildx straight into the registry.
    Cache {
        context: String,
        build_args: Vec<(String, String)>,
    },
    /// A copy of another image in the same registry, as it is (its index, attestations and
    /// labels included): the plain `V-linux-cache` tag of matrix mode is the first release's
    /// cache image, so it is copied, not built a second time.
    Copy { from: String },
    /// A manifest list, resolved at run time.
    List(ListSpec),
}

/// How a node build is isolated, as data: the `--isolation` flag it gets, or why none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildIsolation {
    /// No flag: compat mode (upstream's argv), or a Linux stand-in node (no Windows isolation).
    NodeDefault,
    /// ISOLATION=auto in matrix mode: decided from the node's Windows build before the run
    /// (preflight); a plan shows a placeholder.
    FromNode,
    /// `--isolation=process|hyperv`.
    Is(Isolation),
}

impl BuildIsolation {
    /// For the report: "process", "hyperv", or "node default" (no flag sent).
    pub fn word(self) -> Option<String> {
        match self {
            BuildIsolation::NodeDefault => Some("node default".into()),
            BuildIsolation::FromNode => None,
            BuildIsolation::Is(i) => Some(i.word().into()),
        }
    }

    /// The value of docker's `--isolation` flag (None: no flag).
    fn flag_value(self) -> Option<&'static str> {
        match self {
            BuildIsolation::NodeDefault => None,
            BuildIsolation::FromNode => Some(ISOLATION_PLACEHOLDER),
            BuildIsolation::Is(i) => Some(i.word()),
        }
    }
}

/// Which builder a node build goes through, as data (`plan::route_builders` decides it from
/// what the node's engine said).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildVia {
    /// Not known yet: the node was not asked (a plan, a dry run without the node).
    Unknown,
    /// The builder the docker CLI picks for this node by itself.
    Default(Builder),
    /// The engine's classic builder, chosen for this build (`DOCKER_BUILDKIT=0` in the
    /// child's environment) because BuildKit would drop the isolation it needs.
    Classic,
}

impl BuildVia {
    /// For the report and doctor: "classic", "BuildKit", "classic (DOCKER_BUILDKIT=0)".
    pub fn word(self) -> Option<String> {
        match self {
            BuildVia::Unknown => None,
            BuildVia::Default(b) => Some(b.word().to_string()),
            BuildVia::Classic => {
                let (k, v) = docker::CLASSIC_BUILDER_ENV;
                Some(format!("classic ({k}={v})"))
            }
        }
    }
}

/// What a plan shows where the isolation is decided at run time.
pub const ISOLATION_PLACEHOLDER: &str = "<auto: from node build>";

/// Skip-unchanged's label on a built image: the inputs digest of a Windows image (the cache
/// image carries the digest of the Windows image it copies from; a cache-only image, built
/// from no Windows image of ours, its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// The tag whose inputs are meant: the Windows image, or the cache-only image itself.
    pub of: String,
    /// Resolved before the run; None in plans, which show a placeholder.
    pub digest: Option<String>,
}

impl Inputs {
    /// `xtask.inputs=<digest>` (or its placeholder), as `--label` takes it.
    pub fn label(&self) -> String {
        match &self.digest {
            Some(d) => format!("{INPUTS_LABEL}={d}"),
            None => format!("{INPUTS_LABEL}=<inputs digest of {}>", self.of),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based position in the plan.
    pub id: usize,
    /// Human label: "build R/I:V".
    pub what: String,
    pub image: String,
    pub os: Option<String>,
    pub node: NodeRef,
    /// The tag the step writes: the image a build or push makes, the cache image, or the
    /// list. What `verify` checks and skip-unchanged compares.
    pub tag: String,
    /// The inputs label the step stores (skip-unchanged runs only).
    pub inputs: Option<Inputs>,
    pub action: Action,
    /// Ids of the steps that must succeed before this one starts.
    pub after: Vec<usize>,
    /// Why the step will not run (skip-unchanged), set before execution.
    pub skip: Option<String>,
}

impl Step {
    pub fn kind(&self) -> Kind {
        match self.action {
            Action::Build { .. } => Kind::Build,
            Action::Push { .. } => Kind::Push,
            Action::Cache { .. } | Action::Copy { .. } => Kind::Cache,
            Action::List(_) => Kind::List,
        }
    }

    /// The commands the step runs (several for a manifest list), rendered from its data.
    pub fn commands(&self) -> Vec<Vec<String>> {
        let label = self.inputs.as_ref().map(Inputs::label);
        match &self.action {
            Action::Build {
                node,
                dockerfile,
                context,
                build_args,
                isolation,
                ..
            } => vec![docker::node_build(
                node,
                &docker::NodeBuild {
                    tag: &self.tag,
                    dockerfile,
                    context,
                    build_args,
                    isolation: isolation.flag_value(),
                    label,
                },
            )],
            Action::Push { node } => vec![docker::node_push(node, &self.tag)],
            Action::Cache {
                context,
                build_args,
            } => vec![docker::cache_build(&self.tag, build_args, label, context)],
            Action::Copy { from } => vec![docker::imagetools_copy(&self.tag, from)],
            Action::List(spec) => spec.commands(),
        }
    }

    /// The environment the step's commands run with on top of xtask's own: a node build
    /// routed to the classic builder gets `DOCKER_BUILDKIT=0`. Shown by `plan` and
    /// `--dry-run` (a `K=V` prefix, a JSON `env` field), passed to the child by the executor.
    pub fn env(&self) -> Vec<(String, String)> {
        match &self.action {
            Action::Build {
                builder: BuildVia::Classic,
                ..
            } => {
                let (k, v) = docker::CLASSIC_BUILDER_ENV;
                vec![(k.to_string(), v.to_string())]
            }
            _ => Vec::new(),
        }
    }

    /// The node a build or push runs on (None: a local step).
    pub fn remote_node(&self) -> Option<&Node> {
        match &self.action {
            Action::Build { node, .. } | Action::Push { node } => Some(node),
            _ => None,
        }
    }

    /// A hint for the failure message of this step, when its kind of failure has a known
    /// cause: a build under Hyper-V isolation needs the Hyper-V role on the node (and nested
    /// virtualisation when the node is itself a VM).
    pub fn failure_hint(&self) -> Option<String> {
        let Action::Build {
            node,
            isolation: BuildIsolation::Is(Isolation::HyperV),
            ..
        } = &self.action
        else {
            return None;
        };
        let release = self.os.as_deref().unwrap_or("1809 (compat mode)");
        Some(format!(
            "this build ran with Hyper-V isolation ({release} on node {}): if the error speaks of a virtual machine, a compute system or HCS, the node needs the Hyper-V role (Install-WindowsFeature -Name Hyper-V,Containers -IncludeManagementTools, then a restart) and, when the node is itself a VM, nested virtualisation; `cargo xtask doctor` shows each release's isolation (docs/isolation.md)",
            node.address()
        ))
    }

    /// `alpha` or `alpha, node 1809`: the parenthesised part of progress lines.
    pub fn context(&self) -> String {
        match &self.os {
            Some(_) => format!("{}, {}", self.image, self.node.label()),
            None => self.image.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub target: Target,
    pub matrix: bool,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether a step runs on a Windows node for `os` (None: compat mode's node). A run of
    /// only cache-only images talks to no node, whatever its target.
    pub fn uses_node(&self, os: Option<&str>) -> bool {
        self.steps
            .iter()
            .any(|s| s.node == NodeRef::Remote(os.map(String::from)))
    }

    /// Whether any step runs on a Windows node.
    pub fn uses_nodes(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.node, NodeRef::Remote(_)))
    }
}
