# platform/module.mk builds the platform's static test programs and the C reference of
# `make bench-platform` (ptrace and systrap).

PLATFORM_TEST_PROGRAMS := syscall-loop write faults escape bench-loop fp tls
PLATFORM_TEST_BINS := $(addprefix build/platform/testing/,$(PLATFORM_TEST_PROGRAMS))
PLATFORM_BENCH_REF := build/platform/bench/sysemu-ref
PLATFORM_SYSTRAP_REF := build/platform/bench/systrap-ref
# Freestanding: no libc, no auxv, no TLS; static and non-PIE so the test loader stays tiny.
PLATFORM_TEST_CFLAGS := -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie \
	-fcf-protection=none -O2 -Wall -Wextra -Werror -Wl,--build-id=none

BUILD_TARGETS += $(PLATFORM_TEST_BINS) $(PLATFORM_BENCH_REF) $(PLATFORM_SYSTRAP_REF)

build/platform/testing/%: platform/testing/programs/%.c platform/testing/programs/sys.h
	@mkdir -p $(@D)
	$(CC) $(PLATFORM_TEST_CFLAGS) -o $@ $<

$(PLATFORM_BENCH_REF): platform/bench/sysemu-ref.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

$(PLATFORM_SYSTRAP_REF): platform/bench/systrap-ref.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

.PHONY: bench-platform
bench-platform: build
	node_modules/esbuild/bin/esbuild platform/bench/bench-platform.ts --bundle --platform=node --format=cjs --external:koffi "--external:*.node" --log-level=warning --outfile=build/platform/bench/bench-platform.js
	$(NODE) build/platform/bench/bench-platform.js
