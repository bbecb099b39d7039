/**
 * Session is the state of one 9P connection: negotiated msize and version, the fid
 * table, the attach user. Handlers get the session and one decoded request.
 *
 * Fid rules (9P2000.L): a fid names a File, optionally opened (then `open` holds a
 * real descriptor) or turned into an xattr fid. A fid number is in use from the reply
 * that creates it until Tclunk/Tremove; reusing one in use answers EBADF.
 */
import * as sys from '../hostfs/sys';
import type { HostCreds } from '../hostfs/creds';
import { Errno } from '../../native/libc';
import type { Exports } from './export';
import type { File } from './file';
import type { WatchTable } from './watches';
import type { CacheWatchTable } from './cache-watches';

/** XattrState is a fid created by Txattrwalk (value to read) or Txattrcreate (value to write). */
export type XattrState =
  | { mode: 'read'; data: Buffer }
  | { mode: 'write'; name: string; size: number; flags: number; data: Buffer; written: number };

/** Fid is one client fid. */
export interface Fid {
  file: File;
  /** open is set after Tlopen/Tlcreate: the opened descriptor and its flags. */
  open?: { fd: number; flags: number };
  xattr?: XattrState;
  /** uid is the attach's user, owner of what this fid creates. */
  uid: number;
}

/** MAX_FIDS bounds one connection's fid table (a peer cannot exhaust descriptors). */
export const MAX_FIDS = 16384;

/** Session is one connection's protocol state. */
export class Session {
  msize = 0;
  /** fdPassing is true when the client negotiated 9P2000.L.fd. */
  fdPassing = false;
  readonly fids = new Map<number, Fid>();
  /** caller, in 9P2000.L.fd, is who files are looked up, opened and changed for (host
   * ids, see caller.ts); null in plain 9P2000.L, where the gofer acts as itself. */
  caller: HostCreds | null = null;
  /** watches are the connection's host inotify watches (9P2000.L.fd's Twatch), made on
   * first use. */
  watches: WatchTable | null = null;
  /** cacheWatches are the connection's cache watches (Tcachewatch), made on first use. */
  cacheWatches: CacheWatchTable | null = null;
  /** passFd, set by a handler, is attached to the reply being built. */
  passFd = -1;
  private scratchBuf = Buffer.alloc(0);

  /** scratch returns a reusable buffer of at least n bytes, valid until the next request. */
  scratch(n: number): Buffer {
    if (this.scratchBuf.length < n) this.scratchBuf = Buffer.allocUnsafe(Math.max(n, 65536));
    return this.scratchBuf;
  }

  constructor(readonly exports: Exports, readonly canPassFds: boolean) {}

  /** fid returns the fid or -EBADF. */
  fid(n: number): Fid | number {
    return this.fids.get(n) ?? -Errno.EBADF;
  }

  /** addFid installs a new fid; the number must be free (EBADF otherwise). */
  addFid(n: number, fid: Fid): number {
    if (this.fids.has(n)) return -Errno.EBADF;
    if (this.fids.size >= MAX_FIDS) return -Errno.EMFILE;
    this.fids.set(n, fid);
    return 0;
  }

  /** releaseFid forgets a fid and closes what it holds. */
  releaseFid(n: number): void {
    const fid = this.fids.get(n);
    if (!fid) return;
    this.fids.delete(n);
    closeFid(fid);
  }

  /** reset clunks every fid (Tversion, or the end of the connection). */
  reset(): void {
    this.watches?.close();
    this.watches = null;
    this.cacheWatches?.close();
    this.cacheWatches = null;
    for (const fid of this.fids.values()) closeFid(fid);
    this.fids.clear();
  }
}

/** closeFid closes a fid's descriptors (its File and its open descriptor). */
export function closeFid(fid: Fid): void {
  if (fid.open) sys.close(fid.open.fd);
  fid.open = undefined;
  fid.file.close();
}
