/**
 * A pseudo-terminal pair inside the sandbox (Linux's unix98 pty: drivers/tty/pty.c with
 * n_tty), made by opening /dev/ptmx; no host pty is involved. What the master writes is
 * the terminal's input: input flag processing here (ICRNL, INLCR, IGNCR), then the local
 * modes of line-discipline.ts (canonical editing, echo, ISIG); what the slave writes, and
 * the echo, goes through output processing (OPOST with ONLCR) to the master's reads.
 *
 * Close semantics as Linux's: when the master goes, the slave is hung up (read gives end
 * of file, write and most ioctls EIO); when the last slave description goes, a master
 * read of an empty buffer gives EIO. The pair ends (and /dev/pts/N goes) when both sides
 * are closed.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Kernel } from '../../kernel/kernel';
import { sendToGroup } from '../../kernel/signals';
import { SIGCONT, SIGHUP, SIGTTIN, SIGTTOU, SIGWINCH, SI_KERNEL } from '../../kernel/signal-types';
import { dropTerminal, isControllingTerminal, ttyJobControl } from '../../kernel/process-group';
import type { Task } from '../../kernel/task';
import { block, type Block, WaitQueue } from '../../kernel/waiter';
import { FileDescription, POLLHUP, POLLIN, POLLOUT, POLLERR } from '../../vfs/file';
import type { Inode, Stat } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import { LineDiscipline, TERMIOS_SIZE, TOSTOP } from '../host/line-discipline';
import { ByteQueue } from '../pipe/byte-queue';
import {
  FIONREAD, TCFLSH, TCGETS, TCSBRK, TCSETS, TCSETSF, TCSETSW, TCXONC, TIOCGPGRP, TIOCGPTN, TIOCGSID, TIOCGWINSZ,
  TIOCGPTPEER, TIOCNOTTY, TIOCOUTQ, TIOCSCTTY, TIOCSPGRP, TIOCSPTLCK, TIOCSWINSZ,
} from '../host/host-pty';

/** TIOCGPTLCK reads the slave's lock (TIOCSPTLCK sets it). */
const TIOCGPTLCK = 0x80045439;
const O_ACCMODE = 3, O_NOCTTY = 0o400, O_NONBLOCK = 0o4000, O_CLOEXEC = 0o2000000;
/** c_iflag and c_oflag bits processed here. */
const INLCR = 0o100, IGNCR = 0o200, ICRNL = 0o400, OPOST = 0o1, ONLCR = 0o4;
const TCIFLUSH = 0, TCOFLUSH = 1, TCIOFLUSH = 2;
/** OUTPUT_MAX bounds what the slave may write before the master reads (Linux: about 64 KiB). */
const OUTPUT_MAX = 65536;
/** INPUT_MAX bounds the input the slave has not read (line-discipline.ts keeps at most 64 KiB). */
const INPUT_MAX = 65536;

/** slaveTermios is a new pty slave's termios (Linux's tty_std_termios, c_cflag B38400|CS8|CREAD). */
function slaveTermios(): Buffer {
  const t = Buffer.alloc(TERMIOS_SIZE);
  t.writeUInt32LE(ICRNL | 0o2000, 0); // ICRNL | IXON
  t.writeUInt32LE(OPOST | ONLCR, 4);
  t.writeUInt32LE(0o277, 8); // B38400 | CS8 | CREAD
  t.writeUInt32LE(0o105073, 12); // ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
  Buffer.from([3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0]).copy(t, 17);
  return t;
}

/** PtyPair is one master and its slave, /dev/pts/<index>. */
export class PtyPair {
  readonly ldisc = new LineDiscipline(slaveTermios());
  /** toMaster holds the slave's processed output (and echo) until the master reads it. */
  private readonly toMaster = new ByteQueue();
  /** masterQueue is notified when the master may read or write; slaveQueue likewise for the slave. */
  readonly masterQueue = new WaitQueue();
  readonly slaveQueue = new WaitQueue();
  locked = true;
  masterOpen = true;
  slaveOpens = 0;
  /** slaveEverOpened: Linux reports EIO to the master only once a slave has come and gone. */
  private slaveEverOpened = false;
  private readonly winsize = Buffer.alloc(8);
  /** session is the session the slave controls (0: none); fg its foreground process group. */
  private session = 0;
  fg = 0;

  /** sid is the session the slave controls, 0 once its leader has exited (Linux
   * disassociates the terminal when the session leader exits). */
  get sid(): number {
    const leader = this.session ? this.k?.groups.get(this.session) : undefined;
    if (this.session && this.k && (!leader || leader.exitStatus !== null || leader.zombie)) {
      this.session = 0;
      this.fg = 0;
    }
    return this.session;
  }

  set sid(sid: number) {
    this.session = sid;
  }

  /**
   * disassociate ends the slave's time as session `sid`'s controlling terminal, as Linux's
   * disassociate_ctty: the foreground group gets SIGHUP (and SIGCONT when the leader gave
   * the terminal up with TIOCNOTTY rather than by exiting); the terminal is then no
   * session's, its files still open for reading and writing.
   */
  disassociate(sid: number, onExit: boolean): void {
    if (sid === 0 || this.session !== sid) return;
    this.signalForeground(SIGHUP);
    if (!onExit) this.signalForeground(SIGCONT);
    this.session = 0;
    this.fg = 0;
  }

  constructor(
    readonly k: Kernel | null,
    readonly index: number,
    /** node is /dev/pts/<index>, whose attributes the slave's descriptions report. */
    readonly node: Inode,
    /** gone is called once both sides are closed. */
    private readonly gone: (p: PtyPair) => void,
  ) {}

  private get iflag(): number {
    return this.ldisc.termios.readUInt32LE(0);
  }

  private get oflag(): number {
    return this.ldisc.termios.readUInt32LE(4);
  }

  /** output puts bytes the slave wrote (or echo) on the master's side, with OPOST/ONLCR.
   * Echo beyond OUTPUT_MAX is dropped (a master that writes and never reads cannot grow
   * the buffer without bound), as n_tty drops echo it has no room for. */
  private output(b: Buffer, echo = false): void {
    if (echo) b = b.subarray(0, Math.max(0, OUTPUT_MAX - this.toMaster.length));
    if (b.length === 0) return;
    if ((this.oflag & (OPOST | ONLCR)) === (OPOST | ONLCR) && b.includes(0x0a)) {
      const out: number[] = [];
      for (const c of b) {
        if (c === 0x0a) out.push(0x0d);
        out.push(c);
      }
      b = Buffer.from(out);
    }
    this.toMaster.push(b);
    this.masterQueue.notify();
  }

  /** masterWrite is input typed at the terminal. */
  masterWrite(src: Buffer): number | Block {
    // The slave's unread input is bounded: the master waits for the slave to read, as on Linux.
    if (this.ldisc.pending >= INPUT_MAX) return block(this.masterQueue);
    const iflag = this.iflag;
    const data = Buffer.from(src);
    const kept: number[] = [];
    for (const c0 of data) {
      let c = c0;
      if (c === 0x0d) {
        if (iflag & IGNCR) continue;
        if (iflag & ICRNL) c = 0x0a;
      } else if (c === 0x0a && iflag & INLCR) c = 0x0d;
      kept.push(c);
    }
    const r = this.ldisc.receive(Buffer.from(kept));
    this.output(r.echo, true);
    for (const s of r.signals) this.signalForeground(s);
    this.slaveQueue.notify();
    return src.length;
  }

  masterRead(dst: Buffer): number | Block {
    if (this.toMaster.length === 0) {
      if (this.slaveOpens === 0 && this.slaveEverOpened) fail(Errno.EIO);
      return block(this.masterQueue);
    }
    const n = this.toMaster.take(dst);
    this.slaveQueue.notify();
    return n;
  }

  masterReadiness(): number {
    let r = this.ldisc.pending < INPUT_MAX ? POLLOUT : 0;
    if (this.toMaster.length > 0) r |= POLLIN;
    else if (this.slaveOpens === 0 && this.slaveEverOpened) r |= POLLIN | POLLHUP;
    return r;
  }

  slaveRead(t: Task, dst: Buffer): number | Block {
    if (!this.masterOpen) return 0;
    if (this.sid) ttyJobControl(t, this.sid, this.fg, SIGTTIN);
    if (this.ldisc.available(dst.length) < 0) return block(this.slaveQueue);
    const b = this.ldisc.read(dst.length);
    b.copy(dst);
    this.masterQueue.notify();
    return b.length;
  }

  slaveWrite(t: Task, src: Buffer): number | Block {
    if (!this.masterOpen) fail(Errno.EIO);
    if (this.sid && this.ldisc.lflag & TOSTOP) ttyJobControl(t, this.sid, this.fg, SIGTTOU);
    if (this.toMaster.length >= OUTPUT_MAX) return block(this.slaveQueue);
    const n = Math.min(src.length, OUTPUT_MAX - this.toMaster.length);
    this.output(src.subarray(0, n));
    return n;
  }

  slaveReadiness(): number {
    if (!this.masterOpen) return POLLIN | POLLOUT | POLLHUP | POLLERR;
    let r = 0;
    if (this.ldisc.available(1) >= 0) r |= POLLIN;
    if (this.toMaster.length < OUTPUT_MAX) r |= POLLOUT;
    return r;
  }

  slaveOpened(): void {
    this.slaveOpens++;
    this.slaveEverOpened = true;
  }

  slaveClosed(): void {
    this.slaveOpens--;
    this.masterQueue.notify();
    this.maybeGone();
  }

  masterClosed(): void {
    this.masterOpen = false;
    this.slaveQueue.notify();
    this.maybeGone();
  }

  private maybeGone(): void {
    if (!this.masterOpen && this.slaveOpens === 0) this.gone(this);
  }

  /** signalForeground sends sig to the slave's foreground process group (ISIG). */
  private signalForeground(signo: number): void {
    if (!this.k || !this.fg) return;
    for (const g of [...this.k.groups.values()]) if (g.pgid === this.fg) sendToGroup(g, { signo, code: SI_KERNEL, pid: 0, uid: 0 });
  }

  /**
   * ioctl serves the requests both sides share (termios, window size, queue sizes);
   * undefined for the others.
   */
  commonIoctl(t: Task, cmd: number, arg: bigint, master: boolean): number | undefined {
    switch (cmd) {
      case TCGETS:
        // Both sides read and set the slave's termios (Linux's tty_mode_ioctl uses the
        // master's link), and likewise its window size below.
        t.mm.write(arg, Buffer.from(this.ldisc.termios));
        return 0;
      case TCSETS: case TCSETSW: case TCSETSF: {
        const b = t.mm.read(arg, TERMIOS_SIZE);
        if (cmd === TCSETSF) this.ldisc.flush();
        this.ldisc.setTermios(b);
        this.slaveQueue.notify();
        return 0;
      }
      case TIOCGWINSZ:
        t.mm.write(arg, Buffer.from(this.winsize));
        return 0;
      case TIOCSWINSZ: {
        const ws = t.mm.read(arg, 8);
        if (!ws.equals(this.winsize)) {
          ws.copy(this.winsize);
          this.signalForeground(SIGWINCH);
        }
        return 0;
      }
      case FIONREAD: case TIOCOUTQ: {
        const b = Buffer.alloc(4);
        const toSlave = this.ldisc.pending;
        b.writeInt32LE(master === (cmd === FIONREAD) ? this.toMaster.length : toSlave);
        t.mm.write(arg, b);
        return 0;
      }
      case TCFLSH: {
        const how = Number(arg & 0xffffffffn);
        if (how !== TCIFLUSH && how !== TCOFLUSH && how !== TCIOFLUSH) fail(Errno.EINVAL);
        const flushToSlave = master ? how !== TCIFLUSH : how !== TCOFLUSH;
        if (flushToSlave) this.ldisc.flush();
        if (!flushToSlave || how === TCIOFLUSH) {
          this.toMaster.clear();
        }
        return 0;
      }
      case TCSBRK: case TCXONC:
        return 0;
      default:
        return undefined;
    }
  }
}

/** PtyMaster is an open description of /dev/ptmx: the master side of a new pair. */
export class PtyMaster extends FileDescription {
  private released = false;

  constructor(loc: Location | null, flags: number, readonly pair: PtyPair, private readonly ptmx: Inode, private readonly openSlave: (p: PtyPair, flags: number) => FileDescription) {
    super(loc, flags);
  }

  override read(_t: Task, dst: Buffer): number | Block {
    if (dst.length === 0) return 0;
    return this.pair.masterRead(dst);
  }

  override write(_t: Task, src: Buffer): number | Block {
    return this.pair.masterWrite(src);
  }

  override readiness(): number {
    return this.pair.masterReadiness();
  }

  override get queue(): WaitQueue {
    return this.pair.masterQueue;
  }

  override seek(): number {
    return fail(Errno.ESPIPE);
  }

  override stat(): Stat {
    return this.ptmx.stat();
  }

  override procLink(): string {
    return '/dev/ptmx';
  }

  override ioctl(t: Task, cmd: number, arg: bigint): number {
    const p = this.pair;
    switch (cmd) {
      case TIOCGPTN: {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(p.index);
        t.mm.write(arg, b);
        return 0;
      }
      case TIOCSPTLCK:
        p.locked = t.mm.read(arg, 4).readInt32LE(0) !== 0;
        return 0;
      case TIOCGPTLCK: {
        const b = Buffer.alloc(4);
        b.writeInt32LE(p.locked ? 1 : 0);
        t.mm.write(arg, b);
        return 0;
      }
      case TIOCGPTPEER: {
        const flags = Number(arg & 0xffffffffn);
        if (flags & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) fail(Errno.EINVAL);
        if (p.locked) fail(Errno.EIO);
        const f = this.openSlave(p, flags & ~O_CLOEXEC);
        return t.fds.add(f, (flags & O_CLOEXEC) !== 0);
      }
      case TIOCGPGRP: case TIOCSPGRP: case TIOCGSID: case TIOCSCTTY: case TIOCNOTTY:
        return fail(Errno.ENOTTY);
      default: {
        const r = p.commonIoctl(t, cmd, arg, true);
        return r ?? fail(Errno.ENOTTY);
      }
    }
  }

  protected override release(): void {
    if (this.released) return;
    this.released = true;
    this.pair.masterClosed();
  }
}

/** PtySlave is an open description of /dev/pts/N. */
export class PtySlave extends FileDescription {
  private released = false;

  /** `shown` is the node whose attributes fstat reports: /dev/pts/N, or /dev/tty when opened there. */
  constructor(loc: Location | null, flags: number, readonly pair: PtyPair, private readonly shown: Inode = pair.node) {
    super(loc, flags);
    pair.slaveOpened();
  }

  override read(t: Task, dst: Buffer): number | Block {
    return this.pair.slaveRead(t, dst);
  }

  override write(t: Task, src: Buffer): number | Block {
    return this.pair.slaveWrite(t, src);
  }

  override readiness(): number {
    return this.pair.slaveReadiness();
  }

  override get queue(): WaitQueue {
    return this.pair.slaveQueue;
  }

  override seek(): number {
    return fail(Errno.ESPIPE);
  }

  override stat(): Stat {
    return this.shown.stat();
  }

  override procLink(): string {
    return `/dev/pts/${this.pair.index}`;
  }

  override ioctl(t: Task, cmd: number, arg: bigint): number {
    const p = this.pair;
    // A hung-up terminal answers EIO (ENOTTY for TIOCSPGRP), as Linux's hung_up_tty_ioctl.
    if (!p.masterOpen) return fail(cmd === TIOCSPGRP ? Errno.ENOTTY : Errno.EIO);
    const int = (v: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      t.mm.write(arg, b);
      return 0;
    };
    switch (cmd) {
      case TIOCSCTTY: {
        // Only a session leader takes a terminal (EPERM for another process, even of the
        // session it controls); its own session's again is nothing to do.
        const g = t.tg;
        if (g.sid === g.tgid && p.sid === g.sid) return 0;
        if (g.sid !== g.tgid || p.sid !== 0) fail(Errno.EPERM);
        p.sid = g.sid;
        p.fg = g.pgid;
        return 0;
      }
      case TIOCNOTTY:
        // The session leader gives the terminal up for the whole session (SIGHUP and
        // SIGCONT to the foreground group); another process only drops its own link.
        if (!isControllingTerminal(t.tg, p.sid)) fail(Errno.ENOTTY);
        if (t.tg.sid === t.tg.tgid) p.disassociate(p.sid, false);
        else dropTerminal(t.tg);
        return 0;
      case TIOCGPGRP:
        if (!isControllingTerminal(t.tg, p.sid)) fail(Errno.ENOTTY);
        return int(p.fg);
      case TIOCSPGRP: {
        const pgid = t.mm.read(arg, 4).readInt32LE(0);
        if (pgid < 0) fail(Errno.EINVAL);
        if (!isControllingTerminal(t.tg, p.sid)) fail(Errno.ENOTTY);
        if (!t.tg.processGroup.session.groups.has(pgid)) fail(Errno.EPERM);
        p.fg = pgid;
        return 0;
      }
      case TIOCGSID:
        if (!isControllingTerminal(t.tg, p.sid)) fail(Errno.ENOTTY);
        return int(p.sid);
      case TIOCGPTN: case TIOCSPTLCK: case TIOCGPTLCK: case TIOCGPTPEER:
        return fail(Errno.ENOTTY);
      default: {
        const r = p.commonIoctl(t, cmd, arg, false);
        return r ?? fail(Errno.ENOTTY);
      }
    }
  }

  protected override release(): void {
    if (this.released) return;
    this.released = true;
    this.pair.slaveClosed();
  }
}
