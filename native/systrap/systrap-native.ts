/**
 * systrap-native loads tvisor_systrap.node and wraps its calls with the argument checks
 * the addon relies on (addon.d.ts is the raw contract). Loading happens on first use and
 * names every path tried when it fails (the search is ptrace-native's).
 */
import { HostError } from '../libc';
import { REGS_SIZE, loadAddonFile, stubPath } from '../ptrace/ptrace-native';
import type { SystrapAddon, SystrapStamps } from './addon';

export type { SystrapStamps } from './addon';

/** BLOCK_SIZE mirrors SYSTRAP_BLOCK_SIZE (layout.h). */
export const BLOCK_SIZE = 0x8000;
/** INFO_SIZE is the size of the event-info buffer switchThread fills. */
export const INFO_SIZE = 32;

/** SwitchKind is what switchThread and awaitEvent return (addon.cc's enum). */
export const SwitchKind = { Syscall: 0, Fault: 1, Interrupted: 2, Exited: 3, Broken: 4, Event: 5 } as const;
/** SwitchKind is one of the values above. */
export type SwitchKind = (typeof SwitchKind)[keyof typeof SwitchKind];

let addon: SystrapAddon | undefined;

/** loadSystrapAddon returns the loaded addon, loading it on first use. */
export function loadSystrapAddon(): SystrapAddon {
  if (addon) return addon;
  const { exports: loaded, file } = loadAddonFile<SystrapAddon>('tvisor_systrap.node');
  const mod = { exports: loaded };
  if (mod.exports.regsSize !== REGS_SIZE || mod.exports.blockSize !== BLOCK_SIZE) {
    throw new Error(`tvisor_systrap.node: ${file}: layout mismatch (regs ${mod.exports.regsSize}, block ${mod.exports.blockSize})`);
  }
  addon = mod.exports;
  return addon;
}

let fsGsBase: boolean | undefined;

/**
 * hostHasFsGsBase says whether user mode may use rdfsbase/wrfsbase here (HWCAP2_FSGSBASE).
 * Some hypervisors hide it; the stub then loads fs/gs bases with arch_prctl (stub.S).
 * TVISOR_SYSTRAP_NO_FSGSBASE=1 takes that path on any host (the platform tests run both).
 */
export function hostHasFsGsBase(): boolean {
  if (process.env.TVISOR_SYSTRAP_NO_FSGSBASE === '1') return false;
  fsGsBase ??= loadSystrapAddon().fsgsbase();
  return fsGsBase;
}

/** systrapUnavailable says why the systrap native parts cannot be used here, or undefined if they can. */
export function systrapUnavailable(): string | undefined {
  try {
    loadSystrapAddon();
    stubPath('tvisor-systrap-stub');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function check(block: Buffer, blockStub: number, pid: number, tid: number): void {
  if (!Buffer.isBuffer(block) || block.length < BLOCK_SIZE) throw new RangeError(`systrap block: need a Buffer of ${BLOCK_SIZE} bytes`);
  if (!Number.isSafeInteger(blockStub) || blockStub % BLOCK_SIZE) throw new RangeError(`systrap block address ${blockStub}: not aligned`);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(tid) || tid <= 0) throw new RangeError(`systrap thread ${pid}/${tid}: not a thread id`);
}

/** checkSwitchArgs validates once what switchThread's callers then reuse on every call. */
export function checkSwitchArgs(block: Buffer, blockStub: number, regs: Buffer, info: Buffer, pid: number, tid: number): void {
  check(block, blockStub, pid, tid);
  if (!Buffer.isBuffer(regs) || regs.length < REGS_SIZE) throw new RangeError(`registers: need a Buffer of ${REGS_SIZE} bytes`);
  if (!Buffer.isBuffer(info) || info.length < INFO_SIZE) throw new RangeError(`event info: need a Buffer of ${INFO_SIZE} bytes`);
}

/** switchThread is the hot path (arguments checked once by checkSwitchArgs): see addon.d.ts. */
export function switchThread(block: Buffer, blockStub: number, regs: Buffer, info: Buffer, pid: number, tid: number, pin: Int32Array): SwitchKind {
  const r = loadSystrapAddon().switchThread(block, blockStub, regs, info, pid, tid, pin);
  if (r < 0) throw new HostError('systrap switch', -r);
  return r as SwitchKind;
}

/** awaitEvent waits for the first event of a new stub thread. */
export function awaitEvent(block: Buffer, blockStub: number, pid: number, tid: number): SwitchKind {
  check(block, blockStub, pid, tid);
  return loadSystrapAddon().awaitEvent(block, blockStub, pid, tid) as SwitchKind;
}

/** endThread makes the stub thread waiting at an event in `block` exit. */
export function endThread(block: Buffer): void {
  if (!Buffer.isBuffer(block) || block.length < BLOCK_SIZE) throw new RangeError(`systrap block: need a Buffer of ${BLOCK_SIZE} bytes`);
  loadSystrapAddon().endThread(block);
}

/** SPIN_LIMIT_NS is the largest spin bound setSpinBounds takes (the sentry's 50 ms kick). */
export const SPIN_LIMIT_NS = 50e6;

/**
 * setSpinBounds sets how long (ns) the sentry spins for a stub's event, and a stub for
 * the sentry's answer, before sleeping on the futex, when the recent round trips were
 * short (addon.cc); 0 turns that side's spinning off. The defaults are 20 us each.
 */
export function setSpinBounds(sentryNs: number, stubNs: number): void {
  for (const n of [sentryNs, stubNs]) {
    if (!Number.isInteger(n) || n < 0 || n > SPIN_LIMIT_NS) throw new RangeError(`spin bound ${n} ns: not between 0 and ${SPIN_LIMIT_NS}`);
  }
  loadSystrapAddon().setSpin(sentryNs, stubNs);
}

/** Placement is where a stub thread runs against the sentry thread that switches to it (addon.cc's Placement). */
export type Placement = 'auto' | 'spread' | 'pinned';
const PLACEMENTS: Placement[] = ['auto', 'spread', 'pinned'];

/**
 * setPlacement sets the placement of this process's round trips: `spread` (both sides
 * may spin, each on a CPU of its own), `pinned` (the stub thread on the sentry thread's
 * CPU, a futex hand-off, no spinning), or `auto` (the default: pinned while the machine
 * has more runnable threads than CPUs, spread otherwise).
 */
export function setPlacement(p: Placement): void {
  const mode = PLACEMENTS.indexOf(p);
  if (mode < 0) throw new RangeError(`placement ${p}: not one of ${PLACEMENTS.join(', ')}`);
  loadSystrapAddon().setPlacement(mode);
}

/** setStamps starts (zeroed) or stops the debug stamps of this thread's round trips. */
export function setStamps(on: boolean): void {
  loadSystrapAddon().setStamps(on);
}

/** stamps returns the stamp sums since setStamps(true). */
export function stamps(): SystrapStamps {
  return loadSystrapAddon().stamps();
}
