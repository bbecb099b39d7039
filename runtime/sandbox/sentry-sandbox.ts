/**
 * SentrySandbox is the real Sandbox: one `tvisor sentry` process per container, with its
 * gofer beside it. `spawn` starts both with the caller's stdio, waits on a pipe until the
 * container's init is loaded (or the sentry reports why it could not be), and leaves it
 * running detached (in the foreground, the pipe's end then tells when it exits); later
 * commands talk to it over its control socket in the
 * container's state directory; it records init's exit status there before it exits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sandbox, SandboxHandle, SandboxProcess, SandboxRef, SandboxSpawnRequest, SandboxStats } from '../container/sandbox';
import type { LinuxResources } from '../../oci/config';
import { processStartTime } from '../container/proc';
import { removeFile } from '../container/remove';
import { sha256Hex } from '../container/sha256';
import { GOFER_CONTROL_SOCKET, spawnGoferOn } from '../../sentry/gofer-launch';
import { SANDBOX_MALLOC_ENV, sentryNodeFlags } from '../../sentry/limits';
import { pipeCloexec, reap, spawnProcess } from '../../native/spawn';
import { nodeArgs } from '../../native/snapshot';
import { memoryReportEnv } from '../../native/memory-report';
import { closeFd, socketPair } from '../../native/unixsock';
import { inNetns, netSysctls, sentryNet, type NetTarget } from './netns';
import { inOwnNamespaces } from './namespaces';
import { SandboxCgroup, type CgroupRecord } from './cgroup';
import { profileEnv, profileMark } from '../../native/startup-profile';
import { codeCacheEnv } from '../../native/code-cache';
import { destroyMember, isMember, spawnMember } from './pod-member';
import { PipeReader } from './pipe-reader';

/** SentrySandboxOptions carry the global flags the sentry needs. */
export interface SentrySandboxOptions {
  /** launcher is bin/tvisor (the script Node runs for `tvisor sentry`). */
  launcher: string;
  /** platform is passed on as --platform; undefined: the sentry picks its default. */
  platform?: string;
  strace: boolean;
  /** syscallCoverage: the sentry logs the implemented syscalls the container made, at its end. */
  syscallCoverage?: boolean;
  debug: boolean;
  logFormat: 'text' | 'json';
  /** log and debugLog are the runtime's --log and --debug-log files, shared with the sentry. */
  log?: string;
  debugLog?: string;
  /** systemdCgroup: cgroupsPath is systemd's slice:prefix:name. */
  systemdCgroup?: boolean;
  /** foreground: the sandbox stays in the caller's session (run, do) rather than its own. */
  foreground?: boolean;
  /** network: --network as given; an explicit `host` keeps the sentry in the host's network namespace when config.json names none (see netns.ts). */
  network?: 'none' | 'host';
  /** sockets: the application's inet sockets are host sockets (`host`) or the in-sentry loopback (`none`); see sentry/net/mode.ts. */
  sockets?: 'none' | 'host';
}

/**
 * net loads node:net on first use: state, delete and a stopped container's commands never
 * talk to a sentry, and net (with the streams under it) costs each of them ~3 ms.
 */
function net(): typeof import('node:net') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:net') as typeof import('node:net');
}

const CONTROL = 'sandbox.sock';
/** DEFAULT_ROOT is --root's default (runtime/cli.ts). */
const DEFAULT_ROOT = '/run/tvisor';

/**
 * sandboxEnv is the environment of a sandbox's host processes: PATH and glibc malloc's
 * tuning (SANDBOX_MALLOC_ENV, sentry/limits.ts) only. Nothing of the
 * caller's environment reaches them (NODE_OPTIONS could load code into the sentry;
 * NODE_EXTRA_CA_CERTS costs ~35 ms per Node start).
 */
export function sandboxEnv(): NodeJS.ProcessEnv {
  // TVISOR_KVM_DEVICE: the device --platform kvm opens (platform/kvm), e.g. a test's missing one.
  const kvm = process.env.TVISOR_KVM_DEVICE ? { TVISOR_KVM_DEVICE: process.env.TVISOR_KVM_DEVICE } : {};
  // profileEnv carries TVISOR_PHASES too: the sentry's and the gofer's phase sums (native/phases.ts).
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...SANDBOX_MALLOC_ENV, ...profileEnv(), ...memoryReportEnv(), ...codeCacheEnv(), ...kvm };
}
const EXIT_STATUS = 'exit-status';

function alive(ref: SandboxRef): boolean {
  try {
    process.kill(ref.pid, 0);
  } catch {
    return false;
  }
  if (ref.pidStartTime === undefined) return true;
  const st = processStartTime(ref.pid);
  if (st === undefined) return false;
  // A zombie child of ours counts as gone.
  try {
    const stat = fs.readFileSync(`/proc/${ref.pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
  } catch {
    return false;
  }
  return String(st) === String(ref.pidStartTime);
}

/** sentryOomKills asks the sentry how many processes its OOM killer killed (0 when it does not answer: stopped). */
async function sentryOomKills(ref: SandboxRef): Promise<number> {
  try {
    return Number((await control(ref, { cmd: 'oom' })).kills) || 0;
  } catch {
    return 0;
  }
}

function control(ref: SandboxRef, req: Record<string, unknown>): Promise<Record<string, unknown>> {
  const sock = path.join(ref.stateDir, CONTROL);
  // A pod member's requests go to its pod's sandbox (ref.stateDir is the pod's), naming it.
  if (isMember(ref)) req = { ...req, container: ref.id };
  return new Promise((resolve, reject) => {
    const c = net().createConnection(sock);
    let buf = '';
    c.setTimeout(10_000, () => c.destroy(new Error('the sandbox did not answer in 10 s')));
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        c.end();
        const reply = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        if (reply.error) reject(new Error(String(reply.error)));
        else resolve(reply);
      }
    });
    c.on('error', (e) => reject(new Error(`sandbox of container "${ref.id}" does not answer: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
  });
}

/**
 * cgroupName names the sandbox's cgroup when config.json gives no cgroupsPath
 * (/tvisor/<name>): the container id under the default --root, and the id with a hash of
 * its state directory elsewhere, so that the same id under two roots are two cgroups (a cgroup
 * already in use is refused: see SandboxCgroup.create).
 */
function cgroupName(req: SandboxSpawnRequest): string {
  if (req.stateDir === path.join(DEFAULT_ROOT, req.id)) return req.id;
  return `${req.id}-${sha256Hex(req.stateDir).slice(0, 8)}`;
}

/** SentrySandbox runs each container in its own sentry process. */
export class SentrySandbox implements Sandbox {
  /** exits: sandboxes this process started in the foreground, by pid: resolved when gone. */
  private readonly exits = new Map<number, Promise<void>>();
  /** initExits: the same sandboxes, resolved when their init has exited (its `exit` line). */
  private readonly initExits = new Map<number, Promise<void>>();
  /** lifelines: the write ends of those sandboxes' lifeline pipes, closed at destroy. */
  private readonly lifelines = new Map<number, number>();

  constructor(private readonly o: SentrySandboxOptions) {}

  spawn(req: SandboxSpawnRequest): Promise<SandboxHandle> {
    if (req.pod) return this.spawnMember(req);
    const args = [this.o.launcher, 'sentry', '--bundle', req.bundle, '--id', req.id, '--state-dir', req.stateDir,
      '--control', path.join(req.stateDir, CONTROL), '--ready-fd', '3', '--log-format', this.o.logFormat];
    if (this.o.platform) args.push('--platform', this.o.platform);
    if (req.consoleSocket) args.push('--console-socket', path.resolve(req.consoleSocket));
    if (this.o.strace) args.push('--strace');
    if (this.o.syscallCoverage) args.push('--syscall-coverage');
    if (this.o.debug) args.push('--debug');
    args.push('--network', this.o.sockets ?? 'none');
    if (this.o.log) args.push('--log', path.resolve(this.o.log));
    if (this.o.debugLog) args.push('--debug-log', path.resolve(this.o.debugLog));
    let netTarget: NetTarget;
    try {
      netTarget = sentryNet(req.spec, this.o.network ?? 'none');
    } catch (e) {
      return Promise.reject(e);
    }
    let cg: SandboxCgroup | undefined;
    // The gofer starts beside the sentry (not by it), so that the two Node start-ups
    // overlap; the sentry first, as its start-up is the longer. Both through posix_spawn
    // (native/spawn.ts): a fork of this process would copy its page tables, twice.
    let sentryPid: number | undefined;
    let goferPid: number | undefined;
    let readyR = -1;
    // In the foreground, a lifeline: this process holds the write end and never writes; the
    // sentry sees end-of-file when this process is gone, however it died (SIGKILL too), and
    // ends the container rather than outlive its caller (sentry/main.ts, --lifeline-fd).
    let lifeline: number | undefined;
    // The environment of init, when given apart from config.json: written to a pipe the
    // sentry reads at boot (sentry/main.ts, --env-fd), so that it is never in a file.
    let envWrite = -1;
    const kill = () => {
      for (const p of [sentryPid, goferPid]) {
        if (p === undefined) continue;
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    try {
      const [sentryEnd, goferEnd] = socketPair();
      const [r, w] = pipeCloexec();
      readyR = r;
      const [lifeR, lifeW] = this.o.foreground ? pipeCloexec() : [-1, -1];
      if (this.o.foreground) lifeline = lifeW;
      const [envR, envW] = req.processEnv ? pipeCloexec() : [-1, -1];
      envWrite = envW;
      try {
        args.push('--gofer-fd', '4');
        // Preserved descriptors follow at 5..: the sentry gives them to init as 3...
        const preserved = Array.from({ length: req.preserveFds ?? 0 }, (_, i) => 3 + i);
        if (preserved.length) args.push('--preserved-fds', `5:${preserved.length}`);
        if (req.startAtOnce) args.push('--start-at-once');
        // Each in mount, IPC and UTS namespaces of its own (namespaces.ts), where it later
        // pivots into an empty root and drops its privileges (--confine).
        args.push('--confine');
        const fds = [0, 1, 2, w, sentryEnd, ...preserved];
        if (lifeR >= 0) args.push('--lifeline-fd', String(fds.push(lifeR) - 1));
        if (envR >= 0) args.push('--env-fd', String(fds.push(envR) - 1));
        const spawnSentry = () => {
          sentryPid = inOwnNamespaces(() => spawnProcess({
            file: process.execPath, argv: [process.execPath, ...nodeArgs(this.o.launcher, 'sentry', sentryNodeFlags(req.spec)), ...args], env: sandboxEnv(), fds, setsid: !this.o.foreground,
          }));
        };
        const spawnGofer = () => {
          // Its control socket takes the exports of the pod's other containers (pod-member.ts).
          goferPid = inOwnNamespaces(() => spawnGoferOn(goferEnd, this.o.launcher, req.rootfs, req.spec, { debug: this.o.debug, confine: true, control: path.join(req.stateDir, GOFER_CONTROL_SOCKET) }));
        };
        // Network namespaces (netns.ts): one new namespace for both, unless the sentry's is given.
        if (netTarget.kind === 'new') {
          inNetns(netTarget, () => {
            spawnSentry();
            spawnGofer();
          }, netSysctls(req.spec));
        } else {
          inNetns(netTarget, spawnSentry, netSysctls(req.spec));
          inNetns({ kind: 'empty' }, spawnGofer);
        }
        // Moving a process into a v1 hierarchy takes the kernel's cgroup_threadgroup_rwsem
        // for writing: the first move in a while waits for an RCU grace period (7-26 ms
        // here), and meanwhile every fork and thread creation on the host waits too, the
        // two starting Nodes' among them. Both moves come after both spawns, back to back,
        // so that one wait is paid and it overlaps the start of both processes (measured
        // better than moving this process in first so that they are born inside). Neither
        // forks before its Node is up, so their children start in the cgroup.
        //
        // The cgroup is made after the spawns too (as runc applies its cgroups after starting
        // its init): its directories and limits (14-16 ms here) are written while both Nodes
        // boot instead of before. What they allocate before the move stays charged to this
        // process's cgroup, as it already did for the first milliseconds of their start.
        // The sandbox's host processes share one cgroup with config.json's linux.resources.
        // Without cgroup v1 (or privileges) a sandbox that asks for no limits runs without one.
        profileMark('spawned');
        try {
          cg = SandboxCgroup.create(cgroupName(req), req.spec.linux?.cgroupsPath, req.spec.linux?.resources, { systemd: this.o.systemdCgroup });
          profileMark('cgroup-created');
        } catch (e) {
          const wantsLimits = Object.keys(req.spec.linux?.resources ?? {}).some((k) => k !== 'devices');
          if (wantsLimits) throw e;
          req.log.warn(`sandbox cgroup not created: ${(e as Error).message}`);
        }
        cg?.join(sentryPid!);
        cg?.join(goferPid!);
        profileMark('cgroup-joined');
      } finally {
        for (const fd of [sentryEnd, goferEnd, w, lifeR, envR]) if (fd >= 0) closeFd(fd);
      }
    } catch (e) {
      kill();
      closeFd(readyR);
      if (envWrite >= 0) closeFd(envWrite);
      if (lifeline !== undefined) closeFd(lifeline);
      void cg?.destroy();
      return Promise.reject(e);
    }
    const pid = sentryPid!;
    if (envWrite >= 0) {
      // Written from the event loop: the sentry reads until end-of-file, whatever the size.
      const envOut = new (net().Socket)({ fd: envWrite, readable: false, writable: true });
      envOut.on('error', () => undefined); // a sentry that died early: its ready pipe says why
      envOut.end(JSON.stringify(req.processEnv));
    }
    return new Promise((resolve, reject) => {
      let said = '';
      let answered = false;
      let ready: PipeReader | undefined;
      const fail = (msg: string) => {
        answered = true;
        ready?.close();
        if (lifeline !== undefined) closeFd(lifeline);
        kill();
        void cg?.destroy();
        reject(new Error(msg));
      };
      let closed = () => {};
      const gone = new Promise<void>((r) => { closed = r; });
      let initExited = () => {};
      const initGone = new Promise<void>((r) => { initExited = r; });
      void gone.then(() => initExited());
      const onData = (d: string) => {
        said += d;
        const nl = said.indexOf('\n');
        if (nl < 0) return;
        // After `ok`, the sentry says `exit N` as soon as init has exited (sentry/main.ts),
        // possibly in the same read as `ok`.
        if (said.slice(nl + 1).includes('exit ')) initExited();
        if (answered) return;
        const line = said.slice(0, nl).trim();
        if (line === 'ok') {
          answered = true;
          if (this.o.foreground) {
            // The pipe's end is the sandbox's exit (see sentry/main.ts): wait() uses it.
            // Its read keeps this process alive until then (pipe-reader.ts), as a foreground
            // caller waits for the sandbox anyway.
            this.exits.set(pid, gone);
            this.initExits.set(pid, initGone);
            if (lifeline !== undefined) this.lifelines.set(pid, lifeline);
          } else {
            ready!.close();
          }
          resolve({ pid, data: { goferPid, ...(cg ? { cgroup: cg.record() } : {}) } });
        } else if (line.startsWith('error ')) fail(line.slice(6));
        else fail(`the sandbox said ${JSON.stringify(line)} instead of being ready`);
      };
      // Read without node:net (pipe-reader.ts); the descriptor is the reader's to close.
      ready = new PipeReader(readyR, onData, (e) => {
        closed();
        if (answered) return;
        if (e) fail(`cannot read the sandbox's ready pipe: ${e.message}`);
        else fail(`the sandbox exited before it was ready${said.trim() ? `: ${said.trim()}` : ''}`);
      });
    });
  }

  /** spawnMember creates a container inside its pod's running sandbox (pod-member.ts). */
  private async spawnMember(req: SandboxSpawnRequest): Promise<SandboxHandle> {
    const handle = await spawnMember(req, req.pod!);
    if (req.startAtOnce) {
      const ref: SandboxRef = { id: req.id, pid: handle.pid, stateDir: req.pod!.stateDir, data: handle.data };
      await control(ref, { cmd: 'start' }).catch(async (e) => {
        await this.destroy(ref);
        throw e;
      });
    }
    return handle;
  }

  async start(ref: SandboxRef): Promise<void> {
    await control(ref, { cmd: 'start' });
  }

  async signal(ref: SandboxRef, signo: number, all: boolean): Promise<void> {
    // SIGKILL to every process of the container is the sandbox's end: the sentry is killed
    // directly (its stubs die with it, PR_SET_PDEATHSIG; the gofer at the socket's EOF), so
    // that it works whatever state the sentry is in, and a sandbox that has just ended
    // (a foreground run's init exited a moment ago) is already what was asked.
    if (signo === 9 && all && !isMember(ref)) {
      if (!alive(ref)) return;
      try {
        process.kill(ref.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      return;
    }
    if (!alive(ref)) throw new Error('container not running');
    await control(ref, { cmd: 'signal', signo, all });
  }

  async waitInit(ref: SandboxRef): Promise<void> {
    const exited = this.initExits.get(ref.pid);
    if (exited) {
      // The pipe is unreferenced (spawn): this timer keeps the process alive meanwhile.
      const keep = setInterval(() => undefined, 1 << 30);
      try {
        await exited;
      } finally {
        clearInterval(keep);
      }
      this.initExits.delete(ref.pid);
    } else {
      while (!(await this.wait(ref, 60_000))) { /* no deadline */ }
    }
  }

  async pause(ref: SandboxRef): Promise<void> {
    await control(ref, { cmd: 'pause' });
  }

  async resume(ref: SandboxRef): Promise<void> {
    await control(ref, { cmd: 'resume' });
  }

  async processes(ref: SandboxRef): Promise<SandboxProcess[]> {
    if (!alive(ref)) return [];
    const reply = await control(ref, { cmd: 'ps' });
    return reply.processes as SandboxProcess[];
  }

  async wait(ref: SandboxRef, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    const exit = this.exits.get(ref.pid);
    if (exit) {
      // Spawned by this process in the foreground: the ready pipe closes as it exits.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exit.then(() => false),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(true), timeoutMs); }),
      ]);
      clearTimeout(timer);
      if (timedOut) return false;
    }
    while (alive(ref)) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, exit ? 1 : 10));
    }
    // Reaping (a child of this process) is destroy's, which every path ends with.
    if (exit) this.exits.delete(ref.pid);
    return true;
  }

  async exitStatus(ref: SandboxRef): Promise<number | undefined> {
    if (isMember(ref)) {
      const reply = await control(ref, { cmd: 'state' }).catch(() => ({} as Record<string, unknown>));
      return typeof reply.exit === 'number' ? reply.exit : undefined;
    }
    try {
      // The sentry creates the file empty at its start and writes it when init exits.
      const text = fs.readFileSync(path.join(ref.stateDir, EXIT_STATUS), 'utf8').trim();
      const n = Number(text);
      return text && Number.isInteger(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }

  async destroy(ref: SandboxRef): Promise<void> {
    if (isMember(ref)) return destroyMember(ref, () => control(ref, { cmd: 'delete' }));
    if (alive(ref)) {
      try {
        process.kill(ref.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      await this.wait(ref, 5000);
    }
    if (ref.data?.cgroup) {
      // Whatever of the sandbox is still in its cgroup (a stub, the gofer) goes with it.
      const cg = SandboxCgroup.load(ref.data.cgroup as CgroupRecord);
      for (const p of cg.pids()) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      await cg.destroy();
    }
    // Spawned by this process (posix_spawn), the two are its children until it exits: a
    // long-lived caller reaps them here (anyone else's children: ECHILD, ignored).
    for (const p of [ref.pid, ref.data?.goferPid]) {
      if (typeof p !== 'number') continue;
      try {
        reap(p);
      } catch {
        // not our child
      }
    }
    // A confined sentry cannot remove its sockets itself (it has no path to them).
    for (const f of [CONTROL, `${CONTROL}.exec`, EXIT_STATUS]) removeFile(path.join(ref.stateDir, f));
    const lifeline = this.lifelines.get(ref.pid);
    if (lifeline !== undefined) {
      this.lifelines.delete(ref.pid);
      closeFd(lifeline);
    }
  }

  // stats and update (tvisor events, tvisor update) work on the sandbox's cgroup.
  // The sentry's own OOM kills (its accounting against the container's memory limit)
  // add to the host cgroup's: an oom event each, and memory.failcnt counts them too.
  async stats(ref: SandboxRef): Promise<SandboxStats> {
    const cg = sandboxCgroup(ref);
    const data = cg.stats(), kills = await sentryOomKills(ref);
    if (data.memory && kills > 0) {
      const f = data.memory.usage.failcnt;
      data.memory.usage.failcnt = typeof f === 'bigint' ? f + BigInt(kills) : f + kills;
    }
    const host = cg.oomKills();
    return { data, oomKills: host === undefined && kills === 0 ? undefined : (host ?? 0) + kills };
  }

  async oomKills(ref: SandboxRef): Promise<number | undefined> {
    const host = sandboxCgroup(ref).oomKills(), kills = await sentryOomKills(ref);
    return host === undefined && kills === 0 ? undefined : (host ?? 0) + kills;
  }

  async update(ref: SandboxRef, resources: LinuxResources): Promise<string[]> {
    const ignored = sandboxCgroup(ref).set(resources);
    // The sentry enforces the memory and pids limits on the application and shows them in
    // its /sys/fs/cgroup: it learns them too (a sandbox that has just ended has nothing to learn).
    if (alive(ref)) await control(ref, { cmd: 'update', resources });
    return ignored;
  }
}

/** sandboxCgroup is the cgroup recorded at spawn; a sandbox made without one has no figures or limits. */
function sandboxCgroup(ref: SandboxRef): SandboxCgroup {
  // A pod's container has none of its own: its host processes are in its pod's.
  if (isMember(ref)) throw new Error(`container "${ref.id}" runs in the sandbox of pod "${String(ref.data!.pod)}", whose host cgroup is the pod's: its figures and limits are the pod's sandbox container's`);
  if (!ref.data?.cgroup) throw new Error(`container "${ref.id}" has no cgroup (its sandbox was created without cgroup v1)`);
  return SandboxCgroup.load(ref.data.cgroup as CgroupRecord);
}
