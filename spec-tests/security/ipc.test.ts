/**
 * System V IPC as a way out or a way down (program: spec-tests/security/programs/ipc-flood.c).
 * A sandbox has its own IPC namespace: objects the host made under a key are not found
 * inside, under tvisor as under runc. And what an application queues (messages,
 * semaphore arrays) lives in the sentry's heap: a flood must end in an errno for the
 * application (ENOMEM, as Linux's allocations fail), with the sandbox still working,
 * never in the sentry's death. On the old code the probe found nothing because the
 * calls were ENOSYS, and the flood printed ENOSYS.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { programSkipReason, runUnder, runtimeSkipReason, type RunResult } from '../behaviour/runner';
import { expectLines } from '../behaviour/compare';

const PROGRAM = 'ipc-flood';
const MiB = 2 ** 20;
const BIN = path.join(__dirname, '..', '..', 'build', 'programs', PROGRAM);

/** prerequisites fails loudly when the program or a runtime cannot run here. */
function prerequisites(...runtimes: ('tvisor' | 'runc')[]): void {
  const missing = [programSkipReason(PROGRAM), ...runtimes.map((r) => runtimeSkipReason(r))].filter(Boolean);
  if (missing.length) throw new Error(`prerequisite missing: ${missing.join('; ')}`);
}

/** ok asserts a run ended by itself with status 0 and returns its stdout. */
function ok(r: RunResult): string {
  expect({ status: r.status, timedOut: r.timedOut, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, timedOut: false, stderr: '' });
  return r.stdout;
}

test("the host's IPC objects are not found in the sandbox, as under runc", () => {
  prerequisites('tvisor', 'runc');
  const key = `0x${(0x7a000000 | (process.pid & 0xffffff)).toString(16)}`;
  execFileSync(BIN, ['make', key]);
  try {
    const expected = ['host\'s segment: ENOENT', 'host\'s semaphore set: ENOENT', 'host\'s message queue: ENOENT'];
    expectLines(ok(runUnder('runc', PROGRAM, ['probe', key])), expected);
    expectLines(ok(runUnder('tvisor', PROGRAM, ['probe', key])), expected);
  } finally {
    execFileSync(BIN, ['remove', key]);
  }
});

test('a message and semaphore flood ends in ENOMEM under a 256 MiB memory limit, and queues work again once freed', () => {
  prerequisites('tvisor');
  const r = runUnder('tvisor', PROGRAM, ['flood'], {
    timeoutMs: 120_000,
    editSpec: (spec) => {
      spec.linux.resources = { ...(spec.linux.resources ?? {}), memory: { limit: 256 * MiB } };
    },
  });
  expectLines(ok(r), ['message flood ended by ENOMEM', 'semaphore flood ended by ENOMEM', 'a queue after freeing everything: works']);
});
