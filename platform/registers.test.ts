import { Registers, REGISTERS_SIZE } from './registers';

describe('Registers', () => {
  test('lays registers out as struct user_regs_struct', () => {
    const r = new Registers();
    expect(r.buffer.length).toBe(REGISTERS_SIZE);
    r.rax = 0x1122n;
    r.rip = 0x400000n;
    r.fsBase = 0x7000n;
    expect(r.buffer.readBigUInt64LE(10 * 8)).toBe(0x1122n);
    expect(r.buffer.readBigUInt64LE(16 * 8)).toBe(0x400000n);
    expect(r.buffer.readBigUInt64LE(21 * 8)).toBe(0x7000n);
    expect(r.get('cs')).toBe(0x33n);
    expect(r.sysno).toBe(-1);
  });

  test('reads syscall number and arguments in ABI order', () => {
    const r = new Registers();
    r.origRax = 257n;
    [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9] = [1n, 2n, 3n, 4n, 5n, -100n];
    expect(r.sysno).toBe(257);
    expect([0, 1, 2, 3, 4].map((i) => r.arg(i))).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(r.arg(5)).toBe(2n ** 64n - 100n);
    expect(r.argInt(5)).toBe(-100);
    expect(() => r.argNumber(5)).toThrow(/exceeds 2\^53/);
    expect(() => r.arg(6)).toThrow(/must be 0..5/);
  });

  test('setReturn stores errnos, small and large values', () => {
    const r = new Registers();
    r.setReturn(-38);
    expect(r.rax).toBe(2n ** 64n - 38n);
    r.setReturn(0x7fff00001000);
    expect(r.rax).toBe(0x7fff00001000n);
    r.setReturn(-1n);
    expect(r.rax).toBe(2n ** 64n - 1n);
    expect(r.clone().toJSON().rax).toBe('0xffffffffffffffff');
  });
});
