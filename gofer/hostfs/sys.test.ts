/**
 * Tests of the gofer's statx reading (sys.ts): every field statAt and fstat return is
 * what the host says of the file (compared with Node's lstat, read as bigints), including
 * times before 1970 and sizes beyond 32 bits, which are read as two 32-bit halves; a
 * symlink's own attributes, never its target's.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sys from './sys';

describe('gofer statx', () => {
  let dir: string;
  let dirfd: number;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-sys-test-'));
    // A sparse file larger than 4 GiB, with times before 1970 and far after 2038.
    const big = path.join(dir, 'big');
    fs.writeFileSync(big, 'x');
    fs.truncateSync(big, 5 * 2 ** 32 + 12345);
    execFileSync('touch', ['-a', '-d', '1969-01-01 00:00:00.75 UTC', big]);
    execFileSync('touch', ['-m', '-d', '2242-03-16 12:56:32.5 UTC', big]);
    fs.symlinkSync('big', path.join(dir, 'link'));
    dirfd = sys.openat(sys.AT_FDCWD, dir, sys.O_PATH | sys.O_DIRECTORY);
    expect(dirfd).toBeGreaterThanOrEqual(0);
  });

  afterAll(() => {
    sys.close(dirfd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** expectSame checks a statx result against Node's lstat of the same file. */
  function expectSame(st: sys.Stat | number, file: string): void {
    expect(typeof st).toBe('object');
    const s = st as sys.Stat;
    const want = fs.lstatSync(path.join(dir, file), { bigint: true });
    const sec = (ns: bigint) => Number(ns / 1_000_000_000n - (ns % 1_000_000_000n < 0n ? 1n : 0n));
    const nsec = (ns: bigint) => Number(((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
    expect({
      ino: s.ino, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, size: s.size, blocks: s.blocks, blksize: s.blksize,
      atime: [s.atimeSec, s.atimeNsec], mtime: [s.mtimeSec, s.mtimeNsec], ctime: [s.ctimeSec, s.ctimeNsec],
    }).toEqual({
      ino: want.ino, mode: Number(want.mode), nlink: Number(want.nlink), uid: Number(want.uid), gid: Number(want.gid),
      size: Number(want.size), blocks: Number(want.blocks), blksize: Number(want.blksize),
      atime: [sec(want.atimeNs), nsec(want.atimeNs)], mtime: [sec(want.mtimeNs), nsec(want.mtimeNs)],
      ctime: [sec(want.ctimeNs), nsec(want.ctimeNs)],
    });
  }

  it('reads sizes beyond 32 bits and times before 1970 and after 2038 as the host has them', () => {
    const st = sys.statAt(dirfd, 'big');
    expectSame(st, 'big');
    const s = st as sys.Stat;
    expect(s.size).toBe(5 * 2 ** 32 + 12345);
    expect(s.atimeSec).toBe(-86_400 * 365);
    expect(s.atimeNsec).toBe(750_000_000);
    expect(s.mtimeSec).toBe(2 ** 33);
    expect(s.mtimeNsec).toBe(500_000_000);
  });

  it("reads a symlink's own attributes, and fstat reads what statAt reads", () => {
    expectSame(sys.statAt(dirfd, 'link'), 'link');
    expect(((sys.statAt(dirfd, 'link') as sys.Stat).mode & sys.S_IFMT)).toBe(sys.S_IFLNK);
    const fd = sys.openat(dirfd, 'big', sys.O_PATH);
    try {
      expect(sys.fstat(fd)).toEqual(sys.statAt(dirfd, 'big'));
    } finally {
      sys.close(fd);
    }
    expect(sys.statAt(dirfd, 'missing')).toBeLessThan(0);
  });
});
