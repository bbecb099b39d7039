/**
 * Terminals. Each is a host pty whose slave the sentry keeps (host-pty.ts), named
 * /dev/pts/N in the sandbox and the controlling terminal of one sandbox session, with its
 * own foreground process group (in sandbox pids).
 *
 * Two line disciplines:
 *  - init's terminal (process.terminal in config.json) uses the host's: the sentry leads
 *    the session of that host pty, so the host signals the sentry (^C, ^\, ^Z, window
 *    changes; sentry/main.ts sends them on to the foreground group) and the sentry
 *    forwards the termios ioctls to the slave.
 *  - an exec's terminal cannot be the sentry's controlling terminal too (a process has one),
 *    so its host pty runs in raw local mode and the sentry runs the local modes itself
 *    (line-discipline.ts: canonical editing, echo, ISIG). It watches the slave for input
 *    and for window size changes (SIGWINCH) every POLL_MS, and hangs up (SIGHUP, then end
 *    of file) when the master side goes away.
 *
 * Invariant: the kernel's terminal list (Kernel.terminals) holds every open terminal; an
 * exec's terminal leaves it, and its slave is closed, when its last open description goes.
 */
import * as fs from 'node:fs';
import { Errno, fail } from '../../kernel/errors';
import type { Kernel } from '../../kernel/kernel';
import { sendToGroup } from '../../kernel/signals';
import { SIGHUP, SIGCONT, SIGTTIN, SIGTTOU, SIGWINCH, SI_KERNEL } from '../../kernel/signal-types';
import { dropTerminal, isControllingTerminal, onSessionLeaderExit, ttyJobControl } from '../../kernel/process-group';
import type { Task } from '../../kernel/task';
import { block, Block, WaitQueue } from '../../kernel/waiter';
import { PollSet, POLLERR, POLLHUP as HOST_POLLHUP, POLLIN as HOST_POLLIN } from '../../../native/unixsock';
import { POLLHUP, POLLIN, POLLOUT } from '../../vfs/file';
import type { Inode, Stat } from '../../vfs/inode';
import { HostFile } from './host-file';
import {
  FIONREAD, hostIoctl, TCFLSH, TCGETS, TCSBRK, TCSETS, TCSETSF, TCSETSW, TCXONC, TIOCGPGRP, TIOCGSID, TIOCGWINSZ,
  TIOCNOTTY, TIOCOUTQ, TIOCSCTTY, TIOCSPGRP, TIOCSWINSZ,
} from './host-pty';
import { LineDiscipline, TERMIOS_SIZE, TOSTOP } from './line-discipline';
import { ptsIndexTaken } from '../devpts/devpts';

export { adoptAsStdio, openPty } from './host-pty';

const O_RDWR = 2;
const POLL_MS = 10;
const TCIFLUSH = 0, TCIOFLUSH = 2;

/** TerminalOptions describe a terminal beyond its slave. */
export interface TerminalOptions {
  /** lineDiscipline: run the local modes in the sentry (exec's terminals). */
  lineDiscipline?: boolean;
}

/** Terminal is one sandbox terminal: a host pty slave and the inode that names it. */
export class Terminal {
  /** node is /dev/pts/N in the sandbox's devfs (set by devfs), whose attributes every open reports. */
  node: Inode | null = null;
  /** index is N in /dev/pts/N: 0 for init's terminal, the lowest free number for others. */
  readonly index: number;
  readonly ldisc: LineDiscipline | null = null;
  /** input is notified when there is input to read (or a hangup). */
  readonly input = new WaitQueue();
  private session = 0;
  private fg = 0;
  private opens = 0;
  private hungUp = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly poll = new PollSet();
  private winsize = Buffer.alloc(8);

  constructor(readonly slave: number, readonly k: Kernel, o: TerminalOptions = {}) {
    // /dev/pts/0 is init's when it has a terminal; others take the lowest free number.
    const used = new Set([...k.terminals].map((t) => t.index));
    let i = 0;
    while (used.has(i) || ptsIndexTaken(k, i)) i++;
    this.index = i;
    if (o.lineDiscipline) {
      const t = Buffer.alloc(TERMIOS_SIZE);
      if (hostIoctl(slave, TCGETS, t) < 0) throw new Error('TCGETS on the pty slave failed');
      this.ldisc = new LineDiscipline(t);
      hostIoctl(slave, TCSETS, this.ldisc.hostTermios());
      hostIoctl(slave, TIOCGWINSZ, this.winsize);
      this.poll.set([[slave, HOST_POLLIN]]);
      this.timer = setInterval(() => this.pump(), POLL_MS);
      this.timer.unref();
    }
    k.addTerminal(this);
  }

  /** sid is the session this terminal controls: init's for init's terminal, -1 for none yet. */
  get sid(): number {
    if (this.session) return this.session;
    return this.ldisc ? -1 : (this.k.init?.sid ?? 1);
  }

  set sid(sid: number) {
    this.session = sid;
    this.fg = 0;
  }

  /** foreground is the foreground process group (the session leader's until set). */
  get foreground(): number {
    return this.fg || this.sid;
  }

  set foreground(pgid: number) {
    this.fg = pgid;
  }

  /** open returns a new description of the terminal (for /dev/tty and /dev/pts/N). */
  open(): HostTty {
    this.opens++;
    return new HostTty(this);
  }

  /** closed is called as each description goes; an exec's terminal ends with the last. */
  closed(): void {
    if (--this.opens > 0 || !this.ldisc) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.k.removeTerminal(this);
    fs.closeSync(this.slave);
  }

  /** signalForeground sends sig to every process of the foreground group, as the tty driver does. */
  signalForeground(signo: number): void {
    const fg = this.foreground;
    for (const g of [...this.k.groups.values()]) if (g.pgid === fg) sendToGroup(g, { signo, code: SI_KERNEL, pid: 0, uid: 0 });
  }

  /** pump takes what the master side sent, and notices resizes and hangups. */
  private pump(): void {
    if (this.hungUp || !this.ldisc) return;
    const ws = Buffer.alloc(8);
    if (hostIoctl(this.slave, TIOCGWINSZ, ws) >= 0 && !ws.equals(this.winsize)) {
      this.winsize = ws;
      this.signalForeground(SIGWINCH);
    }
    if (this.poll.wait(0) <= 0) return;
    const ev = this.poll.revents(0);
    if (ev & HOST_POLLIN) {
      const buf = Buffer.allocUnsafe(4096);
      let n = 0;
      try {
        n = fs.readSync(this.slave, buf, 0, buf.length, null);
      } catch {
        n = -1;
      }
      if (n > 0) {
        const r = this.ldisc.receive(buf.subarray(0, n));
        if (r.echo.length) this.writeHost(r.echo);
        for (const s of r.signals) this.signalForeground(s);
        this.input.notify();
        return;
      }
    }
    if (ev & (HOST_POLLHUP | POLLERR | HOST_POLLIN)) this.hangup();
  }

  private writeHost(b: Buffer): void {
    try {
      fs.writeSync(this.slave, b);
    } catch {
      // the master is gone or full: echo is dropped, as the tty layer would
    }
  }

  /** hangup: the master side went away. SIGHUP and SIGCONT to the session, then end of file. */
  private hangup(): void {
    this.hungUp = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const leader = this.k.groups.get(this.sid);
    for (const g of [...this.k.groups.values()]) {
      if (g === leader || g.pgid === this.foreground) {
        sendToGroup(g, { signo: SIGHUP, code: SI_KERNEL, pid: 0, uid: 0 });
        sendToGroup(g, { signo: SIGCONT, code: SI_KERNEL, pid: 0, uid: 0 });
      }
    }
    this.input.notify();
  }

  /** readInput serves read(2) with the sentry's line discipline. */
  readInput(dst: Buffer): number | Block {
    if (this.hungUp) return 0;
    const n = this.ldisc!.available(dst.length);
    if (n < 0) return block(this.input);
    const b = this.ldisc!.read(dst.length);
    b.copy(dst);
    return b.length;
  }

  /** readiness reports POLLIN with input to read (or after a hangup). */
  readiness(): number {
    if (this.hungUp) return POLLIN | POLLOUT | POLLHUP;
    return POLLOUT | (this.ldisc!.available(1) >= 0 ? POLLIN : 0);
  }
}

// A session leader's exit hangs up the host terminal its session controls, as Linux's
// disassociate_ctty(1) does for a pty: SIGHUP to the foreground group, and the terminal
// controls no session any more (init's exit ends the sandbox instead).
onSessionLeaderExit((k, sid) => {
  for (const term of k.terminals) {
    if (term.sid !== sid || k.init?.sid === sid) continue;
    term.signalForeground(SIGHUP);
    term.sid = 0;
  }
});

/** HostTty is an open description of a terminal (stdio of its session's first process, /dev/tty...). */
export class HostTty extends HostFile {
  private readonly k: Kernel;
  private released = false;

  constructor(readonly terminal: Terminal) {
    super(terminal.slave, O_RDWR, 'tty');
    this.k = terminal.k;
  }

  override stat(): Stat {
    return this.terminal.node?.stat() ?? super.stat();
  }

  override procLink(): string {
    return `/dev/pts/${this.terminal.index}`;
  }

  override read(t: Task, dst: Buffer): number | Block {
    ttyJobControl(t, this.terminal.sid, this.terminal.foreground, SIGTTIN);
    return this.terminal.ldisc ? this.terminal.readInput(dst) : super.read(t, dst);
  }

  override write(t: Task, src: Buffer): number | Block {
    if (this.lflag() & TOSTOP) ttyJobControl(t, this.terminal.sid, this.terminal.foreground, SIGTTOU);
    return super.write(t, src);
  }

  /** lflag is the terminal's c_lflag as the application set it (0 if it cannot be read). */
  private lflag(): number {
    const ldisc = this.terminal.ldisc;
    if (ldisc) return ldisc.lflag;
    const b = Buffer.alloc(TERMIOS_SIZE);
    return hostIoctl(this.hostFd, TCGETS, b) < 0 ? 0 : b.readUInt32LE(12);
  }

  override readiness(): number {
    return this.terminal.ldisc ? this.terminal.readiness() : super.readiness();
  }

  override get queue(): WaitQueue {
    return this.terminal.ldisc ? this.terminal.input : super.queue;
  }

  protected override release(): void {
    if (this.released) return;
    this.released = true;
    super.release();
    this.terminal.closed();
  }

  override ioctl(t: Task, cmd: number, arg: bigint): number {
    const term = this.terminal;
    const ldisc = term.ldisc;
    switch (cmd) {
      case TCGETS: {
        const b = Buffer.alloc(TERMIOS_SIZE);
        if (ldisc) ldisc.termios.copy(b);
        else {
          const r = hostIoctl(this.hostFd, TCGETS, b);
          if (r < 0) return r;
        }
        t.mm.write(arg, b);
        return 0;
      }
      case TCSETS: case TCSETSW: case TCSETSF: {
        const b = t.mm.read(arg, TERMIOS_SIZE);
        if (!ldisc) return hostIoctl(this.hostFd, cmd, b);
        if (cmd === TCSETSF) ldisc.flush();
        ldisc.setTermios(b);
        term.input.notify();
        return hostIoctl(this.hostFd, cmd, ldisc.hostTermios());
      }
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
        if (ldisc && cmd === FIONREAD) b.writeInt32LE(ldisc.pending);
        else {
          const r = hostIoctl(this.hostFd, cmd, b);
          if (r < 0) return r;
        }
        t.mm.write(arg, b);
        return 0;
      }
      case TCFLSH: {
        const how = Number(arg & 0xffffffffn);
        if (ldisc && (how === TCIFLUSH || how === TCIOFLUSH)) ldisc.flush();
        return hostIoctl(this.hostFd, cmd, how);
      }
      case TCSBRK: case TCXONC:
        return hostIoctl(this.hostFd, cmd, Number(arg & 0xffffffffn));
      case TIOCGPGRP: {
        const b = Buffer.alloc(4);
        b.writeInt32LE(term.foreground);
        t.mm.write(arg, b);
        return 0;
      }
      case TIOCSPGRP: {
        const pgid = t.mm.read(arg, 4).readInt32LE(0);
        if (pgid < 0) fail(Errno.EINVAL);
        if (t.tg.sid !== term.sid) fail(Errno.ENOTTY);
        if (!t.tg.processGroup.session.groups.has(pgid)) fail(Errno.EPERM);
        term.foreground = pgid;
        return 0;
      }
      case TIOCGSID: {
        if (t.tg.sid !== term.sid) fail(Errno.ENOTTY);
        const b = Buffer.alloc(4);
        b.writeInt32LE(term.sid);
        t.mm.write(arg, b);
        return 0;
      }
      case TIOCSCTTY: {
        // A session leader without a terminal takes this one (the sentry keeps one per session).
        const g = t.tg;
        if (g.sid === term.sid) return 0;
        if (g.sid !== g.tgid || this.k.controllingTerminal(g.sid)) fail(Errno.EPERM);
        if (this.k.groups.has(term.sid) && arg === 0n) fail(Errno.EPERM);
        term.sid = g.sid;
        return 0;
      }
      case TIOCNOTTY:
        // As on a pseudo-terminal (devpts/pty.ts): the leader hangs its session up, another
        // process drops its own link.
        if (!isControllingTerminal(t.tg, term.sid)) fail(Errno.ENOTTY);
        if (t.tg.sid !== t.tg.tgid) {
          dropTerminal(t.tg);
          return 0;
        }
        term.signalForeground(SIGHUP);
        term.signalForeground(SIGCONT);
        term.sid = 0;
        return 0;
      default:
        return fail(Errno.ENOTTY);
    }
  }
}
