//! A credential helper that never answers (issue 19 §5), against a fake docker on PATH whose
//! push runs `docker-credential-slow get` as the docker CLI does for a registry's password:
//! the step ends within REGISTRY_TIMEOUT (and a poll), naming the helper — before, it waited
//! silently for STEP_IDLE_TIMEOUT, since node and registry both answer the watch.

use std::time::{Duration, Instant};

use crate::support::*;

#[test]
fn a_credential_helper_that_never_answers_ends_the_step_naming_it() {
    let w = World::new("cred-helper");
    w.image("alpha", "1.0");
    let helper = w.bin().join("docker-credential-slow");
    // Not `exec sleep`: the helper stays a process named docker-credential-slow, as a real one.
    write(&helper, "#!/bin/bash\nsleep 600\n");
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let hook = w.root().join("hook.sh");
    write(
        &hook,
        r##"
if [[ " $* " == *" push "* ]]; then
  echo "127.0.0.1:5000" | docker-credential-slow get >/dev/null
fi
"##,
    );
    let t = Instant::now();
    let o = run(w
        .xtask()
        .args(["sub-push-alpha"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("REGISTRY_TIMEOUT", "2")
        .env("STEP_IDLE_CHECK", "60")
        .env("STEP_IDLE_TIMEOUT", "600")
        .env("FAKE_DOCKER_HOOK", &hook));
    let took = t.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(15), "{took:?}:\n{err}");
    assert!(
        err.contains("the credential helper docker-credential-slow did not answer within 2 s (limit: REGISTRY_TIMEOUT)"),
        "{err}"
    );
    // Not retried: a retry would wait as long again.
    let pushes = w
        .calls()
        .iter()
        .filter(|c| c.contains(&"push".to_string()))
        .count();
    assert_eq!(pushes, 1, "{err}");
}
