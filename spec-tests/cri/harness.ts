/**
 * harness.ts runs a private containerd for the CRI tests: Debian's containerd 1.6 with a
 * config of its own, its root, state, gRPC and ttrpc sockets, CNI configuration, IP
 * allocations and runtime roots all under one temporary directory, the CRI plugin on,
 * and two runtime handlers, both containerd's runc shim (io.containerd.runc.v2):
 * `runc` (Debian's runc) and `tvisor` (this tree's bin/tvisor as the shim's BinaryName).
 * Pods get a network namespace of their own from CNI (bridge + host-local + loopback from
 * Debian's containernetworking-plugins): a bridge with a unique name on a private /24,
 * no IP masquerade, so no iptables rule is ever written. The pod sandbox image is a pause
 * program built by make; images come from local OCI tarballs (oci-image.ts) loaded with
 * `ctr images import`: no registry is reachable.
 *
 * What containerd 1.6 keeps outside the directory, fixed in its code, is tracked and
 * removed by `stop`: each pod's shim socket (/run/containerd/s/<sha256 of the daemon's
 * address, namespace and pod id>), CNI's result cache (/var/lib/cni/results/<network>-*,
 * and the directories themselves, once empty, when this daemon's pods made them),
 * the pods' cgroups (a unique cgroup_parent in every hierarchy) and the bridge. The pods'
 * network namespaces are mounted under the state directory (netns_mounts_under_state_dir).
 * `stop` stops containerd, kills what still runs from the directory (shims, runtimes'
 * processes), detaches its mounts, and removes all that; `leftovers` lists anything of
 * this daemon's still on the host.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUNC } from '../behaviour/bundle';
import { REPO, RUNTIMES } from '../behaviour/runner';
import { BUSYBOX, alive, mountsUnder, processesUsing, run, sleep } from '../docker/harness';
import { CriClient } from './cri-client';
import { busyboxLayer, pauseLayer, writeOciImage } from './oci-image';

/** TVISOR is the tvisor the behaviour tests use: the repository's bin/tvisor unless TVISOR_BIN names another. */
export const TVISOR = RUNTIMES.tvisor.bin;
/** PAUSE is the sandbox program make builds (spec-tests/cri/pause.c). */
export const PAUSE = path.join(REPO, 'build', 'programs', 'cri-pause');
/** CONTAINERD is Debian's containerd (package containerd, 1.6). */
export const CONTAINERD = '/usr/bin/containerd';
/** CTR is containerd's client, which imports the images. */
export const CTR = '/usr/bin/ctr';
/** RUNC_SHIM is the shim both handlers use (runtime_type io.containerd.runc.v2). */
export const RUNC_SHIM = '/usr/bin/containerd-shim-runc-v2';
/** CNI_BIN is where Debian's containernetworking-plugins installs the plugins. */
export const CNI_BIN = '/usr/lib/cni';
/** CNI_CACHE is libcni's default result cache, which containerd 1.6 uses. */
export const CNI_CACHE = '/var/lib/cni/results';
/** SHIM_SOCKETS is where containerd 1.6's shims listen (fixed in its code, outside the daemon's state). */
export const SHIM_SOCKETS = '/run/containerd/s';
/** NAMESPACE is the containerd namespace the CRI plugin works in. */
export const NAMESPACE = 'k8s.io';

/** BUSYBOX_IMAGE is the application image's reference (Debian's static busybox). */
export const BUSYBOX_IMAGE = 'docker.io/tvisor-test/busybox:cri';
/** PAUSE_IMAGE is the pod sandbox image's reference (containerd's sandbox_image). */
export const PAUSE_IMAGE = 'docker.io/tvisor-test/pause:cri';

/** HANDLERS are the runtime handlers the daemon registers (containerd's runtimes.<name>). */
export const HANDLERS = ['runc', 'tvisor'] as const;
/** Handler is one of HANDLERS. */
export type Handler = (typeof HANDLERS)[number];

/** missingPrerequisite names what the CRI tests need and this machine lacks, or undefined. */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'the CRI tests need root (containerd)';
  for (const [file, pkg] of [[CONTAINERD, 'containerd'], [CTR, 'containerd'], [RUNC_SHIM, 'containerd'], [RUNC, 'runc'], [BUSYBOX, 'busybox-static']]) {
    if (!fs.existsSync(file)) return `${file} is missing (apt-get install ${pkg})`;
  }
  for (const plugin of ['bridge', 'host-local', 'loopback']) {
    if (!fs.existsSync(path.join(CNI_BIN, plugin))) return `${path.join(CNI_BIN, plugin)} is missing (apt-get install containernetworking-plugins)`;
  }
  if (!fs.existsSync(TVISOR)) return `${TVISOR} is missing (run make)`;
  if (!fs.existsSync(PAUSE)) return `${PAUSE} is missing (run make)`;
  return undefined;
}

/** tomlString quotes `s` as a TOML basic string. */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** Containerd is one private containerd with the CRI plugin. */
export class Containerd {
  /** dir holds everything of this daemon's: config, root, state, sockets, logs, CNI files. */
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvcri-'));
  readonly configFile = path.join(this.dir, 'config.toml');
  readonly root = path.join(this.dir, 'root');
  readonly state = path.join(this.dir, 'state');
  readonly socket = path.join(this.dir, 'containerd.sock');
  readonly logFile = path.join(this.dir, 'containerd.log');
  /** podLogs is the parent of the pods' log directories. */
  readonly podLogs = path.join(this.dir, 'pods');
  readonly cniConfDir = path.join(this.dir, 'cni', 'net.d');
  readonly cniDataDir = path.join(this.dir, 'cni', 'ipam');
  /** runtimeRoots are the --root each handler's runtime is given (the shim adds /k8s.io). */
  readonly runtimeRoots: Record<Handler, string> = { runc: path.join(this.dir, 'runc'), tvisor: path.join(this.dir, 'tvisor') };
  /** suffix makes this daemon's host-wide names unique: bridge, CNI network, cgroup parent. */
  private readonly suffix = `${process.pid.toString(36)}${((Math.random() * 0x10000) | 0).toString(36)}`;
  /** bridge is the CNI bridge's host interface; subnet its private /24 (10.160-209.x.0). */
  readonly bridge = `tvcri${this.suffix}`.slice(0, 15);
  readonly network = `tvcri-${this.suffix}`;
  readonly subnet: string;
  /** cgroupParent is the pods' cgroup parent (cgroupfs syntax), made unique so that `stop` can remove it. */
  readonly cgroupParent = `/tvisor-cri-${this.suffix}`;
  /** netnsPaths are the pods' network namespaces seen so far (recorded by `trackPod`; under the state directory). */
  private readonly netnsPaths = new Set<string>();
  /** podIds are the pods run through this daemon (recorded by `trackPod`). */
  private readonly podIds = new Set<string>();
  /** madeCniCache are CNI_CACHE and its parent when libcni made them for this daemon (removed by `stop` once empty). */
  private madeCniCache: string[] = [];
  private child: ChildProcess | null = null;
  private client: CriClient | null = null;

  constructor() {
    const n = (Math.random() * 0x10000) | 0;
    this.subnet = `10.${160 + (n % 50)}.${n >> 8}.0/24`;
  }

  /** config is containerd's config.toml (version 2) for this daemon. */
  config(): string {
    const cri = 'plugins."io.containerd.grpc.v1.cri"';
    const runtime = (name: Handler, binary: string) => [
      `[${cri}.containerd.runtimes.${name}]`,
      `  runtime_type = "io.containerd.runc.v2"`,
      `[${cri}.containerd.runtimes.${name}.options]`,
      `  BinaryName = ${tomlString(binary)}`,
      `  Root = ${tomlString(this.runtimeRoots[name])}`,
      `  SystemdCgroup = false`,
    ].join('\n');
    return [
      'version = 2',
      `root = ${tomlString(this.root)}`,
      `state = ${tomlString(this.state)}`,
      '[grpc]',
      `  address = ${tomlString(this.socket)}`,
      '[ttrpc]',
      `  address = ${tomlString(`${this.socket}.ttrpc`)}`,
      '[debug]',
      '  address = ""',
      '[metrics]',
      '  address = ""',
      // The opt plugin would otherwise make /opt/containerd.
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${tomlString(path.join(this.dir, 'opt'))}`,
      `[${cri}]`,
      `  sandbox_image = ${tomlString(PAUSE_IMAGE)}`,
      // The streaming server (exec/attach/port-forward URLs) on a port of the kernel's choosing.
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      // No AppArmor profile is loaded into the host's kernel on the pods' behalf.
      '  disable_apparmor = true',
      '  enable_selinux = false',
      // The pods' network namespaces under the state directory, not /var/run/netns.
      '  netns_mounts_under_state_dir = true',
      // No oom_score_adj below containerd's own: lowering it needs CAP_SYS_RESOURCE, which
      // the host may not grant (runc then fails with "can't get final child's PID").
      '  restrict_oom_score_adj = true',
      `[${cri}.containerd]`,
      '  snapshotter = "overlayfs"',
      '  default_runtime_name = "runc"',
      runtime('runc', RUNC),
      runtime('tvisor', TVISOR),
      `[${cri}.cni]`,
      `  bin_dir = ${tomlString(CNI_BIN)}`,
      `  conf_dir = ${tomlString(this.cniConfDir)}`,
      '  max_conf_num = 1',
      '',
    ].join('\n');
  }

  /** cniConfig is the pods' network: a bridge with host-local addresses, no masquerade. */
  cniConfig(): object {
    const gateway = this.subnet.replace(/\.0\/24$/, '.1');
    return {
      cniVersion: '0.4.0',
      name: this.network,
      plugins: [{
        type: 'bridge', bridge: this.bridge, isGateway: true, ipMasq: false, hairpinMode: false,
        ipam: { type: 'host-local', dataDir: this.cniDataDir, ranges: [[{ subnet: this.subnet, gateway }]], routes: [{ dst: '0.0.0.0/0' }] },
      }],
    };
  }

  /** start writes the configuration, launches containerd, and resolves once its CRI answers. */
  async start(timeoutMs = 60_000): Promise<void> {
    for (const d of [this.podLogs, this.cniConfDir, this.cniDataDir, ...Object.values(this.runtimeRoots)]) fs.mkdirSync(d, { recursive: true });
    this.madeCniCache = [CNI_CACHE, path.dirname(CNI_CACHE)].filter((d) => !fs.existsSync(d));
    fs.writeFileSync(this.configFile, this.config());
    fs.writeFileSync(path.join(this.cniConfDir, '10-tvcri.conflist'), JSON.stringify(this.cniConfig(), null, 2));
    const log = fs.openSync(this.logFile, 'a');
    this.child = spawn(CONTAINERD, ['--config', this.configFile, '--log-level', 'debug'], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`containerd exited (${this.child.exitCode ?? this.child.signalCode}); its log ends with:\n${this.logTail()}`);
      }
      if (fs.existsSync(this.socket)) {
        try {
          await this.cri().version();
          return;
        } catch (e) {
          last = (e as Error).message;
        }
      }
      if (Date.now() > deadline) throw new Error(`containerd's CRI did not answer on ${this.socket} in ${timeoutMs} ms (${last}); its log ends with:\n${this.logTail()}`);
      await sleep(200);
    }
  }

  /** cri is this daemon's CRI client (made on first use, closed by `stop`). */
  cri(): CriClient {
    this.client ??= new CriClient(this.socket);
    return this.client;
  }

  /** ctr runs Debian's ctr against this daemon in the CRI's namespace. */
  ctr(args: string[], timeoutMs = 120_000): ReturnType<typeof run> {
    return run(CTR, ['--address', this.socket, '--namespace', NAMESPACE, ...args], { timeoutMs });
  }

  /**
   * importImages builds the tests' two images (busybox and pause) as OCI tarballs and
   * imports them with ctr, which unpacks them for the CRI's snapshotter; it resolves once
   * the CRI's image service knows both (it learns of them from containerd's events).
   */
  async importImages(timeoutMs = 30_000): Promise<void> {
    const applets = run(BUSYBOX, ['--list']).stdout.split('\n').filter(Boolean);
    const images = [
      { ref: BUSYBOX_IMAGE, layer: busyboxLayer(BUSYBOX, applets), cmd: ['/bin/sh'] },
      { ref: PAUSE_IMAGE, layer: pauseLayer(PAUSE), entrypoint: ['/pause'] },
    ];
    for (const image of images) {
      const file = path.join(this.dir, `${image.ref.replace(/[^a-z0-9]+/g, '-')}.tar`);
      await writeOciImage(file, image);
      const r = this.ctr(['images', 'import', file]);
      if (r.status !== 0) throw new Error(`ctr images import ${file} failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
      fs.rmSync(file);
    }
    const deadline = Date.now() + timeoutMs;
    for (const image of images) {
      while (!(await this.cri().imageStatus(image.ref))) {
        if (Date.now() > deadline) throw new Error(`the CRI does not list ${image.ref} ${timeoutMs} ms after ctr imported it`);
        await sleep(100);
      }
    }
  }

  /**
   * trackPod records a running pod's network namespace (from containerd's verbose
   * PodSandboxStatus) so that `stop` and `leftovers` can find it after the pod is gone.
   * It returns the namespace's path ('' if the pod has none of its own).
   */
  async trackPod(podId: string): Promise<string> {
    this.podIds.add(podId);
    const { info } = await this.cri().podSandboxStatus(podId, true);
    const spec = JSON.parse(info.info ?? '{}') as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
    const netns = spec.runtimeSpec?.linux?.namespaces?.find((ns) => ns.type === 'network')?.path ?? '';
    if (netns) this.netnsPaths.add(netns);
    return netns;
  }

  /** cgroupDirs are this daemon's cgroup parent in each mounted cgroup hierarchy that has it. */
  cgroupDirs(): string[] {
    const out: string[] = [];
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')) {
      const fields = line.split(' ');
      const fsType = fields[fields.indexOf('-') + 1];
      if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
      const dir = path.join(fields[4], this.cgroupParent);
      if (fs.existsSync(dir)) out.push(dir);
    }
    return out;
  }

  /**
   * shimSocket is the Unix socket of the shim that serves pod `podId` (containerd 1.6's
   * runc shim serves a whole pod): /run/containerd/s/<hex sha256 of "<grpc address>/<namespace>/<pod id>">.
   */
  shimSocket(podId: string): string {
    return path.join(SHIM_SOCKETS, createHash('sha256').update(`${this.socket}/${NAMESPACE}/${podId}`).digest('hex'));
  }

  /** cniCacheFiles are libcni's cached results for this daemon's network. */
  cniCacheFiles(): string[] {
    try {
      return fs.readdirSync(CNI_CACHE).filter((f) => f.startsWith(`${this.network}-`)).map((f) => path.join(CNI_CACHE, f));
    } catch {
      return [];
    }
  }

  /** bridgeExists tells whether the CNI bridge's interface is on the host. */
  bridgeExists(): boolean {
    return fs.existsSync(`/sys/class/net/${this.bridge}`);
  }

  /** netnsLeft are the tracked pods' network namespaces whose file or mount is still on the host. */
  netnsLeft(): string[] {
    const mounted = new Set(mountsOf('/proc/self/mountinfo'));
    return [...this.netnsPaths].filter((p) => fs.existsSync(p) || mounted.has(p));
  }

  /**
   * leftovers lists what of this daemon's is on the host beyond the daemon itself: with
   * `daemonStopped`, everything (processes, mounts, netns, cgroups, CNI cache, bridge);
   * otherwise what removed pods must not leave while the daemon runs on: processes other
   * than containerd, mounts (rootfs, /dev/shm), netns and CNI cache entries.
   */
  leftovers(daemonStopped: boolean): string[] {
    const out: string[] = [];
    const daemonPid = this.child?.pid;
    for (const pid of processesUsing(this.dir)) {
      if (!daemonStopped && pid === daemonPid) continue;
      out.push(`process ${pid}: ${describeProcess(pid)}`);
    }
    for (const m of mountsUnder(this.dir)) out.push(`mount ${m}`);
    for (const p of this.netnsLeft()) out.push(`network namespace ${p}`);
    for (const f of this.cniCacheFiles()) out.push(`CNI cache ${f}`);
    for (const id of this.podIds) if (fs.existsSync(this.shimSocket(id))) out.push(`shim socket ${this.shimSocket(id)}`);
    if (daemonStopped) {
      for (const d of this.cgroupDirs()) out.push(`cgroup ${d}`);
      if (this.bridgeExists()) out.push(`bridge ${this.bridge}`);
      if (fs.existsSync(this.dir)) out.push(`directory ${this.dir}`);
    }
    return out;
  }

  /** logTail returns the last lines of containerd's log (for error messages). */
  logTail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * stop removes every pod still known (StopPodSandbox + RemovePodSandbox), stops
   * containerd (SIGTERM, SIGKILL after `graceMs`), kills whatever still runs from the
   * directory, detaches its mounts and the pods' network namespaces, removes the CNI
   * cache entries, the cgroups, the bridge and the directory. It never throws; call
   * `leftovers(true)` afterwards to see whether anything resisted.
   */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (this.client && child && child.exitCode === null && child.signalCode === null) {
      for (const id of this.podIds) {
        await this.client.stopPodSandbox(id).catch(() => undefined);
        await this.client.removePodSandbox(id).catch(() => undefined);
      }
    }
    this.client?.close();
    this.client = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    for (let round = 0; round < 3; round++) {
      const pids = processesUsing(this.dir);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      const until = Date.now() + 5000;
      while (pids.some(alive) && Date.now() < until) await sleep(50);
    }
    for (const m of mountsUnder(this.dir).reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    for (const p of this.netnsLeft()) {
      spawnSync('umount', ['-l', p], { stdio: 'ignore' });
      fs.rmSync(p, { force: true });
    }
    for (const f of this.cniCacheFiles()) fs.rmSync(f, { force: true });
    for (const id of this.podIds) fs.rmSync(this.shimSocket(id), { force: true });
    for (const d of this.madeCniCache) {
      try {
        fs.rmdirSync(d);
      } catch {
        // not empty: another daemon's pods use it now
      }
    }
    for (const d of this.cgroupDirs()) removeCgroup(d);
    if (this.bridgeExists()) spawnSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
    fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** mountsOf lists the mount points of a mountinfo file. */
function mountsOf(mountinfo: string): string[] {
  const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return fs.readFileSync(mountinfo, 'utf8').trim().split('\n').map((l) => unescape(l.split(' ')[4]));
}

/** describeProcess is a process's name and command line, for messages. */
export function describeProcess(pid: number): string {
  try {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return `${comm} (${cmdline.slice(0, 200)})`;
  } catch {
    return '(gone)';
  }
}

/** parentPid reads a process's parent's pid from /proc (0 when it is gone). */
export function parentPid(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** removeCgroup removes a cgroup directory and the cgroups below it, deepest first. */
function removeCgroup(dir: string): void {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // still populated: leftovers() reports it
  }
}
