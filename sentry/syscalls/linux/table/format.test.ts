import { formatResult, formatSyscall, quote, syscallByName, type FormatMemory } from './index';
import { cloneFlagsText, futexOpText, mmapFlagsText, openFlagsText, sigsetText, signalName } from './decoders';

/** FakeMemory is a sparse byte map: allocate strings and buffers at fixed addresses. */
class FakeMemory implements FormatMemory {
  private regions: Array<{ addr: bigint; data: Buffer }> = [];
  private next = 0x10000n;
  put(data: Buffer): bigint {
    const addr = this.next;
    this.regions.push({ addr, data });
    this.next += BigInt(data.length + 0x100) & ~0xfn;
    return addr;
  }
  str(s: string): bigint { return this.put(Buffer.from(`${s}\0`, 'latin1')); }
  ptrs(p: bigint[]): bigint {
    const b = Buffer.alloc(8 * p.length);
    p.forEach((v, i) => b.writeBigUInt64LE(v, i * 8));
    return this.put(b);
  }
  read(addr: bigint, len: number): Buffer | null {
    const r = this.regions.find((x) => addr >= x.addr && addr + BigInt(len) <= x.addr + BigInt(x.data.length));
    return r ? Buffer.from(r.data.subarray(Number(addr - r.addr), Number(addr - r.addr) + len)) : null;
  }
  readCString(addr: bigint, max: number): string | null {
    const r = this.regions.find((x) => addr >= x.addr && addr < x.addr + BigInt(x.data.length));
    if (!r) return null;
    const tail = r.data.subarray(Number(addr - r.addr));
    const nul = tail.indexOf(0);
    if (nul < 0) return null;
    return tail.subarray(0, Math.min(nul, max)).toString('latin1');
  }
}

const nr = (name: string): number => syscallByName(name)!.nr;
const AT_FDCWD = BigInt.asUintN(64, -100n);

describe('formatSyscall', () => {
  const mem = new FakeMemory();

  test('openat with a path, AT_FDCWD and flags; mode only with O_CREAT', () => {
    const p = mem.str('/etc/passwd');
    expect(formatSyscall(nr('openat'), [AT_FDCWD, p, 0o2000000n, 0n], mem)).toBe('openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)');
    expect(formatSyscall(nr('openat'), [3n, p, 0o1101n, 0o644n], mem)).toBe('openat(3, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644)');
    expect(formatSyscall(nr('open'), [p, 0o20200002n, 0o600n], mem)).toBe('open("/etc/passwd", O_RDWR|O_TMPFILE, 0600)');
  });

  test('buffers: write prints the bytes read, cut at 32 with "..."; read prints after the call', () => {
    const b = mem.put(Buffer.from('hello\n\tworld "quoted" \\ and a long tail past 32 bytes'));
    expect(formatSyscall(nr('write'), [1n, b, 6n], mem)).toBe('write(1, "hello\\n", 6)');
    expect(formatSyscall(nr('write'), [1n, b, 50n], mem)).toBe('write(1, "hello\\n\\tworld \\"quoted\\" \\\\ and a lo"..., 50)');
    expect(formatSyscall(nr('read'), [3n, b, 4096n], mem)).toBe(`read(3, 0x${b.toString(16)}, 4096)`);
    expect(formatSyscall(nr('read'), [3n, b, 4096n], mem, 5n)).toBe('read(3, "hello", 4096)');
    expect(formatSyscall(nr('read'), [3n, b, 4096n], mem, BigInt.asUintN(64, -9n))).toBe(`read(3, 0x${b.toString(16)}, 4096)`);
    expect(formatSyscall(nr('write'), [1n, 0xdead0000n, 3n], mem)).toBe('write(1, 0xdead0000, 3)');
  });

  test('mmap, mprotect, clone, kill, rt_sigprocmask', () => {
    expect(formatSyscall(nr('mmap'), [0n, 8192n, 3n, 0x22n, BigInt.asUintN(64, -1n), 0n], mem))
      .toBe('mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x0)');
    expect(formatSyscall(nr('mprotect'), [0x7f0000001000n, 4096n, 0n], mem)).toBe('mprotect(0x7f0000001000, 4096, PROT_NONE)');
    expect(formatSyscall(nr('clone'), [0x1200011n, 0n, 0n, 0x7f00n, 0n], mem))
      .toBe('clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x7f00, 0x0)');
    expect(formatSyscall(nr('kill'), [42n, 15n], mem)).toBe('kill(42, SIGTERM)');
    const set = mem.put(Buffer.from([0x02, 0x40, 0, 0, 0, 0, 0, 0])); // SIGINT (bit 1), SIGTERM (bit 14)
    expect(formatSyscall(nr('rt_sigprocmask'), [0n, set, 0n, 8n], mem)).toBe('rt_sigprocmask(SIG_BLOCK, [INT TERM], NULL, 8)');
    expect(formatSyscall(nr('lseek'), [3n, BigInt.asUintN(64, -10n), 2n], mem)).toBe('lseek(3, -10, SEEK_END)');
    expect(formatSyscall(nr('futex'), [0x1000n, 128n, 1n, 0n, 0n, 0n], mem)).toBe('futex(0x1000, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0)');
    expect(formatSyscall(nr('getpid'), [], mem)).toBe('getpid()');
  });

  test('execve prints argv and counts envp', () => {
    const argv = mem.ptrs([mem.str('/bin/ls'), mem.str('-l'), 0n]);
    const envp = mem.ptrs([mem.str('A=1'), mem.str('B=2'), mem.str('C=3'), 0n]);
    const path = mem.str('/bin/ls');
    expect(formatSyscall(nr('execve'), [path, argv, envp], mem)).toBe(`execve("/bin/ls", ["/bin/ls", "-l"], 0x${envp.toString(16)} /* 3 vars */)`);
  });

  test('preadv2 skips pos_h; unknown numbers print raw', () => {
    expect(formatSyscall(nr('preadv2'), [3n, 0x1000n, 2n, 100n, 0n, 0x1n], mem)).toBe('preadv2(3, 0x1000, 2, 100, 0x1)');
    expect(formatSyscall(1000, [1n, 2n, 0xffn], mem)).toBe('syscall_1000(0x1, 0x2, 0xff)');
    expect(formatSyscall(400, [0n], mem)).toBe('syscall_400(0x0)');
  });

  test('unreadable strings print as addresses; long strings are cut', () => {
    expect(formatSyscall(nr('chdir'), [0x999999n], mem)).toBe('chdir(0x999999)');
    const long = mem.str('x'.repeat(40));
    expect(formatSyscall(nr('memfd_create'), [long, 1n], mem)).toBe(`memfd_create("${'x'.repeat(32)}"..., 0x1)`);
  });
});

describe('formatResult', () => {
  test('values, errors, pointers and restarts', () => {
    expect(formatResult(nr('openat'), 3n)).toBe('= 3');
    expect(formatResult(nr('openat'), BigInt.asUintN(64, -2n))).toBe('= -1 ENOENT (No such file or directory)');
    expect(formatResult(nr('mmap'), 0x7f1234560000n)).toBe('= 0x7f1234560000');
    expect(formatResult(nr('mmap'), BigInt.asUintN(64, -12n))).toBe('= -1 ENOMEM (Cannot allocate memory)');
    expect(formatResult(nr('read'), BigInt.asUintN(64, -512n))).toBe('= ? ERESTARTSYS (To be restarted if SA_RESTART is set)');
    expect(formatResult(nr('exit_group'), 0n)).toBe('= ?');
    expect(formatResult(nr('umask'), 0o22n)).toBe('= 022');
    expect(formatResult(nr('lseek'), BigInt.asUintN(64, -5000n))).toBe('= -5000');
    expect(formatResult(1000, BigInt.asUintN(64, -38n))).toBe('= -1 ENOSYS (Function not implemented)');
  });
});

describe('decoders', () => {
  test('flags and names', () => {
    expect(openFlagsText(0)).toBe('O_RDONLY');
    expect(openFlagsText(0o4010001)).toBe('O_WRONLY|O_SYNC');
    expect(openFlagsText(0o10000 | 2)).toBe('O_RDWR|O_DSYNC');
    expect(openFlagsText(0o200000000 | 0o100)).toBe('O_RDONLY|O_CREAT|0x2000000');
    expect(mmapFlagsText(0x812)).toBe('MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE');
    expect(mmapFlagsText(0x100021)).toBe('MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE');
    expect(cloneFlagsText(0x3d0f00n)).toBe('CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID');
    expect(cloneFlagsText(0n)).toBe('0');
    expect(signalName(9)).toBe('SIGKILL');
    expect(signalName(34)).toBe('SIGRT_2');
    expect(signalName(65)).toBe('65');
    expect(sigsetText(0n)).toBe('[]');
    expect(sigsetText(~(1n << 8n) & ((1n << 64n) - 1n))).toBe('~[KILL]');
    expect(futexOpText(0x189)).toBe('FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME');
  });

  test('quote escapes like strace', () => {
    expect(quote(Buffer.from([0x41, 0x00, 0x42, 0x00, 0x31, 0xff]))).toBe('"A\\0B\\0001\\377"');
  });
});
