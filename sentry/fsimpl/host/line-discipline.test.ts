/**
 * LineDiscipline against Linux's n_tty behaviour for the local modes it implements: the
 * termios starts as a fresh Linux pty's (cooked, echo with ECHOCTL/ECHOE/ECHOKE, ISIG).
 */
import { SIGINT, SIGQUIT, SIGTSTP } from '../../kernel/signal-types';
import { ECHO, ICANON, ISIG, LineDiscipline, TERMIOS_SIZE, VEOF, VERASE, VINTR, VKILL, VMIN, VQUIT, VSUSP, VTIME, VWERASE } from './line-discipline';

const CC = 17;

/** linuxDefault is a new Linux pty's termios (iflag ICRNL|IXON, oflag OPOST|ONLCR, lflag 0o105073). */
function linuxDefault(): Buffer {
  const t = Buffer.alloc(TERMIOS_SIZE);
  t.writeUInt32LE(0o2400, 0);
  t.writeUInt32LE(0o5, 4);
  t.writeUInt32LE(0o277, 8);
  t.writeUInt32LE(0o105073, 12);
  const cc: Record<number, number> = { [VINTR]: 3, [VQUIT]: 0x1c, [VERASE]: 0x7f, [VKILL]: 0x15, [VEOF]: 4, [VTIME]: 0, [VMIN]: 1, [VSUSP]: 0x1a, [VWERASE]: 0x17 };
  for (const [i, v] of Object.entries(cc)) t[CC + Number(i)] = v;
  return t;
}

function readAll(l: LineDiscipline): string {
  const n = l.available(1024);
  return n < 0 ? '<blocks>' : l.read(1024).toString('latin1');
}

describe('LineDiscipline', () => {
  test('canonical mode: a read waits for the line, echo shows what is typed', () => {
    const l = new LineDiscipline(linuxDefault());
    expect(l.receive(Buffer.from('ab')).echo.toString()).toBe('ab');
    expect(l.available(100)).toBe(-1);
    l.receive(Buffer.from('c\nde\n'));
    expect(readAll(l)).toBe('abc\n');
    expect(readAll(l)).toBe('de\n');
    expect(l.available(100)).toBe(-1);
  });

  test('erase, word erase and kill edit the line; ECHOE rubs out, ECHOCTL characters take two columns', () => {
    const l = new LineDiscipline(linuxDefault());
    const r = l.receive(Buffer.from('ab\x01\x7f\x7fc one two\x17x\n'));
    expect(r.echo.toString('latin1')).toBe('ab^A\b \b\b \b\b \bc one two\b \b\b \b\b \bx\n');
    expect(readAll(l)).toBe('ac one x\n');
    l.receive(Buffer.from('junk\x15ok\n'));
    expect(readAll(l)).toBe('ok\n');
  });

  test('EOF ends a line without itself; on an empty line it makes a read return 0', () => {
    const l = new LineDiscipline(linuxDefault());
    l.receive(Buffer.from('abc\x04'));
    expect(readAll(l)).toBe('abc');
    expect(l.available(100)).toBe(-1);
    l.receive(Buffer.from('\x04'));
    expect(l.available(100)).toBe(0);
    expect(l.read(100).length).toBe(0);
    expect(l.available(100)).toBe(-1);
  });

  test('ISIG characters become signals, flush the input and echo as ^C', () => {
    const l = new LineDiscipline(linuxDefault());
    const r = l.receive(Buffer.from('half\x03\x1c\x1a'));
    expect(r.signals).toEqual([SIGINT, SIGQUIT, SIGTSTP]);
    expect(r.echo.toString()).toBe('half^C^\\^Z');
    l.receive(Buffer.from('x\n'));
    expect(readAll(l)).toBe('x\n');
  });

  test('raw mode (no ICANON, ECHO, ISIG): bytes are readable at once, no echo, no signals', () => {
    const l = new LineDiscipline(linuxDefault());
    const t = Buffer.from(l.termios);
    t.writeUInt32LE(t.readUInt32LE(12) & ~(ICANON | ECHO | ISIG), 12);
    l.setTermios(t);
    const r = l.receive(Buffer.from('a\x03\x7f'));
    expect(r.echo.length).toBe(0);
    expect(r.signals).toEqual([]);
    expect(readAll(l)).toBe('a\x03\x7f');
    expect(l.available(10)).toBe(-1);
  });

  test('leaving canonical mode makes the partial line readable', () => {
    const l = new LineDiscipline(linuxDefault());
    l.receive(Buffer.from('part'));
    const t = Buffer.from(l.termios);
    t.writeUInt32LE(t.readUInt32LE(12) & ~ICANON, 12);
    l.setTermios(t);
    expect(readAll(l)).toBe('part');
  });

  test('the host pty gets the same termios without the local modes, VMIN 1 VTIME 0', () => {
    const l = new LineDiscipline(linuxDefault());
    const h = l.hostTermios();
    expect(h.readUInt32LE(12) & (ICANON | ECHO | ISIG)).toBe(0);
    expect(h.readUInt32LE(0)).toBe(0o2400);
    expect(h.readUInt32LE(4)).toBe(0o5);
    expect([h[CC + VMIN], h[CC + VTIME]]).toEqual([1, 0]);
  });
});
