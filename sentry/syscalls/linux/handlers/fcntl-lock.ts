/**
 * fcntl's record-lock commands: F_GETLK/F_SETLK/F_SETLKW (POSIX locks, owned by the
 * descriptor table) and F_OFD_GETLK/F_OFD_SETLK/F_OFD_SETLKW (owned by the open file
 * description). The locks themselves live in vfs/lock.ts.
 *
 * struct flock (x86-64, 32 bytes):
 *   0 short l_type   2 short l_whence   8 off_t l_start   16 off_t l_len   24 pid_t l_pid
 */
import { seenBy } from '../../../kernel/pid-namespace';
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import type { Block } from '../../../kernel/waiter';
import { O_PATH, SEEK_CUR, SEEK_END, SEEK_SET, type FileDescription } from '../../../vfs/file';
import { F_RDLCK, F_UNLCK, F_WRLCK, OFFSET_MAX, setRange, testRange, type RangeLock } from '../../../vfs/lock';

/** F_GETLK and the other lock commands of fcntl(2). */
export const F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38;

const FLOCK_SIZE = 32;

/** toRange turns a struct flock into the byte range it names (Linux's flock_to_posix_lock). */
function toRange(f: FileDescription, b: Buffer, owner: object, ofd: boolean, pid: number): RangeLock {
  const type = b.readInt16LE(0), whence = b.readInt16LE(2);
  const lstart = b.readBigInt64LE(8), len = b.readBigInt64LE(16);
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) fail(Errno.EINVAL);
  let base: bigint;
  switch (whence) {
    case SEEK_SET: base = 0n; break;
    case SEEK_CUR: base = BigInt(f.offset); break;
    case SEEK_END: base = BigInt(f.stat().size); break;
    default: return fail(Errno.EINVAL);
  }
  let start = base + lstart;
  if (start > OFFSET_MAX) fail(Errno.EOVERFLOW);
  if (start < 0n) fail(Errno.EINVAL);
  let end: bigint;
  if (len > 0n) {
    if (len - 1n > OFFSET_MAX - start) fail(Errno.EOVERFLOW);
    end = start + len - 1n;
  } else if (len < 0n) {
    end = start - 1n;
    start += len;
    if (start < 0n) fail(Errno.EINVAL);
  } else end = OFFSET_MAX;
  return { owner, ofd, type, start, end, pid };
}

/** fcntlLock runs one of the lock commands on descriptor f for t; `addr` is the struct flock. */
export function fcntlLock(t: Task, f: FileDescription, cmd: number, addr: bigint): number | Block {
  if (f.flags & O_PATH) fail(Errno.EBADF);
  const b = t.mm.read(addr, FLOCK_SIZE);
  const ofd = cmd === F_OFD_GETLK || cmd === F_OFD_SETLK || cmd === F_OFD_SETLKW;
  if (ofd && b.readInt32LE(24) !== 0) fail(Errno.EINVAL);
  const req = toRange(f, b, ofd ? f : t.fds, ofd, t.tg.tgid);
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    if (req.type === F_UNLCK) fail(Errno.EINVAL);
    const c = testRange(f, req);
    if (!c) {
      b.writeInt16LE(F_UNLCK, 0);
    } else {
      b.writeInt16LE(c.type, 0);
      b.writeInt16LE(SEEK_SET, 2);
      b.writeBigInt64LE(c.start, 8);
      b.writeBigInt64LE(c.end === OFFSET_MAX ? 0n : c.end - c.start + 1n, 16);
      b.writeInt32LE(c.ofd ? -1 : seenBy(t, c.pid), 24);
    }
    t.mm.write(addr, b);
    return 0;
  }
  if (req.type === F_RDLCK && !f.readable) fail(Errno.EBADF);
  if (req.type === F_WRLCK && !f.writable) fail(Errno.EBADF);
  return setRange(t, f, req, cmd === F_SETLKW || cmd === F_OFD_SETLKW);
}
