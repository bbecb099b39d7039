/**
 * Random system calls with hostile arguments (programs/fuzz.c) against the sandbox's
 * kernel: the sentry must answer every one with a result or an errno, never with an
 * internal error (a handler's exception, answered EIO) nor a fault it did not check
 * (answered EFAULT by the dispatcher's safety net, and named in the log), and it must
 * survive to run the next round. Each round is a child process making CALLS calls, so
 * that a call which kills or blocks the caller ends only that round.
 *
 * The sequence depends on the seed alone: TVISOR_FUZZ_SEED (default 1) repeats a run,
 * TVISOR_FUZZ_ROUNDS (default 50) lengthens it. What an earlier run found: readString
 * answered EIO for a path running into an unmapped page (now EFAULT), munmap of a range
 * from 0 or past the user address limit threw in the address space (now unmapped as Linux
 * does, or EINVAL past TASK_SIZE).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runUnder, runtimeSkipReason } from '../behaviour/runner';

const SEED = process.env.TVISOR_FUZZ_SEED ?? '1';
const ROUNDS = process.env.TVISOR_FUZZ_ROUNDS ?? '50';
const CALLS = '300';

describe('random system calls with hostile arguments', () => {
  test(`the sentry answers each and survives (seed ${SEED}, ${ROUNDS} rounds of ${CALLS} calls)`, () => {
    const reason = runtimeSkipReason('tvisor');
    if (reason) throw new Error(`prerequisite missing: ${reason}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-fuzz-'));
    const log = path.join(dir, 'debug.log');
    try {
      const r = runUnder('tvisor', 'fuzz', [SEED, ROUNDS, CALLS], {
        flags: ['--debug-log', log],
        editSpec: (spec) => { spec.root.readonly = true; },
        timeoutMs: 400_000,
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^fuzz done: ${ROUNDS} rounds, \\d+ ended by a signal or a status, \\d+ killed after 5 s, 0 forks failed\\n$`));
      const bad = fs.readFileSync(log, 'utf8').split('\n').filter((l) => /internal error|unchecked application-memory fault/.test(l));
      expect(bad).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 420_000);
});
