/**
 * Kubernetes pods through containerd's CRI (issue 15's acceptance test): a private
 * containerd (harness.ts) driven over gRPC (cri-client.ts) as a kubelet would, once per
 * runtime handler: `runc` (Debian's runc, the reference) and `tvisor`.
 *
 * Each handler runs two pods of two busybox containers each, `server` (httpd on
 * 127.0.0.1) and `client` (fetches the page over 127.0.0.1, then sleeps):
 * - a pod whose containers have PID namespaces of their own (Kubernetes' default): the
 *   client reaches the server on 127.0.0.1, both see the pod's hostname, a file written
 *   to /dev/shm by one is read by the other, ExecSync returns output and exit code, the
 *   CRI log file holds what a container printed, ContainerStats answers, and
 *   /proc/self/ns shows the network, IPC and UTS namespaces shared and the PID ones not;
 * - a pod sharing its PID namespace (shareProcessNamespace: NamespaceMode POD): each
 *   container's `ps` shows the other's processes and the pause process;
 * and StopPodSandbox + RemovePodSandbox of each leaves nothing: no process of the pod,
 * no state under the handler's --root, no mount, network namespace, cgroup, shim socket
 * or CNI cache entry. Last, containerd is stopped and nothing of it is left either.
 *
 * Every observation is an exact expected value, the same for both handlers; the tvisor
 * block also checks that each of its observations equals runc's from the same run.
 *
 * TVISOR_CRI_HANDLERS=runc,tvisor (the default: both) chooses the handlers. Until
 * multi-container sandboxes land (issue 15), the tvisor block fails: each container of a
 * tvisor pod is a sandbox of its own. A missing prerequisite (root, containerd, the CNI
 * plugins, busybox-static, a built tvisor) fails the suite, naming it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { descendants, sleep } from '../docker/harness';
import { CriError, type ContainerConfig, type NamespaceMode, type PodSandboxConfig } from './cri-client';
import { BUSYBOX_IMAGE, Containerd, HANDLERS, NAMESPACE, describeProcess, missingPrerequisite, parentPid, type Handler } from './harness';

/** selectedHandlers reads TVISOR_CRI_HANDLERS (comma-separated; default: every handler). */
function selectedHandlers(): Handler[] {
  const raw = process.env.TVISOR_CRI_HANDLERS ?? HANDLERS.join(',');
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(HANDLERS as readonly string[]).includes(n)) throw new Error(`TVISOR_CRI_HANDLERS: unknown handler "${n}" (known: ${HANDLERS.join(', ')})`);
  }
  return names as Handler[];
}

/** POD_HOSTNAME is every pod's hostname (the same under both handlers, so their observations compare). */
const POD_HOSTNAME = 'tvisor-cri-pod';
/** PORT is where the server container's httpd listens, on 127.0.0.1 of the pod. */
const PORT = 18080;
/** PAGE is what the server serves (no hostname in it: each test checks one thing). */
const PAGE = 'served by the server container';

/** SERVER_SCRIPT writes its page and a file in /dev/shm, then serves on 127.0.0.1. */
const SERVER_SCRIPT = [
  'mkdir -p /www',
  `echo "${PAGE}" > /www/index.html`,
  'echo "written by the server" > /dev/shm/from-server',
  'echo server-up',
  `exec httpd -f -p 127.0.0.1:${PORT} -h /www`,
].join('; ');
/** CLIENT_SCRIPT fetches the server's page over 127.0.0.1 (retrying until it answers), prints it and sleeps. */
const CLIENT_SCRIPT = [
  `until wget -q -O /tmp/reply http://127.0.0.1:${PORT}/; do sleep 1; done`,
  'echo "client got: $(cat /tmp/reply)"',
  'exec sleep 3600',
].join('; ');

/** Observations are what one handler's run saw, by name (compared between handlers). */
type Observations = Map<string, unknown>;

const prereq = missingPrerequisite();
const handlers = selectedHandlers();

if (prereq) {
  test('CRI pods: prerequisites', () => {
    throw new Error(`the CRI tests cannot run: ${prereq}`);
  });
} else {
  const daemon = new Containerd();
  const observed = new Map<Handler, Observations>();

  beforeAll(async () => {
    await daemon.start();
    await daemon.importImages();
  }, 180_000);

  afterAll(async () => {
    await daemon.stop();
  }, 120_000);

  /** waitFor polls `check` every 200 ms until it returns true; false after `ms`. */
  async function waitFor(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<boolean> {
    const until = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > until) return false;
      await sleep(200);
    }
    return true;
  }

  /** liveProcesses are those of `pids` that still exist (zombies included: they are not reaped yet). */
  function liveProcesses(pids: Iterable<number>): number[] {
    return [...pids].filter((p) => fs.existsSync(`/proc/${p}`));
  }

  /**
   * runtimeState lists what is under a handler's --root (the shim's <Root>/k8s.io): with
   * one pod at a time, anything there is that pod's (container directories, and tvisor's
   * short `.s-<hash>` socket aliases, which do not name the id).
   */
  function runtimeState(handler: Handler): string[] {
    const root = path.join(daemon.runtimeRoots[handler], NAMESPACE);
    try {
      return fs.readdirSync(root).map((e) => path.join(root, e));
    } catch {
      return [];
    }
  }

  /** cgroupsOf lists the cgroup directories left for `ids` under the daemon's cgroup parent. */
  function cgroupsOf(ids: string[]): string[] {
    return daemon.cgroupDirs().flatMap((d) => ids.map((id) => path.join(d, id)).filter((p) => fs.existsSync(p)));
  }

  /**
   * RunningPod is one pod of the suite: its sandbox, its two containers, and every host
   * process seen working for it (the shim, the sandbox's and containers' processes and
   * their descendants), recorded while it runs for the leak check after its removal.
   */
  class RunningPod {
    podId = '';
    readonly containers = new Map<string, string>();
    readonly hostPids = new Set<number>();
    netns = '';

    constructor(readonly handler: Handler, readonly name: string, readonly pidMode: NamespaceMode) {}

    /** config is the pod's PodSandboxConfig: the pod hostname, a log directory, the daemon's cgroup parent. */
    get config(): PodSandboxConfig {
      return {
        metadata: { name: `${this.name}-${this.handler}`, uid: `${this.name}-${this.handler}-uid`, namespace: 'tvisor-cri', attempt: 0 },
        hostname: POD_HOSTNAME,
        log_directory: path.join(daemon.podLogs, `${this.name}-${this.handler}`),
        linux: {
          cgroup_parent: daemon.cgroupParent,
          security_context: { namespace_options: { network: 'POD', pid: this.pidMode, ipc: 'POD' } },
        },
      };
    }

    /** containerConfig is a busybox container running `script` with the pod's PID mode. */
    containerConfig(name: string, script: string): ContainerConfig {
      return {
        metadata: { name },
        image: { image: BUSYBOX_IMAGE },
        command: ['/bin/sh', '-c', script],
        log_path: `${name}.log`,
        linux: { security_context: { namespace_options: { network: 'POD', pid: this.pidMode, ipc: 'POD' } } },
      };
    }

    /** start runs the sandbox, then creates and starts the server and the client. */
    async start(): Promise<void> {
      const cri = daemon.cri();
      this.podId = await cri.runPodSandbox(this.config, this.handler);
      this.netns = await daemon.trackPod(this.podId);
      for (const [name, script] of [['server', SERVER_SCRIPT], ['client', CLIENT_SCRIPT]]) {
        const id = await cri.createContainer(this.podId, this.containerConfig(name, script), this.config);
        this.containers.set(name, id);
        await cri.startContainer(id);
      }
      await this.recordHostProcesses();
    }

    /** id is a container's id by name. */
    id(name: string): string {
      const id = this.containers.get(name);
      if (!id) throw new Error(`pod ${this.name} under ${this.handler} has no container ${name} (it did not start)`);
      return id;
    }

    /** recordHostProcesses adds the pod's host processes: the sandbox's, each container's, their shim, and every descendant. */
    async recordHostProcesses(): Promise<void> {
      const cri = daemon.cri();
      const roots: number[] = [];
      const sandbox = JSON.parse((await cri.podSandboxStatus(this.podId, true)).info.info ?? '{}') as { pid?: number };
      if (sandbox.pid) roots.push(sandbox.pid, parentPid(sandbox.pid));
      for (const id of this.containers.values()) {
        const info = JSON.parse((await cri.containerStatus(id, true)).info.info ?? '{}') as { pid?: number };
        if (info.pid) roots.push(info.pid);
      }
      for (const pid of roots.filter((p) => p > 1)) {
        this.hostPids.add(pid);
        for (const d of descendants(pid)) this.hostPids.add(d);
      }
    }

    /** exec runs `cmd` in a container through ExecSync and returns stdout, stderr and the exit code. */
    async exec(name: string, cmd: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
      const r = await daemon.cri().execSync(this.id(name), cmd);
      return { stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), exitCode: r.exit_code };
    }

    /**
     * remove stops and removes the pod (StopPodSandbox, RemovePodSandbox) and returns what
     * of it was on the host before (its kinds: process, runtime state, mount, cgroup, ...)
     * and what was left 15 s later at most.
     */
    async remove(): Promise<{ before: string[]; after: string[] }> {
      const cri = daemon.cri();
      const ids = [this.podId, ...this.containers.values()];
      const left = (): string[] => [
        ...liveProcesses(this.hostPids).map((p) => `process ${p}: ${describeProcess(p)}`),
        ...runtimeState(this.handler).map((p) => `runtime state ${p}`),
        ...cgroupsOf(ids).map((p) => `cgroup ${p}`),
        ...daemon.leftovers(false),
      ];
      const before = [...new Set(left().map((l) => l.split(/ \/| \d/)[0]))].sort();
      await cri.stopPodSandbox(this.podId);
      await cri.removePodSandbox(this.podId);
      await waitFor(() => left().length === 0, 15_000);
      return { before, after: left() };
    }
  }

  /** usePod declares a pod of the enclosing describe block: started before its tests, removed after them (unless a test removed it). */
  function usePod(handler: Handler, name: string, pidMode: NamespaceMode): RunningPod {
    const pod = new RunningPod(handler, name, pidMode);
    beforeAll(async () => {
      await pod.start();
    }, 180_000);
    afterAll(async () => {
      if (pod.podId) await pod.remove().catch(() => undefined);
    }, 120_000);
    return pod;
  }

  /** expectCode asserts that a CRI call failed with gRPC status NOT_FOUND. */
  async function expectNotFound(call: Promise<unknown>): Promise<void> {
    const err = await call.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CriError);
    expect((err as CriError).code).toBe(5);
  }

  /** podSuite declares one handler's tests; `peer` is the handler whose observations it must match. */
  function podSuite(handler: Handler, peer?: Handler): void {
    const seen: Observations = new Map();
    observed.set(handler, seen);
    /** observe records what `handler` saw under `key` and returns it. */
    const observe = <T>(key: string, value: T): T => {
      seen.set(key, value);
      return value;
    };

    describe('a pod whose containers have PID namespaces of their own', () => {
      const pod = usePod(handler, 'pod', 'CONTAINER');

      test('the pod runs under the handler with an address of the CNI network', async () => {
        const { status } = await daemon.cri().podSandboxStatus(pod.podId);
        expect(status.state).toBe('SANDBOX_READY');
        expect(status.runtime_handler).toBe(handler);
        expect(status.network?.ip).toMatch(new RegExp(`^${daemon.subnet.replace(/\.0\/24$/, '').replace(/\./g, '\\.')}\\.\\d+$`));
        const states = (await daemon.cri().listContainers(pod.podId)).map((c) => `${c.metadata?.name}: ${c.state}`).sort();
        expect(observe('container states', states)).toEqual(['client: CONTAINER_RUNNING', 'server: CONTAINER_RUNNING']);
      });

      test('the client reaches the server on 127.0.0.1 (one localhost per pod)', async () => {
        const logFile = path.join(pod.config.log_directory!, 'client.log');
        const got = await waitFor(() => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('client got:'), 30_000);
        const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '(no log)';
        expect({ got, log }).toEqual({ got: true, log: expect.stringContaining(`client got: ${PAGE}`) });
        const r = await pod.exec('client', ['wget', '-q', '-O', '-', `http://127.0.0.1:${PORT}/`]);
        expect(observe('wget from the client', r)).toEqual({ stdout: `${PAGE}\n`, stderr: '', exitCode: 0 });
      });

      test('both containers see the pod hostname', async () => {
        const names = [await pod.exec('server', ['hostname']), await pod.exec('client', ['hostname'])].map((r) => r.stdout.trim());
        expect(observe('hostnames', names)).toEqual([POD_HOSTNAME, POD_HOSTNAME]);
      });

      test('a file written to /dev/shm by one container is read by the other', async () => {
        const fromServer = await pod.exec('client', ['cat', '/dev/shm/from-server']);
        expect(observe('server file read by the client', fromServer)).toEqual({ stdout: 'written by the server\n', stderr: '', exitCode: 0 });
        const write = await pod.exec('client', ['sh', '-c', 'echo written by the client > /dev/shm/from-client']);
        expect(write.exitCode).toBe(0);
        const fromClient = await pod.exec('server', ['cat', '/dev/shm/from-client']);
        expect(observe('client file read by the server', fromClient)).toEqual({ stdout: 'written by the client\n', stderr: '', exitCode: 0 });
      });

      test('the containers share the pod\'s network, IPC and UTS namespaces, not their PID namespaces', async () => {
        const links = async (name: string) => (await pod.exec(name, ['sh', '-c', 'for ns in net ipc uts pid; do readlink /proc/self/ns/$ns; done'])).stdout.trim().split('\n');
        const [server, client] = [await links('server'), await links('client')];
        expect(server).toEqual(['net', 'ipc', 'uts', 'pid'].map((ns) => expect.stringMatching(new RegExp(`^${ns}:\\[\\d+\\]$`))));
        const same = ['net', 'ipc', 'uts', 'pid'].map((ns, i) => `${ns}: ${server[i] === client[i] ? 'shared' : 'own'}`);
        expect(observe('namespaces', same)).toEqual(['net: shared', 'ipc: shared', 'uts: shared', 'pid: own']);
      });

      test('each container sees only its own processes (PID namespace CONTAINER)', async () => {
        const r = await pod.exec('client', ['ps', '-o', 'comm']);
        expect(observe('ps in the client', r.stdout.trim().split('\n').slice(1).sort())).toEqual(['ps', 'sleep']);
      });

      test('ExecSync returns stdout, stderr and the exit code', async () => {
        const r = await pod.exec('server', ['sh', '-c', 'echo to stdout; echo to stderr >&2; exit 7']);
        expect(observe('exec exit 7', r)).toEqual({ stdout: 'to stdout\n', stderr: 'to stderr\n', exitCode: 7 });
      });

      test('the CRI log file holds what the containers printed', async () => {
        const { status } = await daemon.cri().containerStatus(pod.id('server'));
        expect(status.log_path).toBe(path.join(pod.config.log_directory!, 'server.log'));
        expect(await waitFor(() => fs.existsSync(status.log_path), 10_000)).toBe(true);
        // The CRI log format: "<RFC 3339 time> <stream> <P|F> <line>".
        const lines = fs.readFileSync(status.log_path, 'utf8').trim().split('\n');
        expect(lines.every((l) => /^\d{4}-\d\d-\d\dT\S+ (stdout|stderr) [PF] /.test(l))).toBe(true);
        expect(observe('server log', lines.map((l) => l.split(' ').slice(1).join(' ')))).toEqual(['stdout F server-up']);
      });

      test('ContainerStats answers with CPU and memory usage', async () => {
        const stats = await daemon.cri().containerStats(pod.id('server'));
        expect(stats.attributes?.id).toBe(pod.id('server'));
        expect(Number(stats.cpu?.timestamp)).toBeGreaterThan(0);
        expect(Number(stats.cpu?.usage_core_nano_seconds?.value)).toBeGreaterThan(0);
        expect(Number(stats.memory?.working_set_bytes?.value)).toBeGreaterThan(0);
      });

      test('StopPodSandbox and RemovePodSandbox leave nothing', async () => {
        await pod.recordHostProcesses();
        expect(pod.hostPids.size).toBeGreaterThanOrEqual(3);
        const { before, after } = await pod.remove();
        // What the checks look for was there while the pod ran: they would see a leak.
        expect(before).toEqual(['CNI cache', 'cgroup', 'mount', 'network namespace', 'process', 'runtime state', 'shim socket']);
        expect(after).toEqual([]);
        await expectNotFound(daemon.cri().podSandboxStatus(pod.podId));
        expect(await daemon.cri().listContainers(pod.podId)).toEqual([]);
        pod.podId = '';
      });
    });

    describe('a pod sharing its PID namespace (NamespaceMode POD)', () => {
      const pod = usePod(handler, 'sharedpid', 'POD');

      test("each container's ps shows the other's processes and the pause process", async () => {
        expect(await waitFor(async () => (await pod.exec('client', ['ps', '-o', 'comm'])).stdout.includes('sleep'), 30_000)).toBe(true);
        for (const name of ['server', 'client']) {
          const r = await pod.exec(name, ['ps', '-o', 'comm']);
          expect(observe(`ps in the ${name} of the shared-PID pod`, r.stdout.trim().split('\n').slice(1).sort())).toEqual(['httpd', 'pause', 'ps', 'sleep']);
        }
      });

      test('the containers share the pod\'s PID namespace too', async () => {
        const [server, client] = [await pod.exec('server', ['readlink', '/proc/self/ns/pid']), await pod.exec('client', ['readlink', '/proc/self/ns/pid'])];
        expect(server.stdout).toMatch(/^pid:\[\d+\]\n$/);
        expect(observe('shared pid namespace', server.stdout === client.stdout)).toBe(true);
      });

      test('StopPodSandbox and RemovePodSandbox leave nothing', async () => {
        await pod.recordHostProcesses();
        expect((await pod.remove()).after).toEqual([]);
        await expectNotFound(daemon.cri().podSandboxStatus(pod.podId));
        pod.podId = '';
      });
    });

    if (peer) {
      test(`every observation equals ${peer}'s`, () => {
        const reference = observed.get(peer)!;
        expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(reference));
      });
    }
  }

  if (handlers.includes('runc')) {
    describe('CRI pods under runc (the reference)', () => {
      podSuite('runc');
    });
  }

  // Enabled by default; TVISOR_CRI_HANDLERS=runc leaves it out. It fails until
  // multi-container sandboxes land (issue 15): see the file's comment.
  if (handlers.includes('tvisor')) {
    describe('CRI pods under tvisor', () => {
      podSuite('tvisor', handlers.includes('runc') ? 'runc' : undefined);
    });
  }

  test('containerd stops and leaves nothing behind', async () => {
    await daemon.stop();
    expect(daemon.leftovers(true)).toEqual([]);
  }, 120_000);
}
