/**
 * LineDiscipline is the local-mode half of a terminal's line discipline (Linux's n_tty),
 * run in the sentry for terminals whose host pty session the sentry does not lead (the
 * terminals of `exec`): the host pty stays in raw local mode, and this class turns what
 * arrives from the master into what the application reads, the echo it sees, and the
 * signals (ISIG) for the foreground process group. Input and output flag processing
 * (ICRNL, IXON, OPOST, ONLCR...) stays with the host pty, which applies them to the
 * bytes in both directions, echo included, as n_tty does.
 *
 * The termios it keeps is the one the application sees (TCGETS/TCSETS); hostTermios()
 * is what the host pty gets. Pure logic, no host calls: see line-discipline.test.ts.
 */
import { SIGINT, SIGQUIT, SIGTSTP } from '../../kernel/signal-types';

/** TERMIOS_SIZE is sizeof(struct termios) for TCGETS/TCSETS: 4 flag words, c_line, 19 c_cc. */
export const TERMIOS_SIZE = 36;
const CC = 17;
/** c_cc indices. */
export const VINTR = 0, VQUIT = 1, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6, VSUSP = 10, VEOL = 11,
  VREPRINT = 12, VWERASE = 14, VLNEXT = 15, VEOL2 = 16;
/** c_lflag bits. */
export const ISIG = 0o1, ICANON = 0o2, ECHO = 0o10, ECHOE = 0o20, ECHOK = 0o40, ECHONL = 0o100, NOFLSH = 0o200,
  ECHOCTL = 0o1000, ECHOKE = 0o4000, IEXTEN = 0o100000;
/** TOSTOP (c_lflag): a background process writing to the terminal gets SIGTTOU. */
export const TOSTOP = 0o400;
/** LOCAL_BITS are the c_lflag bits this class implements; the host pty runs with them off. */
const LOCAL_BITS = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOKE | IEXTEN;
/** POSIX_VDISABLE disables a c_cc character. */
const VDISABLE = 0;
/** MAX_CANON is the longest line canonical mode keeps (Linux: 4095 and the newline). */
const MAX_CANON = 4095;
const MAX_INPUT = 65536;

/** Received is what one chunk of input produced: echo to write back, signals to send. */
export interface Received {
  echo: Buffer;
  signals: number[];
}

/** LineDiscipline holds one terminal's termios, line being edited and readable input. */
export class LineDiscipline {
  /** termios as the application sees it. */
  readonly termios: Buffer;
  /** line is the canonical line being edited. */
  private line: number[] = [];
  /** ready are bytes a read may return: complete lines in canonical mode, all input otherwise. */
  private ready: number[] = [];
  /** eofs are offsets in `ready` where an EOF character ended a line (read stops there). */
  private eofs: number[] = [];
  private lnext = false;

  /** The initial termios is the host pty's (its defaults: cooked, echo, signals). */
  constructor(initial: Buffer) {
    this.termios = Buffer.from(initial.subarray(0, TERMIOS_SIZE));
  }

  get lflag(): number {
    return this.termios.readUInt32LE(12);
  }

  private cc(i: number): number {
    return this.termios[CC + i];
  }

  private is(c: number, i: number): boolean {
    const v = this.cc(i);
    return v !== VDISABLE && c === v;
  }

  /** setTermios replaces the termios (TCSETS); leaving canonical mode makes the line readable. */
  setTermios(t: Buffer): void {
    const wasCanon = (this.lflag & ICANON) !== 0;
    t.copy(this.termios, 0, 0, TERMIOS_SIZE);
    if (wasCanon && !(this.lflag & ICANON)) {
      this.ready.push(...this.line);
      this.line = [];
      this.eofs = [];
    }
  }

  /** hostTermios is the termios for the host pty: the same, minus the local modes done here. */
  hostTermios(): Buffer {
    const t = Buffer.from(this.termios);
    t.writeUInt32LE(this.lflag & ~LOCAL_BITS, 12);
    t[CC + VMIN] = 1;
    t[CC + VTIME] = 0;
    return t;
  }

  /** flush drops unread input (TCFLSH TCIFLUSH, and ISIG without NOFLSH). */
  flush(): void {
    this.line = [];
    this.ready = [];
    this.eofs = [];
  }

  /** receive takes bytes from the master side. */
  receive(data: Buffer): Received {
    const lf = this.lflag;
    const echo: number[] = [];
    const signals: number[] = [];
    const doEcho = (c: number) => {
      if (!(lf & ECHO)) return;
      if (lf & ECHOCTL && (c < 0x20 || c === 0x7f) && c !== 0x09 && c !== 0x0a) echo.push(0x5e, c ^ 0x40);
      else echo.push(c);
    };
    const width = (c: number) => ((lf & ECHOCTL) && (c < 0x20 || c === 0x7f) && c !== 0x09 ? 2 : 1);
    const rubout = (c: number) => {
      if (!(lf & ECHO)) return;
      if (lf & ECHOE) for (let i = 0; i < width(c); i++) echo.push(0x08, 0x20, 0x08);
      else doEcho(this.cc(VERASE));
    };
    for (const c of data) {
      if (this.lnext) {
        this.lnext = false;
        this.put(c, doEcho);
        continue;
      }
      if (lf & ISIG) {
        const sig = this.is(c, VINTR) ? SIGINT : this.is(c, VQUIT) ? SIGQUIT : this.is(c, VSUSP) ? SIGTSTP : 0;
        if (sig) {
          if (!(lf & NOFLSH)) this.flush();
          signals.push(sig);
          doEcho(c);
          continue;
        }
      }
      if (lf & ICANON) {
        if (lf & IEXTEN && this.is(c, VLNEXT)) {
          this.lnext = true;
          continue;
        }
        if (this.is(c, VERASE)) {
          const gone = this.line.pop();
          if (gone !== undefined) rubout(gone);
          continue;
        }
        if (lf & IEXTEN && this.is(c, VWERASE)) {
          while (this.line.length && isSpace(this.line[this.line.length - 1])) rubout(this.line.pop()!);
          while (this.line.length && !isSpace(this.line[this.line.length - 1])) rubout(this.line.pop()!);
          continue;
        }
        if (this.is(c, VKILL)) {
          if (lf & ECHOKE && lf & ECHOE) while (this.line.length) rubout(this.line.pop()!);
          else {
            this.line = [];
            doEcho(c);
            if (lf & ECHOK && lf & ECHO) echo.push(0x0a);
          }
          continue;
        }
        if (lf & IEXTEN && this.is(c, VREPRINT)) {
          doEcho(c);
          if (lf & ECHO) echo.push(0x0a, ...this.line);
          continue;
        }
        if (this.is(c, VEOF)) {
          this.endLine();
          this.eofs.push(this.ready.length);
          continue;
        }
        if (c === 0x0a || this.is(c, VEOL) || this.is(c, VEOL2)) {
          if (c === 0x0a && lf & ECHONL && !(lf & ECHO)) echo.push(0x0a);
          else doEcho(c);
          this.line.push(c);
          this.endLine();
          continue;
        }
      }
      this.put(c, doEcho);
    }
    return { echo: Buffer.from(echo), signals };
  }

  private put(c: number, doEcho: (c: number) => void): void {
    if (this.lflag & ICANON) {
      if (this.line.length >= MAX_CANON) return;
      this.line.push(c);
    } else {
      if (this.ready.length >= MAX_INPUT) return;
      this.ready.push(c);
    }
    doEcho(c);
  }

  private endLine(): void {
    this.ready.push(...this.line);
    this.line = [];
  }

  /**
   * available is what a read of `max` bytes would return now: a count (0 is end of file:
   * an EOF character on an empty line, or non-blocking raw mode with nothing), or -1
   * when the reader must wait.
   */
  available(max: number): number {
    const canon = (this.lflag & ICANON) !== 0;
    if (canon) {
      if (this.eofs.length && this.eofs[0] === 0) return 0;
      if (this.ready.length === 0) return -1;
      const end = this.eofs.length ? this.eofs[0] : this.ready.length;
      const nl = this.ready.findIndex((c, i) => i < end && (c === 0x0a || this.is(c, VEOL) || this.is(c, VEOL2)));
      return Math.min(max, nl >= 0 ? nl + 1 : end);
    }
    const min = this.cc(VMIN);
    if (this.ready.length === 0) return min === 0 && this.cc(VTIME) === 0 ? 0 : -1;
    // VMIN bytes, or what there is when a timer would apply (VTIME is not timed here).
    if (this.cc(VTIME) === 0 && this.ready.length < Math.min(min, max)) return -1;
    return Math.min(max, this.ready.length);
  }

  /** read takes up to max bytes as available() describes (call it only when that is >= 0). */
  read(max: number): Buffer {
    const n = this.available(max);
    if (n <= 0) {
      if (this.eofs.length && this.eofs[0] === 0) this.eofs.shift();
      return Buffer.alloc(0);
    }
    const out = Buffer.from(this.ready.splice(0, n));
    this.eofs = this.eofs.map((e) => e - n);
    // An EOF mark reached by this read ends it; the empty read that follows is not wanted.
    if (this.eofs.length && this.eofs[0] === 0) this.eofs.shift();
    return out;
  }

  /** pending counts the bytes a reader could take (FIONREAD). */
  get pending(): number {
    return this.ready.length;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
