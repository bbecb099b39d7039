/**
 * seccomp.ts turns the host-syscall table into each process's filter and installs it on
 * the calling process: PR_SET_NO_NEW_PRIVS, then seccomp(SECCOMP_SET_MODE_FILTER,
 * SECCOMP_FILTER_FLAG_TSYNC), so that every thread Node has started (V8's platform
 * workers, libuv's pool) gets the filter at once and every later thread inherits it.
 *
 * Modes (what an unlisted call, or a listed one whose arguments fail, gets):
 *   kill   SECCOMP_RET_KILL_PROCESS: the whole process dies of SIGSYS at once.
 *   trap   SECCOMP_RET_TRAP (--debug): the addon's SIGSYS handler writes one line naming
 *          the syscall to the debug log and ends the process (exit status 159). Allowed
 *          calls cost the same in both modes: only the default return value differs.
 *   log    SECCOMP_RET_LOG: the call goes through and the kernel reports it in its audit
 *          log (dmesg: `type=1326 ... syscall=N`; it drops reports under load).
 */
import { HostError } from '../libc';
import { loadPtraceAddon } from '../ptrace/ptrace-native';
import { compileFilter, encodeFilter, RET, type Insn, type IpRange, type Rule } from './bpf';
import { hostSyscallsOf, type RuntimeValues } from './host-syscalls';
import { installProgram, precompiledProgram, SECCOMP_MODES, STUB_FD_PLACEHOLDER, type SeccompMode } from './seccomp-program';

export { SECCOMP_MODES, STUB_FD_PLACEHOLDER, withStubFd, type SeccompMode } from './seccomp-program';

const ENOSYS = 38;
const ALL = (1n << 64n) - 1n;

const DEFAULT: Readonly<Record<SeccompMode, number>> = { kill: RET.KILL_PROCESS, trap: RET.TRAP, log: RET.LOG };

/**
 * rulesFor returns the filter rules of `who`'s table rows (stub rows are the stub's own
 * filter, not built here), with `values` put in for the table's runtime values.
 */
export function rulesFor(who: 'sentry' | 'gofer', values: RuntimeValues): Rule[] {
  return hostSyscallsOf(who).map((r) => ({
    nr: r.nr,
    action: r.action === 'enosys' ? RET.ERRNO | ENOSYS : RET.ALLOW,
    alternatives: r.args?.map((alt) => alt.map((t) => {
      // A runtime value is an int (a descriptor): its bits as the test's mask sees them.
      const v = typeof t.value === 'bigint' ? t.value : BigInt.asUintN(64, BigInt(values[t.value])) & (t.mask ?? ALL);
      return { ...t, value: v };
    })),
  }));
}

/**
 * VSYSCALL_PAGE is the legacy vsyscall page. A call there from a stub is emulated by the
 * host kernel, which asks seccomp first: the stub's own filter traps it (SIGSYS) for the
 * sentry to emulate (sentry/kernel/vsyscall.ts). A stub started after the sentry's
 * confinement also carries the sentry's filter, and the strictest answer of the two wins:
 * so the sentry's filter traps calls from that page too, rather than killing the stub.
 */
export const VSYSCALL_PAGE: IpRange = { lo: 0xffffffffff600000n, hi: 0xffffffffff601000n, action: RET.TRAP };

/** filterFor compiles `who`'s allowlist with the mode's default action. */
export function filterFor(who: 'sentry' | 'gofer', mode: SeccompMode, values: RuntimeValues): Insn[] {
  return compileFilter(rulesFor(who, values), DEFAULT[mode], who === 'sentry' ? [VSYSCALL_PAGE] : []);
}

/**
 * precompile compiles `who`'s program in each of `modes` (default: all), with the
 * placeholder for runtime values, as base64 keyed `who:mode`. scripts/build.mjs embeds the
 * kill mode's in `who`'s bundle (process.env.TVISOR_HOST_FILTERS), so that a starting
 * sentry or gofer does not compile its filter (that cost the gofer ~0.8 MB of V8 heap, two
 * pages, measured here); programFor compiles any other at run time.
 */
export function precompile(who: 'sentry' | 'gofer', modes: readonly SeccompMode[] = SECCOMP_MODES): Record<string, string> {
  const out: Record<string, string> = {};
  for (const mode of modes) out[`${who}:${mode}`] = encodeFilter(filterFor(who, mode, { stubFd: STUB_FD_PLACEHOLDER })).toString('base64');
  return out;
}

/** programFor returns `who`'s encoded program: the bundle's precompiled one when there is one. */
function programFor(who: 'sentry' | 'gofer', mode: SeccompMode, values: RuntimeValues): Buffer {
  return precompiledProgram(who, mode, values.stubFd) ?? encodeFilter(filterFor(who, mode, values));
}

/** ConfineOptions say how to report what the filter refuses. */
export interface ConfineOptions {
  mode: SeccompMode;
  /** debugFd receives the trap mode's line (default 2). */
  debugFd?: number;
  /** names[nr] names each syscall for that line. */
  names?: (string | undefined)[];
  /** values are the table's runtime values (the sentry's stub descriptor; -1 where none). */
  values?: RuntimeValues;
}

/**
 * prepareSeccomp compiles `who`'s allowlist and, in trap mode, installs the SIGSYS
 * reporter (it loads the native addon: call it while the addon's path is still there,
 * before the pivot). It returns the installer, to be called once the process is ready.
 */
export function prepareSeccomp(who: 'sentry' | 'gofer', o: ConfineOptions): () => void {
  if (o.mode === 'trap') {
    const r = loadPtraceAddon().reportSigsys(o.debugFd ?? 2, `tvisor ${who} (pid ${process.pid})`, o.names ?? []);
    if (r < 0) throw new HostError('sigaction(SIGSYS)', -r);
  }
  const prog = programFor(who, o.mode, o.values ?? { stubFd: -1 });
  return () => installProgram(prog);
}

/**
 * installSeccomp puts the calling process under `who`'s allowlist, on all its threads.
 * It throws HostError when the kernel refuses (no filter is then installed).
 */
export function installSeccomp(who: 'sentry' | 'gofer', o: ConfineOptions): void {
  prepareSeccomp(who, o)();
}
