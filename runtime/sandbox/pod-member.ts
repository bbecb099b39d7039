/**
 * Pod members: containers that run inside another container's sandbox, as runsc runs a
 * Kubernetes pod (one sentry for the pause container and every application container).
 *
 * Which container is which comes from config.json's annotations (container/pod.ts).
 *
 * A member's files are served by the pod's one gofer (the sandbox container's): `create`
 * opens the member's rootfs and bind mounts here, on the host (in a private copy of its
 * mounts, as a gofer of the member's own would), with the gofer's own checks
 * (gofer/server/export.ts openExport), and hands their descriptors, the member's id
 * mappings and one end of a new socket pair to that gofer over its control socket
 * (gofer/server/members.ts, SCM_RIGHTS: the gofer sees no host path). The gofer serves
 * the member's exports, and only them, on that socket; the other end is the member's 9P
 * connection, which goes to the sentry. The gofer lets go of all of it when that
 * connection ends (the sentry closes it at the member's delete) or `delete` asks it to.
 * A pod whose gofer is gone takes no new member.
 *
 * A member's one host process, started by `create`: its waiter (native/waiter/waiter.c),
 * the pid of --pid-file and state, in the pod's network namespace and host cgroup (the
 * pod's end takes it too): it exits with the member's init's exit status, which the
 * sentry writes into the waiter's pipe.
 *
 * The sentry gets the request on its exec socket ({"create": {id, spec}} with the 9P
 * connection, the waiter's pipe and this process's stdin, stdout and stderr: SCM_RIGHTS;
 * with process.terminal no stdio, and the sentry's answer carries the master of init's
 * new pty, for --console-socket); later commands reach it on the pod's control socket
 * with {"container": id} (sentry/kernel/containers.ts).
 */
import * as path from 'node:path';
import type { PodRef, SandboxHandle, SandboxRef, SandboxSpawnRequest } from '../container/sandbox';
import { ContainerError } from '../container/errors';
import { findFile } from '../../native/ptrace/ptrace-native';
import { isProcessAlive, waitProcessGone } from '../container/proc';
import { pipeCloexec, reap, spawnProcess } from '../../native/spawn';
import { closeFd, connectUnix, MsgBuffers, socketPair } from '../../native/unixsock';
import { GOFER_CONTROL_SOCKET, goferExports, goferIdMaps, type GoferExport } from '../../sentry/gofer-launch';
import { openExport } from '../../gofer/server/export';
import { EXEC_SOCKET, readLineWithFds } from './sentry-exec';
import { sendConsoleFd } from '../../native/console-socket';
import { inNetns } from './netns';
import { inOwnNamespaces } from './namespaces';
import { SandboxCgroup, type CgroupRecord } from './cgroup';

/** MEMBER_EXIT_WAIT_MS bounds the wait for a member's waiter to end by itself at delete. */
const MEMBER_EXIT_WAIT_MS = 2000;

/** isMember tells whether a ref names a pod member. */
export function isMember(ref: SandboxRef): boolean {
  return typeof ref.data?.pod === 'string';
}

/** waiterPath is the waiter binary (make build). */
function waiterPath(): string {
  return findFile('tvisor-waiter', ['build/native/tvisor-waiter']);
}

/** readReply reads one JSON line from a connected socket (blocking: the sentry and the
 * gofer answer at once) and the descriptors that came with it (the caller closes them);
 * `peer` names who answers, for errors. */
function readReply(fd: number, msg: MsgBuffers, peer = 'the pod\'s sandbox'): { reply: Record<string, unknown>; fds: number[] } {
  const { text, fds } = readLineWithFds(fd, msg, (n) => new ContainerError(n === 0 ? `${peer} went away before it answered` : `reading from ${peer}: errno ${-n}`));
  try {
    return { reply: JSON.parse(text.slice(0, text.indexOf('\n'))) as Record<string, unknown>, fds };
  } catch (e) {
    for (const f of fds) closeFd(f);
    throw new ContainerError(`${peer} answered ${JSON.stringify(text)}`, { cause: e });
  }
}

/** goferControlPath is the control socket of the gofer of the pod whose state directory is `podStateDir`. */
export function goferControlPath(podStateDir: string): string {
  return path.join(podStateDir, GOFER_CONTROL_SOCKET);
}

/**
 * GoferControl is one connection to a pod gofer's control socket (gofer/server/members.ts):
 * one request line at a time, with its descriptors, answered by one line.
 */
export class GoferControl {
  private readonly msg = new MsgBuffers(4096);

  private constructor(private readonly fd: number, private readonly podId: string) {}

  /** connect opens the control socket at `control`; a gofer that is gone is named as the pod's. */
  static connect(control: string, podId: string): GoferControl {
    try {
      return new GoferControl(connectUnix(control), podId);
    } catch (e) {
      throw new ContainerError(`the gofer of pod "${podId}" does not answer: the pod has ended (${(e as Error).message})`, { cause: e });
    }
  }

  /** request sends one request with `fds` and throws the gofer's error line as a ContainerError. */
  request(req: Record<string, unknown>, fds: number[] = []): void {
    const body = Buffer.from(`${JSON.stringify(req)}\n`);
    const sent = this.msg.send(this.fd, body, body.length, fds);
    if (sent !== body.length) throw new ContainerError(`cannot send a request to the gofer of pod "${this.podId}" (${sent})`);
    const { reply, fds: got } = readReply(this.fd, this.msg, `the gofer of pod "${this.podId}"`);
    for (const f of got) closeFd(f);
    if (reply.error !== undefined) throw new ContainerError(String(reply.error));
  }

  /** close ends the connection (the gofer drops what was staged and not connected). */
  close(): void {
    closeFd(this.fd);
  }
}

/**
 * addToPodGofer makes the pod's gofer at `control` serve member `id`: it opens each of
 * `exports` (openExport's checks and errors, as a gofer's own start makes them), hands
 * them over, then `conn`, the gofer's end of the member's 9P connection, with the
 * member's id mappings. This process's descriptors of them are closed; `conn` is not.
 */
export function addToPodGofer(control: string, podId: string, id: string, exports: GoferExport[], ids: { uid: string[]; gid: string[] }, conn: number): void {
  const roots = openMemberExports(exports);
  let c: GoferControl;
  try {
    c = GoferControl.connect(control, podId);
  } catch (e) {
    for (const fd of roots) closeFd(fd);
    throw e;
  }
  try {
    exports.forEach((e, i) => {
      c.request({ export: { member: id, name: e.name, hostPath: e.hostPath, readonly: e.readonly } }, [roots[i]]);
      closeFd(roots[i]);
      roots[i] = -1;
    });
    c.request({ connect: { member: id, uidMap: ids.uid, gidMap: ids.gid } }, [conn]);
  } finally {
    for (const fd of roots) closeFd(fd);
    c.close();
  }
}

/**
 * openMemberExports opens the roots of a member's exports (openExport: its checks, its
 * errors) as a gofer of its own would have: from a private copy of the host's mounts
 * (inOwnNamespaces), dropped once they are open. The descriptors, and every file the
 * gofer and the sentry open below them, then hold that copy's mounts, not the host's:
 * the member's rootfs mount on the host stays free to unmount at its delete (containerd's
 * shim unmounts it, and an open file of the host's mount would make that EBUSY).
 */
function openMemberExports(exports: GoferExport[]): number[] {
  const roots: number[] = [];
  try {
    inOwnNamespaces(() => {
      for (const e of exports) roots.push(openExport(e.name, e.hostPath, e.readonly).rootFd);
    });
  } catch (err) {
    for (const fd of roots) closeFd(fd);
    throw new ContainerError((err as Error).message, { cause: err });
  }
  return roots;
}

/** removeFromPodGofer asks the pod's gofer to let go of member `id` (its connection, fids and exports); a pod that has ended has nothing to let go. */
export function removeFromPodGofer(control: string, podId: string, id: string): void {
  let c: GoferControl;
  try {
    c = GoferControl.connect(control, podId);
  } catch {
    return; // the gofer is gone, and with it what it held
  }
  try {
    c.request({ remove: { member: id } });
  } finally {
    c.close();
  }
}

/**
 * spawnMember creates container req.id in pod `pod`'s sandbox (see the module comment)
 * and returns its waiter as the sandbox pid. On failure nothing it started is left.
 */
export async function spawnMember(req: SandboxSpawnRequest, pod: PodRef): Promise<SandboxHandle> {
  const [sentryEnd, goferEnd] = socketPair();
  const control = goferControlPath(pod.stateDir);
  let r = -1, w = -1, waiterPid: number | undefined, sock = -1, served = false;
  const kill = () => {
    if (served) {
      try {
        removeFromPodGofer(control, pod.id, req.id);
      } catch {
        // the gofer also lets go when the connection's other end closes, below
      }
    }
    if (waiterPid === undefined) return;
    try {
      process.kill(waiterPid, 'SIGKILL');
      reap(waiterPid);
    } catch {
      // gone
    }
  };
  try {
    addToPodGofer(control, pod.id, req.id, goferExports(req.rootfs, req.spec), goferIdMaps(req.spec), goferEnd);
    served = true;
    [r, w] = pipeCloexec();
    const file = waiterPath();
    // In the pod's network namespace: /proc/<waiter>/ns/net (Docker's --network
    // container:<this container>, nsenter) is then the pod's, as a sandbox pid's is its.
    waiterPid = inNetns({ kind: 'path', path: `/proc/${pod.pid}/ns/net` }, () => spawnProcess({ file, argv: [file], env: {}, fds: [null, null, null, r], setsid: true }));
    if (pod.cgroup) SandboxCgroup.load(pod.cgroup as CgroupRecord).join(waiterPid);
    sock = connectUnix(path.join(pod.stateDir, EXEC_SOCKET));
    const msg = new MsgBuffers(4096);
    const body = Buffer.from(`${JSON.stringify({ create: { id: req.id, spec: req.spec } })}\n`);
    // With a terminal the sentry opens a pty for init and answers with its master, which
    // goes to --console-socket as runc's; else init gets this process's stdio.
    const terminal = req.spec.process?.terminal === true;
    const sent = msg.send(sock, body, body.length, terminal ? [sentryEnd, w] : [sentryEnd, w, 0, 1, 2]);
    if (sent !== body.length) throw new ContainerError(`cannot send the create request to the sandbox of pod "${pod.id}" (${sent})`);
    const { reply, fds } = readReply(sock, msg);
    try {
      if (reply.error) throw new ContainerError(String(reply.error));
      if (terminal) {
        if (fds.length !== 1 || !req.consoleSocket) throw new ContainerError(`the pod's sandbox sent ${fds.length} terminals for a process.terminal init`);
        sendConsoleFd(req.consoleSocket, fds[0], typeof reply.tty === 'string' ? reply.tty : '/dev/ptmx');
      }
    } finally {
      for (const f of fds) closeFd(f);
    }
    return { pid: waiterPid, data: { pod: pod.id, podStateDir: pod.stateDir, initPid: reply.pid } };
  } catch (e) {
    kill();
    throw e;
  } finally {
    for (const fd of [sentryEnd, goferEnd, r, w, sock]) if (fd >= 0) closeFd(fd);
  }
}

/**
 * destroyMember lets go of what a member left: the sentry's part (its processes, mounts
 * and 9P connection, when the pod still runs), the pod gofer's (its connection, fids and
 * exports), then its waiter. `deleteInSandbox` sends the sentry its delete request (a pod
 * that is gone: rejected, ignored).
 */
export async function destroyMember(ref: SandboxRef, deleteInSandbox: () => Promise<unknown>): Promise<void> {
  await deleteInSandbox().catch(() => undefined);
  if (typeof ref.data?.pod === 'string') {
    try {
      removeFromPodGofer(goferControlPath(ref.stateDir), ref.data.pod, ref.id);
    } catch {
      // a gofer that cannot answer is ending: what it holds goes with it
    }
  }
  // The waiter ends once init's status is written: it is waited for, then killed if it is still there.
  if (!(await waitProcessGone(ref.pid, ref.pidStartTime, MEMBER_EXIT_WAIT_MS)) && isProcessAlive(ref.pid, ref.pidStartTime)) {
    try {
      process.kill(ref.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  try {
    reap(ref.pid);
  } catch {
    // not our child
  }
}
