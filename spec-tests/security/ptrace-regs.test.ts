/**
 * ptrace cannot hand a tracee a way out: the registers a tracer sets (SETREGS) go through
 * the checks rt_sigreturn applies (sentry/syscalls/linux/handlers/ptrace.ts), and whatever
 * a tracee then runs ends only that tracee. programs/ptrace-regs.c sets hostile registers
 * case by case and continues the tracee, natively and under tvisor on both platforms
 * (ptrace and systrap, whatever TVISOR_PLATFORM says). A write to the vDSO through
 * /proc/self/mem is refused: it is one object shared by every process of the sandbox.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programSkipReason, runNative, runtimeSkipReason, runUnder, tvisorOnPlatform, type RunResult } from '../behaviour/runner';

const missing = [runtimeSkipReason('tvisor'), programSkipReason('ptrace-regs')].filter(Boolean);
if (missing.length) throw new Error(`ptrace security tests cannot run: ${missing.join('; ')}`);

/** underPlatform runs ptrace-regs under tvisor on `platform`. */
function underPlatform(platform: string): RunResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptrace-regs-'));
  try {
    return runUnder('tvisor', 'ptrace-regs', [], { bin: tvisorOnPlatform(platform, dir), timeoutMs: 120_000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const TAIL = ["parent's syscalls answer: yes", 'a new process runs: yes'];
/** VDSO is the program's last two lines under tvisor: the vDSO, one object shared by every
 * process, is never written through /proc/self/mem (Linux writes the process's own copy). */
const VDSO = ['vdso write: refused', 'a new process reads the clock: yes'];
const CASE = /^case (.+): setregs (0|EIO|other), (signal|exit) (\d+)$/;

/** cases parses the per-case lines into name -> [setregs answer, how, number]. */
function cases(r: RunResult): Map<string, [string, string, number]> {
  const lines = r.stdout.trim().split('\n').slice(0, -2); // the vDSO lines: checked apart
  expect(lines.slice(-2)).toEqual(TAIL);
  return new Map(lines.slice(0, -2).map((l) => {
    const m = CASE.exec(l);
    if (!m) throw new Error(`ptrace-regs: unexpected line ${JSON.stringify(l)}`);
    return [m[1], [m[2], m[3], Number(m[4])]];
  }));
}

const SIGABRT = 6, SIGTRAP = 5, SIGKILL = 9, SIGSEGV = 11;

/**
 * EXPECTED is each case's outcome under tvisor: SETREGS's answer, how the tracee ended and
 * the signals allowed. Where Linux takes a register tvisor refuses (a 32-bit code segment,
 * a rip past the user address limit: Linux's tracee then dies of SIGSEGV), tvisor answers
 * EIO and the tracee goes on to exit 0. The stub's pages lie below that limit, as they do
 * for arch_prctl(ARCH_SET_FS) and a jump (spec-tests/security/systrap.test.ts): a rip there
 * ends the process (SIGSEGV; systrap's filter SIGKILL), and an fs_base there reads the
 * stub's bytes where the stack canary was (glibc's stack protector aborts: SIGABRT, and
 * says so on stderr) or faults.
 */
const EXPECTED: Record<string, [string, string, number[]]> = {
  'kernel cs': ['EIO', 'exit', [0]],
  '32-bit cs': ['EIO', 'exit', [0]],
  'kernel ss': ['EIO', 'exit', [0]],
  'non-canonical rip': ['EIO', 'exit', [0]],
  'kernel rip': ['EIO', 'exit', [0]],
  'rip on the stub': ['0', 'signal', [SIGSEGV, SIGKILL]],
  'trap flag': ['0', 'signal', [SIGTRAP]],
  'iopl 3 and nt': ['0', 'exit', [0]],
  'kernel fs_base': ['EIO', 'exit', [0]],
  'fs_base on the stub': ['0', 'signal', [SIGABRT, SIGSEGV]],
  'gs_base on the stub': ['0', 'exit', [0]],
};

describe('ptrace: registers a tracer sets do not let the tracee out', () => {
  test('natively, as Linux answers', () => {
    const r = runNative('ptrace-regs');
    expect(r.status).toBe(0);
    const got = cases(r);
    expect(got.get('kernel cs')).toEqual(['EIO', 'exit', 0]);
    expect(got.get('trap flag')).toEqual(['0', 'signal', SIGTRAP]);
    expect(got.get('rip on the stub')).toEqual(['0', 'signal', SIGSEGV]);
    expect([...got.keys()]).toEqual(Object.keys(EXPECTED));
    expect(r.stdout.trim().split('\n').slice(-2)).toEqual(['vdso write: written', 'a new process reads the clock: yes']);
  });

  test.each(['ptrace', 'systrap'])('under tvisor on %s: refused or ended by a signal, the tracer unharmed', (platform) => {
    const r = underPlatform(platform);
    const stderr = r.stderr.replace('*** stack smashing detected ***: terminated\n', '');
    expect({ status: r.status, stderr, timedOut: r.timedOut }).toEqual({ status: 0, stderr: '', timedOut: false });
    const got = cases(r);
    expect(r.stdout.trim().split('\n').slice(-2)).toEqual(VDSO);
    expect([...got.keys()]).toEqual(Object.keys(EXPECTED));
    for (const [name, [answer, how, allowed]] of Object.entries(EXPECTED)) {
      const [gotAnswer, gotHow, n] = got.get(name)!;
      expect({ name, answer: gotAnswer, how: gotHow, allowed: allowed.includes(n) ? 'yes' : n }).toEqual({ name, answer, how, allowed: 'yes' });
    }
  });
});
