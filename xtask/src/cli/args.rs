//! Each command's arguments: the option groups it takes (config/opts.rs) and how they become
//! the `Opts` config validates.

use crate::commands::tls;
use crate::config::{
    DryRunArgs, ImagesArg, ImagesDirArg, JsonArg, NodeArgs, Opts, OsArgs, OutputArgs, RegistryArgs,
    RunArgs, SkipArg,
};
use crate::error::BadInput;
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
pub struct Inspect {
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
    pub args: tls::Args,
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

/// promotion: a run report to turn into images.yaml entries.
#[derive(clap::Args, Debug)]
pub struct PromotionCmd {
    /// The run report (the JSON file REPORT/--report named).
    #[arg(value_name = "RUN.json")]
    pub report: std::path::PathBuf,
}

impl Run {
    pub fn opts(self) -> anyhow::Result<Opts> {
        json_needs_dry_run(&self.dry)?;
        Ok(Opts::default()
            .images(self.select, self.names)
            .dry_run(self.dry)
            .run(self.run)
            .skip(self.skip)
            .output(self.output)
            .images_dir(self.dir)
            .registry(self.registry)
            .nodes(self.nodes)
            .os(self.os))
    }
}

impl Sub {
    /// The image and the variables.
    pub fn opts(self) -> anyhow::Result<(String, Opts)> {
        json_needs_dry_run(&self.dry)?;
        let opts = Opts::default()
            .dry_run(self.dry)
            .run(self.run)
            .skip(self.skip)
            .output(self.output)
            .images_dir(self.dir)
            .registry(self.registry)
            .nodes(self.nodes)
            .os(self.os);
        Ok((self.image, opts))
    }
}

impl PlanCmd {
    pub fn opts(self) -> (String, Opts) {
        let target = self.target.unwrap_or_else(|| "push-as-linux".into());
        let opts = Opts::default()
            .images(self.select, self.names)
            .json(self.json)
            .skip(self.skip)
            .images_dir(self.dir)
            .registry(self.registry)
            .nodes(self.nodes)
            .os(self.os);
        (target, opts)
    }
}

impl Inspect {
    /// The target (None: the command's default) and the variables.
    pub fn opts(self) -> (Option<String>, Opts) {
        let (target, images) = target_or_image(self.target, self.names);
        let opts = Opts::default()
            .images(self.select, images)
            .json(self.json)
            .images_dir(self.dir)
            .registry(self.registry)
            .os(self.os);
        (target, opts)
    }
}

impl DoctorCmd {
    pub fn opts(self) -> (Option<String>, Opts) {
        let (target, images) = target_or_image(self.target, self.names);
        let opts = Opts::default()
            .images(self.select, images)
            .json(self.json)
            .images_dir(self.dir)
            .registry(self.registry)
            .nodes(self.nodes)
            .os(self.os);
        (target, opts)
    }
}

impl LintCmd {
    pub fn opts(self) -> Opts {
        Opts::default()
            .images(self.select, self.names)
            .json(self.json)
            .images_dir(self.dir)
            .registry(self.registry)
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
    pub fn opts(self) -> (bool, bool, Opts) {
        let opts = Opts::default().images_dir(self.dir).registry(self.registry);
        (self.all, self.dry_run, opts)
    }
}

/// `--json` of the running commands prints the plan, so it needs -n: a run's record is
/// another matter (its summary).
fn json_needs_dry_run(d: &DryRunArgs) -> anyhow::Result<()> {
    if d.json && !d.dry_run {
        return Err(BadInput::new(
            "option",
            "--json",
            "--json prints the plan as JSON, so it needs -n/--dry-run: without it the run would ignore it",
            "add -n to print the plan as JSON (or use `cargo xtask plan TARGET --json`)",
        ));
    }
    Ok(())
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
