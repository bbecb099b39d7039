/**
 * /proc/sysvipc/{shm,sem,msg}: the System V IPC objects of the reader's IPC namespace,
 * in the kernel's formats, which `ipcs` reads. The limits the namespace enforces
 * (kernel/ipc/namespace.ts) are in /proc/sys (sysctl.ts).
 */
import { fromKernelId, type UserNamespace } from '../../kernel/user-namespace';
import { ipcNamespaceOf, sandboxIpcNamespace, type IpcNamespace } from '../../kernel/ipc/namespace';
import type { IpcPerm } from '../../kernel/ipc/perm';
import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import type { Inode } from '../../vfs/inode';
import { ProcDir, ProcFile, type ProcFs } from './nodes';

const SHM_HEADER = '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n';
const SEM_HEADER = '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n';
const MSG_HEADER = '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n';

/** r right-aligns a value in `width` columns (printf's %Nd). */
function r(v: number | bigint | string, width: number): string {
  return String(v).padStart(width);
}

/** keyIdMode is the "%10d %10d  %4o" that starts every line. */
function keyIdMode(p: IpcPerm): string {
  return `${r(p.key | 0, 10)} ${r(p.id, 10)}  ${r(p.mode.toString(8), 4)}`;
}

/** sysvipcText renders one of /proc/sysvipc's files for namespace ns, the owners' ids as
 * the opener's user namespace `reader` sees them (Linux's seq_user_ns). */
export function sysvipcText(ns: IpcNamespace, which: 'shm' | 'sem' | 'msg', reader: UserNamespace | null = null): string {
  /** owners is "%5u %5u %5u %5u": uid, gid, cuid, cgid. */
  const owners = (p: IpcPerm): string => [fromKernelId(reader, 'uid', p.uid), fromKernelId(reader, 'gid', p.gid), fromKernelId(reader, 'uid', p.cuid), fromKernelId(reader, 'gid', p.cgid)]
    .map((v) => r(v >>> 0, 5)).join(' ');
  if (which === 'shm') {
    return SHM_HEADER + ns.shm.objects().map((s) => `${keyIdMode(s.perm)} ${r(s.size, 21)} ${r(s.cpid, 5)} ${r(s.lpid, 5)}  ${r(Math.max(0, s.nattch), 5)} ${owners(s.perm)} ${r(s.atime, 10)} ${r(s.dtime, 10)} ${r(s.ctime, 10)} ${r(s.residentBytes, 21)} ${r(0, 21)}\n`).join('');
  }
  if (which === 'sem') {
    return SEM_HEADER + ns.sem.objects().map((s) => `${keyIdMode(s.perm)} ${r(s.nsems, 10)} ${owners(s.perm)} ${r(s.otime, 10)} ${r(s.ctime, 10)}\n`).join('');
  }
  return MSG_HEADER + ns.msg.objects().map((q) => `${keyIdMode(q.perm)}  ${r(q.cbytes, 10)} ${r(q.messages.length, 10)} ${r(q.lspid, 5)} ${r(q.lrpid, 5)} ${owners(q.perm)} ${r(q.stime, 10)} ${r(q.rtime, 10)} ${r(q.ctime, 10)}\n`).join('');
}

/** nsOf returns the IPC namespace of the task reading /proc (the sandbox's when none). */
function nsOf(k: Kernel, self: () => Task | null): IpcNamespace {
  const t = self();
  return t ? ipcNamespaceOf(t) : sandboxIpcNamespace(k);
}

/** sysvipcDir builds /proc/sysvipc. */
export function sysvipcDir(pfs: ProcFs, k: Kernel, self: () => Task | null): Inode {
  const file = (which: 'shm' | 'sem' | 'msg') => () => new ProcFile(pfs, `/sysvipc/${which}`, (c) => sysvipcText(nsOf(k, self), which, c?.userns ?? null));
  return new ProcDir(pfs, '/sysvipc', () => new Map([['shm', file('shm')], ['sem', file('sem')], ['msg', file('msg')]]));
}

