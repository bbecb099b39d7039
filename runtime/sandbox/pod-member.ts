/**
 * Pod members: containers that run inside another container's sandbox, as runsc runs a
 * Kubernetes pod (one sentry for the pause container and every application container).
 *
 * Which container is which comes from config.json's annotations (container/pod.ts).
 *
 * A member's host processes, started by `create`:
 *   - its gofer, serving its rootfs and bind mounts (in namespaces of its own, as every
 *     gofer), whose 9P connection is handed to the running sentry;
 *   - its waiter (native/waiter/waiter.c), the pid of --pid-file and state, in the pod's
 *     network namespace: it exits with the member's init's exit status, which the
 *     sentry writes into the waiter's pipe.
 * Both join the pod's host cgroup, so that the pod's end takes them too. The sentry gets
 * the request on its exec socket ({"create": {id, spec}} with the gofer connection, the
 * waiter's pipe and this process's stdin, stdout and stderr: SCM_RIGHTS; with
 * process.terminal no stdio, and the sentry's answer carries the master of init's new
 * pty, for --console-socket); later commands
 * reach it on the pod's control socket with {"container": id} (sentry/kernel/containers.ts).
 */
import * as path from 'node:path';
import type { PodRef, SandboxHandle, SandboxRef, SandboxSpawnRequest } from '../container/sandbox';
import { ContainerError } from '../container/errors';
import { findFile } from '../../native/ptrace/ptrace-native';
import { isProcessAlive, processStartTime, waitProcessGone } from '../container/proc';
import { pipeCloexec, reap, spawnProcess } from '../../native/spawn';
import { closeFd, connectUnix, MsgBuffers, socketPair } from '../../native/unixsock';
import { spawnGoferOn } from '../../sentry/gofer-launch';
import { EXEC_SOCKET, readLineWithFds } from './sentry-exec';
import { sendConsoleFd } from '../../native/console-socket';
import { inNetns } from './netns';
import { inOwnNamespaces } from './namespaces';
import { SandboxCgroup, type CgroupRecord } from './cgroup';

/** MEMBER_EXIT_WAIT_MS bounds the wait for a member's gofer and waiter to end by themselves at delete. */
const MEMBER_EXIT_WAIT_MS = 2000;

/** isMember tells whether a ref names a pod member. */
export function isMember(ref: SandboxRef): boolean {
  return typeof ref.data?.pod === 'string';
}

/** waiterPath is the waiter binary (make build). */
function waiterPath(): string {
  return findFile('tvisor-waiter', ['build/native/tvisor-waiter']);
}

/** readReply reads one JSON line from a connected socket (blocking: the sentry answers at
 * once) and the descriptors that came with it (the caller closes them). */
function readReply(fd: number, msg: MsgBuffers): { reply: Record<string, unknown>; fds: number[] } {
  const { text, fds } = readLineWithFds(fd, msg, (n) => new ContainerError(n === 0 ? 'the pod\'s sandbox went away before it answered' : `reading from the pod's sandbox: errno ${-n}`));
  try {
    return { reply: JSON.parse(text.slice(0, text.indexOf('\n'))) as Record<string, unknown>, fds };
  } catch (e) {
    for (const f of fds) closeFd(f);
    throw new ContainerError(`the pod's sandbox answered ${JSON.stringify(text)}`, { cause: e });
  }
}

/**
 * spawnMember creates container req.id in pod `pod`'s sandbox (see the module comment)
 * and returns its waiter as the sandbox pid. On failure nothing it started is left.
 */
export async function spawnMember(req: SandboxSpawnRequest, pod: PodRef, o: { launcher: string; debug: boolean }): Promise<SandboxHandle> {
  const [sentryEnd, goferEnd] = socketPair();
  let r = -1, w = -1, goferPid: number | undefined, waiterPid: number | undefined, sock = -1;
  const kill = () => {
    for (const p of [goferPid, waiterPid]) {
      if (p === undefined) continue;
      try {
        process.kill(p, 'SIGKILL');
        reap(p);
      } catch {
        // gone
      }
    }
  };
  try {
    goferPid = inNetns({ kind: 'empty' }, () => inOwnNamespaces(() => spawnGoferOn(goferEnd, o.launcher, req.rootfs, req.spec, { debug: o.debug, confine: true })));
    [r, w] = pipeCloexec();
    const file = waiterPath();
    // In the pod's network namespace: /proc/<waiter>/ns/net (Docker's --network
    // container:<this container>, nsenter) is then the pod's, as a sandbox pid's is its.
    waiterPid = inNetns({ kind: 'path', path: `/proc/${pod.pid}/ns/net` }, () => spawnProcess({ file, argv: [file], env: {}, fds: [null, null, null, r], setsid: true }));
    if (pod.cgroup) {
      const cg = SandboxCgroup.load(pod.cgroup as CgroupRecord);
      cg.join(goferPid);
      cg.join(waiterPid);
    }
    // The sentry's 9P handshake is synchronous: were the gofer still starting (its Node
    // start-up), every process of the pod would wait for it. It is greeted here first.
    const { Client } = await import('../../gofer/p9/client');
    Client.overFd(sentryEnd, { owned: false }).close();
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
    return { pid: waiterPid, data: { pod: pod.id, podStateDir: pod.stateDir, goferPid, goferStartTime: processStartTime(goferPid), initPid: reply.pid } };
  } catch (e) {
    kill();
    throw e;
  } finally {
    for (const fd of [sentryEnd, goferEnd, r, w, sock]) if (fd >= 0) closeFd(fd);
  }
}

/**
 * destroyMember lets go of what a member left: the sentry's part (its processes, mounts
 * and gofer connection, when the pod still runs), then its gofer and waiter processes.
 * `deleteInSandbox` sends the sentry its delete request (a pod that is gone: rejected, ignored).
 */
export async function destroyMember(ref: SandboxRef, deleteInSandbox: () => Promise<unknown>): Promise<void> {
  await deleteInSandbox().catch(() => undefined);
  const gofer = typeof ref.data?.goferPid === 'number' ? { pid: ref.data.goferPid, start: ref.data.goferStartTime as string | undefined } : undefined;
  // The gofer ends at its connection's end, the waiter once init's status is written:
  // each is waited for, then killed if it is still there.
  for (const p of [...(gofer ? [gofer] : []), { pid: ref.pid, start: ref.pidStartTime }]) {
    if (!(await waitProcessGone(p.pid, p.start, MEMBER_EXIT_WAIT_MS)) && isProcessAlive(p.pid, p.start)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    try {
      reap(p.pid);
    } catch {
      // not our child
    }
  }
}
