#!/usr/bin/env bash
# The main job: run the embedded busybox bundle (build/bundle) in a tvisor sandbox, as
# `tvisor run` does for any OCI bundle, then show that nothing is left behind.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bundle=${1:-$here/build/bundle}
root=$(mktemp -d /tmp/tvisor-demo.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "== tvisor run --bundle $bundle =="
status=0
"$here/bin/tvisor" --root "$root" run --bundle "$bundle" "demo-$$" || status=$?
echo "== exit status $status; state left under --root: $(ls -A "$root" | wc -l) entries =="
exit "$status"
