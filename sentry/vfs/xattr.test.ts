import { Errno } from '../kernel/errors';
import { XATTR_CREATE, XATTR_REPLACE, XattrMap, isUserXattrName } from './xattr';

const errnoOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { errno?: number }).errno;
  }
};

describe('XattrMap', () => {
  test('set, get, the flags, names, remove', () => {
    const m = new XattrMap();
    expect(errnoOf(() => m.get('user.a'))).toBe(Errno.ENODATA);
    expect(errnoOf(() => m.set('user.a', Buffer.from('x'), XATTR_REPLACE))).toBe(Errno.ENODATA);
    m.set('user.a', Buffer.from('one'), XATTR_CREATE);
    expect(errnoOf(() => m.set('user.a', Buffer.from('x'), XATTR_CREATE))).toBe(Errno.EEXIST);
    m.set('user.a', Buffer.from('two'), XATTR_REPLACE);
    m.set('user.b', Buffer.alloc(0), 0);
    expect(m.get('user.a').toString()).toBe('two');
    expect(m.get('user.b').length).toBe(0);
    expect(m.names()).toEqual(['user.a', 'user.b']);
    m.remove('user.a');
    expect(errnoOf(() => m.remove('user.a'))).toBe(Errno.ENODATA);
    expect(m.names()).toEqual(['user.b']);
  });

  test('a value read is a copy: changing it changes nothing stored', () => {
    const m = new XattrMap();
    const v = Buffer.from('abc');
    m.set('user.a', v, 0);
    v[0] = 0x7a;
    m.get('user.a')[1] = 0x7a;
    expect(m.get('user.a').toString()).toBe('abc');
  });

  test('one file\'s attributes take at most 128 KiB (ENOSPC), and space comes back on remove and replace', () => {
    const m = new XattrMap();
    const big = Buffer.alloc(60 * 1024);
    m.set('user.1', big, 0);
    m.set('user.2', big, 0);
    expect(errnoOf(() => m.set('user.3', big, 0))).toBe(Errno.ENOSPC);
    m.set('user.2', Buffer.alloc(10), 0);
    m.set('user.3', big, 0);
    m.remove('user.1');
    m.set('user.4', big, 0);
    expect(m.names().sort()).toEqual(['user.2', 'user.3', 'user.4']);
  });
});

test('isUserXattrName: the "user." namespace with a name after the dot', () => {
  expect(['user.a', 'user.x.y'].map(isUserXattrName)).toEqual([true, true]);
  expect(['user.', 'user', 'trusted.a', 'security.capability', 'system.posix_acl_access', 'User.a'].map(isUserXattrName)).toEqual([false, false, false, false, false, false]);
});
