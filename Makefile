# Thin front for `cargo xtask` (see README.md). Every target is one `$(CARGO) xtask …` line;
# variables given to make (REGISTRY=… REMOTE_DOCKER_URL=… on its command line, or from the
# environment) reach xtask as environment variables, which it reads as its flags.
CARGO ?= cargo

.PHONY: all-build all-push all-push-as-linux test check e2e stack-up stack-down bench tls

all-build:
	$(CARGO) xtask all-build
all-push:
	$(CARGO) xtask all-push
all-push-as-linux:
	$(CARGO) xtask all-push-as-linux
sub-build-%:
	$(CARGO) xtask sub-build-$*
sub-push-%:
	$(CARGO) xtask sub-push-$*
sub-repush-as-linux-%:
	$(CARGO) xtask sub-repush-as-linux-$*
# TLS material for a Windows node: make tls TLS_SERVER_NAME=… TLS_IP=… TLS_OUT=… (or TLS_ARGS="…").
# (.PHONY matters here: the tls/ crate folder would otherwise make the target "up to date".)
tls:
	$(CARGO) xtask tls $(TLS_ARGS)

# Fast checks, no Docker stack needed (e2e tests skip loudly without one).
test:
	ci/test.sh
# Everything, on the real Docker stack on loopback: install it, start it, test, stop it.
check:
	ci/check.sh
# Only the end-to-end tests (starts and stops the stack).
e2e:
	ci/check.sh e2e
# Benchmarks against upstream's sequence on the loopback stack; writes BENCHMARKS.md.
bench:
	ci/check.sh bench
