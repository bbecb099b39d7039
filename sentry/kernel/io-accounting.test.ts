/**
 * Unit tests of the I/O counters (io-accounting.ts): a thread's own counts in
 * task/<tid>/io, the group's totals in /proc/<pid>/io, a reaped child's added to its
 * parent's, blocked calls not counted until they complete, raised EAGAIN counted and
 * other raised errors not.
 */
import { Errno, LinuxError } from './errors';
import { accountIo, accountTransfer, ioText, reapIo } from './io-accounting';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';

const group = () => ({}) as ThreadGroup;
const task = (tg: ThreadGroup) => ({ tg }) as Task;
const line = (text: string, key: string) => new RegExp(`^${key}: (\\d+)$`, 'm').exec(text)![1];
const fields = (text: string) => ['rchar', 'wchar', 'syscr', 'syscw'].map((k) => Number(line(text, k)));

describe('io accounting', () => {
  test('threads count on their own and into their group', () => {
    const g = group(), a = task(g), b = task(g);
    accountIo(a, false, () => 100);
    accountIo(b, true, () => 40);
    accountIo(b, false, () => -Errno.EAGAIN);
    expect(fields(ioText(g, a))).toEqual([100, 0, 1, 0]);
    expect(fields(ioText(g, b))).toEqual([0, 40, 1, 1]);
    expect(fields(ioText(g))).toEqual([100, 40, 2, 1]);
    expect(ioText(g)).toMatch(/read_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n$/);
  });

  test('a blocked call is not counted; raised EAGAIN is, other raised errors are not', () => {
    const g = group(), t = task(g);
    accountIo(t, false, () => ({ blocked: true }));
    expect(() => accountIo(t, false, () => { throw new LinuxError(Errno.EAGAIN); })).toThrow(LinuxError);
    expect(() => accountIo(t, true, () => { throw new LinuxError(Errno.EBADF); })).toThrow(LinuxError);
    expect(fields(ioText(g, t))).toEqual([0, 0, 1, 0]);
  });

  test('a transfer is one read and one write; a reaped child adds its totals to its parent', () => {
    const parent = group(), child = group(), c = task(child);
    accountTransfer(c, 512);
    accountIo(c, true, () => 8);
    reapIo(parent, child);
    expect(fields(ioText(parent))).toEqual([512, 520, 1, 2]);
    expect(fields(ioText(group()))).toEqual([0, 0, 0, 0]);
  });
});
