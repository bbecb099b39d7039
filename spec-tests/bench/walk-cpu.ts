/**
 * walk-cpu.ts is `make bench-walk-cpu`: the CPU time of the cold walk's file system work
 * without the trap, in this one process: the sentry's 9P client, dentry cache and path
 * resolution (sentry/fsimpl/gofer, sentry/vfs; the stat encoded as the handler does)
 * against a real gofer (`bin/tvisor gofer`, its CPU read from /proc). Each round makes
 * a fresh GoferFs and mount over a fresh connection and stats /walk/dN/fM for the 10,000
 * files of walk-10k-cold (100 directories of 100 files), in its order; the dentry cache
 * has its default capacity, so the walk lists, caches and evicts as in a sandbox.
 * It prints the median over WALK_CPU_ROUNDS rounds (default 7, after one warm-up) of
 * the sentry side's CPU time per stat (process.cpuUsage) and the gofer's (its utime +
 * stime from /proc, in clock ticks of 10 ms: coarse, summed over the round).
 *
 * The figure leaves out what a syscall costs besides (the trap, copying the path in and
 * the stat out of application memory), so it moves with the walk path's code alone, and
 * far less with the machine's load than the wall time of a sandbox's walk does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '../../gofer/p9/client';
import { connectUnix } from '../../native/unixsock';
import { GoferFs } from '../../sentry/fsimpl/gofer/gofer-fs';
import { Mount, type Location } from '../../sentry/vfs/mount';
import { resolve } from '../../sentry/vfs/path';
import { dentryCache } from '../../sentry/vfs/dentry';
import { Credentials } from '../../sentry/kernel/credentials';
import { encodeStat } from '../../sentry/syscalls/linux/handlers/util';
import { GoferProcess } from '../gofer/harness';

const FILES = 10_000, PER_DIR = 100;
const ROUNDS = Number(process.env.WALK_CPU_ROUNDS ?? 7);

/** goferTicks is the gofer process's CPU time so far, in clock ticks (utime + stime). */
function goferTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main(): Promise<void> {
  const exp = fs.mkdtempSync(path.join(os.tmpdir(), 'walk-cpu-'));
  const tree = path.join(exp, 'walk');
  fs.mkdirSync(tree);
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(tree, `d${Math.floor(i / PER_DIR)}`);
    if (i % PER_DIR === 0) fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, `f${i}`), '');
  }
  const paths = Array.from({ length: FILES }, (_, i) => `/walk/d${Math.floor(i / PER_DIR)}/f${i}`);
  const gofer = await GoferProcess.start(['--root', exp, '--ro']);
  const sentryUs: number[] = [], goferUs: number[] = [];
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const client = Client.overFd(connectUnix(gofer.socketPath));
      const gfs = new GoferFs(client, '', true);
      const mount = new Mount(gfs, null, null, 0, 'walk');
      const root: Location = { mount, dentry: mount.root };
      const task = { root, cwd: root, creds: new Credentials(0, 0) };
      const g0 = goferTicks(gofer.proc.pid!);
      const c0 = process.cpuUsage();
      let bytes = 0;
      for (const p of paths) bytes += encodeStat(resolve(task, root, p, { follow: true }).dentry.inode.stat()).length;
      const c = process.cpuUsage(c0);
      const g = goferTicks(gofer.proc.pid!) - g0;
      if (bytes !== FILES * 144) throw new Error('walk-cpu: a stat went missing');
      dentryCache.trim(0);
      client.close();
      if (round === 0) continue; // warm-up: the JIT compiles the path
      sentryUs.push((c.user + c.system) / FILES);
      goferUs.push((g * 10_000) / FILES);
      process.stderr.write(`walk-cpu: round ${round}: sentry ${((c.user + c.system) / FILES).toFixed(2)} us/stat, gofer ${((g * 10_000) / FILES).toFixed(2)} us/stat, load ${os.loadavg()[0].toFixed(2)}\n`);
    }
  } finally {
    await gofer.stop();
    fs.rmSync(exp, { recursive: true, force: true });
  }
  console.log(`walk-cpu: median of ${ROUNDS} rounds: sentry side ${median(sentryUs).toFixed(2)} us of CPU per cold stat (range ${Math.min(...sentryUs).toFixed(2)}..${Math.max(...sentryUs).toFixed(2)}), gofer ${median(goferUs).toFixed(2)} us (${Math.min(...goferUs).toFixed(2)}..${Math.max(...goferUs).toFixed(2)}); load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
