/**
 * openNodeOfHost: a host device number (glibc's 64-bit dev_t, as the gofer reports it)
 * opens the sandbox's device of that number, or fails ENXIO; numbers past the kernel's
 * 32-bit encoding never alias an emulated device.
 */
import { Errno, LinuxError } from '../../kernel/errors';
import type { Inode } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import { O_RDONLY } from '../../vfs/file';
import { openNodeOfHost } from './device-ops';

/** glibcDev encodes major:minor as glibc's makedev does. */
function glibcDev(major: number, minor: number): number {
  return (major & 0xfff) * 2 ** 8 + (minor & 0xff) + (minor >>> 8) * 2 ** 20 + Math.floor(major / 0x1000) * 2 ** 44;
}

const node = {} as Inode;
const loc = { dentry: { incRef: () => undefined }, mount: {} } as unknown as Location;

function errnoOf(f: () => unknown): number | string {
  try {
    f();
    return 'opened';
  } catch (e) {
    return e instanceof LinuxError ? e.errno : String(e);
  }
}

describe('openNodeOfHost', () => {
  test('1:3 is the sandbox\'s null', () => {
    expect(errnoOf(() => openNodeOfHost(node, glibcDev(1, 3), false, loc, O_RDONLY))).toBe('opened');
  });

  test('a device the sandbox does not emulate, a block device, a number past 32 bits: ENXIO', () => {
    expect(errnoOf(() => openNodeOfHost(node, glibcDev(1, 1), false, loc, O_RDONLY))).toBe(Errno.ENXIO);
    expect(errnoOf(() => openNodeOfHost(node, glibcDev(1, 3), true, loc, O_RDONLY))).toBe(Errno.ENXIO);
    // Major 4097 would be 1 if masked to 12 bits, minor 3 + 2^20 would be 3.
    expect(errnoOf(() => openNodeOfHost(node, glibcDev(4097, 3), false, loc, O_RDONLY))).toBe(Errno.ENXIO);
    expect(errnoOf(() => openNodeOfHost(node, glibcDev(1, 3 + 2 ** 20), false, loc, O_RDONLY))).toBe(Errno.ENXIO);
  });
});
