/**
 * The sandbox's sysctls: linux.sysctl applied at boot (an unknown or read-only entry, or a
 * value Linux would not parse, fails in runc's words), and /proc/sys writes: euid 0 only,
 * values parsed as Linux's proc_dointvec and proc_dostring do, each sandbox its own.
 */
import type { Credentials } from '../../kernel/credentials';
import { LinuxError } from '../../kernel/errors';
import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import type { Location } from '../../vfs/mount';
import { ProcFs, ProcWritableFile, type ProcDir } from './nodes';
import { applySysctls, sysctlDir, sysctlValue } from './sysctl';

function fakeKernel(): Kernel {
  return { hostname: 'tvisor', domainname: '(none)' } as unknown as Kernel;
}

function entry(k: Kernel, path: string): ProcWritableFile {
  let node: ProcDir = sysctlDir(new ProcFs(), k);
  const parts = path.split('/');
  for (const p of parts.slice(0, -1)) node = node.lookup(p) as ProcDir;
  const f = node.lookup(parts[parts.length - 1]);
  if (!(f instanceof ProcWritableFile)) throw new Error(`${path} is not writable`);
  return f;
}

const root = { euid: 0 } as Credentials, user = { euid: 1000 } as Credentials;
const loc = { dentry: { incRef: () => undefined } } as unknown as Location, task = {} as Task;

describe('sysctls', () => {
  test('linux.sysctl sets values per sandbox; unknown, read-only and malformed ones fail as runc says', () => {
    const k = fakeKernel(), other = fakeKernel();
    applySysctls(k, { 'kernel.domainname': 'example.org', 'kernel/sem': '1 2 3 4', 'fs.mqueue.msg_max': '20' });
    expect([k.domainname, sysctlValue(k, 'kernel/sem'), sysctlValue(k, 'fs/mqueue/msg_max')]).toEqual(['example.org', '1\t2\t3\t4', '20']);
    expect(sysctlValue(other, 'fs/mqueue/msg_max')).toBe('10');
    expect(() => applySysctls(k, { 'net.core.nope': '1' })).toThrow('open /proc/sys/net/core/nope: no such file or directory');
    expect(() => applySysctls(k, { 'kernel.ostype': 'x' })).toThrow('open /proc/sys/kernel/ostype: permission denied');
    expect(() => applySysctls(k, { 'kernel.sem': '1 2' })).toThrow('write /proc/sys/kernel/sem: invalid argument');
    expect(() => applySysctls(k, { 'kernel.shm_rmid_forced': '2' })).toThrow('write /proc/sys/kernel/shm_rmid_forced: invalid argument');
    expect(() => applySysctls(k, { 'kernel..shmmax': '1' })).toThrow('not a valid name');
  });

  test('only euid 0 may open a writable sysctl for writing; what it writes is parsed', () => {
    const k = fakeKernel();
    const f = entry(k, 'kernel/hostname');
    expect(() => f.open(loc, 1, user)).toThrow(LinuxError);
    const w = f.open(loc, 1, root);
    w.write(task, Buffer.from(`${'h'.repeat(70)}\nsecond line`));
    expect(k.hostname).toBe('h'.repeat(64));
    const msgmax = entry(k, 'kernel/msgmax').open(loc, 1, root);
    expect(() => msgmax.write(task, Buffer.from('many\n'))).toThrow(LinuxError);
    msgmax.write(task, Buffer.from('4096\n'));
    expect(sysctlValue(k, 'kernel/msgmax')).toBe('4096');
  });
});
