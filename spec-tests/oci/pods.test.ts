/**
 * Pods (runtime/container/pod.ts, runtime/sandbox/pod-member.ts, sentry/kernel/containers.ts):
 * OCI bundles with CRI's annotations, driven through the CLI as containerd drives its runc
 * shim: create and start the pod's sandbox (pause) container, then create and start two
 * application containers whose config.json names the pause container's namespaces
 * (/proc/<pause pid>/ns/{net,ipc,uts[,pid]}, as containerd writes them) and binds the
 * pod's shm directory on /dev/shm (containerd's sandbox shm). Under runc these are the
 * kernel's namespaces of the pause process; under tvisor the same bundles put both
 * containers in the pause container's sentry. Every check is compared with runc:
 * one container serves on 127.0.0.1 and the other fetches from it; both see the pod's
 * hostname; a file written in /dev/shm by one is read by the other, a file of one's rootfs
 * is not the other's; with the pod's pid
 * namespace each sees the other's processes in `ps`, without it only its own; pausing,
 * killing and deleting one leaves the other running; the --pid-file process of a container is reaped by
 * the caller (a child subreaper, as containerd's shim) with its init's exit status; deleting
 * the sandbox container ends the pod (with a shared pid namespace: runc's pause is pid 1
 * there). Afterwards nothing is left: no container, no state directory, no host process,
 * no cgroup and no mount. The same without annotations, as Docker's `--network container:X
 * --pid container:X` writes it: a container whose network and pid namespace paths are
 * another container's shares its localhost and processes, and keeps its own hostname.
 * Two containers of a pod with different rootfs and bind mounts each see their own files
 * only; under tvisor the pod's one gofer serves both (none of their own) and holds no
 * descriptor of them once they are deleted, and their rootfs mounts (containerd's
 * snapshots) unmount after delete while the pod runs on. Nor does the pod's sentry: after
 * 20 members that each read a few hundred files were created and deleted in turn, it
 * holds exactly the descriptors it held before; a descriptor of a member's file passed
 * to another member over SCM_RIGHTS stays readable after the first is deleted, as under
 * runc (the only descriptor of its files the sentry keeps, until it is closed).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../oci/config';
import { libcFunc } from '../../native/libc';
import { reap } from '../../native/spawn';
import { BUSYBOX, OciRuntime, pidAlive, runWithTerminal } from './harness';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const RUNC = '/usr/sbin/runc';
const PR_SET_CHILD_SUBREAPER = 36;
const SANDBOX = 'io.kubernetes.cri.container-type';
const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';
const HOSTNAME = `pod-${process.pid}`;
/** FETCH retries until the server container listens (its start races the fetch). */
const FETCH = 'i=0; while [ $i -lt 100 ]; do wget -qO- http://127.0.0.1:8080/index.html && exit 0; i=$((i+1)); sleep 0.1; done; exit 1';

/** prerequisites fails the suite, naming what is missing. */
function prerequisites(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const f of [TVISOR, RUNC, BUSYBOX, FDPASS, WATCH]) if (!fs.existsSync(f)) missing.push(f);
  if (missing.length) throw new Error(`oci/pods: missing prerequisites: ${missing.join(', ')}`);
}

/** Pod is one pod's bundles and ids under one runtime. */
interface Pod {
  pause: string;
  a: string;
  b: string;
}

/** shmBind replaces the spec's /dev/shm with a bind of the pod's shm directory (containerd's sandbox shm). */
function shmBind(s: Spec, shm: string): void {
  s.mounts = (s.mounts ?? []).filter((m) => m.destination !== '/dev/shm');
  s.mounts.push({ destination: '/dev/shm', type: 'bind', source: shm, options: ['rbind', 'rw', 'nosuid', 'nodev'] });
}

/** makePod creates and starts a pod: the pause container and containers a (the server) and b. */
function makePod(rt: OciRuntime, tag: string, sharedPid: boolean): Pod {
  const ids: Pod = { pause: `pod-${tag}-pause-${process.pid}`, a: `pod-${tag}-a-${process.pid}`, b: `pod-${tag}-b-${process.pid}` };
  const shm = path.join(rt.dir, `${tag}-shm`);
  fs.mkdirSync(shm, { mode: 0o1777 });
  fs.chmodSync(shm, 0o1777);
  const pause = rt.bundle(`${tag}-pause`, ['sleep', '100000'], (s) => {
    s.hostname = HOSTNAME;
    s.annotations = { [SANDBOX]: 'sandbox', [SANDBOX_ID]: ids.pause };
    shmBind(s, shm);
  });
  mustRun(rt, 'create', '--bundle', pause, ids.pause);
  mustRun(rt, 'start', ids.pause);
  const pausePid = rt.state(ids.pause)!.pid as number;
  const member = (s: Spec) => {
    s.hostname = undefined;
    s.annotations = { [SANDBOX]: 'container', [SANDBOX_ID]: ids.pause };
    const joined = ['network', 'ipc', 'uts', ...(sharedPid ? ['pid'] : [])];
    const file: Record<string, string> = { network: 'net', ipc: 'ipc', uts: 'uts', pid: 'pid' };
    s.linux!.namespaces = [
      ...(s.linux!.namespaces ?? []).filter((n) => !joined.includes(n.type)),
      ...joined.map((type) => ({ type, path: `/proc/${pausePid}/ns/${file[type]}` } as never)),
    ];
    shmBind(s, shm);
  };
  const a = rt.bundle(`${tag}-a`, ['sh', '-c', 'echo shm-from-a > /dev/shm/a; exec httpd -f -p 127.0.0.1:8080 -h /www'], member);
  fs.mkdirSync(path.join(a, 'rootfs', 'www'));
  fs.writeFileSync(path.join(a, 'rootfs', 'www', 'index.html'), 'served-by-a\n');
  const b = rt.bundle(`${tag}-b`, ['sleep', '100000'], member);
  for (const [id, bundle] of [[ids.a, a], [ids.b, b]]) {
    mustRun(rt, 'create', '--bundle', bundle, id);
    mustRun(rt, 'start', id);
  }
  return ids;
}

/** mustRun runs a runtime command and throws with its stderr when it fails. */
function mustRun(rt: OciRuntime, ...args: string[]): string {
  const r = rt.run(...args);
  if (r.status !== 0) throw new Error(`${rt.name} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** execOut runs `sh -c script` in container id and returns its exit status and output. */
function execOut(rt: OciRuntime, id: string, script: string): string {
  const r = rt.run('exec', id, 'sh', '-c', script);
  return `${r.status}: ${r.stdout.trim()}`;
}

/** psOut lists the command names of the processes container id sees (sorted, `ps` itself left out). */
function psOut(rt: OciRuntime, id: string): string {
  const r = rt.run('exec', id, 'ps', '-o', 'comm');
  const names = r.stdout.trim().split('\n').slice(1).map((l) => l.trim()).filter((n) => n !== 'ps').sort();
  return `${r.status}: ${names.join(' ')}`;
}

/** Leftovers are what a tvisor container has on the host (empty for runc). */
interface Leftovers {
  pids: number[];
  cgroups: string[];
}

/** hostParts reads the host processes and cgroup directories tvisor recorded for `ids`. */
function hostParts(rt: OciRuntime, ids: string[]): Leftovers {
  const out: Leftovers = { pids: [], cgroups: [] };
  if (rt.name !== 'tvisor') return out;
  for (const id of ids) {
    const st = JSON.parse(fs.readFileSync(path.join(rt.root, id, 'state.json'), 'utf8'));
    out.pids.push(st.pid);
    if (typeof st.sandbox?.goferPid === 'number') out.pids.push(st.sandbox.goferPid);
    out.cgroups.push(...(st.sandbox?.cgroup?.created ?? []));
  }
  return out;
}

/** expectNothingLeft checks that no container, state directory, process, cgroup or mount of the pod is left. */
function expectNothingLeft(rt: OciRuntime, ids: string[], parts: Leftovers): void {
  const listed = rt.run('list', '-q').stdout.split('\n').filter(Boolean);
  for (const id of ids) {
    expect(listed).not.toContain(id);
    expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
  }
  expect(parts.pids.filter(pidAlive)).toEqual([]);
  expect(parts.cgroups.filter((d) => fs.existsSync(d))).toEqual([]);
  expect(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(rt.dir))).toEqual([]);
}

/** reapOrphans reaps the test's adopted children (it is a child subreaper, as a shim is). */
function reapOrphans(): void {
  for (;;) {
    try {
      if (reap(-1) === undefined) return;
    } catch {
      return; // ECHILD: none left
    }
  }
}

/** kill sends container id SIGKILL and waits until it is stopped, reaping its pid as containerd's shim does (this process is the subreaper). */
async function kill(rt: OciRuntime, id: string): Promise<void> {
  mustRun(rt, 'kill', id, 'KILL');
  const deadline = Date.now() + 20_000;
  while (rt.state(id)?.status !== 'stopped') {
    if (Date.now() > deadline) throw new Error(`${rt.name}: ${id} did not stop after SIGKILL`);
    reapOrphans();
    await new Promise((r) => setTimeout(r, 20));
  }
  reapOrphans();
}

/** stopPod ends a pod as containerd does: SIGKILL to the sandbox container, then delete. */
async function stopPod(rt: OciRuntime, pause: string): Promise<void> {
  await kill(rt, pause);
  mustRun(rt, 'delete', pause);
}

/** Observed is what one runtime showed for a pod; the two runtimes' are compared. */
type Observed = Record<string, string>;

/** observe runs every check on a shared- or own-pid-namespace pod under one runtime. */
async function observe(rt: OciRuntime, sharedPid: boolean): Promise<Observed> {
  const tag = sharedPid ? 'shared' : 'own';
  const o: Observed = {};
  const pod = makePod(rt, tag, sharedPid);
  const ids = [pod.pause, pod.a, pod.b];
  const parts = hostParts(rt, ids);
  const listed = rt.run('list', '-q').stdout.split('\n');
  o.listed = ids.map((id) => `${id.replace(String(process.pid), 'PID')} ${listed.includes(id) ? 'listed' : 'missing'}`).join(', ');
  if (rt.name === 'tvisor') {
    // state.json records the pod a container runs in.
    for (const id of [pod.a, pod.b]) expect(JSON.parse(fs.readFileSync(path.join(rt.root, id, 'state.json'), 'utf8')).sandbox.pod).toBe(pod.pause);
  }
  o.fetch = execOut(rt, pod.b, FETCH);
  o.hostnameA = execOut(rt, pod.a, 'hostname');
  o.hostnameB = execOut(rt, pod.b, 'hostname');
  o.shmReadByB = execOut(rt, pod.b, 'cat /dev/shm/a');
  o.rootfsOfAFromB = execOut(rt, pod.b, 'cat /www/index.html');
  o.shmWrittenByB = execOut(rt, pod.b, 'echo shm-from-b > /dev/shm/b') + ' / ' + execOut(rt, pod.a, 'cat /dev/shm/b');
  o.psA = psOut(rt, pod.a);
  o.psB = psOut(rt, pod.b);
  // Pausing a stops only a.
  mustRun(rt, 'pause', pod.a);
  o.pausedA = `${rt.state(pod.a)?.status} ${rt.state(pod.b)?.status} ${execOut(rt, pod.b, 'echo b-runs')}`;
  mustRun(rt, 'resume', pod.a);
  o.resumedA = `${rt.state(pod.a)?.status} ${execOut(rt, pod.b, FETCH)}`;
  // Killing and deleting a leaves b running.
  await kill(rt, pod.a);
  o.afterKillA = `${rt.state(pod.b)?.status} ${rt.state(pod.pause)?.status}`;
  mustRun(rt, 'delete', pod.a);
  o.afterDeleteA = `${rt.state(pod.a)?.status ?? 'gone'} ${rt.state(pod.b)?.status} ${execOut(rt, pod.b, 'echo alive')}`;
  o.psBAfterDeleteA = psOut(rt, pod.b);
  if (sharedPid) {
    // The pod ends with its sandbox container.
    await stopPod(rt, pod.pause);
    await rt.waitStatus(pod.b, 'stopped');
    o.afterDeletePause = `${rt.state(pod.pause)?.status ?? 'gone'} ${rt.state(pod.b)?.status}`;
    mustRun(rt, 'delete', pod.b);
  } else {
    mustRun(rt, 'delete', '--force', pod.b);
    o.afterDeleteB = `${rt.state(pod.b)?.status ?? 'gone'} ${rt.state(pod.pause)?.status}`;
    await stopPod(rt, pod.pause);
  }
  expectNothingLeft(rt, ids, parts);
  return o;
}

/** startPause creates and starts a pod's sandbox container `pauseId` (sleep; `edit` changes its config.json further) and returns its pid. */
function startPause(rt: OciRuntime, tag: string, pauseId: string, edit: (s: Spec) => void = () => undefined): number {
  const pause = rt.bundle(`${tag}-pause`, ['sleep', '100000'], (s) => {
    s.annotations = { [SANDBOX]: 'sandbox', [SANDBOX_ID]: pauseId };
    edit(s);
  });
  mustRun(rt, 'create', '--bundle', pause, pauseId);
  mustRun(rt, 'start', pauseId);
  return rt.state(pauseId)!.pid as number;
}

/** exitStatusOfPidFile creates a member whose init exits 3 with --pid-file, starts it, and reaps that pid as a shim does. */
async function exitStatusOfPidFile(rt: OciRuntime): Promise<string> {
  const pauseId = `pod-exit-pause-${process.pid}`, id = `pod-exit-c-${process.pid}`;
  const pausePid = startPause(rt, 'exit', pauseId);
  const c = rt.bundle('exit-c', ['sh', '-c', 'exit 3'], (s) => {
    s.annotations = { [SANDBOX]: 'container', [SANDBOX_ID]: pauseId };
    s.linux!.namespaces = [...s.linux!.namespaces!.filter((n) => n.type !== 'network'), { type: 'network', path: `/proc/${pausePid}/ns/net` }];
  });
  const pidFile = path.join(rt.dir, 'exit-c.pid');
  mustRun(rt, 'create', '--bundle', c, '--pid-file', pidFile, id);
  const parts = hostParts(rt, [pauseId, id]);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  // tvisor's is its waiter, in seccomp's strict mode (read, write, exit): nothing the sentry writes to it can do more.
  if (rt.name === 'tvisor') expect(fs.readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Seccomp:\s+1$/m);
  // Its network namespace is the pod's (what Docker's --network container:<it> and nsenter use).
  const netns = (p: number) => fs.statSync(`/proc/${p}/ns/net`).ino;
  const podNet = netns(pid) === netns(pausePid) ? 'the pod\'s network namespace' : 'another network namespace';
  mustRun(rt, 'start', id);
  let status: number | undefined;
  const deadline = Date.now() + 20_000;
  // The create that started it has exited: the pid is this process's child now (a subreaper).
  while ((status = reap(pid)) === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const state = rt.state(id)?.status;
  mustRun(rt, 'delete', id);
  const pauseState = rt.state(pauseId)?.status;
  await stopPod(rt, pauseId);
  expectNothingLeft(rt, [pauseId, id], parts);
  return `${podNet}; wait status ${status} (exit ${status === undefined ? '?' : status >> 8}); state ${state}; pause ${pauseState}`;
}

/** useRuntimes gives the enclosing describe block a runc and a tvisor, cleaned up (and orphans reaped) after it. */
function useRuntimes(): { runc: OciRuntime; tvisor: OciRuntime } {
  const runc = new OciRuntime('runc', RUNC);
  const tvisor = new OciRuntime('tvisor', TVISOR);
  afterAll(() => {
    runc.cleanup();
    tvisor.cleanup();
    reapOrphans();
  });
  return { runc, tvisor };
}

/**
 * comparedWithRunc declares a describe block `title` whose one test `test` runs `observe`
 * under runc, which must give `expected` (compared with toEqual), and then under tvisor,
 * which must give the same.
 */
function comparedWithRunc<T>(title: string, test: string, observe: (rt: OciRuntime) => Promise<T>, expected: T, timeoutMs: number): void {
  describe(title, () => {
    const { runc, tvisor } = useRuntimes();

    it(test, async () => {
      const want = await observe(runc);
      expect(want).toEqual(expected);
      expect(await observe(tvisor)).toEqual(want);
    }, timeoutMs);
  });
}

/** prctl is prctl(2) (a child subreaper, as containerd's shim is). */
const prctl = () => libcFunc('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)');

beforeAll(() => {
  prerequisites();
  // As containerd's shim: the pid a create writes becomes this process's child once create exits.
  expect(prctl()(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)).toBe(0);
});
afterAll(() => {
  reapOrphans();
  // Jest runs other test files in this process next: their orphans must go to init again,
  // not become zombies here (runc reports a container whose init is a zombie as running).
  prctl()(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
});

describe.each([[true], [false]])('a pod (pid namespace shared: %s), compared with runc', (sharedPid) => {
  const { runc, tvisor } = useRuntimes();

  test('localhost, hostname, /dev/shm, ps, pause, kill and delete per container, the pod\'s end; nothing left', async () => {
    const want = await observe(runc, sharedPid);
    // What runc shows is what the pod must show: spelled out, so that a runc change is seen.
    expect(want.fetch).toBe('0: served-by-a');
    expect(want.hostnameA).toBe(`0: ${HOSTNAME}`);
    expect(want.shmReadByB).toBe('0: shm-from-a');
    expect(want.psA).toBe(sharedPid ? '0: httpd sleep sleep' : '0: httpd');
    const got = await observe(tvisor, sharedPid);
    expect(got).toEqual(want);
  }, 240_000);
});

comparedWithRunc('the --pid-file process of a pod\'s container, compared with runc', 'is in the pod\'s network namespace and is reaped by the caller with its init\'s exit status', exitStatusOfPidFile, 'the pod\'s network namespace; wait status 768 (exit 3); state stopped; pause running', 120_000);

/** networkOfContainer runs X (serving on 127.0.0.1) and Y with X's network and pid namespace paths, as Docker's --network container:X --pid container:X. */
async function networkOfContainer(rt: OciRuntime): Promise<Observed> {
  const x = `netof-x-${process.pid}`, y = `netof-y-${process.pid}`;
  const xb = rt.bundle('netof-x', ['sh', '-c', 'exec httpd -f -p 127.0.0.1:8080 -h /www'], (s) => {
    s.hostname = 'x';
  });
  fs.mkdirSync(path.join(xb, 'rootfs', 'www'));
  fs.writeFileSync(path.join(xb, 'rootfs', 'www', 'index.html'), 'served-by-x\n');
  mustRun(rt, 'create', '--bundle', xb, x);
  mustRun(rt, 'start', x);
  const xPid = rt.state(x)!.pid as number;
  const yb = rt.bundle('netof-y', ['sleep', '100000'], (s) => {
    s.hostname = 'y';
    s.linux!.namespaces = [
      ...s.linux!.namespaces!.filter((n) => n.type !== 'network' && n.type !== 'pid'),
      { type: 'network', path: `/proc/${xPid}/ns/net` }, { type: 'pid', path: `/proc/${xPid}/ns/pid` },
    ];
  });
  mustRun(rt, 'create', '--bundle', yb, y);
  mustRun(rt, 'start', y);
  const parts = hostParts(rt, [x, y]);
  const o: Observed = { fetch: execOut(rt, y, FETCH), hostname: execOut(rt, y, 'hostname'), ps: psOut(rt, y) };
  await kill(rt, y);
  mustRun(rt, 'delete', y);
  o.afterDeleteY = `${rt.state(x)?.status}`;
  await kill(rt, x);
  mustRun(rt, 'delete', x);
  expectNothingLeft(rt, [x, y], parts);
  return o;
}

comparedWithRunc('a container in another container\'s network and pid namespaces (Docker\'s --network container:X --pid container:X), compared with runc', 'shares its localhost and processes, keeps its own hostname; nothing left', networkOfContainer, { fetch: '0: served-by-x', hostname: '0: y', ps: '0: httpd sleep', afterDeleteY: 'running' }, 120_000);

/** terminalMember runs a pod's container whose process.terminal is true through create --console-socket and start. */
async function terminalMember(rt: OciRuntime): Promise<string> {
  const pauseId = `pod-tty-pause-${process.pid}`, id = `pod-tty-c-${process.pid}`;
  const pausePid = startPause(rt, 'tty', pauseId, (s) => {
    s.hostname = HOSTNAME;
  });
  const c = rt.bundle('tty-c', ['sh', '-c', 'hostname; test -t 0 && test -t 1 && echo stdin and stdout are a terminal; exit 7'], (s) => {
    s.process!.terminal = true;
    s.hostname = undefined;
    s.annotations = { [SANDBOX]: 'container', [SANDBOX_ID]: pauseId };
    s.linux!.namespaces = [
      ...s.linux!.namespaces!.filter((n) => !['network', 'uts'].includes(n.type)),
      { type: 'network', path: `/proc/${pausePid}/ns/net` }, { type: 'uts', path: `/proc/${pausePid}/ns/uts` },
    ];
  });
  const parts = hostParts(rt, [pauseId]);
  const { output, created } = await runWithTerminal(rt, c, id);
  await stopPod(rt, pauseId);
  expectNothingLeft(rt, [pauseId, id], parts);
  return `create ${created.status}: ${output}`;
}

comparedWithRunc('a pod\'s container with a terminal (create --console-socket), compared with runc', 'its init writes to the pty whose master went to the console socket', terminalMember, `create 0: ${HOSTNAME}\nstdin and stdout are a terminal\n`, 120_000);

/** deny is a seccomp profile that allows everything but `names` (EPERM). */
function deny(...names: string[]): NonNullable<Spec['linux']>['seccomp'] {
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names, action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] } as never;
}

/** seccompPerContainer runs a pod whose sandbox container's profile denies mkdir and whose member's denies symlink. */
async function seccompPerContainer(rt: OciRuntime): Promise<string> {
  const pauseId = `pod-sc-pause-${process.pid}`, id = `pod-sc-c-${process.pid}`;
  const pausePid = startPause(rt, 'sc', pauseId, (s) => {
    s.linux!.seccomp = deny('mkdir', 'mkdirat');
  });
  const c = rt.bundle('sc-c', ['sleep', '100000'], (s) => {
    s.annotations = { [SANDBOX]: 'container', [SANDBOX_ID]: pauseId };
    s.linux!.namespaces = [...s.linux!.namespaces!.filter((n) => n.type !== 'network'), { type: 'network', path: `/proc/${pausePid}/ns/net` }];
    s.linux!.seccomp = deny('symlink', 'symlinkat');
  });
  mustRun(rt, 'create', '--bundle', c, id);
  mustRun(rt, 'start', id);
  const parts = hostParts(rt, [pauseId, id]);
  const script = 'mkdir /dev/shm/d 2>/dev/null; echo mkdir $?; ln -s x /dev/shm/l 2>/dev/null; echo symlink $?';
  const out = `sandbox container: ${execOut(rt, pauseId, script)}; member: ${execOut(rt, id, script)}`;
  await kill(rt, id);
  mustRun(rt, 'delete', id);
  await stopPod(rt, pauseId);
  expectNothingLeft(rt, [pauseId, id], parts);
  return out.replace(/\n/g, ' ');
}

comparedWithRunc('each container of a pod has its own linux.seccomp profile, compared with runc', 'the sandbox container\'s profile does not apply to a member, nor a member\'s to it', seccompPerContainer, 'sandbox container: 0: mkdir 1 symlink 0; member: 0: mkdir 0 symlink 1', 120_000);

/** failedMember creates a pod's container whose program does not exist: create fails, leaving nothing of it, and the pod runs on. */
async function failedMember(rt: OciRuntime): Promise<string> {
  const pauseId = `pod-fail-pause-${process.pid}`, id = `pod-fail-c-${process.pid}`;
  const pausePid = startPause(rt, 'fail', pauseId);
  const c = rt.bundle('fail-c', ['/nonexistent'], (s) => {
    s.annotations = { [SANDBOX]: 'container', [SANDBOX_ID]: pauseId };
    s.linux!.namespaces = [...s.linux!.namespaces!.filter((n) => n.type !== 'network'), { type: 'network', path: `/proc/${pausePid}/ns/net` }];
  });
  const parts = hostParts(rt, [pauseId]);
  const r = rt.run('create', '--bundle', c, id);
  reapOrphans();
  const said = /exec:? \\?"\/nonexistent\\?":.*no such file or directory/.test(r.stderr) ? 'names the program' : r.stderr;
  const out = `create ${r.status === 0 ? 'succeeded' : 'failed'} (${said}); ${rt.state(id) ? 'state left' : 'no state'}; pod ${rt.state(pauseId)?.status}, ${execOut(rt, pauseId, 'echo alive')}`;
  // No gofer of the failed container is left (one would serve its bundle's rootfs).
  if (rt.name === 'tvisor') expect(gofersServing(c)).toBe(0);
  await stopPod(rt, pauseId);
  expectNothingLeft(rt, [pauseId, id], parts);
  return out;
}

/**
 * gofersServing counts the gofer processes with an argument under `dir` (a bundle: its
 * rootfs is the gofer's root), so that gofers of tests running at the same time do not count.
 */
function gofersServing(dir: string): number {
  let n = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv.includes('gofer') && argv.some((a) => a.includes(dir))) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

comparedWithRunc('a pod\'s container that cannot start, compared with runc', 'create fails naming why, leaves nothing of it, and the pod runs on', failedMember, 'create failed (names the program); no state; pod running, 0: alive', 120_000);

/** goferOf reads the gofer pid tvisor recorded for container id (undefined under runc or for a pod's container). */
function goferOf(rt: OciRuntime, id: string): number | undefined {
  if (rt.name !== 'tvisor') return undefined;
  const pid = JSON.parse(fs.readFileSync(path.join(rt.root, id, 'state.json'), 'utf8')).sandbox?.goferPid;
  return typeof pid === 'number' ? pid : undefined;
}

/**
 * settled returns `list()` once it stops changing for 200 ms (and equals `want`, when
 * given, or 10 s passed): a process's descriptors, of which a finished request's socket
 * closes just after its answer.
 */
async function settled(list: () => string[], want?: string[]): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  let last = list();
  for (let stable = 0; stable < 10 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 20));
    const now = list();
    stable = now.join() === last.join() && (want === undefined || now.join() === want.join()) ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** goferFds lists a gofer's open descriptor numbers once they settle. */
async function goferFds(pid: number, want?: string[]): Promise<string[]> {
  return settled(() => fs.readdirSync(`/proc/${pid}/fd`).sort(), want);
}

/** hostFds lists a process's open descriptors as `N -> what readlink shows` (a path, `socket:[ino]`...), in fd order. */
function hostFds(pid: number): string[] {
  const out: string[] = [];
  for (const n of fs.readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b)) {
    try {
      out.push(`${n} -> ${fs.readlinkSync(`/proc/${pid}/fd/${n}`)}`);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** into keeps the descriptors (hostFds lines) that name a file under host directory `dir`. */
function into(fds: string[], dir: string): string[] {
  return fds.filter((l) => l.includes(` -> ${dir}/`) || l.endsWith(` -> ${dir}`));
}

/**
 * ownFiles runs a pod whose two containers have different rootfs and bind mounts on
 * /data: each sees its own files only. Under tvisor the pod's one gofer serves both
 * (no gofer of their own is started) and, once both are deleted, holds the descriptors
 * it held before they were created.
 */
async function ownFiles(rt: OciRuntime): Promise<string> {
  const pauseId = `pod-own-pause-${process.pid}`;
  const pausePid = startPause(rt, 'own', pauseId);
  const gofer = goferOf(rt, pauseId);
  const before = gofer === undefined ? [] : await goferFds(gofer);
  const ids: string[] = [];
  const bundles: string[] = [];
  for (const m of ['x', 'y']) {
    const data = path.join(rt.dir, `own-data-${m}`);
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, `data-${m}`), `${m}\n`);
    const b = rt.bundle(`own-${m}`, ['sleep', '100000'], (s) => {
      s.annotations = { [SANDBOX]: 'container', [SANDBOX_ID]: pauseId };
      s.linux!.namespaces = [...s.linux!.namespaces!.filter((n) => n.type !== 'network'), { type: 'network', path: `/proc/${pausePid}/ns/net` }];
      s.mounts = [...(s.mounts ?? []), { destination: '/data', type: 'bind', source: data, options: ['rbind', 'ro'] }];
    });
    fs.writeFileSync(path.join(b, 'rootfs', `only-${m}`), `${m}\n`);
    fs.mkdirSync(path.join(b, 'rootfs', 'data'));
    // A mount of its own, as containerd's snapshotter gives each container: unmounted after delete, as containerd's shim does.
    expect(spawnSync('mount', ['--bind', path.join(b, 'rootfs'), path.join(b, 'rootfs')]).status).toBe(0);
    const id = `pod-own-${m}-${process.pid}`;
    mustRun(rt, 'create', '--bundle', b, id);
    mustRun(rt, 'start', id);
    ids.push(id);
    bundles.push(b);
  }
  const parts = hostParts(rt, [pauseId, ...ids]);
  if (rt.name === 'tvisor') {
    // No gofer of their own: the pod's serves them.
    expect(bundles.map((b) => gofersServing(b))).toEqual([0, 0]);
    for (const id of ids) expect(goferOf(rt, id)).toBeUndefined();
  }
  const seen = ids.map((id) => execOut(rt, id, 'ls / | grep only-; ls /data; cat /only-x /only-y /data/data-x /data/data-y 2>&1 | sed "s/^cat: //"').replace(/\n/g, ' '));
  for (const id of ids) {
    await kill(rt, id);
    mustRun(rt, 'delete', id);
  }
  // The pod's gofer holds nothing of the deleted containers.
  if (gofer !== undefined) expect(await goferFds(gofer, before)).toEqual(before);
  // Nothing of the pod holds their rootfs mounts: they unmount (no EBUSY) while the pod runs.
  const unmounted = bundles.map((b) => {
    const r = spawnSync('umount', [path.join(b, 'rootfs')], { encoding: 'utf8' });
    return r.status === 0 ? 'unmounted' : `umount: ${r.stderr.trim()}`;
  }).join(', ');
  const pod = `pod ${rt.state(pauseId)?.status}, ${execOut(rt, pauseId, 'echo alive')}`;
  await stopPod(rt, pauseId);
  expectNothingLeft(rt, [pauseId, ...ids], parts);
  return `x: ${seen[0]}; y: ${seen[1]}; rootfs after delete: ${unmounted}; ${pod}`;
}

comparedWithRunc('two containers of a pod with different rootfs and bind mounts, compared with runc', 'each sees its own files only; the pod\'s one gofer keeps nothing of them after delete', ownFiles,
  'x: 0: only-x data-x x can\'t open \'/only-y\': No such file or directory x can\'t open \'/data/data-y\': No such file or directory; y: 0: only-y data-y can\'t open \'/only-x\': No such file or directory y can\'t open \'/data/data-x\': No such file or directory y; rootfs after delete: unmounted, unmounted; pod running, 0: alive', 120_000);

/** FDPASS is the program that passes a member's descriptors to another member (spec-tests/security/programs/pod-fdpass.c). */
const FDPASS = path.resolve(__dirname, '..', '..', 'build', 'programs', 'pod-fdpass');
/** WATCH is the program that watches a member's bind mount with inotify (spec-tests/security/programs/pod-watch.c). */
const WATCH = path.resolve(__dirname, '..', '..', 'build', 'programs', 'pod-watch');

/** waitFile waits until host file `p` exists (a member's init makes it), or throws naming it after 20 s. */
async function waitFile(p: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!fs.existsSync(p)) {
    if (Date.now() > deadline) throw new Error(`${p} never appeared`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** waitFor waits until host file `p` says one of `lines` (a member's program writes it), or throws after 30 s; it returns what it says. */
async function waitFor(p: string, ...lines: string[]): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const said = fs.existsSync(p) ? fs.readFileSync(p, 'utf8').trim() : '';
    if (lines.includes(said) || said.startsWith('not watched')) return said;
    if (Date.now() > deadline) throw new Error(`${p} says "${said}", not ${lines.join(' or ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** inPod makes a bundle's config.json a member of pod `pauseId` (CRI's annotations, the pause container's network namespace). */
function inPod(s: Spec, pauseId: string, pausePid: number): void {
  s.annotations = { [SANDBOX]: 'container', [SANDBOX_ID]: pauseId };
  s.linux!.namespaces = [...s.linux!.namespaces!.filter((n) => n.type !== 'network'), { type: 'network', path: `/proc/${pausePid}/ns/net` }];
}

/** MANY is how many files of its rootfs the member below reads, stats and lists. */
const MANY = 300;

/**
 * The pod's sentry holds host descriptors of a member's files while it runs (the files it
 * opened, and those its cache keeps open for the next open); once the member is deleted
 * it must hold none of them, nor its 9P connection: the sentry's descriptors are what
 * they were before the member was created, member after member (a long-lived pod whose
 * members come and go, as a CronJob's, must not accumulate them).
 */
describe('a pod\'s sentry after its members are deleted', () => {
  const { tvisor: rt } = useRuntimes();

  it(`holds no descriptor of their files (${MANY} read, stat'ed and listed each, a bind mount watched) nor of their connection: 20 members created and deleted in turn leave exactly what it held before`, async () => {
    const pauseId = `pod-fds-pause-${process.pid}`;
    const sentry = startPause(rt, 'fds', pauseId);
    const parts = hostParts(rt, [pauseId]);
    // The member reads, stats and lists every file, keeps two open (its init holds them
    // when killed), and watches its bind mount /data with inotify (the gofer watches the
    // host directory for it, and the sentry listens on the member's connection): it says
    // in /ready when it watches and when it heard of the file this test makes there.
    const data = path.join(rt.dir, 'fds-data');
    fs.mkdirSync(data);
    const script = 'cat /many/* > /dev/null; stat /many/* > /dev/null; ls -l /many > /dev/null; exec 3< /many/f1 4< /many/f2; exec /bin/pod-watch /data from-host /ready';
    const b = rt.bundle('fds-member', ['sh', '-c', script], (s) => {
      inPod(s, pauseId, sentry);
      s.root!.readonly = false;
      s.mounts = [...(s.mounts ?? []), { destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] }];
    });
    fs.mkdirSync(path.join(b, 'rootfs', 'data'));
    fs.copyFileSync(WATCH, path.join(b, 'rootfs', 'bin', 'pod-watch'));
    fs.chmodSync(path.join(b, 'rootfs', 'bin', 'pod-watch'), 0o755);
    const rootfs = path.join(b, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'many'));
    for (let i = 0; i < MANY; i++) fs.writeFileSync(path.join(rootfs, 'many', `f${i}`), `file ${i}\n`);
    const before = await settled(() => hostFds(sentry));
    expect(into(before, rootfs)).toEqual([]);
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = `pod-fds-${i}-${process.pid}`;
      fs.rmSync(path.join(rootfs, 'ready'), { force: true });
      fs.rmSync(path.join(data, 'from-host'), { force: true });
      mustRun(rt, 'create', '--bundle', b, id);
      mustRun(rt, 'start', id);
      const said = await waitFor(path.join(rootfs, 'ready'), 'ready');
      if (said !== 'ready') seen.push(`member ${i}: ${said}`);
      fs.writeFileSync(path.join(data, 'from-host'), '');
      const heard = await waitFor(path.join(rootfs, 'ready'), 'host event', 'no host event');
      if (heard !== 'host event') {
        seen.push(`member ${i}: ${heard}`);
        break; // the next ones would wait as long
      }
      // While it runs the sentry holds its files (what this test looks for is there to see).
      if (i === 0) expect(into(hostFds(sentry), rootfs).length).toBeGreaterThan(2);
      await kill(rt, id);
      mustRun(rt, 'delete', id);
      const after = await settled(() => hostFds(sentry), before);
      expect(into(after, rootfs)).toEqual([]);
      if (after.join() !== before.join()) seen.push(`after member ${i}: ${after.length} descriptors, ${before.length} before: +[${after.filter((l) => !before.includes(l)).join(', ')}] -[${before.filter((l) => !after.includes(l)).join(', ')}]`);
    }
    expect(seen).toEqual([]);
    const pod = `pod ${rt.state(pauseId)?.status}, ${execOut(rt, pauseId, 'echo alive')}`;
    expect(pod).toBe('pod running, 0: alive');
    await stopPod(rt, pauseId);
    expectNothingLeft(rt, [pauseId], parts);
  }, 240_000);
});

/**
 * passedDescriptor passes descriptors of member a's files (a regular file and a
 * directory of its rootfs) to member b over SCM_RIGHTS (an abstract Unix socket of the
 * pod's network namespace), deletes a, and has b read them. Under runc the host keeps the
 * inodes: the file reads, the directory lists and a file below it opens. Under tvisor
 * the file keeps its host descriptor until b closes it (the only descriptor of a's files
 * the sentry keeps past a's delete); the directory, served through a's 9P connection (the
 * gofer keeps a directory's descriptor), still stats (its attributes are cached) but its
 * listing and lookups fail with EIO once that connection is gone; the sentry runs on.
 */
async function passedDescriptor(rt: OciRuntime): Promise<{ file: string; dir: string; held: string }> {
  const pauseId = `pod-pass-pause-${process.pid}`, a = `pod-pass-a-${process.pid}`, bId = `pod-pass-b-${process.pid}`;
  const shm = path.join(rt.dir, 'pass-shm');
  fs.mkdirSync(shm, { mode: 0o1777 });
  const pausePid = startPause(rt, 'pass', pauseId, (s) => shmBind(s, shm));
  const name = `tvisor-pod-pass-${process.pid}`;
  const bundle = (tag: string, args: string[]) => {
    const b = rt.bundle(tag, args, (s) => {
      inPod(s, pauseId, pausePid);
      shmBind(s, shm);
    });
    fs.copyFileSync(FDPASS, path.join(b, 'rootfs', 'bin', 'pod-fdpass'));
    fs.chmodSync(path.join(b, 'rootfs', 'bin', 'pod-fdpass'), 0o755);
    return b;
  };
  const ab = bundle('pass-a', ['/bin/pod-fdpass', 'send', name, '/secret', '/adir']);
  fs.writeFileSync(path.join(ab, 'rootfs', 'secret'), 'secret of a\n');
  fs.mkdirSync(path.join(ab, 'rootfs', 'adir'));
  for (const f of ['x', 'y']) fs.writeFileSync(path.join(ab, 'rootfs', 'adir', f), f);
  const bb = bundle('pass-b', ['/bin/pod-fdpass', 'recv', name, '/dev/shm']);
  for (const [id, b] of [[a, ab], [bId, bb]]) {
    mustRun(rt, 'create', '--bundle', b, id);
    mustRun(rt, 'start', id);
  }
  const parts = hostParts(rt, [pauseId, a, bId]);
  await waitFile(path.join(shm, 'got'));
  await kill(rt, a);
  mustRun(rt, 'delete', a);
  const aRootfs = path.join(ab, 'rootfs');
  // What the sentry holds of a's files once a is deleted: the file b holds open, nothing else.
  const held = rt.name === 'tvisor' ? (await settled(() => into(hostFds(pausePid), aRootfs))).map((l) => l.replace(/^\d+ -> /, '')) : [];
  fs.writeFileSync(path.join(shm, 'go'), '');
  await waitFile(path.join(shm, 'closed'));
  const [file, dir] = fs.readFileSync(path.join(shm, 'result'), 'utf8').trim().split('\n');
  // Once b closed them, nothing of a's.
  if (rt.name === 'tvisor') expect(await settled(() => into(hostFds(pausePid), aRootfs), [])).toEqual([]);
  const alive = execOut(rt, pauseId, 'echo alive');
  expect(alive).toBe('0: alive');
  await kill(rt, bId);
  mustRun(rt, 'delete', bId);
  await stopPod(rt, pauseId);
  expectNothingLeft(rt, [pauseId, a, bId], parts);
  return { file, dir, held: held.join(', ') };
}

describe('a descriptor of a deleted pod member\'s files held by another member, compared with runc', () => {
  const { runc, tvisor } = useRuntimes();

  it('reads the file as under runc (the sentry keeps its host descriptor, and only it, until it is closed); the directory stats as under runc, but its listing and a lookup below it fail with EIO under tvisor (its 9P connection is gone) where runc\'s work', async () => {
    const want = await passedDescriptor(runc);
    expect(want).toEqual({ file: 'file: read 12 bytes: secret of a; fstat size 12', dir: 'dir: 4 entries; fstat: a directory; openat x: read 1 bytes', held: '' });
    const got = await passedDescriptor(tvisor);
    expect(got.file).toBe(want.file);
    expect(got.dir).toBe('dir: getdents64: EIO; fstat: a directory; openat x: EIO');
    expect(got.held).toBe(path.join(tvisor.dir, 'pass-a', 'rootfs', 'secret'));
  }, 120_000);
});
