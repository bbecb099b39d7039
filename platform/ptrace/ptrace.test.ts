// Behaviour tests of the ptrace platform on real stub processes, running the freestanding
// programs of platform/testing/programs (built by `make`): the tests every backend passes
// (platform/testing/suite.ts), then the ptrace backend's own.
import koffi from 'koffi';
import { nativeUnavailable, waitThread } from '../../native/ptrace/ptrace-native';
import { libcFunc } from '../../native/libc';
import { copyIn, getPlatform } from '../index';
import { mapStack } from '../testing/elf-loader';
import { missingTestPrograms } from '../testing/run';
import { buildWorker, hostMappings, PROGRAMS, runWorker, sharedPlatformTests, stubBatchTests, STACK_TOP, TEST_SYS_REPORT, usePlatform } from '../testing/suite';
import { PtraceAddressSpace, type PtraceContext } from './ptrace';

const missing = [nativeUnavailable(), ...missingTestPrograms(PROGRAMS).map((p) => `test program ${p} not built`)].filter(Boolean);
const d = missing.length ? describe.skip : describe;
if (missing.length) console.warn(`skipping ptrace platform tests: ${missing.join('; ')} (run make)`);

const SIGSYS = 31;

d('ptrace platform', () => {
  const f = usePlatform<PtraceAddressSpace, PtraceContext>('ptrace');

  test('the registry names ptrace and rejects unknown platforms', () => {
    expect(f.platform.name).toBe('ptrace');
    expect(() => getPlatform('nope', f.mf)).toThrow(/platform "nope" does not exist \(known: .*ptrace/);
  });

  sharedPlatformTests(f);

  describe('batched injection', () => stubBatchTests(f));

  test('a stub resumed so that it would run a syscall itself is killed by seccomp', () => {
    const { as, ctx, image, regs } = f.setup('escape');
    expect(ctx.switch(as, regs)).toEqual({ kind: 'syscall' });
    expect(regs.sysno).toBe(TEST_SYS_REPORT);
    const tid = ctx.threadOf(as)!.tid;
    // Resume without SYSEMU: the next syscall (getpid) goes to the host's seccomp filter.
    const ptrace = libcFunc('long ptrace(int request, int pid, void *addr, void *data)');
    expect(ptrace(7 /* PTRACE_CONT */, tid, null, null)).toBe(0);
    const status = waitThread(tid, false)!;
    expect({ signaled: (status & 0x7f) !== 0 && (status & 0xff) !== 0x7f, signal: status & 0x7f }).toEqual({ signaled: true, signal: SIGSYS });
    const results = image.symbols.get('results')!;
    expect(copyIn(f.mf, as, results, 8).readBigInt64LE(0)).toBe(-1n); // getpid never returned
    ctx.release();
  });

  test("the systrap stub's control thread runs batches as the ptrace stub's does (no FSGSBASE needed)", () => {
    // systrap.test.ts needs HWCAP2_FSGSBASE for application threads; the control thread's
    // batch (the same gadget, the same addon call) is checked here on any host.
    const as = PtraceAddressSpace.spawn(f.mf, 'tvisor-systrap-stub');
    try {
      const BASE = 0x50000000, PAGE = 4096;
      const pages = [f.mf.allocate(PAGE), f.mf.allocate(PAGE), f.mf.allocate(PAGE)].reverse();
      as.mapFiles(pages.map((range, i) => ({ addr: BASE + i * PAGE, range, prot: 3 })));
      expect(hostMappings(as.pid, BASE, BASE + 3 * PAGE)).toEqual(pages.map((r, i) => [BASE + i * PAGE, r.offset]));
      expect(() => as.injectBatch([[11, [BASE, PAGE]], [11, [BASE + 1, PAGE]], [11, [BASE + PAGE, PAGE]]])).toThrow(/syscall 11: EINVAL/);
      expect(hostMappings(as.pid, BASE, BASE + 3 * PAGE)).toEqual([[BASE + PAGE, pages[1].offset], [BASE + 2 * PAGE, pages[2].offset]]);
    } finally {
      as.release();
    }
  });

  describe('with worker threads', () => {
    beforeAll(buildWorker);

    test('two application threads trap concurrently on two workers', async () => {
      const { as, image } = f.setup('syscall-loop');
      const tops = [STACK_TOP - 0x200000, STACK_TOP - 0x400000];
      for (const top of tops) mapStack(f.mf, as, top);
      const progress = new Int32Array(new SharedArrayBuffer(8));
      const iterations = 2000;
      const results = await Promise.all(tops.map((stackTop, index) =>
        runWorker({ role: 'loop', ticket: as.share(), entry: image.entry, stackTop, iterations, progress, index })));
      for (const r of results) {
        expect(r.outcome).toEqual({ code: 0, syscalls: iterations });
        expect(r.lockstepFailures).toBe(0);
      }
      expect([...progress]).toEqual([iterations, iterations]);
    });
  });
});

// koffi is imported so that jest loads it once for the whole file (the native module
// cannot be loaded twice in one process).
void koffi;
