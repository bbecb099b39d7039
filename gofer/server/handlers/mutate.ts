/**
 * Changes to the tree: Tmkdir, Tsymlink, Tmknod, Trename, Trenameat, Tunlinkat, Tremove,
 * Tlink, Tsetattr. Every one answers EROFS on a read-only export. Names are single
 * components (validNewName); every directory is a fid's File, inside its export.
 */
import { Errno } from '../../../native/libc';
import * as sys from '../../hostfs/sys';
import { SetattrMask, type Body, type Qid } from '../../p9';
import { asCaller, victim } from '../caller';
import { CAP_DAC_READ_SEARCH } from '../../hostfs/creds';
import { File, qidOf, validNewName } from '../file';
import type { Fid, Session } from '../session';
import { isErr, reply, type HandlerTable } from './types';

/** dirFid returns a writable directory fid, or -errno. */
function dirFid(s: Session, n: number): Fid | number {
  const fid = s.fid(n);
  if (isErr(fid)) return fid;
  if (!fid.file.isDir) return -Errno.ENOTDIR;
  if (fid.file.exp.readonly) return -Errno.EROFS;
  return fid;
}

/**
 * created stats a just-created name and returns its qid. A file made for a caller
 * (9P2000.L.fd) already belongs to the caller's host ids; otherwise it is given to the
 * fid's user and the group asked for, both mapped to host ids.
 */
function created(s: Session, dir: Fid, name: string, gid: number): Qid | number {
  const fd = sys.lookup(dir.file.fd, name);
  if (fd < 0) return fd;
  try {
    const r = s.caller ? 0 : chownNew(s, fd, dir.uid, gid);
    if (r < 0) return r;
    const st = sys.fstat(fd);
    return isErr(st) ? st : qidOf(dir.file.exp, st);
  } finally {
    sys.close(fd);
  }
}

/** chownNew gives a file made without a caller to container ids uid and gid (as host ids). */
export function chownNew(s: Session, fd: number, uid: number, gid: number): number {
  if (sys.geteuid() !== 0) return 0;
  const hu = s.exports.ids.uid.toHost(uid), hg = s.exports.ids.gid.toHost(gid);
  if (hu < 0 || hg < 0) return -Errno.EINVAL;
  sys.fchownat(fd, hu, hg);
  return 0;
}

/** sameExport refuses renames and links across exports (EXDEV, as across mounts). */
function sameExport(a: File, b: File): number {
  return a.exp === b.exp ? 0 : -Errno.EXDEV;
}

export const mutateHandlers: HandlerTable = {
  Tmkdir(s, m) {
    const dir = dirFid(s, m.dfid);
    if (isErr(dir)) return dir;
    const v = validNewName(m.name);
    if (v < 0) return v;
    const r = asCaller(s, [dir.file], () => sys.mkdirat(dir.file.fd, m.name, m.mode & 0o7777));
    if (r < 0) return r;
    const qid = created(s, dir, m.name, m.gid);
    return isErr(qid) ? qid : reply('Rmkdir', { qid });
  },

  // Tsymlink stores target as given: the gofer never resolves it.
  Tsymlink(s, m) {
    const dir = dirFid(s, m.fid);
    if (isErr(dir)) return dir;
    const v = validNewName(m.name);
    if (v < 0) return v;
    if (m.target.length === 0 || m.target.includes('\0')) return -Errno.EINVAL;
    if (Buffer.byteLength(m.target) >= 4096) return -Errno.ENAMETOOLONG;
    const r = asCaller(s, [dir.file], () => sys.symlinkat(m.target, dir.file.fd, m.name));
    if (r < 0) return r;
    const qid = created(s, dir, m.name, m.gid);
    return isErr(qid) ? qid : reply('Rsymlink', { qid });
  },

  // Tmknod makes regular files, FIFOs and sockets; device nodes are refused.
  Tmknod(s, m) {
    const dir = dirFid(s, m.dfid);
    if (isErr(dir)) return dir;
    const v = validNewName(m.name);
    if (v < 0) return v;
    const fmt = m.mode & sys.S_IFMT;
    if (fmt === sys.S_IFCHR || fmt === sys.S_IFBLK) return -Errno.EPERM;
    if (fmt !== sys.S_IFREG && fmt !== sys.S_IFIFO && fmt !== sys.S_IFSOCK && fmt !== 0) return -Errno.EINVAL;
    const r = asCaller(s, [dir.file], () => sys.mknodat(dir.file.fd, m.name, (fmt || sys.S_IFREG) | (m.mode & 0o7777)));
    if (r < 0) return r;
    const qid = created(s, dir, m.name, m.gid);
    return isErr(qid) ? qid : reply('Rmknod', { qid });
  },

  Trename(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const dir = dirFid(s, m.dfid);
    if (isErr(dir)) return dir;
    const v = validNewName(m.name) || sameExport(fid.file, dir.file);
    if (v < 0) return v;
    const parent = fid.file.parent;
    if (!parent) return -Errno.EBUSY;
    const r = asCaller(s, [parent, dir.file, victim(parent, fid.file.name), victim(dir.file, m.name)], () => sys.renameat(parent.fd, fid.file.name, dir.file.fd, m.name));
    if (r < 0) return r;
    fid.file.setParent(dir.file, m.name);
    return reply('Rrename', {});
  },

  Trenameat(s, m) {
    const od = dirFid(s, m.oldDirFid);
    if (isErr(od)) return od;
    const nd = dirFid(s, m.newDirFid);
    if (isErr(nd)) return nd;
    const v = validNewName(m.oldName) || validNewName(m.newName) || sameExport(od.file, nd.file);
    if (v < 0) return v;
    const r = asCaller(s, [od.file, nd.file, victim(od.file, m.oldName), victim(nd.file, m.newName)], () =>
      sys.renameat(od.file.fd, m.oldName, nd.file.fd, m.newName));
    return r < 0 ? r : reply('Rrenameat', {});
  },

  Tunlinkat(s, m) {
    const dir = dirFid(s, m.dirFid);
    if (isErr(dir)) return dir;
    const v = validNewName(m.name);
    if (v < 0) return v;
    if ((m.flags & ~sys.AT_REMOVEDIR) !== 0) return -Errno.EINVAL;
    const r = asCaller(s, [dir.file, victim(dir.file, m.name)], () => sys.unlinkat(dir.file.fd, m.name, m.flags));
    return r < 0 ? r : reply('Runlinkat', {});
  },

  // Tremove removes fid's file and clunks fid, even when the removal fails.
  Tremove(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const f = fid.file;
    let r = 0;
    if (f.exp.readonly) r = -Errno.EROFS;
    else if (!f.parent) r = -Errno.EBUSY;
    else {
      const parent = f.parent;
      r = asCaller(s, [parent, victim(parent, f.name)], () => sys.unlinkat(parent.fd, f.name, f.isDir ? sys.AT_REMOVEDIR : 0));
    }
    s.releaseFid(m.fid);
    return r < 0 ? r : reply('Rremove', {});
  },

  Tlink(s, m) {
    const dir = dirFid(s, m.dfid);
    if (isErr(dir)) return dir;
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const v = validNewName(m.name) || sameExport(fid.file, dir.file);
    if (v < 0) return v;
    if (fid.file.isDir) return -Errno.EPERM;
    // AT_EMPTY_PATH links the file the fid's descriptor names (never following a symlink);
    // it takes CAP_DAC_READ_SEARCH, which overrides no check of linkat's own (the host's
    // protected_hardlinks asks for ownership or CAP_FOWNER).
    const r = asCaller(s, [fid.file, dir.file], () => sys.linkat(fid.file.fd, '', dir.file.fd, m.name, sys.AT_EMPTY_PATH), 1 << CAP_DAC_READ_SEARCH);
    return r < 0 ? r : reply('Rlink', {});
  },

  Tsetattr(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const f = fid.file;
    if (f.exp.readonly) return -Errno.EROFS;
    const v = m.valid;
    const ids = s.exports.ids;
    const uid = v & SetattrMask.UID ? ids.uid.toHost(m.uid) : -1;
    const gid = v & SetattrMask.GID ? ids.gid.toHost(m.gid) : -1;
    if ((v & SetattrMask.UID && uid < 0) || (v & SetattrMask.GID && gid < 0)) return -Errno.EINVAL;
    const r = asCaller(s, [f], () => setattr(f, m, uid, gid));
    return r < 0 ? r : reply('Rsetattr', {});
  },
};

/** setattr applies a Tsetattr to f (uid and gid already host ids, -1 = unchanged); 0 or -errno. */
function setattr(f: File, m: Body<'Tsetattr'>, uid: number, gid: number): number {
  const v = m.valid;
  if (v & SetattrMask.MODE) {
    if (f.isSymlink) return -Errno.EOPNOTSUPP;
    const r = sys.fchmod(f.fd, m.mode & 0o7777);
    if (r < 0) return r;
  }
  if (v & (SetattrMask.UID | SetattrMask.GID)) {
    const r = sys.fchownat(f.fd, uid, gid);
    if (r < 0) return r;
  }
  if (v & SetattrMask.SIZE) {
    if (f.isDir) return -Errno.EISDIR;
    const fd = f.reopen(sys.O_WRONLY);
    if (fd < 0) return fd;
    const r = sys.ftruncate(fd, m.size);
    sys.close(fd);
    if (r < 0) return r;
  }
  if (v & (SetattrMask.ATIME | SetattrMask.MTIME)) {
    const omit: [number, number] = [0, sys.UTIME_OMIT];
    const now: [number, number] = [0, sys.UTIME_NOW];
    const at: [number, number] = !(v & SetattrMask.ATIME) ? omit : v & SetattrMask.ATIME_SET ? [m.atimeSec, m.atimeNsec] : now;
    const mt: [number, number] = !(v & SetattrMask.MTIME) ? omit : v & SetattrMask.MTIME_SET ? [m.mtimeSec, m.mtimeNsec] : now;
    if (at[1] >= 1e9 && at[1] !== sys.UTIME_OMIT && at[1] !== sys.UTIME_NOW) return -Errno.EINVAL;
    if (mt[1] >= 1e9 && mt[1] !== sys.UTIME_OMIT && mt[1] !== sys.UTIME_NOW) return -Errno.EINVAL;
    const r = sys.utimens(f.fd, at, mt);
    if (r < 0) return r;
  }
  return 0;
}
