//! `cargo xtask tls`: TLS material for a Windows node (CA, server cert, client cert), in
//! place of upstream's helper container. (Being written: see issue 5.)

/// Flags of `cargo xtask tls`.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<()> {
    anyhow::bail!("tls: not written yet")
}
