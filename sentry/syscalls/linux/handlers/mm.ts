/**
 * Memory: brk, mmap, munmap, mprotect, mremap, madvise, msync, mincore (mlock: sched.ts).
 * A MAP_SHARED mapping of a tmpfs file maps the file's own memory (its FileData): writes
 * through it are the file's bytes. A MAP_SHARED mapping of a gofer file (rootfs, bind
 * mounts) maps the file's page cache (fsimpl/gofer/page-cache.ts), written back to the
 * host by msync, fsync and the last munmap. MAP_SHARED of any other file is refused
 * (ENODEV). A MAP_PRIVATE mapping of a gofer or tmpfs file maps the same memory
 * read-only and copies a page on its first write (mm.ts: copy-on-write of file pages); of
 * any other regular file it is a copy of the file's bytes at mmap time. Anonymous memory
 * is populated lazily by the memory manager.
 */
import { checkVm } from '../../../kernel/rlimit-checks';
import { fdLinkText } from '../../../fsimpl/proc/fd-link';
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import type { Registers } from '../../../../platform';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PAGE, pageUp } from '../../../mm/vma';
import { O_ACCMODE, O_RDONLY } from '../../../vfs/file';
import { SharedAnon, type MemObject } from '../../../mm/shared';
import { F_SEAL_FUTURE_WRITE, F_SEAL_WRITE, FileData, TmpfsFile } from '../../../fsimpl/tmpfs/tmpfs';
import { fileMemory, hasFileMemory } from '../../../fsimpl/file-memory';
import { define } from '../registry';
import { num } from './util';
import { TASK_SIZE } from '../../../loader/types';
import { lockRange, memlockLimit } from './sched';
import { MS_NOEXEC } from '../../../vfs/mount';

const PROT_MASK = 7;
const MAP_SHARED_VALIDATE = 3;

define(12, (t, r) => {
  // RLIMIT_AS/DATA: a refused brk leaves the break where it was, as Linux's does.
  const grow = pageUp(num(r, 0)) - pageUp(t.mm.brk);
  try {
    checkVm(t, grow, grow);
  } catch {
    return t.mm.brk;
  }
  return t.mm.setBrk(num(r, 0));
}, 'full');

/**
 * doMmap implements mmap(2) and returns the mapped address. After mlockall(MCL_FUTURE)
 * the mapping is locked too: EAGAIN (and nothing mapped) past RLIMIT_MEMLOCK, as Linux.
 */
export function doMmap(t: Task, addrHint: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
  const addr = mapRange(t, addrHint, length, prot, flags, fd, offset);
  const future = t.mm.lockFuture;
  if (future) {
    const len = pageUp(length);
    try {
      t.mm.lock(addr, len, true, memlockLimit(t), future.onFault);
    } catch {
      t.mm.unmap(addr, len);
      fail(Errno.EAGAIN);
    }
  }
  t.mm.mergeAround(addr, addr + pageUp(length));
  return addr;
}

/** mapRange is mmap(2) without MCL_FUTURE's lock. */
function mapRange(t: Task, addrHint: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
  if (length === 0 || prot & ~PROT_MASK) fail(Errno.EINVAL);
  const type = flags & MAP_SHARED_VALIDATE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) fail(Errno.EINVAL);
  if (offset % PAGE !== 0 || offset < 0) fail(Errno.EINVAL);
  const len = pageUp(length);
  if (len > t.kernel.platform.maxUserAddress) fail(Errno.ENOMEM);
  const shared = type !== MAP_PRIVATE;
  const anon = (flags & MAP_ANONYMOUS) !== 0;
  const f = anon ? null : t.fds.get(fd);
  // A gofer or tmpfs regular file: its memory (a gofer file's page cache is made once the mapping is allowed).
  const own = f && hasFileMemory(f) ? f : null;
  const shm = own instanceof TmpfsFile ? own : null;
  const noExec = (f?.loc?.mount.flags ?? 0) & MS_NOEXEC ? true : undefined;
  if (f) {
    if (!f.loc || !f.loc.dentry.inode.isRegular) fail(Errno.ENODEV);
    if (!f.readable) fail(Errno.EACCES);
    // PROT_EXEC of a file on a noexec mount: EPERM (mmap(2)); nor can mprotect add it.
    if (prot & 4 && noExec) fail(Errno.EPERM);
    if (shared && prot & 2) {
      if ((f.flags & O_ACCMODE) === O_RDONLY) fail(Errno.EACCES);
      if (!own) fail(Errno.ENODEV); // writable shared mappings of other files are not supported
      if (shm && shm.inode.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) fail(Errno.EPERM);
    }
    if (own && offset + len > Number.MAX_SAFE_INTEGER) fail(Errno.EOVERFLOW);
  }
  // Linux accounts writable private and shared anonymous memory unless MAP_NORESERVE.
  if (!(flags & MAP_NORESERVE) && (shared ? anon : prot & 2)) t.mm.checkCommit(len);
  let addr: number;
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
    if (addrHint % PAGE !== 0) fail(Errno.EINVAL);
    if (addrHint < t.kernel.platform.minUserAddress || addrHint + len > t.kernel.platform.maxUserAddress) fail(Errno.ENOMEM);
    if (flags & MAP_FIXED_NOREPLACE && !t.mm.isFree(addrHint, len)) fail(Errno.EEXIST);
    addr = addrHint;
  } else {
    const hint = addrHint - (addrHint % PAGE);
    addr = hint >= t.kernel.platform.minUserAddress && hint + len <= t.mm.mmapTop && t.mm.isFree(hint, len) ? hint : t.mm.findFree(len);
  }
  const fresh = len - t.mm.mappedIn(addr, len);
  checkVm(t, fresh, !shared && prot & 2 ? fresh : 0);
  if (own) {
    // The file's own memory: pages past its end fault (a truncate unmaps them too).
    const mem = fileMemory(t.kernel.platform.memoryFile, own, shared);
    if (!shared) {
      // Copy-on-write of the file's pages (mm.ts): read-only until written.
      t.mm.mapPrivateFile(addr, len, prot, mem, offset, fdLinkText(t.kernel, t, f!), (flags & MAP_NORESERVE) !== 0);
      t.mm.findVma(addr)!.noExec = noExec;
      return addr;
    }
    t.mm.mapShared(addr, len, prot, mem, offset, fdLinkText(t.kernel, t, f!));
    const vma = t.mm.findVma(addr)!;
    vma.fileOffset = offset;
    // Like Linux's VM_MAYWRITE: a read-only descriptor's shared mapping never becomes writable.
    vma.noWrite = (f!.flags & O_ACCMODE) === O_RDONLY || (!!shm && (shm.inode.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0);
    vma.noExec = noExec;
    return addr;
  }
  t.mm.mapAnonymous(addr, len, prot, shared && anon, '', (flags & MAP_NORESERVE) !== 0);
  if (f) {
    // Copy the file's bytes in (the rest of the last page stays zero).
    const vma = t.mm.findVma(addr)!;
    vma.name = fdLinkText(t.kernel, t, f);
    vma.noExec = noExec;
    vma.fileOffset = offset;
    const size = f.stat().size;
    const want = Math.max(0, Math.min(length, size - offset));
    for (let done = 0; done < want;) {
      const buf = Buffer.alloc(Math.min(want - done, 1 << 20));
      const n = f.read(t, buf, offset + done);
      if (typeof n !== 'number' || n <= 0) break;
      writeNonZero(t, addr + done, buf.subarray(0, n));
      done += n;
    }
  }
  return addr;
}

const ZERO_PAGE = Buffer.alloc(PAGE);

/**
 * writeNonZero copies buf into a fresh private mapping at addr, one copy per run of pages
 * that are not all zeros: the mapping already reads zeros elsewhere, and nothing is
 * allocated for those pages.
 */
function writeNonZero(t: Task, addr: number, buf: Buffer): void {
  let run = -1;
  for (let at = 0; at <= buf.length; at += PAGE) {
    const page = buf.subarray(at, Math.min(buf.length, at + PAGE));
    const data = page.length > 0 && page.compare(ZERO_PAGE, 0, page.length) !== 0;
    if (data && run < 0) run = at;
    if (!data && run >= 0) {
      t.mm.writeForce(addr + run, buf.subarray(run, at));
      run = -1;
    }
  }
  if (run >= 0) t.mm.writeForce(addr + run, buf.subarray(run));
}


define(9, (t, r) => doMmap(t, num(r, 0), num(r, 1), r.argInt(2), r.argInt(3), r.argInt(4), Number(BigInt.asIntN(64, r.arg(5)))), 'full');

define(11, (t, r) => {
  const addr = num(r, 0), len = num(r, 1);
  if (addr % PAGE !== 0 || len === 0) fail(Errno.EINVAL);
  if (addr > Number(TASK_SIZE) || len > Number(TASK_SIZE) - addr) fail(Errno.EINVAL); // as Linux
  t.mm.unmap(addr, pageUp(len));
  return 0;
}, 'full');

define(10, (t, r) => {
  const addr = num(r, 0), len = pageUp(num(r, 1)), prot = r.argInt(2);
  if (addr % PAGE !== 0) fail(Errno.EINVAL);
  if (prot & ~(PROT_MASK | 0x01000000 | 0x02000000)) fail(Errno.EINVAL);
  if (len === 0) return 0;
  t.mm.protect(addr, len, prot & PROT_MASK);
  t.mm.mergeAround(addr, addr + len);
  return 0;
}, 'full');

const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;

// mremap(old, oldLen, newLen, flags, newAddr): a private mapping moves its populated
// chunks by reference where the move keeps their place in a chunk (mm.movePopulated) and
// copies the rest; a shared mapping moves (or grows) onto the same object, so it stays
// shared. MREMAP_DONTUNMAP (with MAYMOVE, same length) leaves the old range mapped:
// private pages read as zeros there, a shared mapping still maps its object (Linux 5.13+).
define(25, (t, r) => {
  const at = mremap(t, r);
  t.mm.mergeAround(at, at + pageUp(num(r, 2)));
  return at;
}, 'partial', 'a shared mapping\'s old range stays mapped under MREMAP_DONTUNMAP (Linux 5.13+, not 5.7\'s EINVAL); a move by reference needs the same offset in a 64 KiB chunk at both ends, else the touched pages are copied');

/** mremap is mremap(2)'s work (above): the new address. */
function mremap(t: Task, r: Registers): number {
  const old = num(r, 0), oldLen = pageUp(num(r, 1)), newLen = pageUp(num(r, 2)), flags = r.argInt(3);
  if (old % PAGE !== 0 || newLen === 0 || flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) fail(Errno.EINVAL);
  if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) && !(flags & MREMAP_MAYMOVE)) fail(Errno.EINVAL);
  const dontUnmap = (flags & MREMAP_DONTUNMAP) !== 0;
  if (dontUnmap && oldLen !== newLen) fail(Errno.EINVAL);
  const vma = t.mm.findVma(old);
  if (!vma || old + oldLen > vma.end) fail(Errno.EFAULT);
  if (vma.special) fail(Errno.EINVAL); // [vvar]/[vdso] stay where exec put them
  const { prot, name, noWrite, noExec, noreserve } = vma;
  // The object and offset behind `old`, for a shared mapping (vma may be split below).
  const shared = vma.shared ? { mem: vma.shared.mem, offset: vma.shared.offset + (old - vma.start) } : null;
  // The same for a private file mapping: it stays copy-on-write of its file where moved or grown.
  const file = vma.file ? { mem: vma.file.mem, offset: vma.file.offset + (old - vma.start) } : null;
  const place = (at: number, from: number, length: number) => {
    if (shared) {
      t.mm.mapShared(at, length, prot, shared.mem, shared.offset + from, name);
      const moved = t.mm.findVma(at)!;
      moved.noWrite = noWrite; // still the same read-only descriptor's mapping
      if (!(shared.mem instanceof SharedAnon)) moved.fileOffset = shared.offset + from; // a file's offset, for /proc/<pid>/maps
    } else if (file) t.mm.mapPrivateFile(at, length, prot, file.mem, file.offset + from, name, noreserve);
    else t.mm.mapAnonymous(at, length, prot, false, name);
    t.mm.findVma(at)!.noExec = noExec;
  };
  const move = (dst: number) => {
    place(dst, 0, newLen);
    if (!shared) t.mm.movePopulated(old, Math.min(oldLen, newLen), dst);
    if (!dontUnmap) t.mm.unmap(old, oldLen);
    else if (!shared) t.mm.discard(old, oldLen);
    return dst;
  };
  if (flags & MREMAP_FIXED) {
    const dst = num(r, 4);
    if (dst % PAGE !== 0 || (dst < old + oldLen && old < dst + newLen)) fail(Errno.EINVAL);
    return move(dst);
  }
  if (dontUnmap) {
    // new_address is a hint then, as for mmap: page-aligned or EINVAL.
    if (num(r, 4) % PAGE !== 0) fail(Errno.EINVAL);
    return move(t.mm.findFree(newLen));
  }
  if (newLen <= oldLen) {
    if (newLen < oldLen) t.mm.unmap(old + newLen, oldLen - newLen);
    return old;
  }
  if (t.mm.isFree(old + oldLen, newLen - oldLen) && old + newLen <= t.mm.mmapTop) {
    place(old + oldLen, oldLen, newLen - oldLen);
    return old;
  }
  if (!(flags & MREMAP_MAYMOVE)) fail(Errno.ENOMEM);
  return move(t.mm.findFree(newLen));
}

const MADV_NORMAL = 0, MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3, MADV_DONTNEED = 4, MADV_FREE = 8, MADV_REMOVE = 9,
  MADV_DONTFORK = 10, MADV_DOFORK = 11, MADV_MERGEABLE = 12, MADV_UNMERGEABLE = 13, MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15,
  MADV_DONTDUMP = 16, MADV_DODUMP = 17, MADV_COLD = 20, MADV_PAGEOUT = 21;
/** HINTS are the advice values that change nothing here (no swap, no huge pages, no core dumps, no KSM). */
const HINTS = new Set([MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE,
  MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP, MADV_COLD, MADV_PAGEOUT]);

// madvise(addr, length, advice): DONTNEED (and FREE, done as DONTNEED) zeroes private
// pages and drops a shared mapping's pages from this process only; REMOVE punches the
// hole in shared anonymous memory or a tmpfs file; DONTFORK/DOFORK mark what a fork's
// child gets; the other advice is accepted as hints.
define(28, (t, r) => {
  const addr = num(r, 0), length = num(r, 1), advice = r.argInt(2);
  if (addr % PAGE !== 0) fail(Errno.EINVAL);
  const known = HINTS.has(advice) || [MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK].includes(advice);
  if (!known) fail(Errno.EINVAL); // WIPEONFORK (18), KEEPONFORK (19) and the rest: not supported
  const len = pageUp(length);
  if (length > 0 && len === 0) fail(Errno.EINVAL);
  if (len === 0) return 0;
  if (addr + len > t.kernel.platform.maxUserAddress) fail(Errno.ENOMEM);
  // Linux applies the advice to what is mapped and then fails with ENOMEM on a hole;
  // the operations here are whole, so a hole is refused first.
  if (!t.mm.isMapped(addr, len)) fail(Errno.ENOMEM);
  switch (advice) {
    case MADV_DONTNEED:
    case MADV_FREE:
      t.mm.discard(addr, len);
      break;
    case MADV_DONTFORK:
    case MADV_DOFORK:
      t.mm.setDontFork(addr, len, advice === MADV_DONTFORK);
      t.mm.mergeAround(addr, addr + len);
      break;
    case MADV_REMOVE:
      removePages(t, addr, len);
      break;
  }
  return 0;
}, 'partial', 'MADV_FREE frees at once like DONTNEED; WILLNEED, SEQUENTIAL, RANDOM, HUGEPAGE, DONTDUMP and the like are hints that change nothing; WIPEONFORK/KEEPONFORK are EINVAL');

/**
 * removePages is madvise(MADV_REMOVE): the shared writable mappings of [addr, addr+len)
 * (shared anonymous memory or tmpfs files) lose those bytes in the object itself (a hole:
 * every process reads zeros); as in Linux, private anonymous memory is EINVAL, a private or
 * read-only file mapping EACCES, a file of another filesystem EOPNOTSUPP.
 */
function removePages(t: Task, addr: number, len: number): void {
  const end = addr + len;
  const pieces: { mem: MemObject; lo: number; hi: number }[] = [];
  for (let at = addr; at < end;) {
    const v = t.mm.findVma(at)!;
    // Linux: no file behind it (private anonymous memory, named by ''/'[heap]'/'[stack]') is EINVAL, a private or read-only file mapping EACCES.
    if (v.special || (!v.shared && !v.name.startsWith('/'))) fail(Errno.EINVAL);
    if (!v.shared || !(v.prot & 2)) fail(Errno.EACCES);
    const lo = v.shared.offset + (at - v.start), hi = v.shared.offset + (Math.min(end, v.end) - v.start);
    if (!(v.shared.mem instanceof SharedAnon) && !(v.shared.mem instanceof FileData)) fail(Errno.EOPNOTSUPP);
    pieces.push({ mem: v.shared.mem, lo, hi });
    at = v.end;
  }
  for (const p of pieces) {
    if (p.mem instanceof FileData) p.mem.punchHole(p.lo, Math.min(p.hi, p.mem.limit));
    else p.mem.punch(p.lo, p.hi);
  }
}

const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;

// msync(addr, length, flags): MS_SYNC and MS_ASYNC both write back at once what shared
// mappings of gofer files changed (a tmpfs file's mappings are the file); MS_INVALIDATE
// has nothing to drop, the mappings being the page cache itself.
define(26, (t, r) => {
  const addr = num(r, 0), length = num(r, 1), flags = r.argInt(2);
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) || addr % PAGE !== 0) fail(Errno.EINVAL);
  if (flags & MS_ASYNC && flags & MS_SYNC) fail(Errno.EINVAL);
  const len = pageUp(length);
  if (length > 0 && len === 0) fail(Errno.ENOMEM);
  if (addr + len > t.kernel.platform.maxUserAddress && len > 0) fail(Errno.ENOMEM);
  if (len === 0) return 0;
  t.mm.syncShared(addr, len);
  return 0;
}, 'partial', 'writes back whole 64 KiB dirty chunks (a host change to the file meanwhile is overwritten); MS_ASYNC writes at once like MS_SYNC; no EBUSY for MS_INVALIDATE on locked pages (mlock is not enforced)');
// mincore(addr, length, vec): one byte per page, 1 where memory is behind the page (its
// 64 KiB chunk populated: a touched page makes its neighbours in the chunk resident too).
define(27, (t, r) => {
  const addr = num(r, 0), length = num(r, 1);
  if (addr % PAGE !== 0) fail(Errno.EINVAL);
  const len = pageUp(length);
  if (length > 0 && len === 0) fail(Errno.ENOMEM);
  if (len === 0) return 0;
  if (addr + len > t.kernel.platform.maxUserAddress || !t.mm.isMapped(addr, len)) fail(Errno.ENOMEM);
  // The vector is built and written in pieces: a huge range must not mean a huge buffer here.
  const vec = num(r, 2), step = (1 << 16) * PAGE;
  for (let done = 0; done < len; done += step) {
    const n = Math.min(step, len - done);
    t.mm.write(vec + done / PAGE, t.mm.residency(addr + done, n));
  }
  return 0;
}, 'partial', 'residency is per 64 KiB chunk (the memory manager allocates chunks): a touched page makes the rest of its chunk resident too');

const MLOCK_ONFAULT = 1;

// mlock2(addr, len, flags): mlock, or with MLOCK_ONFAULT the pages become resident as touched.
define(325, (t, r) => {
  if (r.argInt(2) & ~MLOCK_ONFAULT) fail(Errno.EINVAL);
  return lockRange(t, r.arg(0), r.arg(1), true, (r.argInt(2) & MLOCK_ONFAULT) !== 0);
}, 'partial', 'memory is never swapped: a lock counts against RLIMIT_MEMLOCK (VmLck) and populates the pages unless MLOCK_ONFAULT');
