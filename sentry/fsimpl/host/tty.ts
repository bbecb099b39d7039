/**
 * Terminals. With process.terminal, the sandbox gets a host pseudo-terminal: the master
 * goes to the runtime's caller over --console-socket, the slave becomes the container's
 * stdio (a HostTty). The line discipline is the host's: the sentry forwards the few
 * terminal ioctls an application needs to the slave it owns (termios, window size), and
 * keeps the foreground process group itself, in sandbox pids; the job-control signals
 * the host terminal sends to the sentry (^C, ^\, ^Z, window changes) go to that group.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { check, libcFunc, lastErrno } from '../../../native/libc';
import { HostFile } from './host-file';
import type { Inode, Stat } from '../../vfs/inode';

const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TCSBRK = 0x5409, TCXONC = 0x540a,
  TCFLSH = 0x540b, TIOCSCTTY = 0x540e, TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410, TIOCOUTQ = 0x5411, TIOCGWINSZ = 0x5413,
  TIOCSWINSZ = 0x5414, FIONREAD = 0x541b, TIOCNOTTY = 0x5422, TIOCGSID = 0x5429, TIOCGPTN = 0x80045430;
const TERMIOS_SIZE = 36;
const O_RDWR = 2, O_NOCTTY = 0o400, O_CLOEXEC = 0o2000000;

const c = {
  ioctlPtr: () => libcFunc('int ioctl(int fd, unsigned long req, void *arg)'),
  ioctlInt: () => libcFunc('int ioctl(int fd, unsigned long req, long arg)'),
};

function hostIoctl(fd: number, req: number, arg: Buffer | number): number {
  // SAFETY: fd is the sentry's own pty slave; buffers are sized for the request (termios
  // 36 bytes, winsize 8 bytes, int 4 bytes) and only live for the call.
  const r = typeof arg === 'number' ? c.ioctlInt()(fd, req, arg) : c.ioctlPtr()(fd, req, arg);
  return r < 0 ? -lastErrno() : r;
}

/** openPty creates a host pseudo-terminal: [master, slave]; the slave becomes the sentry's controlling terminal. */
export function openPty(rows: number, cols: number): [number, number] {
  const master = check('posix_openpt', libcFunc('int posix_openpt(int flags)')(O_RDWR | O_NOCTTY | O_CLOEXEC));
  check('grantpt', libcFunc('int grantpt(int fd)')(master));
  check('unlockpt', libcFunc('int unlockpt(int fd)')(master));
  const n = Buffer.alloc(4);
  check('TIOCGPTN', hostIoctl(master, TIOCGPTN, n));
  // A new session, so that the slave becomes our controlling terminal (EPERM: we lead one already).
  libcFunc('int setsid()')();
  const slave = check('open pty slave', libcFunc('int open(const char *path, int flags)')(`/dev/pts/${n.readUInt32LE(0)}`, O_RDWR | O_CLOEXEC));
  hostIoctl(slave, TIOCSCTTY, 0);
  if (rows > 0 && cols > 0) {
    const ws = Buffer.alloc(8);
    ws.writeUInt16LE(rows, 0);
    ws.writeUInt16LE(cols, 2);
    hostIoctl(master, TIOCSWINSZ, ws);
  }
  return [master, slave];
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

/**
 * Terminal is the sandbox's one terminal: the host pty slave, and the inode that names it
 * in the sandbox (/dev/pts/0), whose attributes every open of it reports, so that
 * ttyname() (readlink /proc/self/fd/0, then stat) finds it.
 */
export class Terminal {
  /** node is /dev/pts/0 in the sandbox's devfs (set when /dev is built). */
  node: Inode | null = null;

  constructor(readonly slave: number, readonly k: Kernel) {}

  /** open returns a new description of the terminal (for /dev/tty and /dev/pts/0). */
  open(): HostTty {
    return new HostTty(this);
  }
}

/** HostTty is an open description of the terminal, shared by the stdio descriptors of init. */
export class HostTty extends HostFile {
  private readonly k: Kernel;

  constructor(readonly terminal: Terminal) {
    super(terminal.slave, O_RDWR, 'tty');
    this.k = terminal.k;
  }

  override stat(): Stat {
    return this.terminal.node?.stat() ?? super.stat();
  }

  override procLink(): string {
    return '/dev/pts/0';
  }

  override ioctl(t: Task, cmd: number, arg: bigint): number {
    switch (cmd) {
      case TCGETS: {
        const b = Buffer.alloc(TERMIOS_SIZE);
        const r = hostIoctl(this.hostFd, TCGETS, b);
        if (r < 0) return r;
        t.mm.write(arg, b);
        return 0;
      }
      case TCSETS: case TCSETSW: case TCSETSF:
        return hostIoctl(this.hostFd, cmd, t.mm.read(arg, TERMIOS_SIZE));
      case TIOCGWINSZ: {
        const b = Buffer.alloc(8);
        const r = hostIoctl(this.hostFd, TIOCGWINSZ, b);
        if (r < 0) return r;
        t.mm.write(arg, b);
        return 0;
      }
      case TIOCSWINSZ:
        return hostIoctl(this.hostFd, TIOCSWINSZ, t.mm.read(arg, 8));
      case FIONREAD: case TIOCOUTQ: {
        const b = Buffer.alloc(4);
        const r = hostIoctl(this.hostFd, cmd, b);
        if (r < 0) return r;
        t.mm.write(arg, b);
        return 0;
      }
      case TCSBRK: case TCXONC: case TCFLSH:
        return hostIoctl(this.hostFd, cmd, Number(arg & 0xffffffffn));
      case TIOCGPGRP: {
        const b = Buffer.alloc(4);
        b.writeInt32LE(this.k.ttyForeground || (this.k.init?.pgid ?? 1));
        t.mm.write(arg, b);
        return 0;
      }
      case TIOCSPGRP: {
        const pgid = t.mm.read(arg, 4).readInt32LE(0);
        if (pgid <= 0) fail(Errno.EINVAL);
        if (![...this.k.groups.values()].some((g) => g.pgid === pgid && g.sid === t.tg.sid)) fail(Errno.EPERM);
        this.k.ttyForeground = pgid;
        return 0;
      }
      case TIOCGSID: {
        const b = Buffer.alloc(4);
        b.writeInt32LE(this.k.init?.sid ?? 1);
        t.mm.write(arg, b);
        return 0;
      }
      case TIOCSCTTY: case TIOCNOTTY:
        return 0;
      default:
        return fail(Errno.ENOTTY);
    }
  }
}
