/**
 * device-ops.ts: what opening a device node does in the sandbox, wherever the node is
 * (devfs's defaults, linux.devices entries, a node made by mknod in a tmpfs). The node's
 * device number picks the behaviour: the memory devices (1:3 null, 1:5 zero, 1:7 full,
 * 1:8 random, 1:9 urandom) are built in; the kernel's devfs registers 5:0 (/dev/tty) and
 * 5:2 (ptmx). Any other device, and every block device, answers ENXIO: no host device is
 * ever reachable from the sandbox. The container's device rules come first (EPERM).
 */
import { randomFill } from '../../../native/random';
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import type { Block } from '../../kernel/waiter';
import { FileDescription, O_ACCMODE, O_PATH, O_RDONLY, O_WRONLY } from '../../vfs/file';
import { deviceAllowed } from './device-cgroup';
import type { Inode, Stat } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';

/** mkdev makes a device number as Linux's new_encode_dev (major < 4096, minor < 2^20). */
export function mkdev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

/** DeviceOps is what a character device does on read and write. */
interface DeviceOps {
  read(dst: Buffer): number;
  write(src: Buffer): number;
}

/** MEMORY_DEVICES are the built-in character devices, by name (as in /dev) with their numbers. */
export const MEMORY_DEVICES: Record<string, { major: number; minor: number; ops: DeviceOps }> = {
  null: { major: 1, minor: 3, ops: { read: () => 0, write: (s) => s.length } },
  zero: { major: 1, minor: 5, ops: { read: (d) => { d.fill(0); return d.length; }, write: (s) => s.length } },
  full: { major: 1, minor: 7, ops: { read: (d) => { d.fill(0); return d.length; }, write: () => fail(Errno.ENOSPC) } },
  random: { major: 1, minor: 8, ops: { read: (d) => { randomFill(d); return d.length; }, write: (s) => s.length } },
  urandom: { major: 1, minor: 9, ops: { read: (d) => { randomFill(d); return d.length; }, write: (s) => s.length } },
};

/** MemoryDeviceFile is an open memory device. */
class MemoryDeviceFile extends FileDescription {
  constructor(loc: Location, flags: number, private readonly ops: DeviceOps, private readonly node: Inode) {
    super(loc, flags);
  }

  override read(_t: Task, dst: Buffer): number | Block {
    return this.ops.read(dst);
  }

  override write(_t: Task, src: Buffer): number | Block {
    return this.ops.write(src);
  }

  override seek(): number {
    return 0;
  }

  override stat(): Stat {
    return this.node.stat();
  }
}

/** DeviceOpener opens the character device of a node. */
export type DeviceOpener = (node: Inode, loc: Location, flags: number) => FileDescription;

const openers = new Map<number, DeviceOpener>();
for (const d of Object.values(MEMORY_DEVICES)) openers.set(mkdev(d.major, d.minor), (node, loc, flags) => new MemoryDeviceFile(loc, flags, d.ops, node));

/** registerDevice makes opening character device `rdev` call `open` (the kernel's /dev/tty and ptmx). */
export function registerDevice(rdev: number, open: DeviceOpener): void {
  openers.set(rdev, open);
}

/** openDevice opens a device node: EPERM if the device rules deny it (device-cgroup.ts),
 * else an emulated character device, else ENXIO. */
export function openDevice(node: Inode, rdev: number, block: boolean, loc: Location, flags: number): FileDescription {
  const acc = flags & O_ACCMODE;
  const access = acc === O_RDONLY ? 'r' : acc === O_WRONLY ? 'w' : 'rw';
  // new_decode_dev: major in bits 8-19, minor in bits 0-7 and 20-31.
  const major = (rdev >>> 8) & 0xfff, minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
  if (!(flags & O_PATH) && !deviceAllowed(block, major, minor, access)) fail(Errno.EPERM);
  const open = block ? undefined : openers.get(rdev);
  if (!open) return fail(Errno.ENXIO);
  return open(node, loc, flags);
}

/** openNodeOfHost opens a device node a file system reports from the host (the gofer's
 * rdev, in glibc's 64-bit dev_t encoding): the sandbox's own device with that number where
 * it emulates one (1:3 null, 1:5 zero, 1:8 random, 5:0 tty, ...), else ENXIO, as openDevice
 * does; the host's device is never opened. A number the kernel's 32-bit encoding cannot
 * hold (major past 4095, minor past 2^20) names no emulated device: ENXIO. */
export function openNodeOfHost(node: Inode, rdev: number, block: boolean, loc: Location, flags: number): FileDescription {
  const lo = rdev % 0x100000000, hi = Math.floor(rdev / 0x100000000);
  const major = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const minor = ((lo & 0xff) | (((lo >>> 20) & 0xfff) << 8) | ((hi & 0xfff) << 20)) >>> 0;
  if (major > 0xfff || minor > 0xfffff) return fail(Errno.ENXIO);
  return openDevice(node, mkdev(major, minor), block, loc, flags);
}
