import { Errno } from '../kernel/errors';
import type { Task } from '../kernel/task';
import { Block, WaitQueue } from '../kernel/waiter';
import { createSocket, registerSocketProvider, timevalMs, withTimeout, type SocketFile } from './provider';

describe('socket providers', () => {
  const t = { creds: { euid: 1000 } } as unknown as Task;

  it('answers EAFNOSUPPORT for a family nobody registered', () => {
    expect(() => createSocket(t, 4242, 1, 0, 0)).toThrow(expect.objectContaining({ errno: Errno.EAFNOSUPPORT }));
  });

  it('passes type, protocol and flags to the family\'s factory, and records the creator\'s uid', () => {
    const calls: number[][] = [];
    const made = { fake: true } as unknown as SocketFile;
    registerSocketProvider(4243, (_t, type, protocol, flags) => { calls.push([type, protocol, flags]); return made; });
    expect(createSocket(t, 4243, 2, 17, 0o4000)).toBe(made);
    expect(calls).toEqual([[2, 17, 0o4000]]);
    expect(made.uid).toBe(1000);
  });
});

describe('socket timeouts', () => {
  it('converts a timeval to ms, rounding microseconds up', () => {
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(2n, 0);
    tv.writeBigInt64LE(1500n, 8);
    expect(timevalMs(tv)).toBe(2002);
    expect(timevalMs(Buffer.alloc(16))).toBe(0);
    expect(timevalMs(null)).toBe(0);
  });

  it('gives a Block one deadline that survives retries, then EAGAIN', () => {
    const task = { syscallState: undefined } as unknown as Task;
    const q = new WaitQueue();
    const first = withTimeout(task, new Block([q]), 50) as Block;
    expect(first).toBeInstanceOf(Block);
    const again = withTimeout(task, new Block([q]), 50) as Block;
    expect(again.deadline).toBe(first.deadline);
    (task.syscallState as { sockDeadline: number }).sockDeadline = 0;
    expect(withTimeout(task, new Block([q]), 50)).toBe(-Errno.EAGAIN);
    expect(withTimeout(task, 7, 50)).toBe(7);
  });
});
