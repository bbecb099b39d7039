/**
 * The gofer's host inotify calls (inotify(7)), through koffi: one instance per 9P
 * connection that watches something (gofer/server/watches.ts). Every call returns its
 * result or -errno. inotify_add_watch takes only a path: a watch is always added on
 * the number of a descriptor the gofer already holds inside an export (a File's O_PATH
 * descriptor), relative to the gofer's working directory, which is its /proc/self/fd
 * (enterProcFd, before confinement: the confined gofer has no /proc in its root), so
 * the kernel follows that magic link, resolves no name of the export's tree, and the
 * watch cannot leave the export.
 */
import { lastErrno, libcFunc } from '../../native/libc';

/** The host IN_* bits the gofer forwards, and the flags it uses. */
export const IN_ACCESS = 0x1, IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_CLOSE_NOWRITE = 0x10, IN_OPEN = 0x20,
  IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200, IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800,
  IN_UNMOUNT = 0x2000, IN_Q_OVERFLOW = 0x4000, IN_IGNORED = 0x8000, IN_ISDIR = 0x40000000;
/** READ_EVENTS are the events of reading a file (opening, reading, closing without a
 * write): all a request or a barrier that only reads can make the host report. */
export const READ_EVENTS = IN_ACCESS | IN_OPEN | IN_CLOSE_NOWRITE;
/** HOST_EVENTS is the mask of every host watch: every event inotify(7) reports of a
 * file, since a watcher in the sandbox sees the host's reads of a bind-mounted file as
 * any reader's (the same inode). The host's reports of the gofer's own opens, reads and
 * closes for the sandbox are dropped as its changes are (server/watches.ts). */
export const HOST_EVENTS = READ_EVENTS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;
/** ALL_EVENTS is every event a watch reports (a barrier or request that may change). */
export const ALL_EVENTS = 0xfff;
const IN_NONBLOCK = 0o4000, IN_CLOEXEC = 0o2000000;

const f = {
  init1: () => libcFunc('int inotify_init1(int flags)'),
  addWatch: () => libcFunc('int inotify_add_watch(int fd, const char *path, uint32 mask)'),
  rmWatch: () => libcFunc('int inotify_rm_watch(int fd, int wd)'),
  read: () => libcFunc('intptr read(int fd, void *buf, size_t count)'),
  fchdir: () => libcFunc('int fchdir(int fd)'),
};

let inProcFd = false;

/** enterProcFd makes the descriptor of /proc/self/fd (server/file.ts procSelfFd) the
 * gofer's working directory, so that addWatch can name a descriptor by its number; 0 or
 * -errno. Called once at start-up, before the seccomp filter (which has no fchdir). */
export function enterProcFd(procFd: number): number {
  if (procFd < 0) return -2; // ENOENT: no /proc, no watches
  // SAFETY: an integer descriptor; fchdir accepts an O_PATH directory descriptor.
  const r = ret(f.fchdir()(procFd));
  inProcFd = r === 0;
  return r;
}

function ret(r: number | bigint): number {
  const n = Number(r);
  return n < 0 ? -lastErrno() : n;
}

/** init opens a non-blocking, close-on-exec inotify instance; fd or -errno. */
export function init(): number {
  // SAFETY: no pointer crosses; the flags are constants.
  return ret(f.init1()(IN_NONBLOCK | IN_CLOEXEC));
}

/** CHANGE_EVENTS are the events of changing a directory's entries or their files (not of
 * reading them): the mask of a cache watch (server/cache-watches.ts). */
export const CHANGE_EVENTS = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;
/** IN_ONLYDIR: inotify_add_watch's flag for a directory's watch (the magic link in
 * /proc/self/fd is followed, as for every watch). */
export const IN_ONLYDIR = 0x1000000;

/** addWatch watches the file of descriptor `fd` (its number in the working directory,
 * /proc/self/fd) on instance `ifd` for `mask` (HOST_EVENTS by default); the watch
 * descriptor or -errno (EOPNOTSUPP when enterProcFd did not succeed). */
export function addWatch(ifd: number, fd: number, mask = HOST_EVENTS): number {
  if (!inProcFd) return -95; // EOPNOTSUPP
  if (!Number.isInteger(fd) || fd < 0) return -22; // EINVAL
  // SAFETY: the path is a decimal number, a NUL-terminated string koffi copies for the
  // call's duration; relative, it is resolved in /proc/self/fd (enterProcFd).
  return ret(f.addWatch()(ifd, String(fd), mask));
}

/** rmWatch ends watch `wd` of instance `ifd` (the kernel queues its IN_IGNORED). */
export function rmWatch(ifd: number, wd: number): number {
  // SAFETY: integers only.
  return ret(f.rmWatch()(ifd, wd));
}

/** HostEvent is one struct inotify_event as read from the host. */
export interface HostEvent {
  wd: number;
  mask: number;
  cookie: number;
  name: string;
}

/** readEvents reads what instance `ifd` has queued into `buf` (at least 4 KiB, so a
 * whole event with the longest name fits): the events, or -errno (-EAGAIN when none). */
export function readEvents(ifd: number, buf: Buffer): HostEvent[] | number {
  // SAFETY: buf is a live Buffer of buf.length bytes, written by the kernel during the call only.
  const n = ret(f.read()(ifd, buf, buf.length));
  if (n < 0) return n;
  const out: HostEvent[] = [];
  for (let p = 0; p + 16 <= n;) {
    const len = buf.readUInt32LE(p + 12);
    if (p + 16 + len > n) break;
    const nameBytes = buf.subarray(p + 16, p + 16 + len);
    const nul = nameBytes.indexOf(0);
    out.push({ wd: buf.readInt32LE(p), mask: buf.readUInt32LE(p + 4), cookie: buf.readUInt32LE(p + 8), name: nameBytes.toString('utf8', 0, nul < 0 ? len : nul) });
    p += 16 + len;
  }
  return out;
}
