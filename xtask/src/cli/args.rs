//! Each command's arguments: the option groups it declares (config/) and the typed input they
//! resolve into, each group once, in one order; the command is handed only that input.

use crate::commands::{build, lint, tls, Inspect, Planning};
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
    pub target: String,
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
    pub fn input(self) -> anyhow::Result<Inspect> {
        let target = Target::named(&self.target)?;
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
        Ok(Inspect {
            planning,
            json: self.json.json,
        })
    }
}

impl VerifyCmd {
    /// verify's input: it declares no nodes (it only reads the registry), so its plan has
    /// none set up (`Nodes::unset`).
    pub fn input(self) -> anyhow::Result<Inspect> {
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
        Ok(Inspect {
            planning,
            json: self.json.json,
        })
    }
}

impl DoctorCmd {
    pub fn input(self) -> anyhow::Result<Inspect> {
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
        Ok(Inspect {
            planning,
            json: self.json.json,
        })
    }
}

impl LintCmd {
    pub fn input(self) -> anyhow::Result<lint::Input> {
        Ok(lint::Input {
            selection: self.select.resolve(self.dir, self.names)?,
            json: self.json.json,
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
