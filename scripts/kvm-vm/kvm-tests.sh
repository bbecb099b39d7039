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
out=$(mktemp)

# run_file runs one file's tests, its output also kept in $out.
run_file() {
  # TVISOR_KVM_TESTS=native: jest.config.js never leaves these files out here.
  TVISOR_KVM_TESTS=native node node_modules/jest/bin/jest.js --ci -i --verbose --runTestsByPath "$1" 2>&1 | tee "$out"
}

# rerun_stalled runs a failed file once more where the only failures were lockstep waits
# that timed out (the worker-thread tests: each worker's syscall waits up to 60 s for the
# other's), and only with TVISOR_KVM_TESTS_RERUN_STALLED=1, which test-kvm.sh sets in the
# QEMU TCG guest: there a vCPU thread of the nested guest now and then makes no progress
# for a minute (seen in CI on an idle host, with code whose earlier runs passed). Natively
# a failure is never run again. The log says so, and the second run's result is the file's.
rerun_stalled() {
  [[ ${TVISOR_KVM_TESTS_RERUN_STALLED:-} == 1 ]] || return 1
  local failed # each failed test's report has one code frame, its failing line marked by '>'
  failed=$(grep -c '^ *● ' "$out" || true)
  if ((failed > 0)) && ((failed == $(grep -cE '^ *> *[0-9]+ \|.*lockstepFailures\)\.toBe\(0\)' "$out" || true))); then
    echo "kvm-tests: $1: $failed test(s) failed on a lockstep wait that timed out (a stalled vCPU of the TCG guest): running the file once more"
    run_file "$1"
  else
    return 1
  fi
}
for f in "${files[@]}"; do
  if [[ -n $passed && -f $passed ]] && grep -qxF "$f" "$passed"; then
    echo "kvm-tests: $f passed in an earlier run of the VM: not run again"
    continue
  fi
  if run_file "$f" || rerun_stalled "$f"; then
    [[ -z $passed ]] || echo "$f" >> "$passed"
  else
    status=1
  fi
done
rm -f "$out"
exit $status
