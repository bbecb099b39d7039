/**
 * Names cached from a directory listing (the gofer's Treaddirstat, dentry.ts fill): the
 * busybox rootfs is gofer-served under tvisor, and the first lookup that misses in /etc
 * lists it, so /etc/passwd is then a listed name whose fid is walked to on first use.
 * Renaming such a name, reading it under its new name, making it again and listing the
 * directory must behave as under runc (the rename walks the listed name first: walked
 * afterwards from its old name, it would be gone).
 */
import { runUnder, runtimeSkipReason, type Runtime } from './runner';

const SCRIPT = [
  'stat -c "%n %s %F" /etc/group /etc/passwd /bin/busybox',
  'mv /etc/passwd /etc/passwd.moved',
  'head -1 /etc/passwd.moved',
  'stat -c "%n %F" /etc/passwd 2>&1 || true',
  'mv /etc/passwd.moved /etc/passwd',
  'ls /etc; wc -l < /etc/passwd',
  'mkdir -p /etc/sub; mv /etc/group /etc/sub/; cat /etc/sub/group | wc -l; ls /etc/sub',
].join('\n');

describe('names cached from a directory listing', () => {
  for (const rt of ['runc', 'tvisor'] as Runtime[]) {
    const skip = runtimeSkipReason(rt);
    if (skip) throw new Error(`${rt} is needed: ${skip}`);
  }

  test('renamed, read, made again and listed as under runc', () => {
    const [runc, tvisor] = (['runc', 'tvisor'] as Runtime[]).map((rt) => runUnder(rt, undefined, ['sh', '-c', SCRIPT]));
    expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
    expect(runc.stdout).toContain('root:x:0:0:');
    expect(runc.stdout).toContain("stat: can't stat '/etc/passwd': No such file or directory");
    expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status })
      .toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
  });
});
