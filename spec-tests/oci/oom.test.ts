/**
 * The OOM killer: a container with linux.resources.memory.limit = 64 MiB runs a program
 * that allocates and touches 256 MiB while a small one (4 MiB) runs beside it. Under runc
 * the host kernel's memory cgroup kills the big one with SIGKILL (exit 137), the small one
 * survives, and `events` reports an oom event; tvisor must do the same from its own
 * accounting (sentry/mm/oom.ts), its `events` counting the sentry's kills.
 *
 * tvisor's sandbox cgroup (sentry, gofer, stubs) gets the container's limit plus the
 * sandbox's own share (runtime/sandbox/memory-share.ts): at the container's limit alone
 * the host kernel would kill the sentry's Node process, and the whole container with it,
 * before the sentry chose a victim.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ownCgroups, v1Mounts } from '../../runtime/sandbox/cgroup';
import { hostMemory } from '../../runtime/sandbox/memory-share';
import { programBinary } from '../behaviour/runner';
import { BUSYBOX, OciRuntime } from './harness';

const TVISOR = path.resolve(__dirname, '../../bin/tvisor');
const MiB = 1024 * 1024;

/** memoryCgroup is the memory cgroup directory of host pid `pid` (cgroup v1). */
function memoryCgroup(pid: number): string {
  const m = v1Mounts().get('memory');
  if (!m) throw new Error('needs the cgroup v1 memory hierarchy');
  const inner = ownCgroups(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).get('memory')!;
  return path.join(m.point, path.relative(m.root, inner));
}

const RUNTIMES: [string, string][] = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]];

describe.each(RUNTIMES)('%s OOM kill under a 64 MiB limit', (name, bin) => {
  test('the 256 MiB process is killed with SIGKILL, the small one survives, events reports the oom', async () => {
    if (process.getuid?.() !== 0) throw new Error('needs root (cgroups, namespaces)');
    for (const f of [BUSYBOX, bin, programBinary('memhog')]) if (!fs.existsSync(f)) throw new Error(`${f} is missing (install busybox-static, run make)`);
    const rt = new OciRuntime(`oom-${name}`, bin);
    const id = `oom-${name}-${process.pid}`;
    try {
      const script = '/bin/memhog 2 small > /out/small & /bin/memhog 256 > /out/big; echo "big: $?" >> /out/big; wait $!; echo "small: $?" >> /out/small; sleep 30';
      const bundle = rt.bundle('b', ['sh', '-c', script], (s) => {
        s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * MiB, swap: 64 * MiB } };
        s.root = { path: 'rootfs', readonly: false }; // the results are written to its /out
      });
      const hog = path.join(bundle, 'rootfs', 'bin', 'memhog');
      fs.copyFileSync(programBinary('memhog'), hog);
      fs.chmodSync(hog, 0o755);
      const out = path.join(bundle, 'rootfs', 'out');
      fs.mkdirSync(out);
      expect(rt.run('create', '--bundle', bundle, id)).toMatchObject({ status: 0 });
      if (name === 'tvisor') {
        // The host cgroup holds the container's limit plus the sandbox's own share.
        const dir = memoryCgroup(rt.state(id)!.pid);
        expect(Number(fs.readFileSync(path.join(dir, 'memory.limit_in_bytes'), 'utf8'))).toBe(hostMemory(64 * MiB));
      }
      // `events` watches from before the start: an oom event per kill (runc: the cgroup's
      // OOM notification; tvisor: the sentry's count too).
      const watcher = spawn(bin, ['--root', rt.root, 'events', '--interval', '1s', id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let events = '';
      watcher.stdout.on('data', (d) => (events += d));
      try {
        await new Promise((r) => setTimeout(r, 500));
        expect(rt.run('start', id)).toMatchObject({ status: 0 });
        const read = (f: string) => (fs.existsSync(path.join(out, f)) ? fs.readFileSync(path.join(out, f), 'utf8') : '');
        const deadline = Date.now() + 60_000;
        while ((!read('small').includes('small: ') || !events.includes('"type":"oom"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        expect({ big: read('big'), small: read('small'), state: rt.state(id)?.status }).toEqual({ big: 'big: 137\n', small: 'small survived\nsmall: 0\n', state: 'running' });
        const ooms = events.split('\n').filter((l) => l.startsWith('{') && JSON.parse(l).type === 'oom');
        expect(ooms.map((l) => JSON.parse(l))).toEqual([{ type: 'oom', id }]);
      } finally {
        watcher.kill('SIGKILL');
      }
    } finally {
      rt.cleanup();
    }
  }, 120_000);
});
