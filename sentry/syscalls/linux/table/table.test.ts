import { existsSync, readFileSync } from 'node:fs';
import { ARG_KINDS, MAX_SYSCALL, SYSCALLS, parseSignature, syscallByName, syscallByNumber, syscallName } from './index';

const UNISTD = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

describe('syscall table', () => {
  test('spot-checked numbers match syscall_64.tbl', () => {
    const want: Array<[number, string]> = [
      [0, 'read'], [1, 'write'], [2, 'open'], [3, 'close'], [9, 'mmap'], [12, 'brk'], [13, 'rt_sigaction'],
      [15, 'rt_sigreturn'], [39, 'getpid'], [56, 'clone'], [57, 'fork'], [59, 'execve'], [60, 'exit'],
      [61, 'wait4'], [62, 'kill'], [72, 'fcntl'], [158, 'arch_prctl'], [186, 'gettid'], [202, 'futex'],
      [217, 'getdents64'], [218, 'set_tid_address'], [228, 'clock_gettime'], [231, 'exit_group'],
      [257, 'openat'], [262, 'newfstatat'], [273, 'set_robust_list'], [293, 'pipe2'], [302, 'prlimit64'],
      [318, 'getrandom'], [322, 'execveat'], [332, 'statx'], [334, 'rseq'], [335, 'uretprobe'], [336, 'uprobe'],
      [424, 'pidfd_send_signal'], [435, 'clone3'], [436, 'close_range'], [437, 'openat2'], [439, 'faccessat2'],
      [441, 'epoll_pwait2'], [449, 'futex_waitv'], [452, 'fchmodat2'], [453, 'map_shadow_stack'],
      [462, 'mseal'], [463, 'setxattrat'], [466, 'removexattrat'], [469, 'file_setattr'],
    ];
    for (const [nr, name] of want) {
      expect(syscallByNumber(nr)?.name).toBe(name);
      expect(syscallByName(name)?.nr).toBe(nr);
    }
  });

  test('gaps: 337..423 are unused and the table ends at 469', () => {
    for (let nr = 337; nr <= 423; nr++) expect(syscallByNumber(nr)).toBeUndefined();
    for (let nr = 0; nr <= 336; nr++) expect(syscallByNumber(nr)).toBeDefined();
    for (let nr = 424; nr <= MAX_SYSCALL; nr++) expect(syscallByNumber(nr)).toBeDefined();
    expect(SYSCALLS.length).toBe(MAX_SYSCALL + 1);
    expect(syscallByNumber(470)).toBeUndefined();
    expect(syscallByNumber(-1)).toBeUndefined();
    expect(syscallByNumber(1.5)).toBeUndefined();
    expect(syscallName(1000)).toBe('syscall_1000');
    expect(SYSCALLS.filter(Boolean).length).toBe(337 + (MAX_SYSCALL - 424 + 1));
  });

  test('names are unique and every entry is well formed', () => {
    const names = new Set<string>();
    for (const s of SYSCALLS) {
      if (!s) continue;
      expect(names.has(s.name)).toBe(false);
      names.add(s.name);
      expect(s.args.length).toBeLessThanOrEqual(6);
      for (const a of s.args) {
        expect(ARG_KINDS).toContain(a.kind);
        if (a.kind === 'buf_in' || a.kind === 'buf_out') expect(['size', 'uint', 'int']).toContain(s.args[a.len!].kind);
      }
    }
  });

  test('argument counts of well-known syscalls', () => {
    const counts: Record<string, number> = {
      read: 3, write: 3, openat: 4, mmap: 6, clone: 5, execve: 3, futex: 6, wait4: 4, rt_sigaction: 4,
      rt_sigprocmask: 4, ppoll: 5, pselect6: 6, preadv2: 6, openat2: 4, clone3: 2, statx: 5, getpid: 0,
      exit_group: 1, fchmodat2: 4, setxattrat: 6, epoll_pwait2: 6, splice: 6, mount: 5, prctl: 5,
    };
    for (const [name, n] of Object.entries(counts)) expect([name, syscallByName(name)!.args.length]).toEqual([name, n]);
  });

  test('every number and name in the host asm/unistd_64.h matches', () => {
    // linux-libc-dev comes with gcc, which `make setup` installs: its absence is a failure.
    if (!existsSync(UNISTD)) throw new Error(`${UNISTD} not installed (linux-libc-dev)`);
    const defs = [...readFileSync(UNISTD, 'utf8').matchAll(/#define __NR_(\w+) (\d+)/g)];
    expect(defs.length).toBeGreaterThan(300);
    for (const [, name, nr] of defs) expect([name, syscallByNumber(Number(nr))?.name]).toEqual([name, name]);
  });

  test('parseSignature rejects bad signatures by name', () => {
    expect(() => parseSignature('fd bogus')).toThrow(/unknown argument kind "bogus"/);
    expect(() => parseSignature('fd buf_in size')).toThrow(/need ":N"/);
    expect(() => parseSignature('fd buf_in:7 size')).toThrow(/bad length index/);
    expect(() => parseSignature('fd -> wat')).toThrow(/unknown return kind/);
    expect(() => parseSignature('int int int int int int int')).toThrow(/more than 6/);
    expect(parseSignature('')).toEqual({ args: [], ret: 'int' });
    expect(parseSignature('ptr -> ptr').ret).toBe('ptr');
  });
});
