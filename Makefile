# Thin front for `cargo xtask` (see README.md). Every target is one `$(CARGO) xtask …` line;
# variables given to make (REGISTRY=… REMOTE_DOCKER_URL=… on its command line, or from the
# environment) reach xtask as environment variables, which it reads as its flags.
#
# No value reaches a shell as code: a recipe holds no make variable but $(CARGO) (the user's
# own choice of program). A target name or a value travels in an environment variable that
# the recipe quotes ("$$X": one argv word, never re-read as shell code).
CARGO ?= cargo

# make expands a variable given on its command line (`make 'REGISTRY=$(shell …)'`) when it
# hands it to a recipe; freeze each one to the literal text typed, still exported. (Values from
# the environment are never expanded. make itself expands the *name* of a command-line
# variable before reading this file; nothing here can stop that.)
# The same holds for variables that arrive in MAKEFLAGS from the environment (`MAKEFLAGS='R=$$(shell
# …)'`): make takes them as command-line variables. The loop variable has a name of its own:
# inside the loop a variable of the loop's name reads as the loop's, so it would stay unfrozen
# (and a command-line `v=$(shell …)` ran); that one name is refused instead.
ifeq ($(origin xtask-freeze-var),command line)
$(error the variable name xtask-freeze-var is reserved by this Makefile: unset it)
endif
$(foreach xtask-freeze-var,$(.VARIABLES),$(if $(filter command line,$(origin $(xtask-freeze-var))),$(eval override export $(xtask-freeze-var) := $$(value $(xtask-freeze-var)))))
# Recipes run with /bin/sh -c whatever SHELL or .SHELLFLAGS the command line (or MAKEFLAGS)
# says: `make SHELL=/tmp/x` would otherwise run /tmp/x with each recipe as its argument.
override SHELL := /bin/sh
override .SHELLFLAGS := -c

ifdef TLS_ARGS
$(error TLS_ARGS is not read any more (its words reached the shell): use TLS_SERVER_NAME, TLS_IP, TLS_DNS, TLS_DAYS, TLS_OUT, TLS_CA, or `cargo xtask tls --force …`)
endif

.PHONY: all-build all-push all-push-as-linux doctor verify lint plan tls test check e2e bench report promotion pin-bases

all-build:
	$(CARGO) xtask all-build
all-push:
	$(CARGO) xtask all-push
all-push-as-linux:
	$(CARGO) xtask all-push-as-linux
# The pattern targets: the goal's name reaches xtask as one word through XTASK_MAKE_GOAL.
sub-build-% sub-push-% sub-repush-as-linux-%: export XTASK_MAKE_GOAL = $@
sub-build-%:
	$(CARGO) xtask "$$XTASK_MAKE_GOAL"
sub-push-%:
	$(CARGO) xtask "$$XTASK_MAKE_GOAL"
sub-repush-as-linux-%:
	$(CARGO) xtask "$$XTASK_MAKE_GOAL"

# Diagnostics: `make doctor|verify [TARGET=…]`, `make plan TARGET=…`, `make lint`; IMAGES=…
# selects images as for the other targets. TARGET reaches xtask as one word (or none if unset),
# after `--`: a value such as `--help` is a target name xtask refuses, never a flag.
doctor:
	$(CARGO) xtask doctor $${TARGET:+-- "$$TARGET"}
verify:
	$(CARGO) xtask verify $${TARGET:+-- "$$TARGET"}
plan:
	$(CARGO) xtask plan $${TARGET:+-- "$$TARGET"}
lint:
	$(CARGO) xtask lint

# Release engineering (docs/release.md): `make report RUN=run.json`, `make promotion RUN=run.json`,
# `make pin-bases`. RUN reaches xtask as one word.
report:
	$(CARGO) xtask report "$$RUN"
promotion:
	$(CARGO) xtask promotion "$$RUN"
pin-bases:
	$(CARGO) xtask pin-bases

# TLS material for a Windows node: make tls TLS_SERVER_NAME=… TLS_IP=… TLS_OUT=… (xtask reads
# the TLS_* variables). (.PHONY matters here: the tls/ crate folder would otherwise make the
# target "up to date".)
tls:
	$(CARGO) xtask tls

# Fast checks, no Docker stack needed: the stack tests show as ignored.
test:
	ci/test.sh
# Everything, on the real Docker stack on loopback (STACK_HOME, default target/stack): install
# it, start it unless it is already up, run every test, stop it if this run started it.
check:
	ci/check.sh
# Only the stack tests (the ignored ones), same stack handling.
e2e:
	ci/check.sh e2e
# Benchmarks against upstream's sequence on the loopback stack; writes BENCHMARKS.md.
bench:
	ci/check.sh bench
