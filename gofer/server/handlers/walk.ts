/**
 * Lookups and attributes: Twalk, Tgetattr, Treadlink, Tstatfs.
 */
import { Errno } from '../../../native/libc';
import * as sys from '../../hostfs/sys';
import { GetattrMask, type Qid } from '../../p9';
import { asCaller } from '../caller';
import { File, qidOf, walkOne } from '../file';
import { isErr, reply, type HandlerTable } from './types';

/** makedev encodes a device number as glibc's dev_t, the encoding 9P peers send. */
export function makedev(major: number, minor: number): number {
  const hi = ((major & 0xfffff000) >>> 0) * 0x100000000 + ((minor & 0xffffff00) >>> 0) * 0x1000;
  return hi + ((major & 0xfff) << 8) + (minor & 0xff);
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

  Tgetattr(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const st = sys.fstat(fid.file.fd);
    if (isErr(st)) return st;
    const exp = fid.file.exp;
    const qid = qidOf(exp, st);
    fid.file.mode = st.mode;
    // Owners as the container sees them: mapped back, 65534 when outside the mappings,
    // and said so in 9P2000.L.fd (no capability of the container applies to such a file).
    const ids = s.exports.ids;
    const uid = ids.uid.toContainer(st.uid), gid = ids.gid.toContainer(st.gid);
    const unmapped = s.fdPassing && !(ids.uid.mapsHost(st.uid) && ids.gid.mapsHost(st.gid));
    const valid = GetattrMask.BASIC | GetattrMask.BTIME | (unmapped ? GetattrMask.UNMAPPED : 0);
    return reply('Rgetattr', {
      valid, qid, mode: st.mode, uid, gid, nlink: st.nlink,
      rdev: makedev(st.rdevMajor, st.rdevMinor), size: st.size, blksize: st.blksize, blocks: st.blocks,
      atimeSec: Math.max(0, st.atimeSec), atimeNsec: st.atimeNsec, mtimeSec: Math.max(0, st.mtimeSec), mtimeNsec: st.mtimeNsec,
      ctimeSec: Math.max(0, st.ctimeSec), ctimeNsec: st.ctimeNsec, btimeSec: Math.max(0, st.btimeSec), btimeNsec: st.btimeNsec,
      gen: 0n, dataVersion: 0n,
    });
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
