#!/usr/bin/env bash
# `make check` (every test), `make e2e` (only the stack tests) and `make bench`, on the loopback
# Docker stack at STACK_HOME (default target/stack; relative to the repository root). A stack
# already up there (ci/stack.sh status) is used and left running; otherwise this installs and
# starts one and stops it at the end, also when a test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode=${1:-all}
case "$mode" in
all | e2e | bench) ;;
*)
	echo "usage: ci/check.sh [e2e|bench]" >&2
	exit 2
	;;
esac
# One absolute STACK_HOME for stack.sh and the tests (which run in xtask/), and the tests told
# its env file, whatever XTASK_STACK_ENV the caller had.
STACK_HOME=${STACK_HOME:-target/stack}
mkdir -p "$STACK_HOME"
STACK_HOME=$(cd "$STACK_HOME" && pwd)
export STACK_HOME XTASK_STACK_ENV=$STACK_HOME/env
t0=$(date +%s)
if ci/stack.sh status >/dev/null 2>&1; then
	echo "check: the stack at $STACK_HOME is up already: using it, leaving it running" >&2
else
	# (A stack that is only partly up there is stopped and started afresh by `up`.)
	ci/stack.sh install
	trap 'ci/stack.sh down' EXIT
	# One more try after a failed start (a daemon or front that died while starting on a
	# loaded machine); a second failure fails the run.
	ci/stack.sh up || {
		echo "check: the stack did not come up; stopping it and trying once more" >&2
		ci/stack.sh down
		ci/stack.sh up
	}
	echo "check: stack at $STACK_HOME installed and up in $(($(date +%s) - t0))s" >&2
fi
t1=$(date +%s)
case "$mode" in
e2e) cargo test -- --ignored ;; # exactly the stack tests (all #[ignore]d, in xtask/tests/it/)
bench) python3 ci/bench.py ;;
all) ci/test.sh --with-stack ;;
esac
echo "check: tests took $(($(date +%s) - t1))s" >&2
