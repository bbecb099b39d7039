/**
 * suite holds the platform tests every backend must pass (run by platform/ptrace/ptrace.test.ts,
 * platform/systrap/systrap.test.ts on real stub processes and platform/kvm/kvm.test.ts, with the freestanding
 * programs of programs/): usePlatform sets up a backend for the enclosing describe, and
 * sharedPlatformTests registers the tests. Backend-specific tests stay in each test file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import { copyIn, copyOut, getPlatform, MemoryFile, Registers, type AddressSpace, type Context, type Platform } from '../index';
import { loadStaticElf, mapStack, type LoadedImage } from './elf-loader';
import { runTask, testProgram, TEST_PROGRAM_DIR } from './run';
import { translatorOf, type Listing } from './translate';

/** PROGRAMS are the test programs the shared tests run. */
export const PROGRAMS = ['syscall-loop', 'write', 'faults', 'escape', 'fp', 'tls'];
/** STACK_TOP is where the tests map a task's stack. */
export const STACK_TOP = 0x7ff000000000;
/** Numbers of the test-only syscalls (programs/sys.h). */
export const TEST_SYS_ADD = 1000, TEST_SYS_REPORT = 1001;
const SIGTRAP = 5, SIGILL = 4, SIGFPE = 8, SIGSEGV = 11, SIGKILL = 9, SIGUSR2 = 12, SIGVTALRM = 26;

/** alive tells whether host process pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** A test address space: any backend's, with its stub's pid when it has a stub process (not kvm). */
export type TestSpace = AddressSpace & Listing & { readonly pid?: number };

/** Task is what setup returns: a loaded program ready to switch into. */
export interface Task<A extends TestSpace, C extends Context> {
  as: A;
  ctx: C;
  image: LoadedImage;
  regs: Registers;
}

/** PlatformFixture is one backend over one memory file, for the tests of a describe. */
export interface PlatformFixture<A extends TestSpace = TestSpace, C extends Context = Context> {
  readonly mf: MemoryFile;
  readonly platform: Platform;
  /** setup starts an address space with `program` and a stack, and a context. */
  setup(program: string, stackTop?: number): Task<A, C>;
  readonly options: PlatformTestOptions<A>;
}

/** PlatformTestOptions says how a backend differs where the shared tests must know it. */
export interface PlatformTestOptions<A extends TestSpace = TestSpace> {
  /** kill ends an address space from outside (default: SIGKILL to its stub process). */
  kill?(as: A): void;
  /** exactAccess: faults report read/write/execute from the hardware (kvm), not `unknown` for loads (ptrace). */
  exactAccess?: boolean;
}

/** usePlatform creates backend `name` before the enclosing describe's tests and checks after them that no stub outlives it. */
export function usePlatform<A extends TestSpace, C extends Context>(name: string, options: PlatformTestOptions<A> = {}): PlatformFixture<A, C> {
  const spaces: A[] = [];
  const f = {
    options,
    mf: undefined as unknown as MemoryFile,
    platform: undefined as unknown as Platform,
    setup(program: string, stackTop = STACK_TOP): Task<A, C> {
      const as = f.platform.newAddressSpace() as A;
      spaces.push(as);
      const image = loadStaticElf(f.mf, as, testProgram(program));
      mapStack(f.mf, as, stackTop);
      const ctx = f.platform.newContext() as C;
      return { as, ctx, image, regs: Registers.forEntry(image.entry, BigInt(stackTop)) };
    },
  };
  beforeAll(() => {
    f.mf = MemoryFile.create({ name: `tvisor-test-${name}` });
    f.platform = getPlatform(name, f.mf);
  });
  afterAll(() => {
    for (const as of spaces) as.release();
    f.platform?.release();
    f.mf?.close();
    for (const as of spaces) if (as.pid !== undefined) expect(alive(as.pid)).toBe(false);
  });
  return f;
}

/** WORKER_JS is the bundled worker side of the tests (testing/worker.ts). */
export const WORKER_JS = path.join(TEST_PROGRAM_DIR, 'worker.js');

/** buildWorker bundles testing/worker.ts for the worker tests. */
export function buildWorker(): void {
  buildSync({ entryPoints: [path.resolve(__dirname, 'worker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: WORKER_JS, external: ['koffi', '*.node'], logLevel: 'error' });
}

/** runWorker runs the bundled worker with `data` and resolves with its last message. */
export function runWorker(data: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_JS, { workerData: data });
    let msg: unknown;
    w.on('message', (m) => (msg = m));
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve(msg) : reject(new Error(`worker exited with ${code}`))));
  });
}

/** sharedPlatformTests registers the tests every backend passes, on fixture `f`. */
export function sharedPlatformTests(f: PlatformFixture<TestSpace, Context & { handle: Int32Array }>): void {
  test('a loop of syscalls gets every result back in rax', () => {
    const { as, ctx, regs } = f.setup('syscall-loop');
    regs.rdi = 1000n;
    const seen: number[] = [];
    const out = runTask(ctx, as, regs, (r) => {
      seen.push(r.sysno);
      return r.arg(0) + r.arg(1);
    });
    expect(out).toEqual({ kind: 'exit', code: 0, syscalls: 1000 });
    expect(new Set(seen)).toEqual(new Set([TEST_SYS_ADD]));
    ctx.release();
  });

  test('a write is served from application memory read through the memory file', () => {
    const { as, ctx, regs } = f.setup('write');
    const written: string[] = [];
    const out = runTask(ctx, as, regs, (r) => {
      if (r.sysno !== 1) return undefined;
      written.push(copyIn(f.mf, translatorOf(as), r.argNumber(1), r.argNumber(2)).toString());
      return r.arg(2);
    });
    expect(out.kind).toBe('exit');
    expect(out.kind === 'exit' && out.code).toBe(0);
    expect(written).toEqual(['hello from application memory\n']);
    ctx.release();
  });

  describe('faults', () => {
    let env: Task<TestSpace, Context>;
    beforeAll(() => {
      env = f.setup('faults');
    });
    afterAll(() => env.ctx.release());

    function fault(mode: number) {
      const regs = Registers.forEntry(env.image.entry, BigInt(STACK_TOP));
      regs.rdi = BigInt(mode);
      const out = runTask(env.ctx, env.as, regs, () => undefined);
      if (out.kind !== 'event' || out.event.kind !== 'fault') throw new Error(`mode ${mode}: no fault: ${JSON.stringify(out, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
      return { ...out.event, rip: regs.rip };
    }

    test('a load from an unmapped address reports SIGSEGV with that address', () => {
      expect(fault(1)).toMatchObject({ signal: SIGSEGV, code: 1, address: 0xdead000n, access: f.options.exactAccess ? 'read' : 'unknown' });
    });

    test('a store to a read-only page reports SIGSEGV (SEGV_ACCERR) at the page', () => {
      const ro = env.image.symbols.get('ro');
      expect(ro).toBeDefined();
      expect(fault(5)).toMatchObject({ signal: SIGSEGV, code: 2, address: BigInt(ro!), ...(f.options.exactAccess ? { access: 'write' } : {}) });
    });

    test('a jump to an unmapped address reports an execute fault', () => {
      expect(fault(6)).toMatchObject({ signal: SIGSEGV, address: 0xbad000n, access: 'execute', rip: 0xbad000n });
    });

    test('int3, ud2 and a division by zero report SIGTRAP, SIGILL and SIGFPE', () => {
      expect(fault(2).signal).toBe(SIGTRAP);
      const ill = fault(3);
      expect(ill).toMatchObject({ signal: SIGILL, address: ill.rip });
      const fpe = fault(4);
      expect(fpe).toMatchObject({ signal: SIGFPE, address: fpe.rip });
    });

    test('unmapping code makes the next instruction fault', () => {
      const regs = Registers.forEntry(env.image.entry, BigInt(STACK_TOP));
      const page = Number(env.image.entry) & ~0xfff;
      env.as.unmap(page, 4096);
      // Through runTask: the end of a time slice may come first (seen on KVM under TCG).
      expect(runTask(env.ctx, env.as, regs, () => undefined)).toMatchObject({ kind: 'event', event: { kind: 'fault', signal: SIGSEGV, address: env.image.entry, access: 'execute' }, syscalls: 0 });
      expect(() => translatorOf(env.as).translate(page, 1, 1)).toThrow(/application address 0x[0-9a-f]+ is not readable/);
    });
  });

  test('FP state is saved and restored per task sharing one stub thread', () => {
    const { as, ctx, image } = f.setup('fp');
    mapStack(f.mf, as, STACK_TOP - 0x100000);
    const tasks = [0x1111n, 0x2222n].map((v, i) => {
      const regs = Registers.forEntry(image.entry, BigInt(STACK_TOP - i * 0x100000));
      regs.rdi = v;
      return { regs, fp: f.platform.newFpState(), value: v, reports: [] as bigint[] };
    });
    // Interleave the two tasks on one context: each stop hands the stub thread to the other.
    for (let step = 0; step < 8; step++) {
      for (const t of tasks) {
        const r = ctx.switch(as, t.regs, t.fp);
        if (r.kind !== 'syscall') continue;
        if (t.regs.sysno === TEST_SYS_REPORT) t.reports.push(t.regs.arg(0));
        t.regs.setReturn(0);
      }
    }
    for (const t of tasks) expect(t.reports).toEqual([t.value, t.value, t.value]);
    // The image read back holds the task's xmm0 (legacy area offset 160).
    expect(tasks[1].fp.read().readBigUInt64LE(160)).toBe(0x2222n);
    ctx.release();
  });

  test('fs and gs bases are kept per task sharing one stub thread', () => {
    const { as, ctx, image } = f.setup('tls');
    mapStack(f.mf, as, STACK_TOP - 0x100000);
    // Each task's fs and gs bases point at words of its own stack that hold its values.
    const tasks = [0n, 1n].map((i) => {
      const top = BigInt(STACK_TOP) - i * 0x100000n;
      const regs = Registers.forEntry(image.entry, top);
      const fsWord = top - 0x800n, gsWord = top - 0x900n;
      const values = [0x5151n + i, 0x6262n + i];
      const buf = Buffer.alloc(8);
      buf.writeBigUInt64LE(values[0]);
      copyOut(f.mf, translatorOf(as), Number(fsWord), buf);
      buf.writeBigUInt64LE(values[1]);
      copyOut(f.mf, translatorOf(as), Number(gsWord), buf);
      regs.fsBase = fsWord;
      regs.gsBase = gsWord;
      return { regs, fp: f.platform.newFpState(), values, reports: [] as bigint[] };
    });
    for (let step = 0; step < 14; step++) {
      for (const t of tasks) {
        const r = ctx.switch(as, t.regs, t.fp);
        if (r.kind !== 'syscall') continue;
        if (t.regs.sysno === TEST_SYS_REPORT) t.reports.push(t.regs.arg(0));
        t.regs.setReturn(0);
      }
    }
    for (const t of tasks) expect(t.reports).toEqual([...t.values, ...t.values, ...t.values]);
    // The bases read back after the stops are the ones set.
    expect(tasks.map((t) => [t.regs.fsBase, t.regs.gsBase])).toEqual(tasks.map((_, i) => [BigInt(STACK_TOP) - BigInt(i) * 0x100000n - 0x800n, BigInt(STACK_TOP) - BigInt(i) * 0x100000n - 0x900n]));
    ctx.release();
  });

  test('application syscalls never reach the host', () => {
    const { as, ctx, image, regs } = f.setup('escape');
    const before = f.mf.readBytes(0, 16);
    const seen: number[] = [];
    let results = 0;
    const out = runTask(ctx, as, regs, (r) => {
      seen.push(r.sysno);
      if (r.sysno === TEST_SYS_REPORT) results = r.argNumber(0);
      return r.sysno === 39 ? 4242 : undefined; // getpid answered by "the sentry"
    });
    expect(out).toMatchObject({ kind: 'exit', code: 0 });
    expect(seen).toEqual([TEST_SYS_REPORT, 39, 18, 1]);
    expect(results).toBe(image.symbols.get('results'));
    const r = copyIn(f.mf, translatorOf(as), results, 32);
    expect([0, 8, 16, 24].map((o) => r.readBigInt64LE(o))).toEqual([4242n, -38n, -38n, 42n]);
    expect(f.mf.readBytes(0, 16)).toEqual(before); // pwrite64 to fd 3 never happened
    ctx.release();
  });

  test('an address space killed from outside (its stub, under ptrace) is reported as exited', () => {
    const { as, ctx, regs } = f.setup('syscall-loop');
    regs.rdi = 1000000n;
    let n = 0;
    const out = runTask(ctx, as, regs, (r) => {
      if (++n === 10) (f.options.kill ?? ((a: TestSpace) => execFileSync('kill', ['-KILL', String(a.pid)])))(as);
      return r.arg(0) + r.arg(1);
    });
    expect(out).toMatchObject({ kind: 'event', event: { kind: 'exited', signal: SIGKILL } });
    expect(ctx.switch(as, regs)).toEqual({ kind: 'exited', signal: SIGKILL });
    expect(() => as.mapFile(0x100000, f.mf.allocate(4096), 3)).toThrow(f.options.kill ? /has exited/ : /stub process has exited/);
    ctx.release();
  });

  test('interrupt() before a switch makes it return interrupted, then the task goes on', () => {
    const { as, ctx, regs } = f.setup('syscall-loop');
    regs.rdi = 3n;
    expect(ctx.switch(as, regs)).toEqual({ kind: 'syscall' });
    ctx.interrupt();
    expect(ctx.switch(as, regs)).toEqual({ kind: 'interrupted', signal: SIGUSR2 });
    regs.setReturn(regs.arg(0) + regs.arg(1));
    const out = runTask(ctx, as, regs, (r) => r.arg(0) + r.arg(1));
    expect(out).toEqual({ kind: 'exit', code: 0, syscalls: 2 });
    ctx.release();
  });

  test('a task that never makes a syscall is stopped by its time slice (SIGVTALRM), then goes on', () => {
    const { as, ctx, regs } = f.setup('faults');
    regs.rdi = 7n; // spin without syscalls
    for (let i = 0; i < 3; i++) {
      expect(ctx.switch(as, regs)).toEqual({ kind: 'interrupted', signal: SIGVTALRM });
    }
    ctx.release();
  });

  test('a switch blocked on this thread is interrupted from another thread', async () => {
    buildWorker();
    const { as, ctx, regs } = f.setup('faults');
    regs.rdi = 7n; // spin without syscalls
    const worker = runWorker({ role: 'interrupt', handle: ctx.handle, delayMs: 200 });
    // The worker starts while this thread is blocked in switch (the spin never stops by itself).
    await new Promise((r) => setTimeout(r, 50));
    // Until the worker's signal comes, the spin is only stopped by its time slices.
    let r = ctx.switch(as, regs);
    while (r.kind === 'interrupted' && r.signal === SIGVTALRM) r = ctx.switch(as, regs);
    expect(r).toEqual({ kind: 'interrupted', signal: SIGUSR2 });
    expect(await worker).toEqual({ sent: true });
    ctx.release();
  });
}

/** BatchSpace is a stub backend's address space: mapFiles and injectBatch (ptrace, systrap). */
export type BatchSpace = TestSpace & {
  readonly pid: number;
  mapFiles(maps: readonly { addr: number; range: { offset: number; length: number }; prot: number }[]): void;
  injectBatch(calls: readonly (readonly [number, readonly number[]])[], done?: (i: number) => void): void;
};

/** hostMappings lists stub process pid's mappings of the memory file as [start, offset] (from /proc/pid/maps). */
export function hostMappings(pid: number, lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) .*memfd:/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1], 16), end = parseInt(m[2], 16), off = parseInt(m[3], 16);
    for (let a = Math.max(start, lo); a < Math.min(end, hi); a += 4096) out.push([a, off + (a - start)]);
  }
  return out;
}

/**
 * stubBatchTests registers the tests of batched injection (one stop of the stub's control
 * thread for a list of host calls: native/stub/layout.h's batch page) on a stub backend.
 */
export function stubBatchTests(f: PlatformFixture<BatchSpace, Context>): void {
  const BASE = 0x50000000, PAGE = 4096, PROT_RW = 3, SYS_mmap = 9, SYS_munmap = 11, EINVAL = 22;

  test('mapFiles maps every request, non-adjacent memory-file ranges included, as mapFile would', () => {
    const { as, ctx } = f.setup('syscall-loop');
    // Five pages whose memory-file offsets do not follow each other (one apart, reversed).
    const pages = Array.from({ length: 10 }, () => f.mf.allocate(PAGE)).filter((_, i) => i % 2 === 0).reverse();
    pages.forEach((r, i) => f.mf.view(r.offset, PAGE).fill(0x41 + i));
    as.mapFiles(pages.map((range, i) => ({ addr: BASE + i * PAGE, range, prot: PROT_RW })));
    expect(hostMappings(as.pid, BASE, BASE + 5 * PAGE)).toEqual(pages.map((r, i) => [BASE + i * PAGE, r.offset]));
    for (let i = 0; i < 5; i++) expect(copyIn(f.mf, translatorOf(as), BASE + i * PAGE + 7, 1)[0]).toBe(0x41 + i);
    // More requests than one batch holds (64): two stops, all mapped.
    const many = Array.from({ length: 70 }, (_, i) => ({ addr: BASE + 0x100000 + i * 2 * PAGE, range: pages[i % 5], prot: PROT_RW }));
    as.mapFiles(many);
    expect(hostMappings(as.pid, BASE + 0x100000, BASE + 0x200000)).toEqual(many.map((m) => [m.addr, m.range.offset]));
    ctx.release();
  });

  test('a batch stops at the first failing call and reports its errno; later calls do not run; single calls work after it', () => {
    const { as, ctx } = f.setup('syscall-loop');
    const a = f.mf.allocate(PAGE), b = f.mf.allocate(PAGE);
    const done: number[] = [];
    const mmap = (addr: number, r: { offset: number }) => [SYS_mmap, [addr, PAGE, PROT_RW, 0x11, 3, r.offset]] as const;
    let err: unknown;
    try {
      as.injectBatch([mmap(BASE, a), [SYS_munmap, [BASE + 1, PAGE]], mmap(BASE + PAGE, b)], (i) => done.push(i));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'HostError', errno: EINVAL, message: expect.stringMatching(/syscall 11: EINVAL/) });
    expect(done).toEqual([0]);
    expect(hostMappings(as.pid, BASE, BASE + 2 * PAGE)).toEqual([[BASE, a.offset]]);
    // The control thread is back at the gadget: one call, then a batch, still work.
    as.mapFile(BASE + 2 * PAGE, b, PROT_RW);
    as.mapFiles([{ addr: BASE + 3 * PAGE, range: a, prot: PROT_RW }, { addr: BASE + 4 * PAGE, range: b, prot: PROT_RW }]);
    expect(hostMappings(as.pid, BASE, BASE + 5 * PAGE)).toEqual([[BASE, a.offset], [BASE + 2 * PAGE, b.offset], [BASE + 3 * PAGE, a.offset], [BASE + 4 * PAGE, b.offset]]);
    ctx.release();
  });

  test('mapFiles with an invalid request maps those before it and throws what mapFile throws', () => {
    const { as, ctx } = f.setup('syscall-loop');
    const a = f.mf.allocate(PAGE);
    const bad = { offset: f.mf.size, length: PAGE }; // past the memory file's end
    expect(() => as.mapFiles([{ addr: BASE, range: a, prot: PROT_RW }, { addr: BASE + PAGE, range: bad, prot: PROT_RW }, { addr: BASE + 2 * PAGE, range: a, prot: PROT_RW }])).toThrow(/memory-file range .* is invalid/);
    expect(hostMappings(as.pid, BASE, BASE + 3 * PAGE)).toEqual([[BASE, a.offset]]);
    expect(() => copyIn(f.mf, translatorOf(as), BASE + PAGE, 1)).toThrow();
    ctx.release();
  });

  test('the batch page is read-only in the stub: no thread of it can write the list', () => {
    const { as, ctx } = f.setup('syscall-loop');
    const line = readFileSync(`/proc/${as.pid}/maps`, 'utf8').split('\n').find((l) => l.startsWith('7fffff008000-'));
    expect(line).toMatch(/^7fffff008000-7fffff009000 r--s /);
    ctx.release();
  });
}
