#!/usr/bin/env bash
# The project's checks without starting anything: formatting, clippy, lint of images/, every
# test. The stack tests are #[ignore = "needs the loopback stack: make e2e"]: `make test` lists
# them as ignored. `ci/test.sh --with-stack` (what ci/check.sh runs, with a stack up) runs them
# too, in the same `cargo test`; so does CI (CI set), where a missing stack fails the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
with_stack=0
case "${1:-}" in
--with-stack) with_stack=1 ;;
"") ;;
*)
	echo "usage: ci/test.sh [--with-stack]" >&2
	exit 2
	;;
esac
if [[ -n ${CI:-} ]]; then with_stack=1; fi
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
# The repo's own images/, all of them, whatever selection the caller's environment holds.
env -u IMAGES -u IMAGES_DIR -u OS_VERSIONS cargo run --quiet --package xtask -- lint
if ((with_stack)); then
	cargo test -- --include-ignored
else
	cargo test
fi
