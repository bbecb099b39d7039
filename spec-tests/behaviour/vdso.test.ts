/**
 * The vDSO and address-space randomization, compared between a native run and runc,
 * runsc and tvisor (see compare.ts): vdso.c finds the vDSO's clock_gettime in its
 * dynamic symbols and checks that the clocks read through it agree with the syscalls
 * and never go back; aslr.c re-executes itself and checks which addresses move between
 * runs, and that none does under personality(ADDR_NO_RANDOMIZE). Then, under tvisor
 * alone: vdso.c again with the vDSO told to trap every call (its fallback), and 10,000 clock_gettime calls through glibc reach the sentry (--strace) fewer than
 * 100 times, where every one of them trapped before the vDSO.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeProgram, expectLines } from './compare';
import { programBinary, RUNTIMES, runNative, runUnder } from './runner';

describeProgram({
  program: 'vdso',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'AT_SYSINFO_EHDR set: yes',
      'image is an ELF shared object: yes',
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

describe('vdso: clock_gettime does not trap', () => {
  test('10,000 clock_gettime calls under tvisor reach the sentry fewer than 100 times (--strace)', () => {
    const tvisor = RUNTIMES.tvisor.bin;
    if (process.getuid?.() !== 0) throw new Error('this test needs root (tvisor do)');
    if (!fs.existsSync(tvisor)) throw new Error(`${tvisor} is missing (run make)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vdso-strace-'));
    try {
      const log = path.join(dir, 'strace.log');
      const r = spawnSync(tvisor, ['--root', path.join(dir, 'root'), '--strace', '--log', log, 'do', programBinary('vdso'), 'loop', '10000'],
        { encoding: 'utf8', timeout: 60_000, cwd: '/' });
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: 'looped 10000 times\n' });
      const lines = fs.readFileSync(log, 'utf8').split('\n');
      // The trace is real: the program's own write is in it.
      expect(lines.some((l) => / write\(1, /.test(l))).toBe(true);
      const trapped = lines.filter((l) => / clock_gettime\(/.test(l)).length;
      expect(trapped).toBeLessThan(100);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
