/**
 * bench-platform (make bench-platform) measures the round trip of one trapped syscall
 * through the ptrace platform from Node (Context.switch + a handler setting rax), and the
 * same PTRACE_SYSEMU round trip from C (build/platform/bench/sysemu-ref) in the same run,
 * on the same program (bench-loop: getppid in a loop); then the systrap platform's round
 * trip on that program and the C reference of the systrap
 * round trip (build/platform/bench/systrap-ref: a SIGSYS handler handing its registers to
 * another process over a shared page, both spinning; both spinning with sched_yield,
 * the hand-off systrap's adaptive spinning makes; and both sleeping on a futex). It prints
 * each round, the ratios of the medians, a systrap round without spinning and one with
 * the addon's debug stamps (where a round trip's time goes), a round with each placement
 * forced (spread, pinned; the default picks one from the machine's load), and the C reference's own
 * stamps; then, where /dev/kvm works, the kvm platform against the C prototype's exit loop
 * (build/kvm/probe); last, the bare C KVM_RUN exit loop (kvmReference: natively, or in the
 * QEMU test VM). It is not a test: no threshold fails it.
 *
 * Each systrap round runs in a Node process of its own (this file again, with
 * BENCH_SYSTRAP_CHILD set), as a sentry runs one platform: the ptrace rounds leave this
 * thread held on one CPU (the ptrace addon's tracer hold), which a stub spawned from it
 * would inherit.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { getPlatform, MemoryFile, Registers } from '../index';
import { loadStaticElf, mapStack } from '../testing/elf-loader';
import { runTask } from '../testing/run';
import { newPtraceContext } from '../ptrace/ptrace';
import { setPlacement, setSpinBounds, setStamps, stamps, type Placement, type SystrapStamps } from '../../native/systrap/systrap-native';

const OPS = 100000;
/** ROUNDS: BENCH_ROUNDS, 5 by default. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROOT = path.resolve(__dirname, '../../..');
const PROGRAM = path.join(ROOT, 'build/platform/testing/bench-loop');
const REF = path.join(ROOT, 'build/platform/bench/sysemu-ref');
const SYSTRAP_REF = path.join(ROOT, 'build/platform/bench/systrap-ref');
const STACK_TOP = 0x7ff000000000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function nodeRound(ops: number, pinning = true, backend = 'ptrace'): { totalMs: number; ops: number } {
  const mf = MemoryFile.create({ name: 'tvisor-bench' });
  const platform = getPlatform(backend, mf);
  const as = platform.newAddressSpace();
  const image = loadStaticElf(mf, as, PROGRAM);
  mapStack(mf, as, STACK_TOP);
  const ctx = pinning ? platform.newContext() : newPtraceContext(false);
  const regs = Registers.forEntry(image.entry, BigInt(STACK_TOP));
  regs.rdi = BigInt(ops);
  const start = process.hrtime.bigint();
  const out = runTask(ctx, as, regs, (r) => (r.sysno === 110 ? 1 : undefined));
  const totalMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (out.kind !== 'exit' || out.syscalls !== ops) throw new Error(`bench-loop did not finish: ${JSON.stringify(out)}`);
  ctx.release();
  platform.release();
  mf.close();
  return { totalMs, ops: out.syscalls };
}

function refRound(ref = REF, args = [PROGRAM]): { totalMs: number; ops: number; stamps?: string } {
  const out = execFileSync(ref, args, { encoding: 'utf8' });
  const m = /ops=(\d+) total_ms=([\d.]+)/.exec(out);
  if (!m) throw new Error(`${path.basename(ref)}: unexpected output ${out}`);
  return { ops: Number(m[1]), totalMs: Number(m[2]), stamps: /^stamps.*$/m.exec(out)?.[0] };
}

/**
 * SystrapMode is how a child round runs systrap: adaptive spinning (the default), none,
 * adaptive with the debug stamps, or with the placement forced (spread: the two sides on
 * the CPUs the scheduler picks, pinned: the stub on the sentry's CPU; the default, auto,
 * picks between them from the machine's runnable count).
 */
type SystrapMode = 'adaptive' | 'no-spin' | 'stamps' | Exclude<Placement, 'auto'>;

/** systrapRound runs one systrap round of `ops` in a child process (see the top). */
function systrapRound(ops: number, mode: SystrapMode = 'adaptive'): { totalMs: number; ops: number; stamps?: SystrapStamps } {
  const out = execFileSync(process.execPath, [__filename], { encoding: 'utf8', env: { ...process.env, BENCH_SYSTRAP_CHILD: JSON.stringify({ ops, mode }) } });
  return JSON.parse(out);
}

/** systrapChild is the child's side of systrapRound: a warm-up, then the round, as JSON on stdout (`backend` ptrace: a ptrace round in a child, for comparisons by hand). */
function systrapChild(): void {
  const { ops, mode, backend = 'systrap' } = JSON.parse(process.env.BENCH_SYSTRAP_CHILD!) as { ops: number; mode: SystrapMode; backend?: string };
  if (mode === 'no-spin') setSpinBounds(0, 0);
  if (mode === 'spread' || mode === 'pinned') setPlacement(mode);
  nodeRound(5000, true, backend);
  setStamps(mode === 'stamps');
  const r = nodeRound(ops, true, backend);
  process.stdout.write(JSON.stringify(mode === 'stamps' ? { ...r, stamps: stamps() } : r));
}

function show(what: string, r: { totalMs: number; ops: number }): number {
  const us = (r.totalMs * 1e3) / r.ops;
  console.log(`  ${what}: ops=${r.ops} total=${r.totalMs.toFixed(1)} ms per-op=${us.toFixed(2)} us`);
  return us;
}

/**
 * kvmReference measures the C KVM_RUN exit loop (build/platform/bench/kvm-exit-loop: user
 * code of a long-mode guest leaving it by an MMIO store), BENCH_ROUNDS runs: natively where
 * its --check passes, in the QEMU TCG test VM (scripts/kvm-vm/run) with TVISOR_KVM_FORCE_VM=1.
 * Prints each run and the median; returns the median us per exit, or undefined (with one
 * line saying why) where it cannot run.
 */
function kvmReference(): number | undefined {
  const loop = path.join(ROOT, 'build/platform/bench/kvm-exit-loop');
  const inVm = process.env.TVISOR_KVM_FORCE_VM === '1';
  const run = (file: string, args: string[]) => execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let out: string;
  try {
    if (inVm) {
      out = run(path.join(ROOT, 'scripts/kvm-vm/run'), ['sh', '-c', `for i in $(seq ${ROUNDS}); do ${loop} || exit 1; done`]);
    } else {
      run(loop, ['--check']);
      out = Array.from({ length: ROUNDS }, () => run(loop, [])).join('');
    }
  } catch (e) {
    const why = ((e as { stderr?: string }).stderr ?? '').trim().split('\n')[0] || String(e);
    console.log(`kvm reference: not measured: ${why}${inVm ? '' : ' (TVISOR_KVM_FORCE_VM=1 measures it in the QEMU test VM, after make kvm-vm)'}`);
    return undefined;
  }
  const us = [...out.matchAll(/\((\w+)\): ([\d.]+) us per exit/g)];
  if (us.length === 0) throw new Error(`kvm-exit-loop: unexpected output ${out}`);
  for (const m of us) console.log(`  C reference (KVM_RUN exit loop, ${m[1]}): per-exit=${m[2]} us`);
  const med = median(us.map((m) => Number(m[2])));
  console.log(`kvm reference: median ${med.toFixed(2)} us per exit from guest user code (${us[0][1]}, ${inVm ? 'in the QEMU TCG test VM' : 'natively'})`);
  return med;
}

/** kvmRounds measures the kvm platform against the C prototype's exit loop (where /dev/kvm works). */
function kvmRounds(): void {
  // kvm: Context.switch through platform/kvm against the C prototype's raw exit loop
  // (build/kvm/probe: the same machine, KVM_RUN + registers in C), same /dev/kvm, same run.
  const KVM_PROBE = path.join(ROOT, 'build/kvm/probe');
  const KVM_OPS = OPS / 10;
  let kvmWhy: string | undefined;
  try {
    const mf = MemoryFile.create({ name: 'tvisor-bench-kvm' });
    try {
      getPlatform('kvm', mf).release();
    } finally {
      mf.close();
    }
  } catch (err) {
    kvmWhy = (err as Error).message;
  }
  if (kvmWhy) {
    console.log(`kvm: not measured: ${kvmWhy}`);
  } else {
    nodeRound(2000, true, 'kvm');
    const kvm: number[] = [], kvmRef: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      kvm.push(show('node platform, kvm (Context.switch)', nodeRound(KVM_OPS, true, 'kvm')));
      const line = execFileSync(KVM_PROBE, ['-n', String(KVM_OPS)], { encoding: 'utf8' });
      const m = /^kvm syscall round trip: ([\d.]+) us$/m.exec(line);
      if (!m) throw new Error(`probe: unexpected output ${line}`);
      kvmRef.push(show('C reference (probe: KVM_RUN exit loop)', { ops: KVM_OPS, totalMs: (Number(m[1]) * KVM_OPS) / 1e3 }));
    }
    const k = median(kvm), kr = median(kvmRef);
    console.log(`median per trapped syscall: kvm ${k.toFixed(2)} us, its C reference ${kr.toFixed(2)} us; ratio kvm/C: ${(k / kr).toFixed(2)} (target <= 1.3)`);
  }
}

/** showStamps prints where a stamped round's time went. */
function showStamps(r: { totalMs: number; ops: number; stamps?: SystrapStamps }): void {
  const s = r.stamps!;
  const us = (ns: number): string => (ns / s.count / 1e3).toFixed(2);
  console.log(`  systrap with debug stamps: ${((r.totalMs * 1e3) / r.ops).toFixed(2)} us per round trip; per round trip: ` +
    `sentry JavaScript (handler, Registers, switch call) ${us(s.handle)}, answer written and stub resumed ${us(s.answer)}, ` +
    `stub's wake-up ${us(s.toStub)}, stub: sigreturn + application + trap ${us(s.run)}, sentry's wake-up ${us(s.toSentry)}, ` +
    `event decoded ${us(s.decode)}; the sentry spun in ${((100 * s.sentrySpun) / s.count).toFixed(0)}%, ` +
    `the stub in ${((100 * s.stubSpun) / s.count).toFixed(0)}%; the stub was pinned to the sentry's CPU in ${((100 * s.pinned) / s.count).toFixed(0)}%`);
}

function main(): void {
  nodeRound(5000); // warm up the JIT and the allocator
  const node: number[] = [], ref: number[] = [], sys: number[] = [], sysRef: number[] = [], sysYieldRef: number[] = [], sysFutexRef: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    console.log(`round ${i + 1}`);
    node.push(show('node platform (Context.switch)', nodeRound(OPS)));
    ref.push(show('C reference (PTRACE_SYSEMU loop)', refRound()));
    sys.push(show('node platform, systrap (Context.switch)', systrapRound(OPS)));
    sysRef.push(show('C reference (SIGSYS handler, registers over a shared page, both spinning)', refRound(SYSTRAP_REF, [])));
    sysYieldRef.push(show('C reference (the same, both spinning with sched_yield: systrap\'s adaptive spin)', refRound(SYSTRAP_REF, ['yield'])));
    sysFutexRef.push(show('C reference (the same, both sleeping on a futex: systrap\'s default hand-off)', refRound(SYSTRAP_REF, ['futex'])));
  }
  const n = median(node), c = median(ref);
  console.log(`median per trapped syscall: node platform ${n.toFixed(2)} us, C reference ${c.toFixed(2)} us`);
  show('for comparison, node platform without pinning the stub to the tracer CPU', nodeRound(OPS / 10, false));
  console.log(`ratio node/C: ${(n / c).toFixed(2)} (target <= 1.3; target absolute < 15 us: ${n < 15 ? 'met' : 'missed'})`);
  show('for comparison, systrap without spinning (futex hand-off only)', systrapRound(OPS / 10, 'no-spin'));
  show('for comparison, systrap always spread (its placement forced: both sides spin, each where the scheduler puts it)', systrapRound(OPS / 10, 'spread'));
  show('for comparison, systrap always pinned (its placement forced: the stub on the sentry\'s CPU, futex hand-off)', systrapRound(OPS / 10, 'pinned'));
  showStamps(systrapRound(OPS / 10, 'stamps'));
  for (const args of [['futex', 'stamps'], ['yield', 'stamps']]) {
    const r = refRound(SYSTRAP_REF, args);
    console.log(`  C reference, ${args[0]}: ${r.stamps ?? 'no stamps'}`);
  }
  const st = median(sys), sr = median(sysRef);
  console.log(`median per trapped syscall: systrap ${st.toFixed(2)} us, its C reference ${sr.toFixed(2)} us`);
  const sy = median(sysYieldRef), sf = median(sysFutexRef);
  console.log(`ratio systrap/its C reference: ${(st / sr).toFixed(2)} (target <= 1.3); systrap/the sched_yield C reference (${sy.toFixed(2)} us): ${(st / sy).toFixed(2)}; ` +
    `systrap/the futex C reference (${sf.toFixed(2)} us): ${(st / sf).toFixed(2)}; systrap/ptrace: ${(st / n).toFixed(2)} (target <= 0.35)`);
  kvmRounds();
  kvmReference();
}

if (process.env.BENCH_SYSTRAP_CHILD) systrapChild();
else main();
