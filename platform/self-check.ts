/**
 * self-check tells whether a registered platform works on this host by using it: it
 * creates the backend over a small memory file of its own, maps a few instructions into a
 * new address space and runs them in a new context. The code makes getpid, whose answer
 * the check sets, then exit with that answer as its argument: the check passes only if
 * both syscalls reached it with the registers it expects, so a backend whose host support
 * is missing (no seccomp RET_TRAP, no ptrace, no /dev/kvm, a stub that does not start)
 * fails with the reason its first failing step gave.
 *
 * Before those, the code calls uprobe (336) and uretprobe (335), which must stop in the
 * check like any other call. Since Linux 6.11 (uretprobe) and 6.16 (uprobe) seccomp lets
 * both through without asking the filter, so under systrap they reach the host kernel:
 * either kills the caller with SIGILL (uprobe answered ENXIO before 6.18) when not
 * called from a uprobe trampoline. That is harmless to the host, but it is an application
 * syscall the sentry never saw: such a backend still works (explicitly chosen), yet it is
 * not the default, and the check says why (`passesThrough`).
 *
 * `tvisor platforms` prints these results and marks the default: openDefaultPlatform is
 * what a sentry started without --platform uses (systrap where its check passes on the
 * sentry's own memory file, else ptrace), with a line for its debug log saying which and why.
 */
import * as os from 'node:os';
// From index, not platform: index registers every backend.
import { reapAllStubs } from './ptrace/address-space';
import { getPlatformWith, MemoryFile, platformNames, PROT_EXEC, PROT_READ, Registers, type AddressSpace, type Context, type FileRange, type Platform } from './index';

/** PlatformCheck is the outcome of one backend's self-check. */
export interface PlatformCheck {
  readonly name: string;
  readonly works: boolean;
  /** reason says why it does not work (the first step that failed). */
  readonly reason?: string;
  /** passesThrough names the calls that reached the host without a trap (it works, but
   * is not made the default). */
  readonly passesThrough?: string;
}

const SYS_getpid = 39, SYS_exit = 60, SYS_uretprobe = 335, SYS_uprobe = 336;
/** ANSWER is the value the check gives getpid; the code passes it to exit. */
const ANSWER = 4242;
/** ENOSYS is the check's answer to uprobe and uretprobe; SIGILL what either gives outside a trampoline. */
const ENOSYS = 38, SIGILL = 4;
/** CODE: mov $336,%eax; syscall; mov $335,%eax; syscall; mov $39,%eax; syscall;
 * mov %rax,%rdi; mov $60,%eax; syscall; ud2. */
const CODE = Buffer.from([
  0xb8, 0x50, 0x01, 0, 0, 0x0f, 0x05, 0xb8, 0x4f, 0x01, 0, 0, 0x0f, 0x05,
  0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x48, 0x89, 0xc7, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b,
]);
const PAGE = 4096;

/** syscallOf is the syscall number a switch stopped at, or undefined for another event. */
function syscallOf(r: ReturnType<Context['switch']>, regs: Registers): number | undefined {
  return r.kind === 'syscall' ? regs.sysno : undefined;
}

/** describe renders a switch result for a reason line. */
function describe(r: ReturnType<Context['switch']>, regs: Registers): string {
  return r.kind === 'syscall' ? `syscall ${regs.sysno}` : JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
}

/** CheckOutcome is what runCheck saw: nothing wrong, a failure, or calls passed through. */
interface CheckOutcome {
  readonly why?: string;
  readonly passesThrough?: string;
}

/** runCheck runs the check's code on `platform`. */
function runCheck(platform: Platform): CheckOutcome {
  let as: AddressSpace | undefined;
  let ctx: Context | undefined;
  let range: FileRange | undefined;
  try {
    as = platform.newAddressSpace();
    range = platform.memoryFile.allocate(PAGE);
    platform.memoryFile.view(range.offset, PAGE).set(CODE);
    const entry = Math.max(platform.minUserAddress, 0x400000);
    as.mapFile(entry, range, PROT_READ | PROT_EXEC);
    ctx = platform.newContext();
    const regs = Registers.forEntry(BigInt(entry), 0n);
    let r = ctx.switch(as, regs, platform.newFpState());
    // uprobe, then uretprobe, each answered ENOSYS. One that reached the host shows as the
    // next call stopping first (uprobe's ENXIO, then uretprobe's), or as uretprobe's SIGILL.
    for (const [nr, name] of [[SYS_uprobe, 'uprobe'], [SYS_uretprobe, 'uretprobe']] as const) {
      const got = syscallOf(r, regs);
      if (got !== nr) {
        const sigill = (r.kind === 'fault' || r.kind === 'exited') && r.signal === SIGILL;
        if (got === SYS_getpid || got === SYS_uretprobe || sigill) {
          return { passesThrough: `${name} (${nr}) reached the host without a trap (the kernel's seccomp lets it through: ${describe(r, regs)} came first)` };
        }
        return { why: `the round trip for ${name} gave ${describe(r, regs)}, not ${name}` };
      }
      regs.setReturn(-ENOSYS);
      r = ctx.switch(as, regs);
    }
    if (syscallOf(r, regs) !== SYS_getpid) return { why: `the first round trip gave ${describe(r, regs)}, not getpid` };
    regs.setReturn(ANSWER);
    const second = ctx.switch(as, regs);
    if (syscallOf(second, regs) !== SYS_exit) return { why: `the second round trip gave ${describe(second, regs)}, not exit` };
    if (regs.arg(0) !== BigInt(ANSWER)) return { why: `the answer to getpid came back as ${regs.arg(0)}, not ${ANSWER}` };
    return {};
  } finally {
    ctx?.release();
    as?.release();
    // The page goes back: a sentry's check runs over the memory file it then uses.
    if (range) platform.memoryFile.free(range);
  }
}

/** checkPlatform runs the self-check of backend `name`. It never throws: a failure is a reason. */
export function checkPlatform(name: string): PlatformCheck {
  let mf: MemoryFile | undefined;
  let platform: Platform | undefined;
  try {
    mf = MemoryFile.create({ name: 'tvisor-self-check' });
    platform = getPlatformWith(name, mf);
    const { why, passesThrough } = runCheck(platform);
    if (why) return { name, works: false, reason: why };
    return passesThrough ? { name, works: true, passesThrough } : { name, works: true };
  } catch (err) {
    return { name, works: false, reason: (err as Error).message.split('\n')[0] };
  } finally {
    try {
      platform?.release();
      mf?.close();
    } catch {
      // a backend that failed half-way may not release cleanly: the check's result stands
    }
  }
}

/** DEFAULT_PLATFORM is the backend a sentry uses without --platform where its check passes; FALLBACK_PLATFORM the one it uses otherwise. */
export const DEFAULT_PLATFORM = 'systrap';
export const FALLBACK_PLATFORM = 'ptrace';

/** DefaultPlatform is openDefaultPlatform's result: the backend, and one line saying why it was chosen. */
export interface DefaultPlatform {
  readonly platform: Platform;
  readonly note: string;
}

/**
 * openDefaultPlatform creates the default backend over `memoryFile`: `preferred` (systrap)
 * if its self-check passes there, else `fallback` (ptrace), which is not checked first
 * (it is what ran before there was a choice; its own failure then is the sandbox's
 * error). The check costs one stub started and two round trips; the backend keeps that
 * stub's spare for the sandbox's first address space.
 */
export function openDefaultPlatform(memoryFile: MemoryFile, preferred = DEFAULT_PLATFORM, fallback = FALLBACK_PLATFORM, release = os.release()): DefaultPlatform {
  let platform: Platform | undefined;
  let why: string | undefined;
  if (preferred === 'systrap' && kernelHasUretprobe(release)) {
    // Not checked at each start: a stub spawned to be told what the kernel's version says.
    return { platform: getPlatformWith(fallback, memoryFile), note: `platform ${fallback}: the default here, since ${preferred} would let uretprobe (335) reach the host on Linux ${release} (6.11 and later; tvisor platforms runs the check)` };
  }
  try {
    platform = getPlatformWith(preferred, memoryFile);
    const outcome = runCheck(platform);
    // The check's stub is reaped now rather than by the release's timer, which a busy
    // sandbox runs late: until then it would be one more child of the sentry.
    reapAllStubs();
    if (!outcome.why && !outcome.passesThrough) return { platform, note: `platform ${preferred}: the default (its self-check passed)` };
    why = outcome.why ?? outcome.passesThrough;
  } catch (err) {
    why = (err as Error).message.split('\n')[0];
  }
  try {
    platform?.release();
  } catch {
    // a backend that failed half-way may not release cleanly: the fallback runs anyway
  }
  return { platform: getPlatformWith(fallback, memoryFile), note: `platform ${fallback}: the default here, since ${preferred}'s self-check failed: ${why}` };
}

/**
 * kernelHasUretprobe tells whether Linux `release` is 6.11 or later: the kernels with the
 * uretprobe syscall, which seccomp let through unfiltered once that was added (later 6.1x
 * releases and their stable updates). A sentry does not run systrap's check there to be
 * told so; `tvisor platforms` still runs it (passesThrough).
 */
export function kernelHasUretprobe(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const major = Number(m[1]), minor = Number(m[2]);
  return major > 6 || (major === 6 && minor >= 11);
}

/** checkPlatforms runs the self-check of every registered backend, in registration order. */
export function checkPlatforms(): PlatformCheck[] {
  return platformNames().map(checkPlatform);
}

/** defaultOf names the backend a sentry would use without --platform, given the checks (as openDefaultPlatform decides). */
export function defaultOf(checks: readonly PlatformCheck[], release = os.release()): string {
  const ok = checks.some((c) => c.name === DEFAULT_PLATFORM && c.works && !c.passesThrough);
  return ok && !(DEFAULT_PLATFORM === 'systrap' && kernelHasUretprobe(release)) ? DEFAULT_PLATFORM : FALLBACK_PLATFORM;
}

/**
 * renderPlatformChecks prints the checks, one line each (`table`, the default's marked
 * `(default)`) or as a JSON array (the default's entry with `default: true`).
 */
export function renderPlatformChecks(checks: readonly PlatformCheck[], format: 'table' | 'json', release = os.release()): string {
  const chosen = defaultOf(checks, release);
  if (format === 'json') return `${JSON.stringify(checks.map((c) => (c.name === chosen ? { ...c, default: true } : c)), null, 2)}\n`;
  const width = Math.max(...checks.map((c) => c.name.length));
  const state = (c: PlatformCheck) => (!c.works ? `does not work: ${c.reason}` : c.passesThrough ? `works, not the default: ${c.passesThrough}` : 'works');
  return checks.map((c) => `${c.name.padEnd(width)}  ${state(c)}${c.name === chosen ? ' (default)' : ''}\n`).join('');
}
