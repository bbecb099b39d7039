/**
 * Session messages: Tversion, Tauth, Tattach, Tflush, Tclunk.
 */
import { Errno } from '../../../native/libc';
import { NOFID, VERSION_9P2000L, VERSION_FD } from '../../p9';
import { canSwitch } from '../../hostfs/creds';
import { defaultCaller, toHostCreds } from '../caller';
import { rootFile } from '../file';
import { commitXattr } from './xattr';
import { isErr, reply, type HandlerTable } from './types';

/** MIN_MSIZE is the smallest msize accepted: room for a header and a useful payload. */
export const MIN_MSIZE = 4096;
/** MAX_MSIZE is the largest msize the gofer offers. */
export const MAX_MSIZE = 1 << 20;

export const sessionHandlers: HandlerTable = {
  // Tversion resets the session, negotiates msize and picks the dialect.
  Tversion(s, m) {
    s.reset();
    if (m.tag !== 0xffff) return -Errno.EINVAL;
    if (m.msize < MIN_MSIZE) return -Errno.EINVAL;
    s.msize = Math.min(m.msize, MAX_MSIZE);
    let version = 'unknown';
    if (m.version === VERSION_FD) version = s.canPassFds ? VERSION_FD : VERSION_9P2000L;
    else if (m.version.startsWith(VERSION_9P2000L)) version = VERSION_9P2000L;
    s.fdPassing = version === VERSION_FD;
    s.caller = s.fdPassing ? defaultCaller(s.exports.ids) : null;
    if (version === 'unknown') s.msize = 0;
    return reply('Rversion', { msize: s.msize, version });
  },

  // Tsetcreds (9P2000.L.fd): later changes are made for this user, with these groups and
  // filesystem capabilities; ids outside the mappings are refused (EINVAL).
  Tsetcreds(s, m) {
    if (!s.fdPassing || !canSwitch()) return -Errno.EOPNOTSUPP;
    if (m.groups.length % 4 !== 0) return -Errno.EINVAL;
    const groups: number[] = [];
    for (let i = 0; i < m.groups.length; i += 4) groups.push(m.groups.readUInt32LE(i));
    const c = toHostCreds(s.exports.ids, m.uid, m.gid, groups, m.caps);
    if (isErr(c)) return c;
    s.caller = c;
    return reply('Rsetcreds', {});
  },

  // Tauth: the gofer serves only its own sandbox over a private socket, so there is no
  // authentication. It answers ENOENT, as diod does without auth: diod's clients and
  // Linux's v9fs then attach with afid = NOFID.
  Tauth() {
    return -Errno.ENOENT;
  },

  Tattach(s, m) {
    if (m.afid !== NOFID) return -Errno.EINVAL;
    const exp = s.exports.find(m.aname);
    if (isErr(exp)) return exp;
    const file = rootFile(exp);
    if (isErr(file)) return file;
    const uid = m.nUname === NOFID ? 0 : m.nUname;
    const err = s.addFid(m.fid, { file, uid });
    if (err < 0) {
      file.close();
      return err;
    }
    return reply('Rattach', { qid: file.qid });
  },

  // Tflush: requests are answered in order, so the flushed one has already been answered;
  // but for a parked Tnotify, which is not answered after its flush.
  Tflush(s, m) {
    if (s.watches && s.watches.parked === m.oldtag) s.watches.parked = -1;
    return reply('Rflush', {});
  },

  Tclunk(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const err = fid.xattr?.mode === 'write' ? commitXattr(s, fid) : 0;
    s.releaseFid(m.fid);
    return err < 0 ? err : reply('Rclunk', {});
  },
};
