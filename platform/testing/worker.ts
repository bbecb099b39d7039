/**
 * worker is the worker_threads side of the platform tests (bundled by the tests with
 * esbuild): role `loop` adopts a shared address space (ptrace or kvm) and runs syscall-loop
 * in lockstep with another worker; role `interrupt` interrupts a context running on another thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { adoptAddressSpace, interruptVia, newPtraceContext, type AddressSpaceTicket } from '../ptrace/ptrace';
import { adoptKvmAddressSpace, newKvmContext, type KvmTicket } from '../kvm/kvm';
import type { AddressSpace, Context } from '../platform';
import { Registers } from '../registers';
import { runTask } from './run';

/** LoopJob is the workerData of role `loop`. */
export interface LoopJob {
  role: 'loop';
  /** platform: ptrace (the default) or kvm, whose ticket is a KvmTicket. */
  platform?: 'ptrace' | 'kvm';
  ticket: AddressSpaceTicket | KvmTicket;
  entry: bigint;
  stackTop: number;
  iterations: number;
  /** progress[i] is how many syscalls worker i has answered. */
  progress: Int32Array;
  index: number;
}

/** InterruptJob is the workerData of role `interrupt`. */
export interface InterruptJob {
  role: 'interrupt';
  handle: Int32Array;
  delayMs: number;
}

/** LOCKSTEP_TIMEOUT_MS bounds one wait for the other worker's syscall. Serialised tasks
 * would wait it out at every syscall (and the test's own timeout ends them); concurrent
 * ones wait microseconds, but in the QEMU TCG test VM (make test-kvm without /dev/kvm) a
 * vCPU of the nested guest once stalled past 10 s (one failure in 500 steps, CI). */
const LOCKSTEP_TIMEOUT_MS = 60000;

function loop(job: LoopJob): void {
  let as: AddressSpace & { release(): void }, ctx: Context, cpuOf: () => number | undefined;
  if (job.platform === 'kvm') {
    as = adoptKvmAddressSpace(job.ticket as KvmTicket);
    ctx = newKvmContext(job.ticket as KvmTicket);
    cpuOf = () => undefined;
  } else {
    const pas = adoptAddressSpace(job.ticket as AddressSpaceTicket);
    const pctx = newPtraceContext();
    [as, ctx, cpuOf] = [pas, pctx, () => pctx.threadOf(pas)!.state[0]];
  }
  const regs = Registers.forEntry(job.entry, BigInt(job.stackTop));
  regs.rdi = BigInt(job.iterations);
  const other = 1 - job.index;
  let lockstepFailures = 0;
  const cpus = new Set<number>();
  const out = runTask(ctx, as, regs, (r) => {
    // Lockstep: answer syscall i only once the other worker's task has made syscall i
    // too. Serialised tasks could never pass this; concurrent ones always do.
    const i = Atomics.add(job.progress, job.index, 1) + 1;
    Atomics.notify(job.progress, job.index);
    while (Atomics.load(job.progress, other) < i) {
      if (Atomics.wait(job.progress, other, Atomics.load(job.progress, other), LOCKSTEP_TIMEOUT_MS) === 'timed-out') {
        lockstepFailures++;
        break;
      }
    }
    const cpu = cpuOf();
    if (cpu !== undefined) cpus.add(cpu);
    return r.arg(0) + r.arg(1);
  });
  ctx.release();
  as.release();
  parentPort!.postMessage({ outcome: out.kind === 'exit' ? { code: out.code, syscalls: out.syscalls } : { event: out.event.kind }, lockstepFailures, cpus: [...cpus] });
}

function interrupt(job: InterruptJob): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, job.delayMs);
  parentPort!.postMessage({ sent: interruptVia(job.handle) });
}

const job = workerData as LoopJob | InterruptJob;
if (job.role === 'loop') loop(job);
else interrupt(job);
