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
 *
 * A stray byte on the container's stderr (seed 9, 150 rounds) was the fuzzer's own: a
 * round's fchmod(0, 01) of /dev/null locked the container's root (no CAP_DAC_OVERRIDE)
 * out of it, as Linux does (capabilities.test.ts compares it with runc), the next
 * children kept the container's stdio and one wrote a byte on fd 2. fuzz.c now keeps a
 * descriptor of /dev/null and restores its mode; the second test replays those rounds.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runUnder, runtimeSkipReason, tvisorOnPlatform } from '../behaviour/runner';

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

  test('a round that locks root out of /dev/null does not hand the container\'s stdio to the next (seed 9, rounds 118-123)', () => {
    const reason = runtimeSkipReason('tvisor');
    if (reason) throw new Error(`prerequisite missing: ${reason}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-fuzz-'));
    const log = path.join(dir, 'debug.log');
    try {
      // Round 118's call 121 is fchmod(0, 01); round 123's call 276 is write(2, buf, 1).
      // On ptrace: where systrap lets uretprobe (335) reach the host (Linux 6.11+, see
      // platform/self-check.ts), round 123's call 108 ends it by SIGILL before the write.
      const r = runUnder('tvisor', 'fuzz', ['9', '6', CALLS, '118'], {
        bin: tvisorOnPlatform('ptrace', dir),
        flags: ['--debug-log', log, '--strace'],
        editSpec: (spec) => { spec.root.readonly = true; },
        timeoutMs: 120_000,
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toMatch(/^fuzz done: 6 rounds, /);
      const lines = fs.readFileSync(log, 'utf8').split('\n');
      expect(lines.filter((l) => /\] fchmod\(0, 0*1\) = 0$/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /\] write\(2, "\\313", 1\) = 1$/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /openat\(AT_FDCWD, "\/dev\/null", O_RDWR\) = -1/.test(l))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
