/**
 * Real 9P servers for the client's peer tests and the benchmark: Debian's diod (TCP on
 * loopback, no auth, serving as root) and tvisor's own gofer (a Unix socket). Each
 * `start*` returns a Peer that knows how to connect the client to it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, type ClientOptions } from '../../gofer/p9/client';
import { connectUnix } from '../../native/unixsock';

/** TVISOR is the built binary whose gofer is tested ($TVISOR_BIN overrides, for bundles). */
export const TVISOR = process.env.TVISOR_BIN || path.resolve(__dirname, '../../bin/tvisor');

/** Peer is a running 9P server and the way to reach it. */
export interface Peer {
  /** name describes the server and the transport, e.g. 'diod (tcp)'. */
  readonly name: string;
  /** aname is the attach name of the served directory. */
  readonly aname: string;
  /** quirks are the server's known departures from what the suite expects by default. */
  readonly quirks?: PeerQuirks;
  connect(opts?: ClientOptions): Promise<Client>;
  stop(): Promise<void>;
}

/** PeerQuirks lists what a server does differently (asserted, not ignored, by the suite). */
export interface PeerQuirks {
  /** noAtOps: Trenameat and Tunlinkat answer EOPNOTSUPP (Linux's v9fs then uses Trename/Tremove). */
  noAtOps?: boolean;
  /** statfsType: the f_type reported by statfs, when it is not the host's. */
  statfsType?: number;
}

/** V9FS_MAGIC is the f_type diod reports: v9fs's own. */
export const V9FS_MAGIC = 0x01021997;

/** diodMissing says why diod cannot be used here, or '' when it can. */
export function diodMissing(): string {
  if (spawnSync('sh', ['-c', 'command -v diod']).status !== 0) return 'diod is not installed (apt-get install diod)';
  if (process.getuid?.() !== 0) return 'diod serves as root only (run the tests as root)';
  return '';
}

/** goferMissing says why the gofer cannot be used here, or '' when it can. */
export function goferMissing(): string {
  if (!existsSync(TVISOR)) return 'bin/tvisor is not built (make)';
  const r = spawnSync(TVISOR, ['gofer', '--help'], { timeout: 10_000 });
  return r.status === 0 ? '' : `bin/tvisor gofer --help failed (status ${r.status})`;
}

/** freePort returns a loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function until(what: string, proc: ChildProcess, stderr: string[], ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await ready())) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with status ${proc.exitCode}: ${stderr.join('')}`);
    if (Date.now() > deadline) throw new Error(`${what} did not start: ${stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

function stopper(proc: ChildProcess, cleanup: () => void): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    cleanup();
  };
}

/**
 * startDiod serves `dir` with diod in the foreground on a free loopback port: no auth
 * (-n), no config file, the attaching user's own identity (root, not squashed).
 */
export async function startDiod(dir: string): Promise<Peer> {
  const port = await freePort();
  // diod raises its own core limit and sometimes aborts on its way out after SIGTERM: it
  // runs in a directory of its own, removed after it, so that no core file (~180 MB)
  // lands in the caller's directory (the repository).
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'tvisor-diod-cwd-'));
  const proc = spawn('diod', ['-f', '-n', '-c', '/dev/null', '-L', 'stderr', '-l', `127.0.0.1:${port}`, '-e', dir], {
    stdio: ['ignore', 'ignore', 'pipe'], cwd,
  });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d) => stderr.push(String(d)));
  await until('diod', proc, stderr, () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }));
  return {
    name: 'diod (tcp, 9P2000.L)',
    aname: dir,
    quirks: { noAtOps: true, statfsType: V9FS_MAGIC }, // diod 1.0.24
    connect: (opts) => Client.connect({ host: '127.0.0.1', port }, opts),
    stop: stopper(proc, () => rmSync(cwd, { recursive: true, force: true })),
  };
}

/** GoferPeer is our gofer; `connectStream` and `connectFd` pick the transport. */
export interface GoferPeer {
  readonly socketPath: string;
  /** fd is the sentry's transport: a descriptor, synchronous, 9P2000.L.fd. */
  readonly fd: Peer;
  /** stream is Node's async socket, plain 9P2000.L, like-for-like with diod. */
  readonly stream: Peer;
  stop(): Promise<void>;
}

/** startGofer serves `dir` with `bin/tvisor gofer` on a fresh Unix socket. */
export async function startGofer(dir: string, extra: string[] = []): Promise<GoferPeer> {
  const sockDir = mkdtempSync(path.join(os.tmpdir(), 'tvisor-9p-sock-'));
  const socketPath = path.join(sockDir, 'gofer.sock');
  const proc = spawn(TVISOR, ['gofer', '--root', dir, '--socket', socketPath, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d) => stderr.push(String(d)));
  await until('tvisor gofer', proc, stderr, async () => existsSync(socketPath));
  const stop = stopper(proc, () => rmSync(sockDir, { recursive: true, force: true }));
  return {
    socketPath,
    fd: { name: 'tvisor gofer (unix fd, 9P2000.L.fd)', aname: '', connect: async (opts) => Client.overFd(connectUnix(socketPath), opts), stop },
    stream: { name: 'tvisor gofer (unix stream, 9P2000.L)', aname: '', connect: (opts) => Client.connect({ path: socketPath }, opts), stop },
    stop,
  };
}
