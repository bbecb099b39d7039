// Jest runs the TypeScript sources directly through ts-jest in transpile-only mode
// (type checking is `make typecheck`, done once for the whole tree).
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

// The KVM platform's tests need a /dev/kvm that runs a long-mode guest's user code, which
// some machines lack (no /dev/kvm at all, or a paravirtual one with its own rules). There,
// jest leaves them out and says so: `make test-kvm` runs them in the QEMU TCG test VM
// (scripts/kvm-vm/test-kvm.sh, run by .ci/run). The probe is the C exit loop's --check;
// before `make build` has made it, nothing is left out (the tests then say what is missing).
const KVM_PROBE = path.join(__dirname, 'build', 'platform', 'bench', 'kvm-exit-loop');
const KVM_TESTS = ['<rootDir>/platform/kvm/', '<rootDir>/spec-tests/security/kvm\\.test\\.ts$'];
function kvmTestsLeftOut() {
  if (process.env.TVISOR_KVM_TESTS === 'native' || !existsSync(KVM_PROBE)) return [];
  const probe = spawnSync(KVM_PROBE, ['--check'], { encoding: 'utf8', timeout: 30000 });
  if (probe.status === 0) return [];
  const why = `${probe.stderr || probe.stdout || probe.error || ''}`.trim().split('\n').pop();
  process.stderr.write(`jest: no working /dev/kvm here (${why}): the KVM platform's tests (platform/kvm, spec-tests/security/kvm.test.ts) are left out; make test-kvm runs them in the QEMU TCG test VM\n`);
  return KVM_TESTS;
}

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/oci', '<rootDir>/runtime', '<rootDir>/sentry', '<rootDir>/gofer', '<rootDir>/platform', '<rootDir>/native', '<rootDir>/spec-tests'],
  testMatch: ['**/*.test.ts'],
  // The syscall coverage check reads what the other tests recorded: `make test` runs it
  // alone, after them (TVISOR_COVERAGE_CHECK=1).
  testPathIgnorePatterns: [
    '/node_modules/',
    ...(process.env.TVISOR_COVERAGE_CHECK ? [] : ['<rootDir>/spec-tests/coverage/']),
    ...kvmTestsLeftOut(),
  ],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 120000,
  // Black-box tests start real processes (gofer, diod, runc, dockerd); two cores only.
  maxWorkers: 2,
};
