/**
 * Advisory file locks, per inode across every process of the sandbox, as Linux keeps
 * them (fs/locks.c):
 *
 * - POSIX record locks (fcntl F_SETLK/F_SETLKW/F_GETLK): byte ranges owned by a
 *   descriptor table (Linux's current->files). A range of one owner is split and merged
 *   as ranges are locked and unlocked; every lock of an owner on an inode goes when the
 *   owner closes ANY descriptor of that inode, and when the table goes.
 * - OFD locks (F_OFD_*): the same ranges in the same list, owned by the open file
 *   description; they go when the description's last reference goes.
 * - flock locks: whole-file, owned by the description, independent of the two above.
 *
 * Locks are keyed by (device, inode number), so that two inode objects for one file (a
 * file system may make one per dentry) share them. A task that must wait sleeps on the
 * inode's WaitQueue and tries again when any lock of the inode changes. A POSIX (not OFD)
 * waiter records the lock it waits for, so that a request closing a cycle of waiters
 * fails with EDEADLK (Linux's posix_locks_deadlock, up to 10 steps, OFD waiters not
 * followed).
 *
 * Invariant: `posix` holds disjoint ranges per owner; a LockState stays in `states`
 * while it holds a lock or has a waiter parked on its queue.
 *
 * Bound: the sandbox holds at most MAX_RANGE_LOCKS POSIX and OFD ranges together; a
 * request that would make more (ranges split or added) fails with ENOLCK, as Linux's does
 * when it cannot allocate a lock. Each operation costs the number of ranges of its inode.
 * flock locks are one per description (bounded by the descriptors), waiters one per task.
 */
import { Errno, fail } from '../kernel/errors';
import type { Task } from '../kernel/task';
import { Block, WaitQueue } from '../kernel/waiter';
import type { FileDescription } from './file';

/** F_RDLCK, F_WRLCK, F_UNLCK are the lock types of struct flock. */
export const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
/** LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN, LOCK_MAND are flock(2)'s operations. */
export const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8, LOCK_MAND = 32;
/** OFFSET_MAX is the last byte a lock can cover (a length of 0 locks to it). */
export const OFFSET_MAX = (1n << 63n) - 1n;

/** LockOwner is a POSIX lock's descriptor table or an OFD lock's description. */
export type LockOwner = object;

/** RangeLock is one POSIX or OFD lock: bytes start..end (inclusive). */
export interface RangeLock {
  owner: LockOwner;
  ofd: boolean;
  type: number;
  start: bigint;
  end: bigint;
  /** pid is the tgid of the process that set it (F_GETLK's l_pid; -1 for OFD locks). */
  pid: number;
}

interface FlockLock {
  owner: FileDescription;
  type: number;
}

interface Waiter {
  task: Task;
  token: object;
  state: LockState;
  blocker: RangeLock;
}

/** LockState is the locks of one inode. */
class LockState {
  posix: RangeLock[] = [];
  flocks: FlockLock[] = [];
  readonly queue = new WaitQueue();
  /** waiters are the POSIX owners blocked on this inode. */
  readonly waiters = new Set<LockOwner>();

  constructor(readonly key: string) {}
}

const states = new Map<string, LockState>();
/** waiting maps a blocked POSIX owner to what it waits for (deadlock detection). */
const waiting = new Map<LockOwner, Waiter>();
/** held lists, per POSIX owner, the inodes where it holds a lock (fast close path). */
const held = new Map<LockOwner, Set<LockState>>();
/** released are the descriptions whose release already drops their OFD/flock locks. */
const released = new WeakSet<FileDescription>();

const MAX_DEADLK_STEPS = 10;

/** MAX_RANGE_LOCKS bounds the POSIX and OFD ranges of the whole sandbox (ENOLCK past it):
 * an operation costs the ranges of its inode, under a millisecond at this bound (making
 * 16,384 one-byte ranges of one file one by one took 7.1 s here, 0.43 ms a call; an
 * F_GETLK among them 0.3 ms). */
export const MAX_RANGE_LOCKS = 16384;
let rangeLocks = 0;
let rangeLockLimit = MAX_RANGE_LOCKS;

/** setRangeLockLimit changes the bound (tests fill a smaller one). */
export function setRangeLockLimit(n: number): void {
  rangeLockLimit = n;
}

/** setPosix replaces s's ranges, keeping the sandbox-wide count. */
function setPosix(s: LockState, ranges: RangeLock[]): void {
  rangeLocks += ranges.length - s.posix.length;
  s.posix = ranges;
}

/** lockKey names the file a description refers to: (device, inode number). */
function lockKey(f: FileDescription): string {
  const inode = f.loc?.dentry.inode;
  if (inode) return `${inode.fs.dev}:${inode.ino}`;
  const st = f.stat();
  return `${st.dev}:${st.ino}`;
}

function stateOf(f: FileDescription): LockState {
  const key = lockKey(f);
  let s = states.get(key);
  if (!s) states.set(key, (s = new LockState(key)));
  return s;
}

/** changed wakes every waiter of s (they try again) and forgets s when it is empty. */
function changed(s: LockState): void {
  for (const o of s.waiters) if (waiting.get(o)?.state === s) waiting.delete(o);
  s.waiters.clear();
  s.queue.notify();
  tidy(s);
}

function tidy(s: LockState): void {
  if (s.posix.length === 0 && s.flocks.length === 0 && s.queue.size === 0 && states.get(s.key) === s) states.delete(s.key);
}

function overlaps(a: RangeLock, start: bigint, end: bigint): boolean {
  return a.start <= end && start <= a.end;
}

function conflictOf(s: LockState, req: RangeLock): RangeLock | undefined {
  return s.posix.find((l) => l.owner !== req.owner && overlaps(l, req.start, req.end) && (l.type === F_WRLCK || req.type === F_WRLCK));
}

/** deadlocks tells whether owner waiting for `blocker` closes a cycle of POSIX waiters. */
function deadlocks(owner: LockOwner, blocker: RangeLock): boolean {
  let b: RangeLock | undefined = blocker;
  for (let i = 0; i < MAX_DEADLK_STEPS && b; i++) {
    if (b.ofd) return false;
    const w = waiting.get(b.owner);
    if (!w || w.task.state === 'exited' || w.task.syscallState !== w.token) return false;
    b = w.blocker;
    if (b.owner === owner) return true;
  }
  return false;
}

/**
 * apply sets (type F_RDLCK/F_WRLCK) or clears (F_UNLCK) the range start..end of one
 * owner: its overlapping locks are cut, and locks of the same type that overlap or touch
 * the range are merged into it. Returns whether anything changed.
 */
function apply(s: LockState, req: RangeLock): boolean {
  let { start, end } = req;
  // keep stays sorted by start (the ranges before, and left parts of split ones, keep
  // their place); the new range and right parts of split ones are inserted after.
  const keep: RangeLock[] = [];
  const extra: RangeLock[] = [];
  let touched = false;
  for (const l of s.posix) {
    if (l.owner !== req.owner) {
      keep.push(l);
      continue;
    }
    const adjacent = (l.end !== OFFSET_MAX && l.end + 1n === start) || (end !== OFFSET_MAX && end + 1n === l.start);
    if (req.type !== F_UNLCK && l.type === req.type && (overlaps(l, start, end) || adjacent)) {
      if (l.start < start) start = l.start;
      if (l.end > end) end = l.end;
      touched = true;
      continue;
    }
    if (!overlaps(l, start, end)) {
      keep.push(l);
      continue;
    }
    touched = true;
    if (l.start < start) keep.push({ ...l, end: start - 1n });
    if (l.end > end) extra.push({ ...l, start: end + 1n });
  }
  if (req.type !== F_UNLCK) {
    extra.push({ ...req, start, end });
    touched = true;
  }
  if (keep.length + extra.length > s.posix.length && rangeLocks + keep.length + extra.length - s.posix.length > rangeLockLimit) {
    fail(Errno.ENOLCK);
  }
  for (const l of extra) keep.splice(firstAfter(keep, l.start), 0, l);
  setPosix(s, keep);
  return touched;
}

/** firstAfter is the index of the first range of `sorted` starting after `start`. */
function firstAfter(sorted: RangeLock[], start: bigint): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid].start <= start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function noteHeld(s: LockState, owner: LockOwner, ofd: boolean): void {
  if (ofd) return;
  const has = s.posix.some((l) => l.owner === owner);
  let set = held.get(owner);
  if (has) {
    if (!set) held.set(owner, (set = new Set()));
    set.add(s);
  } else if (set) {
    set.delete(s);
    if (set.size === 0) held.delete(owner);
  }
}

/** watchRelease drops f's OFD and flock locks when its last reference goes. */
function watchRelease(f: FileDescription): void {
  if (released.has(f)) return;
  released.add(f);
  f.onRelease(() => releaseDescription(f));
}

/** setRange implements F_SETLK/F_SETLKW (owner: the table) and F_OFD_SETLK/SETLKW (owner: f). */
export function setRange(t: Task, f: FileDescription, req: RangeLock, wait: boolean): number | Block {
  const s = stateOf(f);
  if (req.type !== F_UNLCK) {
    const c = conflictOf(s, req);
    if (c) {
      if (!wait) return fail(Errno.EAGAIN);
      if (!req.ofd && deadlocks(req.owner, c)) return fail(Errno.EDEADLK);
      if (!req.ofd) {
        const token = (t.syscallState as object | undefined) ?? {};
        t.syscallState = token;
        waiting.set(req.owner, { task: t, token, state: s, blocker: c });
        s.waiters.add(req.owner);
      }
      return new Block([s.queue]);
    }
  }
  if (!req.ofd && waiting.get(req.owner)?.task === t) waiting.delete(req.owner);
  if (req.ofd) watchRelease(f);
  let touched: boolean;
  try {
    touched = apply(s, req);
  } catch (e) {
    tidy(s);
    throw e;
  }
  if (touched) {
    noteHeld(s, req.owner, req.ofd);
    changed(s);
  } else tidy(s);
  return 0;
}

/** testRange implements F_GETLK/F_OFD_GETLK: the first lock that would block req, if any. */
export function testRange(f: FileDescription, req: RangeLock): RangeLock | undefined {
  const key = lockKey(f);
  const s = states.get(key);
  return s && conflictOf(s, req);
}

/** releasePosix drops owner's POSIX locks on f's inode (any close of a descriptor by owner). */
export function releasePosix(owner: LockOwner, f: FileDescription): void {
  const set = held.get(owner);
  if (!set) return;
  const s = states.get(lockKey(f));
  if (!s || !set.has(s)) return;
  setPosix(s, s.posix.filter((l) => l.owner !== owner || l.ofd));
  noteHeld(s, owner, false);
  changed(s);
}

/** releaseOwner drops every POSIX lock of owner (its descriptor table is gone). */
export function releaseOwner(owner: LockOwner): void {
  waiting.delete(owner);
  const set = held.get(owner);
  if (!set) return;
  held.delete(owner);
  for (const s of set) {
    setPosix(s, s.posix.filter((l) => l.owner !== owner || l.ofd));
    changed(s);
  }
}

/** lockedInodes counts the inodes with a lock or a waiter (what a close/exit cycle must
 * bring back to where it was). */
export function lockedInodes(): number {
  return states.size;
}

/** rangeLockCount is the number of POSIX and OFD ranges held in the sandbox. */
export function rangeLockCount(): number {
  return rangeLocks;
}

/** releaseDescription drops f's OFD and flock locks (its last reference went). */
function releaseDescription(f: FileDescription): void {
  const s = states.get(lockKey(f));
  if (!s) return;
  setPosix(s, s.posix.filter((l) => l.owner !== f));
  s.flocks = s.flocks.filter((l) => l.owner !== f);
  changed(s);
}

/**
 * flock implements flock(2) on f: LOCK_SH/LOCK_EX take (or convert) the description's
 * lock, LOCK_UN drops it; LOCK_NB fails with EWOULDBLOCK instead of waiting. As on Linux,
 * a conversion first drops the lock it had, so a failed one leaves none.
 */
export function flock(f: FileDescription, op: number): number | Block {
  const nb = (op & LOCK_NB) !== 0;
  const cmd = op & ~LOCK_NB;
  if (cmd & LOCK_MAND) return 0; // Linux ignores LOCK_MAND (with a warning).
  let type: number;
  switch (cmd) {
    case LOCK_SH: type = F_RDLCK; break;
    case LOCK_EX: type = F_WRLCK; break;
    case LOCK_UN: type = F_UNLCK; break;
    default: return fail(Errno.EINVAL);
  }
  const s = stateOf(f);
  const mine = s.flocks.find((l) => l.owner === f);
  if (mine && mine.type === type) return 0;
  if (mine) {
    s.flocks = s.flocks.filter((l) => l !== mine);
    changed(s);
  }
  if (type === F_UNLCK) {
    tidy(s);
    return 0;
  }
  if (s.flocks.some((l) => l.type === F_WRLCK || type === F_WRLCK)) {
    if (nb) {
      tidy(s);
      return fail(Errno.EAGAIN); // EWOULDBLOCK
    }
    return new Block([s.queue]);
  }
  watchRelease(f);
  s.flocks.push({ owner: f, type });
  return 0;
}
