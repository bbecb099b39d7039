/**
 * Locks and descriptor tables: ranges split and merge as fs/locks.c does, and every lock
 * and description comes back after a close/exit cycle (a shared table closes its files at
 * the last release, its POSIX locks go with any close, OFD and flock locks with the
 * description's last reference).
 */
import { Credentials } from '../kernel/credentials';
import { Errno, LinuxError } from '../kernel/errors';
import type { Task } from '../kernel/task';
import { Block } from '../kernel/waiter';
import { Tmpfs, type TmpfsInode } from '../fsimpl/tmpfs/tmpfs';
import { FdTable } from './fd-table';
import { O_RDWR, type FileDescription } from './file';
import { F_RDLCK, F_UNLCK, F_WRLCK, LOCK_EX, LOCK_NB, LOCK_UN, MAX_RANGE_LOCKS, OFFSET_MAX, flock, lockedInodes, rangeLockCount, setRange, setRangeLockLimit, testRange, type RangeLock } from './lock';
import { Dentry, Mount } from './mount';

const fs = new Tmpfs();
const ino = fs.root.create('f', 0o600, new Credentials(0, 0)) as TmpfsInode;
const task = { syscallState: undefined, state: 'running' } as unknown as Task;

/** open returns a new description of the same file, and a flag set at its release. */
function open(): { f: FileDescription; released: () => boolean } {
  const mount = new Mount(fs, null, null, 0, 'tmpfs');
  const f = ino.open({ mount, dentry: new Dentry('f', mount.root, ino) }, O_RDWR);
  let gone = false;
  f.onRelease(() => (gone = true));
  return { f, released: () => gone };
}

function range(owner: object, type: number, start: bigint, end: bigint, ofd = false): RangeLock {
  return { owner, ofd, type, start, end, pid: 1 };
}

const EAGAIN = new LinuxError(Errno.EAGAIN), ENOLCK = new LinuxError(Errno.ENOLCK);

describe('locks', () => {
  afterEach(() => {
    setRangeLockLimit(MAX_RANGE_LOCKS);
    expect(lockedInodes()).toBe(0);
    expect(rangeLockCount()).toBe(0);
  });

  test('POSIX ranges split, merge and go when the owner closes any descriptor of the file', () => {
    const t1 = new FdTable(), t2 = new FdTable();
    const a = open(), b = open();
    const fa = t1.add(a.f, false);
    t1.add(b.f, false);
    expect(setRange(task, a.f, range(t1, F_WRLCK, 0n, 99n), false)).toBe(0);
    expect(setRange(task, a.f, range(t1, F_UNLCK, 40n, 49n), false)).toBe(0);
    expect(testRange(a.f, range(t2, F_WRLCK, 40n, 49n))).toBeUndefined();
    expect(testRange(a.f, range(t2, F_WRLCK, 30n, 49n))).toMatchObject({ start: 0n, end: 39n });
    expect(setRange(task, a.f, range(t1, F_WRLCK, 40n, 49n), false)).toBe(0);
    expect(testRange(a.f, range(t2, F_WRLCK, 45n, 45n))).toMatchObject({ start: 0n, end: 99n });
    expect(setRange(task, a.f, range(t1, F_WRLCK, 100n, OFFSET_MAX), false)).toBe(0);
    expect(testRange(a.f, range(t2, F_RDLCK, 5000n, 5000n))).toMatchObject({ start: 0n, end: OFFSET_MAX });
    expect(() => setRange(task, b.f, range(t2, F_RDLCK, 7n, 7n), false)).toThrow(EAGAIN);
    t1.remove(fa);
    expect(a.released()).toBe(true);
    expect(testRange(b.f, range(t2, F_WRLCK, 0n, OFFSET_MAX))).toBeUndefined();
    t1.release();
    t2.release();
    expect(b.released()).toBe(true);
  });

  test('a shared table closes its files at the last release, and its locks go then', () => {
    const t = new FdTable();
    const a = open();
    t.add(a.f, false);
    expect(setRange(task, a.f, range(t, F_WRLCK, 0n, 0n), false)).toBe(0);
    t.ref();
    t.release();
    expect(a.released()).toBe(false);
    expect(testRange(a.f, range({}, F_WRLCK, 0n, 0n))).toBeDefined();
    t.release();
    expect(a.released()).toBe(true);
  });

  test('OFD and flock locks go with the last reference of their description', () => {
    const a = open(), b = open();
    expect(setRange(task, a.f, range(a.f, F_WRLCK, 0n, 9n, true), false)).toBe(0);
    expect(flock(a.f, LOCK_EX)).toBe(0);
    expect(() => flock(b.f, LOCK_EX | LOCK_NB)).toThrow(EAGAIN);
    expect(flock(b.f, LOCK_EX)).toBeInstanceOf(Block);
    a.f.ref();
    a.f.unref();
    expect(testRange(b.f, range(b.f, F_WRLCK, 5n, 5n, true))).toMatchObject({ ofd: true });
    a.f.unref();
    expect(testRange(b.f, range(b.f, F_WRLCK, 5n, 5n, true))).toBeUndefined();
    expect(flock(b.f, LOCK_EX | LOCK_NB)).toBe(0);
    expect(flock(b.f, LOCK_UN)).toBe(0);
    b.f.unref();
  });

  test('the sandbox holds a bounded number of ranges: past it ENOLCK, and a close gives them back', () => {
    const BOUND = 1000;
    setRangeLockLimit(BOUND);
    const t = new FdTable();
    const a = open();
    t.add(a.f, false);
    for (let i = 0; i < BOUND; i++) setRange(task, a.f, range(t, F_WRLCK, BigInt(2 * i), BigInt(2 * i)), false);
    expect(rangeLockCount()).toBe(BOUND);
    expect(() => setRange(task, a.f, range(t, F_WRLCK, -2n + BigInt(2 * BOUND) + 4n, OFFSET_MAX), false)).toThrow(ENOLCK);
    // Filling a gap merges the two ranges beside it with it: allowed at the bound.
    expect(setRange(task, a.f, range(t, F_WRLCK, 1n, 1n), false)).toBe(0);
    expect(rangeLockCount()).toBe(BOUND - 1);
    // Splitting one in two is refused at the bound, and changes nothing.
    expect(setRange(task, a.f, range(t, F_RDLCK, 1n << 40n, 1n << 40n), false)).toBe(0);
    expect(() => setRange(task, a.f, range(t, F_UNLCK, 1n, 1n), false)).toThrow(ENOLCK);
    expect(rangeLockCount()).toBe(BOUND);
    expect(setRange(task, a.f, range(t, F_UNLCK, 0n, 1n), false)).toBe(0);
    t.release();
    expect(a.released()).toBe(true);
  });
});
