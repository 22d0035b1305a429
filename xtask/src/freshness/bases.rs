//! Fresh bases. `lint --bases`: each BASEIMAGE line's tag resolved to the digest it points at
//! now, and each pushed Windows image (`R/I:V-windows-amd64-<os>`) checked against it — an
//! image whose layers do not start with today's base layers was built from an older base
//! (Microsoft refreshes its bases every Patch Tuesday, and floating tags have been stale
//! before: docker-library/official-images#18823). A pinned line (`…:ltsc2022@sha256:…`) is
//! also compared with where its tag points now. `pin-bases`: rewrites the pinned lines (every
//! line with `--all`) to today's digests, showing the old and new os.version (build numbers).
//! Read-only docker queries (`buildx imagetools inspect`), each within REGISTRY_TIMEOUT.

use serde_json::Value;

use crate::docker::oci::{self, short_digest};
use crate::docker::{self, Client, Registry};
use crate::error::print;
use crate::images::{self, Image};

/// One BASEIMAGE reference split: `name:tag` and the pinned digest, if any.
pub fn split_pin(reference: &str) -> (&str, Option<&str>) {
    match reference.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (reference, None),
    }
}

/// The registry reader, with docker's complaints cut to their first line.
struct Ask<'a> {
    reader: Registry<'a>,
}

impl Ask<'_> {
    fn json(&self, argv: &[String]) -> Result<Value, String> {
        let out = self
            .reader
            .ask(argv)
            .map_err(|e| docker::client::first_line(e.message()))?;
        serde_json::from_str(out.trim()).map_err(|e| format!("docker's answer is not JSON: {e}"))
    }

    /// The digest REF points at now.
    fn digest(&self, reference: &str) -> Result<String, String> {
        self.reader
            .digest(reference)
            .map_err(|e| docker::client::first_line(e.message()))
    }

    /// The layers of REF's windows/amd64 image (an index's entry, or the manifest).
    fn windows_layers(&self, reference: &str) -> Result<Vec<String>, String> {
        let raw = self.json(&docker::inspect_raw(reference))?;
        let manifest = if raw.get("manifests").is_some() {
            let entry = oci::windows_entry(&raw).ok_or("no windows/amd64 entry")?;
            let d = entry["digest"].as_str().ok_or("an entry without digest")?;
            let (name, _) = split_pin(reference);
            let repo = strip_tag(name);
            self.json(&docker::inspect_raw(&format!("{repo}@{d}")))?
        } else {
            raw
        };
        Ok(manifest["layers"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|x| x["digest"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The os.version of REF's windows/amd64 image: its list entry's, else its config's.
    fn os_version(&self, reference: &str) -> Option<String> {
        let raw = self.json(&docker::inspect_raw(reference)).ok()?;
        if raw.get("manifests").is_some() {
            return oci::entry_os_version(&raw);
        }
        let config = self.json(&docker::inspect_config(reference)).ok()?;
        oci::config_os_version(&config)
    }
}

/// `host/repo:tag` → `host/repo` (a `:port` before the last `/` stays).
fn strip_tag(name: &str) -> &str {
    let slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    match name[slash..].find(':') {
        Some(i) => &name[..slash + i],
        None => name,
    }
}

/// What `lint --bases` found for one image and release.
pub struct BaseCheck {
    pub file: std::path::PathBuf,
    pub stale: bool,
    pub message: String,
}

/// `lint --bases`: one line per BASEIMAGE line of every image.
pub fn check(docker: &Client, registry: &str, imgs: &[Image]) -> Vec<BaseCheck> {
    let ask = Ask {
        reader: docker.registry(),
    };
    let jobs: Vec<(&Image, &String, &String)> = imgs
        .iter()
        .flat_map(|i| i.bases.iter().map(move |(os, b)| (i, os, b)))
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|&(img, os, base)| {
                let ask = &ask;
                s.spawn(move || one(ask, registry, img, os, base))
            })
            .collect();
        handles
            .into_iter()
            .zip(&jobs)
            .map(|(h, (img, _, _))| {
                h.join().unwrap_or_else(|_| BaseCheck {
                    file: img.dir.join("BASEIMAGE"),
                    stale: false,
                    message: "the check panicked".into(),
                })
            })
            .collect()
    })
}

fn one(ask: &Ask, registry: &str, img: &Image, os: &str, base: &str) -> BaseCheck {
    let file = img.dir.join("BASEIMAGE");
    let (name, pin) = split_pin(base);
    let done = |stale: bool, message: String| BaseCheck {
        file: file.clone(),
        stale,
        message: format!("{} {os}: {message}", img.name),
    };
    let now = match ask.digest(name) {
        Ok(d) => d,
        Err(e) => return done(false, format!("cannot resolve {name}: {e}")),
    };
    let mut notes = Vec::new();
    let mut stale = false;
    if let Some(p) = pin {
        if p != now {
            stale = true;
            notes.push(format!(
                "pinned to {}, but {name} is {} now (cargo xtask pin-bases refreshes the pin)",
                short_digest(p),
                short_digest(&now)
            ));
        }
    }
    let built_from = pin.map(|_| base).unwrap_or(name);
    if img.is_cache_only() {
        notes.push(format!(
            "base {name} is {} now; a cache-only image copies files, so its layers cannot tell which base it was built from (with SKIP_UNCHANGED a new base digest rebuilds it)",
            short_digest(&now)
        ));
        return done(stale, notes.join("; "));
    }
    let pushed = format!("{registry}/{}:{}-windows-amd64-{os}", img.name, img.version);
    let (base_layers, ours) = match (ask.windows_layers(built_from), ask.windows_layers(&pushed)) {
        (Err(e), _) => return done(stale, format!("cannot read {built_from}: {e}")),
        (_, Err(e)) if e.contains("not found") => {
            notes.push(format!("{pushed} is not pushed yet"));
            return done(stale, notes.join("; "));
        }
        (_, Err(e)) => return done(stale, format!("cannot read {pushed}: {e}")),
        (Ok(b), Ok(o)) => (b, o),
    };
    if !base_layers.is_empty() && ours.starts_with(&base_layers) {
        match pin {
            Some(p) => notes.push(format!(
                "{pushed} is built from its pin {name}@{}",
                short_digest(p)
            )),
            None => notes.push(format!(
                "{pushed} is built from today's {name} ({})",
                short_digest(&now)
            )),
        }
    } else {
        stale = true;
        notes.push(format!(
            "{pushed} was built from an older base: its layers do not start with those of {built_from} ({}); rebuild it (SKIP_UNCHANGED rebuilds it: the base digest is one of its inputs)",
            short_digest(pin.unwrap_or(&now))
        ));
    }
    done(stale, notes.join("; "))
}

/// `cargo xtask pin-bases [IMG…] [--all] [-n]`: the pinned BASEIMAGE lines (every line with
/// `all`) moved to the digest their tag points at today, each change shown with the old and
/// new os.version; `dry_run` writes nothing.
pub fn pin(
    docker: &Client,
    registry: &str,
    imgs: &[Image],
    all: bool,
    dry_run: bool,
) -> anyhow::Result<()> {
    let ask = Ask {
        reader: docker.registry(),
    };
    let mut changed = 0;
    for img in imgs {
        let file = img.dir.join("BASEIMAGE");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut out = String::new();
        let mut touched = false;
        for (n, line) in text.lines().enumerate() {
            let Some((key, value)) = line.trim().split_once('=').filter(|_| {
                let t = line.trim();
                !t.is_empty() && !t.starts_with('#')
            }) else {
                out.push_str(line);
                out.push('\n');
                continue;
            };
            let (name, old) = split_pin(value);
            if old.is_none() && !all {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            let resolved = name.replace("REGISTRY", registry);
            let new = ask.digest(&resolved).map_err(|e| {
                anyhow::anyhow!("{}:{}: resolving {resolved}: {e}", file.display(), n + 1)
            })?;
            let os_of = |d: &str| {
                ask.os_version(&format!("{resolved}@{d}"))
                    .unwrap_or_else(|| "os.version unknown".into())
            };
            if old == Some(new.as_str()) {
                print(&format!(
                    "{}:{}: {key}: {name} still {} ({})\n",
                    file.display(),
                    n + 1,
                    short_digest(&new),
                    os_of(&new)
                ))?;
                out.push_str(line);
                out.push('\n');
                continue;
            }
            let was = match old {
                Some(o) => format!("{} ({})", short_digest(o), os_of(o)),
                None => "unpinned".into(),
            };
            print(&format!(
                "{}:{}: {key}: {name} {was} → {} ({})\n",
                file.display(),
                n + 1,
                short_digest(&new),
                os_of(&new)
            ))?;
            out.push_str(&format!("{key}={name}@{new}\n"));
            touched = true;
            changed += 1;
        }
        if touched && !dry_run {
            // Checked as any BASEIMAGE is before it replaces the file.
            let tmp = file.with_file_name(".BASEIMAGE.pin-tmp");
            std::fs::write(&tmp, &out)?;
            if let Err(e) = images::read_baseimage(&tmp, registry) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            std::fs::rename(&tmp, &file)?;
        }
    }
    print(&format!(
        "pin-bases: {changed} line{} {}\n",
        if changed == 1 { "" } else { "s" },
        if dry_run {
            "would change (nothing written: -n)"
        } else {
            "changed"
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_and_repositories() {
        assert_eq!(
            split_pin("mcr.microsoft.com/windows/nanoserver:ltsc2022@sha256:ab"),
            (
                "mcr.microsoft.com/windows/nanoserver:ltsc2022",
                Some("sha256:ab")
            )
        );
        assert_eq!(split_pin("a/b:1"), ("a/b:1", None));
        assert_eq!(
            strip_tag("127.0.0.1:5000/e2e/base:1809"),
            "127.0.0.1:5000/e2e/base"
        );
        assert_eq!(
            strip_tag("127.0.0.1:5000/e2e/base"),
            "127.0.0.1:5000/e2e/base"
        );
    }
}
