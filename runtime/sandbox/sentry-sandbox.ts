/**
 * SentrySandbox is the real Sandbox: one `tvisor sentry` process per container (which
 * starts its own gofer). `spawn` starts it with the caller's stdio, waits on a pipe until
 * the container's init is loaded (or the sentry reports why it could not be), and leaves
 * it running detached; later commands talk to it over its control socket in the
 * container's state directory; it records init's exit status there before it exits.
 */
import { spawn as spawnChild } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Sandbox, SandboxHandle, SandboxProcess, SandboxRef, SandboxSpawnRequest } from '../container/sandbox';
import { processStartTime } from '../container/proc';
import { spawnGofer } from '../../sentry/gofer-launch';
import { closeFd } from '../../native/unixsock';
import { SandboxCgroup, type CgroupRecord } from './cgroup';

/** SentrySandboxOptions carry the global flags the sentry needs. */
export interface SentrySandboxOptions {
  /** launcher is bin/tvisor (the script Node runs for `tvisor sentry`). */
  launcher: string;
  platform: string;
  strace: boolean;
  debug: boolean;
  logFormat: 'text' | 'json';
  /** log and debugLog are the runtime's --log and --debug-log files, shared with the sentry. */
  log?: string;
  debugLog?: string;
  /** systemdCgroup: cgroupsPath is systemd's slice:prefix:name. */
  systemdCgroup?: boolean;
  /** foreground: the sandbox stays in the caller's session (run, do) rather than its own. */
  foreground?: boolean;
}

const CONTROL = 'sandbox.sock';

/**
 * sandboxEnv is the environment of a sandbox's host processes: PATH only. Nothing of the
 * caller's environment reaches them (NODE_OPTIONS could load code into the sentry;
 * NODE_EXTRA_CA_CERTS costs ~35 ms per Node start).
 */
export function sandboxEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
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

function control(ref: SandboxRef, req: Record<string, unknown>): Promise<Record<string, unknown>> {
  const sock = path.join(ref.stateDir, CONTROL);
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock);
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

/** SentrySandbox runs each container in its own sentry process. */
export class SentrySandbox implements Sandbox {
  constructor(private readonly o: SentrySandboxOptions) {}

  spawn(req: SandboxSpawnRequest): Promise<SandboxHandle> {
    const args = [this.o.launcher, 'sentry', '--bundle', req.bundle, '--id', req.id, '--state-dir', req.stateDir,
      '--control', path.join(req.stateDir, CONTROL), '--ready-fd', '3', '--platform', this.o.platform, '--log-format', this.o.logFormat];
    if (req.consoleSocket) args.push('--console-socket', path.resolve(req.consoleSocket));
    if (this.o.strace) args.push('--strace');
    if (this.o.debug) args.push('--debug');
    if (this.o.log) args.push('--log', path.resolve(this.o.log));
    if (this.o.debugLog) args.push('--debug-log', path.resolve(this.o.debugLog));
    // The sandbox's host processes share one cgroup with config.json's linux.resources.
    // Without cgroup v1 (or privileges) a sandbox that asks for no limits runs without one.
    let cg: SandboxCgroup | undefined;
    try {
      cg = SandboxCgroup.create(req.id, req.spec.linux?.cgroupsPath, req.spec.linux?.resources, { systemd: this.o.systemdCgroup });
    } catch (e) {
      const wantsLimits = Object.keys(req.spec.linux?.resources ?? {}).some((k) => k !== 'devices');
      if (wantsLimits) return Promise.reject(e);
      req.log.warn(`sandbox cgroup not created: ${(e as Error).message}`);
    }
    // The gofer starts beside the sentry (not by it), so that the two Node start-ups overlap.
    let gofer: ReturnType<typeof spawnGofer>;
    let child: ReturnType<typeof spawnChild>;
    try {
      gofer = spawnGofer(this.o.launcher, req.rootfs, req.spec);
      cg?.join(gofer.child.pid!);
      args.push('--gofer-fd', '4');
      try {
        child = spawnChild(process.execPath, args, {
          stdio: ['inherit', 'inherit', 'inherit', 'pipe', gofer.fd],
          detached: !this.o.foreground,
          env: sandboxEnv(),
        });
      } finally {
        closeFd(gofer.fd);
      }
      cg?.join(child.pid!);
    } catch (e) {
      void cg?.destroy();
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      let said = '';
      const ready = child.stdio[3] as NodeJS.ReadableStream;
      const fail = (msg: string) => {
        for (const p of [child, gofer.child]) {
          try {
            p.kill('SIGKILL');
          } catch {
            // already gone
          }
        }
        void cg?.destroy();
        reject(new Error(msg));
      };
      ready.on('data', (d) => {
        said += d;
      });
      ready.on('end', () => {
        const line = said.trim();
        if (line === 'ok') {
          child.unref();
          (ready as unknown as { destroy(): void }).destroy();
          // The sentry joined right after its spawn, long before its Node start-up lets it
          // start a stub, so everything it starts is already in the cgroup (no /proc scan).
          resolve({ pid: child.pid!, data: cg ? { cgroup: cg.record() } : {} });
        } else if (line.startsWith('error ')) fail(line.slice(6));
        else fail(`the sandbox exited before it was ready${line ? `: ${line}` : ''}`);
      });
      child.on('error', (e) => reject(new Error(`cannot start the sandbox: ${e.message}`)));
    });
  }

  async start(ref: SandboxRef): Promise<void> {
    await control(ref, { cmd: 'start' });
  }

  async signal(ref: SandboxRef, signo: number, all: boolean): Promise<void> {
    if (!alive(ref)) throw new Error('container not running');
    await control(ref, { cmd: 'signal', signo, all });
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
    while (alive(ref)) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  async exitStatus(ref: SandboxRef): Promise<number | undefined> {
    try {
      const n = Number(fs.readFileSync(path.join(ref.stateDir, EXIT_STATUS), 'utf8').trim());
      return Number.isInteger(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }

  async destroy(ref: SandboxRef): Promise<void> {
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
    for (const f of [CONTROL, EXIT_STATUS]) fs.rmSync(path.join(ref.stateDir, f), { force: true });
  }
}
