//! Targets: what to do, in upstream's Makefile vocabulary (all-build, all-push,
//! all-push-as-linux, sub-build-IMG, …), and what each one entails.

use crate::error::BadInput;

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

    /// `parse`, with an unknown name as bad input (exit 2).
    pub fn named(name: &str) -> anyhow::Result<Target> {
        Target::parse(name).ok_or_else(|| {
            BadInput::new(
                "TARGET",
                name,
                "unknown target",
                "use build, push, push-as-linux (or all-build, all-push, all-push-as-linux), sub-build-IMG, sub-push-IMG, sub-repush-as-linux-IMG",
            )
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
