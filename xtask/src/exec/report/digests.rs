//! The digest each pushed tag resolves to in the registry after the run, as the registry
//! itself answers: one read-only `docker buildx imagetools inspect --format
//! '{{json .Manifest}}' TAG` per tag (docker's own credentials and TLS, as `verify` uses),
//! several at once, each with a deadline. Asked after the run rather than read from docker
//! push's output, so the three kinds of step that push (node push, buildx cache build,
//! manifest list) are answered the same way, and the report holds what a consumer pulling
//! the tag gets now. Nothing is asked after a signal: a run that was interrupted starts
//! nothing new.

use super::State;
use super::{Digest, Run};
use crate::docker::{self, Registry, QUERIES_AT_ONCE};
use crate::exec::term::write_line;
use crate::plan::Kind;

/// One entry per step: the digest its pushed tag has now, or why the report has none. Each
/// answer may take the registry deadline (REGISTRY_TIMEOUT): a dead registry must not hang the end of the
/// run.
pub fn digests(registry: Registry, run: &Run) -> Vec<Digest> {
    let mut out: Vec<Digest> = run
        .plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| match (s.kind(), run.state(i)) {
            (Kind::Build, _) => Err("a node build pushes nothing (its push step does)".into()),
            (_, State::Failed(..)) => Err("not pushed: the step failed".into()),
            (_, State::Stopped(_)) => Err("not pushed: the step was stopped".into()),
            (_, State::Pending | State::Running(_)) => {
                Err("not pushed: the step did not start".into())
            }
            (_, State::Ok(_) | State::Skipped) if run.interrupted() => {
                Err("not asked: the run was interrupted (nothing new starts after a signal)".into())
            }
            (_, State::Ok(_) | State::Skipped) => Ok(String::new()),
        })
        .collect();
    let ask: Vec<usize> = (0..out.len()).filter(|&i| out[i].is_ok()).collect();
    if ask.is_empty() {
        return out;
    }
    write_line(
        true,
        &format!(
            "xtask: asking the registry for the digest of {} pushed tag{} (report)",
            ask.len(),
            if ask.len() == 1 { "" } else { "s" }
        ),
    );
    let answers = docker::at_most(QUERIES_AT_ONCE, &ask, |&i| {
        resolve(registry, &run.plan.steps[i].tag)
    });
    for (&i, a) in ask.iter().zip(answers) {
        out[i] = a;
    }
    out
}

/// The digest TAG resolves to, or what docker said instead (first line, bounded).
fn resolve(registry: Registry, tag: &str) -> Digest {
    let why = |e: String| {
        let line = e.trim().lines().next().unwrap_or_default();
        let line: String = line.chars().take(200).collect();
        format!("the registry did not say: {line}")
    };
    registry.digest(tag).map_err(|e| why(e.into()))
}

#[cfg(test)]
mod tests {
    use crate::docker::oci::descriptor_digest as digest_of;

    #[test]
    fn reads_the_descriptor_digest() {
        let d = format!("sha256:{}", "ab".repeat(32));
        let answer = format!(
            r#"{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{d}","size":856}}"#
        );
        assert_eq!(digest_of(&answer), Some(d));
        assert_eq!(digest_of(r#"{"digest":"sha256:short"}"#), None);
        assert_eq!(digest_of("fake docker: buildx imagetools ok"), None);
        assert_eq!(digest_of(r#"{"size":1}"#), None);
    }
}
