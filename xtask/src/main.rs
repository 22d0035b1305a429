//! cargo xtask: builds Kubernetes' Windows helper images on a remote Windows Docker node and
//! re-pushes them as Linux cache images with buildx. main only parses and dispatches; see
//! DESIGN.md for the shape (config → images → plan → execute).

mod config;
mod docker;
mod dockerfile;
mod doctor;
mod exec;
mod exit;
mod images;
mod lint;
mod manifest;
mod names;
mod plan;
mod run;
mod sha256;
mod signals;
mod tls;
mod unchanged;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Needs, Opts};
use crate::exit::BadInput;
use crate::plan::Target;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build Windows helper images on a remote Windows node and re-push them as Linux cache images",
    after_help = "Every variable is a flag and an environment variable of the same name (make forwards its variables). See README.md."
)]
struct Cli {
    #[command(flatten)]
    opts: Opts,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<BadInput>().is_some() {
                eprintln!("xtask: bad input: {e}");
            } else {
                eprintln!("xtask: {e:#}");
            }
            ExitCode::from(exit::code(&e))
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let Some(cmd) = cli.cmd else {
        use clap::CommandFactory;
        Cli::command().print_help()?;
        return Ok(());
    };
    let opts = cli.opts;
    let (target, images, print_only) = match cmd {
        Cmd::Build { images } => (Target::Build, images, false),
        Cmd::Push { images } => (Target::Push, images, false),
        Cmd::PushAsLinux { images } => (Target::PushAsLinux, images, false),
        Cmd::SubBuild { image } => (Target::SubBuild(image), vec![], false),
        Cmd::SubPush { image } => (Target::SubPush(image), vec![], false),
        Cmd::SubRepushAsLinux { image } => (Target::SubRepushAsLinux(image), vec![], false),
        Cmd::Plan { target, images } => (parse_target(&target)?, images, true),
        Cmd::Verify { target, images } => {
            let target = parse_target(target.as_deref().unwrap_or("push-as-linux"))?;
            let (_, plan) = run::plan_for(&with_images(opts, images), &target)?;
            return verify::run(&plan);
        }
        Cmd::Doctor { target, images } => {
            let target = parse_target(target.as_deref().unwrap_or("push-as-linux"))?;
            let (cfg, plan) = run::plan_for(&with_images(opts, images), &target)?;
            return doctor::run(&cfg, &plan);
        }
        Cmd::Tls(args) => return tls::run(&args),
        Cmd::Lint { images } => {
            let opts = with_images(opts, images);
            let cfg = Config::load(&opts, Needs { node: false })?;
            return lint::run(&cfg, &run::images_as_they_are(&cfg, None)?);
        }
        Cmd::Other(words) => {
            let name = words.first().cloned().unwrap_or_default();
            match Target::parse(&name).filter(|t| t.image().is_some()) {
                Some(t) if words.len() == 1 => (t, vec![], false),
                _ => return Err(unknown_command(&name)),
            }
        }
    };
    let opts = with_images(opts, images);
    let print_only = print_only || opts.dry_run;
    run::target(&opts, &target, print_only)
}

/// Positional image names stand for IMAGES.
fn with_images(mut opts: Opts, images: Vec<String>) -> Opts {
    if !images.is_empty() {
        opts.images = Some(images.join(" "));
    }
    opts
}

fn parse_target(name: &str) -> anyhow::Result<Target> {
    Target::parse(name).ok_or_else(|| {
        BadInput::new(
            "TARGET",
            name,
            "unknown target",
            "use build, push, push-as-linux (or all-build, all-push, all-push-as-linux), sub-build-IMG, sub-push-IMG, sub-repush-as-linux-IMG",
        )
    })
}

fn unknown_command(name: &str) -> anyhow::Error {
    BadInput::new(
        "command",
        name,
        "unknown command",
        "run `cargo xtask` for the list of commands",
    )
}

/// The repository root: xtask lives in `<root>/xtask`.
pub fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}
