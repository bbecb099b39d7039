/**
 * ptrace-native loads tvisor_ptrace.node and the stub binary, and wraps each addon call
 * with the argument checks the addon relies on (see addon.d.ts for the raw contract).
 *
 * Loading never happens at import time; a failure names every path that was tried.
 * All calls are synchronous and must come from the thread that traces the stub thread:
 * a JavaScript isolate runs on exactly one OS thread, so objects that hold a tid never
 * leave the isolate that attached it.
 */
import { constants as fsConstants, existsSync, openSync } from 'node:fs';
import * as path from 'node:path';
import { HostError } from '../libc';
import type { PtraceAddon } from './addon';

/** REGS_SIZE is sizeof(struct user_regs_struct) on x86-64. */
export const REGS_SIZE = 27 * 8;
/** SIGINFO_SIZE is sizeof(siginfo_t). */
export const SIGINFO_SIZE = 128;

/** nativeSearchDirs lists the directories searched for native build outputs, in order. */
export function nativeSearchDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.TVISOR_NATIVE_DIR) dirs.push(process.env.TVISOR_NATIVE_DIR);
  // The repository root is an ancestor of this file's directory: two levels up from the
  // sources (native/ptrace), one from the bundle (dist/), three from test bundles.
  for (const up of ['../..', '..', '../../..', '.']) dirs.push(path.resolve(__dirname, up));
  return [...new Set(dirs)];
}

/** findFile returns the first existing `dir/rel` over nativeSearchDirs × relatives, or throws naming every path tried. */
export function findFile(what: string, relatives: string[]): string {
  const tried: string[] = [];
  for (const dir of nativeSearchDirs()) {
    for (const rel of relatives) {
      const p = path.join(dir, rel);
      tried.push(p);
      if (existsSync(p)) return p;
    }
  }
  throw new Error(`${what} not found (run make); tried: ${tried.join(', ')}`);
}

/**
 * loadAddonFile loads the node-gyp addon `name` (tvisor_*.node) from the build, naming the
 * file when it cannot; `file` is where it came from (for the callers' layout checks).
 */
export function loadAddonFile<T>(name: string): { exports: T; file: string } {
  const file = findFile(name, [`native/build/Release/${name}`, `build/Release/${name}`]);
  const mod = { exports: {} as T };
  try {
    process.dlopen(mod, file);
  } catch (err) {
    throw new Error(`${name}: cannot load ${file}`, { cause: err });
  }
  return { exports: mod.exports, file };
}

let addon: PtraceAddon | undefined;

/** loadPtraceAddon returns the loaded addon, loading it on first use. */
export function loadPtraceAddon(): PtraceAddon {
  if (addon) return addon;
  const { exports: loaded, file } = loadAddonFile<PtraceAddon>('tvisor_ptrace.node');
  const mod = { exports: loaded };
  if (mod.exports.regsSize !== REGS_SIZE || mod.exports.siginfoSize !== SIGINFO_SIZE) {
    throw new Error(`tvisor_ptrace.node: ${file}: layout mismatch (regs ${mod.exports.regsSize}, siginfo ${mod.exports.siginfoSize})`);
  }
  addon = mod.exports;
  return addon;
}

/** StubName names a static stub binary under build/native (the ptrace or the systrap stub). */
export type StubName = 'tvisor-stub' | 'tvisor-systrap-stub';

/** stubPath returns the path of a static stub binary (the ptrace stub by default). */
export function stubPath(name: StubName = 'tvisor-stub'): string {
  return findFile(name, [`build/native/${name}`]);
}

/** nativeAvailable says why the ptrace native parts cannot be used, or undefined if they can. */
export function nativeUnavailable(): string | undefined {
  try {
    loadPtraceAddon();
    stubPath();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function tid(t: number): number {
  if (!Number.isInteger(t) || t <= 0 || t > 0x3fffffff) throw new RangeError(`tid ${t}: not a thread id`);
  return t;
}

function buf(b: Buffer, len: number, what: string): Buffer {
  if (!Buffer.isBuffer(b) || b.length < len) throw new RangeError(`${what}: need a Buffer of at least ${len} bytes`);
  return b;
}

function ok(call: string, r: number): number {
  if (r < 0) throw new HostError(call, -r);
  return r;
}

const stubFds = new Map<StubName, { fd: number; file: string }>();

/**
 * stubDescriptor opens a stub binary once (close-on-exec) and keeps it: stubs are
 * started from this descriptor (execveat), so that a sentry confined to an empty root
 * (native/confine) still has them.
 */
export function stubDescriptor(name: StubName = 'tvisor-stub'): number {
  return openStub(name).fd;
}

function openStub(name: StubName): { fd: number; file: string } {
  let s = stubFds.get(name);
  if (!s) {
    const file = stubPath(name);
    s = { fd: openSync(file, fsConstants.O_RDONLY | 0o2000000), file };
    stubFds.set(name, s);
  }
  return s;
}

/**
 * spawnStub starts a stub process (`name`) traced by this thread, with `memfd` as its
 * STUB_MEMFD and the page at `batchOffset` of it as its batch page (read-only there:
 * injectBatch's list).
 */
export function spawnStub(memfd: number, name: StubName = 'tvisor-stub', batchOffset = 0): number {
  if (!Number.isInteger(memfd) || memfd < 0) throw new RangeError(`memfd ${memfd}: not a file descriptor`);
  if (!Number.isSafeInteger(batchOffset) || batchOffset < 0 || batchOffset % 4096) throw new RangeError(`batch page offset ${batchOffset}: not a page of the memory file`);
  const s = openStub(name);
  return loadPtraceAddon().spawnStub(s.file, memfd, s.fd, stubIds, batchOffset);
}

/**
 * startStub is spawnStub's first half: the stub's child is cloned and sets itself up and
 * execs while this thread goes on; finishStub(pid) completes it (on this thread), and
 * abandonStub(pid) ends one not wanted after all.
 */
export function startStub(memfd: number, name: StubName, batchOffset: number): number {
  if (!Number.isInteger(memfd) || memfd < 0) throw new RangeError(`memfd ${memfd}: not a file descriptor`);
  if (!Number.isSafeInteger(batchOffset) || batchOffset < 0 || batchOffset % 4096) throw new RangeError(`batch page offset ${batchOffset}: not a page of the memory file`);
  const s = openStub(name);
  return loadPtraceAddon().startStub(s.file, memfd, s.fd, stubIds, batchOffset);
}

/** finishStub runs a stub startStub started on this thread to its ready point; throws if it failed. */
export function finishStub(pid: number): void {
  loadPtraceAddon().finishStub(tid(pid));
}

/**
 * advanceStub takes a stub startStub started on this thread past its exec stop, if it is
 * there already, so that it runs its start-up while this thread goes on (finishStub then
 * only waits for its ready point); true when it did. Never blocks.
 */
export function advanceStub(pid: number): boolean {
  return loadPtraceAddon().advanceStub(tid(pid)) === 1;
}

/** abandonStub kills and reaps a stub startStub started and nobody finished. */
export function abandonStub(pid: number): void {
  loadPtraceAddon().abandonStub(tid(pid));
}

let stubIds = -1;

/**
 * setStubIds makes later stubs start as uid and gid `ids` (-1: as the sentry). A sentry
 * that will drop to an unprivileged uid sets it before its first stub, and back to -1
 * once it has dropped (its stubs then inherit the ids).
 */
export function setStubIds(ids: number): void {
  if (!Number.isInteger(ids) || ids < -1) throw new RangeError(`stub ids ${ids}: not a uid`);
  stubIds = ids;
}

/** injectSyscall runs host syscall `nr` in the stopped stub thread `t`; returns its raw result. */
export function injectSyscall(t: number, nr: number, args: readonly number[]): number {
  if (args.length > 6 || !args.every(Number.isSafeInteger)) throw new RangeError(`syscall ${nr}: bad arguments ${args.join(',')}`);
  const a = [...args, 0, 0, 0, 0, 0, 0];
  return loadPtraceAddon().injectSyscall(tid(t), nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/**
 * startSyscall resumes stopped stub thread `t` at the inject gadget for host syscall `nr`
 * without waiting, on any CPU (its pinning undone); finishSyscall(t) waits for its stop
 * and returns the call's raw result. Nothing else may be asked of `t` in between.
 */
export function startSyscall(t: number, nr: number, args: readonly number[]): void {
  if (args.length > 6 || !args.every(Number.isSafeInteger)) throw new RangeError(`syscall ${nr}: bad arguments ${args.join(',')}`);
  const a = [...args, 0, 0, 0, 0, 0, 0];
  ok('stub syscall start', loadPtraceAddon().startSyscall(tid(t), nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

/** finishSyscall waits for the call startSyscall started in `t`; returns its raw result (or -errno of the ptrace machinery). */
export function finishSyscall(t: number): number {
  return loadPtraceAddon().finishSyscall(tid(t));
}

const pollOut = new Float64Array(1);

/** pollSyscall looks, without waiting, whether the call startSyscall started in `t` has stopped: its raw result, or undefined when it runs still (finishSyscall must not follow a result). */
export function pollSyscall(t: number): number | undefined {
  const r = loadPtraceAddon().pollSyscall(tid(t), pollOut);
  if (r < 0) return r;
  return r === 1 ? pollOut[0] : undefined;
}

/** BATCH_MAX is how many calls one injectBatch runs at most (a page of 64-byte entries: native/stub/layout.h). */
export const BATCH_MAX = 64;
/** BATCH_ENTRY_SIZE is the size of one entry of the batch page: nr, 6 arguments, a pad quadword. */
export const BATCH_ENTRY_SIZE = 64;

const batchOut = new Float64Array(2);

/**
 * injectBatch runs the first `count` entries the caller wrote to stub thread `t`'s batch
 * page in one stop; returns how many completed and the last result (the failing call's
 * -errno when not all completed), or throws a HostError for the ptrace machinery's failure.
 */
export function injectBatch(t: number, count: number): { done: number; result: number } {
  if (!Number.isInteger(count) || count <= 0 || count > BATCH_MAX) throw new RangeError(`batch of ${count} calls: 1 to ${BATCH_MAX}`);
  const r = loadPtraceAddon().injectBatch(tid(t), count, batchOut);
  if (r < 0) throw new HostError(`stub thread ${t}: batch of ${count} calls`, -r);
  return { done: batchOut[0], result: batchOut[1] };
}

/** cloneThread creates a new stub thread from `t`, stopped and traced by this thread. */
export function cloneThread(t: number): number {
  return ok('stub clone', loadPtraceAddon().cloneThread(tid(t)));
}

/** switchThread is the hot path: see addon.d.ts. The caller owns regs/siginfo sizes. */
export function switchThread(t: number, regs: Buffer, siginfo: Buffer, state: Int32Array, fp: Buffer | null): number {
  return loadPtraceAddon().switchThread(t, regs, siginfo, state, fp);
}

/** pinThread pins stub thread `t` to the calling thread's CPU before injected calls (see addon.d.ts); `state` is its StubThread's. */
export function pinThread(t: number, state: Int32Array): void {
  loadPtraceAddon().pinThread(tid(t), state);
}

/** threadCpuNs returns the calling thread's CPU time in ns (0 when the host refuses). */
export function threadCpuNs(): number {
  return Math.max(0, loadPtraceAddon().threadCpuNs());
}

/** readTsc returns the time-stamp counter (the clock source of the vDSO: sentry/kernel/vdso-clock.ts). */
export function readTsc(): bigint {
  return loadPtraceAddon().readTsc();
}

/** processCpuNs returns the CPU time (ns) of stub process `pid`, or undefined when it is gone. */
export function processCpuNs(pid: number): number | undefined {
  const r = loadPtraceAddon().processCpuNs(tid(pid));
  return r >= 0 ? r : undefined;
}

/** checkSwitchArgs validates once what switchThread's callers then reuse on every call. */
export function checkSwitchArgs(t: number, regs: Buffer, siginfo: Buffer, state: Int32Array): void {
  tid(t);
  buf(regs, REGS_SIZE, 'registers');
  buf(siginfo, SIGINFO_SIZE, 'siginfo');
  if (!(state instanceof Int32Array) || state.length < 2) throw new RangeError('switch state: need an Int32Array of 2');
}

/** getRegs reads the registers of stopped thread `t` into `regs`. */
export function getRegs(t: number, regs: Buffer): void {
  ok('PTRACE_GETREGS', loadPtraceAddon().getRegs(tid(t), buf(regs, REGS_SIZE, 'registers')));
}

/** setRegs writes the registers of stopped thread `t`. */
export function setRegs(t: number, regs: Buffer): void {
  ok('PTRACE_SETREGS', loadPtraceAddon().setRegs(tid(t), buf(regs, REGS_SIZE, 'registers')));
}

/** getFpState reads the xsave image of stopped thread `t` into `out`; returns its size. */
export function getFpState(t: number, out: Buffer): number {
  return ok('PTRACE_GETREGSET', loadPtraceAddon().getFpState(tid(t), buf(out, 512, 'fp state')));
}

/** parkAndDetach detaches stopped thread `t`, leaving it parked for another tracer. */
export function parkAndDetach(t: number): void {
  ok('PTRACE_DETACH', loadPtraceAddon().parkAndDetach(tid(t)));
}

/** seize attaches parked stub thread `t` to this thread and stops it. */
export function seize(t: number): void {
  ok('PTRACE_SEIZE', loadPtraceAddon().seize(tid(t)));
}

/** exitThread ends stub thread `t` (only that thread) and reaps it. */
export function exitThread(t: number): void {
  ok('stub exit', loadPtraceAddon().exitThread(tid(t)));
}

/** waitThread returns the next wait status of `t`, or undefined when nohang and none is ready. */
export function waitThread(t: number, nohang: boolean): number | undefined {
  const r = loadPtraceAddon().waitThread(tid(t), nohang);
  if (r === -11) return undefined; // EAGAIN: nothing yet
  return ok('waitpid', r);
}
