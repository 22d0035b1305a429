//! `cargo xtask plan TARGET` (and `--dry-run` of the running commands): the plan as bash
//! lines or JSON on stdout, what `lint` finds as warnings on stderr. No docker call, no node.

use super::Planning;

pub fn run(planning: Planning, json: bool) -> anyhow::Result<()> {
    let (images, plan) = planning.plan(planning.wants())?;
    super::print_lint_warnings(&images);
    crate::plan::print(&plan, json)
}
