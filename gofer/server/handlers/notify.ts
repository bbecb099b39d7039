/**
 * Host change notification (tvisor's 9P2000.L.fd): Twatch, Tunwatch, Tnotify. The watch
 * table and its rules are server/watches.ts; the long poll is parked by the connection.
 */
import { Errno } from '../../../native/libc';
import { NOTIFY_WAIT } from '../../p9';
import { WatchTable } from '../watches';
import { isErr, reply, type HandlerTable, type Reply } from './types';

/** PARKED is what Tnotify's handler returns when no event is queued: the connection
 * answers the request later, when the host reports one (Connection.onNotify). */
export const PARKED: Reply = { kind: 'Rnotify', events: [] };

export const notifyHandlers: HandlerTable = {
  Twatch(s, m) {
    if (!s.fdPassing) return -Errno.EOPNOTSUPP;
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (fid.xattr) return -Errno.EINVAL;
    s.watches ??= new WatchTable();
    const wd = s.watches.add(fid.file);
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
      w.drain(true);
      return reply('Rnotify', { events: [] });
    }
    if (w.parked >= 0) return -Errno.EBUSY;
    w.drain(false);
    if (w.pending) return reply('Rnotify', { events: w.take() });
    w.parked = m.tag;
    return PARKED;
  },
};
