/**
 * harness.ts runs an OCI runtime binary (runc, tvisor) as a black box for the lifecycle
 * tests: a busybox bundle built from the host's static busybox, a private --root, and a
 * `run` helper that captures output through files (a container started by `create`
 * inherits the runtime's stdio, so pipes would never close).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultSpec } from '../../oci/default-spec';
import { accept, closeFd, listenUnix, MsgBuffers } from '../../native/unixsock';
import type { Spec } from '../../oci/config';
import { withPhases, type PhasedRun } from '../bench/walk-phases';

/** BUSYBOX is the static busybox the test rootfs is made of (Debian's busybox-static). */
export const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'sleep', 'true', 'false', 'cat', 'echo', 'ls', 'kill', 'ps'];

/** Result is one finished runtime command. */
export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** TVISOR_BIN is the repository's bin/tvisor. */
const TVISOR_BIN = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');

/**
 * platformFlags are the global flags put before every command of `bin`: for the
 * repository's tvisor, `--platform $TVISOR_PLATFORM` when that is set (the behaviour
 * runner's switch, spec-tests/behaviour/runner.ts), so that the lifecycle tests run on the
 * platform CI names; none otherwise.
 */
export function platformFlags(bin: string): string[] {
  const platform = process.env.TVISOR_PLATFORM;
  return platform && path.resolve(bin) === TVISOR_BIN ? ['--platform', platform] : [];
}

/** OciRuntime drives one runtime binary with its own --root under a temporary directory. */
export class OciRuntime {
  readonly dir: string;
  readonly root: string;
  /** globals are the flags before the command: --root, and tvisor's platform (platformFlags). */
  readonly globals: string[];

  constructor(readonly name: string, readonly bin: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `oci-${name}-`));
    this.root = path.join(this.dir, 'root');
    this.globals = ['--root', this.root, ...platformFlags(bin)];
  }

  /** run executes `<bin> --root <root> [--platform P] ...args` and waits for it (not for its container). */
  run(...args: string[]): Result {
    const out = path.join(this.dir, 'out');
    const err = path.join(this.dir, 'err');
    const outFd = fs.openSync(out, 'w');
    const errFd = fs.openSync(err, 'w');
    try {
      const r = spawnSync(this.bin, [...this.globals, ...args], { stdio: ['ignore', outFd, errFd], timeout: 60_000 });
      return { status: r.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(errFd);
    }
  }

  /** state returns the parsed `state` output, or undefined when the command fails. */
  state(id: string): Record<string, any> | undefined {
    const r = this.run('state', id);
    return r.status === 0 ? JSON.parse(r.stdout) : undefined;
  }

  /** waitStatus polls `state` until the container reaches `status` (or throws after 20 s). */
  async waitStatus(id: string, status: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const st = this.state(id);
      if (st?.status === status) return;
      if (Date.now() > deadline) throw new Error(`${this.name}: container ${id} never reached ${status} (last: ${st?.status})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** bundle writes a busybox bundle whose process runs `args`; it returns the bundle path. */
  bundle(name: string, args: string[], change: (s: Spec) => void = () => {}): string {
    const bundle = path.join(this.dir, name);
    const bin = path.join(bundle, 'rootfs', 'bin');
    fs.mkdirSync(bin, { recursive: true });
    for (const d of ['proc', 'dev', 'sys', 'tmp']) fs.mkdirSync(path.join(bundle, 'rootfs', d), { recursive: true });
    fs.copyFileSync(BUSYBOX, path.join(bin, 'busybox'));
    fs.chmodSync(path.join(bin, 'busybox'), 0o755);
    for (const a of APPLETS) fs.symlinkSync('busybox', path.join(bin, a));
    const spec = defaultSpec();
    spec.process!.terminal = false;
    spec.process!.args = args;
    spec.process!.env = ['PATH=/bin'];
    change(spec);
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    return bundle;
  }

  /** cleanup force-deletes every container left under --root and removes the directory. */
  cleanup(): void {
    const ids = this.run('list', '-q').stdout.split('\n').filter(Boolean);
    for (const id of ids) this.run('delete', '--force', id);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** pidAlive tells whether a host pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** readTerminal reads a pty master until the container side closes (EIO) or 10 s pass,
 * with the terminal's CRLF line ends turned back into LF. */
export function readTerminal(master: number): Promise<string> {
  return new Promise((resolve) => {
    const rs = fs.createReadStream('', { fd: master });
    let out = '';
    const timer = setTimeout(() => { rs.destroy(); resolve(out); }, 10_000);
    const done = () => { clearTimeout(timer); resolve(out.replace(/\r\n/g, '\n')); };
    rs.on('data', (d) => { out += d; });
    rs.on('error', done);
    rs.on('end', done);
  });
}

/** runWithTerminal runs a bundle whose process.terminal is true through `create
 * --console-socket` and `start`, as containerd's shim does, and returns what the
 * container wrote to its terminal and `create`'s result; the container is deleted. */
export async function runWithTerminal(rt: OciRuntime, bundle: string, id: string): Promise<{ output: string; created: Result }> {
  const sock = path.join(rt.dir, `${id}.sock`);
  const lfd = listenUnix(sock);
  try {
    const created = rt.run('create', '--bundle', bundle, '--console-socket', sock, id);
    if (created.status !== 0) return { output: '', created };
    const conn = accept(lfd);
    if (conn < 0) throw new Error(`${rt.name}: accept on the console socket: ${conn}`);
    const io = new MsgBuffers(4096);
    const n = io.recv(conn);
    closeFd(conn);
    if (n <= 0 || io.fds.length !== 1) throw new Error(`${rt.name}: console socket: ${n} bytes, ${io.fds.length} descriptors`);
    const output = readTerminal(io.fds[0]);
    const started = rt.run('start', id);
    if (started.status !== 0) throw new Error(`${rt.name}: start ${id}: ${started.stderr}`);
    return { output: await output, created };
  } finally {
    closeFd(lfd);
    rt.run('delete', '--force', id);
  }
}

/** TVISOR is this tree's runtime binary. */
export const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');

/** requireSandboxPrerequisites fails loudly (never skips) when `test` cannot run: not
 * root, no static busybox, tvisor not built. */
export function requireSandboxPrerequisites(test: string): void {
  if (process.getuid?.() !== 0) throw new Error(`the ${test} test needs root (namespaces, mounts)`);
  if (!fs.existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (install busybox-static)`);
  if (!fs.existsSync(TVISOR)) throw new Error(`${TVISOR} is missing (run make)`);
}

/** runWithPhases runs `bundle` to its end with `tvisor run` (container `id`) and returns
 * its result with the phase sums its sandbox wrote (TVISOR_PHASES). */
export function runWithPhases(rt: OciRuntime, bundle: string, id: string): PhasedRun {
  return withPhases(() => {
    // The environment explicitly: jest's process.env is not the one a child inherits.
    const r = spawnSync(TVISOR, [...rt.globals, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60_000, env: { ...process.env } });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1, timedOut: r.error !== undefined };
  });
}
