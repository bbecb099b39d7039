/**
 * seccomp-program.ts: a sandbox process's seccomp program as its bundle embeds it, and the
 * install of a compiled program (seccomp.ts compiles the others and says what the modes do).
 *
 * scripts/build.mjs compiles each process's kill-mode program once and embeds it in that
 * process's bundle (process.env.TVISOR_HOST_FILTERS). This module reads and installs it
 * without the host-syscall table and the BPF compiler, so that a process started in a
 * precompiled mode can leave those unevaluated: the gofer imports only this module for its
 * default mode and seccomp.ts, lazily, for the others (gofer/main.ts).
 */
import { HostError, lastErrno, libcFunc } from '../libc';
import koffi from '../koffi';

/** SeccompMode says what a filter does with a call it does not allow (see seccomp.ts). */
export type SeccompMode = 'kill' | 'trap' | 'log';

/** SECCOMP_MODES lists the modes a command line may name. */
export const SECCOMP_MODES: readonly SeccompMode[] = ['kill', 'trap', 'log'];

const PR_SET_NO_NEW_PRIVS = 38;
const SYS_seccomp = 317;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;

/** STUB_FD_PLACEHOLDER stands for the sentry's stub descriptor in programs compiled ahead of time. */
export const STUB_FD_PLACEHOLDER = 0x7ffffff0;

/** withStubFd puts the stub descriptor in place of the placeholder in an encoded program. */
export function withStubFd(prog: Buffer, stubFd: number): Buffer {
  for (let o = 4; o < prog.length; o += 8) if (prog.readUInt32LE(o) === STUB_FD_PLACEHOLDER) prog.writeUInt32LE(stubFd >>> 0, o);
  return prog;
}

/**
 * precompiledProgram returns `who`'s encoded program in `mode` as the bundle embeds it, with
 * `stubFd` put in for the placeholder; undefined when the bundle holds none for that mode
 * (or when run from source: then seccomp.ts compiles it).
 */
export function precompiledProgram(who: 'sentry' | 'gofer', mode: SeccompMode, stubFd: number): Buffer | undefined {
  const pre = process.env.TVISOR_HOST_FILTERS;
  const b64 = pre ? (JSON.parse(pre) as Record<string, string>)[`${who}:${mode}`] : undefined;
  return b64 ? withStubFd(Buffer.from(b64, 'base64'), stubFd) : undefined;
}

/**
 * installProgram applies an encoded program to every thread of the calling process, with
 * no_new_privs. It throws HostError when the kernel refuses (no filter is then installed).
 */
export function installProgram(prog: Buffer): void {
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(prog.length / 8, 0);
  // SAFETY: struct sock_fprog { u16 len; filter* @8 }: prog outlives the call, and the
  // kernel copies the filter during it.
  fprog.writeBigUInt64LE(BigInt(koffi.address(prog)), 8);
  if ((libcFunc('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)')(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as number) < 0) {
    throw new HostError('prctl(PR_SET_NO_NEW_PRIVS)', lastErrno());
  }
  const r = Number(libcFunc('long syscall(long nr, unsigned int op, unsigned int flags, void *prog)')(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, fprog));
  if (r < 0) throw new HostError('seccomp(SECCOMP_SET_MODE_FILTER)', lastErrno());
  if (r > 0) throw new Error(`seccomp: thread ${r} could not take the filter`);
}
