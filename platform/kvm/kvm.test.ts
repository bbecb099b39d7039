// Behaviour tests of the KVM platform on this host's /dev/kvm: the tests every backend
// passes (platform/testing/suite.ts), then the KVM backend's own. A host without a usable
// /dev/kvm fails these tests loudly (the unavailable-device line is tested here too).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import koffi from 'koffi';
import { copyIn, getPlatform, MemoryFile, Registers } from '../index';
import { missingTestPrograms, runTask } from '../testing/run';
import { mapStack } from '../testing/elf-loader';
import { translatorOf } from '../testing/translate';
import { buildWorker, PROGRAMS, runWorker, sharedPlatformTests, STACK_TOP, usePlatform } from '../testing/suite';
import { KvmPlatform, type KvmAddressSpace, type KvmContext } from './kvm';

const PROBE = path.resolve(__dirname, '../../build/kvm/probe');
const missing = missingTestPrograms(PROGRAMS).map((p) => `test program ${p} not built`);
if (missing.length) throw new Error(`kvm platform tests cannot run: ${missing.join('; ')} (run make)`);

describe('kvm platform', () => {
  const f = usePlatform<KvmAddressSpace, KvmContext>('kvm', { kill: (as) => as.kill(), exactAccess: true });

  test('the registry names kvm', () => {
    expect(f.platform.name).toBe('kvm');
  });

  sharedPlatformTests(f);

  test('the C self-check passes on this /dev/kvm (syscall, #PF with CR2, #GP, remap after flush, trampoline not executable)', () => {
    const out = execFileSync(PROBE, ['-n', '200'], { encoding: 'utf8' });
    expect(out).not.toMatch(/FAILED/);
    expect(out).toMatch(/^a jump into the trampoline is an execute #PF: ok$/m);
    expect(out).toMatch(/^kvm syscall round trip: [\d.]+ us$/m);
  });

  describe('with worker threads', () => {
    beforeAll(buildWorker);

    test('two application threads trap concurrently on two workers, each on its own vCPU', async () => {
      const { as, image } = f.setup('syscall-loop');
      const tops = [STACK_TOP - 0x200000, STACK_TOP - 0x400000];
      for (const top of tops) mapStack(f.mf, as, top);
      const progress = new Int32Array(new SharedArrayBuffer(8));
      const iterations = 500;
      const results = await Promise.all(tops.map((stackTop, index) =>
        runWorker({ role: 'loop', platform: 'kvm', ticket: as.share(), entry: image.entry, stackTop, iterations, progress, index })));
      for (const r of results) {
        expect(r.outcome).toEqual({ code: 0, syscalls: iterations });
        expect(r.lockstepFailures).toBe(0);
      }
      expect([...progress]).toEqual([iterations, iterations]);
      expect(as.isMapped(Number(image.entry) & ~0xfff, 4096)).toBe(true);
    });
  });

  test('a library that listens for SIGVTALRM and stops (Node resets it to SIG_DFL) neither kills the process between contexts nor stops the next context\'s slices', () => {
    const { as, ctx, regs } = f.setup('faults');
    regs.rdi = 7n; // spin without syscalls: only time slices stop it
    expect(ctx.switch(as, regs)).toEqual({ kind: 'interrupted', signal: 26 });
    ctx.release(); // this thread's last context: its slice timer is disarmed
    const listener = (): void => {};
    process.on('SIGVTALRM', listener);
    process.off('SIGVTALRM', listener);
    const until = process.hrtime.bigint() + 60_000_000n; // 60 ms of CPU: six slices, were the timer armed
    while (process.hrtime.bigint() < until);
    const next = f.platform.newContext();
    try {
      const again = Registers.forEntry(regs.rip, regs.rsp);
      again.rdi = 7n;
      expect(next.switch(as, again)).toEqual({ kind: 'interrupted', signal: 26 });
    } finally {
      next.release();
    }
  });

  test('cpuNs counts the CPU time of the context\'s switches (the guest\'s included) and survives release', () => {
    const { as, ctx, regs } = f.setup('faults');
    regs.rdi = 7n; // spin without syscalls: only time slices stop it
    expect(ctx.cpuNs).toBe(0);
    expect(ctx.switch(as, regs)).toEqual({ kind: 'interrupted', signal: 26 });
    const first = ctx.cpuNs;
    expect(first).toBeGreaterThan(0);
    expect(ctx.switch(as, regs)).toEqual({ kind: 'interrupted', signal: 26 });
    expect(ctx.cpuNs).toBeGreaterThan(first);
    const last = ctx.cpuNs;
    ctx.release();
    expect(ctx.cpuNs).toBe(last);
  });

  test('a non-canonical instruction pointer is SIGSEGV, and the task runs on from a good one', () => {
    const { as, ctx, image, regs } = f.setup('syscall-loop');
    regs.rdi = 2n;
    regs.rip = 0x8000000000000000n;
    expect(ctx.switch(as, regs)).toMatchObject({ kind: 'fault', signal: 11, code: 0x80 });
    expect(regs.rip).toBe(0x8000000000000000n);
    regs.rip = image.entry;
    expect(runTask(ctx, as, regs, (r) => r.arg(0) + r.arg(1))).toEqual({ kind: 'exit', code: 0, syscalls: 2 });
    ctx.release();
  });

  test('protect takes effect at the next switch both ways (read-only -> writable -> read-only: the flush drops stale translations)', () => {
    const { as, ctx, image } = f.setup('faults');
    const ro = image.symbols.get('ro')!;
    const store = () => {
      const regs = Registers.forEntry(image.entry, BigInt(STACK_TOP));
      regs.rdi = 5n; // store to `ro`
      return runTask(ctx, as, regs, () => undefined);
    };
    expect(store()).toMatchObject({ kind: 'event', event: { kind: 'fault', signal: 11, code: 2, address: BigInt(ro), access: 'write' } });
    as.protect(ro, 4096, 3);
    expect(store()).toEqual({ kind: 'exit', code: 99, syscalls: 0 });
    expect(copyIn(f.mf, translatorOf(as), ro, 1)[0]).toBe(2);
    as.protect(ro, 4096, 1);
    expect(store()).toMatchObject({ kind: 'event', event: { kind: 'fault', signal: 11, code: 2, address: BigInt(ro), access: 'write' } });
    ctx.release();
  });

  test('an address space has no host process', () => {
    const as = f.platform.newAddressSpace();
    expect(as.hostPid).toBeUndefined();
    as.release();
  });
});

describe('kvm platform where /dev/kvm is unusable', () => {
  let mf: MemoryFile;
  beforeAll(() => (mf = MemoryFile.create({ name: 'tvisor-test-kvm-missing' })));
  afterAll(() => mf.close());

  test('a missing device fails with one line naming it and suggesting ptrace or systrap', () => {
    expect(() => KvmPlatform.open(mf, '/nonexistent/kvm')).toThrow(
      /^platform "kvm" cannot run on this host: \/nonexistent\/kvm: No such file or directory; use --platform ptrace or --platform systrap$/);
  });

  test('a device that is not KVM fails the same way', () => {
    expect(() => KvmPlatform.open(mf, '/dev/null')).toThrow(/^platform "kvm" cannot run on this host: \/dev\/null is not a KVM device \(KVM_GET_API_VERSION\); use --platform ptrace or --platform systrap$/);
  });

  test('getPlatform("kvm") reads the device from TVISOR_KVM_DEVICE', () => {
    const saved = process.env.TVISOR_KVM_DEVICE;
    process.env.TVISOR_KVM_DEVICE = '/nonexistent/kvm';
    try {
      let message = '';
      try {
        getPlatform('kvm', mf);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message.split('\n')).toEqual(['platform "kvm" cannot run on this host: /nonexistent/kvm: No such file or directory; use --platform ptrace or --platform systrap']);
    } finally {
      if (saved === undefined) delete process.env.TVISOR_KVM_DEVICE;
      else process.env.TVISOR_KVM_DEVICE = saved;
    }
  });
});

void koffi;
