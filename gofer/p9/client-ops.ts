/**
 * OPS is the 9P client's operation table: one generator per operation, written once and
 * run either asynchronously (Client) or synchronously (SyncClient) by the engine. Each
 * yields its requests (client-engine.ts Step) and returns the operation's result;
 * failures are P9Errors naming the operation.
 *
 * Fid bookkeeping lives here: operations that create a fid (attach, walk, xattrwalk)
 * allocate it and return it; clunk and remove release it, whatever the server answers
 * (9P says the fid is gone after either).
 */
import { Errno } from '../../native/libc';
import type { Call, Engine, OpGen, Received, Request, Step } from './client-engine';
import { P9Error, protocolError, WalkError } from './client-error';
import { decodeDirents, type Dirent } from './dirent';
import { carriesFd, GetattrMask, IOHDRSZ, MAX_DIRSTATS, NOFID, NOTIFY_READS, VERSION_9P2000L, VERSION_FD, type Body, type DirStat, type Message, type ReplyName, type RequestName } from './messages';
import type { Qid } from './wire';

/** MAXWELEM is the most names one Twalk carries; longer walks take several. */
export const MAXWELEM = 16;

/** Attr is the reply of getattr (see GetattrMask for which fields are valid). */
export type Attr = Body<'Rgetattr'>;
/** Statfs is the reply of statfs. */
export type Statfs = Body<'Rstatfs'>;
/** SetattrRequest is what setattr changes: `valid` (SetattrMask bits) and those fields. */
export type SetattrRequest = Partial<Body<'Tsetattr'>> & { valid: number };
/** LockRequest describes a byte-range lock (Tlock/Tgetlock). */
export interface LockRequest {
  lockType: number;
  start?: number;
  length?: number;
  procId?: number;
  clientId?: string;
  flags?: number;
}
/** Opened is an open file: its qid, the server's I/O unit, and the host descriptor that
 * came with the reply in 9P2000.L.fd for a regular file (-1 otherwise: a directory, or
 * plain 9P2000.L; the caller owns and closes it). */
export interface Opened {
  qid: Qid;
  iounit: number;
  hostFd: number;
}

function* rpcFd<N extends RequestName>(what: string, req: { kind: N } & Body<N>): Generator<Step, Received, Received> {
  return yield { req: req as unknown as Request, what };
}

function* rpc<N extends RequestName>(what: string, req: { kind: N } & Body<N>): Generator<Step, Message<ReplyName<N>>, Received> {
  const got = yield { req: req as unknown as Request, what };
  return got.msg as Message<ReplyName<N>>;
}

function* opened(e: Engine, what: string, req: Request & { kind: 'Tlopen' | 'Tlcreate' }): OpGen<Opened> {
  const { msg, fd } = yield* rpcFd(what, req);
  const r = msg as Message<'Rlopen' | 'Rlcreate'>;
  if (e.fdMode && fd < 0 && carriesFd(r.qid)) throw protocolError(what, `no descriptor came with ${r.kind}`);
  return { qid: r.qid, iounit: r.iounit, hostFd: fd };
}

function* release(e: Engine, what: string, req: Request & { kind: 'Tclunk' | 'Tremove' }): OpGen<void> {
  try {
    yield* rpc(what, req);
  } finally {
    e.releaseFid(req.fid);
  }
}

/** splitPath turns 'a/b/c' into ['a', 'b', 'c'] (empty components dropped). */
export function splitPath(path: string | readonly string[]): string[] {
  return typeof path === 'string' ? path.split('/').filter((n) => n !== '') : [...path];
}

export const OPS = {
  /**
   * version negotiates msize and the dialect. On a transport that can receive
   * descriptors it proposes 9P2000.L.fd and falls back to 9P2000.L when the server
   * answers 'unknown'. It resets the connection's fids.
   */
  *version(e: Engine, msize: number, proposeFd = e.transport.canPassFds): OpGen<{ msize: number; version: string }> {
    let r = yield* rpc('version', { kind: 'Tversion', msize, version: proposeFd ? VERSION_FD : VERSION_9P2000L });
    if (r.version === 'unknown' && proposeFd) r = yield* rpc('version', { kind: 'Tversion', msize, version: VERSION_9P2000L });
    if (r.version !== VERSION_9P2000L && !(proposeFd && r.version === VERSION_FD)) {
      throw new P9Error('version', Errno.EPROTONOSUPPORT, `the server answers "${r.version}"`);
    }
    if (r.msize > msize || r.msize < IOHDRSZ + 64) throw protocolError('version', `msize ${r.msize} for ${msize} proposed`);
    e.setMsize(r.msize);
    e.fdMode = r.version === VERSION_FD;
    return { msize: r.msize, version: r.version };
  },

  /** attach attaches a new fid to the export `aname` as the user `uname`/`nUname`. */
  *attach(e: Engine, aname = '', uname = 'root', nUname = 0): OpGen<{ fid: number; qid: Qid }> {
    const fid = e.allocFid();
    try {
      const r = yield* rpc(`attach ${aname || '/'}`, { kind: 'Tattach', fid, afid: NOFID, uname, aname, nUname });
      return { fid, qid: r.qid };
    } catch (err) {
      e.releaseFid(fid);
      throw err;
    }
  },

  /**
   * walk walks a new fid from `fid` through `path` ('a/b' or ['a', 'b']; empty: a clone),
   * in Twalks of at most 16 names. A walk that stops early fails with a WalkError
   * holding the qids walked, and creates no fid.
   */
  *walk(e: Engine, fid: number, path: string | readonly string[]): OpGen<{ fid: number; qids: Qid[] }> {
    const names = splitPath(path);
    const what = names.length ? `walk ${names.join('/')}` : `walk (clone of fid ${fid})`;
    const newfid = e.allocFid();
    const qids: Qid[] = [];
    let created = false;
    try {
      for (let i = 0; i === 0 || i < names.length; i += MAXWELEM) {
        const batch = names.slice(i, i + MAXWELEM);
        const r = yield* rpc(what, { kind: 'Twalk', fid: created ? newfid : fid, newfid, names: batch });
        if (r.qids.length > batch.length) throw protocolError(what, `${r.qids.length} qids for ${batch.length} names`);
        qids.push(...r.qids);
        if (r.qids.length < batch.length) throw new WalkError(what, Errno.ENOENT, qids);
        created = true;
      }
      return { fid: newfid, qids };
    } catch (err) {
      if (created) {
        try {
          yield* rpc(`clunk fid ${newfid}`, { kind: 'Tclunk', fid: newfid });
        } catch {
          // the walk's own error is the one to report
        }
      }
      e.releaseFid(newfid);
      if (err instanceof P9Error && !(err instanceof WalkError)) throw new WalkError(what, err.errno, qids);
      throw err;
    }
  },

  /** getattr returns the attributes selected by `mask` (GetattrMask; default BASIC). */
  *getattr(e: Engine, fid: number, mask: number = GetattrMask.BASIC): OpGen<Attr> {
    return (yield* rpc(`getattr fid ${fid}`, { kind: 'Tgetattr', fid, requestMask: mask })) as Attr;
  },

  /** setattr changes the attributes named by `attrs.valid` (SetattrMask). */
  *setattr(e: Engine, fid: number, attrs: SetattrRequest): OpGen<void> {
    yield* rpc(`setattr fid ${fid}`, {
      kind: 'Tsetattr', fid, valid: attrs.valid, mode: attrs.mode ?? 0, uid: attrs.uid ?? 0, gid: attrs.gid ?? 0,
      size: attrs.size ?? 0, atimeSec: attrs.atimeSec ?? 0, atimeNsec: attrs.atimeNsec ?? 0,
      mtimeSec: attrs.mtimeSec ?? 0, mtimeNsec: attrs.mtimeNsec ?? 0,
    });
  },

  /**
   * setcreds names the user, groups and filesystem capabilities (a mask of capability
   * numbers) that later changes on this connection are made with (9P2000.L.fd only).
   */
  *setcreds(e: Engine, uid: number, gid: number, groups: readonly number[], caps: number): OpGen<void> {
    if (!e.fdMode) throw new P9Error('setcreds', Errno.EOPNOTSUPP, 'the server speaks plain 9P2000.L');
    const list = Buffer.alloc(groups.length * 4);
    groups.forEach((g, i) => list.writeUInt32LE(g >>> 0, i * 4));
    yield* rpc('setcreds', { kind: 'Tsetcreds', uid, gid, caps, groups: list });
  },

  /** lopen opens the file of `fid` with Linux open flags. */
  *lopen(e: Engine, fid: number, flags: number): OpGen<Opened> {
    return yield* opened(e, `lopen fid ${fid}`, { kind: 'Tlopen', fid, flags });
  },

  /** lcreate creates and opens `name` in the directory `fid`; `fid` then names the new file. */
  *lcreate(e: Engine, fid: number, name: string, flags: number, mode: number, gid = 0): OpGen<Opened> {
    return yield* opened(e, `lcreate ${name}`, { kind: 'Tlcreate', fid, name, flags, mode, gid });
  },

  /** read reads up to `count` bytes at `offset` (at most msize - 24 in one request). */
  *read(e: Engine, fid: number, offset: number, count: number): OpGen<Buffer> {
    const n = Math.min(count, e.msize - IOHDRSZ);
    return (yield* rpc(`read fid ${fid}`, { kind: 'Tread', fid, offset, count: n })).data;
  },

  /** write writes `data` at `offset` (at most msize - 24 bytes of it) and returns the count written. */
  *write(e: Engine, fid: number, offset: number, data: Uint8Array): OpGen<number> {
    const max = e.msize - IOHDRSZ;
    const chunk = data.length > max ? data.subarray(0, max) : data;
    return (yield* rpc(`write fid ${fid}`, { kind: 'Twrite', fid, offset, data: chunk as Buffer })).count;
  },

  /** readdir returns the entries after the cookie `offset` (0n: the start) that fit `count` bytes. */
  *readdir(e: Engine, fid: number, offset = 0n, count = e.msize - IOHDRSZ): OpGen<Dirent[]> {
    const what = `readdir fid ${fid}`;
    const r = yield* rpc(what, { kind: 'Treaddir', fid, offset, count });
    try {
      return decodeDirents(r.data);
    } catch (err) {
      throw protocolError(what, (err as Error).message);
    }
  },

  /** readdirAll reads a whole directory (already opened) from its start. */
  *readdirAll(e: Engine, fid: number): OpGen<Dirent[]> {
    const all: Dirent[] = [];
    for (let offset = 0n; ;) {
      const batch = yield* OPS.readdir(e, fid, offset);
      if (batch.length === 0) return all;
      all.push(...batch);
      offset = batch[batch.length - 1].offset;
    }
  },

  /**
   * readdirStat lists the directory `fid` (walked to, not opened) with each entry's
   * attributes (9P2000.L.fd's Treaddirstat): at most `count` entries from the `offset`th,
   * and `next`, the offset of the rest (0 when the listing is complete).
   */
  *readdirStat(e: Engine, fid: number, offset = 0, count: number = MAX_DIRSTATS): OpGen<{ next: number; entries: DirStat[] }> {
    const r = yield* rpc(`readdirstat fid ${fid}`, { kind: 'Treaddirstat', fid, offset, count });
    return { next: r.next, entries: r.entries };
  },

  /** clunk forgets `fid` (its number is reusable afterwards, even if the server fails). */
  *clunk(e: Engine, fid: number): OpGen<void> {
    yield* release(e, `clunk fid ${fid}`, { kind: 'Tclunk', fid });
  },

  /** remove removes the file of `fid` and forgets `fid`. */
  *remove(e: Engine, fid: number): OpGen<void> {
    yield* release(e, `remove fid ${fid}`, { kind: 'Tremove', fid });
  },

  /** mkdir creates the directory `name` in the directory `dfid`. */
  *mkdir(e: Engine, dfid: number, name: string, mode = 0o755, gid = 0): OpGen<Qid> {
    return (yield* rpc(`mkdir ${name}`, { kind: 'Tmkdir', dfid, name, mode, gid })).qid;
  },

  /** symlink creates the symbolic link `name` -> `target` in the directory `dfid`. */
  *symlink(e: Engine, dfid: number, name: string, target: string, gid = 0): OpGen<Qid> {
    return (yield* rpc(`symlink ${name}`, { kind: 'Tsymlink', fid: dfid, name, target, gid })).qid;
  },

  /** mknod creates the node `name` (mode holds the file type) in the directory `dfid`. */
  *mknod(e: Engine, dfid: number, name: string, mode: number, major = 0, minor = 0, gid = 0): OpGen<Qid> {
    return (yield* rpc(`mknod ${name}`, { kind: 'Tmknod', dfid, name, mode, major, minor, gid })).qid;
  },

  /** rename moves the file of `fid` to `name` in the directory `dfid`. */
  *rename(e: Engine, fid: number, dfid: number, name: string): OpGen<void> {
    yield* rpc(`rename ${name}`, { kind: 'Trename', fid, dfid, name });
  },

  /** renameat moves `oldName` in `oldDirFid` to `newName` in `newDirFid`. */
  *renameat(e: Engine, oldDirFid: number, oldName: string, newDirFid: number, newName: string): OpGen<void> {
    yield* rpc(`renameat ${oldName} ${newName}`, { kind: 'Trenameat', oldDirFid, oldName, newDirFid, newName });
  },

  /** unlinkat removes `name` from the directory `dirFid` (flags: AT_REMOVEDIR for a directory). */
  *unlinkat(e: Engine, dirFid: number, name: string, flags = 0): OpGen<void> {
    yield* rpc(`unlinkat ${name}`, { kind: 'Tunlinkat', dirFid, name, flags });
  },

  /** readlink returns the target of the symbolic link `fid`. */
  *readlink(e: Engine, fid: number): OpGen<string> {
    return (yield* rpc(`readlink fid ${fid}`, { kind: 'Treadlink', fid })).target;
  },

  /** link makes `name` in the directory `dfid` a hard link to the file of `fid`. */
  *link(e: Engine, dfid: number, fid: number, name: string): OpGen<void> {
    yield* rpc(`link ${name}`, { kind: 'Tlink', dfid, fid, name });
  },

  /** watch (9P2000.L.fd) watches the file of `fid` for host changes; its wd. */
  *watch(e: Engine, fid: number): OpGen<number> {
    if (!e.fdMode) throw new P9Error('watch', Errno.EOPNOTSUPP, 'the server speaks plain 9P2000.L');
    return (yield* rpc(`watch fid ${fid}`, { kind: 'Twatch', fid })).wd;
  },

  /** unwatch (9P2000.L.fd) drops a reference to watch `wd`. */
  *unwatch(e: Engine, wd: number): OpGen<void> {
    if (!e.fdMode) throw new P9Error('unwatch', Errno.EOPNOTSUPP, 'the server speaks plain 9P2000.L');
    yield* rpc(`unwatch ${wd}`, { kind: 'Tunwatch', wd });
  },

  /** cacheWatch (9P2000.L.fd) watches the directory `fid` for host changes on the
   * connection's cache-watch instance (Tcachewatch): its wd, and the instance's
   * descriptor when it came with this reply (the first; the caller owns it), else -1. */
  *cacheWatch(e: Engine, fid: number): OpGen<{ wd: number; fd: number }> {
    if (!e.fdMode) throw new P9Error('cachewatch', Errno.EOPNOTSUPP, 'the server speaks plain 9P2000.L');
    const what = `cachewatch fid ${fid}`;
    const { msg, fd } = yield* rpcFd(what, { kind: 'Tcachewatch', fid });
    const r = msg as Message<'Rcachewatch'>;
    if (r.passed && fd < 0) throw protocolError(what, 'no descriptor came with Rcachewatch');
    return { wd: r.wd, fd };
  },

  /** uncacheWatch (9P2000.L.fd) drops a reference to cache watch `wd`. */
  *uncacheWatch(e: Engine, wd: number): OpGen<void> {
    if (!e.fdMode) throw new P9Error('uncachewatch', Errno.EOPNOTSUPP, 'the server speaks plain 9P2000.L');
    yield* rpc(`uncachewatch ${wd}`, { kind: 'Tuncachewatch', wd });
  },

  /** notifyBarrier (9P2000.L.fd) tells the server that the host events queued so far
   * for `name` (in watched directories) and for watched files themselves are the
   * client's own (Tnotify without NOTIFY_WAIT); with `readsOnly`, only those of reading
   * (IN_OPEN, IN_ACCESS, IN_CLOSE_NOWRITE: NOTIFY_READS). */
  *notifyBarrier(e: Engine, name: string, readsOnly = false): OpGen<void> {
    if (!e.fdMode) throw new P9Error('notify', Errno.EOPNOTSUPP, 'the server speaks plain 9P2000.L');
    yield* rpc('notify barrier', { kind: 'Tnotify', flags: readsOnly ? NOTIFY_READS : 0, name });
  },

  /** statfs returns the file system statistics of the file system holding `fid`. */
  *statfs(e: Engine, fid: number): OpGen<Statfs> {
    return (yield* rpc(`statfs fid ${fid}`, { kind: 'Tstatfs', fid })) as Statfs;
  },

  /** fsync flushes the open file `fid` to storage. */
  *fsync(e: Engine, fid: number, datasync = false): OpGen<void> {
    yield* rpc(`fsync fid ${fid}`, { kind: 'Tfsync', fid, datasync: datasync ? 1 : 0 });
  },

  /** lock takes or releases a byte-range lock; it returns the LockStatus. */
  *lock(e: Engine, fid: number, l: LockRequest): OpGen<number> {
    return (yield* rpc(`lock fid ${fid}`, {
      kind: 'Tlock', fid, lockType: l.lockType, flags: l.flags ?? 0, start: l.start ?? 0, length: l.length ?? 0,
      procId: l.procId ?? 0, clientId: l.clientId ?? '',
    })).status;
  },

  /** getlock tests for a conflicting lock (lockType UNLCK in the answer: none). */
  *getlock(e: Engine, fid: number, l: LockRequest): OpGen<Body<'Rgetlock'>> {
    return (yield* rpc(`getlock fid ${fid}`, {
      kind: 'Tgetlock', fid, lockType: l.lockType, start: l.start ?? 0, length: l.length ?? 0,
      procId: l.procId ?? 0, clientId: l.clientId ?? '',
    })) as Body<'Rgetlock'>;
  },

  /**
   * xattrwalk prepares to read the extended attribute `name` (or the list of names, for
   * '') through a new fid: read it, then clunk it.
   */
  *xattrwalk(e: Engine, fid: number, name = ''): OpGen<{ fid: number; size: number }> {
    const newfid = e.allocFid();
    try {
      const r = yield* rpc(`xattrwalk ${name || '(list)'}`, { kind: 'Txattrwalk', fid, newfid, name });
      return { fid: newfid, size: r.size };
    } catch (err) {
      e.releaseFid(newfid);
      throw err;
    }
  },

  /** xattrcreate turns `fid` into the writer of attribute `name` (size bytes; set on clunk). */
  *xattrcreate(e: Engine, fid: number, name: string, size: number, flags = 0): OpGen<void> {
    yield* rpc(`xattrcreate ${name}`, { kind: 'Txattrcreate', fid, name, attrSize: size, flags });
  },

  /**
   * flush asks the server to abandon the request `oldtag` (a Call's `tag`). Once the
   * Rflush is in, that request has either been answered or fails with ECANCELED.
   */
  *flush(e: Engine, oldtag: number): OpGen<void> {
    const held = e.markFlushing(oldtag);
    try {
      yield* rpc(`flush tag ${oldtag}`, { kind: 'Tflush', oldtag });
    } finally {
      if (held) e.flushed(oldtag);
    }
  },
};

type OpTable = typeof OPS;
type OpArgs<F> = F extends (e: Engine, ...args: infer A) => unknown ? A : never;
type OpResult<F> = F extends (...args: never[]) => OpGen<infer R> ? R : never;

/** AsyncOps is every operation as a method returning a Call (a promise with its tag). */
export type AsyncOps = { [K in keyof OpTable]: (...args: OpArgs<OpTable[K]>) => Call<OpResult<OpTable[K]>> };
/** SyncOps is every operation as a method returning its result (fd transport only). */
export type SyncOps = { [K in keyof OpTable]: (...args: OpArgs<OpTable[K]>) => OpResult<OpTable[K]> };
