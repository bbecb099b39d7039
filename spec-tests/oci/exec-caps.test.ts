/**
 * `exec --cap NAME` and `exec --no-new-privs` (runc's flags): the exec'd process's
 * capability sets and NoNewPrivs, as /proc/self/status shows them, are the same under
 * runc and tvisor; an unknown capability name is warned about and ignored by both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime } from './harness';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const usable = process.getuid?.() === 0 && fs.existsSync(BUSYBOX) && fs.existsSync(TVISOR) && fs.existsSync('/usr/sbin/runc');
const SHOW = ['sh', '-c', 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status'];

function execStatus(name: string, bin: string, flags: string[]): { out: string; err: string } {
  const rt = new OciRuntime(name, bin);
  try {
    const bundle = rt.bundle('b', ['sleep', '100']);
    expect(rt.run('run', '--detach', '--bundle', bundle, 'e1').status).toBe(0);
    const r = rt.run('exec', ...flags, 'e1', ...SHOW);
    expect(r.status).toBe(0);
    rt.run('delete', '--force', 'e1');
    return { out: r.stdout, err: r.stderr };
  } finally {
    rt.cleanup();
  }
}

(usable ? describe : describe.skip)('exec --cap / --no-new-privs, runc vs tvisor', () => {
  test.each([
    [[] as string[]],
    [['--cap', 'CAP_SYS_ADMIN', '--cap', 'CAP_CHOWN']],
    [['--no-new-privs']],
    [['--cap', 'CAP_NET_RAW', '--no-new-privs']],
  ])('exec %j', (flags) => {
    const runc = execStatus('runc', '/usr/sbin/runc', flags);
    const tvisor = execStatus('tvisor', TVISOR, flags);
    expect(tvisor.out).toBe(runc.out);
    expect(runc.out).toMatch(/NoNewPrivs:\t[01]\n/);
  });
  test('an unknown capability is warned about and ignored by both', () => {
    const runc = execStatus('runc', '/usr/sbin/runc', ['--cap', 'NET_RAW']);
    const tvisor = execStatus('tvisor', TVISOR, ['--cap', 'NET_RAW']);
    expect(tvisor.out).toBe(runc.out);
    for (const r of [runc, tvisor]) expect(r.err).toContain('ignoring unknown or unavailable capabilities: [NET_RAW]');
  });
});
