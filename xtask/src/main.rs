//! cargo xtask: builds Kubernetes' Windows helper images on a remote Windows Docker node and
//! re-pushes them as Linux cache images with buildx. main only dispatches, one line per
//! command; ARCHITECTURE.md maps the layers (config → images → plan → preflight → execute).

mod cli;
mod commands;
mod config;
mod docker;
mod dockerfile;
mod error;
mod exec;
mod images;
mod plan;
mod preflight;
mod unchanged;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{with_images, Cli, Cmd};
use crate::plan::Target;

fn main() -> ExitCode {
    let Cli { opts, cmd } = Cli::parse();
    let result = match cmd {
        None => cli::print_help(),
        Some(Cmd::Build { images }) => {
            commands::build::run(with_images(opts, images), Target::Build)
        }
        Some(Cmd::Push { images }) => commands::build::run(with_images(opts, images), Target::Push),
        Some(Cmd::PushAsLinux { images }) => {
            commands::build::run(with_images(opts, images), Target::PushAsLinux)
        }
        Some(Cmd::SubBuild { image }) => commands::build::run(opts, Target::SubBuild(image)),
        Some(Cmd::SubPush { image }) => commands::build::run(opts, Target::SubPush(image)),
        Some(Cmd::SubRepushAsLinux { image }) => {
            commands::build::run(opts, Target::SubRepushAsLinux(image))
        }
        Some(Cmd::Other(words)) => {
            cli::make_target(&words).and_then(|t| commands::build::run(opts, t))
        }
        Some(Cmd::Plan { target, images }) => {
            commands::plan::run(with_images(opts, images), &target)
        }
        Some(Cmd::Verify { target, images }) => {
            commands::verify::run(with_images(opts, images), target.as_deref())
        }
        Some(Cmd::Doctor { target, images }) => {
            commands::doctor::run(with_images(opts, images), target.as_deref())
        }
        Some(Cmd::Lint { images }) => commands::lint::run(with_images(opts, images)),
        Some(Cmd::Tls(args)) => commands::tls::run(&args, opts.dry_run, opts.json),
    };
    error::exit(result)
}
