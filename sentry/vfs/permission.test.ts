/**
 * Unit tests of the open and link permission checks (permission.ts) against the rules of
 * open(2), path_resolution(7) and fs/namei.c (may_open, may_linkat with
 * protected_hardlinks = 1), one case per rule.
 */
import { Errno } from '../kernel/errors';
import { CAP_DAC_OVERRIDE, CAP_FOWNER, capBit, noCaps } from '../kernel/capabilities';
import { Credentials, MAY_READ, MAY_WRITE } from '../kernel/credentials';
import { O_NOATIME, O_PATH, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from './file';
import { S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG } from './inode';
import { mayLink, mayOpen, openAccess, openTruncates } from './permission';

const root = new Credentials(0, 0);
const user = new Credentials(1000, 1000);
const withCaps = (...caps: number[]) => {
  const c = new Credentials(1000, 1000);
  const m = caps.reduce((a, n) => a | capBit(n), 0n);
  c.caps = { ...noCaps(), permitted: m, effective: m };
  return c;
};
const rootFile = (mode: number) => ({ mode: S_IFREG | mode, uid: 0, gid: 0 });

describe('openAccess (build_open_flags)', () => {
  test('the access mode, and MAY_WRITE for O_TRUNC even with O_RDONLY', () => {
    expect(openAccess(O_RDONLY)).toBe(MAY_READ);
    expect(openAccess(O_WRONLY)).toBe(MAY_WRITE);
    expect(openAccess(O_RDWR)).toBe(MAY_READ | MAY_WRITE);
    expect(openAccess(O_RDONLY | O_TRUNC)).toBe(MAY_READ | MAY_WRITE);
    expect(openAccess(O_PATH | O_TRUNC)).toBe(0);
  });
});

describe('mayOpen (may_open)', () => {
  test('O_RDONLY|O_TRUNC on a root-owned 0644 file is EACCES for uid 1000 (it needs write)', () => {
    expect(mayOpen(user, rootFile(0o644), O_RDONLY, false)).toBe(0);
    expect(mayOpen(user, rootFile(0o644), O_RDONLY | O_TRUNC, false)).toBe(Errno.EACCES);
    expect(mayOpen(user, rootFile(0o646), O_RDONLY | O_TRUNC, false)).toBe(0);
    expect(mayOpen(root, rootFile(0o644), O_RDONLY | O_TRUNC, false)).toBe(0);
  });
  test('O_WRONLY and O_RDWR need write permission, CAP_DAC_OVERRIDE overrides it', () => {
    expect(mayOpen(user, rootFile(0o644), O_WRONLY, false)).toBe(Errno.EACCES);
    expect(mayOpen(user, rootFile(0o644), O_RDWR, false)).toBe(Errno.EACCES);
    expect(mayOpen(withCaps(CAP_DAC_OVERRIDE), rootFile(0o644), O_RDWR, false)).toBe(0);
  });
  test('O_NOATIME takes ownership or CAP_FOWNER (EPERM), after the access check', () => {
    expect(mayOpen(user, rootFile(0o644), O_RDONLY | O_NOATIME, false)).toBe(Errno.EPERM);
    expect(mayOpen(user, { ...rootFile(0o600), uid: 1000 }, O_RDONLY | O_NOATIME, false)).toBe(0);
    expect(mayOpen(withCaps(CAP_FOWNER), rootFile(0o644), O_RDONLY | O_NOATIME, false)).toBe(0);
    expect(mayOpen(user, rootFile(0o600), O_RDONLY | O_NOATIME, false)).toBe(Errno.EACCES);
  });
  test('O_PATH checks nothing on the file', () => {
    expect(mayOpen(user, rootFile(0), O_PATH | O_RDWR | O_TRUNC | O_NOATIME, true)).toBe(0);
    expect(mayOpen(user, { mode: S_IFLNK | 0o777, uid: 0, gid: 0 }, O_PATH, false)).toBe(0);
  });
  test('a read-only mount refuses writing or truncating a file (EROFS before EACCES)', () => {
    expect(mayOpen(user, rootFile(0o644), O_WRONLY, true)).toBe(Errno.EROFS);
    expect(mayOpen(root, rootFile(0o644), O_RDONLY | O_TRUNC, true)).toBe(Errno.EROFS);
    expect(mayOpen(root, rootFile(0o644), O_RDONLY, true)).toBe(0);
    expect(mayOpen(root, { mode: S_IFIFO | 0o666, uid: 0, gid: 0 }, O_WRONLY, true)).toBe(0);
  });
  test('a directory opened for writing or truncation is EISDIR, before EROFS and EACCES', () => {
    const dir = { mode: S_IFDIR | 0o755, uid: 0, gid: 0 };
    expect(mayOpen(user, dir, O_RDONLY, false)).toBe(0);
    expect(mayOpen(user, dir, O_WRONLY, true)).toBe(Errno.EISDIR);
    expect(mayOpen(user, dir, O_RDONLY | O_TRUNC, false)).toBe(Errno.EISDIR);
  });
  test('a symlink is ELOOP', () => {
    expect(mayOpen(root, { mode: S_IFLNK | 0o777, uid: 0, gid: 0 }, O_RDONLY, false)).toBe(Errno.ELOOP);
  });
  test('only a regular file is truncated by O_TRUNC', () => {
    expect(openTruncates(rootFile(0o644), O_RDONLY | O_TRUNC)).toBe(true);
    expect(openTruncates({ mode: S_IFIFO | 0o666, uid: 0, gid: 0 }, O_WRONLY | O_TRUNC)).toBe(false);
    expect(openTruncates(rootFile(0o644), O_WRONLY)).toBe(false);
  });
});

describe('mayLink (may_linkat, protected_hardlinks = 1)', () => {
  test('a root-owned set-user-ID file cannot be linked by uid 1000, even if world-writable', () => {
    expect(mayLink(user, rootFile(0o4755))).toBe(Errno.EPERM);
    expect(mayLink(user, rootFile(0o4777))).toBe(Errno.EPERM);
  });
  test('set-group-ID with group execute is unsafe; without group execute it is not', () => {
    expect(mayLink(user, rootFile(0o2775 | 0o002))).toBe(Errno.EPERM);
    expect(mayLink(user, rootFile(0o2666))).toBe(0);
  });
  test('a file the caller cannot both read and write is unsafe', () => {
    expect(mayLink(user, rootFile(0o644))).toBe(Errno.EPERM);
    expect(mayLink(user, rootFile(0o666))).toBe(0);
  });
  test('the owner and CAP_FOWNER may link anything; a non-regular file only they may', () => {
    expect(mayLink(user, { ...rootFile(0o4755), uid: 1000 })).toBe(0);
    expect(mayLink(withCaps(CAP_FOWNER), rootFile(0o4755))).toBe(0);
    expect(mayLink(root, rootFile(0o4755))).toBe(0);
    expect(mayLink(user, { mode: S_IFIFO | 0o666, uid: 0, gid: 0 })).toBe(Errno.EPERM);
  });
});
