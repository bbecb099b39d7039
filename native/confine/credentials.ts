/**
 * credentials.ts drops the privileges of a confined sandbox process, on every thread.
 *
 * Credentials and capabilities belong to each thread, and Node has started several
 * before any of its code runs; a drop made on the main thread alone would leave V8's and
 * libuv's threads with everything. Two ways reach them all:
 *  - the sentry becomes uid and gid 65534 through glibc's setgroups/setgid/setuid, which
 *    glibc applies to every thread (its setxid broadcast); a thread whose uids all leave 0
 *    loses all its capabilities;
 *  - the gofer must stay root on its main thread, where it makes every host call, with
 *    only its file capabilities: with PR_SET_KEEPCAPS on the main thread it does the same
 *    setuid broadcast (the other threads lose everything and stay at 65534), then the main
 *    thread alone sets its capabilities to the kept ones and returns to uid 0 with raw
 *    syscalls (its effective set is then exactly the kept set).
 * Both drop the bounding set of the main thread first (PR_CAPBSET_DROP needs CAP_SETPCAP).
 */
import { check, HostError, lastErrno, libcFunc } from '../libc';
import { threadCapset } from '../caps';

/** NOBODY is the unprivileged uid and gid of the sentry and its stubs (runsc's sandbox runs as nobody too). */
export const NOBODY = 65534;

/** CAP holds the capability numbers tvisor names (linux/capability.h). */
export const CAP = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, SETGID: 6, SETUID: 7, MKNOD: 27,
} as const;

/** GOFER_CAPABILITIES are what the gofer keeps: the file capabilities its 9P operations use, and per-request credentials. */
export const GOFER_CAPABILITIES: readonly number[] = [CAP.CHOWN, CAP.DAC_OVERRIDE, CAP.DAC_READ_SEARCH, CAP.FOWNER, CAP.FSETID, CAP.SETGID, CAP.SETUID];

/** capMask returns the 64-bit mask of `caps`, as /proc/<pid>/status prints the sets. */
export function capMask(caps: readonly number[]): bigint {
  return caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);
}

const PR_CAPBSET_DROP = 24;
const PR_SET_KEEPCAPS = 8;
const SYS_setresuid = 117;
/** The highest capability number any kernel here knows is below this; PR_CAPBSET_DROP says EINVAL above the host's. */
const CAP_LIMIT = 64;

const prctl = () => libcFunc('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');

/** dropBoundingSet removes every capability but `keep` from the calling thread's bounding set. */
function dropBoundingSet(keep: readonly number[]): void {
  for (let c = 0; c < CAP_LIMIT; c++) {
    if (keep.includes(c)) continue;
    // SAFETY: only ever removes; EINVAL past the host's last capability ends the loop.
    if ((prctl()(PR_CAPBSET_DROP, c, 0, 0, 0) as number) < 0) {
      const e = lastErrno();
      if (e === 22) break;
      throw new HostError(`prctl(PR_CAPBSET_DROP, ${c})`, e);
    }
  }
}

/** becomeNobody makes every thread of this process uid and gid NOBODY, without groups or capabilities. */
export function becomeNobody(): void {
  dropBoundingSet([]);
  if (!process.setgroups || !process.setgid || !process.setuid) throw new Error('no setuid on this platform');
  process.setgroups([]);
  process.setgid(NOBODY);
  process.setuid(NOBODY);
}

/**
 * keepCapabilities leaves the main thread as root with exactly `keep` (permitted,
 * effective and bounding sets) and every other thread at uid NOBODY with none; see the
 * module comment. Threads started later inherit the main thread's credentials.
 */
export function keepCapabilities(keep: readonly number[]): void {
  dropBoundingSet(keep);
  check('prctl(PR_SET_KEEPCAPS)', prctl()(PR_SET_KEEPCAPS, 1, 0, 0, 0) as number);
  if (!process.setuid) throw new Error('no setuid on this platform');
  process.setuid(NOBODY);
  // SAFETY: raw syscalls on this thread only (glibc's wrappers would broadcast the uid
  // change to the other threads, which no longer have the capability to follow).
  const mask = capMask(keep);
  const r = threadCapset({ effective: mask, permitted: mask, inheritable: 0n });
  if (r < 0) throw new HostError('capset', -r);
  check('setresuid(0)', Number(libcFunc('long syscall(long nr, long r, long e, long s)')(SYS_setresuid, 0, 0, 0)));
  check('prctl(PR_SET_KEEPCAPS, 0)', prctl()(PR_SET_KEEPCAPS, 0, 0, 0, 0) as number);
}
