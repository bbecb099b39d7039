/**
 * The caller of a change to the tree: the gofer's second line of checks. In tvisor's
 * 9P2000.L.fd dialect the sentry names, with Tsetcreds, the task a request is made
 * for: its user, groups (container ids) and filesystem capabilities. The gofer maps the
 * ids to the host and makes the change with them (hostfs/creds.ts), so that the host
 * kernel refuses what the sentry should have refused (a truncation, a write, a link of
 * another's set-user-ID file), and so that what container root creates belongs to its
 * mapped host user.
 *
 * The sentry is not trusted: an id outside the mappings is refused (EINVAL), only the
 * five filesystem capabilities can be asked for, and with a user namespace they apply
 * only to files whose owner and group are both mapped (the kernel's
 * privileged_wrt_inode_uidgid): container root gets no privilege over a host root file.
 */
import { Errno } from '../../native/libc';
import { asCreds, canSwitch, FS_CAPS, type HostCreds } from '../hostfs/creds';
import * as sys from '../hostfs/sys';
import type { File } from './file';
import type { IdMaps } from './idmap';
import type { Session } from './session';

/** NGROUPS_MAX is the most supplementary groups Linux accepts. */
const NGROUPS_MAX = 65536;

/** toHostCreds maps a caller's container ids to host ids; -EINVAL when one is unmapped
 * or the capability mask asks for more than the filesystem capabilities. */
export function toHostCreds(ids: IdMaps, uid: number, gid: number, groups: readonly number[], caps: number): HostCreds | number {
  if (caps < 0 || caps > FS_CAPS || (caps & ~FS_CAPS) !== 0) return -Errno.EINVAL;
  if (groups.length > NGROUPS_MAX) return -Errno.EINVAL;
  const hu = ids.uid.toHost(uid), hg = ids.gid.toHost(gid);
  if (hu < 0 || hg < 0) return -Errno.EINVAL;
  const hgroups: number[] = [];
  for (const g of groups) {
    const h = ids.gid.toHost(g);
    if (h < 0) return -Errno.EINVAL;
    hgroups.push(h);
  }
  return { uid: hu, gid: hg, groups: hgroups, caps };
}

/** defaultCaller is who a 9P2000.L.fd connection acts for before its first Tsetcreds:
 * the container's root with every filesystem capability (no more than a Tsetcreds could
 * claim), or nobody without privilege when root is not mapped. */
export function defaultCaller(ids: IdMaps): HostCreds | null {
  if (!canSwitch()) return null;
  const root = toHostCreds(ids, 0, 0, [], FS_CAPS);
  if (typeof root !== 'number') return root;
  return { uid: ids.uid.toHost(65534), gid: ids.gid.toHost(65534), groups: [], caps: 0 };
}

/**
 * asCaller runs a change `fn` as the session's caller, or as the gofer itself when there
 * is none (plain 9P2000.L). `files` are the files the change is checked against; with a
 * user namespace, when one of them has an unmapped owner or group the capabilities are
 * dropped for this change. `extraCaps` are added for a host call that needs one for
 * itself rather than for a permission check (linkat's AT_EMPTY_PATH).
 */
export function asCaller<T>(s: Session, files: readonly (File | null)[], fn: () => T, extraCaps = 0): T | number {
  const c = s.caller;
  if (!c) return fn();
  if (c.uid < 0 || c.gid < 0) return -Errno.EPERM;
  let caps = c.caps;
  const ids = s.exports.ids;
  if (caps !== 0 && !(ids.uid.identity && ids.gid.identity)) {
    for (const f of files) {
      if (!f) continue;
      const st = sys.fstat(f.fd);
      if (typeof st === 'number') return st;
      if (!ids.uid.mapsHost(st.uid) || !ids.gid.mapsHost(st.gid)) {
        caps = 0;
        break;
      }
    }
  }
  return asCreds({ ...c, caps: caps | extraCaps }, fn);
}
