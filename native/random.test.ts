// The kernel's random bytes (random.ts): sizes, independence of successive draws, and the
// UUID's version and variant bits.
import { randomBytes, randomFill, randomUUID } from './random';

describe('random (getrandom)', () => {
  test('fills any size, and two draws differ', () => {
    expect(randomBytes(0)).toHaveLength(0);
    const a = randomBytes(64);
    const b = randomBytes(64);
    expect(a).toHaveLength(64);
    expect(a.equals(b)).toBe(false);
    // A view of a larger buffer is filled in place, and only it.
    const big = Buffer.alloc(1 << 20);
    randomFill(big.subarray(16, 32));
    expect(big.subarray(0, 16).every((x) => x === 0)).toBe(true);
    expect(big.subarray(32).every((x) => x === 0)).toBe(true);
    expect(big.subarray(16, 32).some((x) => x !== 0)).toBe(true);
    // 1 MiB of random bytes is not all one value.
    expect(new Set(randomFill(Buffer.alloc(1 << 20))).size).toBeGreaterThan(200);
  });

  test('randomUUID is a version 4 UUID of RFC 4122 variant, a new one each time', () => {
    const u = randomUUID();
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(randomUUID()).not.toBe(u);
  });
});
