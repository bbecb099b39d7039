/**
 * Client is tvisor's 9P2000.L client: many requests in flight on one connection,
 * multiplexed by tag, with per-connection fids. Every operation of client-ops.ts is a
 * method returning a promise (`client.walk(root, 'etc/passwd')`) and, on the fd
 * transport, a synchronous method of `client.sync` (`client.sync.walk(...)`).
 *
 *   const c = await Client.connect({ host: '127.0.0.1', port: 564 });   // plain 9P, TCP
 *   const c = Client.overFd(connectUnix(path));                          // the sentry's way
 *
 * Over a descriptor the client proposes 9P2000.L.fd: lopen/lcreate of a regular file then
 * return the opened host descriptor (`hostFd`), which the caller owns and closes (a
 * directory's stays with the server: carriesFd).
 */
import { Engine, type Call, type OpGen, type Received, type Step, type Transport } from './client-engine';
import { OPS, type Attr, type AsyncOps, type SyncOps } from './client-ops';
import { closedError, protocolError, WalkError } from './client-error';
import { PHASES, phaseAdd } from '../../native/phases';
import { GetattrMask, IOHDRSZ, NOFID, NOTIFY_WAIT, type DirStat, type Message, type Note } from './messages';
import { Errno } from '../../native/libc';
import { closeFd } from '../../native/unixsock';
import { FdTransport, type FdTransportOptions } from './transport-fd';
import { StreamTransport, type StreamTarget } from './transport-stream';

export { P9Error, WalkError } from './client-error';
export type { Call, Transport } from './client-engine';
export type { Attr, LockRequest, Opened, SetattrRequest, Statfs } from './client-ops';
export { FdTransport } from './transport-fd';
export { StreamTransport, type StreamTarget } from './transport-stream';

/** DEFAULT_MSIZE is the msize proposed unless told otherwise: 1 MiB. */
export const DEFAULT_MSIZE = 1 << 20;

/** ClientOptions tunes a connection. */
export interface ClientOptions {
  /** msize is the largest message proposed (default 1 MiB; the server may lower it). */
  msize?: number;
  /** fdPassing: propose 9P2000.L.fd on the fd transport (default true). */
  fdPassing?: boolean;
}

type OpFn = (e: Engine, ...args: unknown[]) => OpGen<unknown>;

/** Walked is one name of a walkChain: the fid it is reached by and its attributes. */
export interface Walked {
  /** fid is a new fid the caller owns, or for a checked name the caller's own fid. */
  fid: number;
  attr: Attr;
}

/** SyncClient runs the operations synchronously (see SyncOps). */
export interface SyncClient extends SyncOps {}
export class SyncClient {
  /** walkStatOk is cleared once the server refused Twalkstat (walkChain then pipelines). */
  private walkStatOk = true;

  constructor(readonly engine: Engine) {}

  /**
   * walkChain looks up `names` one below the other from `fid` in one round trip: for each
   * name a Twalk of that one name from the previous fid to a new fid, then a Tgetattr
   * (`mask`) of the new fid, all sent together (the server handles them in order).
   *
   * The first `known.length` names are *checked* rather than looked up: the caller
   * already holds a fid for each (known[i], e.g. a cached dentry's), and wants to know
   * whether the name still leads there. Each is walked to a temporary fid, read and
   * clunked in the same batch, and the chain goes on from the caller's fid.
   *
   * It returns the names walked, in order, up to the first that failed (missing, not a
   * directory to walk from, refused), and that failure's error (null when all were
   * walked). The caller owns the new fids returned (not the checked names' fids).
   *
   * In 9P2000.L.fd the whole chain is one Twalkstat (walkStat), whose attributes are
   * always the basic ones and the birth time (`mask` is not sent); `before`, a request
   * sent ahead of it in the same round trip (a Tcachewatch of fid), is answered in
   * `pre` (never sent otherwise).
   */
  walkChain(fid: number, names: readonly string[], known: readonly number[] = [], mask: number = GetattrMask.BASIC, before?: Step): { walked: Walked[]; error: Error | null; pre?: Received | Error } {
    const e = this.engine;
    if (e.fdMode && this.walkStatOk && names.length > 0 && names.length <= MAX_WALKSTAT) {
      const r = this.walkStat(fid, names, known, before);
      if (r !== null) return r;
    }
    const fids = names.map(() => e.allocFid());
    const steps: Step[] = [];
    const at: number[] = [];
    names.forEach((name, i) => {
      const from = i === 0 ? fid : i - 1 < known.length ? known[i - 1] : fids[i - 1];
      at.push(steps.length);
      steps.push({ req: { kind: 'Twalk', fid: from, newfid: fids[i], names: [name] }, what: `walk ${name}` });
      steps.push({ req: { kind: 'Tgetattr', fid: fids[i], requestMask: mask }, what: `getattr ${name}` });
      if (i < known.length) steps.push({ req: { kind: 'Tclunk', fid: fids[i] }, what: `clunk ${name}` });
    });
    const got = e.pipelineSync(steps);
    const walked: Walked[] = [];
    let error: Error | null = null;
    for (let i = 0; i < names.length; i++) {
      const checked = i < known.length;
      const w = got[at[i]], a = got[at[i] + 1];
      const made = !(w instanceof Error) && (w.msg as Message<'Rwalk'>).qids.length === 1;
      if (error === null && !made) error = w instanceof Error ? w : new WalkError(`walk ${names[i]}`, Errno.ENOENT, []);
      if (error === null && a instanceof Error) error = a;
      if (error === null) walked.push({ fid: checked ? known[i] : fids[i], attr: (a as Received).msg as Attr });
      if (checked || !made) {
        e.releaseFid(fids[i]); // clunked in the batch, or never made
      } else if (error !== null) {
        void e.runAsync(OPS.clunk(e, fids[i])).catch(() => undefined); // made past the failure: not returned
      }
    }
    return { walked, error };
  }

  /**
   * walkStat is walkChain in one message of 9P2000.L.fd, Twalkstat: the server walks the
   * names one below the other and returns each one's attributes; a checked name (known)
   * gets no new fid (the server walks on from its own descriptor of it, which names the
   * same file when the check succeeds), every other name a new fid.
   */
  private walkStat(fid: number, names: readonly string[], known: readonly number[], before?: Step): { walked: Walked[]; error: Error | null; pre?: Received | Error } | null {
    const e = this.engine;
    const newfids = names.map((_, i) => (i < known.length ? NOFID : e.allocFid()));
    const walk: Step = { req: { kind: 'Twalkstat', fid, newfids, names: [...names] }, what: `walkstat ${names.join('/')}` };
    const all = e.pipelineSync(before ? [before, walk] : [walk]);
    const pre = before ? all[0] : undefined;
    const got = all[all.length - 1];
    const errno = got instanceof Error ? (got as { errno?: number }).errno : undefined;
    if (errno === Errno.ENOSYS || errno === Errno.EOPNOTSUPP) {
      // A 9P2000.L.fd server without Twalkstat: walk as in plain 9P2000.L from now on.
      this.walkStatOk = false;
      for (const n of newfids) if (n !== NOFID) e.releaseFid(n);
      if (pre && !(pre instanceof Error) && pre.fd >= 0) closeFd(pre.fd);
      return null;
    }
    const attrs = got instanceof Error ? [] : (got.msg as Message<'Rwalkstat'>).attrs;
    const walked: Walked[] = [];
    names.forEach((_, i) => {
      const checked = i < known.length;
      if (i < attrs.length) {
        walked.push({ fid: checked ? known[i] : newfids[i], attr: attrs[i] as Attr });
      } else if (!checked) {
        e.releaseFid(newfids[i]); // never made
      }
    });
    const error = got instanceof Error ? got : attrs.length < names.length ? new WalkError(`walk ${names[attrs.length]}`, Errno.ENOENT, []) : null;
    return { walked, error, pre };
  }
}

/** WalkList is what walkList got: the name walked (or why not), and its listing (or why not). */
export interface WalkList {
  walked: Walked | null;
  error: Error | null;
  list: { next: number; entries: DirStat[] } | Error;
}

export interface SyncClient {
  walkList(fid: number, name: string, max: number): WalkList;
}

/**
 * walkList walks `name` from the directory `fid` to a new fid (Twalkstat, whose attributes
 * come back) and lists the directory reached with its entries' attributes (Treaddirstat,
 * at most `max` entries), both sent at once: one round trip in 9P2000.L.fd, where the
 * server handles a connection's requests in order. The caller owns the new fid when the
 * walk succeeded; the listing fails on its own (not a directory, refused).
 */
SyncClient.prototype.walkList = function walkList(this: SyncClient, fid: number, name: string, max: number): WalkList {
  const e = this.engine;
  const newfid = e.allocFid();
  const [w, l] = e.pipelineSync([
    { req: { kind: 'Twalkstat', fid, newfids: [newfid], names: [name] }, what: `walkstat ${name}` },
    { req: { kind: 'Treaddirstat', fid: newfid, offset: 0, count: max }, what: `readdirstat ${name}` },
  ]);
  return walkListResult(e, newfid, name, w, l);
};

/** walkListResult makes a WalkList of the replies to a walkList's Twalkstat (`w`) and
 * Treaddirstat (`l`); a walk that made no fid gives `newfid` back. */
function walkListResult(e: Engine, newfid: number, name: string, w: Received | Error, l: Received | Error): WalkList {
  const list = l instanceof Error ? l : { next: (l.msg as Message<'Rreaddirstat'>).next, entries: (l.msg as Message<'Rreaddirstat'>).entries };
  const attrs = w instanceof Error ? [] : (w.msg as Message<'Rwalkstat'>).attrs;
  if (attrs.length !== 1) {
    e.releaseFid(newfid); // never made
    return { walked: null, error: w instanceof Error ? w : new WalkError(`walk ${name}`, Errno.ENOENT, []), list };
  }
  return { walked: { fid: newfid, attr: attrs[0] as Attr }, error: null, list };
}

/**
 * PendingWalkList is a walkList sent ahead of need (SyncClient.startWalkList): its two
 * requests are parked, so that nothing waits for them until `take` does.
 */
export interface PendingWalkList {
  /** fid is the directory walked from, newfid the fid walked to. */
  readonly fid: number;
  readonly newfid: number;
  readonly name: string;
  readonly max: number;
  /** requested is the connection's Engine.requested right after it was sent. */
  readonly requested: number;
  /** take waits for both replies (if they are not in yet) and returns what walkList would
   * have; the caller owns the new fid when the walk succeeded. */
  take(): WalkList;
  /** drop gives it up: the new fid is clunked (after the walk, in the server's order), the
   * replies are thrown away when they come. */
  drop(): void;
}

export interface SyncClient {
  startWalkList(fid: number, name: string, max: number): PendingWalkList;
}

/**
 * startWalkList sends walkList's two requests (Twalkstat of `name` from the directory
 * `fid` to a new fid, Treaddirstat of at most `max` entries) now, parked (Engine.submit):
 * neither the end of this tick nor a synchronous call waits for them, so the server lists
 * the directory while the caller goes on; the replies are taken by whatever drives the
 * connection meanwhile, and `take` waits only for what is still missing.
 */
SyncClient.prototype.startWalkList = function startWalkList(this: SyncClient, fid: number, name: string, max: number): PendingWalkList {
  const e = this.engine;
  const newfid = e.allocFid();
  const got: Array<Received | Error | undefined> = [undefined, undefined];
  let dropped = false;
  const steps: Step[] = [
    { req: { kind: 'Twalkstat', fid, newfids: [newfid], names: [name] }, what: `walkstat ${name}` },
    { req: { kind: 'Treaddirstat', fid: newfid, offset: 0, count: max }, what: `readdirstat ${name}` },
  ];
  steps.forEach((step, i) => {
    try {
      e.submit(step, (err, g) => {
        got[i] = err ?? g!;
      }, true);
    } catch (err) {
      got[i] = err as Error;
    }
  });
  const requested = e.requested;
  // Sent now rather than at the end of the tick (the sentry may answer system calls for
  // a whole time slice before its event loop turns): the server starts at once.
  e.transport.drive?.call(e.transport, () => true);
  const finish = (): WalkList => {
    const [w, l] = got.map((r, i) => r ?? closedError(steps[i].what, e.closedBy)) as [Received | Error, Received | Error];
    return walkListResult(e, newfid, name, w, l);
  };
  return {
    fid, newfid, name, max, requested,
    take(): WalkList {
      if (dropped) throw new TypeError(`9p client: walkList ${name} was dropped`);
      dropped = true;
      const drive = e.transport.drive;
      const t0 = PHASES.on ? performance.now() : 0;
      if (drive && (got[0] === undefined || got[1] === undefined)) drive.call(e.transport, () => (got[0] !== undefined && got[1] !== undefined) || e.closedBy !== '');
      if (PHASES.on) phaseAdd('9p:rt:walkList-ahead', performance.now() - t0);
      return finish();
    },
    drop(): void {
      if (dropped) return;
      dropped = true;
      // Clunked unwaited for (as Client.clunkDetached); a walk that failed made no fid:
      // the clunk's error releases the number all the same.
      try {
        e.submit({ req: { kind: 'Tclunk', fid: newfid }, what: `clunk fid ${newfid}` }, () => e.releaseFid(newfid), true);
      } catch {
        e.releaseFid(newfid); // the connection is gone
      }
    },
  };
};

/** WatchList is what watchList got: the cache watch set (or why not), and the listing
 * (or why not); with a name, the name walked (or why not) first. */
export interface WatchList {
  walked: Walked | null;
  watch: { wd: number; fd: number } | Error;
  list: { next: number; entries: DirStat[] } | Error;
}

export interface SyncClient {
  watchList(fid: number, name: string | null, max: number): WatchList;
}

/**
 * watchList sets a cache watch on a directory (Tcachewatch) and lists it with its
 * entries' attributes (Treaddirstat, at most `max` entries), sent at once: one round
 * trip, the listing read after the watch is set. The directory is `fid`, or with `name`
 * its child, walked to a new fid first in the same round trip (Twalkstat; the caller
 * owns the new fid when the walk succeeded). The descriptor that comes with the first
 * Rcachewatch of a connection is the caller's.
 */
SyncClient.prototype.watchList = function watchList(this: SyncClient, fid: number, name: string | null, max: number): WatchList {
  const e = this.engine;
  const newfid = name === null ? fid : e.allocFid();
  const steps: Step[] = [];
  if (name !== null) steps.push({ req: { kind: 'Twalkstat', fid, newfids: [newfid], names: [name] }, what: `walkstat ${name}` });
  steps.push({ req: { kind: 'Tcachewatch', fid: newfid }, what: `cachewatch ${name ?? `fid ${fid}`}` });
  steps.push({ req: { kind: 'Treaddirstat', fid: newfid, offset: 0, count: max }, what: `readdirstat ${name ?? `fid ${fid}`}` });
  const got = e.pipelineSync(steps);
  const [w, c, l] = name === null ? [null, got[0], got[1]] : got;
  const list = l instanceof Error ? l : { next: (l.msg as Message<'Rreaddirstat'>).next, entries: (l.msg as Message<'Rreaddirstat'>).entries };
  let watch: WatchList['watch'];
  if (c instanceof Error) {
    watch = c;
  } else {
    const r = c.msg as Message<'Rcachewatch'>;
    watch = r.passed && c.fd < 0 ? protocolError('cachewatch', 'no descriptor came with Rcachewatch') : { wd: r.wd, fd: c.fd };
  }
  if (w === null) return { walked: null, watch, list };
  const attrs = w instanceof Error ? [] : (w.msg as Message<'Rwalkstat'>).attrs;
  if (attrs.length !== 1) {
    e.releaseFid(newfid); // never made
    return { walked: null, watch, list };
  }
  return { walked: { fid: newfid, attr: attrs[0] as Attr }, watch, list };
};

/** MAX_DETACHED bounds the clunks in flight that nothing waits for (Client.clunkDetached). */
const MAX_DETACHED = 256;

/** MAX_WALKSTAT is the most names one Twalkstat carries. */
const MAX_WALKSTAT = 16;

export interface Client extends AsyncOps {}
export class Client {
  /** sync holds the synchronous form of every operation (fd transport only). */
  readonly sync: SyncClient;
  /** version is the negotiated dialect ('' before version). */
  dialect = '';

  constructor(readonly engine: Engine) {
    this.sync = new SyncClient(engine);
  }

  /** connect opens a stream connection (TCP or Unix path) and negotiates 9P2000.L. */
  static async connect(target: StreamTarget, opts: ClientOptions = {}): Promise<Client> {
    const msize = opts.msize ?? DEFAULT_MSIZE;
    const client = new Client(new Engine(await StreamTransport.connect(target), msize));
    try {
      client.dialect = (await client.version(msize, false)).version;
    } catch (e) {
      client.close();
      throw e;
    }
    return client;
  }

  /**
   * overFd speaks 9P over a connected Unix stream socket (which it then owns) and
   * negotiates synchronously, proposing 9P2000.L.fd unless told not to.
   */
  static overFd(fd: number, opts: ClientOptions & FdTransportOptions = {}): Client {
    const msize = opts.msize ?? DEFAULT_MSIZE;
    const client = new Client(new Engine(new FdTransport(fd, { recvSize: msize + 4096, ...opts }), msize));
    try {
      client.dialect = client.sync.version(msize, opts.fdPassing ?? true).version;
    } catch (e) {
      client.close();
      throw e;
    }
    return client;
  }

  /** over runs the client on any transport; the caller negotiates with version(). */
  static over(transport: Transport, msize = DEFAULT_MSIZE): Client {
    return new Client(new Engine(transport, msize));
  }

  /** msize is the negotiated maximum message size. */
  get msize(): number {
    return this.engine.msize;
  }

  /** fdPassing is true when lopen/lcreate of regular files return host descriptors (9P2000.L.fd). */
  get fdPassing(): boolean {
    return this.engine.fdMode;
  }

  /** inFlight counts the requests awaiting replies. */
  get inFlight(): number {
    return this.engine.inFlight;
  }

  /**
   * waitNotify (9P2000.L.fd) parks a Tnotify long poll: `done` gets the host events of
   * the watched files once the server has some (or the error that ended the poll). The
   * parked request holds up nothing: synchronous calls go on, and on the fd transport the
   * owner calls pump() when the socket is readable to receive the reply while idle.
   */
  waitNotify(done: (err: Error | null, events: Note[]) => void): void {
    this.engine.submit({ req: { kind: 'Tnotify', flags: NOTIFY_WAIT, name: '' }, what: 'notify' }, (err, got) => {
      done(err, err || !got ? [] : (got.msg as Message<'Rnotify'>).events);
    }, true);
  }

  /**
   * clunkDetached forgets `fid` without anyone waiting for the server's answer: the Tclunk
   * leaves with this tick's requests as a parked one (Engine.submit), so that neither a
   * synchronous call nor the fd transport's end-of-tick drive waits for its Rclunk; the
   * reply is taken with the next one that is waited for (or by pump), and only then is the
   * fid number reusable. An eviction's clunk thus costs no round trip of its own (a walk
   * over a tree clunks a directory's fid per directory it leaves behind). At most
   * MAX_DETACHED are out at once: beyond, the call waits for the oldest answers first.
   */
  clunkDetached(fid: number): void {
    const e = this.engine;
    if (this.detached >= MAX_DETACHED && e.transport.drive) e.transport.drive(() => this.detached < MAX_DETACHED || e.closedBy !== '');
    this.detached++;
    try {
      e.submit({ req: { kind: 'Tclunk', fid }, what: `clunk fid ${fid}` }, () => {
        this.detached--;
        e.releaseFid(fid); // whatever the server answered, as clunk does
      }, true);
    } catch {
      this.detached--;
      e.releaseFid(fid); // the connection is gone: the fid with it
    }
  }

  /** detached counts the clunks sent by clunkDetached and not answered yet. */
  detached = 0;

  /** close ends the connection; requests in flight fail with ECONNRESET. */
  close(): void {
    this.engine.transport.close();
    this.engine.fail('the client closed the connection');
  }
}

for (const [name, op] of Object.entries(OPS) as Array<[string, OpFn]>) {
  Object.defineProperty(Client.prototype, name, {
    value: function (this: Client, ...args: unknown[]): Call<unknown> {
      return this.engine.runAsync(op(this.engine, ...args));
    },
  });
  Object.defineProperty(SyncClient.prototype, name, {
    value: function (this: SyncClient, ...args: unknown[]): unknown {
      return this.engine.runSync(op(this.engine, ...args));
    },
  });
}

/**
 * readAll reads `size` bytes of the open file `fid` from offset 0 in msize-sized
 * requests, `window` of them in flight at once; a short read ends the file there.
 */
export async function readAll(c: Client, fid: number, size: number, window = 8): Promise<Buffer> {
  const chunk = c.msize - IOHDRSZ;
  const out = Buffer.allocUnsafe(size);
  let next = 0;
  let end = size;
  const worker = async () => {
    while (next < end) {
      const off = next;
      const want = Math.min(chunk, end - off);
      next += want;
      const data = await c.read(fid, off, want);
      data.copy(out, off);
      if (data.length < want) end = Math.min(end, off + data.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, window) }, worker));
  return out.subarray(0, end);
}
