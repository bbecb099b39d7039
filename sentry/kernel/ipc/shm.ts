/**
 * System V shared memory (shmget, shmat, shmdt, shmctl): a segment is a SharedAnon
 * (mm/shared.ts) that every attachment maps MAP_SHARED, so that it is the same memory in
 * every process, allocated as touched. Each VMA mapping a segment holds a reference (as
 * Linux's shm_open/shm_close count shm_nattch per VMA: fork adds one, exit and exec drop
 * theirs), and the namespace's registry holds one more until IPC_RMID; a segment marked
 * for removal (SHM_DEST) goes with its last attachment.
 */
import type { MemoryFile } from '../../../platform';
import { SharedAnon } from '../../mm/shared';
import type { Credentials } from '../credentials';
import { Errno, fail } from '../errors';
import { IpcPerm, nowSeconds, type IpcObject } from './perm';

/** SHM_DEST marks a segment removed with IPC_RMID while attached; SHM_LOCKED one locked with SHM_LOCK (mode bits). */
export const SHM_DEST = 0o1000, SHM_LOCKED = 0o2000;
/** Linux's default limits: SHMMIN 1 byte, SHMMNI 4096 segments, SHMMAX and SHMALL ULONG_MAX - 2^24 (bytes, pages). */
export const SHMMIN = 1, SHMMNI = 4096, SHMMAX = 0xffffffffffffffffn - (1n << 24n), SHMALL = SHMMAX;

/**
 * ShmSegment is one segment: its memory (a SharedAnon whose references are counted as
 * attachments, plus the registry's own until the segment is removed) and its shmid_ds.
 */
export class ShmSegment extends SharedAnon implements IpcObject {
  readonly perm: IpcPerm;
  removed = false;
  /** nattch counts the VMAs mapping the segment (shm_nattch). */
  nattch = 0;
  atime = 0;
  dtime = 0;
  ctime = nowSeconds();
  lpid = 0;
  /** name is what /proc/<pid>/maps shows for an attachment: the key at creation, as Linux names the segment's file. */
  readonly name: string;

  constructor(mf: MemoryFile, size: number, key: number, creds: Credentials, flags: number, readonly cpid: number, private readonly onDestroy: (s: ShmSegment) => void) {
    super(mf, size);
    this.perm = new IpcPerm(key, creds, flags);
    this.name = `/SYSV${(key >>> 0).toString(16).padStart(8, '0')} (deleted)`;
    super.ref(); // the registry's reference, dropped by destroy()
  }

  /** pages is the segment's size in pages (what SHMALL counts). */
  get pages(): number {
    return Math.ceil(this.size / 4096);
  }

  override ref(): this {
    this.nattch++;
    return super.ref();
  }

  override unref(): void {
    this.nattch--;
    if (this.nattch === 0 && this.perm.mode & SHM_DEST) this.destroy();
    super.unref();
  }

  /** markRemoved is IPC_RMID: destroyed now when unattached, else at the last detach (its key is private from now on). */
  markRemoved(): void {
    if (this.nattch === 0) return this.destroy();
    this.perm.mode |= SHM_DEST;
    this.perm.key = 0;
  }

  private destroy(): void {
    if (this.removed) return;
    this.onDestroy(this);
    super.unref();
  }

  /*
   * struct shmid64_ds (112 bytes): ipc64_perm @0, shm_segsz u64 @48, shm_atime @56,
   * shm_dtime @64, shm_ctime @72 (i64), shm_cpid i32 @80, shm_lpid i32 @84,
   * shm_nattch u64 @88, two unused longs.
   */
  /** encode returns the segment's struct shmid64_ds (IPC_STAT, SHM_STAT), its pids through `pid` (a pid namespace's view). */
  encode(pid: (id: number) => number = (id) => id): Buffer {
    const b = Buffer.alloc(112);
    this.perm.encode(b);
    b.writeBigUInt64LE(BigInt(this.size), 48);
    b.writeBigInt64LE(BigInt(this.atime), 56);
    b.writeBigInt64LE(BigInt(this.dtime), 64);
    b.writeBigInt64LE(BigInt(this.ctime), 72);
    b.writeInt32LE(pid(this.cpid), 80);
    b.writeInt32LE(pid(this.lpid), 84);
    b.writeBigUInt64LE(BigInt(Math.max(0, this.nattch)), 88);
    return b;
  }

  /** residentBytes is how many bytes pages of the segment hold memory (SHM_INFO's shm_rss, /proc/sysvipc/shm's rss). */
  get residentBytes(): number {
    return Math.min(this.chunks.size * 64 * 1024, Math.ceil(this.size / 4096) * 4096);
  }
}

/** checkShmSize fails with EINVAL for a size outside [SHMMIN, shmmax]. */
export function checkShmSize(size: bigint, shmmax: bigint): void {
  if (size < BigInt(SHMMIN) || size > shmmax) fail(Errno.EINVAL);
}
