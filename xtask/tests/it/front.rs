//! The stack's Windows-persona front (`ci/front.py`, docs/personas.md) checked without the
//! stack: `ci/front_test.py` runs it between a fake stand-in on a unix socket and a TLS client
//! with a client certificate (persona answers, /vNN/ mapped down, isolation taken out and
//! recorded, streams and upgrades passed through, a classic build done by a fake build child
//! with the request's credentials and answered as the classic JSON stream). Needs python3 and
//! the openssl CLI, as the stack does.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_persona_front_answers_forwards_and_records_as_documented() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root")
        .to_path_buf();
    let o = Command::new("python3")
        .arg("-W")
        .arg("ignore")
        .arg(root.join("ci/front_test.py"))
        .output()
        .expect("python3 ci/front_test.py");
    assert!(
        o.status.success(),
        "ci/front_test.py failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
