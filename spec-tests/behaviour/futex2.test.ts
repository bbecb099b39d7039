/**
 * futex2 (programs/futex2.c): futex_wake, futex_wait and futex_requeue (Linux 6.7, syscalls
 * 454-456) and futex_waitv's flags: FUTEX2_SIZE_* (only U32), FUTEX2_PRIVATE, FUTEX2_NUMA's
 * {value, node} pair, masks, absolute timeouts on either clock, futex_wake's strict count,
 * futex_requeue's compare and its same-flags rule, futex2 and futex(2) meeting on one word,
 * shared words across fork.
 *
 * The expected lines are what kernel/futex/syscalls.c and the futex2 documentation
 * (Documentation/userspace-api/futex2.rst) define, checked on Linux 6.18. Where the host
 * kernel has futex2 (6.7 and later) the program is compared byte for byte natively, under
 * runc and under tvisor; on an older host it runs under tvisor alone and must print these
 * documented lines.
 */
import * as os from 'node:os';
import { describeProgram, expectLines } from './compare';
import { programSkipReason, runUnder, runtimeSkipReason } from './runner';

const EXPECTED = [
  'wake, no waiters: 0',
  'wake, unknown flag 0x100: EINVAL',
  'wake, size U8: EINVAL',
  'wake, size U16: EINVAL',
  'wake, size U64: EINVAL',
  'wake, mask 0: EINVAL',
  'wake, mask wider than 32 bits: EINVAL',
  'wake, misaligned: EINVAL',
  'wake, shared, unmapped: EFAULT',
  'wait, word differs: EAGAIN',
  'wait, value wider than 32 bits: EINVAL',
  'wait, mask 0: EINVAL',
  'wait, mask wider than 32 bits: EINVAL',
  'wait, size U64: EINVAL',
  'wait, misaligned: EINVAL',
  'wait, unmapped: EFAULT',
  'wait, monotonic deadline: ETIMEDOUT',
  'wait, realtime deadline: ETIMEDOUT',
  'wait, deadline passed: ETIMEDOUT',
  'wait, clock BOOTTIME: EINVAL',
  'wait, tv_nsec 1e9: EINVAL',
  'wait, timeout unmapped: EFAULT',
  'numa wait, node -1, word differs: EAGAIN',
  '  node word after it: 0',
  'numa wake, node -1: 0',
  '  node word after it: 0',
  'numa wait, node -1, times out: ETIMEDOUT',
  '  node word after it: 0',
  'numa wake, node -2: EINVAL',
  'numa wake, shared, node -1: 0',
  '  node word after it: 0',
  'numa wake, node 0: 0',
  'numa wake, node 1<<20: EINVAL',
  'numa wake, pair not 8-aligned: EINVAL',
  'mask: wakes with mask 2 or count 0 woke 0; mask 3 woke the mask-1 waiter: yes, its wait returned 0',
  'futex_wait woken by FUTEX_WAKE: yes, returned 0',
  'FUTEX_WAIT woken by futex_wake: yes, returned 0',
  'shared futex_wait across fork: woken 1, child exit 0',
  'private futex_wait across fork: woken 0, child exit 0 (0: timed out)',
  'requeue, flags 1: EINVAL',
  'requeue, no vector: EINVAL',
  'requeue, vector unmapped: EFAULT',
  'requeue, negative count: EINVAL',
  'requeue, first word differs: EAGAIN',
  'requeue, value wider than 32 bits: EINVAL',
  'requeue, reserved set: EINVAL',
  'requeue, second size U16: EINVAL',
  'requeue, no waiters: 0',
  'requeue: moved 3 waiters from A to B',
  'wake A: 0',
  'requeue B to A, wake 1, move 1: 2',
  'wake B: 1',
  'wake A: 1',
  'requeued waiters returned: 0 0 0',
  'done',
];

/** hostHasFutex2 tells whether the host kernel is 6.7 or later (futex2's calls). */
function hostHasFutex2(): boolean {
  const [major, minor] = os.release().split('.').map((x) => parseInt(x, 10));
  return major > 6 || (major === 6 && minor >= 7);
}

if (hostHasFutex2()) {
  describeProgram({
    program: 'futex2',
    expectNative(r) {
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(EXPECTED.join('\n') + '\n');
    },
    runscUnsupported: 'gVisor 2022 predates futex2 (Linux 6.7): every call is ENOSYS',
  });
} else {
  describe(`futex2 (host kernel ${os.release()} predates futex2: tvisor against the documented lines)`, () => {
    test('tvisor prints what the futex2 documentation defines', () => {
      const missing = programSkipReason('futex2') ?? runtimeSkipReason('tvisor');
      if (missing) throw new Error(`futex2 under tvisor cannot run: ${missing}`);
      const r = runUnder('tvisor', 'futex2');
      expectLines(r.stdout, EXPECTED);
      expect({ stdout: r.stdout, status: r.status }).toEqual({ stdout: EXPECTED.join('\n') + '\n', status: 0 });
    });
  });
}
