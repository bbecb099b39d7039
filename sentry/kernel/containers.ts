/**
 * Containers of a pod: several OCI containers in one sandbox, as runsc runs a Kubernetes
 * pod. The sandbox's own container (the pod's "sandbox" or pause container) is the one
 * the sentry booted; each other container of the pod is made here, at the runtime's
 * request (exec-server.ts: a `create` message), with:
 *   - its own rootfs, served by a gofer of its own over the 9P connection handed over
 *     with the request, and its own mount namespace built from its config.json exactly as
 *     boot builds the sandbox's (boot.ts mountContainer: its mounts, /proc, /dev, masks);
 *   - its own init, loaded at create and woken at start, and its own process, env, cwd, user;
 *   - its own linux.seccomp profile (Kernel.containerSeccomp, applied by the dispatcher);
 *   - the pod's network stack (the sentry has one), and the pod's IPC and UTS namespaces
 *     unless its config.json asks for new ones (a namespace entry without a path); the
 *     pod's pid namespace when its config.json names a path (containerd's shared pid
 *     namespace: /proc/<sandbox pid>/ns/pid), else a pid namespace of its own.
 * Every process carries its container's id (ThreadGroup.container, copied by fork), so
 * that signals, ps, exec and delete act on one container. Init's exit status goes to the
 * runtime's waiter (native/waiter/waiter.c) through a pipe whose write end came with the
 * request: the waiter is the host process a shim reaps for this container.
 *
 * Control requests (main.ts's control socket, {"cmd": ..., "container": id}): start,
 * signal, ps, pause and resume (its tasks alone: kernel/sched.ts), state, delete. Delete kills the container's processes, waits for them to
 * be gone, and then lets go of its mount namespace (its dentries, with the fids and host
 * descriptors they cached) and its gofer connection: the sentry then holds no descriptor
 * of its files but those another container's process still has open.
 */
import type { ContainerProcess } from '../../oci/process-list';
import { closeSync, writeSync } from 'node:fs';
import type { Process, Spec } from '../../oci/config';
import { Client } from '../../gofer/p9/client';
import { closeFd } from '../../native/unixsock';
import { mountContainer } from '../boot';
import { compileSeccomp } from '../seccomp';
import { exitCode } from '../exit-code';
import { GoferFs, releaseConnection } from '../fsimpl/gofer/gofer-fs';
import { HostFile } from '../fsimpl/host/host-file';
import { cgroupViewOf } from '../fsimpl/sys/cgroupfs';
import type { SentryLog } from '../log';
import { O_RDONLY, O_WRONLY, type FileDescription } from '../vfs/file';
import { MountNamespace, MS_RDONLY, MS_RELATIME } from '../vfs/mount';
import { IpcNamespace } from './ipc/namespace';
import type { Kernel } from './kernel';
import { mountNamespaceOf, sweepMountNamespaces } from './mount-namespaces';
import type { UtsNamespace } from './namespaces';
import { PidNamespace, rootPidNamespace } from './pid-namespace';
import { sendToGroup } from './signals';
import { SIGKILL, SI_USER } from './signal-types';
import { spawnProcess, type SpawnPlace } from './spawn';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';

/** CREATE_FDS are the descriptors a create request carries, in this order. */
export const CREATE_FDS = ['gofer', 'waiter', 'stdin', 'stdout', 'stderr'] as const;

/** DELETE_WAIT_MS bounds how long delete waits for a container's killed processes to go. */
const DELETE_WAIT_MS = 10_000;

/** ID_RE is what a container id may be (runtime/container/id.ts checks the same at the CLI). */
const ID_RE = /^[A-Za-z0-9_+,.-]{1,255}$/;

/** PodContainer is one container of the pod other than the sandbox's own. */
interface PodContainer {
  id: string;
  init: Task;
  /** place is where its processes start (exec too). */
  place: SpawnPlace;
  client: Client;
  /** waiterFd is the pipe to the runtime's waiter: -1 once init's status is written. */
  waiterFd: number;
  started: boolean;
  /** exit is init's exit code once it has exited. */
  exit?: number;
}

/** ProcessInfo is one process as `ps` reports it (oci/process-list.ts: the runtime reads the same record). */
export type ProcessInfo = ContainerProcess;

/** groupsOf lists the live processes of container `id` (null: the sandbox's own). */
export function groupsOf(k: Kernel, id: string | null): ThreadGroup[] {
  return [...k.groups.values()].filter((g) => g.container === id && g.tasks.size > 0);
}

/** processList is `ps` of container `id` (null: the sandbox's own): sandbox pids, and the host process of each. */
export function processList(k: Kernel, id: string | null): ProcessInfo[] {
  return groupsOf(k, id).map((g) => {
    const t = g.leader ?? [...g.tasks][0];
    return { pid: g.tgid, ppid: g.parent?.tgid ?? 0, uid: t.creds.uid, start: g.startTime, cmd: t.name, hostPid: t.mm?.as.hostPid };
  });
}

/** ownNamespace tells whether config.json asks for a new namespace of `type` (an entry without a path). */
function ownNamespace(spec: Spec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === type && n.path === undefined);
}

/** PodContainers holds the sandbox's other containers, by id. */
export class PodContainers {
  private readonly byId = new Map<string, PodContainer>();

  constructor(private readonly k: Kernel, private readonly log: SentryLog) {}

  /**
   * create makes container `id` from its config.json: its mounts over the gofer
   * connection fds[0], its init loaded (not running) with stdio fds[2..4], or `terminal`
   * (the files of its pty, for process.terminal); fds[1] is the waiter's pipe. It owns the
   * descriptors from then on, whatever happens (closed on failure; `terminal`'s stay the
   * caller's). It returns init.
   */
  create(id: string, spec: Spec, fds: number[], terminal?: FileDescription[]): Task {
    const want = terminal ? 2 : CREATE_FDS.length;
    if (fds.length !== want) {
      for (const fd of fds) closeFd(fd);
      throw new Error(`create: expected ${want} descriptors (${CREATE_FDS.slice(0, want).join(', ')}), got ${fds.length}`);
    }
    let client: Client | null = null;
    let stdioTaken = false;
    try {
      if (typeof id !== 'string' || !ID_RE.test(id)) throw new Error(`create: ${JSON.stringify(id)} is not a container id`);
      if (this.byId.has(id)) throw new Error(`create: container "${id}" already exists in this sandbox`);
      if (!spec || typeof spec !== 'object' || !Array.isArray(spec.process?.args) || spec.process.args.length === 0) throw new Error('create: config.json: process.args: must be a non-empty array');
      if (Boolean(spec.process.terminal) !== Boolean(terminal)) throw new Error('create: process.terminal and the terminal given differ');
      const seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : null;
      client = Client.overFd(fds[0]);
      const rootFs = new GoferFs(client, '/', spec.root?.readonly ?? false);
      const mntns = new MountNamespace(rootFs, (spec.root?.readonly ? MS_RDONLY : 0) | MS_RELATIME, 'none');
      const pidns = ownNamespace(spec, 'pid') ? new PidNamespace(this.k, rootPidNamespace(this.k)) : null;
      const uts: UtsNamespace | null = ownNamespace(spec, 'uts') ? { hostname: spec.hostname ?? this.k.hostname, domainname: spec.domainname ?? this.k.domainname } : null;
      const place: SpawnPlace = { mntns, pidns, utsns: uts, ipcns: ownNamespace(spec, 'ipc') ? new IpcNamespace() : null, container: id };
      // boot's helpers build in k.mounts: the new namespace stands in for the sandbox's
      // while its mounts are made (synchronously: no task runs meanwhile).
      const saved = this.k.mounts;
      this.k.mounts = mntns;
      try {
        mountContainer(this.k, spec, client, this.log, cgroupViewOf(this.k), pidns ?? undefined);
      } finally {
        this.k.mounts = saved;
      }
      // From here the files own the stdio descriptors (a failed spawn releases them).
      stdioTaken = true;
      const stdio = terminal ?? [new HostFile(fds[2], O_RDONLY, 'stdin', true), new HostFile(fds[3], O_WRONLY, 'stdout', true), new HostFile(fds[4], O_WRONLY, 'stderr', true)];
      const init = spawnProcess(this.k, spec.process, stdio, place);
      const c: PodContainer = { id, init, place, client, waiterFd: fds[1], started: false };
      init.tg.exitWatcher = (status) => this.initExited(c, exitCode(status));
      this.byId.set(id, c);
      if (seccomp) this.k.containerSeccomp.set(id, seccomp);
      return init;
    } catch (e) {
      // What was made of its namespace goes with the sweep (no task is in it).
      sweepMountNamespaces(this.k);
      if (client) releaseConnection(client);
      else closeFd(fds[0]);
      closeFd(fds[1]);
      if (!stdioTaken && !terminal) for (const fd of fds.slice(2)) closeFd(fd);
      throw e;
    }
  }

  /** initExited records init's exit code and hands it to the waiter, which then exits with it. */
  private initExited(c: PodContainer, code: number): void {
    c.exit = code;
    if (c.waiterFd < 0) return;
    try {
      writeSync(c.waiterFd, `${code}\n`);
    } catch (e) {
      this.log.warn(`container ${c.id}: cannot tell the waiter init's exit status: ${(e as Error).message}`);
    }
    closeSync(c.waiterFd);
    c.waiterFd = -1;
  }

  /** get returns container `id`, or throws naming it. */
  private get(id: unknown): PodContainer {
    const c = typeof id === 'string' ? this.byId.get(id) : undefined;
    if (!c) throw new Error(`container ${JSON.stringify(id)} is not in this sandbox`);
    return c;
  }

  /**
   * spawnIn starts `proc` in container `id` (exec): in the mount namespace its init is in
   * (or was made in), its pid, UTS and IPC namespaces, tagged with its id. Not yet running.
   */
  spawnIn(id: string, proc: Process, stdio: FileDescription[]): Task {
    const c = this.get(id);
    if (c.exit !== undefined) throw new Error(`container "${id}" is not running`);
    const live = [...c.init.tg.tasks].find((t) => t.state !== 'exited');
    return spawnProcess(this.k, proc, stdio, { ...c.place, mntns: live ? mountNamespaceOf(live) : c.place.mntns });
  }

  /** control answers a control-socket request about one container (see the module comment). */
  async control(req: { cmd?: string; container?: unknown; signo?: unknown; all?: unknown }): Promise<Record<string, unknown>> {
    const c = this.get(req.container);
    switch (req.cmd) {
      case 'start':
        if (c.started) throw new Error(`container "${c.id}" has already started`);
        if (c.exit !== undefined) throw new Error(`container "${c.id}" is stopped`);
        c.started = true;
        this.k.sched.wake(c.init);
        return { ok: true };
      case 'signal': {
        const signo = Number(req.signo);
        if (!Number.isInteger(signo) || signo < 1 || signo > 64) throw new Error(`invalid signal ${String(req.signo)}`);
        const groups = req.all ? groupsOf(this.k, c.id) : c.exit === undefined ? [c.init.tg] : [];
        if (!req.all && groups.length === 0) throw new Error('container not running');
        for (const g of groups) sendToGroup(g, { signo, code: SI_USER, pid: 0, uid: 0 }, true);
        return { ok: true };
      }
      case 'ps':
        return { ok: true, processes: processList(this.k, c.id) };
      case 'pause':
      case 'resume':
        this.k.sched.setContainerPaused(c.id, req.cmd === 'pause');
        return { ok: true };
      case 'state':
        return { ok: true, started: c.started, ...(c.exit !== undefined ? { exit: c.exit } : {}), pids: groupsOf(this.k, c.id).map((g) => g.tgid) };
      case 'delete':
        await this.remove(c);
        return { ok: true };
      default:
        throw new Error(`${String(req.cmd)} is not supported for a container of a pod`);
    }
  }

  /** remove kills the container's processes, waits until they are gone, and lets go of its mounts and gofer. */
  private async remove(c: PodContainer): Promise<void> {
    // A paused container's processes must run to die.
    this.k.sched.setContainerPaused(c.id, false);
    const until = Date.now() + DELETE_WAIT_MS;
    for (;;) {
      const left = groupsOf(this.k, c.id);
      if (left.length === 0) break;
      if (Date.now() > until) throw new Error(`container "${c.id}": ${left.length} processes did not exit after SIGKILL`);
      for (const g of left) sendToGroup(g, { signo: SIGKILL, code: SI_USER, pid: 0, uid: 0 }, true);
      await new Promise((r) => setTimeout(r, 5));
    }
    this.byId.delete(c.id);
    this.k.containerSeccomp.delete(c.id);
    if (c.exit === undefined) this.initExited(c, 128 + SIGKILL);
    // No task is in its namespace any more: the sweep detaches its mounts and drops their
    // dentries (what nothing holds goes: fids, cached host descriptors); then the
    // connection goes, with what its files still cached. A file another container still
    // has open keeps its host descriptor until closed (gofer-fs.ts releaseConnection).
    sweepMountNamespaces(this.k);
    releaseConnection(c.client);
    this.log.debug(`container ${c.id} deleted`);
  }
}
