#!/usr/bin/env bash
# The project's checks without starting anything: formatting, clippy, lint of images/, every
# test. The end-to-end tests run when a stack is up (ci/stack.sh up) and say loudly they were
# skipped otherwise; under CI a missing stack fails them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
# The repo's own images/, all of them, whatever selection the caller's environment holds.
env -u IMAGES -u IMAGES_DIR -u OS_VERSIONS cargo run --quiet --package xtask -- lint
cargo test
