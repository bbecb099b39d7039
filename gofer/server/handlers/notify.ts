/**
 * Host change notification (tvisor's 9P2000.L.fd): Twatch, Tunwatch, Tnotify. The watch
 * table and its rules are server/watches.ts; the long poll is parked by the connection.
 */
import { Errno } from '../../../native/libc';
import { NOTIFY_WAIT, type Message, type RequestName } from '../../p9';
import type { Session } from '../session';
import { WatchTable } from '../watches';
import { asCaller } from '../caller';
import { isErr, reply, type HandlerTable, type Reply } from './types';

/** PARKED is what Tnotify's handler returns when no event is queued: the connection
 * answers the request later, when the host reports one (Connection.onNotify). */
export const PARKED: Reply = { kind: 'Rnotify', events: [] };

/**
 * ownNames lists the names in their directories whose host events a request makes (the
 * client reports those changes itself: Connection drops their echo), or null for a
 * request that changes nothing. Read before the request is handled (a rename moves the
 * name). The events of a watched file itself are always dropped with them.
 */
export function ownNames(s: Session, m: Message<RequestName>): string[] | null {
  const nameOf = (fid: number): string[] => {
    const f = s.fids.get(fid);
    return f ? [f.file.name] : [];
  };
  switch (m.kind) {
    case 'Tlcreate': case 'Tsymlink': case 'Tmknod': case 'Tmkdir': case 'Tlink': case 'Tunlinkat':
      return [m.name];
    case 'Trenameat':
      return [m.oldName, m.newName];
    case 'Trename':
      return [...nameOf(m.fid), m.name];
    case 'Tsetattr': case 'Twrite': case 'Tlopen': case 'Tclunk': case 'Tremove': case 'Txattrcreate': case 'Tfsync':
      return nameOf(m.fid);
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
      w.drain(m.name ? [m.name] : []);
      return reply('Rnotify', { events: [] });
    }
    if (w.parked >= 0) return -Errno.EBUSY;
    w.drain(null);
    if (w.pending) return reply('Rnotify', { events: w.take() });
    w.parked = m.tag;
    return PARKED;
  },
};
