//! Plan: a pure function `Config × [Image] × Target → Plan`. A plan is the ordered list of
//! steps a target runs, each with its node, its docker argv and the steps it waits for. No
//! I/O happens here; tests snapshot it and `plan`/`--dry-run`/`--json` print it.

use serde_json::{json, Value};

use crate::config::Config;
use crate::docker;
use crate::images::Image;
use crate::unchanged;

/// What to do, in upstream's Makefile vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// all-build: build every image on the node.
    Build,
    /// all-push: build, then push.
    Push,
    /// all-push-as-linux: build, push, then the Linux cache image.
    PushAsLinux,
    /// sub-build-IMG: only the node build of one image.
    SubBuild(String),
    /// sub-push-IMG: only the push of one image (and, in matrix mode, its manifest list).
    SubPush(String),
    /// sub-repush-as-linux-IMG: only the cache build of one image.
    SubRepushAsLinux(String),
}

impl Target {
    /// Accepts the xtask names (`push-as-linux`), the make names (`all-push-as-linux`) and
    /// the make pattern targets (`sub-build-IMG`, `sub-push-IMG`, `sub-repush-as-linux-IMG`).
    pub fn parse(s: &str) -> Option<Target> {
        Some(match s {
            "build" | "all-build" => Target::Build,
            "push" | "all-push" => Target::Push,
            "push-as-linux" | "all-push-as-linux" => Target::PushAsLinux,
            _ => {
                // Longest prefix first: "sub-repush-as-linux-" is not a "sub-push-" name.
                if let Some(i) = s.strip_prefix("sub-repush-as-linux-") {
                    Target::SubRepushAsLinux(i.to_string())
                } else if let Some(i) = s.strip_prefix("sub-build-") {
                    Target::SubBuild(i.to_string())
                } else if let Some(i) = s.strip_prefix("sub-push-") {
                    Target::SubPush(i.to_string())
                } else {
                    return None;
                }
            }
        })
    }

    /// The make name of the target.
    pub fn name(&self) -> String {
        match self {
            Target::Build => "all-build".into(),
            Target::Push => "all-push".into(),
            Target::PushAsLinux => "all-push-as-linux".into(),
            Target::SubBuild(i) => format!("sub-build-{i}"),
            Target::SubPush(i) => format!("sub-push-{i}"),
            Target::SubRepushAsLinux(i) => format!("sub-repush-as-linux-{i}"),
        }
    }

    /// The one image of a sub-target.
    pub fn image(&self) -> Option<&str> {
        match self {
            Target::SubBuild(i) | Target::SubPush(i) | Target::SubRepushAsLinux(i) => Some(i),
            _ => None,
        }
    }

    pub fn builds(&self) -> bool {
        matches!(
            self,
            Target::Build | Target::Push | Target::PushAsLinux | Target::SubBuild(_)
        )
    }

    pub fn pushes(&self) -> bool {
        matches!(
            self,
            Target::Push | Target::PushAsLinux | Target::SubPush(_)
        )
    }

    pub fn caches(&self) -> bool {
        matches!(self, Target::PushAsLinux | Target::SubRepushAsLinux(_))
    }

    /// Whether the target talks to a Windows node (the cache build alone does not).
    pub fn needs_node(&self) -> bool {
        self.builds() || self.pushes()
    }
}

/// Where a step runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeRef {
    /// This machine: buildx and docker manifest.
    Local,
    /// The Windows node for an OS version (None: compat mode's single node).
    Remote(Option<String>),
}

impl NodeRef {
    pub fn label(&self) -> String {
        match self {
            NodeRef::Local => "local".into(),
            NodeRef::Remote(None) => "node".into(),
            NodeRef::Remote(Some(os)) => format!("node {os}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Build,
    Push,
    Cache,
    List,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Build => "build",
            Kind::Push => "push",
            Kind::Cache => "cache",
            Kind::List => "manifest-list",
        }
    }
}

/// One Windows image that goes into a manifest list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The per-version tag, e.g. `R/I:V-windows-amd64-1809`.
    pub tag: String,
    pub os: String,
    /// The base image (from BASEIMAGE): where os.version comes from when the pushed image's
    /// config lacks it.
    pub base: Option<String>,
}

/// A manifest list over per-version images. Digests and os.version values are only known
/// once the images are pushed, so the executor resolves them; the plan shows placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSpec {
    pub list: String,
    /// The list's repository (`R/I`), for `R/I@sha256:…` entry references.
    pub repo: String,
    pub entries: Vec<ListEntry>,
    pub insecure: bool,
}

impl ListSpec {
    /// The commands the executor runs, with `<digest of TAG>` and `<os.version of TAG>`
    /// standing for what it resolves first (`docker buildx imagetools inspect --raw`).
    pub fn commands(&self) -> Vec<Vec<String>> {
        let entry = |e: &ListEntry| format!("{}@<digest of {}>", self.repo, e.tag);
        let mut cmds: Vec<Vec<String>> = Vec::new();
        for e in &self.entries {
            cmds.push(docker::inspect_raw(&e.tag));
            cmds.push(docker::manifest_inspect_verbose(&entry(e), self.insecure));
            // Only when the config lacks os.version: upstream's fallback to the base image.
            if let Some(base) = &e.base {
                cmds.push(docker::inspect_raw(base));
            }
        }
        let refs: Vec<String> = self.entries.iter().map(entry).collect();
        cmds.push(docker::manifest_rm(&self.list));
        cmds.push(docker::manifest_create(&self.list, &refs, self.insecure));
        for e in &self.entries {
            cmds.push(docker::manifest_annotate(
                &self.list,
                &entry(e),
                &format!("<os.version of {}>", e.tag),
            ));
        }
        cmds.push(docker::manifest_push(&self.list, self.insecure));
        cmds
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// One docker command.
    Run(Vec<String>),
    /// A manifest list, resolved at run time.
    List(ListSpec),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based position in the plan.
    pub id: usize,
    pub kind: Kind,
    /// Human label: "build R/I:V".
    pub what: String,
    pub image: String,
    pub os: Option<String>,
    pub node: NodeRef,
    pub action: Action,
    /// Ids of the steps that must succeed before this one starts.
    pub after: Vec<usize>,
    /// Why the step will not run (skip-unchanged), set before execution.
    pub skip: Option<String>,
}

impl Step {
    /// The commands the step runs (several for a manifest list).
    pub fn commands(&self) -> Vec<Vec<String>> {
        match &self.action {
            Action::Run(argv) => vec![argv.clone()],
            Action::List(spec) => spec.commands(),
        }
    }

    /// The tag the step writes: the image a build or push makes (`-t TAG`, `push TAG`), the
    /// cache image, or the list. What `verify` checks and skip-unchanged compares.
    pub fn tag(&self) -> &str {
        match &self.action {
            Action::List(spec) => &spec.list,
            Action::Run(argv) if self.kind == Kind::Push => argv.last().map_or("", String::as_str),
            Action::Run(argv) => argv
                .iter()
                .position(|a| a == "-t")
                .and_then(|i| argv.get(i + 1))
                .map_or("", String::as_str),
        }
    }

    /// `alpha` or `alpha, node 1809`: the parenthesised part of progress lines.
    pub fn context(&self) -> String {
        match &self.os {
            Some(_) => format!("{}, {}", self.image, self.node.label()),
            None => self.image.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub target: Target,
    pub matrix: bool,
    pub steps: Vec<Step>,
}

/// Tags of one image: compat mode's are upstream's; matrix mode's carry the OS version.
pub struct Tags;

impl Tags {
    pub fn repo(cfg: &Config, img: &Image) -> String {
        format!("{}/{}", cfg.registry, img.name)
    }
    /// The Windows image: `R/I:V`, or `R/I:V-windows-amd64-<os>` in matrix mode.
    pub fn windows(cfg: &Config, img: &Image, os: Option<&str>) -> String {
        match os {
            None => format!("{}:{}", Self::repo(cfg, img), img.version),
            Some(os) => format!(
                "{}:{}-windows-amd64-{os}",
                Self::repo(cfg, img),
                img.version
            ),
        }
    }
    /// The manifest list of matrix mode: `R/I:V`.
    pub fn list(cfg: &Config, img: &Image) -> String {
        format!("{}:{}", Self::repo(cfg, img), img.version)
    }
    /// The Linux cache image: `R/I:V-linux-cache`, or `R/I:V-linux-amd64-<os>`.
    pub fn cache(cfg: &Config, img: &Image, os: Option<&str>) -> String {
        match os {
            None => format!("{}:{}-linux-cache", Self::repo(cfg, img), img.version),
            Some(os) => format!("{}:{}-linux-amd64-{os}", Self::repo(cfg, img), img.version),
        }
    }
}

/// Makes the plan. Compat mode keeps upstream's order exactly (all builds, then all pushes,
/// then all cache builds); matrix mode groups by image so a node pushes an image as soon as
/// it is built and the local cache builds overlap with the next builds.
pub fn plan(cfg: &Config, images: &[Image], target: &Target) -> Plan {
    let mut b = Builder { steps: Vec::new() };
    if cfg.is_matrix() {
        for img in images {
            matrix_image(cfg, img, target, &mut b);
        }
    } else {
        let mut built = Vec::new();
        let mut pushed = Vec::new();
        if target.builds() {
            for img in images {
                built.push(Some(b.add(build_step(cfg, img, None, vec![]))));
            }
        } else {
            built = vec![None; images.len()];
        }
        if target.pushes() {
            for (img, dep) in images.iter().zip(&built) {
                pushed.push(Some(b.add(push_step(
                    cfg,
                    img,
                    None,
                    dep.iter().copied().collect(),
                ))));
            }
        } else {
            pushed = vec![None; images.len()];
        }
        if target.caches() {
            for (img, dep) in images.iter().zip(&pushed) {
                b.add(cache_step(cfg, img, None, dep.iter().copied().collect()));
            }
        }
    }
    Plan {
        target: target.clone(),
        matrix: cfg.is_matrix(),
        steps: b.steps,
    }
}

struct Builder {
    steps: Vec<Step>,
}

impl Builder {
    fn add(&mut self, mut step: Step) -> usize {
        step.id = self.steps.len() + 1;
        self.steps.push(step);
        self.steps.len()
    }
}

fn matrix_image(cfg: &Config, img: &Image, target: &Target, b: &mut Builder) {
    let mut pushed = Vec::new();
    for os in &cfg.os_versions {
        let built = target
            .builds()
            .then(|| b.add(build_step(cfg, img, Some(os), vec![])));
        if target.pushes() {
            pushed.push(b.add(push_step(cfg, img, Some(os), built.into_iter().collect())));
        }
    }
    if target.pushes() {
        let entries = cfg
            .os_versions
            .iter()
            .map(|os| ListEntry {
                tag: Tags::windows(cfg, img, Some(os)),
                os: os.clone(),
                base: img.base_for(os).map(String::from),
            })
            .collect();
        let list = Tags::list(cfg, img);
        b.add(Step {
            id: 0,
            kind: Kind::List,
            what: format!("manifest-list {list}"),
            image: img.name.clone(),
            os: None,
            node: NodeRef::Local,
            action: Action::List(ListSpec {
                list,
                repo: Tags::repo(cfg, img),
                entries,
                insecure: cfg.insecure,
            }),
            after: pushed.clone(),
            skip: None,
        });
    }
    if target.caches() {
        for (i, os) in cfg.os_versions.iter().enumerate() {
            let after = pushed.get(i).copied().into_iter().collect();
            b.add(cache_step(cfg, img, Some(os), after));
        }
    }
}

/// Build args of a node build: none in compat mode (upstream's exact command); in matrix
/// mode OS_VERSION and, when the image has a BASEIMAGE file, BASEIMAGE.
pub fn node_build_args(img: &Image, os: Option<&str>) -> Vec<(String, String)> {
    let Some(os) = os else { return vec![] };
    let mut args = vec![("OS_VERSION".to_string(), os.to_string())];
    if let Some(base) = img.base_for(os) {
        args.push(("BASEIMAGE".to_string(), base.to_string()));
    }
    args
}

fn build_step(cfg: &Config, img: &Image, os: Option<&str>, after: Vec<usize>) -> Step {
    let tag = Tags::windows(cfg, img, os);
    let node = cfg.node(os);
    let args = node_build_args(img, os);
    let argv = docker::node_build(
        node,
        &docker::NodeBuild {
            tag: &tag,
            dockerfile: &img.dockerfile_windows(),
            context: &img.context(),
            build_args: &args,
            hyperv: cfg.hyperv,
            label: cfg.skip_unchanged.then(|| unchanged::placeholder(&tag)),
        },
    );
    step(Kind::Build, &tag, img, os, argv, after)
}

fn push_step(cfg: &Config, img: &Image, os: Option<&str>, after: Vec<usize>) -> Step {
    let tag = Tags::windows(cfg, img, os);
    let argv = docker::node_push(cfg.node(os), &tag);
    step(Kind::Push, &tag, img, os, argv, after)
}

fn cache_step(cfg: &Config, img: &Image, os: Option<&str>, after: Vec<usize>) -> Step {
    let tag = Tags::cache(cfg, img, os);
    let mut args = vec![("SOURCE".to_string(), Tags::windows(cfg, img, os))];
    if let Some(os) = os {
        args.push(("OS_VERSION".to_string(), os.to_string()));
    }
    let label = cfg
        .skip_unchanged
        .then(|| unchanged::placeholder(&Tags::windows(cfg, img, os)));
    let argv = docker::cache_build(&tag, &args, label, &img.context());
    step(Kind::Cache, &tag, img, os, argv, after)
}

/// A one-command step; builds and pushes run on the node of `os`, cache builds locally.
fn step(
    kind: Kind,
    tag: &str,
    img: &Image,
    os: Option<&str>,
    argv: Vec<String>,
    after: Vec<usize>,
) -> Step {
    let node = match kind {
        Kind::Build | Kind::Push => NodeRef::Remote(os.map(String::from)),
        Kind::Cache | Kind::List => NodeRef::Local,
    };
    Step {
        id: 0,
        kind,
        what: format!("{} {tag}", kind.word()),
        image: img.name.clone(),
        os: os.map(String::from),
        node,
        action: Action::Run(argv),
        after,
        skip: None,
    }
}

/// The plan as text: per step a `#` header (position, label, node, dependencies) and its
/// commands, one per line, quoted so that pasting a line into bash runs exactly that argv.
pub fn render_text(plan: &Plan) -> String {
    let n = plan.steps.len();
    let mut out = String::new();
    for s in &plan.steps {
        out.push_str(&format!(
            "# [{}/{n}] {} ({}, {})",
            s.id,
            s.what,
            s.image,
            s.node.label()
        ));
        if !s.after.is_empty() {
            let ids: Vec<String> = s.after.iter().map(|a| a.to_string()).collect();
            out.push_str(&format!(" after {}", ids.join(",")));
        }
        if let Some(why) = &s.skip {
            out.push_str(&format!(" — skipped: {why}"));
        }
        out.push('\n');
        for argv in s.commands() {
            out.push_str(&shell_line(&argv));
            out.push('\n');
        }
    }
    out
}

/// The plan as JSON, for machines.
pub fn render_json(plan: &Plan) -> Value {
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "kind": s.kind.word(),
                "what": s.what,
                "image": s.image,
                "os_version": s.os,
                "node": s.node.label(),
                "argv": s.commands().into_iter().next().unwrap_or_default(),
                "commands": s.commands(),
                "depends_on": s.after,
                "skip": s.skip,
            })
        })
        .collect();
    json!({
        "target": plan.target.name(),
        "mode": if plan.matrix { "matrix" } else { "compat" },
        "steps": steps,
    })
}

/// One argv as a bash line: words made only of safe characters stay bare, everything else is
/// single-quoted (a `'` inside becomes `'\''`), so bash gives back exactly these strings.
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_-+=:,./@%".contains(&c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let argv: Vec<String> = ["docker", "a b", "it's", "$(id)", "", "x=y", "--tlskey"]
            .map(String::from)
            .into();
        assert_eq!(
            shell_line(&argv),
            r#"docker 'a b' 'it'\''s' '$(id)' '' x=y --tlskey"#
        );
    }

    #[test]
    fn targets() {
        assert_eq!(Target::parse("all-push"), Some(Target::Push));
        assert_eq!(
            Target::parse("sub-repush-as-linux-a-b"),
            Some(Target::SubRepushAsLinux("a-b".into()))
        );
        assert_eq!(
            Target::parse("sub-push-x"),
            Some(Target::SubPush("x".into()))
        );
        assert_eq!(Target::parse("deploy"), None);
        for t in [
            "all-build",
            "all-push",
            "all-push-as-linux",
            "sub-build-a",
            "sub-push-a",
            "sub-repush-as-linux-a",
        ] {
            assert_eq!(Target::parse(t).map(|t| t.name()), Some(t.to_string()));
        }
    }
}
