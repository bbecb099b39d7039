/**
 * System V shared memory: shmget, shmat, shmdt, shmctl (kernel/ipc/shm.ts).
 */
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../../../platform';
import { PAGE, pageDown, pageUp } from '../../../mm/vma';
import { CAP_IPC_LOCK } from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import { ipcNamespaceOf } from '../../../kernel/ipc/namespace';
import { IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, MAY_READ, MAY_WRITE, nowSeconds } from '../../../kernel/ipc/perm';
import { checkShmSize, SHM_LOCKED, ShmSegment, SHMMIN } from '../../../kernel/ipc/shm';
import { checkVm } from '../../../kernel/rlimit-checks';
import type { Task } from '../../../kernel/task';
import { define } from '../registry';
import { setCommand, statCommand, ulongs } from './ipc';

/** shmctl's own commands (shm.h). */
const SHM_LOCK = 11, SHM_UNLOCK = 12, SHM_STAT = 13, SHM_INFO = 14, SHM_STAT_ANY = 15;
const SHM_HUGETLB = 0o4000, SHM_NORESERVE = 0o10000;
const SHM_RDONLY = 0o10000, SHM_RND = 0o20000, SHM_REMAP = 0o40000, SHM_EXEC = 0o100000;

// shmget(key, size, shmflg)
define(29, (t, r) => {
  const ns = ipcNamespaceOf(t);
  const key = r.argInt(0), size = r.arg(1), flags = r.argInt(2);
  const seg = ns.shm.lookup(key, flags, t.creds, () => {
    checkShmSize(size, ns.limits.shmmax);
    const pages = (size + BigInt(PAGE - 1)) / BigInt(PAGE);
    if (BigInt(ns.shmPages()) + pages > ns.limits.shmall) fail(Errno.ENOSPC);
    // Huge pages are not reserved in the sandbox, as on a Linux with vm.nr_hugepages 0.
    if (flags & SHM_HUGETLB) fail(Errno.ENOMEM);
    // A segment is accounted as shared anonymous memory is, unless SHM_NORESERVE.
    if (size > BigInt(Number.MAX_SAFE_INTEGER - PAGE)) fail(Errno.ENOMEM);
    if (!(flags & SHM_NORESERVE)) t.mm.checkCommit(pageUp(Number(size)));
    return new ShmSegment(t.kernel.platform.memoryFile, Number(size), key, t.creds, flags, t.pid, (s) => ns.shm.remove(s));
  }, (s) => {
    if (BigInt(s.size) < size) fail(Errno.EINVAL);
  });
  return seg.perm.id;
}, 'partial', 'SHM_HUGETLB answers ENOMEM (no huge pages are reserved in the sandbox)');

/** shmAttach implements shmat(2) and returns the address. */
function shmAttach(t: Task, id: number, want: number, flags: number): number {
  let addr = want;
  // A given address is where the segment goes (MAP_FIXED), even once SHM_RND rounded it to 0.
  const fixed = addr !== 0;
  if (fixed) {
    if (addr % PAGE !== 0) {
      if (!(flags & SHM_RND)) fail(Errno.EINVAL);
      addr = pageDown(addr); // SHMLBA is a page on x86-64
      if (addr === 0 && flags & SHM_REMAP) fail(Errno.EINVAL);
    }
  } else if (flags & SHM_REMAP) fail(Errno.EINVAL);
  const seg = ipcNamespaceOf(t).shm.get(id);
  const rdonly = (flags & SHM_RDONLY) !== 0;
  seg.perm.check(t.creds, (rdonly ? MAY_READ : MAY_READ | MAY_WRITE) | (flags & SHM_EXEC ? 1 : 0));
  const size = pageUp(seg.size);
  const prot = PROT_READ | (rdonly ? 0 : PROT_WRITE) | (flags & SHM_EXEC ? PROT_EXEC : 0);
  const platform = t.kernel.platform;
  if (fixed) {
    if (addr + size < addr || addr < platform.minUserAddress || addr + size > platform.maxUserAddress) fail(Errno.EINVAL);
    if (!(flags & SHM_REMAP) && !t.mm.isFree(addr, size)) fail(Errno.EINVAL);
  } else {
    addr = t.mm.findFree(size);
  }
  checkVm(t, size - t.mm.mappedIn(addr, size), 0);
  t.mm.mapShared(addr, size, prot, seg, 0, seg.name);
  // Like Linux's VM_MAYWRITE: a read-only attachment never becomes writable.
  t.mm.findVma(addr)!.noWrite = rdonly;
  seg.atime = nowSeconds();
  seg.lpid = t.pid;
  return addr;
}

// shmat(shmid, shmaddr, shmflg)
define(30, (t, r) => shmAttach(t, r.argInt(0), Number(r.arg(1) > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(PAGE + 1) : r.arg(1)), r.argInt(2)), 'full');

// shmdt(shmaddr)
define(67, (t, r) => {
  const arg = r.arg(0);
  if (arg % BigInt(PAGE) !== 0n || arg > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.EINVAL);
  const addr = Number(arg);
  // Every VMA of the segment attached at addr (mprotect or munmap may have split it).
  const first = t.mm.vmas.find((v) => v.shared?.mem instanceof ShmSegment && v.start >= addr && v.start - v.shared.offset === addr);
  if (!first) fail(Errno.EINVAL);
  const seg = first.shared!.mem as ShmSegment;
  const end = addr + pageUp(seg.size);
  seg.dtime = nowSeconds();
  seg.lpid = t.pid;
  const pieces = t.mm.vmas.filter((v) => v.shared?.mem === seg && v.start < end && v.start - v.shared.offset === addr);
  for (const v of pieces) t.mm.unmap(v.start, v.end - v.start);
  return 0;
}, 'full');

// shmctl(shmid, cmd, buf)
define(31, (t, r) => {
  const ns = ipcNamespaceOf(t);
  const id = r.argInt(0), cmd = r.argInt(1), buf = r.arg(2);
  if (cmd < 0 || id < 0) fail(Errno.EINVAL);
  switch (cmd) {
    case IPC_INFO: {
      // struct shminfo64: shmmax, shmmin, shmmni, shmseg, shmall, four unused longs.
      const l = ns.limits;
      t.mm.write(buf, ulongs([l.shmmax, SHMMIN, l.shmmni, l.shmmni, l.shmall], 72));
      return Math.max(0, ns.shm.maxIndex());
    }
    case SHM_INFO: {
      // struct shm_info: used_ids i32, then shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes.
      const segs = ns.shm.objects();
      const b = ulongs([0, ns.shmPages(), segs.reduce((n, s) => n + s.residentBytes / PAGE, 0), 0, 0, 0], 48);
      b.writeInt32LE(segs.length, 0);
      t.mm.write(buf, b);
      return Math.max(0, ns.shm.maxIndex());
    }
    case IPC_STAT:
    case SHM_STAT:
    case SHM_STAT_ANY:
      return statCommand(t, ns.shm, id, cmd !== IPC_STAT, cmd === SHM_STAT_ANY, buf);
    case IPC_SET:
      setCommand(t, ns.shm.get(id), buf, 112);
      return 0;
    case IPC_RMID: {
      const seg = ns.shm.get(id);
      seg.perm.checkOwner(t.creds);
      seg.markRemoved();
      return 0;
    }
    case SHM_LOCK:
    case SHM_UNLOCK: {
      const seg = ns.shm.get(id);
      if (!t.creds.capable(CAP_IPC_LOCK) && t.creds.euid !== seg.perm.uid && t.creds.euid !== seg.perm.cuid) fail(Errno.EPERM);
      if (cmd === SHM_LOCK) seg.perm.mode |= SHM_LOCKED;
      else seg.perm.mode &= ~SHM_LOCKED;
      return 0;
    }
    default:
      return fail(Errno.EINVAL);
  }
}, 'partial', 'SHM_LOCK marks the segment locked without charging RLIMIT_MEMLOCK (nothing is swapped in the sandbox)');
