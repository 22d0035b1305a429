//! Making the plan. Compat mode keeps upstream's order exactly (all builds, then all pushes,
//! then all cache builds); matrix mode groups by image so a node pushes an image as soon as
//! it is built and the local cache builds overlap with the next builds. Cache-only images
//! have only cache steps, one per OS version: in matrix mode those of OS_VERSIONS, in compat
//! mode every line of their BASEIMAGE (they are per-OS by nature and upstream's Makefile has
//! no tag for them), after the node images' cache steps. (In compat mode they are planned only
//! when named: `images::select` leaves them out of the default set.)

use super::Setup;
use super::{
    Action, BuildIsolation, BuildVia, Inputs, Kind, ListEntry, ListSpec, NodeRef, Plan, Step, Tags,
    Target,
};
use crate::config::IsolationChoice;
use crate::images::Image;
use crate::windows::Isolation;

pub fn plan(cfg: &Setup, images: &[Image], target: &Target) -> Plan {
    let mut b = Builder { steps: Vec::new() };
    let (cache_only, images): (Vec<&Image>, Vec<&Image>) =
        images.iter().partition(|i| i.is_cache_only());
    if cfg.is_matrix() {
        for img in images {
            matrix_image(cfg, img, target, &mut b);
        }
    } else {
        let mut built = Vec::new();
        let mut pushed = Vec::new();
        if target.builds() {
            for img in &images {
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
    if target.caches() {
        for img in cache_only {
            let oses: Vec<&str> = if cfg.is_matrix() {
                cfg.os_versions.iter().map(String::as_str).collect()
            } else {
                img.bases.iter().map(|(os, _)| os.as_str()).collect()
            };
            for os in oses {
                b.add(cache_only_step(cfg, img, os));
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

fn matrix_image(cfg: &Setup, img: &Image, target: &Target, b: &mut Builder) {
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
                build: cfg.nodes.node(Some(os)).build,
                base: img.base_for(os).map(String::from),
            })
            .collect();
        let list = Tags::list(cfg, img);
        let action = Action::List(ListSpec {
            list: list.clone(),
            repo: Tags::repo(cfg, img),
            entries,
        });
        b.add(step(
            Kind::List,
            list,
            img,
            None,
            action,
            None,
            pushed.clone(),
        ));
    }
    if target.caches() {
        let mut caches = Vec::new();
        for (i, os) in cfg.os_versions.iter().enumerate() {
            let after = pushed.get(i).copied().into_iter().collect();
            caches.push(b.add(cache_step(cfg, img, Some(os), after)));
        }
        // The plain `V-linux-cache` tag that consumers written against compat mode reference:
        // the first OS version's cache image, copied in the registry once it is pushed (its
        // payload is the same for every release; put 1809 first for exactly compat mode's
        // variant). A copy, not a second build: the same image, and no buildx time.
        if let (Some(first), Some(&after)) = (cfg.os_versions.first(), caches.first()) {
            let action = Action::Copy {
                from: Tags::cache(cfg, img, Some(first)),
            };
            let tag = Tags::cache(cfg, img, None);
            b.add(step(
                Kind::Cache,
                tag,
                img,
                Some(first),
                action,
                None,
                vec![after],
            ));
        }
    }
}

/// Build args of an image's own build: none in compat mode (upstream's exact command); per
/// OS version OS_VERSION and, when the image has a BASEIMAGE file, BASEIMAGE. The node build
/// of a node image, the buildx build of a cache-only image.
pub fn node_build_args(img: &Image, os: Option<&str>) -> Vec<(String, String)> {
    let Some(os) = os else { return vec![] };
    let mut args = vec![("OS_VERSION".to_string(), os.to_string())];
    if let Some(base) = img.base_for(os) {
        args.push(("BASEIMAGE".to_string(), base.to_string()));
    }
    args
}

/// The inputs label a skip-unchanged run stores on what it builds from `windows_tag`.
fn inputs(cfg: &Setup, windows_tag: &str) -> Option<Inputs> {
    cfg.skip_unchanged.then(|| Inputs {
        of: windows_tag.to_string(),
        digest: None,
    })
}

fn build_step(cfg: &Setup, img: &Image, os: Option<&str>, after: Vec<usize>) -> Step {
    let tag = Tags::windows(cfg, img, os);
    let action = Action::Build {
        node: cfg.nodes.node(os).clone(),
        dockerfile: img.dockerfile_windows(),
        context: img.context(),
        build_args: node_build_args(img, os),
        isolation: build_isolation(cfg),
        builder: BuildVia::Unknown,
    };
    let inputs = inputs(cfg, &tag);
    step(Kind::Build, tag, img, os, action, inputs, after)
}

/// Matrix mode: auto is decided from the node before the run, a forced one is written out.
/// Compat mode keeps upstream's argv (no flag) unless ISOLATION=hyperv asks for one.
fn build_isolation(cfg: &Setup) -> BuildIsolation {
    match (cfg.is_matrix(), cfg.nodes.isolation) {
        (true, IsolationChoice::Auto) => BuildIsolation::FromNode,
        (true, IsolationChoice::Force(i)) => BuildIsolation::Is(i),
        (false, IsolationChoice::Force(Isolation::HyperV)) => BuildIsolation::Is(Isolation::HyperV),
        (false, _) => BuildIsolation::NodeDefault,
    }
}

fn push_step(cfg: &Setup, img: &Image, os: Option<&str>, after: Vec<usize>) -> Step {
    let tag = Tags::windows(cfg, img, os);
    let action = Action::Push {
        node: cfg.nodes.node(os).clone(),
    };
    step(Kind::Push, tag, img, os, action, None, after)
}

fn cache_step(cfg: &Setup, img: &Image, os: Option<&str>, after: Vec<usize>) -> Step {
    let windows = Tags::windows(cfg, img, os);
    let mut build_args = vec![("SOURCE".to_string(), windows.clone())];
    if let Some(os) = os {
        build_args.push(("OS_VERSION".to_string(), os.to_string()));
    }
    let action = Action::Cache {
        context: img.context(),
        build_args,
    };
    let inputs = inputs(cfg, &windows);
    let tag = Tags::cache(cfg, img, os);
    step(Kind::Cache, tag, img, os, action, inputs, after)
}

/// A cache-only image's build for one OS version: buildx alone, from that version's
/// BASEIMAGE line, straight into the registry as `R/I:V-linux-amd64-<os>`.
fn cache_only_step(cfg: &Setup, img: &Image, os: &str) -> Step {
    let tag = Tags::cache(cfg, img, Some(os));
    let action = Action::Cache {
        context: img.context(),
        build_args: node_build_args(img, Some(os)),
    };
    // Nothing Windows is built first: the inputs are the cache image's own.
    let inputs = inputs(cfg, &tag);
    step(Kind::Cache, tag, img, Some(os), action, inputs, vec![])
}

/// A step; builds and pushes run on the node of `os`, cache builds and lists locally.
fn step(
    kind: Kind,
    tag: String,
    img: &Image,
    os: Option<&str>,
    action: Action,
    inputs: Option<Inputs>,
    after: Vec<usize>,
) -> Step {
    let node = match kind {
        Kind::Build | Kind::Push => NodeRef::Remote(os.map(String::from)),
        Kind::Cache | Kind::List => NodeRef::Local,
    };
    Step {
        id: 0,
        what: format!("{} {tag}", kind.word()),
        image: img.name.clone(),
        os: os.map(String::from),
        node,
        tag,
        inputs,
        action,
        after,
        skip: None,
    }
}
