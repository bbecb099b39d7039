/**
 * Host pseudo-terminals: the pty pairs the sentry opens for process.terminal, and the few
 * ioctls it makes on their slaves. Each terminal in the sandbox is one host pty: the master
 * goes to the runtime's caller over a console socket, the sentry keeps the slave.
 */
import { check, libcFunc, lastErrno } from '../../../native/libc';

export const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TCSBRK = 0x5409, TCXONC = 0x540a,
  TCFLSH = 0x540b, TIOCSCTTY = 0x540e, TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410, TIOCOUTQ = 0x5411, TIOCGWINSZ = 0x5413,
  TIOCSWINSZ = 0x5414, FIONREAD = 0x541b, TIOCNOTTY = 0x5422, TIOCGSID = 0x5429, TIOCGPTN = 0x80045430;
/** TIOCSPTLCK sets the slave's lock (unlockpt); TIOCGPTPEER opens the slave from the master. */
export const TIOCSPTLCK = 0x40045431, TIOCGPTPEER = 0x5441;
const O_RDWR = 2, O_NOCTTY = 0o400, O_CLOEXEC = 0o2000000;

const c = {
  ioctlPtr: () => libcFunc('int ioctl(int fd, unsigned long req, void *arg)'),
  ioctlInt: () => libcFunc('int ioctl(int fd, unsigned long req, long arg)'),
};

/** hostIoctl makes an ioctl on one of the sentry's pty descriptors; it returns -errno on failure. */
export function hostIoctl(fd: number, req: number, arg: Buffer | number): number {
  // SAFETY: fd is a pty descriptor the sentry owns; buffers are sized for the request
  // (termios 36 bytes, winsize 8 bytes, int 4 bytes) and only live for the call.
  const r = typeof arg === 'number' ? c.ioctlInt()(fd, req, arg) : c.ioctlPtr()(fd, req, arg);
  return r < 0 ? -lastErrno() : r;
}

let ptmx = '/dev/ptmx';

/**
 * usePtmx makes later openPty calls open `path` (the private devpts instance of a
 * sentry confined to an empty root: native/confine/root.ts) instead of /dev/ptmx.
 */
export function usePtmx(path: string): void {
  ptmx = path;
}

/**
 * openPty creates a host pseudo-terminal: [master, slave]. With `controlling` (init's
 * terminal), the sentry starts a new session and the slave becomes its controlling
 * terminal, so that the host's line discipline signals the sentry (^C, resizes); an
 * exec's terminal is nobody's controlling terminal on the host (the sentry can have one).
 * The slave comes from the master (TIOCGPTPEER), never from a path.
 */
export function openPty(rows: number, cols: number, controlling = true): [number, number] {
  const open = libcFunc('int open(const char *path, int flags)');
  const master = check(`open ${ptmx}`, open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC));
  try {
    check('unlockpt', hostIoctl(master, TIOCSPTLCK, Buffer.alloc(4)));
    // A new session, so that the slave becomes our controlling terminal (EPERM: we lead one already).
    if (controlling) libcFunc('int setsid()')();
    const flags = O_RDWR | O_CLOEXEC | (controlling ? 0 : O_NOCTTY);
    const slave = check('open pty slave', hostIoctl(master, TIOCGPTPEER, flags));
    if (controlling) hostIoctl(slave, TIOCSCTTY, 0);
    if (rows > 0 && cols > 0) {
      const ws = Buffer.alloc(8);
      ws.writeUInt16LE(rows, 0);
      ws.writeUInt16LE(cols, 2);
      hostIoctl(master, TIOCSWINSZ, ws);
    }
    return [master, slave];
  } catch (e) {
    libcFunc('int close(int fd)')(master);
    throw e;
  }
}

/**
 * adoptAsStdio makes the pty slave the sentry's own stdin, stdout and stderr, as runc's
 * init and runsc's sandbox do with a terminal: the container's stdio is the pty, so the
 * sandbox keeps none of its caller's. That matters to containerd's runc shim: it reads
 * what `create` prints through a pipe until end of file before it calls `start`, and
 * a sandbox left holding that pipe would stall it forever (docker run -t).
 */
export function adoptAsStdio(slave: number): void {
  const dup2 = libcFunc('int dup2(int oldfd, int newfd)');
  // SAFETY: slave is the pty slave this process just opened; dup2 replaces 0-2 atomically.
  for (const fd of [0, 1, 2]) check('dup2', dup2(slave, fd));
}
