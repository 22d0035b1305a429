#!/usr/bin/env bash
# `make check` (everything), `make e2e` (only the end-to-end tests) and `make bench`: install and start
# the loopback Docker stack, run the tests, stop the stack — also when a test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
t0=$(date +%s)
ci/stack.sh install
trap 'ci/stack.sh down' EXIT
ci/stack.sh up
t1=$(date +%s)
echo "check: stack installed and up in $((t1 - t0))s" >&2
if [[ ${1:-} == e2e ]]; then
	cargo test --test e2e --test faults_e2e --test unchanged_e2e --test doctor_e2e
elif [[ ${1:-} == bench ]]; then
	python3 ci/bench.py
else
	ci/test.sh
fi
echo "check: tests took $(($(date +%s) - t1))s" >&2
