// Behaviour tests of the ptrace platform on real stub processes, running the freestanding
// programs of platform/testing/programs (built by `make`): the tests every backend passes
// (platform/testing/suite.ts), then the ptrace backend's own.
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { getFpState, nativeUnavailable, waitThread } from '../../native/ptrace/ptrace-native';
import { libcFunc } from '../../native/libc';
import { copyIn, getPlatform, MemoryFile } from '../index';
import { mapStack } from '../testing/elf-loader';
import { missingTestPrograms } from '../testing/run';
import { translatorOf } from '../testing/translate';
import { alive, buildWorker, hostMappings, PROGRAMS, runWorker, sharedPlatformTests, stubBatchTests, STACK_TOP, TEST_SYS_REPORT, usePlatform } from '../testing/suite';
import { PtraceAddressSpace, type PtraceContext, type PtracePlatform } from './ptrace';
import { IDLE_MAX } from './stub-pool';

const missing = [nativeUnavailable(), ...missingTestPrograms(PROGRAMS).map((p) => `test program ${p} not built`)].filter(Boolean);
const d = missing.length ? describe.skip : describe;
if (missing.length) console.warn(`skipping ptrace platform tests: ${missing.join('; ')} (run make)`);

const SIGSYS = 31;

/** waitReset waits (up to 5 s) until the pool's one idle stub is emptied: a stub still being emptied is taken after a ready spare. */
function waitReset(p: PtracePlatform): void {
  for (let i = 0; i < 500 && p.idleStubsReady < 1; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  expect(p.idleStubsReady).toBe(1);
}

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
    expect(copyIn(f.mf, translatorOf(as), results, 8).readBigInt64LE(0)).toBe(-1n); // getpid never returned
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

  test('a spare stub is started once a second address space is made, used by the next, and none outlives the platform', () => {
    const mf = MemoryFile.create({ name: 'tvisor-test-spare' });
    const p = getPlatform('ptrace', mf) as PtracePlatform;
    const children = () => readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const before = new Set(children());
    try {
      const first = p.newAddressSpace();
      expect(p.hasSpare).toBe(false); // a sandbox that only ran its init holds none
      const second = p.newAddressSpace();
      expect(p.hasSpare).toBe(true);
      const spare = children().filter((c) => !before.has(c) && c !== first.pid && c !== second.pid);
      expect(spare).toHaveLength(1); // at most one
      // The scheduler's look after each stop takes the spare past its exec stop once it is there.
      expect(p.pendingWork).toBe(true);
      for (let i = 0; i < 500 && p.pendingWork; i++) {
        p.afterStop();
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
      expect(p.pendingWork).toBe(false);
      const third = p.newAddressSpace();
      expect(third.pid).toBe(spare[0]); // the next address space is the spare, finished
      expect(p.hasSpare).toBe(true); // and the one after it is started already
      // The spare runs as any stub: a batch of mappings and its memory read back.
      const r = mf.allocate(4096);
      mf.view(r.offset, 4096).fill(7);
      third.mapFiles([{ addr: 0x60000000, range: r, prot: 3 }, { addr: 0x60002000, range: r, prot: 3 }]);
      expect(hostMappings(third.pid, 0x60000000, 0x60003000)).toEqual([[0x60000000, r.offset], [0x60002000, r.offset]]);
      third.release();
      // A spare killed from outside: the next address space starts its own stub.
      const killed = children().filter((c) => !before.has(c) && c !== first.pid && c !== second.pid && c !== third.pid);
      expect(killed).toHaveLength(1);
      process.kill(killed[0], 'SIGKILL');
      const fourth = p.newAddressSpace();
      expect(fourth.pid).not.toBe(killed[0]);
      expect(alive(fourth.pid)).toBe(true);
    } finally {
      p.release();
      mf.close();
    }
    expect(children().filter((c) => !before.has(c) && alive(c))).toEqual([]);
  });

  test('a context released from an address space that is closing leaves its thread to the release, which gives it to the pool with the stub', () => {
    const p = f.platform as PtracePlatform;
    const { as, ctx, regs } = f.setup('syscall-loop');
    regs.rdi = 2n;
    expect(ctx.switch(as, regs)).toEqual({ kind: 'syscall' });
    const tid = ctx.threadOf(as)!.tid;
    as.closing();
    ctx.release();
    // No exit of its own: the thread is still there, stopped.
    expect(readFileSync(`/proc/${as.pid}/task/${tid}/stat`, 'utf8')).toMatch(/^\d+ \(.*\) t /);
    const drained: PtraceAddressSpace[] = [];
    while (p.idleStubs > 0) drained.push(p.newAddressSpace()); // earlier tests' stubs: out of the way
    as.release();
    expect(p.idleStubs).toBe(1);
    expect(alive(as.pid)).toBe(true);
    waitReset(p);
    // The next address space is that stub, and its first context gets that thread.
    const { as: next, ctx: nextCtx, regs: nextRegs } = f.setup('syscall-loop');
    expect(next.pid).toBe(as.pid);
    nextRegs.rdi = 2n;
    expect(nextCtx.switch(next, nextRegs)).toEqual({ kind: 'syscall' });
    expect(nextCtx.threadOf(next)!.tid).toBe(tid);
    nextCtx.release();
    for (const d of drained) d.release();
  });

  describe('the pool of released stubs', () => {
    const PAGE = 4096, OLD = 0x50000000;

    test("a reused stub maps nothing of its previous user's, its thread brings no FP state along, and its CPU clock starts where the last user's ended", () => {
      const p = f.platform as PtracePlatform;
      // Stubs earlier tests left in the pool are taken first (the oldest first): out of the way.
      const drained: PtraceAddressSpace[] = [];
      while (p.idleStubs > 0) drained.push(p.newAddressSpace());
      // The first user: a page of its own, and xmm0 set to a pattern by the FP program.
      const { as, ctx, regs } = f.setup('fp');
      const old = f.mf.allocate(PAGE);
      as.mapFile(OLD, old, 3);
      expect([as.isMapped(OLD, PAGE), as.isMapped(OLD, 2 * PAGE)]).toEqual([true, false]); // no MemoryFault to ask
      const PATTERN = 0x1122334455667788n;
      regs.rdi = PATTERN;
      const fp = p.newFpState();
      expect(ctx.switch(as, regs, fp)).toEqual({ kind: 'syscall' }); // TEST_SYS_ADD, xmm0 set
      const tid = ctx.threadOf(as)!.tid;
      as.closing();
      ctx.release();
      as.release();
      waitReset(p);
      // The task's live FP state was saved into its image before the thread left (XSAVE's xmm0 at 160).
      expect(fp.holder).toBeNull();
      expect(fp.data.readBigUInt64LE(160)).toBe(PATTERN);
      // The second: the same stub and thread, emptied before its first call and first run.
      const { as: next, ctx: nextCtx, regs: nextRegs } = f.setup('syscall-loop');
      expect(next.pid).toBe(as.pid);
      expect(hostMappings(next.pid, OLD, OLD + PAGE)).toEqual([]);
      expect(() => copyIn(f.mf, translatorOf(next), OLD, 1)).toThrow();
      expect(next.isMapped(OLD, PAGE)).toBe(false);
      nextRegs.rdi = 2n;
      expect(nextCtx.switch(next, nextRegs)).toEqual({ kind: 'syscall' }); // no FP state given: the initial one
      expect(nextCtx.threadOf(next)!.tid).toBe(tid);
      const image = Buffer.alloc(16384);
      getFpState(tid, image);
      expect(image.readBigUInt64LE(160)).toBe(0n);
      expect(nextCtx.cpuNs).toBeLessThan(1e9); // not the stub's whole life
      nextCtx.release();
      for (const d of drained) d.release();
    });

    test('a stub seen dead is not kept, and the pool keeps at most IDLE_MAX, killing the rest', () => {
      const mf = MemoryFile.create({ name: 'tvisor-test-pool' });
      const p = getPlatform('ptrace', mf) as PtracePlatform;
      try {
        const dead = p.newAddressSpace();
        process.kill(dead.pid, 'SIGKILL');
        expect(() => dead.mapFile(OLD, mf.allocate(PAGE), 3)).toThrow(/ESRCH/);
        dead.release();
        expect(p.idleStubs).toBe(0);
        const spaces = Array.from({ length: IDLE_MAX + 1 }, () => p.newAddressSpace());
        for (const as of spaces) as.release();
        expect(p.idleStubs).toBe(IDLE_MAX);
        // The one past the bound is killed (dying takes a moment).
        for (let i = 0; i < 200 && spaces.filter((as) => alive(as.pid)).length > IDLE_MAX; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        expect(spaces.filter((as) => alive(as.pid))).toHaveLength(IDLE_MAX);
        const kept = spaces.filter((as) => alive(as.pid)).map((as) => as.pid);
        p.release();
        expect(kept.filter(alive)).toEqual([]); // the platform's release kills and reaps them
      } finally {
        p.release();
        mf.close();
      }
    });
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
