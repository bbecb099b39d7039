/**
 * bench-pod.ts is `make bench-pod`, issue 15's figure: a pod of three containers started
 * through containerd's CRI (the CRI tests' private containerd and gRPC client), under the
 * runc and tvisor handlers, measured in the same run:
 *
 * - start: wall time from RunPodSandbox until StartContainer of the third container has
 *   answered (the pause sandbox and three busybox `sleep` containers), median and
 *   min..max over BENCH_POD_ROUNDS pods per handler (default 3), interleaved;
 * - memory: the sum of PSS (/proc/PID/smaps_rollup) over every host process of the pod,
 *   a second after it started: the pod's shim and all its descendants (pause, the
 *   containers, and under tvisor the sentries, gofers and stubs);
 * - the same memory for three separate tvisor sandboxes started by the tvisor CLI (one
 *   busybox `sleep` each), the issue's reference: the pod's memory should be <= 0.5x it.
 *
 * - what each kind of process of the pod holds (the last round's): PSS summed by kind
 *   (sentry, gofer, stub, waiter, shim, pause, ...: processKind), to show what to remove.
 *
 * Ratios printed: tvisor's pod vs runc's pod (start, memory), tvisor's pod vs three
 * separate tvisor sandboxes (memory). A handler that fails shows "n/a: <reason>" (today
 * tvisor's pods do: a pod's containers are refused joining its IPC and PID namespaces
 * until multi-container sandboxes land). Everything is removed at the end.
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

/** pssKb reads a process's PSS in KiB from smaps_rollup (0 when it is gone or a zombie). */
function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
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

/** Breakdown is PSS (KiB) and process count by kind of process. */
type Breakdown = Map<string, { kb: number; n: number }>;

/** treePssKb sums PSS over `roots` and all their descendants, each process once, also by kind of process. */
function treePssKb(roots: number[]): { kb: number; processes: number; byKind: Breakdown } {
  const pids = new Set<number>();
  for (const r of roots) {
    pids.add(r);
    for (const d of descendants(r)) pids.add(d);
  }
  let kb = 0;
  const byKind: Breakdown = new Map();
  for (const p of pids) {
    const k = pssKb(p);
    kb += k;
    const kind = processKind(p);
    const e = byKind.get(kind) ?? { kb: 0, n: 0 };
    e.kb += k;
    e.n++;
    byKind.set(kind, e);
  }
  return { kb, processes: pids.size, byKind };
}

/** Sample is one measured pod (or set of sandboxes). */
interface Sample {
  ms: number;
  kb: number;
  processes: number;
  byKind: Breakdown;
}

/** Figures are one configuration's samples, or why it has none. */
interface Figures {
  samples: Sample[];
  error?: string;
}

let podSerial = 0;

/** runPod starts a pod of CONTAINERS sleeping containers under `handler`, measures it, and removes it. */
async function runPod(daemon: Containerd, handler: Handler): Promise<Sample> {
  const cri = daemon.cri();
  const name = `bench-${handler}-${++podSerial}`;
  const config: PodSandboxConfig = {
    metadata: { name, uid: `${name}-uid`, namespace: 'tvisor-bench', attempt: 0 },
    hostname: name,
    log_directory: path.join(daemon.podLogs, name),
    linux: { cgroup_parent: daemon.cgroupParent, security_context: { namespace_options: NAMESPACES } },
  };
  const t0 = process.hrtime.bigint();
  const podId = await cri.runPodSandbox(config, handler);
  try {
    await daemon.trackPod(podId);
    for (let i = 0; i < CONTAINERS; i++) {
      const id = await cri.createContainer(podId, {
        metadata: { name: `sleep${i}` }, image: { image: BUSYBOX_IMAGE }, command: ['/bin/sleep', '3600'], log_path: `sleep${i}.log`,
        linux: { security_context: { namespace_options: NAMESPACES } },
      }, config);
      await cri.startContainer(id);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    await sleep(SETTLE_MS);
    const sandboxPid = (JSON.parse((await cri.podSandboxStatus(podId, true)).info.info ?? '{}') as { pid?: number }).pid ?? 0;
    if (sandboxPid <= 0) throw new Error('containerd reports no pid for the pod sandbox');
    // The shim serves the whole pod: every process of the pod is below it.
    const mem = treePssKb([parentPid(sandboxPid)]);
    return { ms, kb: mem.kb, processes: mem.processes, byKind: mem.byKind };
  } finally {
    await cri.stopPodSandbox(podId).catch(() => undefined);
    await cri.removePodSandbox(podId).catch(() => undefined);
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
    const mem = treePssKb([...pids, ...processesUsing(root), ...processesUsing(bundle)]);
    return { ms, kb: mem.kb, processes: mem.processes, byKind: mem.byKind };
  } finally {
    for (const id of ids) spawnSync(TVISOR, ['--root', root, 'delete', '--force', id], { timeout: 60_000, killSignal: 'SIGKILL' });
  }
}

/** median of a non-empty list. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** describe prints one configuration's line: median and range of time and memory. */
function describeFigures(label: string, f: Figures): string {
  if (f.samples.length === 0) return `${label.padEnd(34)} n/a: ${f.error ?? 'no sample'}`;
  const ms = f.samples.map((s) => s.ms);
  const mb = f.samples.map((s) => s.kb / 1024);
  const range = (xs: number[], d: number) => `${Math.min(...xs).toFixed(d)}..${Math.max(...xs).toFixed(d)}`;
  return `${label.padEnd(34)} start ${median(ms).toFixed(0).padStart(6)} ms (${range(ms, 0)})  memory ${median(mb).toFixed(1).padStart(7)} MB PSS (${range(mb, 1)}; ${median(f.samples.map((s) => s.processes))} processes)${f.error ? `  [some rounds failed: ${f.error}]` : ''}`;
}

/** describeBreakdown prints the last sample's PSS by kind of process, largest first. */
function describeBreakdown(label: string, f: Figures): string {
  const last = f.samples[f.samples.length - 1];
  if (!last) return `  ${label}: n/a`;
  const kinds = [...last.byKind].sort((a, b) => b[1].kb - a[1].kb);
  return `  ${label}: ${kinds.map(([k, e]) => `${k} ${(e.kb / 1024).toFixed(1)} MB${e.n > 1 ? ` (${e.n} x ${(e.kb / 1024 / e.n).toFixed(1)})` : ''}`).join(', ')}`;
}

/** ratio prints a / b of the medians, or n/a. */
function ratio(label: string, a: Figures, b: Figures, pick: (s: Sample) => number, target?: number): string {
  if (a.samples.length === 0 || b.samples.length === 0) return `${label.padEnd(46)} n/a`;
  const r = median(a.samples.map(pick)) / median(b.samples.map(pick));
  return `${label.padEnd(46)} ${r.toFixed(2)}x${target === undefined ? '' : `  (target <= ${target}x: ${r <= target ? 'met' : 'not met'})`}`;
}

async function main(): Promise<void> {
  const prereq = missingPrerequisite();
  if (prereq) throw new Error(`bench-pod cannot run: ${prereq}`);
  const daemon = new Containerd();
  const figures: Record<'runc' | 'tvisor' | 'separate', Figures> = { runc: { samples: [] }, tvisor: { samples: [] }, separate: { samples: [] } };
  try {
    await daemon.start();
    await daemon.importImages();
    for (let round = 0; round < ROUNDS; round++) {
      for (const handler of ['runc', 'tvisor'] as const) {
        try {
          figures[handler].samples.push(await runPod(daemon, handler));
        } catch (e) {
          figures[handler].error ??= (e as Error).message.split('\n')[0];
        }
      }
      try {
        figures.separate.samples.push(await runSeparate(daemon.dir));
      } catch (e) {
        figures.separate.error ??= (e as Error).message.split('\n')[0];
      }
    }
  } finally {
    await daemon.stop();
  }
  const left = daemon.leftovers(true);
  console.log(`bench-pod: a pod of ${CONTAINERS} busybox sleep containers through containerd's CRI, ${ROUNDS} rounds per configuration`);
  console.log(describeFigures('pod, runc handler', figures.runc));
  console.log(describeFigures('pod, tvisor handler', figures.tvisor));
  console.log(describeFigures(`${CONTAINERS} separate tvisor sandboxes (CLI)`, figures.separate));
  console.log('PSS by process (last round):');
  console.log(describeBreakdown('pod, runc handler', figures.runc));
  console.log(describeBreakdown('pod, tvisor handler', figures.tvisor));
  console.log(describeBreakdown(`${CONTAINERS} separate tvisor sandboxes`, figures.separate));
  console.log(ratio('tvisor pod / runc pod, start', figures.tvisor, figures.runc, (s) => s.ms));
  console.log(ratio('tvisor pod / runc pod, memory', figures.tvisor, figures.runc, (s) => s.kb));
  console.log(ratio(`tvisor pod / ${CONTAINERS} separate tvisor sandboxes, memory`, figures.tvisor, figures.separate, (s) => s.kb, 0.5));
  // The pod's figure counts containerd's shim, which the CLI-started sandboxes have none of: shown without it too (not the target).
  const noShim = (s: Sample) => s.kb - (s.byKind.get('shim')?.kb ?? 0);
  console.log(ratio('  the same, the pod without its shim', figures.tvisor, figures.separate, noShim));
  if (left.length > 0) console.log(`left behind (not removed): ${left.join('; ')}`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
