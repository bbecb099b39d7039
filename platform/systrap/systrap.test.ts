// Behaviour tests of the systrap platform on real stub processes: the tests every backend
// passes (platform/testing/suite.ts), then the systrap backend's own.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import koffi from 'koffi';
import { nativeUnavailable } from '../../native/ptrace/ptrace-native';
import { setPlacement, setStamps, stamps, systrapUnavailable } from '../../native/systrap/systrap-native';
import { missingTestPrograms, runTask } from '../testing/run';
import { PROGRAMS, sharedPlatformTests, stubBatchTests, usePlatform } from '../testing/suite';
import { BLK_NO_FSGSBASE, BLK_STUB_SPIN } from './layout';
import type { SystrapAddressSpace, SystrapContext } from './systrap';

const missing = [nativeUnavailable(), systrapUnavailable(), ...missingTestPrograms(PROGRAMS).map((p) => `test program ${p} not built`)].filter(Boolean);
// A missing prerequisite fails loudly: this backend is opt-in, but its tests are not.
if (missing.length) throw new Error(`systrap platform tests cannot run: ${missing.join('; ')} (run make)`);

/** cpusOf returns the Cpus_allowed_list of thread tid of process pid. */
function cpusOf(pid: number, tid = pid): string {
  return /^Cpus_allowed_list:\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1];
}

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

  describe('batched injection', () => stubBatchTests(f));

  test('an application thread runs untraced; only the control thread is traced', () => {
    const { as, ctx, regs } = f.setup('syscall-loop');
    regs.rdi = 2n;
    expect(ctx.switch(as, regs)).toEqual({ kind: 'syscall' });
    const t = ctx.threadOf(as)!;
    expect(tracerOf(as.pid, t.tid)).toBe(0);
    expect(tracerOf(as.pid, as.controlTid)).toBe(process.pid);
    ctx.release();
  });

  test('the host pid of an address space is its stub process, which `ps` reports', () => {
    const { as, ctx } = f.setup('syscall-loop');
    expect(as.hostPid).toBe(as.pid);
    expect(readFileSync(`/proc/${as.hostPid}/comm`, 'utf8')).toBe('tvisor-systrap\n');
    ctx.release();
  });

  test('pinned, the stub thread runs on the sentry thread\'s CPU; spread again, on any CPU the sentry may use', () => {
    const { as, ctx, regs } = f.setup('syscall-loop');
    regs.rdi = 4n;
    try {
      // Spread first: an earlier test's automatic placement may still hold the sentry
      // thread on one CPU (for up to 1000 round trips), and spreading releases it.
      setPlacement('spread');
      expect(ctx.switch(as, regs)).toEqual({ kind: 'syscall' });
      const all = cpusOf(process.pid);
      setPlacement('pinned');
      regs.setReturn(0);
      expect(ctx.switch(as, regs)).toEqual({ kind: 'syscall' });
      const t = ctx.threadOf(as)!;
      // The sentry is held on the CPU it pinned the stub to (until 1000 round trips).
      expect(cpusOf(as.pid, t.tid)).toMatch(/^\d+$/);
      expect(cpusOf(as.pid, t.tid)).toBe(cpusOf(process.pid, process.pid));
      setPlacement('spread');
      regs.setReturn(0);
      expect(ctx.switch(as, regs)).toEqual({ kind: 'syscall' });
      expect(cpusOf(as.pid, t.tid)).toBe(all);
      expect(cpusOf(process.pid, process.pid)).toBe(all);
    } finally {
      setPlacement('auto');
      ctx.release();
    }
  });

  test('by default the stub is pinned to the sentry\'s CPU while the machine has more runnable threads than CPUs', async () => {
    // One CPU-bound process more than there are CPUs: every sample of /proc/loadavg's
    // running count then shows more than the CPUs (and the spinning pair cannot both run).
    const hogs = Array.from({ length: availableParallelism() + 1 }, () => spawn('yes', { stdio: 'ignore' }));
    try {
      await new Promise((res) => setTimeout(res, 100));
      const { as, ctx, regs } = f.setup('syscall-loop');
      regs.rdi = 200n;
      setPlacement('auto');
      setStamps(true);
      try {
        expect(runTask(ctx, as, regs, (r) => r.arg(0) + r.arg(1))).toEqual({ kind: 'exit', code: 0, syscalls: 200 });
        const s = stamps();
        expect({ pinned: s.pinned, sentrySpun: s.sentrySpun, stubSpun: s.stubSpun }).toEqual({ pinned: s.count, sentrySpun: 0, stubSpun: 0 });
      } finally {
        setStamps(false);
        ctx.release();
      }
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
    }
  });

  test('while the sentry answers slowly, the stub is told not to spin for its answers', () => {
    // Each answer takes 2 ms (a sentry busy elsewhere, or a sandbox idling between
    // syscalls): far above the 20 us bounds, so the moving averages never allow a spin.
    const { as, ctx, regs } = f.setup('syscall-loop');
    regs.rdi = 30n;
    const told: bigint[] = [];
    setStamps(true);
    try {
      const out = runTask(ctx, as, regs, (r) => {
        const t = ctx.threadOf(as)!;
        told.push(t.view.readBigUInt64LE(BLK_STUB_SPIN));
        const until = process.hrtime.bigint() + 2_000_000n;
        while (process.hrtime.bigint() < until);
        return r.arg(0) + r.arg(1);
      });
      expect(out).toEqual({ kind: 'exit', code: 0, syscalls: 30 });
      const s = stamps();
      expect({ count: s.count, stubSpun: s.stubSpun }).toEqual({ count: 31, stubSpun: 0 }); // 30 additions and the exit
      // What the stub read at each event was set by the answer before it: never a spin.
      expect(told.slice(1).filter((n) => n !== 0n)).toEqual([]);
    } finally {
      setStamps(false);
      ctx.release();
    }
  });
});

// Hosts without FSGSBASE (the stub keeps fs/gs bases itself and loads them with
// arch_prctl): the whole shared suite again on that path, whatever this host offers.
describe('systrap platform, fs/gs bases through arch_prctl', () => {
  const saved = process.env.TVISOR_SYSTRAP_NO_FSGSBASE;
  beforeAll(() => { process.env.TVISOR_SYSTRAP_NO_FSGSBASE = '1'; });
  afterAll(() => {
    if (saved === undefined) delete process.env.TVISOR_SYSTRAP_NO_FSGSBASE;
    else process.env.TVISOR_SYSTRAP_NO_FSGSBASE = saved;
  });
  const f = usePlatform<SystrapAddressSpace, SystrapContext>('systrap');

  test('new threads are told to keep their bases', () => {
    const { as, ctx, regs } = f.setup('syscall-loop');
    regs.rdi = 1n;
    const told: number[] = [];
    runTask(ctx, as, regs, (r) => {
      told.push(ctx.threadOf(as)!.view.readUInt32LE(BLK_NO_FSGSBASE));
      return r.arg(0) + r.arg(1);
    });
    expect(told).toEqual([1]);
    ctx.release();
  });

  sharedPlatformTests(f);
});

void koffi;
