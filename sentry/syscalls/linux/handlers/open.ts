/**
 * open, openat, openat2, creat, close, close_range.
 */
import { unshareFiles } from '../../../kernel/namespaces';
import { Errno, fail } from '../../../kernel/errors';
import { O_ACCMODE, O_CLOEXEC, O_CREAT, O_PATH, O_TMPFILE, O_TRUNC, O_WRONLY } from '../../../vfs/file';
import { openAt } from '../../../vfs/ops';
import { block, type Block } from '../../../kernel/waiter';
import { FifoOpenWait, fifoWait, PipeEnd } from '../../../fsimpl/pipe/pipe';
import type { Task } from '../../../kernel/task';
import { define } from '../registry';
import { AT_FDCWD, dirLocation, fdArg, pathArg, u32 } from './util';

/** doOpen is the common body of open/openat/creat. */
export function doOpen(t: Task, dirfd: number, path: string, flags: number, mode: number): number | Block {
  if ((flags & O_TMPFILE) === O_TMPFILE) fail(Errno.EOPNOTSUPP);
  if ((flags & O_ACCMODE) === 3 && !(flags & O_PATH)) fail(Errno.EINVAL);
  // A FIFO open waiting for its partner: the end is already open (fifoWait). An
  // anonymous pipe reopened through /proc/<pid>/fd never waits (Linux's is_pipe).
  const waiting = t.syscallState instanceof FifoOpenWait ? t.syscallState : null;
  const f = waiting?.end ?? openAt(t, dirLocation(t, dirfd, path), path, flags, mode);
  const wait = waiting ?? (f instanceof PipeEnd && f.loc ? fifoWait(f, flags) : null);
  if (wait && !wait.ready) {
    t.syscallState = wait;
    return block(wait.end.pipe.queue);
  }
  t.syscallState = undefined;
  return t.fds.add(f, (flags & O_CLOEXEC) !== 0);
}

define(2, (t, r) => doOpen(t, AT_FDCWD, pathArg(t, r, 0), u32(r, 1), u32(r, 2)), 'full');
define(257, (t, r) => doOpen(t, fdArg(r, 0), pathArg(t, r, 1), u32(r, 2), u32(r, 3)), 'full');
define(85, (t, r) => doOpen(t, AT_FDCWD, pathArg(t, r, 0), O_CREAT | O_WRONLY | O_TRUNC, u32(r, 1)), 'full');

// openat2(dirfd, path, struct open_how *how, size): resolve flags beyond 0 are refused.
define(437, (t, r) => {
  const size = Number(r.arg(3));
  if (size < 24 || size > 4096) fail(Errno.EINVAL);
  const how = t.mm.read(r.arg(2), 24);
  const flags = how.readBigUInt64LE(0), mode = how.readBigUInt64LE(8), resolveFlags = how.readBigUInt64LE(16);
  if (flags > 0xffffffffn || mode > 0o7777n) fail(Errno.EINVAL);
  if (resolveFlags !== 0n) fail(Errno.EOPNOTSUPP);
  return doOpen(t, fdArg(r, 0), pathArg(t, r, 1), Number(flags), Number(mode));
}, 'partial', 'RESOLVE_* flags are not supported');

define(3, (t, r) => {
  t.fds.remove(fdArg(r, 0));
  return 0;
}, 'full');

const CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;


// close_range(first, last, flags): CLOSE_RANGE_CLOEXEC marks instead of closing;
// CLOSE_RANGE_UNSHARE first makes the caller's table its own.
define(436, (t, r) => {
  const first = u32(r, 0), last = u32(r, 1), flags = u32(r, 2);
  if (first > last || (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) !== 0) fail(Errno.EINVAL);
  if (flags & CLOSE_RANGE_UNSHARE) unshareFiles(t);
  for (const [fd] of t.fds.entries()) {
    if (fd < first || fd > last) continue;
    if (flags & CLOSE_RANGE_CLOEXEC) t.fds.setCloexec(fd, true);
    else t.fds.remove(fd);
  }
  return 0;
}, 'full');
