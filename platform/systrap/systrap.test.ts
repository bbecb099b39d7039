// Behaviour tests of the systrap platform on real stub processes: the tests every backend
// passes (platform/testing/suite.ts), then the systrap backend's own.
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { nativeUnavailable } from '../../native/ptrace/ptrace-native';
import { systrapUnavailable } from '../../native/systrap/systrap-native';
import { missingTestPrograms } from '../testing/run';
import { PROGRAMS, sharedPlatformTests, usePlatform } from '../testing/suite';
import type { SystrapAddressSpace, SystrapContext } from './systrap';

const missing = [nativeUnavailable(), systrapUnavailable(), ...missingTestPrograms(PROGRAMS).map((p) => `test program ${p} not built`)].filter(Boolean);
// A missing prerequisite fails loudly: this backend is opt-in, but its tests are not.
if (missing.length) throw new Error(`systrap platform tests cannot run: ${missing.join('; ')} (run make)`);

/** tracerOf returns the TracerPid of thread tid of process pid. */
function tracerOf(pid: number, tid: number): number {
  return Number(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]);
}

describe('systrap platform', () => {
  const f = usePlatform<SystrapAddressSpace, SystrapContext>('systrap');

  test('the registry names systrap', () => {
    expect(f.platform.name).toBe('systrap');
  });

  sharedPlatformTests(f);

  test('an application thread runs untraced; only the control thread is traced', () => {
    const { as, ctx, regs } = f.setup('syscall-loop');
    regs.rdi = 2n;
    expect(ctx.switch(as, regs)).toEqual({ kind: 'syscall' });
    const t = ctx.threadOf(as)!;
    expect(tracerOf(as.pid, t.tid)).toBe(0);
    expect(tracerOf(as.pid, as.controlTid)).toBe(process.pid);
    ctx.release();
  });
});

void koffi;
