/**
 * Extended attributes: Txattrwalk (read one attribute, or the list with an empty name)
 * and Txattrcreate (then Twrite the value, set on Tclunk). Attributes are read and set
 * through a re-opened descriptor of a regular file or directory; symlinks have none here.
 * Both are made as the session's caller: reading takes a descriptor the caller may open
 * for reading (stricter than Linux for a list, which the sentry never asks for).
 */
import { Errno } from '../../../native/libc';
import * as sys from '../../hostfs/sys';
import { asCaller } from '../caller';
import { asOwn } from '../../hostfs/creds';
import type { Fid, Session } from '../session';
import { isErr, reply, type HandlerTable } from './types';

/** MAX_XATTR is the largest attribute value accepted (the Linux limit). */
const MAX_XATTR = 65536;

function withOpen<T>(fid: Fid, fn: (fd: number) => T): T | number {
  const fd = fid.file.reopen(sys.O_RDONLY);
  if (fd < 0) return fd === -Errno.ELOOP || fd === -Errno.EOPNOTSUPP ? -Errno.ENODATA : fd;
  try {
    return fn(fd);
  } finally {
    sys.close(fd);
  }
}

/** commitXattr sets the attribute a Txattrcreate fid collected, as the session's
 * caller; 0 or -errno. */
export function commitXattr(s: Session, fid: Fid): number {
  const x = fid.xattr;
  if (!x || x.mode !== 'write') return 0;
  if (x.written !== x.size) return -Errno.EINVAL;
  // The file is re-opened by the gofer itself (the caller may set attributes of a file it
  // cannot read); the attribute is set as the caller.
  const r = asOwn(() => withOpen(fid, (fd) => asCaller(s, [fid.file], () => sys.setxattr(fd, x.name, x.data, x.flags))));
  return typeof r === 'number' ? r : 0;
}

export const xattrHandlers: HandlerTable = {
  Txattrwalk(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (m.name.includes('\0')) return -Errno.EINVAL;
    if (m.newfid !== m.fid && s.fids.has(m.newfid)) return -Errno.EBADF;
    const data = asCaller(s, [fid.file], () => withOpen(fid, (fd) => (m.name === '' ? sys.listxattr(fd) : sys.getxattr(fd, m.name))));
    if (isErr(data)) return data;
    const file = fid.file.ref();
    if (m.newfid === m.fid) {
      fid.file.close();
      fid.xattr = { mode: 'read', data };
    } else {
      const e = s.addFid(m.newfid, { file, uid: fid.uid, xattr: { mode: 'read', data } });
      if (e < 0) {
        file.close();
        return e;
      }
    }
    return reply('Rxattrwalk', { size: data.length });
  },

  Txattrcreate(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (fid.file.exp.readonly) return -Errno.EROFS;
    if (fid.open || fid.xattr) return -Errno.EBADF;
    if (m.name.length === 0 || m.name.includes('\0')) return -Errno.EINVAL;
    if (m.attrSize > MAX_XATTR) return -Errno.E2BIG;
    if ((m.flags & ~3) !== 0) return -Errno.EINVAL;
    fid.xattr = { mode: 'write', name: m.name, size: m.attrSize, flags: m.flags, data: Buffer.alloc(m.attrSize), written: 0 };
    return reply('Rxattrcreate', {});
  },
};
