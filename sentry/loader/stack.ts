/**
 * stack builds a new program's initial stack, as Linux's create_elf_tables and the x86-64
 * psABI (3.4.1) lay it out, from high addresses to low:
 *
 *   stackTop -  8          8 bytes of zero (Linux keeps the top word free)
 *                          execfn string (AT_EXECFN points here)
 *                          envp strings, in order
 *   argStart..argEnd       argv strings, in order (argEnd = envStart)
 *                          spOffset bytes (random with ASLR, as Linux's arch_align_stack)
 *                          platform string "x86_64" (AT_PLATFORM)
 *                          16 random bytes (AT_RANDOM)
 *                          padding so that rsp is 16-byte aligned
 *                          auxv pairs ending with AT_NULL
 *                          NULL, envp[envc-1] ... envp[0]
 *                          NULL, argv[argc-1] ... argv[0]
 *   rsp ->                 argc
 *
 * Limits (fs/exec.c): each string including its NUL may be at most MAX_ARG_STRLEN bytes,
 * and all argv and envp strings plus their pointers may use at most a quarter of the stack
 * rlimit (capped at 3/4 of _STK_LIM = 6 MiB); both fail with E2BIG.
 */
import { Errno, loaderFail, PAGE_SIZE, type LoaderMemory } from './types';

export const AT_NULL = 0, AT_IGNORE = 1, AT_EXECFD = 2, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6,
  AT_BASE = 7, AT_FLAGS = 8, AT_ENTRY = 9, AT_NOTELF = 10, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14,
  AT_PLATFORM = 15, AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_BASE_PLATFORM = 24, AT_RANDOM = 25,
  AT_HWCAP2 = 26, AT_RSEQ_FEATURE_SIZE = 27, AT_RSEQ_ALIGN = 28, AT_EXECFN = 31, AT_SYSINFO_EHDR = 33,
  AT_MINSIGSTKSZ = 51;

/** MAX_ARG_STRLEN is the longest argv/envp string, NUL included (32 pages). */
export const MAX_ARG_STRLEN = 32 * PAGE_SIZE;
/** DEFAULT_STACK_LIMIT is the default RLIMIT_STACK (8 MiB). */
export const DEFAULT_STACK_LIMIT = 8 * 1024 * 1024;
const STK_LIM_CAP = (8 * 1024 * 1024 / 4) * 3;

/** StackSpec is what goes on the initial stack. */
export interface StackSpec {
  argv: string[];
  envp: string[];
  execfn: string;
  /** auxv entries; AT_RANDOM, AT_PLATFORM and AT_EXECFN are set (or added) by the builder. */
  auxv: Array<[number, bigint]>;
  /** random is the 16 bytes AT_RANDOM points at. */
  random: Buffer;
  platform: 'x86_64';
  /** stackLimit is RLIMIT_STACK's soft value (default 8 MiB), for the E2BIG check. */
  stackLimit?: number;
  /**
   * spOffset moves everything below the strings down by this many bytes (below 8192), as
   * Linux's arch_align_stack does with a random count when randomization is on.
   */
  spOffset?: number;
}

/** InitialStack is where things landed; mm keeps argStart..envEnd for /proc/pid/cmdline and environ. */
export interface InitialStack {
  sp: bigint;
  argStart: bigint;
  argEnd: bigint;
  envStart: bigint;
  envEnd: bigint;
  execfn: bigint;
  random: bigint;
  platform: bigint;
  /** auxv is the address of the first auxv pair (for /proc/pid/auxv). */
  auxv: bigint;
  /** bottom is the lowest address written (sp). */
  bottom: bigint;
}

function cstr(s: string, what: string): Buffer {
  const b = Buffer.from(`${s}\0`, 'utf8');
  if (s.includes('\0')) loaderFail(Errno.EINVAL, `${what}: contains a NUL byte`);
  if (b.length > MAX_ARG_STRLEN) loaderFail(Errno.E2BIG, `${what}: ${b.length} bytes exceed MAX_ARG_STRLEN`);
  return b;
}

/** checkArgLimits throws E2BIG when argv+envp exceed Linux's limits for `stackLimit`. */
export function checkArgLimits(argv: readonly string[], envp: readonly string[], stackLimit = DEFAULT_STACK_LIMIT): void {
  let limit = Math.min(STK_LIM_CAP, Math.floor(stackLimit / 4));
  const ptrs = (Math.max(argv.length, 1) + envp.length) * 8;
  if (limit <= ptrs) loaderFail(Errno.E2BIG, `exec: ${argv.length} arguments and ${envp.length} variables exceed the stack limit`);
  limit -= ptrs;
  let total = 0;
  argv.forEach((s, i) => { total += cstr(s, `argv[${i}]`).length; });
  envp.forEach((s, i) => { total += cstr(s, `envp[${i}]`).length; });
  if (total > limit) loaderFail(Errno.E2BIG, `exec: argument and environment strings of ${total} bytes exceed ${limit}`);
}

/** buildInitialStack writes the initial stack below `stackTop` (already mapped) and returns its addresses. */
export function buildInitialStack(mem: LoaderMemory, stackTop: bigint, spec: StackSpec): InitialStack {
  if (stackTop % 16n !== 0n) loaderFail(Errno.EINVAL, `stack: top 0x${stackTop.toString(16)} is not 16-byte aligned`);
  if (spec.random.length !== 16) loaderFail(Errno.EINVAL, `stack: AT_RANDOM needs 16 bytes, got ${spec.random.length}`);
  checkArgLimits(spec.argv, spec.envp, spec.stackLimit);
  let p = stackTop - 8n;
  const push = (b: Buffer): bigint => {
    p -= BigInt(b.length);
    mem.write(p, b);
    return p;
  };
  mem.write(p, Buffer.alloc(8));
  const execfn = push(cstr(spec.execfn, 'execfn'));
  const envEnd = p;
  const envAddrs = spec.envp.map((s, i) => cstr(s, `envp[${i}]`)).reverse().map(push).reverse();
  const envStart = p;
  const argEnd = p;
  const argAddrs = spec.argv.map((s, i) => cstr(s, `argv[${i}]`)).reverse().map(push).reverse();
  const argStart = p;
  p -= BigInt(spec.spOffset ?? 0);
  p &= ~15n;
  const platform = push(cstr(spec.platform, 'platform'));
  p &= ~15n;
  const random = push(spec.random);

  const auxv = spec.auxv.filter(([k]) => k !== AT_NULL && k !== AT_RANDOM && k !== AT_PLATFORM && k !== AT_EXECFN);
  if (spec.auxv.some(([k]) => k === AT_NULL)) loaderFail(Errno.EINVAL, 'stack: auxv must not contain AT_NULL (the builder terminates it)');
  auxv.push([AT_PLATFORM, platform], [AT_RANDOM, random], [AT_EXECFN, execfn], [AT_NULL, 0n]);

  const words: bigint[] = [BigInt(spec.argv.length), ...argAddrs, 0n, ...envAddrs, 0n, ...auxv.flatMap(([k, v]) => [BigInt(k), v])];
  const table = Buffer.alloc(words.length * 8);
  words.forEach((w, i) => table.writeBigUInt64LE(BigInt.asUintN(64, w), i * 8));
  const sp = (p - BigInt(table.length)) & ~15n;
  mem.write(sp, table);
  return {
    sp, argStart, argEnd, envStart, envEnd, execfn, random, platform,
    auxv: sp + BigInt((1 + argAddrs.length + 1 + envAddrs.length + 1) * 8), bottom: sp,
  };
}
