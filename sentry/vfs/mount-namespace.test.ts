/**
 * Mount namespace copies (MountNamespace.copy, release) and propagation between
 * namespaces (propagation.ts): new mount IDs on the same super blocks, a cost that
 * follows the mounts and not the files, what one namespace mounts staying out of the
 * other unless propagation says, peer and slave groups two levels deep, umount taking the
 * copies, release, and MOUNT_MAX counting every namespace.
 */
import { Credentials } from '../kernel/credentials';
import { Errno, LinuxError } from '../kernel/errors';
import { Tmpfs } from '../fsimpl/tmpfs/tmpfs';
import { dentryCache } from './dentry';
import { mountinfoText } from './mountinfo';
import { allocPeerGroup, liveNamespaces, MOUNT_MAX, MountNamespace, type Location, type Mount } from './mount';
import { stepDown } from './path';

const root0 = new Credentials(0, 0);

function dir(at: Location, name: string): Location {
  const inode = at.dentry.inode.mkdir(name, 0o755, root0);
  return { mount: at.mount, dentry: at.dentry.addChild(name, inode) };
}

/** walk follows names from a location as a path walk does (stepping onto mounts). */
function walk(from: Location, ...names: string[]): Location {
  let loc = stepDown(from);
  for (const n of names) loc = stepDown({ mount: loc.mount, dentry: loc.dentry.child(n) });
  return loc;
}

/** points lists the mount points of a namespace's table (mountinfo's fifth column). */
function points(ns: MountNamespace): string[] {
  return mountinfoText(ns, ns.root).trim().split('\n').map((l) => l.split(' ')[4]);
}

/** tmpfsAt mounts a new tmpfs at `at`, attached and propagated as mount(2) does. */
function tmpfsAt(ns: MountNamespace, at: Location, source: string): Mount {
  const m = ns.mount(stepDown(at), new Tmpfs(0o755), 0, source);
  ns.propagate(m);
  return m;
}

describe('mount namespaces', () => {
  test('a copy has new mounts on the same super blocks, in the same order, and goes its own way', () => {
    const ns = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const a = tmpfsAt(ns, dir(ns.root, 'a'), 'a');
    tmpfsAt(ns, dir({ mount: a, dentry: a.root }, 'b'), 'b');
    const copy = ns.copy();
    expect(points(copy)).toEqual(points(ns));
    expect(copy.mounts.map((m) => m.sb)).toEqual(ns.mounts.map((m) => m.sb));
    for (const [i, m] of copy.mounts.entries()) {
      expect(m.id).not.toBe(ns.mounts[i].id);
      expect(m.ns).toBe(copy);
    }
    // What the copy's tree shows is the same files.
    expect(walk(copy.root, 'a', 'b').mount).toBe(copy.mounts[2]);
    tmpfsAt(copy, dir(copy.root, 'c'), 'c');
    expect(points(copy)).toEqual(['/', '/a', '/a/b', '/c']);
    expect(points(ns)).toEqual(['/', '/a', '/a/b']);
  });

  test('a copy costs its mounts, not its files', () => {
    const ns = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const big = dir(ns.root, 'big');
    for (let i = 0; i < 500; i++) dir(big, `f${i}`);
    tmpfsAt(ns, dir(dir(ns.root, 'x'), 'y'), 'm');
    const before = dentryCache.size;
    ns.copy();
    // The way to the one mount point (x, y): nothing of big's 500 names.
    expect(dentryCache.size - before).toBe(2);
  });

  test('translate moves a cwd to the copy of its mount', () => {
    const ns = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const m = tmpfsAt(ns, dir(ns.root, 'm'), 'm');
    const cwd = dir(dir({ mount: m, dentry: m.root }, 'd'), 'e');
    const copy = ns.copy();
    const moved = copy.translate(cwd);
    expect(moved.mount).toBe(copy.mounts[1]);
    expect(copy.pathOf(moved)).toBe('/m/d/e');
    expect(moved.dentry.inode).toBe(cwd.dentry.inode);
  });

  test('propagation: peers both ways, a slave receives only, two levels deep, umount takes the copies', () => {
    const o = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const s = tmpfsAt(o, dir(o.root, 's'), 's');
    s.propagation.shared = allocPeerGroup();
    for (const n of ['x', 'y', 'z']) dir({ mount: s, dentry: s.root }, n);
    const n1 = o.copy();
    const s1 = n1.mounts[1];
    expect(s1.propagation.shared).toBe(s.propagation.shared);
    // A mount in N1 under the shared s shows in O as its peer.
    const x1 = tmpfsAt(n1, walk(n1.root, 's', 'x'), 'x');
    const x0 = walk(o.root, 's', 'x').mount;
    expect(x0).not.toBe(s);
    expect(x0.propagation.shared).toBe(x1.propagation.shared);
    // N1's s made a slave: O's mounts reach it, its own do not reach O.
    s1.propagation.master = s1.propagation.shared;
    s1.propagation.shared = 0;
    tmpfsAt(n1, walk(n1.root, 's', 'y'), 'y');
    expect(walk(o.root, 's', 'y').mount).toBe(s);
    // Shared again (shared and slave), and copied to N2: O's mount reaches N1 and N2.
    s1.propagation.shared = allocPeerGroup();
    const n2 = n1.copy();
    const z0 = tmpfsAt(o, walk(o.root, 's', 'z'), 'z');
    const z1 = walk(n1.root, 's', 'z').mount, z2 = walk(n2.root, 's', 'z').mount;
    expect(z1.propagation).toEqual({ shared: z2.propagation.shared, master: z0.propagation.shared, unbindable: false });
    expect(z1.propagation.shared).not.toBe(0);
    // umount of O's z takes the copies in N1 and N2 (the caller detaches them).
    expect(o.propagatedCopies(z0).sort((p, q) => p.id - q.id)).toEqual([z1, z2]);
  });

  test('release detaches every mount; MOUNT_MAX counts every live namespace', () => {
    for (const other of [...liveNamespaces()]) other.release();
    const ns = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const m = tmpfsAt(ns, dir(ns.root, 'm'), 'm');
    const copy = ns.copy();
    const gone = copy.release();
    expect(gone).toHaveLength(2);
    expect(gone.every((g) => g.ns === null)).toBe(true);
    expect([...liveNamespaces()]).toEqual([ns]);
    expect(m.ns).toBe(ns);
    ns.mounts.length = MOUNT_MAX - 1;
    ns.mounts.fill(ns.root.mount);
    expect(() => ns.copy()).toThrow(new LinuxError(Errno.ENOSPC));
    ns.mounts.length = MOUNT_MAX / 2;
    const half = ns.copy();
    expect(() => ns.mount(stepDown(walk(ns.root, 'm')), new Tmpfs(0o755), 0, 'more')).toThrow(new LinuxError(Errno.ENOSPC));
    half.release();
    ns.release();
  });

  test('a released namespace and an unmounted mount leave the dentry cache: what nothing holds at once, an open file\'s dentries when it closes', () => {
    const ns = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const m = tmpfsAt(ns, dir(ns.root, 'm'), 'm');
    const before = dentryCache.size;
    const copy = ns.copy(); // and its dentry on the way to its copy of m
    const a = dir(copy.root, 'a');
    for (let i = 0; i < 50; i++) dir(a, `f${i}`);
    const open = dir(a, 'open').dentry;
    open.incRef(); // an open file description
    const inM = dir({ mount: m, dentry: m.root }, 'x');
    for (let i = 0; i < 20; i++) dir(inM, `g${i}`);
    expect(dentryCache.size - before).toBe(1 + 1 + 50 + 1 + 1 + 20);
    // The copy dies: of its 53 dentries, the open file's and its directory's are left.
    copy.release();
    expect(dentryCache.size - before).toBe(2 + 1 + 20);
    open.decRef();
    expect(dentryCache.size - before).toBe(1 + 20);
    // umount: the mount's 21 dentries go.
    ns.detach(m);
    expect(dentryCache.size - before).toBe(0);
    ns.release();
  });
});
