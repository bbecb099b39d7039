/**
 * What the three System V IPC object kinds (shared memory, semaphore sets, message
 * queues) have in common, as Linux's ipc/util.c has it: an IpcPerm per object (key,
 * owner, creator, mode, sequence number), the permission check ipcperms(), the id space
 * of an IpcRegistry (id = seq * IPCMNI + index, the lowest free index, the sequence
 * counting up per creation) and ipcget()'s rules for IPC_PRIVATE, IPC_CREAT and IPC_EXCL.
 *
 * Invariant: an object is in its registry's `byIndex` until removed (IPC_RMID, or its
 * last detach for a shared memory segment marked for removal); a removed object keeps
 * `removed` set so that a task still waiting on it learns EIDRM.
 */
import { CAP_SYS_ADMIN } from '../capabilities';
import type { Credentials } from '../credentials';
import { Errno, fail } from '../errors';
import { CLOCK_REALTIME, nowNs } from '../timekeeper';
import { fromKernelId, ownerOf, type UserNamespace } from '../user-namespace';

/** IPC_PRIVATE is the key that always makes a new object. */
export const IPC_PRIVATE = 0;
/** ipcget's flags (the low nine bits are the mode). */
export const IPC_CREAT = 0o1000, IPC_EXCL = 0o2000, IPC_NOWAIT = 0o4000;
/** The *ctl commands shared by all kinds. */
export const IPC_RMID = 0, IPC_SET = 1, IPC_STAT = 2, IPC_INFO = 3;
/** IPCMNI is how many objects of a kind the id space indexes (Linux's 32768, ids are seq * IPCMNI + index). */
export const IPCMNI = 32768;
/** CAP_IPC_OWNER bypasses an object's mode (capability.h). */
export const CAP_IPC_OWNER = 15;
/** IPC_PERM_SIZE is sizeof(struct ipc64_perm) on x86-64. */
export const IPC_PERM_SIZE = 48;
/** Access bits asked of ipcperms (S_IRUGO-style: 4 read, 2 write/alter). */
export const MAY_READ = 4, MAY_WRITE = 2;

/** nowSeconds is the sandbox's CLOCK_REALTIME in seconds (the *_time fields). */
export function nowSeconds(): number {
  return Number(nowNs(CLOCK_REALTIME) / 1000000000n);
}

/** IpcPerm is struct kern_ipc_perm: an object's key, owner, creator, mode and id. */
export class IpcPerm {
  /** id is the object's identifier (seq * IPCMNI + index). */
  id = 0;
  seq = 0;
  uid: number;
  gid: number;
  readonly cuid: number;
  readonly cgid: number;
  /** mode holds the nine permission bits and a kind's state bits (SHM_DEST, SHM_LOCKED). */
  mode: number;
  /** ns is the IPC namespace the object lives in (its registry sets it): the user namespace
   * owning that one is where CAP_IPC_OWNER and CAP_SYS_ADMIN count. */
  ns: object | null = null;

  constructor(public key: number, creds: Credentials, flags: number) {
    this.uid = this.cuid = creds.euid;
    this.gid = this.cgid = creds.egid;
    this.mode = flags & 0o777;
  }

  /** permits is Linux's ipcperms(): may creds have the access bits in `flag` (mode-style, any of the three triads)? */
  permits(creds: Credentials, flag: number): boolean {
    const requested = ((flag >> 6) | (flag >> 3) | flag) & 7;
    let granted = this.mode;
    if (creds.euid === this.cuid || creds.euid === this.uid) granted >>= 6;
    else if (creds.inGroup(this.cgid) || creds.inGroup(this.gid)) granted >>= 3;
    return (requested & ~granted & 7) === 0 || creds.capableIn(CAP_IPC_OWNER, this.ownerNs());
  }

  /** ownerNs is the user namespace that owns the object's IPC namespace (null: the sandbox's). */
  private ownerNs(): UserNamespace | null {
    return this.ns ? ownerOf(this.ns) : null;
  }

  /** check fails with EACCES unless permits(). */
  check(creds: Credentials, flag: number): void {
    if (!this.permits(creds, flag)) fail(Errno.EACCES);
  }

  /** checkOwner fails with EPERM unless creds own or created the object or have CAP_SYS_ADMIN
   * over its IPC namespace (IPC_SET, IPC_RMID). */
  checkOwner(creds: Credentials): void {
    if (creds.euid !== this.uid && creds.euid !== this.cuid && !creds.capableIn(CAP_SYS_ADMIN, this.ownerNs())) fail(Errno.EPERM);
  }

  /*
   * struct ipc64_perm (48 bytes): key i32 @0, uid u32 @4, gid u32 @8, cuid u32 @12,
   * cgid u32 @16, mode u32 @20, seq u16 @24, pad u16 @26, two unused longs @32, @40.
   */
  /** encode writes struct ipc64_perm at the start of b, its ids as user namespace `reader`
   * sees them (the overflow id unmapped). */
  encode(b: Buffer, reader: UserNamespace | null = null): void {
    b.writeInt32LE(this.key | 0, 0);
    b.writeUInt32LE(fromKernelId(reader, 'uid', this.uid) >>> 0, 4);
    b.writeUInt32LE(fromKernelId(reader, 'gid', this.gid) >>> 0, 8);
    b.writeUInt32LE(fromKernelId(reader, 'uid', this.cuid) >>> 0, 12);
    b.writeUInt32LE(fromKernelId(reader, 'gid', this.cgid) >>> 0, 16);
    b.writeUInt32LE(this.mode, 20);
    b.writeUInt16LE(this.seq & 0xffff, 24);
  }

  /** set applies IPC_SET's uid, gid and nine mode bits from a struct ipc64_perm at the start
   * of b; `kernelId` turns the caller's ids into kernel ids (EINVAL unmapped) before any is set. */
  set(b: Buffer, kernelId: (kind: 'uid' | 'gid', id: number) => number = (_k, id) => id): void {
    const uid = kernelId('uid', b.readUInt32LE(4)), gid = kernelId('gid', b.readUInt32LE(8));
    this.uid = uid;
    this.gid = gid;
    this.mode = (this.mode & ~0o777) | (b.readUInt32LE(20) & 0o777);
  }
}

/** IpcObject is what a registry holds: one object with its IpcPerm. */
export interface IpcObject {
  readonly perm: IpcPerm;
  /** removed is set once the object left its registry (waiters get EIDRM). */
  removed: boolean;
  /** dropped, when defined, gives back what the object holds once it leaves its registry. */
  dropped?(): void;
}

/**
 * IpcRegistry is the id space of one kind of object in one IPC namespace (Linux's
 * struct ipc_ids): at most `max()` objects, found by id or by key.
 */
export class IpcRegistry<T extends IpcObject> {
  private readonly byIndex = new Map<number, T>();
  private seq = 0;

  /** max returns the current limit on objects (SHMMNI, SEMMNI, MSGMNI); ns is the IPC
   * namespace the registry belongs to (its objects' IpcPerm.ns). */
  constructor(private readonly max: () => number, private readonly ns: object | null = null) {}

  /** size is the number of objects. */
  get size(): number {
    return this.byIndex.size;
  }

  /** objects lists the objects by ascending index. */
  objects(): T[] {
    return [...this.byIndex.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }

  /** maxIndex is the highest index in use, or -1 (what IPC_INFO and *_INFO return, at least 0). */
  maxIndex(): number {
    let m = -1;
    for (const i of this.byIndex.keys()) m = Math.max(m, i);
    return m;
  }

  /** atIndex returns the object at index i (the *_STAT commands). */
  atIndex(i: number): T | undefined {
    return this.byIndex.get(i);
  }

  /** get returns the object with this id, failing with EINVAL (no such index, or another sequence number). */
  get(id: number): T {
    if (id < 0) fail(Errno.EINVAL);
    const o = this.byIndex.get(id % IPCMNI);
    if (!o || o.perm.id !== id) fail(Errno.EINVAL);
    return o;
  }

  /**
   * lookup is ipcget(): the object of `key` as `flags` ask (IPC_CREAT, IPC_EXCL, the
   * access bits checked as Linux's ipc_check_perms, after `more`), created by `create` when absent
   * (always for IPC_PRIVATE); `more` checks an existing object further (a size, a count).
   */
  lookup(key: number, flags: number, creds: Credentials, create: () => T, more?: (o: T) => void): T {
    if (key !== IPC_PRIVATE) {
      const found = [...this.byIndex.values()].find((o) => o.perm.key === key);
      if (found) {
        if (flags & IPC_CREAT && flags & IPC_EXCL) fail(Errno.EEXIST);
        more?.(found);
        found.perm.check(creds, flags);
        return found;
      }
      if (!(flags & IPC_CREAT)) fail(Errno.ENOENT);
    }
    if (this.byIndex.size >= Math.min(this.max(), IPCMNI)) fail(Errno.ENOSPC);
    const o = create();
    o.perm.ns = this.ns;
    let index = 0;
    while (this.byIndex.has(index)) index++;
    o.perm.seq = this.seq;
    o.perm.id = this.seq * IPCMNI + index;
    // As Linux, the sequence wraps so that ids stay positive ints.
    this.seq = this.seq + 1 >= 65536 ? 0 : this.seq + 1;
    this.byIndex.set(index, o);
    return o;
  }

  /** remove takes an object out of the registry (its id and key are free again) and marks it removed. */
  remove(o: T): void {
    if (this.byIndex.get(o.perm.id % IPCMNI) !== o) return;
    this.byIndex.delete(o.perm.id % IPCMNI);
    o.removed = true;
    o.dropped?.();
  }
}
