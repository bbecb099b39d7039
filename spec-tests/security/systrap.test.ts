/**
 * The systrap platform's shared blocks and stub code sit in every application process's
 * host address space, above the addresses the application may map. An application can
 * write its blocks and jump to the stub's syscall instructions; neither may reach beyond
 * its own process (platform/README.md, systrap: the allowed syscalls and why each is
 * harmless). Programs: spec-tests/security/programs/systrap-{corrupt,gadgets}.c, run
 * natively (where nothing is mapped there: every store and jump faults) and under tvisor
 * with `--platform systrap`, whatever TVISOR_PLATFORM says.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programSkipReason, runNative, runtimeSkipReason, runUnder, tvisorOnPlatform, type RunResult } from '../behaviour/runner';
import { systrapUnavailable } from '../../native/systrap/systrap-native';

const missing = [runtimeSkipReason('tvisor'), systrapUnavailable(), programSkipReason('systrap-corrupt'), programSkipReason('systrap-gadgets')].filter(Boolean);
if (missing.length) throw new Error(`systrap security tests cannot run: ${missing.join('; ')}`);

const SIGKILL = 9, SIGSEGV = 11;
const STUB = 0x7fffff000000;
const INJECT_SITE = STUB + 0x200;

/** underSystrap runs a program under tvisor on the systrap platform. */
function underSystrap(program: string): RunResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'systrap-security-'));
  try {
    return runUnder('tvisor', program, [], { bin: tvisorOnPlatform('systrap', dir), timeoutMs: 120_000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('systrap: an application against its own shared blocks and stub', () => {
  test('a thread writing garbage over its process\'s blocks ends only that process', () => {
    const native = runNative('systrap-corrupt');
    const lines = [
      'parent\'s syscalls answer while the child corrupts: yes',
      'child ended by a signal: yes',
      'parent\'s syscalls answer after: yes',
      'a new process runs: yes',
      '',
    ].join('\n');
    expect({ stdout: native.stdout, status: native.status }).toEqual({ stdout: lines, status: 0 });
    const t = underSystrap('systrap-corrupt');
    expect({ stdout: t.stdout, stderr: t.stderr, status: t.status, timedOut: t.timedOut }).toEqual({ stdout: lines, stderr: '', status: 0, timedOut: false });
  });

  test('a jump to each of the stub\'s syscall instructions, with hostile registers, ends only the process that jumped', () => {
    const parse = (r: RunResult) => r.stdout.trim().split('\n').map((l) => /^site (0x[0-9a-f]+) nr (\d+): (signal|exit) (\d+)$/.exec(l));
    const native = runNative('systrap-gadgets');
    expect(native.status).toBe(0);
    const nativeLines = parse(native);
    expect(nativeLines.pop()).toBeNull(); // the last line is the parent's
    expect(native.stdout.trim().split('\n').pop()).toBe('parent\'s syscalls answer: yes');
    // Natively nothing is mapped there: every jump faults.
    for (const m of nativeLines) expect(m && [m[3], Number(m[4])]).toEqual(['signal', SIGSEGV]);

    const t = underSystrap('systrap-gadgets');
    expect({ status: t.status, stderr: t.stderr, timedOut: t.timedOut }).toEqual({ status: 0, stderr: '', timedOut: false });
    expect(t.stdout.trim().split('\n').pop()).toBe('parent\'s syscalls answer: yes');
    const lines = parse(t);
    lines.pop();
    expect(lines.length).toBe(nativeLines.length);
    for (const m of lines) {
      expect(m).not.toBeNull();
      const [site, nr, how, sig] = [Number(m![1]), Number(m![2]), m![3], Number(m![4])];
      // Every attempt ends its own process by a signal: never a syscall that returned to it.
      expect({ site, nr, how }).toEqual({ site, nr, how: 'signal' });
      // From the inject gadget, an application thread's filter kills the process whatever
      // the call (mmap of the memory file, clone... never run for it).
      if (site === INJECT_SITE) expect({ site, nr, sig }).toEqual({ site, nr, sig: SIGKILL });
      else expect([SIGKILL, SIGSEGV]).toContain(sig);
    }
  });
});
