/**
 * Futexes: keys (shared across fork in MAP_SHARED memory, private per address space),
 * timeouts on both clocks, bitsets, REQUEUE/CMP_REQUEUE, WAKE_OP, futex_waitv, robust and PI mutexes
 * whose owner dies, compared between a native run and runc, runsc and tvisor. The lines
 * are what Linux's futex(2) and pthread_mutex_lock(3) document for each case.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'futex',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'shared futex across fork: woken 1, child exit 0',
      'private futex across fork: woken 0, child exit 0 (0: timed out)',
      'wait, word differs: EAGAIN',
      'wait, relative 10 ms: ETIMEDOUT',
      'wait_bitset, monotonic deadline: ETIMEDOUT',
      'wait_bitset, realtime deadline: ETIMEDOUT',
      'wait_bitset, deadline passed: ETIMEDOUT',
      'wait, tv_nsec 1e9: EINVAL',
      'wait_bitset, bitset 0: EINVAL',
      'wake_bitset, bitset 0: EINVAL',
      'wake, realtime flag: ENOSYS',
      'wait, misaligned: EINVAL',
      'unknown op 99: ENOSYS',
      'bitset: wakes with bitset 2 woke 0; bitset 3 woke the bitset-1 waiter: yes, its wait returned 0',
      'cmp_requeue: moved 3 waiters from A to B',
      'cmp_requeue, A differs from val3: EAGAIN',
      'cmp_requeue, negative count: EINVAL',
      'wake A: 0',
      'requeue B to A, wake 1, move 1: 2',
      'wake B: 1',
      'wake A: 1',
      'requeued waiters returned: 0 0 0',
      'wake_op SET 5, EQ 3: 0, word now 5',
      'wake_op ADD 2, NE 5: 0, word now 7',
      'wake_op OR 8, LT 7: 0, word now 15',
      'wake_op ANDN 1, LE 15: 0, word now 14',
      'wake_op XOR 0xff, GT 100: 0, word now 241',
      'wake_op ADD -300, GE -1: 0, word now -59',
      'wake_op SET 1<<4 (shift), EQ -59: 0, word now 16',
      'wake_op, unknown op 7: ENOSYS',
      'wake_op, unknown cmp 9: ENOSYS',
      'wake_op with waiters on both words: woke 2, waits returned 0 0',
      'futex_waitv, second word differs: EAGAIN',
      'futex_waitv, monotonic deadline: ETIMEDOUT',
      'futex_waitv, clock BOOTTIME: EINVAL',
      'futex_waitv, no size flag: EINVAL',
      'futex_waitv, 0 words: EINVAL',
      'futex_waitv woken through the second word: yes, returned 1',
      'robust mutex, owner process died: lock EOWNERDEAD',
      '  consistent: 0, unlock: 0, lock again: 0, trylock by owner: EBUSY, unlock: 0',
      'robust mutex, owner thread exited: lock EOWNERDEAD',
      'lock_pi on 0: 0, owner is me: yes',
      'lock_pi again: EDEADLK',
      'trylock_pi again: EDEADLK',
      'unlock_pi: 0, word 0',
      'unlock_pi, not owner: EPERM',
      'trylock_pi on OWNER_DIED: 0, owner died kept: yes',
      'done',
    ]);
  },
  // gVisor 2022: no timespec check on FUTEX_WAIT, FUTEX_CLOCK_REALTIME accepted with WAKE,
  // CMP_REQUEUE/REQUEUE count only the woken, WAKE_OP's oparg not sign-extended.
  runscDeviations: [
    ['wait, tv_nsec 1e9: EINVAL', 'wait, tv_nsec 1e9: ETIMEDOUT'],
    ['wake, realtime flag: ENOSYS', 'wake, realtime flag: 0'],
    ['cmp_requeue: moved 3 waiters from A to B', 'cmp_requeue: moved 0 waiters from A to B'],
    ['cmp_requeue, negative count: EINVAL', 'cmp_requeue, negative count: 0'],
    ['requeue B to A, wake 1, move 1: 2', 'requeue B to A, wake 1, move 1: 1'],
    ['wake_op ADD -300, GE -1: 0, word now -59', 'wake_op ADD -300, GE -1: 0, word now 4037'],
    // gVisor 2022 has no futex_waitv (Linux 5.16).
    ['futex_waitv, second word differs: EAGAIN', 'futex_waitv, second word differs: ENOSYS'],
    ['futex_waitv, monotonic deadline: ETIMEDOUT', 'futex_waitv, monotonic deadline: ENOSYS'],
    ['futex_waitv, clock BOOTTIME: EINVAL', 'futex_waitv, clock BOOTTIME: ENOSYS'],
    ['futex_waitv, no size flag: EINVAL', 'futex_waitv, no size flag: ENOSYS'],
    ['futex_waitv, 0 words: EINVAL', 'futex_waitv, 0 words: ENOSYS'],
    ['futex_waitv woken through the second word: yes, returned 1', 'futex_waitv woken through the second word: no, returned -1'],
  ],
});

describeProgram({
  program: 'futex',
  args: ['pi-robust'],
  title: 'futex pi-robust',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'PI robust mutex, owner process died: lock EOWNERDEAD',
      '  consistent: 0, unlock: 0, lock again: 0, trylock by owner: EBUSY, unlock: 0',
      'done',
    ]);
  },
  runscUnsupported: 'gVisor 2022 never wakes the waiter of a PI robust mutex whose owner process died (the run hangs)',
});
