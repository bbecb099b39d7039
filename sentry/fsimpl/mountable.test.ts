/**
 * mount(2)'s file systems (mountable.ts): tmpfs options checked as Linux's tmpfs does,
 * host types unknown, and a tmpfs given back whole once its last mount is gone.
 */
import { Credentials } from '../kernel/credentials';
import { Errno, LinuxError } from '../kernel/errors';
import type { Kernel } from '../kernel/kernel';
import { limitsFor } from '../limits';
import { makesSuperblock, newMountable, newTmpfs, releaseTmpfs, remountTmpfs, sandboxSysfs, setMountIdMaps, setMountLimits, shownId } from './mountable';
import { IDENTITY_MAPS, IdMap } from '../../oci/idmap';
import type { Spec } from '../../oci/config';
import { inodeBudget, Tmpfs, type TmpfsInode } from './tmpfs/tmpfs';
import type { Task } from '../kernel/task';
import { O_RDWR } from '../vfs/file';
import { Dentry, Mount } from '../vfs/mount';

const root0 = new Credentials(0, 0);
const kernel = {} as Kernel;
const task = {} as Task;

describe('mountable file systems', () => {
  beforeAll(() => setMountLimits(limitsFor(1 << 30)));

  test('tmpfs options: shown as Linux shows them; an unknown word or bad value is EINVAL', () => {
    const { fs, options } = newTmpfs(['size=1m', 'mode=0700', 'uid=5', 'nr_inodes=10']);
    expect(options).toEqual(['size=1024k', 'nr_inodes=10', 'mode=700', 'uid=5']);
    expect((fs as Tmpfs).root.stat().mode & 0o7777).toBe(0o700);
    expect(() => newTmpfs(['bogus=1'])).toThrow(new LinuxError(Errno.EINVAL));
    expect(() => newTmpfs(['mode=99'])).toThrow(new LinuxError(Errno.EINVAL));
    // Lenient (a spec's mounts): the word is skipped.
    expect(newTmpfs(['bogus=1', 'mode=755'], 0o1777, false).options).toEqual(['mode=755']);
  });

  test('remount: size= and nr_inodes= change the bounds within Linux\'s rules and the options shown', () => {
    const { fs, options } = newTmpfs(['size=16k', 'nr_inodes=4', 'mode=750']);
    const t = fs as Tmpfs;
    const ino = t.root.create('f', 0o644, root0) as TmpfsInode;
    const mount = new Mount(t, null, null, 0, 'none');
    const f = ino.open({ mount, dentry: new Dentry('f', mount.root, ino) }, O_RDWR);
    expect(f.write(task, Buffer.alloc(8192))).toBe(8192);
    const einval = expect.objectContaining({ errno: Errno.EINVAL });
    expect(() => remountTmpfs(fs, ['size=4k'], options)).toThrow(einval);
    expect(() => remountTmpfs(fs, ['nr_inodes=1'], options)).toThrow(einval);
    expect(() => remountTmpfs(fs, ['bogus'], options)).toThrow(einval);
    expect(t.maxBytes).toBe(16384); // nothing changed on EINVAL
    expect(remountTmpfs(fs, ['size=8k', 'mode=700'], options)).toEqual(['size=8k', 'nr_inodes=4', 'mode=750']);
    expect(() => f.write(task, Buffer.alloc(1))).toThrow(new LinuxError(Errno.ENOSPC));
    expect(remountTmpfs(fs, ['nr_inodes=2'], options)).toEqual(['size=8k', 'nr_inodes=2', 'mode=750']);
    // Unlimited (size=0) cannot be limited again; another file system's data is not looked at.
    expect(remountTmpfs(fs, ['size=0'], options)).toEqual(['size=0k', 'nr_inodes=2', 'mode=750']);
    expect(() => remountTmpfs(fs, ['size=1m'], options)).toThrow(einval);
    expect(remountTmpfs(sandboxSysfs(), ['bogus'], [])).toBeNull();
  });

  test('in a user namespace a tmpfs shows its owner as host ids; a new read-only sysfs is read-only only in a new network namespace', () => {
    setMountIdMaps({ uid: IdMap.of([{ containerID: 0, hostID: 100000, size: 65536 }]), gid: IdMap.of([{ containerID: 0, hostID: 100000, size: 65536 }]) });
    try {
      expect(newTmpfs(['mode=755', 'size=64k']).options).toEqual(['size=64k', 'mode=755', 'uid=100000', 'gid=100000']);
      expect(newTmpfs(['uid=1000', 'gid=70000']).options).toEqual(['uid=101000', 'gid=65534']);
      expect(shownId('gid', 5)).toBe(100005);
    } finally {
      setMountIdMaps(IDENTITY_MAPS);
    }
    expect(newTmpfs(['mode=755']).options).toEqual(['mode=755']);
    const spec = (namespaces: { type: string; path?: string }[]) => ({ ociVersion: '1.0.2', linux: { namespaces } }) as Spec;
    expect(makesSuperblock('sysfs', spec([{ type: 'network' }]))).toBe(true);
    expect(makesSuperblock('sysfs', spec([{ type: 'network', path: '/proc/1/ns/net' }]))).toBe(false);
    expect(makesSuperblock('sysfs', spec([{ type: 'mount' }]))).toBe(false);
    expect(makesSuperblock('tmpfs', spec([]))).toBe(true);
    expect(makesSuperblock('proc', spec([]))).toBe(false);
  });

  test('host and unknown types are ENODEV; sysfs is the sandbox\'s one instance', () => {
    for (const type of ['ext4', '9p', 'overlay', 'nfs', 'devtmpfs', 'nosuchfs']) {
      expect(() => newMountable(kernel, type, [])).toThrow(new LinuxError(Errno.ENODEV));
    }
    expect(newMountable(kernel, 'sysfs', []).fs).toBe(sandboxSysfs());
  });

  test('releaseTmpfs gives every inode back to the budget, once', () => {
    const before = inodeBudget.used;
    const { fs } = newTmpfs([]);
    const root = (fs as Tmpfs).root;
    const d = root.mkdir('d', 0o755, root0) as typeof root;
    d.create('f', 0o644, root0);
    root.create('g', 0o644, root0);
    root.symlink('l', 'g', root0);
    expect(inodeBudget.used).toBeGreaterThanOrEqual(before + 5);
    releaseTmpfs(fs);
    expect(inodeBudget.used).toBe(before);
    expect(root.children.size).toBe(0);
    releaseTmpfs(fs);
    expect(inodeBudget.used).toBe(before);
    // A tmpfs it did not make (the sentry's own) is left alone.
    const own = new Tmpfs();
    own.root.create('x', 0o644, root0);
    releaseTmpfs(own);
    expect(own.root.children.size).toBe(1);
  });
});
