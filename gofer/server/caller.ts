/**
 * The caller of a lookup, an open or a change to the tree: the gofer's second line of
 * checks. In tvisor's 9P2000.L.fd dialect the sentry names, with Tsetcreds, the task a
 * request is made for: its user, groups (container ids) and filesystem capabilities. The
 * gofer maps the ids to the host and looks up, opens or changes files with them
 * (hostfs/creds.ts), so that the host kernel refuses what the sentry should have refused
 * (a search of another's private directory, a read of another's private file, a
 * truncation, a write, a link of another's set-user-ID file), and so that what
 * container root creates belongs to its mapped host user. An open for execve asks for
 * execute access instead of read (LOPEN_EXEC, handlers/io.ts).
 *
 * The sentry is not trusted: an id outside the mappings is refused (EINVAL), only the
 * five filesystem capabilities can be asked for, and with a user namespace they apply
 * only to files whose owner and group are both mapped (the kernel's
 * privileged_wrt_inode_uidgid): container root gets no privilege over a host root file.
 */
import { Errno } from '../../native/libc';
import { asCreds, asOwn, canSwitch, FS_CAPS, type HostCreds } from '../hostfs/creds';
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

/** Named is a file known by its name in a directory (a file to remove or replace). */
export interface Named {
  dir: File;
  name: string;
}

/** Checked is a file a change is checked against: a fid's File, or one by name. */
export type Checked = File | Named | null;

/** victim is the file `name` of `dir` when dir is sticky (the kernel then checks the
 * caller's privilege over it: check_sticky), else null (only the directory counts). */
export function victim(dir: File, name: string): Named | null {
  return dir.mode & 0o1000 ? { dir, name } : null;
}

/** mappedOwner tells whether a checked file's owner and group are both mapped; a file
 * that does not exist (a name not there yet) counts as mapped. */
function mappedOwner(ids: IdMaps, c: Checked): boolean | number {
  if (!c) return true;
  let fd: number;
  let own = false;
  if ('dir' in c) {
    // The gofer's own lookup: as the caller, a name it may not search would read as absent.
    fd = asOwn(() => sys.lookup(c.dir.fd, c.name));
    if (fd < 0) return true;
    own = true;
  } else {
    fd = c.fd;
  }
  try {
    const st = sys.fstat(fd);
    if (typeof st === 'number') return st;
    return ids.uid.mapsHost(st.uid) && ids.gid.mapsHost(st.gid);
  } finally {
    if (own) sys.close(fd);
  }
}

/**
 * asCaller runs a change `fn` as the session's caller, or as the gofer itself when there
 * is none (plain 9P2000.L). `checked` are the files the kernel checks the change against
 * (directories, the file itself, the victim in a sticky directory); with a user
 * namespace, when one of them has an unmapped owner or group the capabilities are
 * dropped for this change. `extraCaps` are added for a host call that needs one for
 * itself rather than for a permission check (linkat's AT_EMPTY_PATH).
 */
export function asCaller<T>(s: Session, checked: readonly Checked[], fn: () => T, extraCaps = 0): T | number {
  const c = s.caller;
  if (!c) return asOwn(fn);
  if (c.uid < 0 || c.gid < 0) return -Errno.EPERM;
  let caps = c.caps;
  const ids = s.exports.ids;
  if (caps !== 0 && !(ids.uid.identity && ids.gid.identity)) {
    for (const f of checked) {
      const m = mappedOwner(ids, f);
      if (typeof m === 'number') return m;
      if (!m) {
        caps = 0;
        break;
      }
    }
  }
  return asCreds({ ...c, caps: caps | extraCaps }, fn);
}
