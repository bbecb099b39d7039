/**
 * bench-pod.ts is `make bench-pod`, issue 15's figure: a pod of three containers started
 * through containerd's CRI (the CRI tests' private containerd and gRPC client), under the
 * runc and tvisor handlers, measured in the same run:
 *
 * - start: wall time from RunPodSandbox until StartContainer of the third container has
 *   answered (the pause sandbox and three busybox `sleep` containers), median and
 *   min..max over BENCH_POD_ROUNDS rounds per configuration (default 3), interleaved;
 * - memory: the sum of PSS (/proc/PID/smaps_rollup) over every host process of the pod,
 *   a second after it started: the pod's shim and all its descendants (pause, the
 *   containers, and under tvisor the sentries, gofers and stubs); beside it the sum of
 *   their USS (Private_Clean + Private_Dirty: pages no other process maps). PSS splits a
 *   shared page among all its mappers, on the whole host: each sentry and gofer maps
 *   ~37 MB of Node's 90 MB binary, whose share in the sum falls as other Node processes
 *   run (the other helpers' tests, this bench itself), so PSS moves with the host's load;
 * - the same memory for the issue's reference, three separate tvisor sandboxes (one
 *   busybox `sleep` each), started two ways: by the tvisor CLI (no shim), and through the
 *   same CRI path as the pod (three pods of one container: each its own shim, sentry and
 *   gofer, as Kubernetes runs three one-container pods).
 *
 * - what each kind of process holds (the last round's): PSS summed by kind (sentry, gofer,
 *   stub, waiter, shim, pause, ...: processKind) and their USS, to show what to remove.
 *
 * Ratios printed: tvisor's pod vs runc's pod (start, memory), and tvisor's pod vs three
 * separate tvisor sandboxes (memory). The issue's ratio, the headline (target <= 0.5x), is
 * like with like: the pod and the three sandboxes through the same CRI path, each side's
 * shims counted. The same without any shim (the pod's shim left out, the CLI's sandboxes),
 * also like with like, and the mixed figure earlier rounds printed (the pod with its shim,
 * the CLI's sandboxes without one) follow it, labelled, in PSS and in USS. A
 * configuration that fails shows "n/a: <reason>". Everything is removed at the end.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle } from '../behaviour/bundle';
import { descendants, processesUsing, sleep } from '../docker/harness';
import type { PodSandboxConfig } from './cri-client';
import { BUSYBOX_IMAGE, Containerd, TVISOR, missingPrerequisite, parentPid, type Handler } from './harness';

const ROUNDS = Number(process.env.BENCH_POD_ROUNDS ?? '3');
/** CONTAINERS is the number of application containers per pod (the issue's figure: 3). */
const CONTAINERS = 3;
/** NAMESPACES are what a kubelet asks for a pod without shareProcessNamespace: one network and IPC namespace, a PID namespace per container. */
const NAMESPACES = { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } as const;
/** SETTLE_MS is how long a started pod idles before its memory is read. */
const SETTLE_MS = 1000;

/** Memory is a process's (or a set's) PSS and USS in KiB. */
interface Memory {
  pss: number;
  uss: number;
}

/** memoryKb reads a process's PSS and USS (private pages) in KiB from smaps_rollup (0 when it is gone or a zombie). */
function memoryKb(pid: number): Memory {
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { pss: field('Pss'), uss: field('Private_Clean') + field('Private_Dirty') };
  } catch {
    return { pss: 0, uss: 0 };
  }
}

/**
 * processKind names what a host process of a pod is, from its command line: tvisor's
 * sentry and gofer (Node running `tvisor sentry` / `tvisor gofer`), its stubs and waiters
 * (by binary), containerd's shim, or the command's base name (pause, sleep under runc).
 */
function processKind(pid: number): string {
  let argv: string[];
  try {
    argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return 'gone';
  }
  if (argv.includes('sentry')) return 'sentry';
  if (argv.includes('gofer')) return 'gofer';
  let exe = '';
  try {
    // A stub (no command line of its own, or one named after the application's process) runs the stub binary.
    exe = path.basename(fs.readlinkSync(`/proc/${pid}/exe`));
  } catch {
    // a kernel thread, or gone
  }
  const base = exe.startsWith('tvisor-') ? exe : path.basename(argv[0] ?? '');
  if (base.startsWith('tvisor-') && base !== 'tvisor') return base.slice('tvisor-'.length).replace(/^systrap-stub$/, 'stub (systrap)');
  if (base.startsWith('containerd-shim')) return 'shim';
  return base || exe || 'unknown';
}

/** Breakdown is memory (KiB) and process count by kind of process. */
type Breakdown = Map<string, Memory & { n: number }>;

/** treeMemory sums PSS and USS over `roots` and all their descendants, each process once, also by kind of process. */
function treeMemory(roots: number[]): Memory & { processes: number; byKind: Breakdown } {
  const pids = new Set<number>();
  for (const r of roots) {
    pids.add(r);
    for (const d of descendants(r)) pids.add(d);
  }
  const sum: Memory = { pss: 0, uss: 0 };
  const byKind: Breakdown = new Map();
  for (const p of pids) {
    const m = memoryKb(p);
    sum.pss += m.pss;
    sum.uss += m.uss;
    const kind = processKind(p);
    const e = byKind.get(kind) ?? { pss: 0, uss: 0, n: 0 };
    e.pss += m.pss;
    e.uss += m.uss;
    e.n++;
    byKind.set(kind, e);
  }
  return { ...sum, processes: pids.size, byKind };
}

/** Sample is one measured pod (or set of sandboxes): start time, memory in KiB, by kind of process. */
interface Sample extends Memory {
  ms: number;
  processes: number;
  byKind: Breakdown;
}

/** Figures are one configuration's samples, or why it has none. */
interface Figures {
  samples: Sample[];
  error?: string;
}

let podSerial = 0;

/**
 * runPods starts `pods` pods of `perPod` sleeping containers each under `handler`, one
 * after the other, measures them together (time from the first RunPodSandbox to the last
 * StartContainer; memory SETTLE_MS after it, over each pod's shim and its descendants),
 * and removes them.
 */
async function runPods(daemon: Containerd, handler: Handler, pods: number, perPod: number): Promise<Sample> {
  const cri = daemon.cri();
  const started: string[] = [];
  try {
    const t0 = process.hrtime.bigint();
    for (let p = 0; p < pods; p++) {
      const name = `bench-${handler}-${++podSerial}`;
      const config: PodSandboxConfig = {
        metadata: { name, uid: `${name}-uid`, namespace: 'tvisor-bench', attempt: 0 },
        hostname: name,
        log_directory: path.join(daemon.podLogs, name),
        linux: { cgroup_parent: daemon.cgroupParent, security_context: { namespace_options: NAMESPACES } },
      };
      const podId = await cri.runPodSandbox(config, handler);
      started.push(podId);
      await daemon.trackPod(podId);
      for (let i = 0; i < perPod; i++) {
        const id = await cri.createContainer(podId, {
          metadata: { name: `sleep${i}` }, image: { image: BUSYBOX_IMAGE }, command: ['/bin/sleep', '3600'], log_path: `sleep${i}.log`,
          linux: { security_context: { namespace_options: NAMESPACES } },
        }, config);
        await cri.startContainer(id);
      }
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    await sleep(SETTLE_MS);
    // A shim serves a whole pod: every process of the pod is below it.
    const shims: number[] = [];
    for (const podId of started) {
      const sandboxPid = (JSON.parse((await cri.podSandboxStatus(podId, true)).info.info ?? '{}') as { pid?: number }).pid ?? 0;
      if (sandboxPid <= 0) throw new Error(`containerd reports no pid for pod sandbox ${podId}`);
      shims.push(parentPid(sandboxPid));
    }
    const mem = treeMemory(shims);
    return { ms, pss: mem.pss, uss: mem.uss, processes: mem.processes, byKind: mem.byKind };
  } finally {
    for (const podId of started) {
      await cri.stopPodSandbox(podId).catch(() => undefined);
      await cri.removePodSandbox(podId).catch(() => undefined);
    }
  }
}

/**
 * tvisorCli runs the tvisor CLI with `--root`, its output (and the container's, which a
 * detached sandbox keeps open) going to `log`; it throws with the log's last line when it fails.
 */
function tvisorCli(root: string, log: string, args: string[]): void {
  const fd = fs.openSync(log, 'w');
  const r = spawnSync(TVISOR, ['--root', root, ...args], { stdio: ['ignore', fd, fd], timeout: 60_000, killSignal: 'SIGKILL' });
  fs.closeSync(fd);
  if (r.status !== 0 || r.error) {
    const last = fs.readFileSync(log, 'utf8').trim().split('\n').pop() || r.error?.message || '';
    throw new Error(`tvisor ${args[0]} failed (${r.status ?? r.signal}): ${last}`);
  }
}

/** runSeparate starts CONTAINERS separate tvisor sandboxes of `sleep` with the CLI, measures them, and deletes them. */
async function runSeparate(dir: string): Promise<Sample> {
  const root = path.join(dir, 'separate-root');
  const bundle = path.join(dir, 'separate-bundle');
  if (!fs.existsSync(bundle)) {
    fs.mkdirSync(bundle, { recursive: true });
    makeBundle(bundle, { args: ['/bin/sleep', '3600'] });
  }
  const ids: string[] = [];
  const pids: number[] = [];
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CONTAINERS; i++) {
      const id = `tvcri-bench-${process.pid}-${++podSerial}`;
      const pidFile = path.join(dir, `${id}.pid`);
      ids.push(id);
      const log = path.join(dir, `${id}.log`);
      tvisorCli(root, log, ['create', '--bundle', bundle, '--pid-file', pidFile, id]);
      tvisorCli(root, log, ['start', id]);
      pids.push(Number(fs.readFileSync(pidFile, 'utf8')));
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    await sleep(SETTLE_MS);
    // The pid files' processes, their descendants, and whatever names the root or bundle (as bench-start finds a sandbox's processes).
    const mem = treeMemory([...pids, ...processesUsing(root), ...processesUsing(bundle)]);
    return { ms, pss: mem.pss, uss: mem.uss, processes: mem.processes, byKind: mem.byKind };
  } finally {
    for (const id of ids) spawnSync(TVISOR, ['--root', root, 'delete', '--force', id], { timeout: 60_000, killSignal: 'SIGKILL' });
  }
}

/** median of a non-empty list. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** MB is KiB in MB, one decimal. */
const MB = (kb: number) => (kb / 1024).toFixed(1);

/** describeFigures prints one configuration's line: median and range of time, PSS and USS. */
function describeFigures(label: string, f: Figures): string {
  if (f.samples.length === 0) return `${label.padEnd(44)} n/a: ${f.error ?? 'no sample'}`;
  const range = (xs: number[], fmt: (x: number) => string) => `${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))}`;
  const ms = f.samples.map((s) => s.ms);
  const pss = f.samples.map((s) => s.pss);
  const uss = f.samples.map((s) => s.uss);
  const int = (x: number) => x.toFixed(0);
  return `${label.padEnd(44)} start ${int(median(ms)).padStart(6)} ms (${range(ms, int)})  PSS ${MB(median(pss)).padStart(6)} MB (${range(pss, MB)})  USS ${MB(median(uss)).padStart(6)} MB (${range(uss, MB)}; ${median(f.samples.map((s) => s.processes))} processes)${f.error ? `  [some rounds failed: ${f.error}]` : ''}`;
}

/** describeBreakdown prints the last sample's PSS (and USS) by kind of process, largest first. */
function describeBreakdown(label: string, f: Figures): string {
  const last = f.samples[f.samples.length - 1];
  if (!last) return `  ${label}: n/a`;
  const kinds = [...last.byKind].sort((a, b) => b[1].pss - a[1].pss);
  return `  ${label}: ${kinds.map(([k, e]) => `${k} ${MB(e.pss)}/${MB(e.uss)}${e.n > 1 ? ` (${e.n} x ${MB(e.pss / e.n)}/${MB(e.uss / e.n)})` : ''}`).join(', ')}`;
}

/** ratio prints a / b of the medians, or n/a. */
function ratio(label: string, a: Figures, b: Figures, pickA: (s: Sample) => number, pickB = pickA, target?: number): string {
  if (a.samples.length === 0 || b.samples.length === 0) return `${label.padEnd(70)} n/a`;
  const r = median(a.samples.map(pickA)) / median(b.samples.map(pickB));
  return `${label.padEnd(70)} ${r.toFixed(2)}x${target === undefined ? '' : `  (target <= ${target}x: ${r <= target ? 'met' : 'not met'})`}`;
}

/** Config names the configurations measured each round. */
type Config = 'runc' | 'tvisor' | 'separateCri' | 'separateCli';

async function main(): Promise<void> {
  const prereq = missingPrerequisite();
  if (prereq) throw new Error(`bench-pod cannot run: ${prereq}`);
  const daemon = new Containerd();
  const figures: Record<Config, Figures> = { runc: { samples: [] }, tvisor: { samples: [] }, separateCri: { samples: [] }, separateCli: { samples: [] } };
  const measure = async (config: Config, run: () => Promise<Sample>) => {
    try {
      figures[config].samples.push(await run());
    } catch (e) {
      figures[config].error ??= (e as Error).message.split('\n')[0];
    }
  };
  try {
    await daemon.start();
    await daemon.importImages();
    for (let round = 0; round < ROUNDS; round++) {
      await measure('runc', () => runPods(daemon, 'runc', 1, CONTAINERS));
      await measure('tvisor', () => runPods(daemon, 'tvisor', 1, CONTAINERS));
      await measure('separateCri', () => runPods(daemon, 'tvisor', CONTAINERS, 1));
      await measure('separateCli', () => runSeparate(daemon.dir));
    }
  } finally {
    await daemon.stop();
  }
  const left = daemon.leftovers(true);
  const cri = `${CONTAINERS} separate tvisor sandboxes (CRI, ${CONTAINERS} pods)`;
  const cli = `${CONTAINERS} separate tvisor sandboxes (CLI, no shim)`;
  console.log(`bench-pod: a pod of ${CONTAINERS} busybox sleep containers through containerd's CRI, ${ROUNDS} rounds per configuration (load: ${loadavg()})`);
  console.log(describeFigures('pod, runc handler', figures.runc));
  console.log(describeFigures('pod, tvisor handler', figures.tvisor));
  console.log(describeFigures(cri, figures.separateCri));
  console.log(describeFigures(cli, figures.separateCli));
  console.log('PSS/USS in MB by process (last round):');
  console.log(describeBreakdown('pod, runc handler', figures.runc));
  console.log(describeBreakdown('pod, tvisor handler', figures.tvisor));
  console.log(describeBreakdown(cri, figures.separateCri));
  console.log(describeBreakdown(cli, figures.separateCli));
  console.log(ratio('tvisor pod / runc pod, start', figures.tvisor, figures.runc, (s) => s.ms));
  console.log(ratio('tvisor pod / runc pod, memory (PSS)', figures.tvisor, figures.runc, (s) => s.pss));
  const pss = (s: Sample) => s.pss;
  const uss = (s: Sample) => s.uss;
  const noShim = (m: keyof Memory) => (s: Sample) => s[m] - (s.byKind.get('shim')?.[m] ?? 0);
  console.log(`issue 15's figure: the pod's memory / ${CONTAINERS} separate tvisor sandboxes' (PSS), started alike through the CRI, every shim counted:`);
  console.log(ratio(`  tvisor pod / ${cri}`, figures.tvisor, figures.separateCri, pss, pss, 0.5));
  console.log('the same, like with like without shims, and the mixed figure (a shim on the pod\'s side only):');
  console.log(ratio(`  tvisor pod without its shim / ${cli}`, figures.tvisor, figures.separateCli, noShim('pss'), pss, 0.5));
  console.log(ratio(`  tvisor pod with its shim / ${cli} (mixed)`, figures.tvisor, figures.separateCli, pss));
  console.log('in USS (pages no other process maps: Node\'s binary, shared by every sentry and gofer, counts in neither side):');
  console.log(ratio(`  tvisor pod / ${cri}`, figures.tvisor, figures.separateCri, uss));
  console.log(ratio(`  tvisor pod without its shim / ${cli}`, figures.tvisor, figures.separateCli, noShim('uss'), uss));
  if (left.length > 0) console.log(`left behind (not removed): ${left.join('; ')}`);
}

/** loadavg is the host's 1-minute load average (the figures' noise depends on it). */
function loadavg(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
