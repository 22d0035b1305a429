//! The command line: clap's definition of `cargo xtask` (the shared variables live on
//! `config::Opts`), and the small conversions from what was typed to what commands take —
//! target names, positional image names. Validation of values happens in config.

use clap::{Parser, Subcommand};

use crate::commands::tls;
use crate::config::Opts;
use crate::error::BadInput;
use crate::plan::Target;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build Windows helper images on a remote Windows node and re-push them as Linux cache images",
    after_help = "Every variable is a flag and an environment variable of the same name (make forwards its variables). See README.md."
)]
pub struct Cli {
    #[command(flatten)]
    pub opts: Opts,
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Build every image on the Windows node (make all-build).
    #[command(visible_alias = "all-build")]
    Build { images: Vec<String> },
    /// Build, then push every image from the node (make all-push).
    #[command(visible_alias = "all-push")]
    Push { images: Vec<String> },
    /// Build, push, then push the Linux cache images with buildx (make all-push-as-linux).
    #[command(visible_alias = "all-push-as-linux")]
    PushAsLinux { images: Vec<String> },
    /// Only build one image on the node (make sub-build-IMG).
    SubBuild { image: String },
    /// Only push one image from the node (make sub-push-IMG).
    SubPush { image: String },
    /// Only build and push one Linux cache image (make sub-repush-as-linux-IMG).
    SubRepushAsLinux { image: String },
    /// Print the commands TARGET would run (no docker call, no node needed); --json for machines.
    Plan {
        /// build | push | push-as-linux | all-* | sub-build-IMG | sub-push-IMG | sub-repush-as-linux-IMG
        target: String,
        images: Vec<String>,
    },
    /// Check that every tag TARGET pushes is in the registry with the right platform.
    Verify {
        /// The target whose tags to check [default: push-as-linux].
        target: Option<String>,
        images: Vec<String>,
    },
    /// Check everything TARGET needs (CLI, buildx, certs, nodes, registry) before a build.
    Doctor {
        /// The target to check for [default: push-as-linux].
        target: Option<String>,
        images: Vec<String>,
    },
    /// Make a CA, a server cert for a Windows node and a client cert (replaces dockertls-windows).
    Tls(tls::Args),
    /// Check the image folders: Dockerfiles (no RUN/WORKDIR in Windows stages), VERSION, BASEIMAGE.
    Lint { images: Vec<String> },
    /// Make targets `sub-build-IMG`, `sub-push-IMG`, `sub-repush-as-linux-IMG` as one word.
    #[command(external_subcommand)]
    Other(Vec<String>),
}

/// `cargo xtask` alone: the help, exit 0.
pub fn print_help() -> anyhow::Result<()> {
    use clap::CommandFactory;
    Cli::command().print_help()?;
    Ok(())
}

/// Positional image names stand for IMAGES.
pub fn with_images(mut opts: Opts, images: Vec<String>) -> Opts {
    if !images.is_empty() {
        opts.images = Some(images.join(" "));
    }
    opts
}

/// A one-word make target (`sub-build-IMG`, …) given as the command.
pub fn make_target(words: &[String]) -> anyhow::Result<Target> {
    let name = words.first().cloned().unwrap_or_default();
    match Target::parse(&name).filter(|t| t.image().is_some()) {
        Some(t) if words.len() == 1 => Ok(t),
        _ => Err(BadInput::new(
            "command",
            name,
            "unknown command",
            "run `cargo xtask` for the list of commands",
        )),
    }
}
