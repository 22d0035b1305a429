//! `cargo xtask doctor`: preflight of everything the target needs. (Being written: issue 5.)

use crate::config::Config;
use crate::plan::Plan;

pub fn run(_cfg: &Config, _plan: &Plan) -> anyhow::Result<()> {
    anyhow::bail!("doctor: not written yet")
}
