/**
 * The KVM platform runs application code at CPL 3 of a virtual machine whose only
 * supervisor code is the trampoline (native/kvm/vm.h): an application must not get out of
 * user mode, nor reach the trampoline's pages. Program: spec-tests/security/programs/
 * kvm-escape.c, each attempt in a child of its own, run natively (where the same
 * instructions and kernel addresses fault) and under tvisor with `--platform kvm`,
 * whatever TVISOR_PLATFORM says. Needs a usable /dev/kvm: fails loudly without one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programSkipReason, runNative, runtimeSkipReason, runUnder, tvisorOnPlatform, type RunResult } from '../behaviour/runner';
import { KvmPlatform } from '../../platform/kvm/kvm';
import { MemoryFile } from '../../platform/memfile/memory-file';

/** kvmUnavailable says why this host's /dev/kvm cannot run the platform, if it cannot. */
function kvmUnavailable(): string | undefined {
  const mf = MemoryFile.create({ name: 'tvisor-kvm-security-check' });
  try {
    KvmPlatform.open(mf).release();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    mf.close();
  }
}

const missing = [runtimeSkipReason('tvisor'), programSkipReason('kvm-escape'), kvmUnavailable()].filter(Boolean);
if (missing.length) throw new Error(`kvm security tests cannot run: ${missing.join('; ')}`);

const SIGILL = 4, SIGSEGV = 11;

function underKvm(program: string): RunResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-security-'));
  try {
    return runUnder('tvisor', program, [], { bin: tvisorOnPlatform('kvm', dir), timeoutMs: 120_000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** outcomes parses "what: signal N" / "what: exit N" lines. */
function outcomes(r: RunResult): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of r.stdout.trim().split('\n')) {
    const x = /^(.+): (signal \d+|exit \d+|yes|no)$/.exec(line);
    if (x) m.set(x[1], x[2]);
  }
  return m;
}

describe('kvm: application code against the virtual machine', () => {
  test('privileged instructions and the trampoline\'s pages fault as the kernel\'s do natively; int 0x80 and sysenter end in a signal; the parent runs on', () => {
    const native = runNative('kvm-escape');
    expect(native.status).toBe(0);
    const t = underKvm('kvm-escape');
    expect({ status: t.status, stderr: t.stderr, timedOut: t.timedOut }).toEqual({ status: 0, stderr: '', timedOut: false });
    const n = outcomes(native), k = outcomes(t);
    expect([...k.keys()]).toEqual([...n.keys()]);
    const compared = [...n.keys()].filter((w) => w !== 'int 0x80' && w !== 'sysenter' && w !== 'parent\'s syscalls answer');
    expect(compared.length).toBe(17);
    // Natively each is SIGSEGV (privileged at CPL 3, or a kernel address); the same under kvm.
    for (const w of compared) expect({ w, how: k.get(w) }).toEqual({ w, how: n.get(w) });
    for (const w of compared) expect({ w, how: n.get(w) }).toEqual({ w, how: `signal ${SIGSEGV}` });
    // Natively int 0x80 is the 32-bit syscall entry; no 32-bit ABI here: a signal, never a host call.
    for (const w of ['int 0x80', 'sysenter']) expect([`signal ${SIGSEGV}`, `signal ${SIGILL}`]).toContain(k.get(w));
    expect(k.get('parent\'s syscalls answer')).toBe('yes');
  });
});
