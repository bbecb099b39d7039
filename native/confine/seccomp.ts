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
import { HostError, lastErrno, libcFunc } from '../libc';
import koffi from '../koffi';
import { loadPtraceAddon } from '../ptrace/ptrace-native';
import { compileFilter, encodeFilter, RET, type Insn, type IpRange, type Rule } from './bpf';
import { hostSyscallsOf, type RuntimeValues } from './host-syscalls';

/** SeccompMode says what a filter does with a call it does not allow (see the module comment). */
export type SeccompMode = 'kill' | 'trap' | 'log';

/** SECCOMP_MODES lists the modes a command line may name. */
export const SECCOMP_MODES: readonly SeccompMode[] = ['kill', 'trap', 'log'];

const ENOSYS = 38;
const ALL = (1n << 64n) - 1n;
const PR_SET_NO_NEW_PRIVS = 38;
const SYS_seccomp = 317;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;

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

/** STUB_FD_PLACEHOLDER stands for the sentry's stub descriptor in programs compiled ahead of time. */
export const STUB_FD_PLACEHOLDER = 0x7ffffff0;

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

/** withStubFd puts the stub descriptor in place of the placeholder in an encoded program. */
export function withStubFd(prog: Buffer, stubFd: number): Buffer {
  for (let o = 4; o < prog.length; o += 8) if (prog.readUInt32LE(o) === STUB_FD_PLACEHOLDER) prog.writeUInt32LE(stubFd >>> 0, o);
  return prog;
}

/** programFor returns `who`'s encoded program: the bundle's precompiled one when there is one. */
function programFor(who: 'sentry' | 'gofer', mode: SeccompMode, values: RuntimeValues): Buffer {
  const pre = process.env.TVISOR_HOST_FILTERS;
  const b64 = pre ? (JSON.parse(pre) as Record<string, string>)[`${who}:${mode}`] : undefined;
  if (b64) return withStubFd(Buffer.from(b64, 'base64'), values.stubFd);
  return encodeFilter(filterFor(who, mode, values));
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
  return () => install(prog);
}

/**
 * installSeccomp puts the calling process under `who`'s allowlist, on all its threads.
 * It throws HostError when the kernel refuses (no filter is then installed).
 */
export function installSeccomp(who: 'sentry' | 'gofer', o: ConfineOptions): void {
  prepareSeccomp(who, o)();
}

/** install applies a compiled program to every thread, with no_new_privs. */
function install(prog: Buffer): void {
  // struct sock_fprog: unsigned short len; (6 bytes padding) struct sock_filter *filter.
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(prog.length / 8, 0);
  fprog.writeBigUInt64LE(BigInt(koffi.address(prog)), 8);
  // SAFETY: prctl with constant arguments; only ever tightens what this process may do.
  if ((libcFunc('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)')(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as number) < 0) {
    throw new HostError('prctl(PR_SET_NO_NEW_PRIVS)', lastErrno());
  }
  // SAFETY: fprog points at `prog`, alive for the call; the kernel copies the program.
  // With TSYNC a positive result is the id of a thread that could not be synchronised.
  const r = Number(libcFunc('long syscall(long nr, unsigned int op, unsigned int flags, void *prog)')(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, fprog));
  if (r < 0) throw new HostError('seccomp(SECCOMP_SET_MODE_FILTER)', lastErrno());
  if (r > 0) throw new Error(`seccomp: thread ${r} could not take the filter`);
}
