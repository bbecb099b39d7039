import { encodeStat, encodeStatx } from './util';
import type { Stat } from '../../../vfs/inode';

/** statOf is a Stat with values that need every byte of their fields: a large inode
 * number and device, negative times (before 1970), a size over 4 GiB. */
function statOf(over: Partial<Stat> = {}): Stat {
  return {
    dev: 0x1_2345_6789, ino: 2 ** 48 - 3, mode: 0o100644, nlink: 3, uid: 1000, gid: 0xfffffffe, rdev: 0x8_0000_0001,
    size: 5 * 2 ** 32 + 7, blksize: 4096, blocks: 2 ** 33, atime: { sec: -1, nsec: 999_999_999 },
    mtime: { sec: -(2 ** 40) - 5, nsec: 0 }, ctime: { sec: 1_700_000_000, nsec: 1 }, unmapped: false, ...over,
  };
}

/** referenceStat is struct stat laid out with BigInt writes (the encoding before put64). */
function referenceStat(s: Stat): Buffer {
  const b = Buffer.alloc(144);
  b.writeBigUInt64LE(BigInt(s.dev), 0);
  b.writeBigUInt64LE(BigInt(s.ino), 8);
  b.writeBigUInt64LE(BigInt(s.nlink), 16);
  b.writeUInt32LE(s.mode >>> 0, 24);
  b.writeUInt32LE(s.uid >>> 0, 28);
  b.writeUInt32LE(s.gid >>> 0, 32);
  b.writeBigUInt64LE(BigInt(s.rdev), 40);
  b.writeBigInt64LE(BigInt(s.size), 48);
  b.writeBigInt64LE(BigInt(s.blksize), 56);
  b.writeBigInt64LE(BigInt(s.blocks), 64);
  b.writeBigInt64LE(BigInt(s.atime.sec), 72);
  b.writeBigInt64LE(BigInt(s.atime.nsec), 80);
  b.writeBigInt64LE(BigInt(s.mtime.sec), 88);
  b.writeBigInt64LE(BigInt(s.mtime.nsec), 96);
  b.writeBigInt64LE(BigInt(s.ctime.sec), 104);
  b.writeBigInt64LE(BigInt(s.ctime.nsec), 112);
  return b;
}

describe('encodeStat', () => {
  it('lays out struct stat byte for byte as BigInt writes do, padding and reserved words zero', () => {
    // Dirty the buffer pool first: encodeStat takes its buffer from it unzeroed.
    Buffer.allocUnsafe(144).fill(0xaa);
    for (const s of [statOf(), statOf({ dev: 0, ino: 1, size: 0, blocks: 0, atime: { sec: 0, nsec: 0 } }), statOf({ mtime: { sec: -(2 ** 52), nsec: 5 } })]) {
      expect(encodeStat(s).equals(referenceStat(s))).toBe(true);
    }
  });
});

describe('encodeStatx', () => {
  it('writes the 64-bit fields in full, negative seconds sign-extended', () => {
    const s = statOf();
    const b = encodeStatx(s);
    expect(b.length).toBe(256);
    expect(b.readBigUInt64LE(32)).toBe(BigInt(s.ino));
    expect(b.readBigUInt64LE(40)).toBe(BigInt(s.size));
    expect(b.readBigUInt64LE(48)).toBe(BigInt(s.blocks));
    expect(b.readBigInt64LE(64)).toBe(-1n);
    expect(b.readUInt32LE(72)).toBe(999_999_999);
    expect(b.readBigInt64LE(112)).toBe(BigInt(s.mtime.sec));
    expect(b.readBigInt64LE(96)).toBe(1_700_000_000n);
  });
});
