/**
 * Unit tests of FUTEX_WAKE_OP's operation decoding (the waits and wakes themselves are
 * exercised by spec-tests/behaviour/programs/futex.c against Linux).
 */
import { LinuxError } from './errors';
import { wakeOpApply } from './futex';

/** encode builds val3 as the FUTEX_OP() macro of linux/futex.h does. */
function encode(op: number, oparg: number, cmp: number, cmparg: number): number {
  return (((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff)) >>> 0;
}

describe('wakeOpApply', () => {
  test.each([
    // [op, oparg, cmp, cmparg, old, new, cond]
    [0, 5, 0, 3, 3, 5, true], // SET, EQ
    [1, 2, 1, 5, 5, 7, false], // ADD, NE
    [2, 8, 2, 7, 7, 15, false], // OR, LT
    [3, 1, 3, 15, 15, 14, true], // ANDN, LE
    [4, 0xff, 4, 100, 14, 241, false], // XOR, GT
    [1, -300, 5, -1, 241, (241 - 300) >>> 0, true], // ADD of a negative oparg, GE of a negative cmparg
    [8, 4, 0, -59, (241 - 300) >>> 0, 16, true], // SET with OPARG_SHIFT: 1 << 4
  ])('op %d oparg %d cmp %d cmparg %d on %d', (op, oparg, cmp, cmparg, old, newval, cond) => {
    expect(wakeOpApply(encode(op, oparg, cmp, cmparg), old)).toEqual({ newval, cond });
  });

  test('an unknown operation or comparison is ENOSYS', () => {
    expect(() => wakeOpApply(encode(7, 0, 0, 0), 0)).toThrow(LinuxError);
    expect(() => wakeOpApply(encode(0, 0, 9, 0), 0)).toThrow(LinuxError);
  });
});
