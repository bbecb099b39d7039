/**
 * pause, resume and ps, against runc (the reference) and tvisor: pause moves a running
 * container to `paused` and its processes stop running; resume moves it back; ps lists
 * the container's processes (`--format json`: an array of host pids, runc's container
 * processes or tvisor's stubs that run them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OciRuntime } from './harness';

const TVISOR = path.resolve(__dirname, '../../bin/tvisor');
const runtimes = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]].filter(([, bin]) => fs.existsSync(bin));

describe.each(runtimes)('%s pause, resume and ps', (name, bin) => {
  const rt = new OciRuntime(name, bin);
  afterAll(() => rt.cleanup());

  test('a paused container stops making progress and resumes where it was', async () => {
    // The process appends a line every 50 ms to a file in the bundle (a bind mount).
    const out = path.join(rt.dir, 'ticks');
    fs.mkdirSync(out, { recursive: true });
    const bundle = rt.bundle('ticker', ['sh', '-c', 'while true; do echo x >> /out/t; sleep 0.05; done'], (s) => {
      s.mounts = [...(s.mounts ?? []), { destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] }];
    });
    expect(rt.run('create', '--bundle', bundle, 'p1').status).toBe(0);
    try {
      expect(rt.run('start', 'p1').status).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      const ps = rt.run('ps', '--format', 'json', 'p1');
      expect(ps.status).toBe(0);
      const pids = JSON.parse(ps.stdout) as number[];
      expect(pids.length).toBeGreaterThanOrEqual(1);
      expect(rt.run('pause', 'p1').status).toBe(0);
      expect(rt.state('p1')?.status).toBe('paused');
      const lines = () => fs.readFileSync(path.join(out, 't'), 'utf8').split('\n').length;
      await new Promise((r) => setTimeout(r, 100));
      const atPause = lines();
      await new Promise((r) => setTimeout(r, 400));
      expect(lines()).toBe(atPause);
      expect(rt.run('resume', 'p1').status).toBe(0);
      expect(rt.state('p1')?.status).toBe('running');
      await new Promise((r) => setTimeout(r, 400));
      expect(lines()).toBeGreaterThan(atPause);
      expect(rt.run('resume', 'p1').status).not.toBe(0);
    } finally {
      rt.run('delete', '--force', 'p1');
    }
  }, 60_000);
});
