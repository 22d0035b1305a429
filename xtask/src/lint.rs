//! `cargo xtask lint`: Dockerfile and image-folder checks. (Being written: issue 6.)

use crate::config::Config;
use crate::images::Image;

pub fn run(_cfg: &Config, _images: &[Image]) -> anyhow::Result<()> {
    anyhow::bail!("lint: not written yet")
}
