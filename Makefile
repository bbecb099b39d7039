# tvisor build. `make` builds everything, `make test` runs every test.
#
# Each part of the tree may add its own rules in a module.mk beside its sources; it
# appends what `make` must build to BUILD_TARGETS. Benchmarks are `bench-*` targets.

SHELL := /bin/bash
NODE ?= node
NPM ?= npm
# node-gyp builds against the installed Node's own headers (this machine's npm sets nodedir).
NODEDIR ?= $(shell $(NPM) config get nodedir 2>/dev/null | grep -v '^undefined$$')
NODE_GYP := $(NODE) node_modules/node-gyp/bin/node-gyp.js $(if $(NODEDIR),--nodedir=$(NODEDIR))
CC ?= gcc

TS_SOURCES := $(shell find oci runtime sentry gofer platform native spec-tests -name '*.ts' -not -name '*.test.ts' 2>/dev/null)
BUILD_TARGETS := bin/tvisor

.PHONY: all setup deps build bundle demo test typecheck clean debian-image
all: build

# Debian packages that the build, the tests and the benchmarks use (as root).
DEBIAN_PACKAGES := gcc g++ make python3 busybox-static runc runsc diod socat strace gdb bubblewrap hyperfine docker.io iproute2 procps util-linux debootstrap curl iptables containerd containernetworking-plugins
# The KVM test VM (spec-tests/kvm-vm/module.mk); its kernel is fetched, never installed.
DEBIAN_PACKAGES += qemu-system-x86
setup:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBIAN_PACKAGES)
	$(MAKE) deps

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

dist/tvisor.js: node_modules/.package-lock.json scripts/build.mjs $(TS_SOURCES)
	$(NODE) scripts/build.mjs
	rm -f dist/*.blob dist/.snapshots

bin/tvisor: scripts/tvisor-launcher.js dist/tvisor.js
	@mkdir -p bin
	install -m 0755 scripts/tvisor-launcher.js $@

# V8 start-up snapshots (native/snapshot.ts), opt-in: `make snapshots` builds the sentry's
# bundle once per set of Node flags it is started with, for this Node (dist/sentry.*.blob).
# Not built by default: measured here at loads of 1-4, a sentry started from its blob took
# the same time as one loading its bundle with the code cache and kept 3 MB more private
# memory (README, "start-up"). A rebuild of the bundles removes the blobs of the old ones.
dist/.snapshots: dist/tvisor.js scripts/build-snapshot.mjs
	$(NODE) scripts/build-snapshot.mjs sentry
	rm -f dist/gofer.*.blob
	@touch $@
snapshots: dist/.snapshots
.PHONY: snapshots

-include vdso/module.mk native/module.mk native/kvm/module.mk platform/module.mk gofer/module.mk sentry/module.mk runtime/module.mk spec-tests/module.mk spec-tests/cri/module.mk
-include spec-tests/kvm-vm/module.mk

# The sentry's and the gofer's V8 code caches, made once per build of the bundles by a
# trusted run of `true` (scripts/train-code-cache.mjs: a confined process could only cache
# what it compiled before its pivot). Needs root and busybox-static; without them it says
# so and the runtime writes its caches itself.
dist/.code-cache: dist/tvisor.js bin/tvisor scripts/train-code-cache.mjs | $(BUILD_TARGETS)
	$(NODE) scripts/train-code-cache.mjs
	@touch $@

build: $(BUILD_TARGETS) dist/.code-cache

# The embedded default bundle: Debian's static busybox as the rootfs.
build/bundle/config.json: scripts/make-busybox-bundle.sh bin/tvisor
	scripts/make-busybox-bundle.sh build/bundle
bundle: build/bundle/config.json

# The main job: see README.md.
demo: build bundle
	scripts/demo.sh

# The Debian bookworm image in which the tests run real programs (debootstrap, built once
# and kept in build/debian while the package list stays the same; see spec-tests/debian/).
DEBIAN_IMAGE_PACKAGES := python3,sqlite3,tini,procps,curl,git,perl,gcc,make,libc6-dev,file
debian-image: scripts/make-debian-rootfs.sh
	scripts/make-debian-rootfs.sh build/debian/rootfs $(DEBIAN_IMAGE_PACKAGES)

typecheck: node_modules/.package-lock.json
	$(NODE) node_modules/typescript/bin/tsc --noEmit -p .

# The whole suite records which syscalls the tvisor runs made; then the coverage check
# (spec-tests/coverage/) fails if a syscall marked `full` was never exercised. With
# JEST_ARGS (a part of the suite) the check is not run.
SYSCALL_COVERAGE_DIR := $(CURDIR)/build/coverage/syscalls
test: build typecheck debian-image
	rm -rf $(SYSCALL_COVERAGE_DIR)
	TVISOR_SYSCALL_COVERAGE=$(SYSCALL_COVERAGE_DIR) $(NODE) node_modules/jest/bin/jest.js --ci $(JEST_ARGS)
	$(if $(JEST_ARGS),,TVISOR_SYSCALL_COVERAGE=$(SYSCALL_COVERAGE_DIR) TVISOR_COVERAGE_CHECK=1 $(NODE) node_modules/jest/bin/jest.js --ci spec-tests/coverage)

# The suites that run containers, again on the platform that is not the default
# (TVISOR_PLATFORM: the behaviour runner's switch, which the Debian-image and escape tests
# use too, and the OCI harness's): behaviour, security, the Debian image, and the OCI
# lifecycle tests whose results depend on the platform (ps's host pids, pause, the
# descriptors and terminal a stub-run init gets). `make test` runs everything on the
# default (systrap where its self-check passes: `bin/tvisor platforms`); CI runs
# `make test-ptrace` after it. `make test-systrap` forces systrap on the same suites (the
# other way round, for a host whose default fell back to ptrace).
PLATFORM_SUITES := spec-tests/behaviour spec-tests/security spec-tests/debian \
	spec-tests/oci/cli-forms.test.ts spec-tests/oci/pause-ps.test.ts spec-tests/oci/lifecycle.test.ts \
	spec-tests/oci/preserve-fds.test.ts spec-tests/oci/terminal.test.ts
.PHONY: test-ptrace test-systrap
test-ptrace: build debian-image
	TVISOR_PLATFORM=ptrace $(NODE) node_modules/jest/bin/jest.js --ci $(PLATFORM_SUITES)
test-systrap: build debian-image
	TVISOR_PLATFORM=systrap $(NODE) node_modules/jest/bin/jest.js --ci $(PLATFORM_SUITES)

clean:
	rm -rf dist build native/build bin/tvisor
