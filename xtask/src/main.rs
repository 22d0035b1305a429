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

use crate::cli::{Cmd, Parsed};
use crate::plan::Target;

fn main() -> ExitCode {
    let cmd = match cli::parse() {
        Ok(Parsed::Run(cmd)) => cmd,
        Ok(Parsed::Done) => return ExitCode::SUCCESS,
        Err(e) => return error::exit(Err(e)),
    };
    let result = match *cmd {
        Cmd::Build(r) => r
            .opts()
            .and_then(|o| commands::build::run(o, Target::Build)),
        Cmd::Push(r) => r.opts().and_then(|o| commands::build::run(o, Target::Push)),
        Cmd::PushAsLinux(r) => r
            .opts()
            .and_then(|o| commands::build::run(o, Target::PushAsLinux)),
        Cmd::SubBuild(s) => s
            .opts()
            .and_then(|(i, o)| commands::build::run(o, Target::SubBuild(i))),
        Cmd::SubPush(s) => s
            .opts()
            .and_then(|(i, o)| commands::build::run(o, Target::SubPush(i))),
        Cmd::SubRepushAsLinux(s) => s
            .opts()
            .and_then(|(i, o)| commands::build::run(o, Target::SubRepushAsLinux(i))),
        Cmd::Plan(p) => {
            let graph = p
                .graph_format
                .or(p.graph.then_some(commands::plan::GraphFormat::Text));
            let (target, opts) = p.opts();
            commands::plan::run(opts, &target, graph)
        }
        Cmd::Verify(v) => {
            let against = v.against.clone();
            let (target, opts) = v.opts();
            commands::verify::run(opts, target.as_deref(), against.as_deref())
        }
        Cmd::Doctor(d) => {
            let (target, opts) = d.opts();
            commands::doctor::run(opts, target.as_deref())
        }
        Cmd::Lint(l) => {
            let (bases, online) = (l.bases, l.online);
            commands::lint::run(l.opts(), bases, online)
        }
        Cmd::PinBases(p) => {
            let (all, dry_run, opts) = p.opts();
            commands::pin_bases::run(opts, all, dry_run)
        }
        Cmd::Tls(t) => commands::tls::run(&t.args, t.dry_run, t.json),
        Cmd::Report(r) => commands::report::run(&r.report, r.out.as_deref()),
        Cmd::Promotion(p) => commands::promotion::run(&p.report),
        Cmd::Completions { shell } => cli::completions(shell),
    };
    error::exit(result)
}
