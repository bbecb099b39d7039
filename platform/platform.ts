/**
 * platform is the boundary between the sentry and the host mechanism that runs
 * application code: an address space to map memory-file ranges into, and contexts that
 * run a task's registers in an address space until the next event (after gVisor's
 * pkg/sentry/platform). Backends: `ptrace` (platform/ptrace), later `kvm`.
 *
 * Threading rule: every object a platform returns belongs to the JavaScript thread that
 * created it (the main thread or a worker) and must only be used there; switch() blocks
 * that thread until the task stops. Run tasks in parallel by running contexts on several
 * workers (see platform/ptrace for how an address space is shared with a worker).
 */
import type { FpState } from './fpstate';
import type { MemoryFile } from './memfile/memory-file';
import type { Registers } from './registers';

/** Prot is a set of PROT_* bits (PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4). */
export type Prot = number;
/** PROT_READ, PROT_WRITE, PROT_EXEC as in mman.h. */
export const PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
/** PAGE_SIZE is the x86-64 page size. */
export const PAGE_SIZE = 4096;

/** FileRange is a page-aligned range of the memory file. */
export interface FileRange {
  offset: number;
  length: number;
}

/** AccessType is the kind of access that faulted; `unknown` when the backend cannot tell. */
export type AccessType = 'read' | 'write' | 'execute' | 'unknown';

/**
 * SwitchResult is why a context stopped running the task.
 * - syscall: the registers hold the syscall (Registers.sysno, arg(i)); set the result with
 *   setReturn and switch again.
 * - fault: a synchronous fault: SIGSEGV/SIGBUS with the faulting address, SIGILL, SIGFPE,
 *   SIGTRAP (int3) with the instruction's address; `code` is the host si_code.
 * - interrupted: the sentry (or someone outside) preempted the task; `signal` says how.
 * - exited: the host thread is gone (its stub was killed); the context cannot run again.
 */
export type SwitchResult =
  | { kind: 'syscall' }
  | { kind: 'fault'; signal: number; code: number; address: bigint; access: AccessType }
  | { kind: 'interrupted'; signal: number }
  | { kind: 'exited'; exitCode?: number; signal?: number };

/** AddressSpace is the host side of one application address space. */
export interface AddressSpace {
  /** mapFile maps `range` of the memory file at `addr` with `prot`, replacing what was there. */
  mapFile(addr: number, range: FileRange, prot: Prot): void;
  /**
   * mapFiles, where a backend has it, maps each request as mapFile would, in order, with
   * fewer host round trips (the stub backends: one stop per batch). A failure throws what
   * mapFile would have for that request; the requests before it stay mapped.
   */
  mapFiles?(maps: readonly { addr: number; range: FileRange; prot: Prot }[]): void;
  /** unmap removes the mappings in [addr, addr+length). */
  unmap(addr: number, length: number): void;
  /** protect changes the protection of [addr, addr+length). */
  protect(addr: number, length: number, prot: Prot): void;
  /**
   * isMapped says whether all of [addr, addr+length) is mapped (any protection): the
   * memory manager asks it of every chunk fault-around meets, and before it maps a shared
   * object's page that another fault may have mapped already.
   *
   * There is no translate here: which memory-file bytes lie behind an application address
   * is the memory manager's answer (sentry/mm: MemoryManager.translate, from its VMAs and
   * chunk tables), not a second copy kept by each backend. A backend keeps what it mapped
   * only for its own needs (isMapped; ptrace's mprotect of the mapped runs alone).
   */
  isMapped(addr: number, length: number): boolean;
  /** release frees the host resources; the address space cannot be used afterwards. */
  release(): void;
  /**
   * closing, where a backend has it, says release() follows before anything else runs
   * here (the exit of its last task): contexts then leave their host threads to end with
   * it instead of ending each on its own (ptrace: one injected exit each saved).
   */
  closing?(): void;
  /** hostPid is the host process that runs this address space's code (ptrace: its stub), when there is one: `ps` reports it. */
  readonly hostPid?: number;
  /**
   * setTitle, where there is a host process (hostPid), shows the host the application's
   * name `comm` (Linux keeps 15 bytes) and arguments `args` (NUL-separated strings) as
   * that process's comm and command line: what host `ps` and `docker top` print. It may
   * throw a HostError; the address space stays usable.
   */
  setTitle?(comm: string, args: Buffer): void;
}

/** Context runs tasks: it holds the host thread(s) a task runs on. */
export interface Context {
  /**
   * switch runs `regs` (and `fp`, when the task tracks its own FP state) in `as` until the
   * next event, which it returns; regs then hold the task's registers at that event.
   */
  switch(as: AddressSpace, regs: Registers, fp?: FpState): SwitchResult;
  /** interrupt asks a running switch (on any thread) to return `interrupted` soon. */
  interrupt(): void;
  /** release frees the host threads of this context. */
  release(): void;
  /** cpuNs, when the platform measures it, is the host CPU time (ns) the task ran in switch(). */
  readonly cpuNs?: number;
  /**
   * nameThread, where the task runs on a host thread of its own in `as` (ptrace), gives
   * that thread the name `comm`, as the task's prctl(PR_SET_NAME) would on Linux. It may
   * throw a HostError; the context stays usable.
   */
  nameThread?(as: AddressSpace, comm: string): void;
}

/** Platform creates address spaces and contexts; get one with getPlatform. */
export interface Platform {
  readonly name: string;
  /** minUserAddress is the lowest address an application may map. */
  readonly minUserAddress: number;
  /** maxUserAddress is one past the highest address an application may map. */
  readonly maxUserAddress: number;
  /** memoryFile is the memory file all application memory comes from. */
  readonly memoryFile: MemoryFile;
  newAddressSpace(): AddressSpace;
  newContext(): Context;
  /** newFpState returns the FP state of a freshly started task. */
  newFpState(): FpState;
  /** tracerCpuNs, when the platform measures CPU, is the calling host thread's CPU time (ns). */
  tracerCpuNs?(): number;
  /**
   * debugStamps, where the platform splits its round trips into steps (a debug figure:
   * native/phases.ts, TVISOR_PHASES=syscalls:<file>), starts them on the calling thread (on) or stops them
   * and returns their sums in ns with their `count` (off).
   */
  debugStamps?(on: boolean): Record<string, number> | undefined;
  /**
   * pendingWork, where a platform has work to take on a step at a time without blocking
   * (the stub backends: a spare stub's start-up), is true while it has; the scheduler then
   * calls afterStop() after each stop of a task (a look costing a few microseconds).
   */
  readonly pendingWork?: boolean;
  /** afterStop takes the pending work a step on, without blocking (see pendingWork). */
  afterStop?(): void;
  /** release frees the platform's host resources (address spaces must be released first). */
  release(): void;
}

/** PlatformFactory constructs a platform over a memory file. */
export type PlatformFactory = (memoryFile: MemoryFile) => Platform;

const registry = new Map<string, PlatformFactory>();

/** registerPlatform makes a backend available to getPlatform under `name`. */
export function registerPlatform(name: string, factory: PlatformFactory): void {
  if (registry.has(name)) throw new Error(`platform "${name}" is already registered`);
  registry.set(name, factory);
}

/** platformNames lists the registered backends. */
export function platformNames(): string[] {
  return [...registry.keys()];
}

/** getPlatform constructs the backend `name` over `memoryFile` (see platform/index.ts for the defaults). */
export function getPlatformWith(name: string, memoryFile: MemoryFile): Platform {
  const f = registry.get(name);
  if (!f) throw new Error(`platform "${name}" does not exist (known: ${platformNames().join(', ') || 'none'})`);
  return f(memoryFile);
}
