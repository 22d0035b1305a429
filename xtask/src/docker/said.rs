//! What docker's own output says a command did, read line by line as the lines stream past:
//! the digest a push sent (`docker push`: `V: digest: sha256:… size: N`; buildx's registry
//! output: `pushing manifest for REF@sha256:…`; `buildx imagetools create`: `pushing sha256:…
//! to REF`), the image a BuildKit build named (`exporting manifest list sha256:…` or
//! `exporting manifest sha256:…`, then `naming to REF`), and the digest a build resolved its
//! SOURCE to (`resolve REF@sha256:…`). A run judges what it owns from these — what docker
//! reported doing at that moment — never from what a tag holds later, which another run may
//! have changed meanwhile (issue 19 §1). Formats as docker 28 / buildx 0.13 print them (seen on
//! the stack); a line that matches none is ignored.

/// What one docker command reported, as far as the run cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Said {
    /// The digest the command pushed to its tag (the manifest or index the tag then named).
    pub pushed: Option<String>,
    /// The image a BuildKit build named its tag to (index digest, else manifest digest);
    /// None from a classic builder, which prints only a short image ID.
    pub built: Option<String>,
    /// The digest the build resolved its SOURCE reference to.
    pub source: Option<String>,
}

/// Reads docker's lines for a command that writes `tag` (and, for a cache build, reads
/// `source`).
#[derive(Debug, Clone, Default)]
pub struct Listener {
    tag: String,
    source: Option<String>,
    list: Option<String>,
    manifest: Option<String>,
    pub said: Said,
}

impl Listener {
    pub fn new(tag: &str, source: Option<&str>) -> Listener {
        Listener {
            tag: tag.to_string(),
            source: source.map(String::from),
            ..Listener::default()
        }
    }

    /// Takes one line of output (either stream).
    pub fn line(&mut self, line: &str) {
        if let Some(rest) = after(line, ": digest: ") {
            // `docker push` prints this once, for the one tag it pushes.
            if rest.contains(" size: ") {
                if let Some(d) = digest_at(rest) {
                    self.said.pushed = Some(d);
                }
            }
        }
        if let Some(rest) = after(line, "pushing manifest for ") {
            if let Some((r, d)) = word(rest).split_once('@') {
                if same_ref(r, &self.tag) {
                    self.said.pushed = digest_at(d);
                }
            }
        }
        if let Some(rest) = after(line, "pushing sha256:") {
            let mut words = rest.split_whitespace();
            let d = words.next().map(|h| format!("sha256:{h}"));
            if words.next() == Some("to") && words.next().is_some_and(|r| same_ref(r, &self.tag)) {
                self.said.pushed = d.as_deref().and_then(digest_at);
            }
        }
        if let Some(rest) = after(line, "exporting manifest list ") {
            self.list = digest_at(rest);
        } else if let Some(rest) = after(line, "exporting manifest ") {
            self.manifest = digest_at(rest);
        }
        if let Some(rest) = after(line, "naming to ") {
            if same_ref(word(rest), &self.tag) {
                self.said.built = self.list.clone().or_else(|| self.manifest.clone());
            }
        }
        if let (Some(src), Some(rest)) = (&self.source, after(line, "resolve ")) {
            if let Some((r, d)) = word(rest).split_once('@') {
                if same_ref(r, src) {
                    self.said.source = digest_at(d);
                }
            }
        }
    }
}

/// The text after the first `needle`.
fn after<'a>(line: &'a str, needle: &str) -> Option<&'a str> {
    line.find(needle).map(|i| &line[i + needle.len()..])
}

fn word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or_default()
}

/// `sha256:<64 hex>` at the start of `s`.
fn digest_at(s: &str) -> Option<String> {
    let hex = s.strip_prefix("sha256:")?;
    let hex = hex.get(..64)?;
    hex.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| format!("sha256:{hex}"))
}

/// Whether docker's spelling of a reference is the one we gave it: docker and buildx print
/// Docker Hub references in full (`docker.io/library/x:1` for `x:1`).
pub fn same_ref(printed: &str, ours: &str) -> bool {
    let full = |r: &str| -> String {
        let r = r.strip_prefix("docker.io/").unwrap_or(r);
        match r.split_once('/') {
            Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => r.into(),
            Some(_) => format!("docker.io/{r}"),
            None => format!("docker.io/library/{r}"),
        }
    };
    printed == ours || full(printed) == full(ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "127.0.0.1:5000/r/beta:2.1-linux-cache";

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn listen(tag: &str, source: Option<&str>, lines: &[String]) -> Said {
        let mut l = Listener::new(tag, source);
        for line in lines {
            l.line(line);
        }
        l.said
    }

    #[test]
    fn reads_what_docker_push_and_buildx_say_they_pushed() {
        // docker push, as the node push prints it.
        let s = listen(
            "127.0.0.1:5000/r/beta:2.1",
            None,
            &[format!("2.1: digest: {} size: 857", d('a'))],
        );
        assert_eq!(s.pushed, Some(d('a')));
        // buildx --output=type=registry (the cache build); another tag's line is not ours.
        let s = listen(
            T,
            None,
            &[
                format!(
                    "#6 pushing manifest for 127.0.0.1:5000/r/other:1@{}",
                    d('c')
                ),
                format!("#6 pushing manifest for {T}@{} 0.0s done", d('b')),
            ],
        );
        assert_eq!(s.pushed, Some(d('b')));
        // buildx imagetools create (the list step, the copy of the plain cache tag).
        let hex = "e".repeat(64);
        let s = listen(T, None, &[format!("#1 0.000 pushing sha256:{hex} to {T}")]);
        assert_eq!(s.pushed, Some(d('e')));
        let s = listen(T, None, &[format!("#1 0.000 pushing sha256:{hex} to {T}x")]);
        assert_eq!(s.pushed, None);
        assert_eq!(
            listen(T, None, &["fake docker: push ok".into()]),
            Said::default()
        );
    }

    #[test]
    fn reads_the_image_a_build_named_and_the_source_it_resolved() {
        let tag = "127.0.0.1:5000/r/beta:2.1-windows-amd64-1809";
        let lines = [
            format!("#7 exporting manifest {} 0.0s done", d('1')),
            format!("#7 exporting attestation manifest {} 0.0s done", d('2')),
            format!("#7 exporting manifest list {} 0.0s done", d('3')),
            format!("#7 naming to {tag} done"),
        ];
        assert_eq!(listen(tag, None, &lines).built, Some(d('3')));
        // Without attestations: the manifest is the image.
        assert_eq!(listen(tag, None, &lines[..1]).built, None);
        let plain = [lines[0].clone(), format!("#7 naming to {tag} done")];
        assert_eq!(listen(tag, None, &plain).built, Some(d('1')));
        let src = format!("#4 resolve {tag}@{} 0.1s done", d('4'));
        assert_eq!(listen(T, Some(tag), &[src]).source, Some(d('4')));
    }

    #[test]
    fn docker_hub_references_match_in_either_spelling() {
        assert!(same_ref("docker.io/library/busybox:1", "busybox:1"));
        assert!(same_ref("docker.io/me/x:1", "me/x:1"));
        assert!(!same_ref("docker.io/me/x:1", "me/x:2"));
        assert!(same_ref(T, T));
    }
}
