/**
 * linux.seccomp: the same profile under runc (the kernel's seccomp) and tvisor (applied
 * by the sentry to every application syscall) must give the same results: an errno for
 * denied syscalls, SIGSYS death for SCMP_ACT_KILL, and everything else untouched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OciRuntime } from './harness';

const TVISOR = path.resolve(__dirname, '../../bin/tvisor');
const runtimes = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]].filter(([, bin]) => fs.existsSync(bin));

const PROFILE = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
    // sync(2) kills (busybox sync makes nothing else first); argument rules are unit-tested in sentry/seccomp.
    { names: ['sync'], action: 'SCMP_ACT_KILL' },
  ],
};

const results = new Map<string, { status: number | null; stdout: string; stderr: string }[]>();

describe.each(runtimes)('%s with a seccomp profile', (name, bin) => {
  const rt = new OciRuntime(name, bin);
  afterAll(() => rt.cleanup());

  test('denied syscalls fail with the profile errno, killed ones kill with SIGSYS', () => {
    const run = (args: string[]) => {
      const b = rt.bundle(`s${Math.random().toString(36).slice(2, 8)}`, args, (s) => {
        s.root!.readonly = false;
        (s.linux as Record<string, unknown>).seccomp = PROFILE;
      });
      const r = rt.run('run', '--bundle', b, `sc-${path.basename(b)}`);
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const denied = run(['sh', '-c', 'mkdir /tmp/d; echo "rc=$?"; ls -d /tmp/d; echo done']);
    expect(denied.stdout).toBe('rc=1\ndone\n');
    expect(denied.stderr).toMatch(/mkdir: can't create directory '\/tmp\/d': Permission denied/);
    const killed = run(['/bin/busybox', 'sync']);
    expect(killed.status).toBe(128 + 31);
    const fine = run(['sh', '-c', 'echo ok > /tmp/f; cat /tmp/f']);
    expect(fine).toMatchObject({ status: 0, stdout: 'ok\n' });
    results.set(name, [denied, killed, fine]);
  }, 60_000);
});

if (runtimes.length === 2) {
  test('tvisor and runc agree on every run', () => {
    const [a, b] = [results.get('runc'), results.get('tvisor')];
    expect(a).toBeDefined();
    expect(b).toEqual(a);
  });
}
