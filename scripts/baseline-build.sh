#!/usr/bin/env bash
# baseline-build.sh REV: builds tvisor as it was at REV in build/baseline/<sha>, once,
# and prints the path of its bin/tvisor. `make bench-* BASELINE=REV` measures that build
# beside the working tree's in the same run (spec-tests/bench/baseline.ts).
#
# The tree is REV's files (git archive: no work tree of the repository is touched), with
# this checkout's node_modules hard-linked in (npm ci is not run there, so nothing writes
# through the links) when REV's package-lock.json is the same as this one's, and installed
# with npm ci otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: baseline-build.sh REV}
sha=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "baseline-build: $rev is not a commit of this repository" >&2; exit 2; }
dir=build/baseline/$sha
if [ ! -x "$dir/bin/tvisor" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  git archive "$sha" | tar -x -C "$dir"
  if cmp -s package-lock.json "$dir/package-lock.json" && [ -f node_modules/.package-lock.json ]; then
    cp -al node_modules "$dir/node_modules"
    # make's deps rule compares this stamp with package-lock.json: the copy is current.
    touch "$dir/node_modules/.package-lock.json"
  fi
  make -C "$dir" build >&2
fi
echo "$PWD/$dir/bin/tvisor"
