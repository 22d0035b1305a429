//! cargo xtask: builds Kubernetes' Windows helper images on a remote Windows Docker node and
//! re-pushes them as Linux cache images with buildx. main only dispatches, one arm per
//! command, each the same shape: the command's typed input, then its `run`. ARCHITECTURE.md
//! maps the layers (config → images → plan → preflight → execute).

mod certs;
mod cli;
mod commands;
mod config;
mod depends;
mod docker;
mod dockerfile;
mod error;
mod exec;
mod files;
mod freshness;
mod images;
mod lint;
mod plan;
mod preflight;
mod reference;
// The tests' one temp-dir helper, shared with the integration tests.
#[cfg(test)]
#[path = "../tests/it/support/tempdir.rs"]
mod tempdir;
mod unchanged;
mod windows;

use std::process::ExitCode;

use crate::cli::{Cmd, Parsed};
use crate::commands::{
    build, doctor, lint as lint_cmd, pin_bases, plan as plan_cmd, promotion, report, tls, verify,
};
use crate::plan::Target;

fn main() -> ExitCode {
    let cmd = match cli::parse() {
        Ok(Parsed::Run(cmd)) => cmd,
        Ok(Parsed::Done) => return ExitCode::SUCCESS,
        Err(e) => return error::exit(Err(e)),
    };
    let result = match *cmd {
        Cmd::Build(a) => a.input(Target::Build).and_then(build::run),
        Cmd::Push(a) => a.input(Target::Push).and_then(build::run),
        Cmd::PushAsLinux(a) => a.input(Target::PushAsLinux).and_then(build::run),
        Cmd::SubBuild(a) => a.input(Target::SubBuild).and_then(build::run),
        Cmd::SubPush(a) => a.input(Target::SubPush).and_then(build::run),
        Cmd::SubRepushAsLinux(a) => a.input(Target::SubRepushAsLinux).and_then(build::run),
        Cmd::Plan(a) => a.input().and_then(plan_cmd::run),
        Cmd::Verify(a) => a.input().and_then(verify::run),
        Cmd::Doctor(a) => a.input().and_then(doctor::run),
        Cmd::Lint(a) => a.input().and_then(lint_cmd::run),
        Cmd::Tls(a) => a.input().and_then(tls::run),
        Cmd::Report(a) => a.input().and_then(report::run),
        Cmd::Promotion(a) => a.input().and_then(promotion::run),
        Cmd::PinBases(a) => a.input().and_then(pin_bases::run),
        Cmd::Completions { shell } => cli::completions(shell),
    };
    error::exit(result)
}
