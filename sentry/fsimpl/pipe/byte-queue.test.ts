import { ByteQueue } from './byte-queue';

describe('ByteQueue', () => {
  test('takes across buffers in order, peeks without taking, copies what is pushed', () => {
    const q = new ByteQueue();
    const first = Buffer.from('abc');
    q.push(first);
    q.push(Buffer.from('defg'));
    first.fill(0x78); // the queue holds its own copy
    expect(q.length).toBe(7);
    const peek = Buffer.alloc(5);
    expect(q.peek(peek)).toBe(5);
    expect(peek.toString()).toBe('abcde');
    const a = Buffer.alloc(2);
    expect(q.take(a)).toBe(2);
    expect(a.toString()).toBe('ab');
    const b = Buffer.alloc(10);
    expect(q.take(b)).toBe(5);
    expect(b.subarray(0, 5).toString()).toBe('cdefg');
    expect(q.length).toBe(0);
    expect(q.take(b)).toBe(0);
  });

  test('clear drops everything; empty pushes add nothing', () => {
    const q = new ByteQueue();
    q.push(Buffer.alloc(0));
    q.push(Buffer.from('xy'));
    q.clear();
    expect(q.length).toBe(0);
    expect(q.peek(Buffer.alloc(4))).toBe(0);
  });
});
