/**
 * Lookups and attributes: Twalk, Twalkstat, Treaddirstat, Tgetattr, Treadlink, Tstatfs.
 */
import { Errno } from '../../../native/libc';
import * as sys from '../../hostfs/sys';
import { GetattrMask, MAX_DIRSTATS, NOFID, type Body, type Qid } from '../../p9';
import { listDirStat } from '../../hostfs/dirstat';
import { asCaller } from '../caller';
import type { Export } from '../export';
import { File, qidOf, walkOne, walkOneStat } from '../file';
import { MAX_FIDS, type Session } from '../session';
import { isErr, reply, type HandlerTable, type Reply } from './types';
import { PHASES, phaseAdd } from '../../../native/phases';

/** makedev encodes a device number as glibc's dev_t, the encoding 9P peers send. */
export function makedev(major: number, minor: number): number {
  const hi = ((major & 0xfffff000) >>> 0) * 0x100000000 + ((minor & 0xffffff00) >>> 0) * 0x1000;
  return hi + ((major & 0xfff) << 8) + (minor & 0xff);
}

/** attrOf is what Rgetattr says of a file with stat `st` in export `exp`: owners as the
 * container sees them (mapped back, 65534 when outside the mappings, and said so in
 * 9P2000.L.fd: no capability of the container applies to such a file). */
function attrOf(s: Session, exp: Export, st: sys.Stat): Body<'Rgetattr'> {
  const ids = s.exports.ids;
  const uid = ids.uid.toContainer(st.uid), gid = ids.gid.toContainer(st.gid);
  const unmapped = s.fdPassing && !(ids.uid.mapsHost(st.uid) && ids.gid.mapsHost(st.gid));
  const valid = GetattrMask.BASIC | GetattrMask.BTIME | (unmapped ? GetattrMask.UNMAPPED : 0);
  return {
    valid, qid: qidOf(exp, st), mode: st.mode, uid, gid, nlink: st.nlink,
    rdev: makedev(st.rdevMajor, st.rdevMinor), size: st.size, blksize: st.blksize, blocks: st.blocks,
    atimeSec: Math.max(0, st.atimeSec), atimeNsec: st.atimeNsec, mtimeSec: Math.max(0, st.mtimeSec), mtimeNsec: st.mtimeNsec,
    ctimeSec: Math.max(0, st.ctimeSec), ctimeNsec: st.ctimeNsec, btimeSec: Math.max(0, st.btimeSec), btimeNsec: st.btimeNsec,
    gen: 0n, dataVersion: 0n,
  };
}

/** DIRSTAT_HEADER is Rreaddirstat's header and fields before its entries (size type tag
 * next n); each entry is its name and an Rgetattr body (ATTR_SIZE). */
const DIRSTAT_HEADER = 13;

/** listStat lists directory `dir` for Treaddirstat (as the caller: see there): the
 * entries and their attributes in one native call (hostfs/dirstat.ts), in wire form. */
function listStat(s: Session, dir: File, offset: number, count: number): Reply | number {
  const fd = dir.reopen(sys.O_RDONLY | sys.O_DIRECTORY);
  if (fd < 0) return fd;
  try {
    const l0 = PHASES.on ? performance.now() : 0;
    const r = listDirStat(fd, offset, count, s.msize - DIRSTAT_HEADER, s.exports.ids, dir.exp, s.fdPassing);
    if (PHASES.on) phaseAdd('gofer:list', performance.now() - l0);
    return isErr(r) ? r : { kind: 'Rreaddirstat', next: r.next, entries: r.entries };
  } finally {
    sys.close(fd);
  }
}

export const walkHandlers: HandlerTable = {
  // Twalk walks up to 16 names from fid; newfid gets the last File. A failure on the
  // first name is an error; a later one answers the qids walked so far.
  Twalk(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (m.newfid !== m.fid && s.fids.has(m.newfid)) return -Errno.EBADF;
    // Walking from an opened fid is tolerated (diod and Linux do it); replacing one is not.
    if (fid.xattr || (fid.open && m.newfid === m.fid)) return -Errno.EBADF;
    let cur: File = fid.file;
    const qids: Qid[] = [];
    let err = 0;
    for (const name of m.names) {
      // Looking a name up takes search permission on the directory: as the caller.
      const from = cur;
      const next = asCaller(s, [from], () => walkOne(from, name));
      if (isErr(next)) {
        err = next;
        break;
      }
      if (cur !== fid.file) cur.close();
      cur = next;
      qids.push(next.qid);
    }
    if (qids.length < m.names.length) {
      if (cur !== fid.file) cur.close();
      return qids.length === 0 ? err : reply('Rwalk', { qids });
    }
    if (m.names.length === 0) {
      // A clone: the new fid names the same File through its own descriptor.
      const f = fid.file;
      const fd = sys.dupCloexec(f.fd);
      if (fd < 0) return fd;
      cur = new File(f.exp, fd, f.mode, f.qid, f.parent, f.name);
    }
    if (m.newfid === m.fid) {
      fid.file.close();
      fid.file = cur;
    } else {
      const e = s.addFid(m.newfid, { file: cur, uid: fid.uid });
      if (e < 0) {
        cur.close();
        return e;
      }
    }
    return reply('Rwalk', { qids });
  },

  // Twalkstat (9P2000.L.fd): names walked one below the other from fid, each exactly as
  // Twalk walks one name (confined, as the caller), with its attributes as Tgetattr reads
  // them; newfids[i] (unless NOFID) gets the File of names[i], the others are closed. The
  // fids are checked before anything is walked: each new one unused, none twice. A failure
  // on the first name is an error; a later one answers the attributes read so far.
  Twalkstat(s, m) {
    if (!s.fdPassing) return -Errno.EOPNOTSUPP;
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (m.names.length === 0 || m.newfids.length !== m.names.length) return -Errno.EINVAL;
    if (fid.xattr) return -Errno.EBADF;
    const fresh = new Set<number>();
    for (const n of m.newfids) {
      if (n === NOFID) continue;
      if (s.fids.has(n) || fresh.has(n)) return -Errno.EBADF;
      fresh.add(n);
    }
    if (s.fids.size + fresh.size > MAX_FIDS) return -Errno.EMFILE;
    const attrs: Array<Body<'Rgetattr'>> = [];
    let cur: File = fid.file;
    let err = 0;
    for (let i = 0; i < m.names.length; i++) {
      const from = cur, name = m.names[i];
      const next = asCaller(s, [from], () => walkOneStat(from, name));
      if (isErr(next)) {
        err = next;
        break;
      }
      if (cur !== fid.file) cur.close();
      cur = next.file;
      next.file.mode = next.st.mode;
      attrs.push(attrOf(s, next.file.exp, next.st));
      if (m.newfids[i] !== NOFID) s.addFid(m.newfids[i], { file: cur.ref(), uid: fid.uid });
    }
    if (cur !== fid.file) cur.close();
    return attrs.length === 0 ? err : reply('Rwalkstat', { attrs });
  },

  // Treaddirstat (9P2000.L.fd): the entries of the directory fid (not `.` nor `..`), each
  // with the attributes Tgetattr would read of it after a Twalk of its name: each is read
  // as the one entry of that name beneath the directory (hostfs/dirstat.ts: one component,
  // a symlink's own attributes, never followed), and the directory is listed and searched
  // as the caller (read and search permission, checked by the host). No fid is made. `offset` entries are skipped and at
  // most `count` (and MAX_DIRSTATS, and what fits in msize) returned; `next` says where to
  // go on, 0 at the end. An entry gone between listing and lookup is left out.
  Treaddirstat(s, m) {
    if (!s.fdPassing) return -Errno.EOPNOTSUPP;
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (fid.xattr) return -Errno.EBADF;
    if (m.count === 0) return -Errno.EINVAL;
    if (!fid.file.isDir) return -Errno.ENOTDIR;
    const dir = fid.file;
    return asCaller(s, [dir], () => listStat(s, dir, m.offset, Math.min(m.count, MAX_DIRSTATS)));
  },

  Tgetattr(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const st = sys.fstat(fid.file.fd);
    if (isErr(st)) return st;
    fid.file.mode = st.mode;
    return reply('Rgetattr', attrOf(s, fid.file.exp, st));
  },

  Treadlink(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (!fid.file.isSymlink) return -Errno.EINVAL;
    const target = sys.readlink(fid.file.fd);
    if (isErr(target)) return target;
    return reply('Rreadlink', { target });
  },

  Tstatfs(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const st = sys.fstatfs(fid.file.fd);
    if (isErr(st)) return st;
    return reply('Rstatfs', {
      fsType: st.type, bsize: st.bsize, blocks: st.blocks, bfree: st.bfree, bavail: st.bavail,
      files: st.files, ffree: st.ffree, fsid: st.fsid, namelen: st.namelen,
    });
  },
};
