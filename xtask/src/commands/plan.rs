//! `cargo xtask plan TARGET` (and `--dry-run` of the running commands): the plan as bash
//! lines or JSON on stdout, what `lint` finds as warnings on stderr. No docker call, no node.

use crate::config::{Config, Needs, Opts};
use crate::images::{self, Image, Wants};
use crate::plan::{self, Plan, Target};

pub fn run(opts: Opts, target: &str, graph: Option<GraphFormat>) -> anyhow::Result<()> {
    let target = Target::named(target)?;
    if let Some(format) = graph {
        return print_graph(&opts, &target, format);
    }
    let cfg = Config::load(&opts, Needs { node: false })?;
    let wants = Wants {
        windows: target.builds(),
        cache: target.caches(),
    };
    let images = images::select(&cfg, target.image(), wants)?;
    let plan = super::checked_plan(&cfg, &images, &target)?;
    print(&cfg, &images, &plan)
}

/// `plan --graph`: which images are built from which, in build order.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum GraphFormat {
    Text,
    Mermaid,
    Dot,
}

fn print_graph(opts: &Opts, target: &Target, format: GraphFormat) -> anyhow::Result<()> {
    let cfg = Config::load(opts, Needs { node: false })?;
    let images = super::images_as_they_are(&cfg, target.image())?;
    let edges = super::graph::edges(&images, &cfg.registry);
    let names: Vec<String> = images.iter().map(|i| i.name.clone()).collect();
    let out = match format {
        GraphFormat::Text => plan::graph::text(&names, &edges),
        GraphFormat::Mermaid => plan::graph::mermaid(&names, &edges),
        GraphFormat::Dot => plan::graph::dot(&names, &edges),
    };
    crate::error::print(&out)
}

/// Prints a plan: stdout stays the pure plan, findings go to stderr.
pub fn print(cfg: &Config, images: &[Image], plan: &Plan) -> anyhow::Result<()> {
    for warning in super::lint::warnings_for(images) {
        eprintln!("warning: {warning}");
    }
    if cfg.json {
        let json = serde_json::to_string_pretty(&plan::render_json(plan))?;
        crate::error::print(&format!("{json}\n"))?;
    } else {
        crate::error::print(&plan::render_text(plan))?;
    }
    Ok(())
}
