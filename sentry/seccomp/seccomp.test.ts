import type { LinuxSeccomp, LinuxSyscall } from '../../oci/config';
import { syscallByName } from '../syscalls/linux/table/syscalls';
import { compileSeccomp, type SeccompVerdict } from './index';

const nr = (name: string): number => syscallByName(name)!.nr;
const ALLOWED: SeccompVerdict = { action: 'allow' };
const EPERM: SeccompVerdict = { action: 'errno', errno: 1 };

// Shaped like moby's profiles/seccomp/default.json as Docker passes it on amd64.
function dockerLike(): LinuxSeccomp {
  const personality = (value: number): LinuxSyscall => ({
    names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
  });
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      {
        names: ['accept', 'accept4', 'access', 'arch_prctl', 'brk', 'close', 'exit', 'exit_group',
          'fstat', 'futex', 'getpid', 'mmap', 'munmap', 'newfstatat', 'openat', 'read', 'write',
          'rt_sigaction', 'rt_sigreturn', '_llseek', 'socketcall', 'waitpid'],
        action: 'SCMP_ACT_ALLOW',
      },
      { names: ['process_vm_readv', 'ptrace'], action: 'SCMP_ACT_ALLOW' },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      personality(0), personality(8), personality(131072), personality(131080), personality(4294967295),
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  };
}

describe('compileSeccomp with a Docker-like default profile', () => {
  const f = compileSeccomp(dockerLike());

  test('listed syscalls are allowed, others get EPERM', () => {
    for (const name of ['read', 'write', 'openat', 'exit_group', 'ptrace']) expect([name, f.check(nr(name), [])]).toEqual([name, ALLOWED]);
    for (const name of ['mount', 'reboot', 'kexec_load', 'unshare']) expect([name, f.check(nr(name), [])]).toEqual([name, EPERM]);
  });

  test('names x86-64 lacks are ignored and reported', () => {
    expect([...f.ignoredNames].sort()).toEqual(['_llseek', 'socketcall', 'waitpid']);
  });

  test('personality is allowed only for the listed personas (64-bit compare)', () => {
    for (const v of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) expect(f.check(nr('personality'), [v])).toEqual(ALLOWED);
    for (const v of [1n, 0x0400000n, 0x1_0000_0000n, 0xffff_ffff_ffff_ffffn]) expect(f.check(nr('personality'), [v])).toEqual(EPERM);
    expect(f.rulesFor(nr('personality'))).toHaveLength(5);
  });

  test('clone is allowed without namespace flags (MASKED_EQ)', () => {
    const CLONE_THREAD_ETC = 0x3d0f00n; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
    expect(f.check(nr('clone'), [CLONE_THREAD_ETC])).toEqual(ALLOWED);
    expect(f.check(nr('clone'), [0x01200011n])).toEqual(ALLOWED); // fork() from glibc
    for (const ns of [0x00020000n, 0x04000000n, 0x08000000n, 0x10000000n, 0x20000000n, 0x40000000n, 0x02000000n]) {
      expect(f.check(nr('clone'), [CLONE_THREAD_ETC | ns])).toEqual(EPERM);
    }
    expect(f.check(nr('clone'), [0xffff_ffff_0000_0000n | CLONE_THREAD_ETC])).toEqual(ALLOWED); // mask has no high bits
  });

  test('socket NE: everything but AF_VSOCK', () => {
    expect(f.check(nr('socket'), [1n, 1n, 0n])).toEqual(ALLOWED);
    expect(f.check(nr('socket'), [40n, 1n, 0n])).toEqual(EPERM);
  });

  test('errnoRet per rule, and numbers outside the table get the default', () => {
    expect(f.check(nr('clone3'), [])).toEqual({ action: 'errno', errno: 38 });
    for (const n of [-1, 470, 512, 100000, 1.5]) expect(f.check(n, [])).toEqual(EPERM);
  });
});

describe('operators', () => {
  const one = (op: string, value: number, valueTwo?: number) => compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value, valueTwo, op }] }],
  });
  const hits = (op: string, value: number, values: bigint[], valueTwo?: number): bigint[] => {
    const f = one(op, value, valueTwo);
    return values.filter((v) => f.check(nr('ioctl'), [0n, v]).action === 'errno');
  };
  const probe = [0n, 4n, 5n, 6n, 0xffff_ffffn, 0xffff_ffff_ffff_ffffn];

  test.each([
    ['SCMP_CMP_NE', [0n, 4n, 6n, 0xffff_ffffn, 0xffff_ffff_ffff_ffffn]],
    ['SCMP_CMP_LT', [0n, 4n]],
    ['SCMP_CMP_LE', [0n, 4n, 5n]],
    ['SCMP_CMP_EQ', [5n]],
    ['SCMP_CMP_GE', [5n, 6n, 0xffff_ffffn, 0xffff_ffff_ffff_ffffn]],
    ['SCMP_CMP_GT', [6n, 0xffff_ffffn, 0xffff_ffff_ffff_ffffn]],
  ])('%s 5 compares unsigned 64-bit', (op, expected) => {
    expect(hits(op, 5, probe)).toEqual(expected);
  });

  test('SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo', () => {
    expect(hits('SCMP_CMP_MASKED_EQ', 0b110, [0b010n, 0b011n, 0b110n, 0b1010n, 0n], 0b010)).toEqual([0b010n, 0b011n, 0b1010n]);
    expect(hits('SCMP_CMP_MASKED_EQ', 0xff, [0x100n, 0x1n], undefined)).toEqual([0x100n]); // valueTwo defaults to 0
  });

  test('a negative register value is read modulo 2^64 (-1 is the largest)', () => {
    const f = one('SCMP_CMP_GT', 5);
    expect(f.check(nr('ioctl'), [0n, -1n]).action).toBe('errno');
    expect(f.check(nr('ioctl'), [0n]).action).toBe('allow'); // missing argument reads as 0
  });
});

describe('actions', () => {
  const verdict = (action: string, errnoRet?: number): SeccompVerdict =>
    compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action, errnoRet }] }).check(nr('getpid'), []);

  test.each([
    ['SCMP_ACT_ALLOW', undefined, { action: 'allow' }],
    ['SCMP_ACT_LOG', undefined, { action: 'log' }],
    ['SCMP_ACT_ERRNO', undefined, { action: 'errno', errno: 1 }],
    ['SCMP_ACT_ERRNO', 13, { action: 'errno', errno: 13 }],
    ['SCMP_ACT_ERRNO', 0, { action: 'errno', errno: 0 }],
    ['SCMP_ACT_TRACE', 7, { action: 'errno', errno: 38 }],
    ['SCMP_ACT_TRAP', undefined, { action: 'trap' }],
    ['SCMP_ACT_KILL', undefined, { action: 'kill', process: false }],
    ['SCMP_ACT_KILL_THREAD', undefined, { action: 'kill', process: false }],
    ['SCMP_ACT_KILL_PROCESS', undefined, { action: 'kill', process: true }],
  ])('%s (errnoRet %s)', (action, errnoRet, expected) => {
    expect(verdict(action, errnoRet)).toEqual(expected);
  });

  test('default actions, and the unconditional path returns one shared object', () => {
    const f = compileSeccomp({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: ['read'], action: 'SCMP_ACT_LOG' }] });
    expect(f.check(nr('write'), [])).toEqual({ action: 'kill', process: true });
    expect(f.check(nr('read'), [])).toBe(f.check(nr('read'), []));
    expect(compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38 }).check(nr('read'), [])).toEqual({ action: 'errno', errno: 38 });
  });

  test('SECCOMP_FILTER_FLAG_LOG is reported', () => {
    expect(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] }).logFlag).toBe(true);
    expect(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }).logFlag).toBe(false);
  });
});

describe('precedence', () => {
  const ioctlRule = (action: string, value: number, errnoRet?: number): LinuxSyscall =>
    ({ names: ['ioctl'], action, errnoRet, args: [{ index: 1, value, op: 'SCMP_CMP_EQ' }] });

  test('first matching conditional rule wins; none matching gives the default', () => {
    const f = compileSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [ioctlRule('SCMP_ACT_ALLOW', 1), ioctlRule('SCMP_ACT_TRAP', 2), { names: ['ioctl'], action: 'SCMP_ACT_LOG', args: [{ index: 1, value: 2, op: 'SCMP_CMP_GE' }] }],
    });
    expect(f.check(nr('ioctl'), [0n, 1n])).toEqual(ALLOWED);
    expect(f.check(nr('ioctl'), [0n, 2n])).toEqual({ action: 'trap' });
    expect(f.check(nr('ioctl'), [0n, 3n])).toEqual({ action: 'log' });
    expect(f.check(nr('ioctl'), [0n, 0n])).toEqual(EPERM);
  });

  test('an unconditional rule decides whatever its position (libseccomp)', () => {
    const before = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_TRAP' }, ioctlRule('SCMP_ACT_ERRNO', 1)] });
    const after = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [ioctlRule('SCMP_ACT_ERRNO', 1), { names: ['ioctl'], action: 'SCMP_ACT_TRAP' }] });
    for (const f of [before, after]) {
      expect(f.check(nr('ioctl'), [0n, 1n])).toEqual({ action: 'trap' });
      expect(f.rulesFor(nr('ioctl'))).toHaveLength(0);
    }
    const twice = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_LOG' }, { names: ['ioctl'], action: 'SCMP_ACT_TRAP' }] });
    expect(twice.check(nr('ioctl'), [])).toEqual({ action: 'log' });
  });

  test('a rule with the default action is skipped (runc), so it shadows nothing', () => {
    const f = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ERRNO' }, ioctlRule('SCMP_ACT_ALLOW', 1)] });
    expect(f.check(nr('ioctl'), [0n, 1n])).toEqual(ALLOWED);
    const other = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 22 }, ioctlRule('SCMP_ACT_ALLOW', 1)] });
    expect(other.check(nr('ioctl'), [0n, 1n])).toEqual({ action: 'errno', errno: 22 });
  });

  test('conditions on different arguments all must hold; on one argument they become alternatives (runc)', () => {
    const and = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 9, op: 'SCMP_CMP_EQ' }] }] });
    expect(and.check(nr('kill'), [1n, 9n])).toEqual(EPERM);
    expect(and.check(nr('kill'), [1n, 15n])).toEqual(ALLOWED);
    expect(and.check(nr('kill'), [2n, 9n])).toEqual(ALLOWED);
    const or = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }, { index: 1, value: 19, op: 'SCMP_CMP_EQ' }] }] });
    expect(or.check(nr('kill'), [1n, 9n])).toEqual(EPERM);
    expect(or.check(nr('kill'), [1n, 19n])).toEqual(EPERM);
    expect(or.check(nr('kill'), [1n, 15n])).toEqual(ALLOWED);
  });
});

describe('malformed profiles are rejected with their path', () => {
  const base = (): Record<string, unknown> => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] });
  const rule = (patch: Record<string, unknown>) => () => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }, { names: ['write'], action: 'SCMP_ACT_ERRNO', ...patch }] });
  test.each<[string, () => unknown, string]>([
    ['notify rule', rule({ action: 'SCMP_ACT_NOTIFY' }), 'config.json: linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY is not supported'],
    ['notify default', () => ({ defaultAction: 'SCMP_ACT_NOTIFY' }), 'config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported'],
    ['unknown action', rule({ action: 'SCMP_ACT_MAYBE' }), 'config.json: linux.seccomp.syscalls[1].action: unknown seccomp action "SCMP_ACT_MAYBE"'],
    ['missing default', () => ({}), 'config.json: linux.seccomp.defaultAction: is required'],
    ['unknown op', rule({ args: [{ index: 0, value: 1, op: 'SCMP_CMP_LIKE' }] }), 'config.json: linux.seccomp.syscalls[1].args[0].op: unknown seccomp operator "SCMP_CMP_LIKE"'],
    ['index 6', rule({ args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }), 'config.json: linux.seccomp.syscalls[1].args[0].index: must be an integer from 0 to 5'],
    ['negative value', rule({ args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }), 'config.json: linux.seccomp.syscalls[1].args[0].value: must be an unsigned 64-bit integer'],
    ['imprecise value', rule({ args: [{ index: 0, value: 2 ** 64, op: 'SCMP_CMP_EQ' }] }), 'config.json: linux.seccomp.syscalls[1].args[0].value: 18446744073709552000 is above 2^53 and lost precision in JSON parsing'],
    ['bad valueTwo', rule({ args: [{ index: 0, value: 1, valueTwo: 'x', op: 'SCMP_CMP_MASKED_EQ' }] }), 'config.json: linux.seccomp.syscalls[1].args[0].valueTwo: must be an unsigned 64-bit integer'],
    ['errnoRet too big', rule({ errnoRet: 4096 }), 'config.json: linux.seccomp.syscalls[1].errnoRet: must be an integer from 0 to 4095'],
    ['empty names', rule({ names: [] }), 'config.json: linux.seccomp.syscalls[1].names: must be a non-empty array of syscall names'],
    ['empty name', rule({ names: ['read', ''] }), 'config.json: linux.seccomp.syscalls[1].names[1]: must be a non-empty string'],
    ['unknown arch', () => ({ ...base(), architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80'] }), 'config.json: linux.seccomp.architectures[1]: unknown seccomp architecture "SCMP_ARCH_Z80"'],
    ['unknown flag', () => ({ ...base(), flags: ['SECCOMP_FILTER_FLAG_NOPE'] }), 'config.json: linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_NOPE"'],
    ['syscalls not array', () => ({ ...base(), syscalls: {} }), 'config.json: linux.seccomp.syscalls: must be an array'],
  ])('%s', (_name, make, message) => {
    expect(() => compileSeccomp(make() as LinuxSeccomp)).toThrow(message);
  });

  test('a large value given as bigint is accepted', () => {
    const f = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_TRAP', args: [{ index: 1, value: 0xffff_ffff_ffff_fff0n as unknown as number, op: 'SCMP_CMP_GE' }] }] });
    expect(f.check(nr('ioctl'), [0n, 0xffff_ffff_ffff_fff5n])).toEqual({ action: 'trap' });
    expect(f.check(nr('ioctl'), [0n, 5n])).toEqual(ALLOWED);
  });
});
