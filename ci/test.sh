#!/usr/bin/env bash
# The project's checks without starting anything: formatting, clippy, every test. The
# end-to-end tests run when a stack is up (ci/stack.sh up) and say loudly they were skipped
# otherwise; under CI a missing stack fails them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test
