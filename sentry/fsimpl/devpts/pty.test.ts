/**
 * PtyPair's buffers and close semantics without a kernel: output processing (ONLCR),
 * the bounds on what a side may queue for the other (echo dropped past 64 KiB, the
 * master's writes waiting once the slave has 64 KiB unread), EIO to the master once the
 * slave is gone, end of file and EIO to a hung-up slave, and the pair's end.
 */
import { LinuxError } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import type { Inode } from '../../vfs/inode';
import { ICANON } from '../host/line-discipline';
import { PtyPair } from './pty';

const task = {} as Task;
const node = {} as Inode;

function pair(gone: (p: PtyPair) => void = () => {}): PtyPair {
  return new PtyPair(null, 0, node, gone);
}

function drain(p: PtyPair): Buffer {
  const parts: Buffer[] = [];
  for (;;) {
    const b = Buffer.alloc(4096);
    const n = p.masterRead(b);
    if (n instanceof Block) return Buffer.concat(parts);
    parts.push(b.subarray(0, n));
  }
}

function errnoOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof LinuxError) return e.errno;
    throw e;
  }
  return undefined;
}

describe('PtyPair', () => {
  test('the slave\'s newlines reach the master as \\r\\n (OPOST|ONLCR)', () => {
    const p = pair();
    p.slaveOpened();
    expect(p.slaveWrite(task, Buffer.from('a\nb\n'))).toBe(4);
    expect(drain(p).toString()).toBe('a\r\nb\r\n');
  });

  test('canonical input with echo: the slave reads the line, the master sees the echo', () => {
    const p = pair();
    p.slaveOpened();
    p.masterWrite(Buffer.from('hi\r'));
    const b = Buffer.alloc(16);
    expect(p.slaveRead(task, b)).toBe(3);
    expect(b.subarray(0, 3).toString()).toBe('hi\n');
    expect(drain(p).toString()).toBe('hi\r\n');
  });

  test('echo for a master that never reads is bounded', () => {
    const p = pair();
    p.slaveOpened();
    const chunk = Buffer.alloc(1000, 0x61);
    for (let i = 0; i < 200; i++) p.masterWrite(Buffer.concat([chunk, Buffer.from('\n')]));
    // The slave never reads either: its input stops at 64 KiB and the master waits.
    expect(drain(p).length).toBeLessThanOrEqual(65536);
  });

  test('raw input the slave does not read stops the master\'s writes (a Block), not memory', () => {
    const p = pair();
    p.slaveOpened();
    const t = Buffer.from(p.ldisc.termios);
    t.writeUInt32LE(t.readUInt32LE(12) & ~ICANON, 12);
    p.ldisc.setTermios(t);
    let blocked = false;
    for (let i = 0; i < 100 && !blocked; i++) blocked = p.masterWrite(Buffer.alloc(4096, 0x62)) instanceof Block;
    expect(blocked).toBe(true);
    expect(p.ldisc.pending).toBeLessThanOrEqual(65536 + 4096);
  });

  test('the slave closed: the master reads EIO; the master closed: the slave reads 0 and writes EIO; then the pair ends', () => {
    const ended: PtyPair[] = [];
    const p = pair((x) => ended.push(x));
    p.slaveOpened();
    p.slaveClosed();
    expect(errnoOf(() => p.masterRead(Buffer.alloc(8)))).toBe(5); // EIO
    p.slaveOpened();
    p.masterClosed();
    expect(p.slaveRead(task, Buffer.alloc(8))).toBe(0);
    expect(errnoOf(() => p.slaveWrite(task, Buffer.from('x')))).toBe(5);
    expect(ended).toHaveLength(0);
    p.slaveClosed();
    expect(ended).toEqual([p]);
  });
});
