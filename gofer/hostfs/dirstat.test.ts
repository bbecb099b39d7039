/**
 * Tests of the gofer's native listing (dirstat.ts, native/fs/dirstat.cc): each entry it
 * writes decodes to the attributes the per-entry path gives (sys.statAt, the tested
 * statx reader, and qidOf), byte for byte through the codec: files of every type, a
 * symlink as itself, times before 1970, a size beyond 32 bits; owners mapped with UNMAPPED
 * when outside the mappings; a file on another device than the export's keeps a unique
 * qid path; paging by skip and max, by room, and across several getdents64 reads.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sys from './sys';
import { listDirStat } from './dirstat';
import { decode, encode, GetattrMask, QidType, type DirStat, type Message } from '../p9';
import { IDENTITY_MAPS, IdMap, type IdMaps } from '../../oci/idmap';

describe('gofer native listing (listDirStat)', () => {
  let dir: string;
  let dev: { devMajor: number; devMinor: number };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-dirstat-test-'));
    const big = path.join(dir, 'big');
    fs.writeFileSync(big, 'x');
    fs.truncateSync(big, 5 * 2 ** 32 + 12345);
    execFileSync('touch', ['-a', '-d', '1969-01-01 00:00:00.75 UTC', big]);
    execFileSync('touch', ['-m', '-d', '2242-03-16 12:56:32.5 UTC', big]);
    fs.symlinkSync('/etc/shadow', path.join(dir, 'link'));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'owned'), 'abc');
    fs.chownSync(path.join(dir, 'owned'), 1005, 2005);
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    if (process.getuid?.() === 0) execFileSync('mknod', [path.join(dir, 'null'), 'c', '1', '3']);
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, `f${i}`), 'y'.repeat(i));
    const st = sys.fstat(dirfdOf(dir)) as sys.Stat;
    dev = { devMajor: st.devMajor, devMinor: st.devMinor };
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const fds: number[] = [];
  afterEach(() => {
    for (const fd of fds.splice(0)) sys.close(fd);
  });

  /** dirfdOf opens `p` for listing (closed after the test). */
  function dirfdOf(p: string): number {
    const fd = sys.openat(sys.AT_FDCWD, p, sys.O_RDONLY | sys.O_DIRECTORY);
    expect(fd).toBeGreaterThanOrEqual(0);
    fds.push(fd);
    return fd;
  }

  /** list lists `p` natively and decodes the entries through the codec. */
  function list(p: string, opts: { skip?: number; max?: number; room?: number; ids?: IdMaps; expDev?: typeof dev; unmapped?: boolean } = {}) {
    const r = listDirStat(dirfdOf(p), opts.skip ?? 0, opts.max ?? 4096, opts.room ?? 1 << 20, opts.ids ?? IDENTITY_MAPS, opts.expDev ?? dev, opts.unmapped ?? true);
    if (typeof r === 'number') throw new Error(`listDirStat: errno ${-r}`);
    const frame = encode({ kind: 'Rreaddirstat', tag: 1, next: r.next, entries: r.entries } as unknown as Message);
    const m = decode(frame) as Message<'Rreaddirstat'>;
    return { next: m.next, entries: m.entries, frame };
  }

  /** expected is the attributes the per-entry path reads of `name` (handlers/walk.ts attrOf). */
  function expected(name: string, ids: IdMaps = IDENTITY_MAPS, expDev = dev): DirStat['attr'] {
    const st = sys.statAt(dirfdOf(dir), name) as sys.Stat;
    const fmt = st.mode & sys.S_IFMT;
    let qpath = st.ino;
    if (st.devMajor !== expDev.devMajor || st.devMinor !== expDev.devMinor) qpath ^= BigInt((st.devMajor << 12) | (st.devMinor & 0xfff)) << 48n;
    const unmapped = !(ids.uid.mapsHost(st.uid) && ids.gid.mapsHost(st.gid));
    const rdev = st.rdevMajor * 256 + st.rdevMinor; // makedev for majors and minors below 256
    return {
      valid: GetattrMask.BASIC | GetattrMask.BTIME | (unmapped ? GetattrMask.UNMAPPED : 0),
      qid: { type: fmt === sys.S_IFDIR ? QidType.DIR : fmt === sys.S_IFLNK ? QidType.SYMLINK : QidType.FILE, version: 0, path: BigInt.asUintN(64, qpath) },
      mode: st.mode, uid: ids.uid.toContainer(st.uid), gid: ids.gid.toContainer(st.gid), nlink: st.nlink, rdev,
      size: st.size, blksize: st.blksize, blocks: st.blocks,
      atimeSec: Math.max(0, st.atimeSec), atimeNsec: st.atimeNsec, mtimeSec: Math.max(0, st.mtimeSec), mtimeNsec: st.mtimeNsec,
      ctimeSec: Math.max(0, st.ctimeSec), ctimeNsec: st.ctimeNsec, btimeSec: Math.max(0, st.btimeSec), btimeNsec: st.btimeNsec,
      gen: 0n, dataVersion: 0n,
    };
  }

  it('gives every entry (not . nor ..) with the attributes the per-entry path reads', () => {
    const { next, entries } = list(dir);
    expect(next).toBe(0);
    expect(entries.map((e) => e.name).sort()).toEqual(fs.readdirSync(dir).sort());
    for (const e of entries) expect(e.attr).toEqual(expected(e.name));
    const link = entries.find((e) => e.name === 'link')!;
    expect(link.attr.mode & sys.S_IFMT).toBe(sys.S_IFLNK); // the link's own, never /etc/shadow's
    expect(link.attr.size).toBe('/etc/shadow'.length);
    const big = entries.find((e) => e.name === 'big')!;
    expect(big.attr.size).toBe(5 * 2 ** 32 + 12345);
    expect(big.attr.atimeSec).toBe(0); // before 1970: 0, as the encoder writes it
    if (process.getuid?.() === 0) expect(entries.find((e) => e.name === 'null')!.attr.rdev).toBe(0x103);
  });

  it('maps owners into the container and marks the unmapped ones', () => {
    const ids: IdMaps = { uid: IdMap.parse(['0:1000:10']), gid: IdMap.parse(['0:2000:10']) };
    const { entries } = list(dir, { ids });
    for (const e of entries) expect(e.attr).toEqual(expected(e.name, ids));
    const owned = entries.find((e) => e.name === 'owned')!;
    expect([owned.attr.uid, owned.attr.gid]).toEqual([5, 5]);
    expect(owned.attr.valid & GetattrMask.UNMAPPED).toBe(0);
    const f0 = entries.find((e) => e.name === 'f0')!;
    if (fs.statSync(path.join(dir, 'f0')).uid === 0) expect(f0.attr.uid).toBe(65534); // host 0 is outside the mapping
    expect(f0.attr.valid & GetattrMask.UNMAPPED).toBe(GetattrMask.UNMAPPED);
    // Without UNMAPPED asked (plain 9P2000.L peers), owners are still mapped.
    const plain = list(dir, { ids, unmapped: false });
    expect(plain.entries.every((e) => (e.attr.valid & GetattrMask.UNMAPPED) === 0)).toBe(true);
  });

  it('keeps qid paths unique for files on another device than the export', () => {
    const other = { devMajor: dev.devMajor + 1, devMinor: dev.devMinor + 7 };
    const { entries } = list(dir, { expDev: other });
    for (const e of entries) expect(e.attr).toEqual(expected(e.name, IDENTITY_MAPS, other));
    const f1 = entries.find((e) => e.name === 'f1')!;
    const ino = fs.lstatSync(path.join(dir, 'f1'), { bigint: true }).ino;
    expect(f1.attr.qid.path).not.toBe(ino);
    expect(f1.attr.qid.path & 0xffffffffffffn).toBe(ino & 0xffffffffffffn);
  });

  it('pages by skip and max, and by room, saying where to go on', () => {
    const all = list(dir).entries.map((e) => e.name);
    const first = list(dir, { max: 10 });
    expect(first.entries.map((e) => e.name)).toEqual(all.slice(0, 10));
    expect(first.next).toBe(10);
    const rest = list(dir, { skip: first.next });
    expect(rest.entries.map((e) => e.name)).toEqual(all.slice(10));
    expect(rest.next).toBe(0);
    // Room for two entries and a bit: the third does not fit.
    const room = (2 + Buffer.byteLength(all[0]) + 153) + (2 + Buffer.byteLength(all[1]) + 153) + 100;
    const small = list(dir, { room });
    expect(small.entries.map((e) => e.name)).toEqual(all.slice(0, 2));
    expect(small.next).toBe(2);
    expect(list(dir, { skip: 1000 }).entries).toEqual([]);
  });

  it('reads a directory larger than one getdents64 buffer', () => {
    const many = path.join(dir, 'sub');
    for (let i = 0; i < 2000; i++) fs.writeFileSync(path.join(many, `entry-with-a-longer-name-${i}`), '');
    const { next, entries } = list(many);
    expect(next).toBe(0);
    expect(entries).toHaveLength(2000);
    expect(new Set(entries.map((e) => e.name))).toEqual(new Set(fs.readdirSync(many)));
  });

  it('answers an errno for a descriptor that is not a directory, and checks its arguments', () => {
    const fd = sys.openat(sys.AT_FDCWD, path.join(dir, 'f3'), sys.O_RDONLY);
    fds.push(fd);
    expect(listDirStat(fd, 0, 10, 4096, IDENTITY_MAPS, dev, true)).toBe(-20); // ENOTDIR
    expect(() => listDirStat(-1, 0, 10, 4096, IDENTITY_MAPS, dev, true)).toThrow(/dirfd -1 is not a u32/);
    expect(() => listDirStat(fd, 0.5, 10, 4096, IDENTITY_MAPS, dev, true)).toThrow(/skip 0.5/);
  });
});
