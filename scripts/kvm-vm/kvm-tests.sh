#!/usr/bin/env bash
# scripts/kvm-vm/kvm-tests.sh: the KVM tests, run where /dev/kvm works (natively, or inside
# the test VM by scripts/kvm-vm/test-kvm.sh): the probe, the C exit loop's figure, then
# jest on each of the KVM platform's test files (platform/kvm/*.test.ts and
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
# One jest per file, so that a run the VM's time limit ends can be taken up where it stopped:
# with TVISOR_KVM_TESTS_PASSED naming a file (in a writable share), each file that passes is
# added to it and the files it already lists are not run again.
passed=${TVISOR_KVM_TESTS_PASSED:-}
status=0
for f in "${files[@]}"; do
  if [[ -n $passed && -f $passed ]] && grep -qxF "$f" "$passed"; then
    echo "kvm-tests: $f passed in an earlier run of the VM: not run again"
    continue
  fi
  # TVISOR_KVM_TESTS=native: jest.config.js never leaves these files out here.
  if TVISOR_KVM_TESTS=native node node_modules/jest/bin/jest.js --ci -i --verbose --runTestsByPath "$f"; then
    [[ -z $passed ]] || echo "$f" >> "$passed"
  else
    status=1
  fi
done
exit $status
