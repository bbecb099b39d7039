/**
 * execve: replace a process's image. Resolution and permission checks, `#!` scripts
 * (up to MAX_INTERPRETER_DEPTH levels), ELF loading into a fresh address space (the
 * loader in sentry/loader), the initial stack; then the point of no return: other
 * threads die, the old address space goes, close-on-exec descriptors close, caught
 * signals revert to their default action, and the task starts at the new entry.
 */
import { showHostTitle } from './host-title';
import { randomBytes } from '../../native/random';
import * as path from 'node:path';
import { Registers } from '../../platform';
import {
  AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_FLAGS, AT_GID, AT_HWCAP, AT_MINSIGSTKSZ, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM,
  AT_SECURE, AT_SYSINFO_EHDR, AT_UID, ADDR_NO_RANDOMIZE, buildInitialStack, checkArgLimits, chooseLayout, loadExecutable, LoaderError,
  MAX_INTERPRETER_DEPTH, parseShebang, scriptArgv, type ExecFile, type LoaderMemory,
} from '../loader';
import { MemoryManager } from '../mm/mm';
import { PAGE } from '../mm/vma';
import { mapVdso, vdsoSize } from '../mm/vdso';
import { capsForExec, type ExecFileIds, type ExecResult } from './capabilities';
import { retireContext } from './cputime';
import { deleteAllTimers } from './posix-timers';
import { limitOf, RLIMIT_STACK } from './rlimits';
import { MAY_EXEC, type Credentials } from './credentials';
import { hasMapping } from './user-namespace';
import { Errno, fail, LinuxError } from './errors';
import { defaultAction, SIG_IGN } from './signal-types';
import type { Task } from './task';
import { exitTask } from './task-exit';
import { FileDescription, FMODE_EXEC, O_RDONLY } from '../vfs/file';
import { MS_NOEXEC, MS_NOSUID, type Location } from '../vfs/mount';
import { resolve } from '../vfs/path';
import { permitted } from '../vfs/permission';
import { S_IFMT, S_IFREG, S_ISGID, S_ISUID } from '../vfs/inode';
import { markExeced } from './process-group';
import { ptraceExec } from './ptrace';
import { fileMemory, hasFileMemory } from '../fsimpl/file-memory';

/** PER_CLEAR_ON_SETID are the persona flags a privilege-gaining exec clears (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, ADDR_COMPAT_LAYOUT, MMAP_PAGE_ZERO). */
const PER_CLEAR_ON_SETID = 0x0400000 | 0x0040000 | 0x0200000 | 0x0100000;
/** STACK_GAP is the most stack mapped at exec (Linux's minimum gap below the stack, 128 MiB). */
const STACK_GAP = 0x8000000;
/** MIN_STACK is the smallest stack mapped, whatever RLIMIT_STACK says (Linux grows at least this far). */
const MIN_STACK = 128 * 1024;

/** stackSize is the initial stack mapping for RLIMIT_STACK: the limit itself, within [128 KiB, the gap]. */
function stackSize(limit: bigint): number {
  if (limit >= BigInt(STACK_GAP)) return STACK_GAP;
  return Math.max(MIN_STACK, Number(limit) - (Number(limit) % 4096));
}
const PROT_RW = 3;

/** openExecutable resolves and opens a file to execute (EACCES unless a regular, executable
 * file). It is opened as Linux's open_exec does, for execute rather than read: a program
 * its caller may execute but not read (mode 0711) still runs. */
function openExecutable(t: Task, start: Location, p: string): { file: FileDescription; loc: Location } {
  const loc = resolve(t, start, p, { follow: true });
  const st = loc.dentry.inode.stat();
  if ((st.mode & S_IFMT) !== S_IFREG) fail(Errno.EACCES);
  if (!permitted(t.creds, st, MAY_EXEC) || loc.mount.flags & MS_NOEXEC) fail(Errno.EACCES);
  return { file: loc.dentry.inode.open(loc, O_RDONLY | FMODE_EXEC, t.creds), loc };
}

function execFile(t: Task, f: FileDescription, path?: string): ExecFile {
  return {
    size: f.stat().size,
    path,
    mappable: f, // loaderMemory's mapFile maps its memory (fsimpl/file-memory.ts)
    readAt(offset: number, length: number): Buffer {
      const buf = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const n = f.read(t, buf.subarray(done), offset + done);
        if (typeof n !== 'number' || n <= 0) break;
        done += n;
      }
      return buf.subarray(0, done);
    },
  };
}

function loaderMemory(mm: MemoryManager): LoaderMemory {
  return {
    mapFile: (addr, length, prot, file, fileOffset) => {
      // A gofer or tmpfs file's memory, copy-on-write (mm.ts), as mmap maps it MAP_PRIVATE.
      const f = file.mappable;
      if (!(f instanceof FileDescription) || !f.readable || !hasFileMemory(f)) return false;
      mm.mapPrivateFile(Number(addr), length, prot, fileMemory(mm.platform.memoryFile, f, false), fileOffset, file.path ?? '');
      return true;
    },
    mapAnonymous: (addr, length, prot, name, fileOffset) => {
      mm.mapAnonymous(Number(addr), length, prot, false, name);
      const v = mm.findVma(Number(addr));
      if (v && fileOffset) v.fileOffset = fileOffset;
    },
    write: (addr, data) => mm.writeForce(Number(addr), data),
    findFree: (length, hint) => {
      // The lowest free range at or above hint.
      let at = Number(hint) - (Number(hint) % PAGE);
      for (const v of mm.vmas) {
        if (v.end <= at) continue;
        if (v.start >= at + length) break;
        at = v.end;
      }
      if (at + length > mm.mmapTop) return BigInt(mm.findFree(length));
      return BigInt(at);
    },
  };
}

const S_IXGRP = 0o010;

/** execCredentials computes the identity the new image runs with: the executable's
 * set-user-ID and set-group-ID bits (ignored on a nosuid mount and under no_new_privs, and
 * set-group-ID only with group execute), then capsForExec's capability transformation. */
function execCredentials(c: Credentials, loc: Location): ExecResult {
  const st = loc.dentry.inode.stat();
  const file: ExecFileIds = {};
  // A file whose owner or group has no id in the task's user namespace grants neither (bprm_fill_uid).
  if (!(loc.mount.flags & MS_NOSUID) && !c.noNewPrivs && hasMapping(c.userns, 'uid', st.uid) && hasMapping(c.userns, 'gid', st.gid)) {
    if (st.mode & S_ISUID) file.setuid = st.uid;
    if ((st.mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) file.setgid = st.gid;
  }
  return capsForExec(c.caps, { uid: c.uid, euid: c.euid, gid: c.gid, egid: c.egid }, file, c.noNewPrivs, c.rootUid());
}

/**
 * execve runs `file` in t with argv/envp; on success it does not return to the old image.
 * `fresh` says that t is a new process whose memory nothing has used yet (spawnProcess):
 * the image is built in that memory rather than in a new address space (no second stub),
 * and on failure t.mm, partly filled, is left to the caller, which discards the process.
 */
export function execve(t: Task, start: Location, file: string, argv: string[], envp: string[], fresh = false): void {
  let p = file;
  let args = argv;
  let opened = openExecutable(t, start, p);
  for (let depth = 0; ; depth++) {
    const head = Buffer.alloc(256);
    const n = opened.file.read(t, head, 0);
    const sb = parseShebang(head.subarray(0, typeof n === 'number' ? Math.max(0, n) : 0));
    if (!sb) break;
    if (depth >= MAX_INTERPRETER_DEPTH) {
      opened.file.unref();
      fail(Errno.ELOOP);
    }
    args = scriptArgv(sb, p, args);
    opened.file.unref();
    p = sb.interpreter;
    opened = openExecutable(t, start, p);
  }
  const k = t.kernel;
  const [stackLimit] = limitOf(t.tg, RLIMIT_STACK);
  const argLimit = stackLimit >= 1n << 53n ? Number.MAX_SAFE_INTEGER : Number(stackLimit);
  checkArgLimits(args, envp, argLimit);
  const exePath = k.mounts.pathOf(opened.loc, t.root);
  // ASLR (loader/aslr.ts): off for a persona with ADDR_NO_RANDOMIZE, as Linux's, unless the
  // program gains privilege (set-user-ID, capabilities): Linux then clears PER_CLEAR_ON_SETID.
  const next: ExecResult = execCredentials(t.creds, opened.loc);
  const persona = next.secure ? t.personality & ~PER_CLEAR_ON_SETID : t.personality;
  const random = persona & ADDR_NO_RANDOMIZE ? null : (n: number) => randomBytes(n);
  const layout = chooseLayout(k.platform.maxUserAddress, stackLimit >= 1n << 53n ? Infinity : Number(stackLimit), random);
  const mm = fresh ? t.mm : MemoryManager.create(k.platform);
  mm.mmapTop = layout.mmapBase;
  const mem = loaderMemory(mm);
  let interpFile: FileDescription | null = null;
  let loaded;
  let stack;
  try {
    loaded = loadExecutable(execFile(t, opened.file, exePath), mem, (interp) => {
      const o = openExecutable(t, t.root, interp);
      interpFile = o.file; // open while its segments are mapped
      return execFile(t, o.file, k.mounts.pathOf(o.loc, t.root));
    }, { random: random ?? undefined, interpHint: BigInt(mm.mmapTop) });
    const vdso = mapVdso(mm, mm.findFree(vdsoSize(k.platform.memoryFile)));
    // The stack may grow to RLIMIT_STACK, as Linux lets it (it maps it all at once).
    const stackTop = layout.stackTop;
    const size = stackSize(stackLimit);
    mm.mapAnonymous(stackTop - size, size, PROT_RW | (loaded.stackExecutable ? 4 : 0), false, '[stack]');
    const c = next.ids;
    stack = buildInitialStack(mem, BigInt(stackTop), {
      argv: args, envp, execfn: file, random: randomBytes(16), platform: 'x86_64', stackLimit: argLimit, spOffset: layout.spOffset,
      auxv: [
        [AT_SYSINFO_EHDR, BigInt(vdso)], [AT_HWCAP, 0x178bfbffn], [AT_PAGESZ, 4096n], [AT_CLKTCK, 100n], [AT_PHDR, loaded.phdr], [AT_PHENT, BigInt(loaded.phent)],
        [AT_PHNUM, BigInt(loaded.phnum)], [AT_BASE, loaded.base], [AT_FLAGS, 0n], [AT_ENTRY, loaded.execEntry],
        [AT_UID, BigInt(c.uid)], [AT_EUID, BigInt(c.euid)], [AT_GID, BigInt(c.gid)], [AT_EGID, BigInt(c.egid)],
        [AT_SECURE, next.secure ? 1n : 0n], [AT_MINSIGSTKSZ, 2048n],
      ],
    });
  } catch (e) {
    if (mm !== t.mm) mm.release();
    if (e instanceof LoaderError) throw new LinuxError(e.errno, e.message);
    throw e;
  } finally {
    opened.file.unref();
    (interpFile as FileDescription | null)?.unref(); // its mappings hold what they need
  }
  // The point of no return.
  const creds = t.creds;
  ({ uid: creds.uid, euid: creds.euid, gid: creds.gid, egid: creds.egid } = next.ids);
  creds.suid = creds.euid;
  creds.sgid = creds.egid;
  creds.caps = next.caps;
  t.personality = persona;
  for (const other of [...t.tg.tasks]) if (other !== t) exitTask(other, { signal: 9 });
  mm.brkStart = mm.brk = Number(loaded.brkStart) + layout.brkOffset;
  mm.argStart = Number(stack.argStart);
  mm.argEnd = Number(stack.argEnd);
  mm.envStart = Number(stack.envStart);
  mm.envEnd = Number(stack.envEnd);
  mm.execLayout = { ...loaded.layout, startStack: stack.sp };
  mm.auxv = savedAuxv(mm, stack.auxv);
  mm.exe = exePath;
  retireContext(t);
  deleteAllTimers(t.tg);
  if (mm !== t.mm) {
    t.mm.release();
    t.mm = mm;
  }
  // Linux's unshare_files: a table still shared with another process is copied first.
  if (t.fds.shared) {
    const old = t.fds;
    t.fds = old.fork();
    old.release();
  }
  t.fds.closeOnExec();
  t.tg.actions = t.tg.actions.map((a) => (a.handler === SIG_IGN ? a : defaultAction()));
  t.altstack = { sp: 0n, size: 0, flags: 2 };
  // The name is the file's asked for, a script's rather than its interpreter's (Linux's
  // kbasename(bprm->filename)).
  t.name = path.basename(file).slice(0, 15);
  t.tg.name = t.name;
  showHostTitle(t, t.name);
  markExeced(t.tg);
  t.regs = Registers.forEntry(loaded.entry, stack.sp);
  t.fp = k.platform.newFpState();
  t.clearChildTid = 0n;
  t.vforkDone?.notify();
  t.vforkDone = null;
  ptraceExec(t);
}

/** savedAuxv copies the auxiliary vector exec wrote at `at`, through its AT_NULL pair,
 * as Linux keeps mm->saved_auxv (a process may overwrite its stack; /proc shows the original). */
function savedAuxv(mm: MemoryManager, at: bigint): Buffer {
  const pairs: Buffer[] = [];
  for (let i = 0; i < 64; i++) {
    const pair = mm.read(Number(at) + 16 * i, 16);
    pairs.push(pair);
    if (pair.readBigUInt64LE(0) === 0n) break;
  }
  return Buffer.concat(pairs);
}
