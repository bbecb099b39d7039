/**
 * Unit tests of the permission checks (permission.ts) against the rules of open(2),
 * fcntl(2), path_resolution(7), fs/namei.c (generic_permission, may_open, may_linkat
 * with protected_hardlinks = 1) and user_namespaces(7) (no capability over a file whose
 * owner or group is unmapped), one case per rule.
 */
import { Errno } from '../kernel/errors';
import { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, capBit, fullCaps, noCaps } from '../kernel/capabilities';
import { Credentials, MAY_EXEC, MAY_READ, MAY_WRITE } from '../kernel/credentials';
import { O_NOATIME, O_PATH, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from './file';
import { S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG } from './inode';
import { capableWrt, mayLink, mayNoatime, mayOpen, openAccess, openTruncates, ownerOrCapable, permitted } from './permission';

const root = new Credentials(0, 0);
const user = new Credentials(1000, 1000);
const withCaps = (...caps: number[]) => {
  const c = new Credentials(1000, 1000);
  const m = caps.reduce((a, n) => a | capBit(n), 0n);
  c.caps = { ...noCaps(), permitted: m, effective: m };
  return c;
};
const rootFile = (mode: number) => ({ mode: S_IFREG | mode, uid: 0, gid: 0 });
const rootDir = (mode: number) => ({ mode: S_IFDIR | mode, uid: 0, gid: 0 });
/** A host file outside the container's mappings, as the gofer reports it. */
const unmapped = (mode: number) => ({ mode, uid: 65534, gid: 65534, unmapped: true });

describe('permitted (generic_permission)', () => {
  test('mode bits first', () => {
    expect(permitted(withCaps(), { ...rootFile(0o600), uid: 1000 }, MAY_READ | MAY_WRITE)).toBe(true);
    expect(permitted(withCaps(), rootFile(0o600), MAY_READ)).toBe(false);
  });
  test('CAP_DAC_READ_SEARCH: read files, read and search directories', () => {
    const c = withCaps(CAP_DAC_READ_SEARCH);
    expect(permitted(c, rootFile(0o600), MAY_READ)).toBe(true);
    expect(permitted(c, rootFile(0o600), MAY_WRITE)).toBe(false);
    expect(permitted(c, rootDir(0o700), MAY_READ | MAY_EXEC)).toBe(true);
    expect(permitted(c, rootDir(0o700), MAY_WRITE | MAY_EXEC)).toBe(false);
  });
  test('CAP_DAC_OVERRIDE: everything but executing a file without any x bit', () => {
    const c = withCaps(CAP_DAC_OVERRIDE);
    expect(permitted(c, rootFile(0o600), MAY_READ | MAY_WRITE)).toBe(true);
    expect(permitted(c, rootFile(0o600), MAY_EXEC)).toBe(false);
    expect(permitted(c, rootFile(0o700), MAY_EXEC)).toBe(true);
    expect(permitted(c, rootDir(0o000), MAY_WRITE | MAY_EXEC)).toBe(true);
  });
  test('no capability over an unmapped owner or group: only the mode bits count', () => {
    const c = new Credentials(0, 0, 0, 0, 0, 0, [], fullCaps());
    expect(permitted(c, unmapped(S_IFREG | 0o600), MAY_READ)).toBe(false);
    expect(permitted(c, unmapped(S_IFDIR | 0o700), MAY_EXEC)).toBe(false);
    expect(permitted(c, unmapped(S_IFDIR | 0o700), MAY_READ)).toBe(false);
    expect(permitted(c, unmapped(S_IFREG | 0o644), MAY_WRITE)).toBe(false);
    expect(permitted(c, unmapped(S_IFREG | 0o644), MAY_READ)).toBe(true);
    expect(permitted(c, unmapped(S_IFREG | 0o711), MAY_EXEC)).toBe(true);
    // A mapped 65534 (the container's own nobody) is a file like any other.
    expect(permitted(c, { mode: S_IFREG | 0o600, uid: 65534, gid: 65534 }, MAY_READ | MAY_WRITE)).toBe(true);
  });
});

describe('capableWrt (capable_wrt_inode_uidgid)', () => {
  test('a capability applies to a mapped file only; ownership still counts', () => {
    const c = withCaps(CAP_CHOWN, CAP_FOWNER);
    expect(capableWrt(c, CAP_CHOWN, rootFile(0o644))).toBe(true);
    expect(capableWrt(c, CAP_CHOWN, unmapped(S_IFREG | 0o644))).toBe(false);
    expect(ownerOrCapable(c, unmapped(S_IFREG | 0o644))).toBe(false);
    expect(ownerOrCapable(user, { ...unmapped(S_IFREG | 0o644), uid: 1000 })).toBe(true);
  });
});

describe('mayNoatime (open O_NOATIME, fcntl F_SETFL O_NOATIME)', () => {
  test('the owner or CAP_FOWNER over the file, else EPERM', () => {
    expect(mayNoatime(user, rootFile(0o644))).toBe(Errno.EPERM);
    expect(mayNoatime(user, { ...rootFile(0o644), uid: 1000 })).toBe(0);
    expect(mayNoatime(withCaps(CAP_FOWNER), rootFile(0o644))).toBe(0);
    expect(mayNoatime(withCaps(CAP_FOWNER), unmapped(S_IFREG | 0o644))).toBe(Errno.EPERM);
  });
});

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
