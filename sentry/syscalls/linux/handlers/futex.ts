/**
 * futex, set_robust_list and get_robust_list (the futex table and robust lists are in
 * kernel/futex.ts and kernel/robust.ts).
 */
import { taskByTid } from '../../../kernel/pid-namespace';
import { Errno, fail } from '../../../kernel/errors';
import { FUTEX_BITSET_MATCH_ANY, futexes, wakeOpApply } from '../../../kernel/futex';
import { robustListOf, setRobustList, ROBUST_LIST_HEAD_SIZE } from '../../../kernel/robust';
import type { Task } from '../../../kernel/task';
import type { Registers } from '../../../../platform';
import { define } from '../registry';
import { nowNs } from '../../../kernel/timekeeper';
import { u32 } from './util';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
  FUTEX_LOCK_PI = 6, FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10,
  FUTEX_WAIT_REQUEUE_PI = 11, FUTEX_LOCK_PI2 = 13;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1;
/** CAP_SYS_PTRACE (19) lets get_robust_list read any task's head. */
const CAP_SYS_PTRACE = 19;

/**
 * deadlineOf reads the timeout argument into a deadline (ms, Date.now clock), or
 * undefined for none: relative for FUTEX_WAIT, absolute on `clock` for the others.
 */
function deadlineOf(t: Task, addr: bigint, relative: boolean, clock: number): number | undefined {
  if (addr === 0n) return undefined;
  const b = t.mm.read(addr, 16);
  const sec = b.readBigInt64LE(0), nsec = b.readBigInt64LE(8);
  if (sec < 0n || nsec < 0n || nsec >= 1000000000n) fail(Errno.EINVAL);
  const ns = sec * 1000000000n + nsec;
  const rel = relative ? ns : ns - nowNs(clock);
  return Date.now() + Math.max(0, Number(rel) / 1e6);
}

/** val2 is the fourth argument read as the count REQUEUE and WAKE_OP take there. */
function val2(r: Registers): number {
  return Number(r.arg(3) & 0xffffffffn) | 0;
}

// futex(uaddr, op, val, timeout | val2, uaddr2, val3)
define(202, (t, r) => {
  if (!t.kernel.futexWake) t.kernel.futexWake = (task, addr, n) => futexes.wake(task, addr, n);
  const opArg = r.argInt(1);
  const cmd = opArg & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const priv = (opArg & FUTEX_PRIVATE_FLAG) !== 0;
  const realtime = (opArg & FUTEX_CLOCK_REALTIME) !== 0;
  if (realtime && ![FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_LOCK_PI2].includes(cmd)) return -Errno.ENOSYS;
  const addr = r.arg(0), val = r.argInt(2), val3 = u32(r, 5);
  // The timeout is read when the call starts; a woken waiter keeps its deadline in its record.
  const timeout = (relative: boolean, clock: number) => (t.inSyscall ? undefined : deadlineOf(t, r.arg(3), relative, clock));
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const key = futexes.keyOf(t, addr, priv);
      const bitset = cmd === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3;
      const deadline = timeout(cmd === FUTEX_WAIT, realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC);
      return futexes.wait(t, key, addr, val, bitset, deadline);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
      // As Linux, a count below 1 still wakes one waiter.
      return futexes.wakeKey(futexes.keyOf(t, addr, priv), Math.max(1, val), cmd === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3);
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      const nRequeue = val2(r);
      if (val < 0 || nRequeue < 0) fail(Errno.EINVAL);
      const from = futexes.keyOf(t, addr, priv), to = futexes.keyOf(t, r.arg(4), priv);
      if (cmd === FUTEX_CMP_REQUEUE && t.mm.read(addr, 4).readUInt32LE(0) !== val3) return -Errno.EAGAIN;
      return futexes.requeue(from, to, val, nRequeue);
    }
    case FUTEX_WAKE_OP: {
      const key1 = futexes.keyOf(t, addr, priv), key2 = futexes.keyOf(t, r.arg(4), priv);
      const old = t.mm.read(r.arg(4), 4).readUInt32LE(0);
      const { newval, cond } = wakeOpApply(val3, old);
      const b = Buffer.alloc(4);
      b.writeUInt32LE(newval);
      t.mm.write(r.arg(4), b);
      let n = futexes.wakeKey(key1, Math.max(1, val));
      if (cond) n += futexes.wakeKey(key2, Math.max(1, val2(r)));
      return n;
    }
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_TRYLOCK_PI: {
      const key = futexes.keyOf(t, addr, priv);
      // LOCK_PI's timeout is on CLOCK_REALTIME; LOCK_PI2's on CLOCK_MONOTONIC unless asked.
      const deadline = cmd === FUTEX_TRYLOCK_PI ? undefined : timeout(false, cmd === FUTEX_LOCK_PI || realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC);
      return futexes.lockPi(t, key, addr, cmd === FUTEX_TRYLOCK_PI, deadline);
    }
    case FUTEX_UNLOCK_PI:
      return futexes.unlockPi(t, futexes.keyOf(t, addr, priv), addr);
    default:
      // FUTEX_FD (gone since Linux 2.6.26), WAIT_REQUEUE_PI, CMP_REQUEUE_PI.
      return -Errno.ENOSYS;
  }
}, 'partial', 'WAIT/WAKE (+BITSET), REQUEUE, CMP_REQUEUE, WAKE_OP; LOCK_PI/LOCK_PI2/TRYLOCK_PI/UNLOCK_PI keep the word protocol (owner tid, FUTEX_WAITERS, hand-off, EDEADLK) without priority inheritance; WAIT_REQUEUE_PI and CMP_REQUEUE_PI are ENOSYS');

// set_robust_list(head, len)
define(273, (t, r) => setRobustList(t, r.arg(0), Number(r.arg(1))), 'partial', 'walked at thread exit; at execve the list is dropped, not walked');

// get_robust_list(pid, head_ptr, len_ptr)
define(274, (t, r) => {
  const pid = r.argInt(0);
  const target = pid === 0 ? t : taskByTid(t, pid);
  if (!target || pid < 0) fail(Errno.ESRCH);
  // ptrace read access, simplified: same user (real ids) or CAP_SYS_PTRACE.
  const c = t.creds, tc = target.creds;
  if (target.tg !== t.tg && !(c.uid === tc.uid && c.uid === tc.euid && c.uid === tc.suid) && !c.capableIn(CAP_SYS_PTRACE, tc.userns)) fail(Errno.EPERM);
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(robustListOf(target));
  t.mm.write(r.arg(1), b);
  b.writeBigUInt64LE(BigInt(ROBUST_LIST_HEAD_SIZE));
  t.mm.write(r.arg(2), b);
  return 0;
}, 'partial', 'access check: same user ids or CAP_SYS_PTRACE (no ptrace access modes)');

/*
 * The futex2 calls (futex_waitv, futex_wake, futex_wait, futex_requeue) name each word by an
 * address and FUTEX2_* flags, as Linux 6.7+ (kernel/futex/syscalls.c) checks them:
 *   bits 0-1  FUTEX2_SIZE_U8/U16/U32/U64: only U32 is implemented, the others are EINVAL
 *   bit 2     FUTEX2_NUMA: the word is followed by a node word of its size, the pair
 *             aligned to its own size; node ~0 is replaced by the caller's node, any node
 *             but ~0 or a possible node is EINVAL (the sandbox has one node, 0)
 *   bit 3     FUTEX2_MPOL: place by the memory policy (one node here: nothing to do)
 *   bit 7     FUTEX2_PRIVATE: keyed by address space, else by the shared memory
 * Any other bit is EINVAL; so is a value or mask wider than the word.
 */
const FUTEX2_SIZE_MASK = 3, FUTEX2_SIZE_U32 = 2, FUTEX2_NUMA = 4, FUTEX2_MPOL = 8, FUTEX2_PRIVATE = 128;
const FUTEX2_VALID_MASK = FUTEX2_SIZE_MASK | FUTEX2_NUMA | FUTEX2_MPOL | FUTEX2_PRIVATE;
/** FUTEX_NO_NODE is the node word that asks the kernel to choose the node. */
const FUTEX_NO_NODE = 0xffffffff;
/** FUTEX_WAITV_MAX bounds futex_waitv's vector. */
const FUTEX_WAITV_MAX = 128;

/** futex2Check fails with EINVAL unless flags are valid futex2 flags and val fits the word. */
function futex2Check(flags: number, ...vals: bigint[]): void {
  if ((flags & ~FUTEX2_VALID_MASK) !== 0 || (flags & FUTEX2_SIZE_MASK) !== FUTEX2_SIZE_U32) fail(Errno.EINVAL);
  for (const v of vals) if (v > 0xffffffffn) fail(Errno.EINVAL);
}

/**
 * futex2Key returns the key of the word at addr named with futex2 flags (already checked):
 * EINVAL when misaligned, EFAULT when unmapped; for FUTEX2_NUMA it reads the node word
 * (EFAULT), refuses a node other than 0 or FUTEX_NO_NODE (EINVAL), and writes 0 over
 * FUTEX_NO_NODE as Linux writes the node it chose.
 */
function futex2Key(t: Task, addr: bigint, flags: number) {
  if (!(flags & FUTEX2_NUMA)) return futexes.keyOf(t, addr, (flags & FUTEX2_PRIVATE) !== 0);
  if (addr % 8n !== 0n) fail(Errno.EINVAL);
  const node = t.mm.read(addr + 4n, 4).readUInt32LE(0);
  if (node !== FUTEX_NO_NODE && node !== 0) fail(Errno.EINVAL);
  if (node === FUTEX_NO_NODE) t.mm.write(addr + 4n, Buffer.alloc(4));
  return futexes.keyOf(t, addr, (flags & FUTEX2_PRIVATE) !== 0);
}

/** Futex2Word is one struct futex_waitv entry, checked. */
interface Futex2Word {
  val: bigint;
  addr: bigint;
  flags: number;
}

/*
 * readWaitv reads n entries of a futex_waitv vector at addr (EFAULT), each checked
 * (EINVAL for bad flags, a nonzero __reserved or a value wider than the word):
 *   struct futex_waitv { u64 val; u64 uaddr; u32 flags; u32 __reserved; }  (24 bytes)
 */
function readWaitv(t: Task, addr: bigint, n: number): Futex2Word[] {
  const raw = t.mm.read(addr, 24 * n);
  const words: Futex2Word[] = [];
  for (let i = 0; i < n; i++) {
    const val = raw.readBigUInt64LE(24 * i), uaddr = raw.readBigUInt64LE(24 * i + 8);
    const flags = raw.readUInt32LE(24 * i + 16), reserved = raw.readUInt32LE(24 * i + 20);
    if (reserved !== 0) fail(Errno.EINVAL);
    futex2Check(flags, val);
    words.push({ val, addr: uaddr, flags });
  }
  return words;
}

/** futex2Deadline reads futex2's timeout: absolute on clockid (MONOTONIC or REALTIME, else EINVAL), none when the pointer is NULL. */
function futex2Deadline(t: Task, addr: bigint, clock: number): number | undefined {
  if (t.inSyscall || addr === 0n) return undefined;
  if (clock !== CLOCK_MONOTONIC && clock !== CLOCK_REALTIME) fail(Errno.EINVAL);
  return deadlineOf(t, addr, false, clock);
}

// futex_waitv(waiters, nr_futexes, flags, timeout, clockid)
define(449, (t, r) => {
  const n = u32(r, 1);
  if (u32(r, 2) !== 0 || r.arg(0) === 0n || n === 0 || n > FUTEX_WAITV_MAX) fail(Errno.EINVAL);
  const deadline = futex2Deadline(t, r.arg(3), r.argInt(4));
  const entries = readWaitv(t, r.arg(0), n).map((w) => ({ key: futex2Key(t, w.addr, w.flags), addr: w.addr, val: Number(w.val) }));
  return futexes.waitv(t, entries, deadline);
}, 'partial', '32-bit words only (as Linux); one NUMA node');

// futex_wake(uaddr, mask, nr, flags): FUTEX_WAKE_BITSET with a strict count (0 wakes none).
define(454, (t, r) => {
  const flags = u32(r, 3), mask = r.arg(1), nr = r.argInt(2);
  futex2Check(flags, mask);
  if (mask === 0n) fail(Errno.EINVAL);
  const key = futex2Key(t, r.arg(0), flags);
  if (nr === 0) return 0;
  // As Linux's loop, a negative count still wakes one waiter.
  return futexes.wakeKey(key, Math.max(1, nr), Number(mask));
}, 'full');

// futex_wait(uaddr, val, mask, flags, timeout, clockid): FUTEX_WAIT_BITSET with an absolute timeout on clockid.
define(455, (t, r) => {
  const flags = u32(r, 3), val = r.arg(1), mask = r.arg(2);
  futex2Check(flags, val, mask);
  const deadline = futex2Deadline(t, r.arg(4), r.argInt(5));
  if (mask === 0n) fail(Errno.EINVAL);
  const addr = r.arg(0);
  return futexes.wait(t, futex2Key(t, addr, flags), addr, Number(val), Number(mask), deadline);
}, 'full');

// futex_requeue(waiters[2], flags, nr_wake, nr_requeue): FUTEX_CMP_REQUEUE from waiters[0]
// (compared with its val) to waiters[1]; both words must carry the same flags.
define(456, (t, r) => {
  if (u32(r, 1) !== 0 || r.arg(0) === 0n) fail(Errno.EINVAL);
  const [from, to] = readWaitv(t, r.arg(0), 2);
  if (from.flags !== to.flags) fail(Errno.EINVAL);
  const nWake = r.argInt(2), nRequeue = r.argInt(3);
  if (nWake < 0 || nRequeue < 0) fail(Errno.EINVAL);
  const k1 = futex2Key(t, from.addr, from.flags), k2 = futex2Key(t, to.addr, to.flags);
  if (BigInt(t.mm.read(from.addr, 4).readUInt32LE(0)) !== from.val) return -Errno.EAGAIN;
  return futexes.requeue(k1, k2, nWake, nRequeue);
}, 'full');
