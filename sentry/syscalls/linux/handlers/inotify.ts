/**
 * inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch: instances are
 * fsimpl/anon/inotify.ts; the events come from the VFS operations (vfs/fsnotify.ts).
 */
import { Errno, fail } from '../../../kernel/errors';
import { MAY_READ } from '../../../kernel/credentials';
import type { Task } from '../../../kernel/task';
import { Inotify } from '../../../fsimpl/anon/inotify';
import { O_CLOEXEC, O_NONBLOCK } from '../../../vfs/file';
import { IN_ALL_EVENTS } from '../../../vfs/fsnotify';
import { mayAccess } from '../../../vfs/ops';
import { resolve } from '../../../vfs/path';
import { define } from '../registry';
import { AT_FDCWD, dirLocation, fdArg, file, pathArg, u32 } from './util';

const IN_ONLYDIR = 0x01000000, IN_DONT_FOLLOW = 0x02000000, IN_EXCL_UNLINK = 0x04000000;
const IN_MASK_CREATE = 0x10000000, IN_MASK_ADD = 0x20000000, IN_ONESHOT = 0x80000000;
const WATCH_FLAGS = IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ONESHOT;

const NOTE = 'changes made inside the sandbox, and on a bind mount the host\'s (IN_CREATE, IN_DELETE, IN_MODIFY, IN_ATTRIB, IN_MOVED_*, IN_CLOSE_WRITE, IN_*_SELF; not IN_ACCESS, IN_OPEN, IN_CLOSE_NOWRITE); IN_ACCESS for read/readv/pread only; IN_CLOSE_* only for files opened while a watch existed; IN_DELETE_SELF comes at the last unlink even while the file is open';

function init(t: Task, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) fail(Errno.EINVAL);
  return t.fds.add(new Inotify(flags & O_NONBLOCK), (flags & O_CLOEXEC) !== 0);
}

function instance(t: Task, fd: number): Inotify {
  const f = file(t, fd);
  if (!(f instanceof Inotify)) fail(Errno.EINVAL);
  return f;
}

define(253, (t) => init(t, 0), 'partial', NOTE);
define(294, (t, r) => init(t, r.argInt(0)), 'partial', NOTE);

// inotify_add_watch(fd, path, mask)
define(254, (t, r) => {
  const f = instance(t, fdArg(r, 0));
  const path = pathArg(t, r, 1);
  const mask = u32(r, 2);
  if ((mask & IN_ALL_EVENTS) === 0 || (mask & ~(IN_ALL_EVENTS | WATCH_FLAGS)) !== 0) fail(Errno.EINVAL);
  if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE)) fail(Errno.EINVAL);
  const loc = resolve(t, dirLocation(t, AT_FDCWD, path), path, { follow: !(mask & IN_DONT_FOLLOW), directory: (mask & IN_ONLYDIR) !== 0 });
  mayAccess(t, loc, MAY_READ);
  return f.addWatch(loc.dentry.inode, mask);
}, 'partial', NOTE);

// inotify_rm_watch(fd, wd)
define(255, (t, r) => {
  instance(t, fdArg(r, 0)).removeWatch(r.argInt(1));
  return 0;
}, 'partial', NOTE);
