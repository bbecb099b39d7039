/**
 * Descriptors: dup, dup2, dup3, fcntl, pipe, pipe2, ioctl, flock.
 */
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import { O_ACCMODE, O_CLOEXEC, O_DIRECT, O_NOATIME, O_NONBLOCK, O_PATH, STATUS_FLAGS } from '../../../vfs/file';
import { flock } from '../../../vfs/lock';
import { mayNoatime } from '../../../vfs/permission';
import { newPipe, PipeEnd } from '../../../fsimpl/pipe/pipe';
import { TmpfsFile } from '../../../fsimpl/tmpfs/tmpfs';
import { define } from '../registry';
import { fdArg, file, u32 } from './util';
import { F_GETLK, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETLK, F_SETLKW, fcntlLock } from './fcntl-lock';

const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4,
  F_SETOWN = 8, F_GETOWN = 9, F_DUPFD_CLOEXEC = 1030,
  F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032, F_ADD_SEALS = 1033, F_GET_SEALS = 1034;
const FD_CLOEXEC = 1;

define(32, (t, r) => t.fds.add(file(t, fdArg(r, 0)).ref(), false), 'full');
define(33, (t, r) => {
  const oldfd = fdArg(r, 0), newfd = fdArg(r, 1);
  const f = file(t, oldfd);
  if (oldfd === newfd) return newfd;
  t.fds.setAt(newfd, f.ref(), false);
  return newfd;
}, 'full');
define(292, (t, r) => {
  const oldfd = fdArg(r, 0), newfd = fdArg(r, 1), flags = u32(r, 2);
  if (flags & ~O_CLOEXEC) fail(Errno.EINVAL);
  const f = file(t, oldfd);
  if (oldfd === newfd) fail(Errno.EINVAL);
  t.fds.setAt(newfd, f.ref(), (flags & O_CLOEXEC) !== 0);
  return newfd;
}, 'full');

define(72, (t, r) => {
  const fd = fdArg(r, 0), cmd = r.argInt(1);
  const f = file(t, fd);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = r.argInt(2);
      if (min < 0 || min >= t.fds.limit) fail(Errno.EINVAL);
      return t.fds.add(f.ref(), cmd === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD: return t.fds.cloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD: t.fds.setCloexec(fd, (r.argInt(2) & FD_CLOEXEC) !== 0); return 0;
    case F_GETFL: return f.flags & ~O_CLOEXEC;
    case F_SETFL: {
      const want = r.argInt(2) & STATUS_FLAGS & ~O_DIRECT;
      // Adding O_NOATIME takes what open's O_NOATIME takes (setfl: EPERM otherwise).
      if (want & O_NOATIME && !(f.flags & O_NOATIME)) {
        const err = mayNoatime(t.creds, f.stat());
        if (err) fail(err);
      }
      f.flags = (f.flags & ~STATUS_FLAGS) | want | (f.flags & O_ACCMODE);
      return 0;
    }
    case F_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
      return fcntlLock(t, f, cmd, r.arg(2));
    case F_GETOWN: return 0;
    case F_SETOWN: return 0;
    case F_GETPIPE_SZ:
      if (!(f instanceof PipeEnd)) fail(Errno.EBADF);
      return f.pipe.capacity;
    case F_SETPIPE_SZ: {
      if (!(f instanceof PipeEnd)) fail(Errno.EBADF);
      const want = r.argInt(2);
      if (want < 0 || want > 1 << 20) fail(Errno.EPERM);
      if (want < f.pipe.size) fail(Errno.EBUSY);
      f.pipe.capacity = Math.max(4096, 2 ** Math.ceil(Math.log2(Math.max(want, 1))));
      return f.pipe.capacity;
    }
    // Seals: tmpfs files (memfds: handlers/memfd.ts); other files answer EINVAL, as on Linux for non-shmem files.
    case F_ADD_SEALS:
      if (!(f instanceof TmpfsFile)) fail(Errno.EINVAL);
      if (!f.writable) fail(f.inode.isRegular ? Errno.EPERM : Errno.EINVAL);
      f.inode.addSeals(r.argInt(2));
      return 0;
    case F_GET_SEALS: return f instanceof TmpfsFile ? f.inode.getSeals() : fail(Errno.EINVAL);
    default: return fail(Errno.EINVAL);
  }
}, 'partial', 'no leases, F_NOTIFY, seals or signal-driven I/O (F_SETOWN is accepted and ignored)');

function pipe(t: Task, addr: bigint, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) fail(Errno.EINVAL);
  const [rd, wr] = newPipe(flags & O_NONBLOCK);
  rd.pipe.uid = t.creds.euid;
  rd.pipe.gid = t.creds.egid;
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const rfd = t.fds.add(rd, cloexec);
  let wfd: number;
  try {
    wfd = t.fds.add(wr, cloexec);
  } catch (e) {
    t.fds.remove(rfd);
    throw e;
  }
  const b = Buffer.alloc(8);
  b.writeInt32LE(rfd, 0);
  b.writeInt32LE(wfd, 4);
  try {
    t.mm.write(addr, b);
  } catch (e) {
    t.fds.remove(rfd);
    t.fds.remove(wfd);
    throw e;
  }
  return 0;
}
define(22, (t, r) => pipe(t, r.arg(0), 0), 'full');
define(293, (t, r) => pipe(t, r.arg(0), u32(r, 1)), 'full');

const FIONBIO = 0x5421, FIOCLEX = 0x5451, FIONCLEX = 0x5450;
define(16, (t, r) => {
  const fd = fdArg(r, 0), cmd = u32(r, 1);
  const f = file(t, fd);
  switch (cmd) {
    case FIOCLEX: t.fds.setCloexec(fd, true); return 0;
    case FIONCLEX: t.fds.setCloexec(fd, false); return 0;
    case FIONBIO: {
      const on = t.mm.read(r.arg(2), 4).readInt32LE(0) !== 0;
      f.flags = on ? f.flags | O_NONBLOCK : f.flags & ~O_NONBLOCK;
      return 0;
    }
    default: return f.ioctl(t, cmd, r.arg(2));
  }
}, 'partial', 'per-file ioctls: terminals, FIONREAD');

define(73, (t, r) => {
  const f = file(t, fdArg(r, 0));
  if (f.flags & O_PATH) fail(Errno.EBADF);
  return flock(f, u32(r, 1));
}, 'full');
