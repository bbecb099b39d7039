#!/usr/bin/env bash
# scripts/kvm-vm/test-kvm.sh: `make test-kvm` (after `make build`).
#
# Where /dev/kvm runs a long-mode guest's user code and exits back (kvm-exit-loop --check),
# scripts/kvm-vm/kvm-tests.sh runs natively; elsewhere, or with TVISOR_KVM_FORCE_VM=1, it
# runs inside the QEMU TCG test VM (scripts/kvm-vm/run), built first if needed. Then the VM
# runner's own tests (spec-tests/kvm-vm/*.vm-test.ts, on the host), whichever route was
# taken. Fails if either part fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
probe=build/platform/bench/kvm-exit-loop
[[ -x $probe ]] || { echo "test-kvm: $probe is missing: run make build" >&2; exit 1; }

start=$SECONDS
if [[ ${TVISOR_KVM_FORCE_VM:-} == 1 ]]; then
  echo "test-kvm: TVISOR_KVM_FORCE_VM=1: running the KVM tests in the QEMU TCG test VM"
  route=vm
elif why=$("$probe" --check 2>&1); then
  echo "test-kvm: $why: running the KVM tests natively"
  route=native
else
  echo "test-kvm: no working /dev/kvm here ($why): running the KVM tests in the QEMU TCG test VM"
  route=vm
fi

# The VM is needed on both routes: the runner's tests boot it.
scripts/kvm-vm/build.sh build/kvm-vm || exit 1

status=0
if [[ $route == native ]]; then
  scripts/kvm-vm/kvm-tests.sh || status=1
else
  # build/ writable, as natively: tests may write their scratch output there.
  # The nested guest hangs now and then under TCG (seen: stuck at the probe, QEMU at 196 %
  # CPU for minutes; stuck after a test file passed, twice in one CI run), where a whole run
  # takes 3-5 minutes. A run the VM's time limit ends (420 s unless TVISOR_KVM_VM_TIMEOUT
  # says) is started again, saying so, up to three runs in all; each run leaves out the
  # files that passed in an earlier one (TVISOR_KVM_TESTS_PASSED, in build/). In the guest, a
  # file whose only failures are lockstep waits a stalled vCPU timed out is run once more
  # (TVISOR_KVM_TESTS_RERUN_STALLED: scripts/kvm-vm/kvm-tests.sh says when).
  errlog=$(mktemp)
  passed=build/kvm-tests-passed
  rm -f "$passed"
  for attempt in 1 2 3; do
    rc=0
    TVISOR_KVM_TESTS_RERUN_STALLED=1 TVISOR_KVM_TESTS_PASSED=$PWD/$passed TVISOR_KVM_VM_TIMEOUT=${TVISOR_KVM_VM_TIMEOUT:-420} scripts/kvm-vm/run --rw build scripts/kvm-vm/kvm-tests.sh 2> >(tee "$errlog" >&2) || rc=$?
    wait
    if ((rc == 125 && attempt < 3)) && grep -q '^kvm-vm: the VM was killed after' "$errlog"; then
      echo "test-kvm: the VM hung (killed at its time limit; passed so far: $(paste -sd' ' "$passed" 2>/dev/null || echo none)): running the rest of the KVM tests once more"
      continue
    fi
    break
  done
  rm -f "$passed"
  rm -f "$errlog"
  ((rc == 0)) || status=1
fi
echo "test-kvm: the KVM tests ($route) took $((SECONDS - start)) s"

runner=$SECONDS
node node_modules/jest/bin/jest.js --ci -i --testMatch '**/spec-tests/kvm-vm/*.vm-test.ts' || status=1
echo "test-kvm: the VM runner's tests took $((SECONDS - runner)) s"
exit $status
