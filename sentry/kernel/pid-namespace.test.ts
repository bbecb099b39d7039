/**
 * PidNamespace's bookkeeping: local pids, clone3's set_tid checks, and the bound on its
 * maps (stale entries of exited tasks and reaped processes are swept), with a stand-in
 * kernel (only its task and group maps are read).
 */
import { Errno, LinuxError } from './errors';
import type { Kernel } from './kernel';
import { PID_MAX, PidNamespace } from './pid-namespace';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';

function fakeKernel(): Kernel {
  return { tasks: new Map(), groups: new Map() } as unknown as Kernel;
}

let nextKernelId = 1000;
/** spawn makes a live single-threaded process known to the kernel and enters it at `local` in ns. */
function spawn(k: Kernel, ns: PidNamespace): { t: Task; local: number } {
  const tid = nextKernelId++;
  const tg = { tgid: tid } as unknown as ThreadGroup;
  const t = { tid, tg, state: 'runnable' } as unknown as Task;
  k.tasks.set(tid, t);
  k.groups.set(tid, tg);
  const local = ns.alloc();
  ns.add(local, t, true);
  return { t, local };
}

describe('PidNamespace', () => {
  test('pids count from 1 and a name is found until its process is reaped', () => {
    const k = fakeKernel();
    const ns = new PidNamespace(k, new PidNamespace(k, null));
    const a = spawn(k, ns), b = spawn(k, ns);
    expect([a.local, b.local]).toEqual([1, 2]);
    expect(ns.task(2)).toBe(b.t);
    (b.t as { state: string }).state = 'exited';
    k.tasks.delete(b.t.tid);
    expect(ns.task(2)).toBeUndefined();
    expect(ns.group(2)).toBe(b.t.tg); // a zombie until reaped
    k.groups.delete(b.t.tid);
    expect(ns.group(2)).toBeUndefined();
  });

  test('set_tid: EINVAL for 0, PID_MAX, too many levels or a pid other than 1 before init; EPERM without the capability; EEXIST when taken; ENOMEM once dead', () => {
    const k = fakeKernel();
    const root = new PidNamespace(k, null);
    const fresh = new PidNamespace(k, root);
    const fail = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return (e as LinuxError).errno;
      }
      return 0;
    };
    expect(fail(() => fresh.checkEnter([7], true))).toBe(Errno.EINVAL);
    expect(fail(() => fresh.checkEnter([1], false))).toBe(Errno.EPERM);
    expect(fail(() => fresh.checkEnter([1], true))).toBe(0);
    const init = spawn(k, fresh);
    fresh.init = init.t.tg;
    expect(fail(() => fresh.checkEnter([0], true))).toBe(Errno.EINVAL);
    expect(fail(() => fresh.checkEnter([PID_MAX], true))).toBe(Errno.EINVAL);
    expect(fail(() => fresh.checkEnter([5, 5, 5], true))).toBe(Errno.EINVAL);
    expect(fail(() => fresh.checkEnter([1], true))).toBe(Errno.EEXIST);
    expect(fail(() => fresh.checkEnter([5], true))).toBe(0);
    fresh.dead = true;
    expect(fail(() => fresh.checkEnter([], true))).toBe(Errno.ENOMEM);
  });

  test('the maps stay bounded while processes come and go', () => {
    const k = fakeKernel();
    const ns = new PidNamespace(k, new PidNamespace(k, null));
    for (let i = 0; i < 5000; i++) {
      const { t } = spawn(k, ns);
      (t as { state: string }).state = 'exited';
      k.tasks.delete(t.tid);
      k.groups.delete(t.tid);
    }
    const maps = ns as unknown as { tasks: Map<number, Task>; groups: Map<number, ThreadGroup> };
    expect(maps.tasks.size).toBeLessThanOrEqual(256);
    expect(maps.groups.size).toBeLessThanOrEqual(256);
  });
});
