//! `cargo xtask plan TARGET` (and `--dry-run` of the running commands): the plan as bash
//! lines or JSON on stdout, what `lint` finds on stderr (with --dry-run an error refuses:
//! exit 2, after the plan). No docker call, no node.

use super::Inspect;

pub fn run(Inspect { planning, json }: Inspect) -> anyhow::Result<()> {
    let (images, plan) = planning.plan(planning.wants())?;
    super::print_plan(&images, &plan, json, false)
}
