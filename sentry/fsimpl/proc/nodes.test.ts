/**
 * proc's nodes answer from live state: a name whose object has gone is looked up again
 * (and fails) rather than served from the dentry cache, which keeps no proc name at all.
 */
import { LinuxError } from '../../kernel/errors';
import type { Inode } from '../../vfs/inode';
import { Mount } from '../../vfs/mount';
import { ProcDir, ProcFile, ProcFs } from './nodes';

function setup(): { alive: Set<string>; mount: Mount } {
  const pfs = new ProcFs();
  const alive = new Set(['1', '2']);
  pfs.root = new ProcDir(pfs, '/', () => {
    const m = new Map<string, () => Inode>();
    for (const name of alive) {
      m.set(name, () => {
        const f = new ProcFile(pfs, `/${name}`, () => `${name}\n`);
        f.live = () => alive.has(name);
        return f;
      });
    }
    return m;
  });
  return { alive, mount: new Mount(pfs, null, null, 0, 'proc') };
}

describe('proc nodes', () => {
  test('a cached name of a dead object is looked up again: ENOENT', () => {
    const { alive, mount } = setup();
    const cached = mount.root.child('1');
    expect(cached.inode.stale).toBe(false);
    alive.delete('1');
    expect(cached.inode.stale).toBe(true);
    expect(() => mount.root.child('1')).toThrow(LinuxError);
    expect(mount.root.children.has('1')).toBe(false);
  });

  test('a listing shows only live objects and no proc name stays cached', () => {
    const { alive, mount } = setup();
    mount.root.child('1');
    mount.root.child('2');
    alive.delete('2');
    const dir = mount.root.inode.open({ mount, dentry: mount.root }, 0, undefined as never);
    expect(dir.readdir().map((e) => e.name)).toEqual(['.', '..', '1']);
    expect([...mount.root.children.keys()]).toEqual([]);
  });
});
