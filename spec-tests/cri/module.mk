# spec-tests/cri/module.mk builds the CRI tests' pause program (the pods' sandbox image)
# and runs `make test-cri`: containerd's CRI driven through gRPC with runc and tvisor as
# runtime handlers (spec-tests/cri/pod.test.ts says what it needs and checks).

BUILD_TARGETS += build/programs/cri-pause

build/programs/cri-pause: spec-tests/cri/pause.c
	@mkdir -p $(@D)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

# TVISOR_CRI_HANDLERS=runc,tvisor (the default) chooses the handlers the pod test runs under.
.PHONY: test-cri
test-cri: build
	$(NODE) node_modules/jest/bin/jest.js --ci -i spec-tests/cri

# Issue 15's figure: a pod of 3 containers through the CRI under runc and tvisor, and 3
# separate tvisor sandboxes, in the same run (time, PSS and their ratios).
.PHONY: bench-pod
bench-pod: build
	node_modules/esbuild/bin/esbuild spec-tests/cri/bench-pod.ts --bundle --platform=node --format=cjs \
		--external:koffi '--external:*.node' --log-level=warning --outfile=build/bench/bench-pod.js
	$(NODE) build/bench/bench-pod.js
