# gofer/module.mk: the 9P client benchmark against diod (its source lives with the other
# benchmarks in spec-tests/bench/).
#
# `make bench-9p` bundles spec-tests/bench/bench-9p.ts with esbuild (koffi stays external and
# loads from node_modules) and runs it: our gofer and Debian's diod serve one tree, our
# client measures both in the same run and prints the figures and the ratios.

BENCH_9P_JS := build/bench-9p.js

$(BENCH_9P_JS): spec-tests/bench/bench-9p.ts $(TS_SOURCES) node_modules/.package-lock.json
	@mkdir -p $(@D)
	node_modules/.bin/esbuild $< --bundle --platform=node --target=node20 --format=cjs \
		--external:koffi --external:'*.node' --log-level=warning --outfile=$@

.PHONY: bench-9p
bench-9p: $(BENCH_9P_JS) bin/tvisor
	TVISOR_BIN=$(CURDIR)/bin/tvisor $(NODE) $(BENCH_9P_JS)
