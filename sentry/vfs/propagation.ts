/**
 * Mount propagation (Linux's Documentation/filesystems/sharedsubtree.rst) across the
 * sandbox's mount namespaces. A mount's propagation (mount.ts) names its peer group
 * (`shared`) and the group it is a slave of (`master`); the members of a group and the
 * slaves of a group are found by scanning the live namespaces' tables, so the links need
 * no upkeep when a mount goes.
 *
 * A mount event under a shared mount P (group g) reaches, as Linux's propagate_mnt:
 *   - every other member of g: its copy is a peer of the new mount (one new group);
 *   - every slave of g: its copy is a slave of that group; a slave that is itself shared
 *     (group h) passes the event on to the members of h, whose copies form one new group,
 *     slave of the first, and so on down the slaves of h: propagation goes down a tree of
 *     peers and slaves, never up to a master.
 * Each receiver gets its copy at the same file system path as the event's mount point,
 * when it shows that path (a bind of a part may not). Only the top mount of a tree
 * propagates (an rbind's or a moved tree's mounts below it do not).
 */
import { Errno, fail } from '../kernel/errors';
import { allocPeerGroup, checkRoom, fsPathOf, liveNamespaces, locate, type Location, type Mount } from './mount';

/** Receiver is a mount that receives a mount event, with the propagation its copy gets. */
interface Receiver {
  target: Mount;
  shared: number;
  master: number;
}

/** allMounts lists the mounts of every live namespace. */
function allMounts(): Mount[] {
  const out: Mount[] = [];
  for (const ns of liveNamespaces()) out.push(...ns.mounts);
  return out;
}

/**
 * receiversOf walks the propagation tree of `parent`'s peer group (see the header) and
 * lists every mount but parent that receives an event on it; `group` is the peer group
 * of the event's mount (its copies in parent's group join it). A copy in a group of
 * slaves gets a new group (made by `newGroup`, so that umount's walk makes none).
 */
function receiversOf(parent: Mount, group: number, newGroup: () => number): Receiver[] {
  const mounts = allMounts();
  const out: Receiver[] = [];
  const seen = new Set<number>([parent.propagation.shared]);
  const queue = [{ g: parent.propagation.shared, shared: group, master: 0 }];
  for (let i = 0; i < queue.length; i++) {
    const { g, shared, master } = queue[i];
    for (const n of mounts) {
      const p = n.propagation;
      if (n === parent) continue;
      if (p.shared === g) {
        out.push({ target: n, shared, master });
      } else if (p.master === g) {
        if (!p.shared) out.push({ target: n, shared: 0, master: shared });
        else if (!seen.has(p.shared)) {
          seen.add(p.shared);
          queue.push({ g: p.shared, shared: newGroup(), master: shared });
        }
      }
    }
  }
  return out;
}

/** mountPlace is where m is attached, as a path within its parent's file system. */
function mountPlace(m: Mount): string | null {
  return m.parent && m.mountpoint ? fsPathOf({ mount: m.parent, dentry: m.mountpoint }) : null;
}

/**
 * propagateMount applies propagation to `m`, just attached: under a shared parent it
 * joins a new peer group and each receiver gets a copy at the same place. All or
 * nothing: past MOUNT_MAX `undo` takes m out again and ENOSPC is thrown.
 */
export function propagateMount(m: Mount, undo: () => void): void {
  const parent = m.parent, where = mountPlace(m);
  if (!parent || where === null || !parent.propagation.shared) return;
  const group = allocPeerGroup();
  m.propagation.shared = group;
  const receivers = receiversOf(parent, group, allocPeerGroup);
  const places: { at: Location; r: Receiver }[] = [];
  for (const r of receivers) {
    const at = r.target.fs === parent.fs ? locate(r.target, where) : null;
    if (at) places.push({ at, r });
  }
  try {
    checkRoom(places.length);
  } catch (e) {
    undo();
    throw e;
  }
  for (const { at, r } of places) {
    const ns = r.target.ns ?? fail(Errno.EINVAL);
    const copy = ns.mount(at, m.fs, m.flags, m.source, m.root.inode, m.sb);
    copy.rootPath = m.rootPath;
    copy.propagation.shared = r.shared;
    copy.propagation.master = r.master;
  }
}

/** copiesOf lists the copies of `m` that propagation attached in the receivers of its
 * parent (umount takes them too, as Linux's propagate_umount): the mount of m's file
 * system and root on top of the same place in each, with no mount below it. */
export function copiesOf(m: Mount): Mount[] {
  const parent = m.parent, where = mountPlace(m);
  if (!parent || where === null || !parent.propagation.shared) return [];
  const copies: Mount[] = [];
  for (const { target } of receiversOf(parent, 0, () => 0)) {
    // locate steps onto the topmost mount there: a copy when it is not target itself.
    const at = target.fs === parent.fs ? locate(target, where) : null;
    const c = at && at.mount !== target ? at.mount : null;
    if (c && c.fs === m.fs && c.root.inode === m.root.inode && !c.ns?.mounts.some((o) => o.parent === c)) copies.push(c);
  }
  return copies;
}
