/**
 * Lock ranges an application can pile up (issue 9): POSIX and OFD ranges live in the
 * sentry's heap, and Linux bounds them only by memory. tvisor holds at most 16,384 in the
 * whole sandbox (sentry/vfs/lock.ts, MAX_RANGE_LOCKS); past it F_SETLK fails with ENOLCK
 * (Linux's answer when it cannot allocate a lock), and closing the file gives every range
 * back. The program (spec-tests/behaviour/programs/locks.c, `locks flood DIR N`) locks
 * every other byte of a file; natively all 20,000 succeed, so only tvisor's output is
 * checked here. On the old code ranges never conflicted and were never kept.
 */
import { MAX_RANGE_LOCKS } from '../../sentry/vfs/lock';
import { programSkipReason, runUnder, runtimeSkipReason } from '../behaviour/runner';

test('a flood of lock ranges stops at ENOLCK at the sandbox bound, and a close gives them back', () => {
  const missing = [programSkipReason('locks'), runtimeSkipReason('tvisor')].filter(Boolean);
  if (missing.length) throw new Error(`prerequisite missing: ${missing.join('; ')}`);
  const r = runUnder('tvisor', 'locks', ['flood', '/tmp', '20000'], { timeoutMs: 150_000 });
  expect({ status: r.status, timedOut: r.timedOut, stdout: r.stdout }).toEqual({
    status: 0,
    timedOut: false,
    stdout: [`flood: ${MAX_RANGE_LOCKS} ranges, then ENOLCK`, `after closing, again: ${MAX_RANGE_LOCKS} ranges, then ENOLCK`, 'done', ''].join('\n'),
  });
}, 180_000);
