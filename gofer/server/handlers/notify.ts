/**
 * Host change notification (tvisor's 9P2000.L.fd): Twatch, Tunwatch, Tnotify. The watch
 * table and its rules are server/watches.ts; the long poll is parked by the connection.
 */
import { Errno } from '../../../native/libc';
import { NOTIFY_WAIT, type Message, type RequestName } from '../../p9';
import type { Session } from '../session';
import { hostKey, keyOf, WatchTable, type Own } from '../watches';
import * as sys from '../../hostfs/sys';
import { validNewName } from '../file';
import { asCaller } from '../caller';
import { isErr, reply, type HandlerTable, type Reply } from './types';

/** PARKED is what Tnotify's handler returns when no event is queued: the connection
 * answers the request later, when the host reports one (Connection.onNotify). */
export const PARKED: Reply = { kind: 'Rnotify', events: [] };

/**
 * ownChanges tells what a request changes itself (watches.ts Own: the client reports those
 * changes to its own watchers, and Connection drops their host echo), or null for a
 * request that changes nothing. Read before the request is handled (a rename moves the
 * name; an unlink or a rename's target is still there to be named by its host inode).
 */
export function ownChanges(s: Session, m: Message<RequestName>): Own | null {
  const dirKey = (fid: number): string | null => {
    const f = s.fids.get(fid);
    return f ? hostKey(f.file.fd) : null;
  };
  /** entry is a name in the directory of fid `dir`, and the file it names now (if any). */
  const entry = (own: Own, dir: number, name: string): void => {
    own.entries.push([dirKey(dir), name]);
    const d = s.fids.get(dir);
    const st = d && validNewName(name) === 0 ? sys.statAt(d.file.fd, name) : -1;
    if (typeof st !== 'number') own.files!.push(keyOf(st));
  };
  /** file is fid's file itself and its name in its directory. */
  const file = (own: Own, fid: number): void => {
    const f = s.fids.get(fid)?.file;
    if (!f) return;
    const key = hostKey(f.fd);
    if (key !== null) own.files!.push(key);
    if (f.parent) own.entries.push([hostKey(f.parent.fd), f.name]);
  };
  const own: Own = { entries: [], files: [] };
  switch (m.kind) {
    case 'Tlcreate': case 'Tsymlink':
      entry(own, m.fid, m.name);
      return own;
    case 'Tmknod': case 'Tmkdir':
      entry(own, m.dfid, m.name);
      return own;
    case 'Tlink':
      entry(own, m.dfid, m.name);
      file(own, m.fid);
      return own;
    case 'Tunlinkat':
      entry(own, m.dirFid, m.name);
      return own;
    case 'Trenameat':
      entry(own, m.oldDirFid, m.oldName);
      entry(own, m.newDirFid, m.newName);
      return own;
    case 'Trename':
      file(own, m.fid);
      entry(own, m.dfid, m.name);
      return own;
    case 'Tsetattr': case 'Twrite': case 'Tlopen': case 'Tclunk': case 'Tremove': case 'Txattrcreate': case 'Tfsync':
      file(own, m.fid);
      return own;
    default:
      return null;
  }
}

export const notifyHandlers: HandlerTable = {
  Twatch(s, m) {
    if (!s.fdPassing) return -Errno.EOPNOTSUPP;
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (fid.xattr) return -Errno.EINVAL;
    const w = (s.watches ??= new WatchTable());
    // inotify_add_watch needs read permission on the file: the host checks it as the caller.
    const wd = asCaller(s, [fid.file], () => w.add(fid.file));
    return isErr(wd) ? wd : reply('Rwatch', { wd });
  },

  Tunwatch(s, m) {
    if (!s.fdPassing) return -Errno.EOPNOTSUPP;
    const r = s.watches?.remove(m.wd) ?? -Errno.EINVAL;
    return isErr(r) ? r : reply('Runwatch', {});
  },

  // Tnotify: a barrier (flags 0) or a long poll (NOTIFY_WAIT); at most one waits.
  Tnotify(s, m) {
    if (!s.fdPassing) return -Errno.EOPNOTSUPP;
    if ((m.flags & ~NOTIFY_WAIT) !== 0) return -Errno.EINVAL;
    const w = (s.watches ??= new WatchTable());
    if (!(m.flags & NOTIFY_WAIT)) {
      if (m.name.includes('/')) return -Errno.EINVAL;
      // The barrier names no directory nor file: that name anywhere, and every watched file.
      w.drain({ entries: m.name ? [[null, m.name]] : [], files: null });
      return reply('Rnotify', { events: [] });
    }
    if (w.parked >= 0) return -Errno.EBUSY;
    w.drain(null);
    if (w.pending) return reply('Rnotify', { events: w.take() });
    w.parked = m.tag;
    return PARKED;
  },
};
