/**
 * bench-net.ts is `make bench-net`: TCP between two network namespaces joined by a veth
 * pair that the bench makes. A server (build/programs/bench-net, native) listens in one;
 * the client runs as a container's init in the other (config.json names it, for every
 * runtime), under runc, runsc with its default netstack (`--network=sandbox`, which takes
 * the namespace's veth end and routes), runsc `--network=host` (host sockets in that
 * namespace) and tvisor (host sockets), all in this one run: a stream of 64 KiB writes
 * for BENCH_NET_SECS seconds (default 5), BENCH_NET_ROUNDS (default 5000) 1-byte round
 * trips, then BENCH_NET_SECS seconds of HTTP/1.1 GETs of a static 1 KiB page on 16
 * keep-alive connections. It prints MB/s, round-trip p50/p99 and requests/s per runtime
 * with tvisor's ratios to runsc's netstack and to runc against issue 12's targets
 * (throughput >= 1x runsc, latency <= 0.5x runsc, requests/s >= 1x runsc).
 * BENCH_NET_ONLY=runc,tvisor (column names) runs only those columns. A runtime that
 * cannot run here shows "n/a: <reason>". Figures only: nothing here is a test.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programBinary, runUnder, runtimeSkipReason, type Runtime } from '../behaviour/runner';

const PORT = 5201;
/** HTTP_CONNS is the number of keep-alive connections of the HTTP figure. */
const HTTP_CONNS = 16;
const SERVER_IP = '10.78.0.1', CLIENT_IP = '10.78.0.2';
const SRV = `bench-net-srv-${process.pid}`, CLI = `bench-net-cli-${process.pid}`;
const RUNS: Array<{ name: string; rt: Runtime; flags: string[] }> = [
  { name: 'runc', rt: 'runc', flags: [] },
  { name: 'runsc', rt: 'runsc', flags: ['--network=sandbox'] },
  { name: 'runsc-host', rt: 'runsc', flags: ['--network=host'] },
  { name: 'tvisor', rt: 'tvisor', flags: [] },
];

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

function setup(): void {
  ip('netns', 'add', SRV);
  ip('-n', SRV, 'link', 'set', 'lo', 'up');
}

/**
 * wire makes the client namespace and the veth pair afresh: runsc's netstack takes the
 * addresses and routes of the namespace it is given (removing them from the host side),
 * so every run starts from the same, new namespace. The server's listening socket (on
 * any address in the server namespace) stays.
 */
function wire(): void {
  spawnSync('ip', ['netns', 'del', CLI]);
  ip('netns', 'add', CLI);
  ip('-n', SRV, 'link', 'add', 'vs', 'type', 'veth', 'peer', 'name', 'vc', 'netns', CLI);
  ip('-n', SRV, 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'vs');
  ip('-n', CLI, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'vc');
  for (const [ns, dev] of [[SRV, 'vs'], [CLI, 'vc'], [CLI, 'lo']]) ip('-n', ns, 'link', 'set', dev, 'up');
}

function teardown(): void {
  for (const ns of [SRV, CLI]) spawnSync('ip', ['netns', 'del', ns]);
}

type Figures = Map<string, number>;

/**
 * runscWithoutRootNsCheck writes a wrapper that runs runsc in a private mount namespace
 * with an empty tmpfs on /proc/sys/net. runsc (2022) decides that it is in the root
 * network namespace, and refuses to set up its netstack ("cannot run with network enabled
 * in root network namespace"), when /proc/sys/net/core/rmem_default exists after joining
 * the container's namespace; Linux 6.x shows that file read-only in every namespace, so
 * the check misfires here. Hiding /proc/sys/net from runsc's own lookups is the only
 * change (its entries are per namespace, so covering core/ alone does not hold): runsc
 * still joins config.json's namespace and takes its veth end and routes.
 */
function runscWithoutRootNsCheck(dir: string): string {
  const p = path.join(dir, 'runsc-netstack');
  fs.writeFileSync(p, [
    '#!/bin/sh',
    `exec unshare --mount --propagation private sh -c 'mount -t tmpfs -o size=4k bench-net /proc/sys/net && exec /usr/bin/runsc "$@"' runsc "$@"`,
    '',
  ].join('\n'), { mode: 0o755 });
  return p;
}

function run(name: string, rt: Runtime, flags: string[], secs: number, rounds: number, dir: string): Figures | string {
  const only = process.env.BENCH_NET_ONLY?.split(',');
  if (only && !only.includes(name)) return 'not in BENCH_NET_ONLY';
  const skip = runtimeSkipReason(rt);
  if (skip) return skip;
  wire();
  // The runtime's global flags go first: runUnder puts RUNTIMES' own, then these.
  const r = runUnder(rt, 'bench-net', ['client', SERVER_IP, String(PORT), String(secs), String(rounds), String(HTTP_CONNS)], {
    timeoutMs: 600_000,
    flags,
    bin: name === 'runsc' ? runscWithoutRootNsCheck(dir) : undefined,
    editSpec: (spec) => {
      const others = spec.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
      spec.linux.namespaces = [...others, { type: 'network', path: `/run/netns/${CLI}` }];
    },
  });
  if (r.timedOut) return 'timed out';
  if (r.status !== 0) return `exit status ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`;
  const out: Figures = new Map();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const m = /^(\S+) (\d+\.\d) (MB\/s|us|req\/s)$/.exec(line);
    if (!m) return `unexpected output line ${JSON.stringify(line)}`;
    out.set(m[1], Number(m[2]));
  }
  return out;
}

async function main(): Promise<number> {
  const secs = Number(process.env.BENCH_NET_SECS ?? '5');
  const rounds = Number(process.env.BENCH_NET_ROUNDS ?? '5000');
  setup();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-net-'));

  const server = spawn('nsenter', [`--net=/run/netns/${SRV}`, programBinary('bench-net'), 'server', String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.once('data', () => resolve());
      server.once('exit', (c) => reject(new Error(`bench-net server exited (${c})`)));
    });
    console.log(`bench-net: ${os.cpus().length} CPUs, kernel ${os.release()}, a veth pair between two namespaces, ${secs} s stream of 64 KiB writes, ${rounds} 1-byte round trips, ${secs} s of HTTP GETs of a 1 KiB page on ${HTTP_CONNS} keep-alive connections`);
    const cols = RUNS.map(({ name, rt, flags }) => {
      const t0 = Date.now();
      const got = run(name, rt, flags, secs, rounds, dir);
      process.stderr.write(`bench-net: ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      return got;
    });
    const col = (name: string) => { const c = cols[RUNS.findIndex((r) => r.name === name)]; return typeof c === 'string' ? undefined : c; };
    const [runc, runsc, tvisor] = [col('runc'), col('runsc'), col('tvisor')];
    const rows = [['figure', ...RUNS.map((r) => r.name), 'tvisor/runsc', 'tvisor/runc', 'target']];
    const targets: Record<string, string> = { stream: '>= 1x runsc', 'rtt-p50': '<= 0.5x runsc', 'rtt-p99': '<= 0.5x runsc', http: '>= 1x runsc' };
    const units: Record<string, string> = { stream: 'MB/s', 'rtt-p50': 'us', 'rtt-p99': 'us', http: 'req/s' };
    for (const fig of ['stream', 'rtt-p50', 'rtt-p99', 'http']) {
      const cell = (c: Figures | string) => (typeof c === 'string' ? 'n/a' : (c.get(fig)?.toFixed(1) ?? '-'));
      const ratio = (a?: number, b?: number) => (a !== undefined && b ? `${(a / b).toFixed(2)}x` : '-');
      rows.push([`${fig} (${units[fig]})`, ...cols.map(cell), ratio(tvisor?.get(fig), runsc?.get(fig)), ratio(tvisor?.get(fig), runc?.get(fig)), targets[fig]]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    cols.forEach((c, i) => { if (typeof c === 'string') console.log(`${RUNS[i].name}: n/a: ${c}`); });
  } finally {
    server.kill('SIGKILL');
    teardown();

  }
  return 0;
}

main().then((c) => { process.exitCode = c; }, (e) => { process.stderr.write(`bench-net: ${(e as Error).message}\n`); teardown(); process.exitCode = 1; });
