// Jest runs the TypeScript sources directly through ts-jest in transpile-only mode
// (type checking is `make typecheck`, done once for the whole tree).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/oci', '<rootDir>/runtime', '<rootDir>/sentry', '<rootDir>/gofer', '<rootDir>/platform', '<rootDir>/native', '<rootDir>/spec-tests'],
  testMatch: ['**/*.test.ts'],
  // The syscall coverage check reads what the other tests recorded: `make test` runs it
  // alone, after them (TVISOR_COVERAGE_CHECK=1).
  testPathIgnorePatterns: process.env.TVISOR_COVERAGE_CHECK ? ['/node_modules/'] : ['/node_modules/', '<rootDir>/spec-tests/coverage/'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 120000,
  // Black-box tests start real processes (gofer, diod, runc, dockerd); two cores only.
  maxWorkers: 2,
};
