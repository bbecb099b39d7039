# spec-tests/module.mk builds the behaviour-test programs (static C, glibc) and runs
# `make bench-syscalls` and `make bench-start`.
#
# Each program in spec-tests/behaviour/programs/ becomes build/programs/<name>; the tests
# in spec-tests/behaviour/ run them natively and under runc, runsc and tvisor.

BEHAVIOUR_PROGRAMS := fork-exec-wait pipes signals mmap files fds segv enosys bench-syscalls unix-sockets inet-loopback epoll resources shm locks sigwait eintr pgrp
BEHAVIOUR_PROGRAMS += files-legacy misc-sys sched ids
BEHAVIOUR_PROGRAMS += cpuclock timers rlimits procself
BEHAVIOUR_PROGRAMS += fdfiles
BEHAVIOUR_PROGRAMS += futex vfork futex2 ipcns pidns clone3
BEHAVIOUR_PROGRAMS += fifo select opath ioprio
BEHAVIOUR_PROGRAMS += legacy-calls
BEHAVIOUR_PROGRAMS += fork-lazy
BEHAVIOUR_PROGRAMS += netlink-raw netlink-ifaddrs
BEHAVIOUR_PROGRAMS += mapshared bench-io rwdirect cache-evict cowfile cache-pin
BEHAVIOUR_PROGRAMS += sysv-shm sysv-sem sysv-msg mqueue
BEHAVIOUR_PROGRAMS += inotify-host
BEHAVIOUR_PROGRAMS += forkcount
BEHAVIOUR_PROGRAMS += pty
BEHAVIOUR_PROGRAMS += net-host bench-net raw-ping udp-cmsg vma-merge
BEHAVIOUR_PROGRAMS += xattr vdso aslr rss smaps affinity-status oom-reclaim oom-thrash cow-punch
BEHAVIOUR_PROGRAMS += cow
BEHAVIOUR_PROGRAMS += mounts mntns
BEHAVIOUR_PROGRAMS += mmops memhog
BEHAVIOUR_PROGRAMS += unshare sessions
BEHAVIOUR_PROGRAMS += userns procio fdinfo-anon timerslack wchan newuser devpts-mount
BEHAVIOUR_PROGRAMS += seccomp-view proc-create
BEHAVIOUR_PROGRAMS += prctl-name
BEHAVIOUR_PROGRAMS += ptrace ptrace-syscall
BEHAVIOUR_PROGRAMS += proclayout ttystat sigstat
BEHAVIOUR_BINS := $(addprefix build/programs/,$(BEHAVIOUR_PROGRAMS))
BEHAVIOUR_CFLAGS := -static -O2 -Wall -Wextra -Werror

BUILD_TARGETS += $(BEHAVIOUR_BINS)

build/programs/%: spec-tests/behaviour/programs/%.c spec-tests/behaviour/programs/common.h
	@mkdir -p $(@D)
	$(CC) $(BEHAVIOUR_CFLAGS) -o $@ $<

# BASELINE=<commit> adds that commit's build (scripts/baseline-build.sh, built once into
# build/baseline/) to a benchmark, measured in the same run (spec-tests/bench/baseline.ts).
BASELINE ?=
define bench_baseline
$(if $(BASELINE),mkdir -p build/bench && scripts/baseline-build.sh $(BASELINE) > build/bench/baseline-bin)
endef
BENCH_ENV = $(if $(BASELINE),BASELINE_REV=$(BASELINE) BASELINE_BIN=$$(cat build/bench/baseline-bin))

# The escape tests' programs (spec-tests/security/programs/): static too, each built by
# its own rule when it needs other flags.
SECURITY_PROGRAMS := sigtrap entry ptrace-regs fuzz shm-reuse mapshared-ro ipc-flood vdso-write netlink-abuse net-escape systrap-corrupt systrap-gadgets kvm-escape cow-exec pod-fdpass pod-watch
SECURITY_BINS := $(addprefix build/programs/,$(SECURITY_PROGRAMS))

BUILD_TARGETS += $(SECURITY_BINS)

build/programs/%: spec-tests/security/programs/%.c
	@mkdir -p $(@D)
	$(CC) $(BEHAVIOUR_CFLAGS) -o $@ $<

# The syscall benchmark: native, runc, runsc and tvisor measured in the same run.
.PHONY: bench-syscalls
bench-syscalls: build
	node_modules/esbuild/bin/esbuild spec-tests/bench/bench-syscalls.ts --bundle --platform=node --format=cjs \
		--log-level=warning --outfile=build/bench/bench-syscalls.js
	$(bench_baseline)
	$(BENCH_ENV) $(NODE) build/bench/bench-syscalls.js

# The cold walk's file system work without the trap: the sentry's CPU per cold stat in
# one process against a real gofer (spec-tests/bench/walk-cpu.ts; WALK_CPU_ROUNDS).
.PHONY: bench-walk-cpu
bench-walk-cpu: build
	node_modules/esbuild/bin/esbuild spec-tests/bench/walk-cpu.ts --bundle --platform=node --format=cjs \
		--log-level=warning --external:koffi '--external:*.node' --outfile=build/bench/walk-cpu.js
	$(NODE) build/bench/walk-cpu.js

# File I/O throughput on tmpfs and the rootfs: runc, runsc and tvisor in the same run.
.PHONY: bench-io
bench-io: build
	node_modules/esbuild/bin/esbuild spec-tests/bench/bench-io.ts --bundle --platform=node --format=cjs \
		--log-level=warning --outfile=build/bench/bench-io.js
	$(bench_baseline)
	$(BENCH_ENV) $(NODE) build/bench/bench-io.js

# TCP over a veth pair between two namespaces: runc, runsc and tvisor in the same run.
.PHONY: bench-net
bench-net: build
	node_modules/esbuild/bin/esbuild spec-tests/bench/bench-net.ts --bundle --platform=node --format=cjs \
		--log-level=warning --outfile=build/bench/bench-net.js
	$(NODE) build/bench/bench-net.js

# Container start-up and idle memory: runc, runsc and tvisor measured in the same run;
# then a pod's memory against separate sandboxes (bench-pod) unless BENCH_POD=0.
.PHONY: bench-start
bench-start: build
	node_modules/esbuild/bin/esbuild spec-tests/bench/bench-start.ts --bundle --platform=node --format=cjs \
		--external:koffi '--external:*.node' --log-level=warning --outfile=build/bench/bench-start.js
	$(bench_baseline)
	$(BENCH_ENV) $(NODE) build/bench/bench-start.js
	@# Issue 15's pod figure in the same run (spec-tests/cri/bench-pod.ts: containerd's CRI).
	@if [ "$${BENCH_POD:-1}" = 1 ] && command -v containerd >/dev/null; then $(MAKE) --no-print-directory bench-pod; \
	else echo "bench-start: the pod figure left out (BENCH_POD=0, or no containerd: make bench-pod prints it)"; fi

# Where the milliseconds of tvisor's commands go, per process (the start-up marks).
.PHONY: profile-start
profile-start: build
	node_modules/esbuild/bin/esbuild spec-tests/bench/profile-start.ts --bundle --platform=node --format=cjs \
		--external:koffi '--external:*.node' --log-level=warning --outfile=build/bench/profile-start.js
	$(NODE) build/bench/profile-start.js

# Where an idle sandbox's memory goes, per process and part (PROFILE_MEMORY_SANDBOXES, default 20).
.PHONY: profile-memory
profile-memory: build
	node_modules/esbuild/bin/esbuild spec-tests/bench/profile-memory.ts --bundle --platform=node --format=cjs \
		--external:koffi '--external:*.node' --log-level=warning --outfile=build/bench/profile-memory.js
	$(bench_baseline)
	$(BENCH_ENV) $(NODE) build/bench/profile-memory.js

# The conformance checker (issue 11's acceptance test) has its own rules.
include spec-tests/conformance/module.mk
# aslr.c is a static PIE: its own text is placed at random like a dynamic PIE's.
build/programs/aslr: spec-tests/behaviour/programs/aslr.c spec-tests/behaviour/programs/common.h
	@mkdir -p $(@D)
	$(CC) $(filter-out -static,$(BEHAVIOUR_CFLAGS)) -static-pie -fPIE -o $@ $<
