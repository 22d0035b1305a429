//! Commands: one module per `cargo xtask` command, each a `run` that main calls with the typed
//! groups the command declared (cli/args.rs resolves them). They wire the layers below
//! (config → images → plan → preflight → exec) and own only what is theirs to print or check;
//! commands never import each other. Shared here: images and plan for a target.

pub mod build;
pub mod doctor;
pub mod lint;
pub mod pin_bases;
pub mod plan;
pub mod promotion;
pub mod report;
pub mod tls;
pub mod verify;

use crate::config::{Nodes, Registry, Releases, Selection};
use crate::depends;
use crate::images::{self, Image, Wants};
use crate::plan::{graph, Plan, Setup, Target};

/// What a target is planned from: the typed groups every planning command declares.
#[derive(Debug, Clone)]
pub struct Planning {
    pub target: Target,
    pub selection: Selection,
    pub registry: Registry,
    pub releases: Releases,
    /// The nodes (a command that declares none plans with `Nodes::unset`: no URL, no certs).
    pub nodes: Nodes,
    pub skip_unchanged: bool,
}

impl Planning {
    /// The selected images as the target needs them (`wants`), and the plan, after checking
    /// every tag it pushes against docker's limits (a tag too long for docker is bad input
    /// before any step runs, not a failure after the builds), in the order the images'
    /// bases give (`depends`, `plan::graph`).
    pub fn plan(&self, wants: Wants) -> anyhow::Result<(Vec<Image>, Plan)> {
        let names = self.releases.names();
        let cx = images::Context {
            registry: &self.registry.prefix,
            os_versions: &names,
        };
        let images = images::select(&self.selection, cx, self.target.image(), wants)?;
        let setup = Setup::new(
            &self.registry.prefix,
            &self.releases,
            &self.nodes,
            self.skip_unchanged,
        );
        let mut plan = crate::plan::plan(&setup, &images, &self.target);
        for step in &plan.steps {
            if let Some(img) = images.iter().find(|i| i.name == step.image) {
                images::check_tag(img, &step.tag)?;
            }
        }
        // Images built from other images of IMAGES_DIR wait for them: a cycle is bad input,
        // since no run could start it; with no edge the plan stays exactly as it was.
        let edges = depends::edges(&images, &self.registry.prefix);
        if !edges.is_empty() {
            let names: Vec<String> = images.iter().map(|i| i.name.clone()).collect();
            if let Err(cycle) = graph::order(&names, &edges) {
                return Err(crate::error::BadInput::new(
                    "IMAGES_DIR",
                    self.selection.dir.display().to_string(),
                    format!(
                        "these images are built from each other in a cycle: {}",
                        cycle.join(", ")
                    ),
                    "see `cargo xtask plan --graph`: each image's BASEIMAGE and FROM lines name its bases",
                ));
            }
            graph::order_plan(&mut plan, &edges);
        }
        Ok((images, plan))
    }

    /// The files a run of the target reads: Dockerfile_windows for node builds, Dockerfile
    /// for cache builds.
    pub fn wants(&self) -> Wants {
        Wants {
            windows: self.target.builds(),
            cache: self.target.caches(),
        }
    }

    /// For commands that report a missing file as a finding instead of refusing to start.
    pub fn as_they_are() -> Wants {
        Wants {
            windows: false,
            cache: false,
        }
    }
}

/// Prints a plan: stdout stays the pure plan, lint's findings go to stderr, an error as an
/// error. The plan is printed even when lint finds one; then `refuse` (--dry-run, which
/// answers for the run it shows) makes the error the result, exit 2 as the run's; `plan`, a
/// view of the tree as it is, says the run would refuse and exits 0.
pub fn print_plan(images: &[Image], plan: &Plan, json: bool, refuse: bool) -> anyhow::Result<()> {
    let (findings, refusal) = crate::lint::findings_for(images);
    for line in findings {
        crate::error::say(&line);
    }
    crate::plan::print(plan, json)?;
    match refusal {
        Some(e) if refuse => Err(e),
        Some(_) => {
            crate::error::say(
                "note: a run of this plan is refused (exit 2) while lint finds an error",
            );
            Ok(())
        }
        None => Ok(()),
    }
}
