/**
 * The contract of tvisor_systrap.node (native/systrap/addon.cc), loaded by
 * ./systrap-native.ts. Calls are synchronous; `block` is the sentry's view of a thread's
 * shared block (SYSTRAP_BLOCK_SIZE bytes) and `blockStub` its address in the stub.
 * Results are the SwitchKind values of systrap-native.ts, or -errno.
 */
export interface SystrapAddon {
  /** switchThread answers the event in the block with regs, resumes the thread and decodes its next event into regs and info. */
  switchThread(block: Buffer, blockStub: number, regs: Buffer, info: Buffer, pid: number, tid: number, pin: Int32Array): number;
  /** awaitEvent waits for a new thread's first event. */
  awaitEvent(block: Buffer, blockStub: number, pid: number, tid: number): number;
  /** endThread tells the thread waiting at an event to exit. */
  endThread(block: Buffer): number;
  /** setSpin sets the bounds (ns) of the sentry's and the stub's adaptive spinning (0: off). */
  setSpin(sentryNs: number, stubNs: number): number;
  /** setPlacement sets where stub threads run against the sentry: 0 auto (by the machine's runnable count), 1 spread, 2 pinned to the sentry's CPU. */
  setPlacement(mode: number): number;
  /** setStamps starts (zeroed) or stops the calling thread's debug stamps of its round trips. */
  setStamps(on: boolean): number;
  /** stamps returns the calling thread's stamp sums (ns) since setStamps(true). */
  stamps(): SystrapStamps;
  /** fsgsbase says whether user mode may use rdfsbase/wrfsbase on this host (else the stub uses arch_prctl). */
  fsgsbase(): boolean;
  /** regsSize is sizeof(struct user_regs_struct). */
  readonly regsSize: number;
  /** blockSize is SYSTRAP_BLOCK_SIZE. */
  readonly blockSize: number;
}

/** SystrapStamps are sums over round trips (ns; the last two are counts), see addon.cc's Stamps. */
export interface SystrapStamps {
  count: number;
  handle: number;
  answer: number;
  toStub: number;
  run: number;
  toSentry: number;
  decode: number;
  sentrySpun: number;
  stubSpun: number;
  pinned: number;
}
