/**
 * Resources an application can exhaust or abuse (issue 17, fourth finding): each case
 * runs build/programs/resources (spec-tests/behaviour/programs/resources.c) under tvisor
 * and compares its output with a native run (or with runc's, for a tmpfs mount), using
 * the behaviour tests' runner. On the old code each failed by its result: a 64 TB
 * reservation froze the sentry for over a minute (1000 of them never end within the
 * timeout), a file flood ran until the sentry's heap died, sigqueue never failed, long
 * timeouts fired at once, and a vsyscall killed the process.
 */
import { limitsFor } from '../../sentry/limits';
import { RunOptions, RunResult, programSkipReason, runNative, runUnder, runtimeSkipReason } from '../behaviour/runner';

const PROGRAM = 'resources';
const MiB = 2 ** 20;

/** prerequisites fails loudly when the program or a runtime cannot run here. */
function prerequisites(...runtimes: ('tvisor' | 'runc')[]): void {
  const missing = [programSkipReason(PROGRAM), ...runtimes.map((r) => runtimeSkipReason(r))].filter(Boolean);
  if (missing.length) throw new Error(`prerequisite missing: ${missing.join('; ')}`);
}

/** ended asserts a run finished on its own with status 0 and no FAIL line, and returns its stdout. */
function ended(r: RunResult): string {
  expect({ status: r.status, timedOut: r.timedOut, fail: /^FAIL/m.test(r.stdout), stderr: r.status === 0 ? '' : r.stderr })
    .toEqual({ status: 0, timedOut: false, fail: false, stderr: '' });
  return r.stdout;
}

/** sameAsNative runs the program natively and under tvisor and expects identical output. */
function sameAsNative(args: string[], expected: string[], opts: RunOptions = {}): void {
  prerequisites('tvisor');
  const native = ended(runNative(PROGRAM, args));
  expect(native.split('\n').filter(Boolean)).toEqual(expected);
  const r = runUnder('tvisor', PROGRAM, args, { timeoutMs: 90_000, ...opts });
  expect(ended(r)).toBe(native);
  // A timer armed past Node's 2^31-1 ms limit fires after 1 ms with this warning (the old
  // code re-armed a 3650-day sleep every millisecond, flooding the log).
  expect(r.stderr).not.toMatch(/TimeoutOverflowWarning/);
}

/** withMemoryLimit sets linux.resources.memory.limit in a spec. */
function withMemoryLimit(bytes: number): (spec: any) => void {
  return (spec) => {
    spec.linux.resources = { ...(spec.linux.resources ?? {}), memory: { limit: bytes } };
  };
}

describe('resources', () => {
  test('1000 reservations of 64 TB, overcommit, a touched reservation with fork and mremap, and brk behave as natively', () => {
    sameAsNative(['reserve'], [
      '64 TB PROT_NONE reservations mapped and unmapped: 1000',
      '64 TB PROT_NONE private: ok',
      '64 TB read-write private MAP_NORESERVE: ok',
      '64 TB read-write private: ENOMEM',
      '64 TB read-write shared: ENOMEM',
      '64 TB PROT_NONE shared: ENOMEM',
      '64 TB read-write shared MAP_NORESERVE: ok',
      '64 TB PROT_NONE private made read-write by mprotect: ENOMEM',
      'its first 1 MiB made read-write: ok',
      'touched 64 TB reservation: bytes abc, child after fork sees them: yes',
      'mremap of 16 TB to 32 TB: ok',
      '64 TB shared mapping written by a child: parent reads pqr',
      'shared mapping moved by mremap: the child sees writes at the new place: yes',
      'brk up by 32 TB: refused, break unchanged',
      'sbrk of 16 pages: usable',
      'done',
    ]);
  });

  test('a tmpfs mounted with size=1m,nr_inodes=200 runs out where runc\'s (the host kernel\'s) does', () => {
    prerequisites('tvisor', 'runc');
    const opts: RunOptions = {
      timeoutMs: 90_000,
      editSpec: (spec) => {
        spec.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m', 'nr_inodes=200'] });
      },
    };
    const runc = ended(runUnder('runc', PROGRAM, ['tmpfs', '/scratch'], opts));
    expect(runc.split('\n').filter(Boolean)).toEqual([
      'files created until ENOSPC',
      'files created: 199',
      'bytes written until ENOSPC',
      'bytes written: 1048576',
      'second command runs',
      'done',
    ]);
    expect(ended(runUnder('tvisor', PROGRAM, ['tmpfs', '/scratch'], opts))).toBe(runc);
  });

  test('a file and byte flood in /tmp ends in ENOSPC under a 512 MiB memory limit, and the sandbox still runs a command', () => {
    prerequisites('tvisor');
    const limits = limitsFor(512 * MiB);
    const out = ended(runUnder('tvisor', PROGRAM, ['tmpfs', '/tmp'], { timeoutMs: 120_000, editSpec: withMemoryLimit(512 * MiB) }));
    const lines = out.split('\n');
    expect(lines).toContain('files created until ENOSPC');
    // The default nr_inodes, within the sandbox-wide inode budget (limits.ts), of which
    // /tmp's root and a few synthetic files (/dev, /sys...) take some.
    const files = Number(/^files created: (\d+)$/m.exec(out)?.[1]);
    expect(Math.min(limits.tmpfsInodes, limits.inodeBudget)).toBe(65536);
    expect(files).toBeGreaterThan(65536 - 200);
    expect(files).toBeLessThan(65536);
    // /tmp's default size is half the memory limit, as Linux's is half the RAM.
    expect(lines).toContain('bytes written until ENOSPC');
    expect(lines).toContain(`bytes written: ${limits.tmpfsBytes}`);
    expect(limits.tmpfsBytes).toBe(256 * MiB);
    expect(lines).toContain('second command runs');
    expect(lines[lines.length - 2]).toBe('done');
  });

  test('a real-time signal flood ends in EAGAIN at RLIMIT_SIGPENDING; kill() past it keeps one pending', () => {
    sameAsNative(['rtsig'], [
      'sigqueue of SIGRTMIN until EAGAIN, after at most 100 signals: yes',
      'kill of SIGRTMIN+1 past the limit: 0',
      'delivered: every queued SIGRTMIN, in order: yes; SIGRTMIN+1: 1',
      'sigqueue after delivery: 0',
      'done',
    ]);
  });

  test('a child sleeping 3650 days is still asleep a moment later and dies of SIGTERM', () => {
    sameAsNative(['sleep'], ['child sleeping 3650 days still asleep after 300 ms: yes', 'child ended by TERM', 'done']);
  });

  test('alarm of 35 days and setitimer of 40 days do not fire at once and report what is left; a periodic timer repeats', () => {
    sameAsNative(['alarm'], [
      'alarm of 35 days fired within 300 ms: no',
      'alarm of 35 days, seconds left: within 2 s of 35 days: yes',
      'setitimer of 40 days fired within 300 ms: no, left within 2 s of 40 days: yes',
      'periodic timer: interval reported 20000 us',
      'periodic timer: 3 signals came; the old value had interval 20000 us',
      'disarmed: yes',
      'setitimer with tv_usec 1000000: EINVAL',
      'done',
    ]);
  });

  test('the three vsyscall entries answer as natively, another address of the page is SIGSEGV, and maps shows the page', () => {
    sameAsNative(['vsyscall'], [
      'vsyscall time: matches time(2) within 1 s: yes, stored the same: yes',
      'vsyscall gettimeofday: returned 0, matches within 1 s: yes, usec in range: yes',
      'vsyscall getcpu: returned 0, cpu valid: yes, node 0',
      'call into the vsyscall page off an entry: SEGV',
      'maps: ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
      'done',
    ]);
  });
});
