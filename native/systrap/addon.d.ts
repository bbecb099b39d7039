/**
 * The contract of tvisor_systrap.node (native/systrap/addon.cc), loaded by
 * ./systrap-native.ts. Calls are synchronous; `block` is the sentry's view of a thread's
 * shared block (SYSTRAP_BLOCK_SIZE bytes) and `blockStub` its address in the stub.
 * Results are the SwitchKind values of systrap-native.ts, or -errno.
 */
export interface SystrapAddon {
  /** switchThread answers the event in the block with regs, resumes the thread and decodes its next event into regs and info. */
  switchThread(block: Buffer, blockStub: number, regs: Buffer, info: Buffer, pid: number, tid: number): number;
  /** awaitEvent waits for a new thread's first event. */
  awaitEvent(block: Buffer, blockStub: number, pid: number, tid: number): number;
  /** endThread tells the thread waiting at an event to exit. */
  endThread(block: Buffer): number;
  /** setSpin sets how many iterations the sentry spins for an event before it sleeps. */
  setSpin(n: number): number;
  /** fsgsbase says whether user mode may use rdfsbase/wrfsbase on this host. */
  fsgsbase(): boolean;
  /** regsSize is sizeof(struct user_regs_struct). */
  readonly regsSize: number;
  /** blockSize is SYSTRAP_BLOCK_SIZE. */
  readonly blockSize: number;
}
