/**
 * The lifetime of mount namespaces (mount-namespaces.ts): a namespace dies once no task
 * is in it and no open ns file names it, its mounts detached and each tmpfs only it
 * mounted emptied; the kernel's never dies.
 */
import { newTmpfs } from '../fsimpl/mountable';
import { Tmpfs } from '../fsimpl/tmpfs/tmpfs';
import { Credentials } from './credentials';
import type { Kernel } from './kernel';
import { sweepMountNamespaces } from './mount-namespaces';
import type { Task } from './task';
import { liveNamespaces, MountNamespace, type Location } from '../vfs/mount';

const root0 = new Credentials(0, 0);

/** fakeTask is what the sweep reads of a task: its state, namespace, fs context, fds. */
function fakeTask(k: Kernel, ns: MountNamespace | null, at: Location): Task {
  return { kernel: k, state: 'running', mntns: ns, fs: { root: at, cwd: at }, fds: { entries: () => [] } } as unknown as Task;
}

describe('mount namespace lifetime', () => {
  test('a namespace dies with its last task; its tmpfs is emptied, the kernel\'s stays', () => {
    for (const other of [...liveNamespaces()]) other.release();
    const kernelNs = new MountNamespace(new Tmpfs(0o755), 0, 'none');
    const inode = kernelNs.root.dentry.inode.mkdir('m', 0o755, root0);
    const at = { mount: kernelNs.root.mount, dentry: kernelNs.root.dentry.addChild('m', inode) };
    const copy = kernelNs.copy();
    // A tmpfs mounted in the copy only, with a file in it.
    const { fs } = newTmpfs([]);
    const m = copy.mount(copy.translate(at), fs, 0, 'none');
    (fs as Tmpfs).root.create('f', 0o644, root0);
    const tasks = new Map<number, Task>();
    const k = { mounts: kernelNs, tasks } as unknown as Kernel;
    tasks.set(1, fakeTask(k, null, kernelNs.root)).set(2, fakeTask(k, copy, copy.root));
    sweepMountNamespaces(k);
    expect(copy.released).toBe(false);
    tasks.delete(2);
    sweepMountNamespaces(k);
    expect(copy.released).toBe(true);
    expect(m.ns).toBeNull();
    expect([...(fs as Tmpfs).root.children.keys()]).toEqual([]);
    expect([...liveNamespaces()]).toEqual([kernelNs]);
    kernelNs.release();
  });
});
