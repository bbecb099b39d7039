// The sentry on the KVM platform: `tvisor --platform kvm do` and a busybox bundle under
// `run --platform kvm`, compared with a native run and with runc; and the one line a
// missing /dev/kvm gives (TVISOR_KVM_DEVICE names a device that is not there).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { OciRuntime } from '../../spec-tests/oci/harness';

const TVISOR = path.resolve(__dirname, '../../bin/tvisor');
const SCRIPT = 'echo hi; ls /bin/busybox; echo $((6*7)); for i in 1 2 3; do echo $i; done | wc -l; sh -c "exit 3"; echo status $?; cat /proc/self/stat | cut -d" " -f2';

describe('the sentry on --platform kvm', () => {
  test('tvisor --platform kvm do busybox sh prints what busybox sh prints natively', () => {
    const native = spawnSync('/bin/busybox', ['sh', '-c', SCRIPT], { encoding: 'utf8' });
    const t = spawnSync(TVISOR, ['--platform', 'kvm', 'do', '/bin/busybox', 'sh', '-c', SCRIPT], { encoding: 'utf8', timeout: 120_000 });
    expect(native.stdout).toBe('hi\n/bin/busybox\n42\n3\nstatus 3\n(cat)\n');
    expect({ stdout: t.stdout, stderr: t.stderr, status: t.status }).toEqual({ stdout: native.stdout, stderr: '', status: 0 });
  });

  test('a busybox script bundle under run --platform kvm prints what it prints under runc', () => {
    const script = ['sh', '-c', `${SCRIPT}; ls / | sort | tr '\\n' ' '; echo; exit 5`];
    const runc = new OciRuntime('runc', 'runc');
    const tvisor = new OciRuntime('tvisor-kvm', TVISOR);
    try {
      const id = `kvm-run-${process.pid}`;
      const r = runc.run('run', '--bundle', runc.bundle('b', script), id);
      const t = tvisor.run('--platform', 'kvm', 'run', '--bundle', tvisor.bundle('b', script), id);
      expect(r.status).toBe(5);
      expect(r.stdout).toMatch(/^hi\n/);
      expect({ stdout: t.stdout, stderr: t.stderr, status: t.status }).toEqual({ stdout: r.stdout, stderr: '', status: 5 });
    } finally {
      runc.cleanup();
      tvisor.cleanup();
    }
  });

  test('a missing /dev/kvm fails with one line naming it and suggesting ptrace or systrap', () => {
    const t = spawnSync(TVISOR, ['--platform', 'kvm', 'do', '/bin/busybox', 'true'], { encoding: 'utf8', env: { ...process.env, TVISOR_KVM_DEVICE: '/nonexistent/kvm' }, timeout: 60_000 });
    expect({ status: t.status, stdout: t.stdout }).toEqual({ status: 1, stdout: '' });
    expect(t.stderr).toBe('tvisor: platform "kvm" cannot run on this host: /nonexistent/kvm: No such file or directory; use --platform ptrace or --platform systrap\n');
  });
});
