/**
 * title shows the host what runs in a stub process: the application's name as its comm
 * and the application's arguments as its /proc/<pid>/cmdline, so that `ps` on the host
 * (and `docker top`, which runs it on the pids `tvisor ps` gives) lists the container's
 * processes by name, as it does under runc.
 *
 * The stub has no capability, so prctl's PR_SET_MM_ARG_START (CAP_SYS_RESOURCE) is out;
 * PR_SET_MM_MAP is not, when it leaves the executable alone (exe_fd -1). The host reads a
 * command line from anonymous mappings only (FOLL_ANON: never from the memory file's
 * shared ones), so the arguments are copied into the stub's title page (native/stub/
 * layout.h: anonymous, read-only but while the sentry fills it, so that the application
 * finds nothing it can write there). Five calls at the inject gadget, each allowed by
 * both stubs' filters (native/stub/bpf.h): mprotect(title, RW) (the first time: mmap of
 * the anonymous page); pread64(memfd, title, page, offset of this thread's scratch page);
 * mprotect(title, R); prctl(PR_SET_NAME, title comm); prctl(PR_SET_MM, PR_SET_MM_MAP,
 * title).
 *
 * The arguments are a copy taken when the title is set (exec, fork, the leader's
 * PR_SET_NAME), at most TITLE_ARGS_MAX bytes: a process that rewrites its argv later
 * (setproctitle) is not followed. The environment is never shown (an empty range).
 */
import type { MemoryFile } from '../memfile/memory-file';
import type { FileRange } from '../platform';
import { STUB_BASE, STUB_MEMFD, STUB_SIZE } from './stub-layout';

/** STUB_TITLE is the title page's address in every stub (native/stub/layout.h). */
export const STUB_TITLE = STUB_BASE + 0x80000;
/** STUB_TITLE_SIZE is the title page's length. */
export const STUB_TITLE_SIZE = 0x1000;
/** TITLE_OFF_COMM and TITLE_OFF_ARGS: where the comm and the argument strings start in it. */
export const TITLE_OFF_COMM = 0x70, TITLE_OFF_ARGS = 0x80;
/** TITLE_ARGS_MAX is the most argument bytes a title shows (the rest of the page). */
export const TITLE_ARGS_MAX = STUB_TITLE_SIZE - TITLE_OFF_ARGS;
/** COMM_MAX is the most bytes of a name Linux keeps (TASK_COMM_LEN - 1). */
export const COMM_MAX = 15;

const SYS_pread64 = 17, SYS_mprotect = 10, SYS_prctl = 157;
const PR_SET_NAME = 15, PR_SET_MM = 35, PR_SET_MM_MAP = 14, PRCTL_MM_MAP_SIZE = 104;
const SYS_mmap = 9;
const PROT_R = 1, PROT_RW = 3, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20;

/** commBytes is `name` as Linux keeps a comm: its first 15 bytes of UTF-8. */
export function commBytes(name: string): Buffer {
  return Buffer.from(name, 'utf8').subarray(0, COMM_MAX);
}

/**
 * titlePage builds the title page's bytes: struct prctl_mm_map (linux/prctl.h) whose
 * argument range is the copy of `args` (NUL-separated strings, cut to TITLE_ARGS_MAX
 * bytes and NUL-terminated) at TITLE_OFF_ARGS, and the comm at TITLE_OFF_COMM. Every
 * address lies in the stub's own range (the kernel checks each against mmap_min_addr
 * and TASK_SIZE, and the pairs' order); the environment range is empty.
 */
export function titlePage(comm: string, args: Buffer): Buffer {
  const page = Buffer.alloc(STUB_TITLE_SIZE);
  const n = Math.min(args.length, TITLE_ARGS_MAX);
  args.copy(page, TITLE_OFF_ARGS, 0, n);
  if (n > 0) page[TITLE_OFF_ARGS + n - 1] = 0; // a cut string still ends: no read past it
  const argStart = STUB_TITLE + TITLE_OFF_ARGS, argEnd = argStart + n;
  const fields = [
    STUB_BASE, STUB_BASE + STUB_SIZE, // start_code, end_code
    STUB_TITLE, STUB_TITLE, // start_data, end_data
    STUB_TITLE, STUB_TITLE, // start_brk, brk
    STUB_TITLE + STUB_TITLE_SIZE, // start_stack
    argStart, argEnd, // arg_start, arg_end
    argEnd, argEnd, // env_start, env_end: nothing
    0, // auxv: kept (auxv_size 0)
  ];
  fields.forEach((v, i) => page.writeBigUInt64LE(BigInt(v), 8 * i));
  page.writeUInt32LE(0, 96); // auxv_size
  page.writeUInt32LE(0xffffffff, 100); // exe_fd: -1, the executable is left alone
  commBytes(comm).copy(page, TITLE_OFF_COMM);
  return page;
}

/** Inject runs one host syscall at a stub's inject gadget (PtraceAddressSpace.inject). */
export type Inject = (nr: number, args: number[]) => number;

/** A scratch page per memory file, per JavaScript thread (module state is per thread). */
const scratch = new WeakMap<MemoryFile, { range: FileRange; view: Buffer }>();

function scratchOf(memoryFile: MemoryFile): { range: FileRange; view: Buffer } {
  let s = scratch.get(memoryFile);
  if (!s) {
    const range = memoryFile.allocate(STUB_TITLE_SIZE);
    s = { range, view: memoryFile.view(range.offset, STUB_TITLE_SIZE) };
    scratch.set(memoryFile, s);
  }
  return s;
}

/**
 * fillTitlePage writes the title page of the stub that `inject` reaches (its control
 * thread, stopped): `comm` and `args` laid out by titlePage, copied in by the header's
 * first three calls; `mapped` says whether the title page is there already.
 */
function fillTitlePage(memoryFile: MemoryFile, inject: Inject, comm: string, args: Buffer, mapped: boolean): void {
  const s = scratchOf(memoryFile);
  titlePage(comm, args).copy(s.view);
  // SAFETY: each call is one the stub's filter allows at its gadget with these arguments
  // (native/stub/bpf.h); they touch the title page only, in the stub's own range above
  // the application's (nothing else is mapped in [STUB_BASE + STUB_SIZE, systrap blocks)).
  if (mapped) inject(SYS_mprotect, [STUB_TITLE, STUB_TITLE_SIZE, PROT_RW]);
  else inject(SYS_mmap, [STUB_TITLE, STUB_TITLE_SIZE, PROT_RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0]);
  try {
    inject(SYS_pread64, [STUB_MEMFD, STUB_TITLE, STUB_TITLE_SIZE, s.range.offset]);
  } finally {
    inject(SYS_mprotect, [STUB_TITLE, STUB_TITLE_SIZE, PROT_R]);
  }
}

/**
 * setStubTitle shows `comm` and `args` on the stub process that `inject` reaches (its
 * control thread, stopped, the process's leader): the five calls of the header. A
 * HostError from any call is the caller's to take (the stub is unchanged or half-named,
 * never harmed).
 */
export function setStubTitle(memoryFile: MemoryFile, inject: Inject, comm: string, args: Buffer, mapped: boolean): void {
  fillTitlePage(memoryFile, inject, comm, args, mapped);
  inject(SYS_prctl, [PR_SET_NAME, STUB_TITLE + TITLE_OFF_COMM]);
  inject(SYS_prctl, [PR_SET_MM, PR_SET_MM_MAP, STUB_TITLE, PRCTL_MM_MAP_SIZE, 0]);
}

/**
 * setStubThreadName gives one stub thread the name `comm`, as prctl(PR_SET_NAME) from it:
 * the title page is filled through the control thread (`inject`, with the process's
 * arguments `args` kept as they were), then `injectThread` (the stopped thread, at the
 * same gadget) names itself. The process's own name (its leader's) is unchanged.
 */
export function setStubThreadName(memoryFile: MemoryFile, inject: Inject, injectThread: Inject, comm: string, args: Buffer, mapped: boolean): void {
  fillTitlePage(memoryFile, inject, comm, args, mapped);
  injectThread(SYS_prctl, [PR_SET_NAME, STUB_TITLE + TITLE_OFF_COMM]);
}
