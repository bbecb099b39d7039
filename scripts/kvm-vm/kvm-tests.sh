#!/usr/bin/env bash
# scripts/kvm-vm/kvm-tests.sh: the KVM tests, run where /dev/kvm works (natively, or inside
# the test VM by scripts/kvm-vm/test-kvm.sh): the probe, the C exit loop's figure, then
# jest on the KVM platform's test files (platform/kvm/*.test.ts and
# spec-tests/security/kvm.test.ts) when there are any.
set -euo pipefail
cd "$(dirname "$0")/../.."
loop=build/platform/bench/kvm-exit-loop

echo "kvm-tests: kernel $(uname -r), $(nproc) CPUs"
"$loop" --check
# (The exit loop's figure is make bench-platform's: it is not run here. In the QEMU guest
# a 20,000-exit loop once never finished, which would hold CI until the VM's timeout.)

shopt -s nullglob
files=(platform/kvm/*.test.ts spec-tests/security/kvm.test[.]ts)
if ((${#files[@]} == 0)); then
  echo "kvm-tests: no KVM platform test files yet (platform/kvm/*.test.ts, spec-tests/security/kvm.test.ts): nothing more to run"
  exit 0
fi
# TVISOR_KVM_TESTS=native: jest.config.js never leaves these files out here.
TVISOR_KVM_TESTS=native node node_modules/jest/bin/jest.js --ci -i --verbose --runTestsByPath "${files[@]}"
