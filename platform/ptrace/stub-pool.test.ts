// Unit tests of the pool's bookkeeping (no stub processes: ptrace.test.ts runs real ones).
import { IDLE_MAX, StubPool, type IdleStub } from './stub-pool';
import { StubThread } from './stub-thread';

function idle(pid: number): IdleStub {
  return { pid, control: new StubThread(pid, pid), threads: [], titled: false };
}

describe('StubPool', () => {
  test('take gives the oldest stub whose reset has ended, takeOldest the oldest of all; put refuses past IDLE_MAX and once closed', () => {
    const pool = new StubPool();
    for (let pid = 1; pid <= IDLE_MAX; pid++) expect(pool.put(idle(pid))).toBe(true);
    expect(pool.hasRoom).toBe(false);
    expect(pool.put(idle(99))).toBe(false);
    const ended = new Set([3, 4]);
    expect(pool.take((s) => ended.has(s.pid))?.pid).toBe(3);
    expect(pool.take(() => false)).toBeUndefined();
    expect(pool.takeOldest()?.pid).toBe(1);
    expect(pool.size).toBe(2);
    expect(pool.count((s) => s.pid === 4)).toBe(1);
    expect(pool.close().map((s) => s.pid)).toEqual([2, 4]);
    expect(pool.size).toBe(0);
    expect(pool.put(idle(5))).toBe(false);
  });
});
