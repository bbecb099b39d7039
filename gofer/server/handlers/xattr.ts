/**
 * Extended attributes: Txattrwalk (read one attribute, or the list with an empty name)
 * and Txattrcreate (then Twrite the value, set on Tclunk). Attributes are read and set
 * through a re-opened descriptor of a regular file or directory; symlinks have none here.
 * Values are read and set as the session's caller: reading one takes a descriptor the
 * caller may open for reading. The list of names is read by the gofer, as Linux lists
 * them for anyone who reaches the file.
 *
 * Only the "user." namespace is served, whatever the sentry asks: any other name is
 * EOPNOTSUPP and lists show none but user names; a Txattrcreate of size 0 with
 * XATTR_REPLACE alone removes the attribute (the rules of gofer/p9/xattr.ts).
 */
import { Errno } from '../../../native/libc';
import { isUserXattrName, isXattrRemoval, XATTR_SIZE_MAX } from '../../p9/xattr';
import * as sys from '../../hostfs/sys';
import { asCaller } from '../caller';
import { asOwn } from '../../hostfs/creds';
import type { Fid, Session } from '../session';
import { isErr, reply, type HandlerTable } from './types';

/** userNames keeps the "user." names of a NUL-separated list. */
function userNames(list: Buffer): Buffer {
  const names = list.toString('latin1').split('\0').filter(isUserXattrName);
  return Buffer.from(names.map((n) => `${n}\0`).join(''), 'latin1');
}

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
  const remove = isXattrRemoval(x.size, x.flags);
  const r = asOwn(() => withOpen(fid, (fd) => asCaller(s, [fid.file], () => (remove ? sys.removexattr(fd, x.name) : sys.setxattr(fd, x.name, x.data, x.flags)))));
  return typeof r === 'number' ? r : 0;
}

export const xattrHandlers: HandlerTable = {
  Txattrwalk(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (m.name.includes('\0')) return -Errno.EINVAL;
    if (m.name !== '' && !isUserXattrName(m.name)) return -Errno.EOPNOTSUPP;
    if (m.newfid !== m.fid && s.fids.has(m.newfid)) return -Errno.EBADF;
    // A value is read as the caller (it needs read permission, as on Linux); the list of
    // names needs none (Linux asks only that the file be reached, as the walk was).
    const got = m.name === '' ? asOwn(() => withOpen(fid, (fd) => sys.listxattr(fd))) : asCaller(s, [fid.file], () => withOpen(fid, (fd) => sys.getxattr(fd, m.name)));
    if (isErr(got)) return got;
    const data = m.name === '' ? userNames(got) : got;
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
    if (!isUserXattrName(m.name)) return -Errno.EOPNOTSUPP;
    if (m.attrSize > XATTR_SIZE_MAX) return -Errno.E2BIG;
    if ((m.flags & ~3) !== 0) return -Errno.EINVAL;
    fid.xattr = { mode: 'write', name: m.name, size: m.attrSize, flags: m.flags, data: Buffer.alloc(m.attrSize), written: 0 };
    return reply('Rxattrcreate', {});
  },
};
