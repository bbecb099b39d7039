/**
 * spawnProcess creates a process from an OCI process description: the container's init
 * at boot, and every `exec` into a running sandbox. The process gets its own address
 * space, the given host descriptors as stdin/stdout/stderr, the spec's user, capabilities,
 * no_new_privs, cwd, environment (HOME added as runc adds it), rlimits and oom_score_adj, and its program loaded (not yet running: the caller wakes it).
 */
import { leaveGroup } from './sessions';
import { Registers } from '../../platform';
import { errnoDescription } from '../../native/libc';
import type { Process } from '../../oci/config';
import { MemoryManager } from '../mm/mm';
import { FdTable } from '../vfs/fd-table';
import type { FileDescription } from '../vfs/file';
import { resolve, stepDown } from '../vfs/path';
import { credentialsFromProcess } from './credentials';
import { LinuxError } from './errors';
import type { Kernel } from './kernel';
import { Task } from './task';
import { execve } from './task-exec';
import { ThreadGroup } from './thread-group';
import { limitOf, RLIMIT_NOFILE } from './rlimits';
import { withHome } from './passwd';
import { initMountNamespace } from './mount-namespaces';
import type { MountNamespace } from '../vfs/mount';
import { enterPidNamespace, type PidNamespace } from './pid-namespace';
import type { UtsNamespace } from './namespaces';
import { setIpcNamespace, type IpcNamespace } from './ipc/namespace';

/**
 * SpawnPlace puts a process in a pod container's namespaces (kernel/containers.ts) rather
 * than in those of the sandbox's init: its mount namespace (at its root), its pid
 * namespace when it has one of its own (null: the sandbox's), its UTS and IPC namespaces
 * (null: the sandbox's), and the container it belongs to.
 */
export interface SpawnPlace {
  mntns: MountNamespace;
  pidns: PidNamespace | null;
  utsns: UtsNamespace | null;
  ipcns: IpcNamespace | null;
  container: string;
}

/** RLIMITS maps OCI rlimit names to resource numbers. */
const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5, RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** spawnProcess builds the process; `stdio` are the files for fds 0, 1, 2; `place`, for
 * a pod container's process, the namespaces it starts in. */
export function spawnProcess(k: Kernel, p: Process, stdio: FileDescription[], place?: SpawnPlace): Task {
  const u = p.user;
  const creds = credentialsFromProcess(p);
  // An exec'd process joins init's mount namespace, at its root (runc's setns).
  const mntns = place?.mntns ?? initMountNamespace(k);
  const root = mntns === k.mounts ? k.mounts.root : stepDown(mntns.root);
  let cwd;
  try {
    cwd = resolve({ root, cwd: root, creds }, root, p.cwd || '/', { follow: true, directory: true });
  } catch (e) {
    // runc's words: the process never starts, and the user learns which path was wrong.
    if (e instanceof LinuxError) throw new Error(`chdir to cwd ("${p.cwd}") set in config.json failed: ${errnoDescription(e.errno)}`);
    throw e;
  }
  const fds = new FdTable();
  stdio.forEach((f, i) => fds.setAt(i, f, false));
  const tgid = k.allocId();
  const tg = new ThreadGroup(tgid, null, null);
  // The address space first: its stub gives the platform the initial FP state (asked
  // first, the platform would spawn a stub only to read it); exec loads into it (fresh).
  const mm = MemoryManager.create(k.platform);
  const task = new Task(k, tgid, tg, new Registers(), k.platform.newFpState(), mm, fds, { root, cwd, umask: u.umask ?? 0o022 }, creds);
  tg.leader = task;
  tg.tasks.add(task);
  task.mntns = mntns === k.mounts ? null : mntns;
  if (place) {
    tg.container = place.container;
    task.utsns = place.utsns;
    setIpcNamespace(task, place.ipcns);
    if (place.pidns) enterPidNamespace(task, place.pidns, true);
  }
  for (const rl of p.rlimits ?? []) {
    const res = RLIMITS[rl.type];
    if (res !== undefined) tg.rlimits.set(res, [BigInt(rl.soft), BigInt(rl.hard)]);
  }
  fds.limit = Number(limitOf(tg, RLIMIT_NOFILE)[0]);
  tg.oom = { adj: p.oomScoreAdj ?? 0, min: 0 };
  k.tasks.set(tgid, task);
  k.groups.set(tgid, tg);
  const env = withHome(k, task, p.env ?? []);
  const args = p.args ?? [];
  try {
    const exe = findExecutable(k, task, args[0], env);
    try {
      execve(task, cwd, exe, args, env, true);
    } catch (e) {
      if (e instanceof LinuxError) throw new Error(`exec "${exe}": ${errnoDescription(e.errno)}`);
      throw e;
    }
  } catch (e) {
    k.tasks.delete(tgid);
    k.groups.delete(tgid);
    leaveGroup(tg);
    task.mm.release();
    fds.closeAll();
    throw e;
  }
  task.state = 'blocked';
  return task;
}

/** findExecutable resolves a command name through the container's PATH, as runc does. */
export function findExecutable(k: Kernel, t: Task, name: string, env: string[]): string {
  if (name.includes('/')) return name;
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const dir of pathVar.split(':')) {
    if (!dir) continue;
    const candidate = `${dir.replace(/\/$/, '')}/${name}`;
    try {
      const loc = resolve(t, t.root, candidate, { follow: true });
      if (loc.dentry.inode.isRegular && loc.dentry.inode.stat().mode & 0o111) return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`exec: "${name}": executable file not found in $PATH`);
}
