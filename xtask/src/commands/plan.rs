//! `cargo xtask plan TARGET` (and `--dry-run` of the running commands): the plan as bash
//! lines or JSON on stdout, what `lint` finds on stderr (with --dry-run an error refuses:
//! exit 2, after the plan). `--graph`: which images are built from which, in build order,
//! as text, Mermaid or DOT. No docker call, no node.

use super::Planning;
use crate::depends;
use crate::plan::graph;

/// `plan --graph`'s formats.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum GraphFormat {
    Text,
    Mermaid,
    Dot,
}

/// What plan is handed: the target's planning groups, JSON or not, and the graph instead.
#[derive(Debug, Clone)]
pub struct Input {
    pub planning: Planning,
    pub json: bool,
    pub graph: Option<GraphFormat>,
}

pub fn run(input: Input) -> anyhow::Result<()> {
    let Input {
        planning,
        json,
        graph,
    } = input;
    if let Some(format) = graph {
        let (images, _) = planning.plan(Planning::as_they_are())?;
        let edges = depends::edges(&images, &planning.registry.prefix);
        let names: Vec<String> = images.iter().map(|i| i.name.clone()).collect();
        let out = match format {
            GraphFormat::Text => graph::text(&names, &edges),
            GraphFormat::Mermaid => graph::mermaid(&names, &edges),
            GraphFormat::Dot => graph::dot(&names, &edges),
        };
        return crate::error::print(&out);
    }
    let (images, plan) = planning.plan(planning.wants())?;
    super::print_plan(&images, &plan, json, false)
}
