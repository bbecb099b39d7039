import { acceptable, validName } from './host-watch';

const NOFID = 0xffffffff;
const IN_CREATE = 0x100, IN_MODIFY = 0x2, IN_Q_OVERFLOW = 0x4000, IN_ISDIR = 0x40000000, IN_ACCESS = 0x1;

describe('host-watch: the gofer\'s events are checked before use', () => {
  it('accepts one component of at most 255 bytes, without NUL, not . or ..', () => {
    for (const n of ['a', 'file.txt', 'ü'.repeat(127), 'x'.repeat(255), ' ', '...']) expect([n, validName(n)]).toEqual([n, true]);
    for (const n of ['a/b', '/', '.', '..', 'a\0b', 'x'.repeat(256), 'ü'.repeat(128)]) expect([n, validName(n)]).toEqual([n, false]);
  });

  it('drops events with unknown mask bits, a bad name, or a wd that does not match the overflow bit', () => {
    expect(acceptable({ wd: 1, mask: IN_CREATE | IN_ISDIR, cookie: 0, name: 'd' })).toBe(true);
    expect(acceptable({ wd: 1, mask: IN_MODIFY, cookie: 0, name: '' })).toBe(true);
    expect(acceptable({ wd: NOFID, mask: IN_Q_OVERFLOW, cookie: 0, name: '' })).toBe(true);
    expect(acceptable({ wd: 1, mask: IN_ACCESS, cookie: 0, name: 'a' })).toBe(true); // the host's reads are forwarded
    expect(acceptable({ wd: 1, mask: 0x1000, cookie: 0, name: 'a' })).toBe(false); // no inotify event has this bit
    expect(acceptable({ wd: 1, mask: 0x10000000 | IN_CREATE, cookie: 0, name: 'a' })).toBe(false);
    expect(acceptable({ wd: 1, mask: IN_CREATE, cookie: 0, name: '../../etc' })).toBe(false);
    expect(acceptable({ wd: 1, mask: IN_CREATE, cookie: 0, name: 'x'.repeat(300) })).toBe(false);
    expect(acceptable({ wd: NOFID, mask: IN_CREATE, cookie: 0, name: 'a' })).toBe(false);
    expect(acceptable({ wd: 1, mask: IN_Q_OVERFLOW, cookie: 0, name: '' })).toBe(false);
  });
});
