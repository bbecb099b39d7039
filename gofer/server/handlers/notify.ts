/**
 * Host change notification (tvisor's 9P2000.L.fd): Twatch, Tunwatch, Tnotify. The watch
 * table and its rules are server/watches.ts; the long poll is parked by the connection.
 */
import { Errno } from '../../../native/libc';
import { NOTIFY_READS, NOTIFY_WAIT, type Message, type RequestName } from '../../p9';
import { ALL_EVENTS, READ_EVENTS } from '../../hostfs/inotify';
import type { Session } from '../session';
import { WatchTable } from '../watches';
import { CacheWatchTable } from '../cache-watches';
import { asCaller } from '../caller';
import { isErr, reply, type HandlerTable, type Reply } from './types';

/** PARKED is what Tnotify's handler returns when no event is queued: the connection
 * answers the request later, when the host reports one (Connection.onNotify). */
export const PARKED: Reply = { kind: 'Rnotify', events: [] };

/** Own is what of the host's events a request makes: the names in their directories (the
 * events of a watched file itself go with them) and the kinds (IN_* bits). */
export interface Own {
  names: string[];
  kinds: number;
}

/**
 * ownEvents says which host events a request makes (the client reports what it does
 * itself: Connection drops their echo), or null for a request that opens, reads and
 * changes nothing. Read before the request is handled (a rename moves the name). A
 * request that only looks up or reads (a walk opens each name O_PATH, which kernels
 * before 6.5 report as IN_OPEN and IN_CLOSE_NOWRITE; a listing opens and reads the
 * directory) makes only READ_EVENTS.
 */
export function ownEvents(s: Session, m: Message<RequestName>): Own | null {
  const nameOf = (fid: number): string[] => {
    const f = s.fids.get(fid);
    return f ? [f.file.name] : [];
  };
  const all = (names: string[]): Own => ({ names, kinds: ALL_EVENTS });
  const reads = (names: string[]): Own => ({ names, kinds: READ_EVENTS });
  switch (m.kind) {
    case 'Tlcreate': case 'Tsymlink': case 'Tmknod': case 'Tmkdir': case 'Tlink': case 'Tunlinkat':
      return all([m.name]);
    case 'Trenameat':
      return all([m.oldName, m.newName]);
    case 'Trename':
      return all([...nameOf(m.fid), m.name]);
    case 'Tsetattr': case 'Twrite': case 'Tlopen': case 'Tclunk': case 'Tremove': case 'Txattrcreate': case 'Tfsync':
      return all(nameOf(m.fid));
    case 'Tread': case 'Treaddir': case 'Treaddirstat':
      return reads(nameOf(m.fid));
    case 'Twalk': case 'Twalkstat':
      return reads(m.names);
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

  // Tcachewatch: the connection's cache-watch instance is made by the first, and its
  // descriptor passed with the first reply that succeeds (the gofer keeps its own).
  Tcachewatch(s, m) {
    if (!s.fdPassing) return -Errno.EOPNOTSUPP;
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (fid.xattr) return -Errno.EINVAL;
    const w = (s.cacheWatches ??= new CacheWatchTable());
    // inotify_add_watch needs read permission on the directory: the host checks it as the caller.
    const wd = asCaller(s, [fid.file], () => w.add(fid.file));
    if (isErr(wd)) return wd;
    const pass = !w.passed;
    if (pass) s.passFd = w.ifd;
    w.passed = true;
    return reply('Rcachewatch', { wd, passed: pass ? 1 : 0 });
  },

  Tuncachewatch(s, m) {
    if (!s.fdPassing) return -Errno.EOPNOTSUPP;
    const r = s.cacheWatches?.remove(m.wd) ?? -Errno.EINVAL;
    return isErr(r) ? r : reply('Runcachewatch', {});
  },

  // Tnotify: a barrier (flags 0, or NOTIFY_READS for reads only) or a long poll
  // (NOTIFY_WAIT); at most one waits.
  Tnotify(s, m) {
    if (!s.fdPassing) return -Errno.EOPNOTSUPP;
    if ((m.flags & ~(NOTIFY_WAIT | NOTIFY_READS)) !== 0 || m.flags === (NOTIFY_WAIT | NOTIFY_READS)) return -Errno.EINVAL;
    const w = (s.watches ??= new WatchTable());
    if (!(m.flags & NOTIFY_WAIT)) {
      if (m.name.includes('/')) return -Errno.EINVAL;
      w.drain(m.name ? [m.name] : [], m.flags & NOTIFY_READS ? READ_EVENTS : ALL_EVENTS);
      return reply('Rnotify', { events: [] });
    }
    if (w.parked >= 0) return -Errno.EBUSY;
    w.drain(null);
    if (w.pending) return reply('Rnotify', { events: w.take() });
    w.parked = m.tag;
    return PARKED;
  },
};
