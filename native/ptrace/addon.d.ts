/**
 * The contract of tvisor_ptrace.node (native/ptrace/addon.cc), loaded by ./ptrace-native.ts.
 *
 * Every call is synchronous and must come from the thread that traces `tid`. Numbers are
 * returned as-is from C: a result >= 0, or -errno. Arguments are checked in
 * ptrace-native.ts before they cross; the addon re-checks types and buffer lengths.
 */
export interface PtraceAddon {
  /** spawnStub starts the stub (exeFd when >= 0, else `path`) as a traced child of this thread, as uid and gid `ids` when >= 0, its batch page at memory-file offset `batchOffset`; returns its pid or throws. */
  spawnStub(path: string, memfd: number, exeFd: number, ids: number, batchOffset: number): number;
  /** startStub is spawnStub's first half: clones the stub's child, which sets itself up and execs while the caller goes on; returns its pid or throws. */
  startStub(path: string, memfd: number, exeFd: number, ids: number, batchOffset: number): number;
  /** finishStub is spawnStub's second half for a pid startStub returned on this thread: runs it to STUB_READY, or throws (the child killed and reaped). */
  finishStub(pid: number): void;
  /** advanceStub takes a started stub past its exec stop if it is there (1), without blocking; else 0. */
  advanceStub(pid: number): number;
  /** abandonStub kills and reaps a started stub not finished; returns 0 or -ESRCH when pid is not one. */
  abandonStub(pid: number): number;
  /** injectBatch runs the first `count` entries of the stub's batch page in one stop: out[0] = entries completed, out[1] = the last result; returns 0 or -errno. */
  injectBatch(tid: number, count: number, out: Float64Array): number;
  /** injectSyscall runs syscall `nr` in the stopped stub thread at the stub's gadget; returns rax. */
  injectSyscall(tid: number, nr: number, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number): number;
  /** cloneThread creates a stub thread, stopped and traced by this thread; returns its tid. */
  cloneThread(tid: number): number;
  /** switchThread loads fp (if a Buffer), sets regs, PTRACE_SYSEMU, waits; returns the wait status. */
  switchThread(tid: number, regs: Buffer, siginfo: Buffer, state: Int32Array, fp: Buffer | null): number;
  /** pinThread pins stub thread tid to the caller's CPU if it moved (state as switchThread's) and holds the caller there. */
  pinThread(tid: number, state: Int32Array): void;
  /** startSyscall resumes the stopped stub thread at the gadget for one call without waiting (its affinity widened to every CPU); returns 0 or -errno. */
  startSyscall(tid: number, nr: number, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number): number;
  /** finishSyscall waits for the stop of the call startSyscall started; returns rax or -errno. */
  finishSyscall(tid: number): number;
  /** pollSyscall: 1 when the call startSyscall started has stopped (out[0] its result), 0 when not yet, or -errno; never blocks. */
  pollSyscall(tid: number, out: Float64Array): number;
  /** threadCpuNs returns the calling thread's CPU time (ns), or -errno. */
  threadCpuNs(): number;
  /** readTsc returns the time-stamp counter (rdtsc after lfence). */
  readTsc(): bigint;
  /** processCpuNs returns the CPU time (ns) of the stub process pid, or -errno. */
  processCpuNs(pid: number): number;
  /** getRegs reads user_regs_struct into buf. */
  getRegs(tid: number, buf: Buffer): number;
  /** setRegs writes user_regs_struct from buf (cs and ss are forced to user selectors). */
  setRegs(tid: number, buf: Buffer): number;
  /** getFpState reads the xsave image into buf; returns its size. */
  getFpState(tid: number, buf: Buffer): number;
  /** parkAndDetach leaves the thread in pause() at the stub's park gadget, untraced. */
  parkAndDetach(tid: number): number;
  /** seize attaches a parked stub thread to this thread and stops it. */
  seize(tid: number): number;
  /** exitThread makes the stub thread exit(0) and reaps it. */
  exitThread(tid: number): number;
  /** waitThread waits for a state change of tid (-EAGAIN when nohang and none). */
  waitThread(tid: number, nohang: boolean): number;
  /** reportSigsys installs the debug SIGSYS handler: it writes `prefix: host syscall NAME (N) ...` to fd and exits. */
  reportSigsys(fd: number, prefix: string, names: (string | undefined)[]): number;
  /** regsSize is sizeof(struct user_regs_struct). */
  readonly regsSize: number;
  /** siginfoSize is sizeof(siginfo_t). */
  readonly siginfoSize: number;
}
