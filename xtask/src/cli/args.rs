//! Each command's arguments: the option groups it declares (config/) and the typed input they
//! resolve into, each group once, in one order; the command is handed only that input.

use crate::commands::{
    build, doctor, lint, pin_bases, plan, promotion, report, tls, verify, Planning,
};
use crate::config::{
    DryRunArgs, Env, ImagesArg, ImagesDirArg, JsonArg, NodeArgs, Nodes, OsArgs, OutputArgs,
    RegistryArgs, RunArgs, Selection, SkipArg, Warnings,
};
use crate::plan::Target;

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum Shell {
    Bash,
    Zsh,
}

/// build, push, push-as-linux.
#[derive(clap::Args, Debug)]
pub struct Run {
    /// Images to handle (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub dry: DryRunArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub skip: SkipArg,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub nodes: NodeArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

/// sub-build, sub-push, sub-repush-as-linux: one image, named.
#[derive(clap::Args, Debug)]
pub struct Sub {
    /// The image (a folder of IMAGES_DIR).
    #[arg(value_name = "IMG")]
    pub image: String,
    #[command(flatten)]
    pub dry: DryRunArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub skip: SkipArg,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub nodes: NodeArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

#[derive(clap::Args, Debug)]
pub struct PlanCmd {
    /// build | push | push-as-linux | all-* | sub-build-IMG | sub-push-IMG | sub-repush-as-linux-IMG
    /// (with --graph: optional, default push-as-linux)
    #[arg(required_unless_present_any = ["graph", "graph_format"])]
    pub target: Option<String>,
    /// Print which images are built from which (FROM/BASEIMAGE), in build order, instead.
    #[arg(long)]
    pub graph: bool,
    /// The graph as text, a Mermaid flowchart or Graphviz DOT (implies --graph).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub graph_format: Option<crate::commands::plan::GraphFormat>,
    /// Images to handle (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub skip: SkipArg,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub nodes: NodeArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

/// verify: needs no node.
#[derive(clap::Args, Debug)]
pub struct VerifyCmd {
    /// The target whose tags to check [default: push-as-linux]; a first word that is not a
    /// target is an image.
    pub target: Option<String>,
    /// Images to check (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    /// Compare every tag with its promoted copy in this registry (same name, same digest,
    /// lists still lists with os.version) instead.
    #[arg(long, value_name = "REGISTRY")]
    pub against: Option<String>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

#[derive(clap::Args, Debug)]
pub struct DoctorCmd {
    /// The target to check for [default: push-as-linux]; a first word that is not a target
    /// is an image.
    pub target: Option<String>,
    /// Images the run would handle (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub nodes: NodeArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

#[derive(clap::Args, Debug)]
pub struct TlsCmd {
    #[command(flatten)]
    pub args: tls_spec::Args,
    /// List every file it would write, with its mode, and write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// tls reports as text: refused by tls itself, with a hint.
    #[arg(long, hide = true)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct LintCmd {
    /// Images to check (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    /// Also resolve each BASEIMAGE tag to its digest now and say which pushed images were
    /// built from an older base (asks the registries through docker).
    #[arg(long)]
    pub bases: bool,
    /// Also check that the PowerShell release asset and hashes.sha256 exist for VERSION
    /// (POWERSHELL_RELEASES_URL, default GitHub's releases).
    #[arg(long)]
    pub online: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
}

impl Run {
    /// The run's typed input: each group resolved once, its warnings said once.
    pub fn input(self, target: Target) -> anyhow::Result<build::Input> {
        let selection = self.select.resolve(self.dir, self.names)?;
        let groups = Groups {
            registry: self.registry,
            os: self.os,
            nodes: self.nodes,
            skip: self.skip,
        };
        run_input(target, selection, self.dry, self.run, self.output, groups)
    }
}

impl Sub {
    /// As `Run::input`, for the sub-target of the one image named.
    pub fn input(self, target: fn(String) -> Target) -> anyhow::Result<build::Input> {
        let selection = self.dir.all()?;
        let groups = Groups {
            registry: self.registry,
            os: self.os,
            nodes: self.nodes,
            skip: self.skip,
        };
        run_input(
            target(self.image),
            selection,
            self.dry,
            self.run,
            self.output,
            groups,
        )
    }
}

/// A running command's input (build, push, push-as-linux, sub-*).
fn run_input(
    target: Target,
    selection: Selection,
    dry: DryRunArgs,
    run: RunArgs,
    output: OutputArgs,
    groups: Groups,
) -> anyhow::Result<build::Input> {
    let env = Env::process();
    let mut w = Warnings::default();
    let dry = dry.resolve()?;
    let planning = groups.planning(target, selection, &env, &mut w)?;
    let input = build::Input {
        planning,
        run: run.resolve(&env)?,
        output: output.resolve(&env)?,
        dry,
    };
    w.print();
    Ok(input)
}

impl PlanCmd {
    pub fn input(self) -> anyhow::Result<plan::Input> {
        let graph = self
            .graph_format
            .or(self.graph.then_some(plan::GraphFormat::Text));
        let target = Target::named(self.target.as_deref().unwrap_or("push-as-linux"))?;
        let env = Env::process();
        let mut w = Warnings::default();
        let selection = self.select.resolve(self.dir, self.names)?;
        let groups = Groups {
            registry: self.registry,
            os: self.os,
            nodes: self.nodes,
            skip: self.skip,
        };
        let planning = groups.planning(target, selection, &env, &mut w)?;
        w.print();
        Ok(plan::Input {
            planning,
            json: self.json.json,
            graph,
        })
    }
}

impl VerifyCmd {
    /// verify's input: it declares no nodes (it only reads the registry), so its plan has
    /// none set up (`Nodes::unset`).
    pub fn input(self) -> anyhow::Result<verify::Input> {
        let (target, images) = target_or_image(self.target, self.names);
        let target = Target::named(target.as_deref().unwrap_or("push-as-linux"))?;
        let mut w = Warnings::default();
        let selection = self.select.resolve(self.dir, images)?;
        let registry = self.registry.resolve(&mut w)?;
        let releases = self.os.resolve()?;
        let nodes = Nodes::unset(&releases);
        w.print();
        let planning = Planning {
            target,
            selection,
            registry,
            releases,
            nodes,
            skip_unchanged: false,
        };
        Ok(verify::Input {
            planning,
            json: self.json.json,
            against: self.against,
        })
    }
}

impl DoctorCmd {
    pub fn input(self) -> anyhow::Result<doctor::Input> {
        let (target, images) = target_or_image(self.target, self.names);
        let target = Target::named(target.as_deref().unwrap_or("push-as-linux"))?;
        let env = Env::process();
        let mut w = Warnings::default();
        let selection = self.select.resolve(self.dir, images)?;
        let groups = Groups {
            registry: self.registry,
            os: self.os,
            nodes: self.nodes,
            skip: SkipArg::default(),
        };
        let planning = groups.planning(target, selection, &env, &mut w)?;
        w.print();
        Ok(doctor::Input {
            planning,
            json: self.json.json,
        })
    }
}

impl LintCmd {
    pub fn input(self) -> anyhow::Result<lint::Input> {
        let selection = self.select.resolve(self.dir, self.names)?;
        let mut w = Warnings::default();
        let registry = self.registry.resolve(&mut w)?;
        w.print();
        Ok(lint::Input {
            selection,
            registry,
            bases: self.bases,
            online: self.online,
            json: self.json.json,
        })
    }
}

/// report: a run report to draw.
#[derive(clap::Args, Debug)]
pub struct ReportCmd {
    /// The run report (the JSON file REPORT/--report named).
    #[arg(value_name = "RUN.json")]
    pub report: std::path::PathBuf,
    /// Where to write the page [default: RUN.json's path with .html].
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

impl ReportCmd {
    pub fn input(self) -> anyhow::Result<report::Input> {
        Ok(report::Input {
            report: self.report,
            out: self.out,
        })
    }
}

/// promotion: a run report to turn into images.yaml entries.
#[derive(clap::Args, Debug)]
pub struct PromotionCmd {
    /// The run report (the JSON file REPORT/--report named).
    #[arg(value_name = "RUN.json")]
    pub report: std::path::PathBuf,
}

impl PromotionCmd {
    pub fn input(self) -> anyhow::Result<promotion::Input> {
        Ok(promotion::Input {
            report: self.report,
        })
    }
}

/// pin-bases: BASEIMAGE pins to today's digests.
#[derive(clap::Args, Debug)]
pub struct PinCmd {
    /// Pin every BASEIMAGE line, not only those already pinned.
    #[arg(long)]
    pub all: bool,
    /// Show the changes, write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

impl PinCmd {
    pub fn input(self) -> anyhow::Result<pin_bases::Input> {
        let selection = self.dir.all()?;
        let mut w = Warnings::default();
        let registry = self.registry.resolve(&mut w)?;
        w.print();
        Ok(pin_bases::Input {
            selection,
            registry,
            all: self.all,
            dry_run: self.dry_run,
        })
    }
}

impl TlsCmd {
    pub fn input(self) -> anyhow::Result<tls::Input> {
        Ok(tls::Input {
            args: self.args,
            dry_run: self.dry_run,
            json: self.json,
        })
    }
}

/// The groups a plan is made from, as typed.
struct Groups {
    registry: RegistryArgs,
    os: OsArgs,
    nodes: NodeArgs,
    skip: SkipArg,
}

impl Groups {
    /// Each group resolved, in the order their variables are checked.
    fn planning(
        self,
        target: Target,
        selection: Selection,
        env: &Env,
        w: &mut Warnings,
    ) -> anyhow::Result<Planning> {
        let registry = self.registry.resolve(w)?;
        let releases = self.os.resolve()?;
        let skip_unchanged = self.skip.resolve(env)?;
        let nodes = self.nodes.resolve(&releases, env, w)?;
        Ok(Planning {
            target,
            selection,
            registry,
            releases,
            nodes,
            skip_unchanged,
        })
    }
}

/// `verify IMG` and `doctor IMG`: a first word that is no target is the first image.
pub(super) fn target_or_image(
    target: Option<String>,
    mut images: Vec<String>,
) -> (Option<String>, Vec<String>) {
    match target {
        Some(t) if Target::parse(&t).is_none() => {
            images.insert(0, t);
            (None, images)
        }
        t => (t, images),
    }
}
