/**
 * harness.ts runs a private Docker daemon for the Docker tests: Debian's dockerd on a
 * temporary data-root, exec-root and socket (it starts its own containerd under the
 * exec-root), with tvisor registered as a runtime by `tvisor install --config-file`.
 * Nothing outside the temporary directory is used, and `stop` undoes everything even
 * after a failure: dockerd and its containerd are stopped (SIGKILL after a grace time),
 * mounts left under the directory are detached, and the directory is removed.
 *
 * It also builds the test image, a busybox rootfs written with tar-stream and loaded by
 * `docker import` (no registry is reachable), and inspects the host for what tvisor
 * might leave behind (processes, mounts, state directories).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';

/** REPO is the repository root; TVISOR its built bin/tvisor. */
export const REPO = path.resolve(__dirname, '..', '..');
export const TVISOR = path.join(REPO, 'bin', 'tvisor');
/** DOCKERD and DOCKER are Debian's docker.io (its client, not any other on PATH). */
export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER = '/usr/bin/docker';
/** SCRIPT is util-linux's script(1): it runs a command on a pty of its own. */
export const SCRIPT = '/usr/bin/script';
/** BUSYBOX is Debian's static busybox (busybox-static), the image's only program. */
export const BUSYBOX = '/bin/busybox';

/** Result is a finished command. */
export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** run runs a program to completion (SIGKILL at `timeoutMs`) and captures its output. */
export function run(bin: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = spawnSync(bin, args, {
    input: opts.input ?? '', encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL',
    env: opts.env ?? process.env, maxBuffer: 16 << 20,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

/** shellQuote quotes `a` as one word for sh. */
function shellQuote(a: string): string {
  return `'${a.replace(/'/g, `'\\''`)}'`;
}

/** sleep waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Dockerd is one private Docker daemon. */
export class Dockerd {
  /** dir holds everything: daemon.json, data-root, exec-root, socket, logs. */
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvd-'));
  readonly configFile = path.join(this.dir, 'daemon.json');
  readonly dataRoot = path.join(this.dir, 'data');
  readonly execRoot = path.join(this.dir, 'exec');
  readonly socket = path.join(this.dir, 'docker.sock');
  readonly logFile = path.join(this.dir, 'dockerd.log');
  private child: ChildProcess | null = null;
  /**
   * bridge is the default bridge network's host interface, made by `start` when the
   * daemon was asked for one (a unique name and a /24 of 10.0.0.0/8, so that it collides
   * with nothing on the host), removed by `stop`; undefined for `--bridge=none`.
   */
  readonly bridge: { name: string; gateway: string; subnet: string } | undefined;
  /**
   * netns is the network namespace the daemon runs in (`/run/netns/<netns>`), made by
   * `start` and deleted by `stop`, when it was asked for one; undefined: the host's.
   */
  readonly netns: string | undefined;

  /**
   * With `opts.bridge` the daemon has a default bridge network (containers get an address
   * on it, `-p` publishes through docker-proxy) instead of none; iptables stays off, so the
   * host's rules are never touched. With `opts.netns` (which implies a bridge) the daemon
   * runs in a network namespace of its own with iptables on and no userland proxy, as a
   * stock Docker publishes ports to other hosts: `-p` is an iptables DNAT rule of that
   * namespace (the host's rules are still never touched); reach it with `inNetns`.
   */
  constructor(opts: { bridge?: boolean; netns?: boolean } = {}) {
    if (opts.bridge || opts.netns) {
      const n = (Math.random() * 0x10000) | 0;
      const net = `10.${200 + (n % 50)}.${n >> 8}`;
      this.bridge = { name: `tvdbr${n.toString(16)}`, gateway: `${net}.1`, subnet: `${net}.0/24` };
      if (opts.netns) this.netns = `tvdns${n.toString(16)}`;
    }
  }

  /** inNetns runs a command in the daemon's network namespace (the host's when it has none). */
  inNetns(bin: string, args: string[], opts: { timeoutMs?: number } = {}): Result {
    return this.netns ? run('nsenter', [`--net=/run/netns/${this.netns}`, bin, ...args], opts) : run(bin, args, opts);
  }

  /** install registers tvisor in daemon.json through `tvisor install` and returns its output. */
  install(): Result {
    // TVISOR_DOCKER_DEBUG_LOG=F: every tvisor command dockerd runs logs its debug events to F.
    const debug = process.env.TVISOR_DOCKER_DEBUG_LOG ? ['--', '--debug', '--debug-log', process.env.TVISOR_DOCKER_DEBUG_LOG] : [];
    return run(TVISOR, ['install', '--config-file', this.configFile, ...debug]);
  }

  /** start launches dockerd and resolves once it answers on its socket (rejects after `timeoutMs`). */
  async start(timeoutMs = 60_000): Promise<void> {
    const ns = this.netns ? ['-n', this.netns] : [];
    const ipSteps: string[][] = this.netns ? [['netns', 'add', this.netns], [...ns, 'link', 'set', 'lo', 'up']] : [];
    if (this.bridge) {
      const b = this.bridge;
      ipSteps.push([...ns, 'link', 'add', b.name, 'type', 'bridge'], [...ns, 'addr', 'add', `${b.gateway}/24`, 'dev', b.name], [...ns, 'link', 'set', b.name, 'up']);
    }
    for (const args of ipSteps) {
      const r = run('ip', args);
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim()}`);
    }
    const log = fs.openSync(this.logFile, 'a');
    const netArgs = this.netns
      ? ['--iptables=true', '--ip6tables=false', '--ip-masq=true', '--userland-proxy=false']
      : ['--iptables=false', '--ip6tables=false', '--ip-masq=false'];
    const daemon = [
      DOCKERD, '--config-file', this.configFile, '--data-root', this.dataRoot, '--exec-root', this.execRoot,
      '--host', `unix://${this.socket}`, '--pidfile', path.join(this.dir, 'docker.pid'),
      `--bridge=${this.bridge?.name ?? 'none'}`, ...netArgs,
    ];
    // nsenter changes only the network namespace: the daemon's mounts stay where stop() finds them.
    const argv = this.netns ? ['nsenter', `--net=/run/netns/${this.netns}`, ...daemon] : daemon;
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`dockerd exited (${this.child.exitCode ?? this.child.signalCode}); its log ends with:\n${this.logTail()}`);
      }
      if (this.docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5000 }).status === 0) return;
      if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${this.socket} in ${timeoutMs} ms; its log ends with:\n${this.logTail()}`);
      await sleep(200);
    }
  }

  private clientEnv(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_CONFIG: path.join(this.dir, 'client'), DOCKER_HOST: `unix://${this.socket}` };
  }

  /** docker runs the docker client against this daemon. */
  docker(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Result {
    return run(DOCKER, ['--host', `unix://${this.socket}`, ...args], { ...opts, env: this.clientEnv() });
  }

  /**
   * importTree loads directory `dir` as image `image` (`tar -C dir -c . | docker import -`),
   * streamed: nothing is written to disk but the image itself. It throws with tar's and
   * docker's messages when either fails.
   */
  importTree(dir: string, image: string, timeoutMs = 300_000): void {
    const line = `set -o pipefail; tar -C ${shellQuote(dir)} --numeric-owner -c . | ${shellQuote(DOCKER)} --host ${shellQuote(`unix://${this.socket}`)} import - ${shellQuote(image)}`;
    const r = run('/bin/bash', ['-c', line], { timeoutMs, env: this.clientEnv() });
    if (r.status !== 0) throw new Error(`cannot import ${dir} as ${image} (${r.status ?? r.signal}): ${r.stderr.trim()}`);
  }

  /**
   * dockerInTerminal runs the docker client on a terminal of its own, as a person would
   * (util-linux `script` gives it a pty, which `docker run -it` insists on): once `prompt`
   * shows in its output it types `input`, then collects everything the terminal showed
   * until the client exits (SIGKILL after `timeoutMs`). stdout is that terminal output.
   */
  dockerInTerminal(args: string[], prompt: string, input: string, timeoutMs = 30_000): Promise<Result> {
    const line = [DOCKER, '--host', `unix://${this.socket}`, ...args].map(shellQuote).join(' ');
    const child = spawn(SCRIPT, ['--quiet', '--return', '--command', line, '/dev/null'], { env: this.clientEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let typed = false;
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      if (!typed && stdout.includes(prompt)) {
        typed = true;
        child.stdin!.write(input);
      }
    });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    return new Promise((resolve) => {
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stdout, stderr });
      });
    });
  }

  /** logTail returns the last lines of dockerd's log (for error messages). */
  logTail(lines = 20): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** runtimeRoots are the --root directories Docker may pass to a runtime (20.10: runtime-runc; later: runtime-<name>). */
  runtimeRoots(): string[] {
    return [path.join(this.execRoot, 'runtime-runc', 'moby'), path.join(this.execRoot, 'runtime-tvisor', 'moby')];
  }

  /**
   * stop stops dockerd (SIGTERM, then SIGKILL after `graceMs`), kills anything still
   * running from this directory (its containerd, shims, tvisor processes), detaches the
   * mounts left under it and removes it. It never throws.
   */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of processesUsing(this.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    for (const m of mountsUnder(this.dir).reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    // Deleting the namespace takes its bridge, veths and iptables rules with it.
    if (this.netns) spawnSync('ip', ['netns', 'del', this.netns], { stdio: 'ignore' });
    else if (this.bridge) spawnSync('ip', ['link', 'del', this.bridge.name], { stdio: 'ignore' });
  }
}

/** ProcessInfo is what the leak checks need to know about a host process. */
export interface ProcessInfo {
  pid: number;
  comm: string;
  cmdline: string;
  cwd: string;
  /** exe is the program's path ('' when unreadable): a stub's is the stub binary, whatever name it shows. */
  exe: string;
}

function readProc(pid: number): ProcessInfo | undefined {
  try {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    let cwd = '', exe = '';
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      exe = fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
      // a zombie, or gone
    }
    return { pid, comm, cmdline, cwd, exe };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

/** processesUsing returns the pids whose command line or working directory is under `dir`. */
export function processesUsing(dir: string): number[] {
  return allPids().filter((pid) => {
    const p = pid === process.pid ? undefined : readProc(pid);
    return p !== undefined && (p.cmdline.includes(dir) || p.cwd === dir || p.cwd.startsWith(`${dir}/`));
  });
}

/**
 * tvisorProcessesUsing returns tvisor's processes (CLI, sentry, gofer, stubs) working for
 * the containers under `dir`: a sentry names its bundle and a gofer its rootfs on the
 * command line; a stub runs the stub binary (its name and command line are its
 * application process's: platform/ptrace/title.ts) and is found when its working
 * directory is the bundle (under Docker it is /: a stub dies with its sentry, which is
 * found, through PR_SET_PDEATHSIG and PTRACE_O_EXITKILL).
 */
export function tvisorProcessesUsing(dir: string): ProcessInfo[] {
  return processesUsing(dir).map(readProc).filter((p): p is ProcessInfo => p !== undefined
    && (p.comm.startsWith('tvisor') || p.cmdline.includes('bin/tvisor') || /\/tvisor-(systrap-)?stub$/.test(p.exe)));
}

/** descendants returns the pids of every process below `pid` (children, their children, ...). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids: number[] = [];
      try {
        kids = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        // the task is gone
      }
      for (const k of kids) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

/** alive tells whether `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** mountsUnder returns the mount points at or below `dir`, in mount order. */
export function mountsUnder(dir: string): string[] {
  const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')
    .map((l) => unescape(l.split(' ')[4]))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** IMAGE_USER is the unprivileged user of the test image. */
export const IMAGE_USER = { name: 'user', uid: 1000, gid: 1000 };

/**
 * writeBusyboxTar writes a root filesystem as a tar file: /bin/busybox with a symlink per
 * applet, /etc/passwd and /etc/group with root and IMAGE_USER, and a sticky /tmp.
 */
export async function writeBusyboxTar(file: string): Promise<void> {
  const applets = run(BUSYBOX, ['--list']).stdout.split('\n').filter((a) => a && a !== 'busybox');
  const pack = tar.pack();
  const out = fs.createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    pack.on('error', reject);
  });
  pack.pipe(out);
  const dir = (name: string, mode = 0o755) => pack.entry({ name, type: 'directory', mode, uid: 0, gid: 0 });
  const file0 = (name: string, data: Buffer | string, mode = 0o644) => pack.entry({ name, mode, uid: 0, gid: 0 }, data);
  for (const d of ['bin', 'etc', 'home', 'root', 'proc', 'sys', 'dev']) dir(d);
  dir('tmp', 0o1777);
  pack.entry({ name: `home/${IMAGE_USER.name}`, type: 'directory', mode: 0o755, uid: IMAGE_USER.uid, gid: IMAGE_USER.gid });
  file0('bin/busybox', fs.readFileSync(BUSYBOX), 0o755);
  for (const a of applets) pack.entry({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777 });
  const u = IMAGE_USER;
  file0('etc/passwd', `root:x:0:0:root:/root:/bin/sh\n${u.name}:x:${u.uid}:${u.gid}:${u.name}:/home/${u.name}:/bin/sh\n`);
  file0('etc/group', `root:x:0:\n${u.name}:x:${u.gid}:\n`);
  pack.finalize();
  await done;
}
