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
 * when it shows that path (a bind of a part may not); a tree (an rbind, a moved tree) is
 * copied whole, each copy below the top taking the propagation of its original's group.
 */
import { Errno, fail } from '../kernel/errors';
import { allocPeerGroup, checkRoom, fsPathOf, liveNamespaces, locate, relocate, type Location, type Mount } from './mount';

/** Level is the propagation the copies of a source tree get in one group of receivers:
 * for the tree's mount i, its copy's peer group and master group. */
interface Level {
  shared: number[];
  master: number[];
}

/** Receiver is a mount that receives a mount event, with the propagation its copies get. */
interface Receiver {
  target: Mount;
  level: Level;
}

/** allMounts lists the mounts of every live namespace. */
function allMounts(): Mount[] {
  const out: Mount[] = [];
  for (const ns of liveNamespaces()) out.push(...ns.mounts);
  return out;
}

/**
 * receiversOf walks the propagation tree of `parent`'s peer group (see the header) and
 * lists every mount but parent (and the source `tree`) that receives an event on it; `first` is the propagation
 * of the copies in parent's own group (peers of the source tree's mounts). A group of
 * slaves that is shared gets a new group per tree mount (made by `newGroup`, so that
 * umount's walk makes none), slaves of the level above.
 */
function receiversOf(parent: Mount, first: Level, newGroup: () => number, tree: readonly Mount[] = []): Receiver[] {
  const mounts = allMounts();
  const out: Receiver[] = [];
  const seen = new Set<number>([parent.propagation.shared]);
  const queue = [{ g: parent.propagation.shared, level: first }];
  for (let i = 0; i < queue.length; i++) {
    const { g, level } = queue[i];
    for (const n of mounts) {
      const p = n.propagation;
      if (n === parent || tree.includes(n)) continue; // the source tree is not attached yet on Linux
      if (p.shared === g) {
        out.push({ target: n, level });
      } else if (p.master === g) {
        if (!p.shared) out.push({ target: n, level: { shared: level.shared.map(() => 0), master: level.shared } });
        else if (!seen.has(p.shared)) {
          seen.add(p.shared);
          queue.push({ g: p.shared, level: { shared: level.shared.map(() => newGroup()), master: level.shared } });
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
 * propagateMount applies propagation to the tree of mounts `m` heads, just attached (a
 * new mount, an rbind, a moved tree): under a shared parent each mount of the tree not
 * shared yet joins a new peer group, and each receiver gets a copy of the tree at the
 * same place. All or nothing: past MOUNT_MAX `undo` takes m out again and ENOSPC is thrown.
 */
export function propagateMount(m: Mount, undo: () => void): void {
  const parent = m.parent, where = mountPlace(m);
  if (!parent || where === null || !parent.propagation.shared || !m.ns) return;
  const tree = m.ns.subtree(m);
  for (const x of tree) if (!x.propagation.shared) x.propagation.shared = allocPeerGroup();
  const first = { shared: tree.map((x) => x.propagation.shared), master: tree.map((x) => x.propagation.master) };
  const places: { at: Location; r: Receiver }[] = [];
  for (const r of receiversOf(parent, first, allocPeerGroup, tree)) {
    const at = r.target.fs === parent.fs ? locate(r.target, where) : null;
    if (at) places.push({ at, r });
  }
  try {
    checkRoom(places.length * tree.length);
  } catch (e) {
    undo();
    throw e;
  }
  for (const { at, r } of places) {
    const ns = r.target.ns ?? fail(Errno.EINVAL);
    const copies = new Map<Mount, Mount>();
    tree.forEach((x, i) => {
      const parentCopy = i === 0 ? null : copies.get(x.parent!);
      if (i > 0 && (!parentCopy || !x.mountpoint)) return;
      const place = parentCopy ? { mount: parentCopy, dentry: relocate(x.mountpoint!, x.parent!.root, parentCopy) } : at;
      const copy = ns.mount(place, x.fs, x.flags, x.source, x.root.inode, x.sb);
      copy.rootPath = x.rootPath;
      copy.propagation.shared = r.level.shared[i];
      copy.propagation.master = r.level.master[i];
      copies.set(x, copy);
    });
  }
}

/** copiesOf lists the copies of `m` that propagation attached in the receivers of its
 * parent (umount takes them too, as Linux's propagate_umount): the mount of m's file
 * system and root on top of the same place in each, with no mount below it. */
export function copiesOf(m: Mount): Mount[] {
  const parent = m.parent, where = mountPlace(m);
  if (!parent || where === null || !parent.propagation.shared) return [];
  const copies: Mount[] = [];
  for (const { target } of receiversOf(parent, { shared: [0], master: [0] }, () => 0)) {
    // locate steps onto the topmost mount there: a copy when it is not target itself.
    const at = target.fs === parent.fs ? locate(target, where) : null;
    const c = at && at.mount !== target ? at.mount : null;
    if (c && c.fs === m.fs && c.root.inode === m.root.inode && !c.ns?.mounts.some((o) => o.parent === c)) copies.push(c);
  }
  return copies;
}
