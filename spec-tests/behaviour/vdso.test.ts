/**
 * The vDSO and address-space randomization, compared between a native run and runc,
 * runsc and tvisor (see compare.ts): vdso.c finds the vDSO's clock_gettime in its
 * dynamic symbols and checks that the clocks read through it agree with the syscalls
 * and never go back; aslr.c re-executes itself and checks which addresses move between
 * runs, and that none does under personality(ADDR_NO_RANDOMIZE). Then, under tvisor
 * alone: vdso.c again with the vDSO told to trap every call (the annotation
 * dev.tvisor.vdso-clock=syscall: its fallback); 10,000 clock_gettime calls through glibc
 * reach the sentry (--strace) fewer than 100 times, and every time with the fallback (as
 * every one did before the vDSO); and a Go program (runsc --version) finds the vDSO by
 * its symbols and versions and reads its clocks without a trap.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeProgram, expectLines } from './compare';
import { RUNTIMES, runNative, runUnder } from './runner';

describeProgram({
  program: 'vdso',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'AT_SYSINFO_EHDR set: yes',
      'image is an ELF shared object: yes',
      'section headers in memory name .text and .dynsym: yes',
      '__vdso_clock_gettime@LINUX_2.6 found: yes',
      '__vdso_gettimeofday@LINUX_2.6 found: yes',
      '__vdso_time@LINUX_2.6 found: yes',
      '__vdso_getcpu@LINUX_2.6 found: yes',
      '__vdso_clock_getres@LINUX_2.6 found: yes',
      'REALTIME: syscall between two vDSO reads (glibc and __vdso_clock_gettime), 100 times: yes',
      'MONOTONIC: syscall between two vDSO reads (glibc and __vdso_clock_gettime), 100 times: yes',
      'BOOTTIME: syscall between two vDSO reads (glibc and __vdso_clock_gettime), 100 times: yes',
      'MONOTONIC_RAW: syscall between two vDSO reads (glibc and __vdso_clock_gettime), 100 times: yes',
      'gettimeofday: syscall between two glibc reads, 100 times: yes',
      'time: syscall between two glibc reads, 100 times: yes',
      'time(&t) stores what it returns: yes',
      '__vdso_clock_gettime(PROCESS_CPUTIME_ID): 0',
      '__vdso_clock_gettime(bad id 12345): -22',
      'clock_gettime(bad id 12345): -1 EINVAL',
      'clock_getres(MONOTONIC) as the syscall\'s: yes',
      'MONOTONIC went back in 100000 mixed reads: 0 times',
      'forked child reads the vDSO clock: yes',
      '/proc/self/maps: [vdso] present, [vvar] present',
      'mprotect([vvar], PROT_WRITE): -1 EACCES',
      'done',
    ]);
  },
  // gVisor's vDSO (2022) has no clock_getres, and its /proc/<pid>/maps names no [vdso].
  runscDeviations: [
    ['__vdso_clock_getres@LINUX_2.6 found: yes', '__vdso_clock_getres@LINUX_2.6 found: no'],
    ['/proc/self/maps: [vdso] present, [vvar] present', '/proc/self/maps: [vdso] absent, [vvar] present'],
  ],
});

describeProgram({
  program: 'aslr',
  expectNative(r) {
    expect(r.status).toBe(0);
    const moved = ['stack', 'mmap', 'brk', 'text', 'vdso'];
    expectLines(r.stdout, [
      'persona at start: ADDR_NO_RANDOMIZE clear',
      ...moved.map((f) => `randomized: ${f} differs between runs`),
      'personality(ADDR_NO_RANDOMIZE) returned the old persona: yes',
      'personality(0xffffffff) now: 0x40000',
      ...moved.map((f) => `ADDR_NO_RANDOMIZE: ${f} same in every run`),
      'done',
    ]);
  },
  runscUnsupported: 'personality(0xffffffff) answers 0xffffffff and ADDR_NO_RANDOMIZE changes nothing',
});

describe('vdso: the syscall fallback (annotation dev.tvisor.vdso-clock=syscall)', () => {
  test('tvisor prints what the native run prints when every vDSO call traps', () => {
    const native = runNative('vdso');
    const r = runUnder('tvisor', 'vdso', [], { editSpec: (spec) => { spec.annotations = { ...spec.annotations, 'dev.tvisor.vdso-clock': 'syscall' }; } });
    expect({ stdout: r.stdout, status: r.status }).toEqual({ stdout: native.stdout, status: 0 });
  });
});

/** tracedRun runs a program under tvisor with --strace and returns its result and how many clock_gettime calls the sentry saw. */
function tracedRun(program: string, args: string[], vdsoClock: 'tsc' | 'syscall'): { stdout: string; status: number; trapped: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vdso-traced-'));
  try {
    const log = path.join(dir, 'strace.log');
    const wrapper = path.join(dir, 'tvisor');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec '${RUNTIMES.tvisor.bin}' --strace --log '${log}' "$@"\n`, { mode: 0o755 });
    const r = runUnder('tvisor', program, args, {
      bin: wrapper,
      editSpec: (spec) => { spec.annotations = { ...spec.annotations, 'dev.tvisor.vdso-clock': vdsoClock }; },
    });
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    // The trace is real: the program's own writes are in it.
    expect(lines.some((l) => / write\(1, /.test(l))).toBe(true);
    return { stdout: r.stdout, status: r.status, trapped: lines.filter((l) => / clock_gettime\(/.test(l)).length };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('vdso: a Go program finds it', () => {
  test('runsc --version (Go) prints what it prints natively, its clock reads trapping only when the vDSO is told to', () => {
    const runsc = RUNTIMES.runsc.bin;
    if (!fs.existsSync(runsc)) throw new Error(`${runsc} is missing (apt-get install runsc): it is the Go program run here`);
    const native = spawnSync(runsc, ['--version'], { encoding: 'utf8' });
    const fallback = tracedRun(runsc, ['--version'], 'syscall');
    const vdso = tracedRun(runsc, ['--version'], 'tsc');
    expect({ stdout: vdso.stdout, status: vdso.status }).toEqual({ stdout: native.stdout, status: 0 });
    expect({ stdout: fallback.stdout, status: fallback.status }).toEqual({ stdout: native.stdout, status: 0 });
    // Go's runtime reads CLOCK_MONOTONIC at start: through the vDSO when it found it.
    expect(fallback.trapped).toBeGreaterThan(0);
    expect(vdso.trapped).toBe(0);
  });
});

describe('vdso: clock_gettime does not trap', () => {
  test('10,000 clock_gettime calls under tvisor reach the sentry fewer than 100 times (--strace); every one with the fallback', () => {
    const vdso = tracedRun('vdso', ['loop', '10000'], 'tsc');
    expect({ stdout: vdso.stdout, status: vdso.status }).toEqual({ stdout: 'looped 10000 times\n', status: 0 });
    expect(vdso.trapped).toBeLessThan(100);
    const fallback = tracedRun('vdso', ['loop', '10000'], 'syscall');
    expect({ stdout: fallback.stdout, status: fallback.status }).toEqual({ stdout: 'looped 10000 times\n', status: 0 });
    expect(fallback.trapped).toBeGreaterThanOrEqual(10000);
  });
});
