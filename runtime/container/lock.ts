/**
 * lock.ts serializes tvisor commands on one container with flock(2) on the container's
 * `lock` file: every command that changes a container (create, start, kill, delete) holds
 * the lock from before it reads state.json until after it has written or removed it.
 * (Node opens every file close-on-exec.) Readers (state, list) take no lock: state.json is replaced atomically by rename.
 *
 * Ordering: a command takes at most one container lock at a time, so there is no lock
 * order to respect. A delete unlinks the lock file while holding it; a command that was
 * waiting then holds a lock on a dead inode, so after locking we check that the path still
 * names the locked inode and report the container as gone otherwise.
 */
import { closeSync, fstatSync, openSync, statSync, constants as fsc } from 'node:fs';
import { Errno, HostError, lastErrno, libcFunc } from '../../native/libc';

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

/** LockBusyError is a lock still held by another command when the wait timed out. */
export class LockBusyError extends Error {
  constructor(readonly path: string, timeoutMs: number) {
    super(`${path} is held by another tvisor command (waited ${timeoutMs} ms)`);
    this.name = 'LockBusyError';
  }
}

/** tryFlock attempts one non-blocking exclusive flock; false means another holder. */
function tryFlock(fd: number): boolean {
  // SAFETY: fd is a descriptor this module opened and has not closed; flock takes no pointer.
  const ret = libcFunc('int flock(int fd, int operation)')(fd, LOCK_EX | LOCK_NB) as number;
  if (ret === 0) return true;
  const errno = lastErrno();
  if (errno === Errno.EAGAIN || errno === Errno.EINTR) return false;
  throw new HostError('flock', errno);
}

/** FileLock is a held exclusive flock on one file; release it exactly once. */
export class FileLock {
  private constructor(readonly path: string, private fd: number) {}

  /**
   * FileLock.acquire locks `path` (creating the file when `create`), waiting up to
   * `timeoutMs` while another process holds it. It resolves undefined when the file does
   * not exist or was removed while we waited (the thing it guarded is gone).
   */
  static async acquire(path: string, opts: { create?: boolean; timeoutMs?: number } = {}): Promise<FileLock | undefined> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let fd: number;
      try {
        fd = openSync(path, fsc.O_RDWR | (opts.create ? fsc.O_CREAT : 0), 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      let delay = 2;
      try {
        while (!tryFlock(fd)) {
          if (Date.now() >= deadline) throw new LockBusyError(path, timeoutMs);
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 50);
        }
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      const held = fstatSync(fd).ino;
      let current: number | undefined;
      try {
        current = statSync(path).ino;
      } catch {
        current = undefined;
      }
      if (current === held) return new FileLock(path, fd);
      closeSync(fd); // the file was unlinked (and maybe recreated) while we waited
      if (current === undefined) return undefined;
    }
  }

  /** release unlocks and closes the file. */
  release(): void {
    if (this.fd < 0) return;
    // SAFETY: fd is still open (set to -1 once closed); LOCK_UN on it cannot touch memory.
    libcFunc('int flock(int fd, int operation)')(this.fd, LOCK_UN);
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** isLocked tells whether another open file description holds a lock on `path` right now. */
export function isLocked(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY);
  } catch {
    return false;
  }
  try {
    if (!tryFlock(fd)) return true;
    // SAFETY: as in release(); we held the lock only for this probe.
    libcFunc('int flock(int fd, int operation)')(fd, LOCK_UN);
    return false;
  } finally {
    closeSync(fd);
  }
}
