/**
 * Engine is the transport-independent core of the 9P client: tags, fids, the requests in
 * flight, the received-descriptor queue, and the two ways of running an operation
 * (asynchronously, as a promise; synchronously, on transports that can block).
 *
 * An operation is a generator (see client-ops.ts) that yields requests and receives
 * their replies, so that each operation is written once for both ways of running it.
 *
 * Invariants:
 * - A tag is held from the request's submission until its reply arrives, or, for a
 *   flushed request, until the Rflush arrives (9P forbids reusing it earlier).
 * - Outgoing requests accumulate in one buffer and leave together when the transport
 *   next flushes (at the end of the current tick at the latest): pipelining.
 * - In fd mode (9P2000.L.fd) every Rlopen/Rlcreate of a regular file (carriesFd: a
 *   directory's brings none) takes, in frame order, the first descriptor of `fdQueue`. The server sends each descriptor with the first byte of its
 *   reply, so the descriptor is queued before the reply's last byte is received.
 */
import { Errno } from '../../native/libc';
import { closeFd } from '../../native/unixsock';
import { closedError, P9Error, protocolError } from './client-error';
import { decode, encodeInto } from './codec';
import { PHASES, phaseAdd } from '../../native/phases';
import { FrameSplitter } from './frame';
import { carriesFd, NOFID, NOTAG, type Body, type Message, type MsgName, type RequestName } from './messages';
import { Writer } from './wire';

/** Request is a T-message without its tag (the engine assigns it). */
export type Request = { [N in RequestName]: { kind: N } & Body<N> }[RequestName];

/** Step is one request of an operation and the words that name it in errors. */
export interface Step {
  req: Request;
  what: string;
}

/** Received is a reply and the descriptor that came with it (-1 for none). */
export interface Received {
  msg: Message;
  fd: number;
}

/** OpGen is a running operation: it yields requests and returns its result. */
export type OpGen<R> = Generator<Step, R, Received>;

/** Call is the promise of an asynchronous operation; `tag` is its current request's tag. */
export type Call<R> = Promise<R> & { readonly tag: number };

/** Transport moves the engine's bytes over one connection. */
export interface Transport {
  /** canPassFds is true when received descriptors (SCM_RIGHTS) reach the engine. */
  readonly canPassFds: boolean;
  /** label describes the connection, for messages. */
  readonly label: string;
  /** start connects the transport to its engine (called once). */
  start(engine: Engine): void;
  /** kick says that requests are waiting: send them at the end of this tick. */
  kick(): void;
  /**
   * drive, on transports that can block, sends what waits and receives replies until
   * `done()` holds. Transports without it cannot run synchronous calls.
   */
  drive?(done: () => boolean): void;
  /** close ends the connection. */
  close(): void;
}

interface Slot {
  what: string;
  expect: MsgName;
  done: (err: Error | null, got: Received | null) => void;
  /** flushing: a Tflush for this tag is out; the tag stays held until its Rflush. */
  flushing: boolean;
  answered: boolean;
  /** parked: a request the server answers whenever it has something (Tnotify's long
   * poll): not counted in inFlight, so that nothing waits for it. */
  parked: boolean;
}

const replyName = (kind: RequestName) => `R${kind.slice(1)}` as MsgName;

/** Engine multiplexes operations over one transport. */
export class Engine {
  /** msize is the negotiated maximum message size. */
  msize: number;
  /** fdMode is true once the server agreed to 9P2000.L.fd. */
  fdMode = false;
  /** inFlight counts requests sent and not yet answered. */
  inFlight = 0;
  /** answered counts replies dispatched (transports watch it for progress). */
  answered = 0;
  /** closedBy is why the connection ended ('' while open). */
  closedBy = '';
  /** requested counts the requests submitted other than Tclunk: a reply read ahead of need
   * (SyncClient.startWalkList) still says what the server has now only while it holds. */
  requested = 0;
  /** slots are the requests in flight by tag (a Map: a sentry holds one engine per 9P
   * connection, and an array of every possible tag cost 512 KiB each). */
  private readonly slots = new Map<number, Slot>();
  private readonly freeTags: number[] = [];
  private nextTag = 0;
  private readonly freeFids: number[] = [];
  private nextFid = 0;
  private readonly fdQueue: number[] = [];
  private out = new Writer(8192);
  private spare = new Writer(8192);
  private kicked = false;
  private readonly splitter: FrameSplitter;

  constructor(readonly transport: Transport, msize: number) {
    this.msize = msize;
    this.splitter = new FrameSplitter(msize);
    transport.start(this);
  }

  /** tagsHeld counts the tags whose slot is held: requests in flight, and flushed ones awaiting their Rflush. */
  get tagsHeld(): number {
    return this.slots.size;
  }

  /** setMsize records the negotiated msize (frames above it are a protocol violation). */
  setMsize(msize: number): void {
    this.msize = msize;
    this.splitter.maxSize = msize;
  }

  /** allocFid returns an unused fid number of this connection. */
  allocFid(): number {
    const fid = this.freeFids.pop();
    if (fid !== undefined) return fid;
    if (this.nextFid >= NOFID) throw new RangeError('9p client: out of fids');
    return this.nextFid++;
  }

  /** releaseFid makes a fid number reusable (after its clunk or remove, or a failed walk). */
  releaseFid(fid: number): void {
    this.freeFids.push(fid);
  }

  private allocTag(what: string): number {
    const tag = this.freeTags.pop();
    if (tag !== undefined) return tag;
    if (this.nextTag >= NOTAG) throw new P9Error(what, Errno.EAGAIN, `${NOTAG} requests in flight`);
    return this.nextTag++;
  }

  /** submit queues one request; `done` runs when its reply (or its failure) arrives. A
   * `parked` request is one the server holds until it has something to say (a long
   * poll): it is not counted in inFlight, so no synchronous call or transport waits for it. */
  submit(step: Step, done: Slot['done'], parked = false): number {
    if (this.closedBy) throw closedError(step.what, this.closedBy);
    const tag = step.req.kind === 'Tversion' ? NOTAG : this.allocTag(step.what);
    if (this.slots.has(tag)) throw new P9Error(step.what, Errno.EBUSY, `tag ${tag} is in flight`);
    encodeInto(this.out, { ...step.req, tag } as Message);
    this.slots.set(tag, { what: step.what, expect: replyName(step.req.kind), done, flushing: false, answered: false, parked });
    if (step.req.kind !== 'Tclunk') this.requested++;
    if (!parked) this.inFlight++;
    if (!this.kicked) {
      this.kicked = true;
      this.transport.kick();
    }
    return tag;
  }

  /**
   * takeOutgoing returns the requests queued since the last call (null when none), as a
   * view that stays valid until the call after next (two buffers alternate).
   */
  takeOutgoing(): Buffer | null {
    this.kicked = false;
    if (this.out.pos === 0) return null;
    const bytes = this.out.bytes();
    const next = this.spare;
    next.pos = 0;
    this.spare = this.out;
    this.out = next;
    return bytes;
  }

  /**
   * onData takes received bytes and descriptors and answers every whole reply in them.
   * `reused` says that `chunk`'s memory is overwritten by the next receive: what a
   * caller keeps (Rread data, unfinished frames) is then copied.
   */
  onData(chunk: Buffer, fds: readonly number[], reused: boolean): void {
    for (const fd of fds) {
      if (this.fdMode) this.fdQueue.push(fd);
      else closeFd(fd); // only 9P2000.L.fd replies carry descriptors
    }
    this.splitter.push(chunk);
    for (;;) {
      let msg: Message;
      try {
        const f = this.splitter.next();
        if (!f) break;
        if (PHASES.on) {
          const t0 = performance.now();
          msg = decode(f.buf, f.start, f.end);
          phaseAdd(`9p:decode:${msg.kind}`, performance.now() - t0);
        } else {
          msg = decode(f.buf, f.start, f.end);
        }
      } catch (e) {
        this.fail(`malformed reply: ${(e as Error).message}`);
        this.transport.close();
        return;
      }
      if (reused && msg.kind === 'Rread') msg.data = Buffer.from(msg.data);
      this.dispatch(msg);
    }
    if (reused) this.splitter.retain();
  }

  private dispatch(msg: Message): void {
    const carries = (msg.kind === 'Rlopen' || msg.kind === 'Rlcreate') ? carriesFd(msg.qid) : msg.kind === 'Rcachewatch' && msg.passed === 1;
    const fd = this.fdMode && carries ? this.fdQueue.shift() ?? -1 : -1;
    const slot = this.slots.get(msg.tag);
    if (!slot || slot.answered) {
      closeFd(fd); // a reply to a flushed request, or a stray one
      return;
    }
    slot.answered = true;
    if (!slot.parked) this.inFlight--;
    this.answered++;
    if (!slot.flushing) this.releaseTag(msg.tag);
    if (msg.kind === 'Rlerror') {
      slot.done(new P9Error(slot.what, msg.ecode), { msg, fd: -1 });
    } else if (msg.kind !== slot.expect) {
      closeFd(fd);
      slot.done(protocolError(slot.what, `${msg.kind} answers a request that wants ${slot.expect}`), null);
    } else {
      slot.done(null, { msg, fd });
    }
  }

  private releaseTag(tag: number): void {
    this.slots.delete(tag);
    if (tag !== NOTAG) this.freeTags.push(tag);
  }

  /** markFlushing notes that a Tflush for `tag` is being sent; false if it is not in flight. */
  markFlushing(tag: number): boolean {
    const slot = this.slots.get(tag);
    if (!slot || slot.answered) return false;
    slot.flushing = true;
    return true;
  }

  /** flushed ends request `tag` after its Rflush: it fails with ECANCELED unless answered. */
  flushed(tag: number): void {
    const slot = this.slots.get(tag);
    if (!slot || !slot.flushing) return;
    this.releaseTag(tag);
    if (!slot.answered) {
      slot.answered = true;
      if (!slot.parked) this.inFlight--;
      slot.done(new P9Error(slot.what, Errno.ECANCELED, 'flushed'), null);
    }
  }

  /** fail ends the connection: every request in flight fails with ECONNRESET. */
  fail(why: string): void {
    if (this.closedBy) return;
    this.closedBy = why || 'connection closed';
    const slots = [...this.slots.values()];
    this.slots.clear();
    for (const slot of slots) {
      if (slot.answered) continue;
      slot.answered = true;
      slot.done(closedError(slot.what, this.closedBy), null);
    }
    this.inFlight = 0;
    for (const fd of this.fdQueue.splice(0)) closeFd(fd);
  }

  /** runAsync runs an operation; requests of one tick leave together. */
  runAsync<R>(gen: OpGen<R>): Call<R> {
    let tag = -1;
    const promise = new Promise<R>((resolve, reject) => {
      const advance = (err: Error | null, got: Received | null) => {
        let it: IteratorResult<Step, R>;
        try {
          it = err ? gen.throw(err) : gen.next(got!);
          if (it.done) {
            resolve(it.value);
            return;
          }
          tag = this.submit(it.value, advance);
        } catch (e) {
          reject(e);
        }
      };
      advance(null, null);
    });
    return Object.defineProperty(promise, 'tag', { get: () => tag }) as Call<R>;
  }

  /**
   * pipelineSync sends every request of `steps` at once and waits for all the replies
   * (one round trip), without returning to the event loop. The server handles requests
   * in arrival order, so a request may name a fid an earlier one of the batch creates.
   * Each reply comes back in order as a Received or the request's error.
   */
  pipelineSync(steps: Step[]): Array<Received | Error> {
    const drive = this.transport.drive;
    if (!drive) throw new TypeError(`9p client: ${this.transport.label} cannot make synchronous calls`);
    const out: Array<Received | Error | undefined> = steps.map(() => undefined);
    let pending = 0;
    steps.forEach((step, i) => {
      try {
        this.submit(step, (e, g) => {
          out[i] = e ?? g!;
          pending--;
        });
        pending++;
      } catch (e) {
        out[i] = e as Error;
      }
    });
    const t0 = PHASES.on ? performance.now() : 0;
    if (pending > 0) drive.call(this.transport, () => pending === 0 || this.closedBy !== '');
    if (PHASES.on) phaseAdd(`9p:rt:${steps.map((s) => s.req.kind).join('+')}`, performance.now() - t0);
    return out.map((r, i) => r ?? closedError(steps[i].what, this.closedBy));
  }

  /** runSync runs an operation to its end without returning to the event loop. */
  runSync<R>(gen: OpGen<R>): R {
    const drive = this.transport.drive;
    if (!drive) throw new TypeError(`9p client: ${this.transport.label} cannot make synchronous calls`);
    let err: Error | null = null;
    let got: Received | null = null;
    for (;;) {
      const it = err ? gen.throw(err) : gen.next(got!);
      if (it.done) return it.value;
      let answered = false;
      try {
        this.submit(it.value, (e, g) => {
          answered = true;
          err = e;
          got = g;
        });
      } catch (e) {
        err = e as Error;
        got = null;
        continue;
      }
      // drive returns once the reply is in, or after the engine failed on a dead connection.
      const t0 = PHASES.on ? performance.now() : 0;
      drive.call(this.transport, () => answered || this.closedBy !== '');
      if (PHASES.on) phaseAdd(`9p:rt:${it.value.req.kind}`, performance.now() - t0);
      if (!answered) {
        err = closedError(it.value.what, this.closedBy);
        got = null;
      }
    }
  }
}
