import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileFilter, decodeFilter, RET, runFilter } from './bpf';
import { HOST_SYSCALLS, hostSyscallsOf, PTHREAD_CLONE_FLAGS, STUB_START_CLONE_FLAGS, VFORK_CLONE_FLAGS } from './host-syscalls';
import { filterFor as filterWith, precompile, withStubFd } from './seccomp';
import { encodeFilter } from './bpf';
import type { SeccompMode } from './seccomp';

const VALUES = { stubFd: 7 };
const filterFor = (who: 'sentry' | 'gofer', mode: SeccompMode) => filterWith(who, mode, VALUES);
import { renderHostSyscalls } from './listing';
import { syscallByNumber, MAX_SYSCALL } from '../../sentry/syscalls/linux/table/syscalls';

const STUB_BASE = 0x7fffff000000n;
const INJECT_IP = STUB_BASE + 0x200n + 2n;
const PARK_IP = STUB_BASE + 0x280n + 7n;

describe('host syscall table', () => {
  it('names every syscall by its x86-64 number', () => {
    for (const r of HOST_SYSCALLS) expect([r.nr, syscallByNumber(r.nr)?.name]).toEqual([r.nr, r.name]);
  });

  it('gives every row a reason and one rule per process and syscall', () => {
    for (const who of ['sentry', 'gofer', 'stub'] as const) {
      const nrs = hostSyscallsOf(who).map((r) => r.nr);
      expect(new Set(nrs).size).toBe(nrs.length);
    }
    for (const r of HOST_SYSCALLS) expect(r.why.length).toBeGreaterThan(3);
  });
});

describe('compiled allowlists', () => {
  for (const who of ['sentry', 'gofer'] as const) {
    it(`${who}: allows exactly its rows, kills everything else and foreign architectures`, () => {
      const prog = filterFor(who, 'kill');
      const rows = new Map(hostSyscallsOf(who).map((r) => [r.nr, r]));
      for (let nr = 0; nr <= MAX_SYSCALL + 10; nr++) {
        const r = rows.get(nr);
        const got = runFilter(prog, { nr });
        if (!r) expect([nr, got]).toEqual([nr, RET.KILL_PROCESS]);
        else if (r.action === 'enosys') expect([nr, got]).toEqual([nr, RET.ERRNO | 38]);
        else if (!r.args) expect([nr, got]).toEqual([nr, RET.ALLOW]);
        else for (const alt of r.args) expect([nr, runFilter(prog, { nr, args: argsOf(alt) })]).toEqual([nr, RET.ALLOW]);
      }
      expect(runFilter(prog, { nr: 0, arch: 0x40000003 })).toBe(RET.KILL_PROCESS);
      expect(runFilter(prog, { nr: 0 | 0x40000000 })).toBe(RET.KILL_PROCESS);
      expect(runFilter(filterFor(who, 'trap'), { nr: 500 })).toBe(RET.TRAP);
      expect(runFilter(filterFor(who, 'log'), { nr: 500 })).toBe(RET.LOG);
    });
  }

  it('sentry: a call from the vsyscall page traps (its stubs carry the filter: the sentry emulates the page), whatever its number', () => {
    const prog = filterFor('sentry', 'kill');
    for (const ip of [0xffffffffff600000n, 0xffffffffff600400n, 0xffffffffff600800n, 0xffffffffff600fffn]) {
      for (const nr of [96, 201, 309, 59, 500]) expect([ip, nr, runFilter(prog, { nr, ip })]).toEqual([ip, nr, RET.TRAP]);
    }
    // Just outside the page, or the same low word under another high word: the allowlist
    // decides (time(2), 201, a vsyscall entry the allowlist does not hold).
    for (const ip of [0xffffffffff601000n, 0xffffffffff5ff000n, 0x00000000ff600000n, 0x7fffff600000n]) {
      expect([ip, runFilter(prog, { nr: 201, ip })]).toEqual([ip, RET.KILL_PROCESS]);
    }
    expect(runFilter(filterFor('gofer', 'kill'), { nr: 201, ip: 0xffffffffff600000n })).toBe(RET.KILL_PROCESS);
  });

  it('checks arguments: clone makes threads, no sockets, ptrace has no PEEK/POKE', () => {
    const sentry = filterFor('sentry', 'kill');
    const gofer = filterFor('gofer', 'kill');
    expect(runFilter(sentry, { nr: 56, args: [BigInt(PTHREAD_CLONE_FLAGS)] })).toBe(RET.ALLOW);
    expect(runFilter(sentry, { nr: 56, args: [BigInt(VFORK_CLONE_FLAGS)] })).toBe(RET.ALLOW);
    expect(runFilter(sentry, { nr: 56, args: [17n] })).toBe(RET.KILL_PROCESS); // fork
    expect(runFilter(sentry, { nr: 56, args: [BigInt(PTHREAD_CLONE_FLAGS) | 0x10000000n] })).toBe(RET.KILL_PROCESS); // + CLONE_NEWUSER
    expect(runFilter(gofer, { nr: 56, args: [BigInt(VFORK_CLONE_FLAGS)] })).toBe(RET.KILL_PROCESS);
    // A stub's child started ahead of need (CLONE_VM, no CLONE_VFORK): the sentry's only.
    expect(runFilter(sentry, { nr: 56, args: [BigInt(STUB_START_CLONE_FLAGS)] })).toBe(RET.ALLOW);
    expect(runFilter(gofer, { nr: 56, args: [BigInt(STUB_START_CLONE_FLAGS)] })).toBe(RET.KILL_PROCESS);
    for (const p of [sentry, gofer]) expect(runFilter(p, { nr: 41, args: [1n, 0o2004001n] })).toBe(RET.KILL_PROCESS); // no AF_UNIX socket
    expect(runFilter(sentry, { nr: 41, args: [2n, 0o2004001n, 6n] })).toBe(RET.ALLOW); // a host TCP socket
    expect(runFilter(sentry, { nr: 41, args: [10n, 0o2004002n, 58n] })).toBe(RET.ALLOW); // an ICMPv6 ping socket
    expect(runFilter(sentry, { nr: 41, args: [2n, 0o2004003n, 1n] })).toBe(RET.KILL_PROCESS); // no raw socket
    expect(runFilter(sentry, { nr: 41, args: [2n, 1n, 6n] })).toBe(RET.KILL_PROCESS); // always non-blocking
    expect(runFilter(gofer, { nr: 41, args: [2n, 0o2004001n, 6n] })).toBe(RET.KILL_PROCESS);
    expect(runFilter(sentry, { nr: 54, args: [0n, 6n, 1n] })).toBe(RET.ALLOW); // TCP_NODELAY
    expect(runFilter(sentry, { nr: 54, args: [0n, 1n, 25n] })).toBe(RET.KILL_PROCESS); // SO_BINDTODEVICE
    expect(runFilter(sentry, { nr: 54, args: [0n, 1n, 3n] })).toBe(RET.KILL_PROCESS); // SO_TYPE is read-only
    expect(runFilter(sentry, { nr: 55, args: [0n, 1n, 4n] })).toBe(RET.ALLOW); // SO_ERROR
    expect(runFilter(sentry, { nr: 101, args: [31n | (1n << 32n)] })).toBe(RET.KILL_PROCESS); // the high word counts
    expect(runFilter(sentry, { nr: 101, args: [31n] })).toBe(RET.ALLOW); // PTRACE_SYSEMU
    expect(runFilter(sentry, { nr: 101, args: [5n] })).toBe(RET.KILL_PROCESS); // PTRACE_POKEDATA
    expect(runFilter(sentry, { nr: 101, args: [16n] })).toBe(RET.KILL_PROCESS); // PTRACE_ATTACH
    // openat only from the (empty) root, never relative to a directory descriptor; execveat only the stub.
    expect(runFilter(sentry, { nr: 257, args: [0xffffffffffffff9cn] })).toBe(RET.ALLOW);
    expect(runFilter(sentry, { nr: 257, args: [0xffffff9cn] })).toBe(RET.ALLOW);
    expect(runFilter(sentry, { nr: 257, args: [20n] })).toBe(RET.KILL_PROCESS);
    expect(runFilter(sentry, { nr: 322, args: [7n, 0n, 0n, 0n, 0x1000n] })).toBe(RET.ALLOW);
    expect(runFilter(sentry, { nr: 322, args: [8n, 0n, 0n, 0n, 0x1000n] })).toBe(RET.KILL_PROCESS);
    expect(runFilter(sentry, { nr: 322, args: [7n, 0n, 0n, 0n, 0n] })).toBe(RET.KILL_PROCESS);
  });

  it('keeps every jump in range for a large list (ja for long jumps)', () => {
    const rules = Array.from({ length: 400 }, (_, i) => ({ nr: i, action: RET.ALLOW, alternatives: i % 3 ? undefined : [[{ arg: 0, value: BigInt(i) }]] }));
    const prog = compileFilter(rules, RET.KILL_PROCESS);
    for (const p of prog) expect(p.jt <= 1 && p.jf <= 1).toBe(true);
    expect(runFilter(prog, { nr: 398 })).toBe(RET.ALLOW);
    expect(runFilter(prog, { nr: 399, args: [399n] })).toBe(RET.ALLOW);
    expect(runFilter(prog, { nr: 3, args: [3n] })).toBe(RET.ALLOW);
    expect(runFilter(prog, { nr: 3, args: [4n] })).toBe(RET.KILL_PROCESS);
    expect(runFilter(prog, { nr: 400 })).toBe(RET.KILL_PROCESS);
  });

  it('the programs compiled ahead of time (embedded in the bundles) are the ones compiled at run time', () => {
    for (const who of ['sentry', 'gofer'] as const) {
      const pre = precompile(who);
      expect(Object.keys(pre)).toEqual(['kill', 'trap', 'log'].map((mode) => `${who}:${mode}`));
      for (const mode of ['kill', 'trap', 'log'] as const) {
        expect(withStubFd(Buffer.from(pre[`${who}:${mode}`], 'base64'), 7).equals(encodeFilter(filterFor(who, mode)))).toBe(true);
      }
    }
  });

  it('tvisor host-syscalls lists each process with its count', () => {
    const text = renderHostSyscalls([], 'table');
    for (const who of ['sentry', 'gofer', 'stub'] as const) expect(text).toMatch(new RegExp(`^${who}: \\d+ host syscalls allowed`, 'm'));
    const json = JSON.parse(renderHostSyscalls(['gofer'], 'json')) as Record<string, unknown[]>;
    expect(Object.keys(json)).toEqual(['gofer']);
    expect(json.gofer.length).toBe(hostSyscallsOf('gofer').length);
  });
});

describe('the stub binary', () => {
  const stub = path.resolve(__dirname, '../../build/native/tvisor-stub');

  it('has the filter the table describes: the stub rows at their gadgets, nothing else', () => {
    if (!fs.existsSync(stub)) throw new Error(`${stub} is missing: run make build`);
    const prog = stubFilter(fs.readFileSync(stub));
    const rows = hostSyscallsOf('stub');
    for (let nr = 0; nr <= MAX_SYSCALL; nr++) {
      for (const [gadget, ip] of [['inject', INJECT_IP], ['park', PARK_IP], ['elsewhere', STUB_BASE + 0x100n]] as const) {
        const row = rows.find((r) => r.nr === nr && r.gadget === gadget);
        if (!row?.args) {
          expect([nr, gadget, runFilter(prog, { nr, ip })]).toEqual([nr, gadget, row ? RET.ALLOW : RET.KILL_PROCESS]);
          continue;
        }
        // Pinned arguments: each alternative passes, anything else kills.
        for (const alt of row.args) expect([nr, gadget, runFilter(prog, { nr, ip, args: argsOf(alt) })]).toEqual([nr, gadget, RET.ALLOW]);
        expect([nr, gadget, runFilter(prog, { nr, ip, args: [7n, 7n, 7n, 7n, 7n, 7n] })]).toEqual([nr, gadget, RET.KILL_PROCESS]);
      }
    }
  });
});

describe('the systrap stub binary', () => {
  const stub = path.resolve(__dirname, '../../build/native/tvisor-systrap-stub');
  const SITES = { inject: INJECT_IP, restorer: STUB_BASE + 0xa07n, wake: STUB_BASE + 0xa42n, wait: STUB_BASE + 0xa82n, exit: STUB_BASE + 0xac2n, yield: STUB_BASE + 0xb02n, arch: STUB_BASE + 0xb42n } as const;

  it('has filter A as the table describes: the systrap-stub rows at their sites, a trap anywhere else', () => {
    if (!fs.existsSync(stub)) throw new Error(`${stub} is missing: run make build`);
    const prog = stubFilter(fs.readFileSync(stub));
    const rows = hostSyscallsOf('systrap-stub');
    for (let nr = 0; nr <= MAX_SYSCALL; nr++) {
      for (const [site, ip] of Object.entries(SITES)) {
        const row = rows.find((r) => r.nr === nr && [r.gadget].flat().includes(site as keyof typeof SITES));
        if (!row) {
          expect([nr, site, runFilter(prog, { nr, ip })]).toEqual([nr, site, RET.KILL_PROCESS]);
          continue;
        }
        const gadgets = [row.gadget].flat();
        // A row with one alternative per site pairs them in order; otherwise each applies everywhere.
        const alts = row.args ? (row.args.length === gadgets.length && gadgets.length > 1 ? [row.args[gadgets.indexOf(site as keyof typeof SITES)]] : row.args) : [[]];
        for (const alt of alts) expect([nr, site, runFilter(prog, { nr, ip, args: argsOf(alt) })]).toEqual([nr, site, RET.ALLOW]);
        if (row.args) expect([nr, site, runFilter(prog, { nr, ip, args: [7n, 7n, 7n, 7n, 7n, 7n] })]).toEqual([nr, site, RET.KILL_PROCESS]);
      }
      for (const ip of [STUB_BASE + 0x100n, 0x400000n, 0x7ffff7a00000n, 0xffffffffff600000n]) {
        expect([nr, ip, runFilter(prog, { nr, ip })]).toEqual([nr, ip, RET.TRAP]);
      }
    }
  });

  it('has filter B: an application thread is killed for any call from the inject gadget, and left to filter A elsewhere', () => {
    const elf = fs.readFileSync(stub);
    const prog = stubFilter(elf, 0x700);
    for (let nr = 0; nr <= MAX_SYSCALL; nr++) {
      expect([nr, runFilter(prog, { nr, ip: INJECT_IP })]).toEqual([nr, RET.KILL_PROCESS]);
      for (const ip of [SITES.restorer, SITES.wake, 0x400000n]) expect([nr, runFilter(prog, { nr, ip })]).toEqual([nr, RET.ALLOW]);
    }
  });
});

function argsOf(alt: readonly { arg: number; value: bigint | 'stubFd' }[]): bigint[] {
  const args = [0n, 0n, 0n, 0n, 0n, 0n];
  for (const t of alt) args[t.arg] = typeof t.value === 'bigint' ? t.value : BigInt(VALUES[t.value]);
  return args;
}

/** stubFilter reads a seccomp program out of a stub's ELF image (its struct sock_fprog at `at` - 16; STUB_OFF_FILTER by default). */
function stubFilter(elf: Buffer, at = 0x400): ReturnType<typeof decodeFilter> {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 1 || elf.readBigUInt64LE(ph + 0x10) !== STUB_BASE) continue;
    const base = Number(elf.readBigUInt64LE(ph + 8));
    const len = elf.readUInt16LE(base + at - 16);
    return decodeFilter(elf.subarray(base + at, base + at + len * 8));
  }
  throw new Error('stub: no segment at STUB_BASE');
}
