/**
 * The mount table's rendering (mountinfo.ts) and its operations (mount.ts): Linux's line
 * formats and escapes, a bind's root column, a view from a task root below the namespace
 * root, detach of a subtree, move, pivot, and mount points listed by withMountpoints.
 */
import { Credentials } from '../kernel/credentials';
import { Errno, LinuxError } from '../kernel/errors';
import { Tmpfs } from '../fsimpl/tmpfs/tmpfs';
import { devMajor, devMinor, escapeMount, mountinfoText, mountsText } from './mountinfo';
import { liveNamespaces, MOUNT_MAX, MountNamespace, MS_NOSUID, MS_RDONLY, MS_RELATIME, Superblock, withMountpoints, type Location } from './mount';

const root0 = new Credentials(0, 0);

function dir(_ns: MountNamespace, at: Location, name: string): Location {
  const inode = at.dentry.inode.mkdir(name, 0o755, root0);
  return { mount: at.mount, dentry: at.dentry.addChild(name, inode) };
}

/** columns splits a mountinfo line into its fields. */
function columns(line: string): string[] {
  return line.split(' ');
}

describe('mountinfo and mounts', () => {
  test('lines in Linux formats, escapes, super options and a bind of a subdirectory', () => {
    const rootFs = new Tmpfs(0o755);
    const ns = new MountNamespace(rootFs, MS_RELATIME, 'none');
    const spaced = dir(ns, ns.root, 'a b\\c');
    const tfs = new Tmpfs(0o750);
    const t = ns.mount(spaced, tfs, MS_NOSUID | MS_RELATIME, 'my src', undefined, new Superblock(tfs, false, ['size=1024k', 'mode=750']));
    const sub = dir(ns, { mount: t, dentry: t.root }, 'sub');
    const b = ns.bind(dir(ns, ns.root, 'b'), sub, MS_RDONLY | MS_RELATIME);
    const info = mountinfoText(ns, ns.root).split('\n');
    const root = ns.root.mount;
    expect(columns(info[0])).toEqual([String(root.id), String(root.id), `${devMajor(rootFs.dev)}:${devMinor(rootFs.dev)}`, '/', '/', 'rw,relatime', '-', 'tmpfs', 'none', 'rw']);
    expect(info[1]).toBe(`${t.id} ${root.id} 0:${tfs.dev} / /a\\040b\\134c rw,nosuid,relatime - tmpfs my\\040src rw,size=1024k,mode=750`);
    expect(info[2]).toBe(`${b.id} ${root.id} 0:${tfs.dev} /sub /b ro,relatime - tmpfs my\\040src rw,size=1024k,mode=750`);
    expect(info[3]).toBe('');
    expect(mountsText(ns, ns.root)).toBe('none / tmpfs rw,relatime 0 0\nmy\\040src /a\\040b\\134c tmpfs rw,nosuid,relatime,size=1024k,mode=750 0 0\nmy\\040src /b tmpfs ro,relatime,size=1024k,mode=750 0 0\n');
    // A read-only file system shows ro in both option columns of /proc/mounts' single one.
    t.sb.readonly = true;
    expect(mountsText(ns, ns.root).split('\n')[1]).toBe('my\\040src /a\\040b\\134c tmpfs ro,nosuid,relatime,size=1024k,mode=750 0 0');
    expect(b.readonly && t.readonly).toBe(true);
  });

  test('escapeMount and device numbers', () => {
    expect(escapeMount('a\tb\nc d\\e')).toBe('a\\011b\\012c\\040d\\134e');
    // glibc's encoding: minor's high bits above the major.
    expect([devMajor(0x100000 | 0x20), devMinor(0x100000 | 0x20)]).toEqual([0, 0x100 | 0x20]);
    expect([devMajor(0xfe00), devMinor(0xfe00)]).toEqual([254, 0]);
  });

  test('a task rooted in a subtree sees the mounts below its root only', () => {
    const ns = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const jail = dir(ns, ns.root, 'jail');
    const inner = ns.mount(dir(ns, jail, 'proc'), new Tmpfs(0o555), 0, 'inner');
    ns.mount(dir(ns, ns.root, 'outside'), new Tmpfs(0o555), 0, 'outer');
    const lines = mountinfoText(ns, jail).trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    // Its parent is not visible: it names itself, as Linux does for a mount whose parent is outside.
    expect(columns(lines[0]).slice(0, 2)).toEqual([String(inner.id), String(inner.id)]);
    expect(columns(lines[0])[4]).toBe('/proc');
  });

  test('detach takes a subtree out; move and pivot reattach', () => {
    const ns = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const a = ns.mount(dir(ns, ns.root, 'a'), new Tmpfs(0o755), 0, 'a');
    const aa = ns.mount(dir(ns, { mount: a, dentry: a.root }, 'inner'), new Tmpfs(0o755), 0, 'aa');
    const m = ns.mount(dir(ns, ns.root, 'm'), new Tmpfs(0o755), 0, 'm');
    expect(ns.subtree(a)).toEqual([a, aa]);
    ns.move(m, dir(ns, { mount: aa, dentry: aa.root }, 'here'));
    expect(ns.pathOf({ mount: m, dentry: m.root })).toBe('/a/inner/here');
    ns.detach(a);
    expect(ns.mounts.map((x) => x.source)).toEqual(['none']);
    const p = ns.mount(dir(ns, ns.root, 'p'), new Tmpfs(0o755), 0, 'p');
    const old = ns.pivot(p, dir(ns, { mount: p, dentry: p.root }, 'old'));
    expect(ns.root.mount).toBe(p);
    expect(ns.pathOf({ mount: old, dentry: old.root })).toBe('/old');
    expect(mountinfoText(ns, ns.root).trimEnd().split('\n').map((l) => l.split(' ')[4])).toEqual(['/', '/old']);
  });

  test('withMountpoints lists placeholder mount points the directory lacks', () => {
    const ns = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const fs = new Tmpfs(0o755);
    const d = ns.root.dentry.addChild('placeholder', fs.root);
    d.placeholder = true;
    ns.mount({ mount: ns.root.mount, dentry: d }, new Tmpfs(0o755), 0, 'x');
    dir(ns, ns.root, 'real');
    const names = withMountpoints(ns.root.dentry, ns.root.dentry.inode.readdir()).map((e) => e.name);
    expect(names).toEqual(['real', 'placeholder']);
  });

  test('the mount table is bounded (MOUNT_MAX, then ENOSPC)', () => {
    const ns = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    // The bound counts every live namespace's mounts: the other tests' go first.
    for (const other of [...liveNamespaces()]) if (other !== ns) other.release();
    const at = dir(ns, ns.root, 'm');
    ns.mounts.length = MOUNT_MAX - 1;
    ns.mounts.fill(ns.root.mount);
    ns.mount(at, new Tmpfs(0o755), 0, 'last');
    expect(() => ns.mount(at, new Tmpfs(0o755), 0, 'one more')).toThrow(new LinuxError(Errno.ENOSPC));
  });
});
