import { decodeSigInfo, encodeSigInfo, sigInfoLayout, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_TKILL, SI_USER, type SigInfo } from './index';

describe('siginfo', () => {
  test('layout follows Linux siginfo_layout', () => {
    expect(sigInfoLayout(15, SI_USER)).toBe('kill');
    expect(sigInfoLayout(11, SI_KERNEL)).toBe('kill');
    expect(sigInfoLayout(11, 1)).toBe('fault');
    expect(sigInfoLayout(17, 1)).toBe('chld');
    expect(sigInfoLayout(31, 1)).toBe('sys');
    expect(sigInfoLayout(29, 1)).toBe('poll');
    expect(sigInfoLayout(14, SI_TIMER)).toBe('timer');
    expect(sigInfoLayout(34, SI_QUEUE)).toBe('rt');
    expect(sigInfoLayout(10, SI_TKILL)).toBe('rt');
  });

  test.each<[string, SigInfo]>([
    ['kill', { signo: 15, errno: 0, code: SI_USER, pid: 7, uid: 1000 }],
    ['chld', { signo: 17, errno: 0, code: 1, pid: 9, uid: 0, status: 3, utime: 12n, stime: -1n }],
    ['fault', { signo: 11, errno: 0, code: 2, addr: 0xdeadbeef000n }],
    ['timer', { signo: 14, errno: 0, code: SI_TIMER, timerid: 2, overrun: 5, value: 0x1234n }],
    ['rt', { signo: 40, errno: 0, code: SI_QUEUE, pid: 3, uid: 4, value: 0xffffffffffffffffn }],
    ['sys', { signo: 31, errno: 0, code: 1, callAddr: 0x401000n, syscall: 999, arch: 0xc000003e }],
  ])('%s round trip at the kernel offsets', (_n, info) => {
    const b = encodeSigInfo(info);
    expect(b.length).toBe(128);
    expect([b.readInt32LE(0), b.readInt32LE(8)]).toEqual([info.signo, info.code]);
    if (info.pid !== undefined) expect(b.readInt32LE(16)).toBe(info.pid);
    if (info.addr !== undefined) expect(b.readBigUInt64LE(16)).toBe(info.addr);
    if (info.status !== undefined) expect(b.readInt32LE(24)).toBe(info.status);
    expect(decodeSigInfo(b)).toEqual(info);
  });

  test('fields of other layouts are not encoded', () => {
    const b = encodeSigInfo({ signo: 15, code: SI_USER, pid: 1, addr: 0x1234n, status: 9 });
    expect(b.subarray(24).every((x) => x === 0)).toBe(true);
  });
});
