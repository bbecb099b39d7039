/**
 * listDirStat: a directory's entries with their attributes, as Rreaddirstat's wire
 * entries, in one native call (native/fs/dirstat.cc: getdents64, then a statx of each
 * entry beneath the directory) instead of a koffi call and two objects per entry.
 *
 * Confinement as in sys.ts: nothing is opened or resolved but single components read
 * from the directory itself, relative to its descriptor, never following a symlink.
 */
import { loadFsAddon } from '../../native/fs/fs-native';
import { ATTR_SIZE, EncodedDirStats, GetattrMask } from '../p9';
import type { IdMaps } from '../../oci/idmap';

/** MAX_ENTRY is the most bytes one entry takes (a name of 255 bytes). */
const MAX_ENTRY = 2 + 255 + ATTR_SIZE;

/** DirStatListing is one listing: its entries in wire form and where to go on (0: done). */
export interface DirStatListing {
  entries: EncodedDirStats;
  next: number;
}

const state = new Uint32Array(2);

/**
 * listDirStat lists directory descriptor `dirfd` (fresh: read from its start), skipping
 * `skip` entries (not `.` nor `..`) and returning at most `max` of the rest in at most
 * `room` bytes, each with the attributes Tgetattr would give (valid BASIC|BTIME, plus
 * UNMAPPED with `unmapped` when its owner or group is outside `ids`), owners mapped into
 * the container's view; the export is on device expDev. Returns the listing or -errno.
 */
export function listDirStat(dirfd: number, skip: number, max: number, room: number, ids: IdMaps,
  expDev: { devMajor: number; devMinor: number }, unmapped: boolean): DirStatListing | number {
  for (const [what, v] of [['dirfd', dirfd], ['skip', skip], ['max', max], ['room', room], ['devMajor', expDev.devMajor], ['devMinor', expDev.devMinor]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`listDirStat: ${what} ${v} is not a u32`);
  }
  const addon = loadFsAddon();
  if (addon.attrSize !== ATTR_SIZE) throw new Error(`tvisor_fs.node: attribute body of ${addon.attrSize} bytes, the codec's is ${ATTR_SIZE}`);
  const out = Buffer.allocUnsafe(Math.min(room, max * MAX_ENTRY));
  const valid = GetattrMask.BASIC | GetattrMask.BTIME;
  // SAFETY: the addon writes only inside `out` (its length bounds every entry) and
  // `state` (two u32); dirfd is the caller's open directory descriptor.
  const n = addon.listStat(dirfd, skip, max, out, valid, expDev.devMajor, expDev.devMinor, state);
  if (n < 0) return n;
  const count = state[0], next = state[1];
  const bytes = out.subarray(0, n);
  if (!(ids.uid.identity && ids.gid.identity)) mapOwners(bytes, count, ids, unmapped);
  return { entries: new EncodedDirStats(count, bytes), next };
}

/** mapOwners rewrites the host owners of `count` wire entries in `b` into the container's
 * view (as attrOf in handlers/walk.ts), adding UNMAPPED to valid when asked. */
function mapOwners(b: Buffer, count: number, ids: IdMaps, unmapped: boolean): void {
  for (let i = 0, p = 0; i < count; i++) {
    const a = p + 2 + b.readUInt16LE(p);
    const uid = b.readUInt32LE(a + 25), gid = b.readUInt32LE(a + 29);
    b.writeUInt32LE(ids.uid.toContainer(uid) >>> 0, a + 25);
    b.writeUInt32LE(ids.gid.toContainer(gid) >>> 0, a + 29);
    if (unmapped && !(ids.uid.mapsHost(uid) && ids.gid.mapsHost(gid))) {
      // valid is a u64: UNMAPPED (bit 30) is in its low half.
      b.writeUInt32LE((b.readUInt32LE(a) | GetattrMask.UNMAPPED) >>> 0, a);
    }
    p = a + ATTR_SIZE;
  }
}
