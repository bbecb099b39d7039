/**
 * fake-sandbox.ts is a Sandbox for tests of the lifecycle: its "sandbox" is a real host
 * process (`sleep`), so pids, start times, signals and exits are the real thing; `start`
 * only records that it was called. Failures can be injected at each step.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { constants } from 'node:os';
import * as path from 'node:path';
import { waitProcessGone } from '../proc';
import type { Sandbox, SandboxHandle, SandboxRef, SandboxSpawnRequest } from '../sandbox';

/** FakeSandbox records calls and runs `sleep` as each container's sandbox process. */
export class FakeSandbox implements Sandbox {
  readonly calls: string[] = [];
  readonly signals: { id: string; signo: number; all: boolean }[] = [];
  /** failOn makes the named method reject (once set, until cleared). */
  failOn = new Set<'spawn' | 'start' | 'signal' | 'destroy'>();
  readonly pids: number[] = [];
  /** requests are the spawn requests, in order. */
  readonly requests: SandboxSpawnRequest[] = [];
  private readonly exits = new Map<number, Promise<number>>();

  async spawn(req: SandboxSpawnRequest): Promise<SandboxHandle> {
    this.calls.push(`spawn ${req.id}`);
    this.requests.push(req);
    if (this.failOn.has('spawn')) throw new Error('fake sandbox: spawn failed');
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject); });
    child.unref();
    // The process can look gone (a zombie) before Node has reaped it and fired 'exit':
    // exitStatus waits for the event rather than reading a map that may not be filled yet.
    this.exits.set(child.pid!, new Promise((resolve) => child.on('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    })));
    this.pids.push(child.pid!);
    fs.writeFileSync(path.join(req.stateDir, 'fake-sandbox'), String(child.pid));
    return { pid: child.pid!, data: { fake: true } };
  }

  async start(ref: SandboxRef): Promise<void> {
    this.calls.push(`start ${ref.id}`);
    if (this.failOn.has('start')) throw new Error('fake sandbox: start failed');
  }

  async signal(ref: SandboxRef, signo: number, all: boolean): Promise<void> {
    this.calls.push(`signal ${ref.id} ${signo}`);
    if (this.failOn.has('signal')) throw new Error('fake sandbox: signal failed');
    this.signals.push({ id: ref.id, signo, all });
    process.kill(ref.pid, signo);
  }

  wait(ref: SandboxRef, timeoutMs: number): Promise<boolean> {
    return waitProcessGone(ref.pid, ref.pidStartTime, timeoutMs);
  }

  async exitStatus(ref: SandboxRef): Promise<number | undefined> {
    const exit = this.exits.get(ref.pid);
    if (!exit) return undefined;
    return Promise.race([exit, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000).unref())]);
  }

  async destroy(ref: SandboxRef): Promise<void> {
    this.calls.push(`destroy ${ref.id}`);
    if (this.failOn.has('destroy')) throw new Error('fake sandbox: destroy failed');
  }

  /** killAll ends every process this fake started (test cleanup). */
  killAll(): void {
    for (const pid of this.pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}
