# spec-tests/conformance/module.mk builds the conformance checker (static C, glibc), which
# spec-tests/conformance/conformance.test.ts runs as a container's init under runc and tvisor.

BUILD_TARGETS += build/programs/conformance-checker

build/programs/conformance-checker: spec-tests/conformance/checker.c spec-tests/behaviour/programs/common.h
	@mkdir -p $(@D)
	$(CC) $(BEHAVIOUR_CFLAGS) -o $@ $<
