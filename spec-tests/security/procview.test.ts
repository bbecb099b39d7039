/**
 * What config.json hides or protects in /proc and /sys stays hidden and protected, under
 * tvisor as under runc: linux.readonlyPaths' /proc/sys refuses every sysctl write (EROFS),
 * although the sandbox's sysctls are writable where /proc/sys is not protected, and
 * linux.maskedPaths on names of /proc and /sys (file systems that cache no names) read
 * empty on every walk, not only the first. Both runtimes run the same bundle; their
 * outputs must be equal and as expected.
 */
import * as path from 'node:path';
import { OciRuntime } from '../oci/harness';

const RUNTIMES: [string, string][] = [['runc', '/usr/sbin/runc'], ['tvisor', path.resolve(__dirname, '../../bin/tvisor')]];

const SCRIPT = [
  'echo x > /proc/sys/kernel/domainname; cat /proc/sys/kernel/domainname',
  'echo 1 > /proc/sys/fs/mqueue/msg_max; cat /proc/sys/fs/mqueue/msg_max',
  'for i in 1 2; do cat /proc/sys/kernel/random/boot_id | wc -c; cat /sys/devices/system/cpu/online | wc -c; done',
  'ls /sys/firmware | wc -l',
].join('; ');

const outputs = new Map<string, { status: number | null; stdout: string; stderr: string }>();

describe.each(RUNTIMES)('%s: masked and read-only paths in /proc and /sys', (name, bin) => {
  const rt = new OciRuntime(name, bin);
  afterAll(() => rt.cleanup());

  test('sysctl writes are refused under a read-only /proc/sys; masked names read empty on every walk', () => {
    const b = rt.bundle('procview', ['sh', '-c', SCRIPT], (s) => {
      s.linux!.maskedPaths = [...(s.linux!.maskedPaths ?? []), '/proc/sys/kernel/random/boot_id', '/sys/devices/system/cpu/online'];
    });
    const r = rt.run('run', '--bundle', b, `procview-${process.pid}`);
    expect(r.stdout).toBe('(none)\n10\n0\n0\n0\n0\n0\n');
    expect(r.stderr.match(/Read-only file system/g)).toHaveLength(2);
    outputs.set(name, r);
  }, 60_000);
});

test('tvisor and runc print the same', () => {
  expect(outputs.get('tvisor')).toEqual(outputs.get('runc'));
});
