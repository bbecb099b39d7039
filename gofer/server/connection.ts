/**
 * Connection runs the 9P protocol on one stream socket: it cuts received bytes into
 * frames, decodes each defensively, dispatches it to its handler and queues the reply.
 *
 * Requests are handled in arrival order, one at a time; replies of one batch of
 * received requests leave in one send. A reply that carries a descriptor (9P2000.L.fd)
 * is sent by its own sendmsg, so that the descriptor travels with the reply's bytes.
 * A frame that cannot be delimited (size below a header or above msize) closes the
 * connection; any other malformed request is answered with Rlerror.
 *
 * Host change notification (server/watches.ts): while the connection watches files, the
 * host's queue is read before each request that changes files (the host's changes) and
 * after it (the request's own, dropped: handlers/notify.ts ownEvents); a Tnotify that finds nothing queued is parked and answered
 * when the server's poll finds the connection's inotify descriptor readable (onNotify)
 * or a later request's reading finds events, so that it never holds up other requests.
 */
import { Errno, errnoName } from '../../native/libc';
import { closeFd, MsgBuffers } from '../../native/unixsock';
import { DecodeError, decode, encodeInto, FrameSplitter, Writer, type Message, type RequestName } from '../p9';
import type { Exports } from './export';
import { HANDLERS, type Handler, type Reply } from './handlers';
import { MAX_MSIZE } from './handlers/session';
import { ownEvents, PARKED } from './handlers/notify';
import { Session } from './session';
import { restoreOwn } from '../hostfs/creds';
import { PHASES, phaseAdd, phasesDump, phasesStart } from '../../native/phases';

/** Logger is what the server needs of a logger. */
export interface Logger {
  debug(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** FLUSH_AT sends the replies built so far once they reach this size. */
const FLUSH_AT = 128 * 1024;

interface Outgoing {
  bytes: Buffer;
  fds: number[];
}

/** Connection is one client of the gofer. */
export class Connection {
  readonly session: Session;
  private readonly splitter = new FrameSplitter(MAX_MSIZE);
  private readonly w = new Writer(64 * 1024);
  private readonly out: Outgoing[] = [];
  closed = false;
  /** onClosed, when set, runs once the connection has closed (a pod member's exports go with it: members.ts). */
  onClosed?: () => void;

  constructor(readonly fd: number, exports: Exports, canPassFds: boolean, private readonly log: Logger) {
    this.session = new Session(exports, canPassFds);
    phasesStart('gofer');
  }

  /** wantsWrite is true while replies wait for the socket to drain. */
  get wantsWrite(): boolean {
    return this.out.length > 0;
  }

  /** onReadable receives what the socket has and answers every whole request in it. */
  onReadable(bufs: MsgBuffers): void {
    const n = bufs.recv(this.fd);
    for (const fd of bufs.fds) closeQuietly(fd); // a client passes no descriptors to the gofer
    if (n === -Errno.EAGAIN || n === -Errno.EINTR) return;
    if (n <= 0) {
      // EOF or a reset are the client's end (a sentry that exits, or is killed): no warning.
      this.close(n < 0 && -n !== Errno.ECONNRESET ? `receive failed: ${errnoName(-n)}` : '');
      return;
    }
    this.splitter.push(bufs.data.subarray(0, n));
    try {
      for (let f = this.splitter.next(); f; f = this.splitter.next()) this.handleFrame(f.buf, f.start, f.end);
    } catch (e) {
      // Only the splitter throws here: the stream cannot be delimited any more.
      this.close(`protocol violation: ${(e as Error).message}`);
      return;
    }
    this.splitter.retain();
    this.answerParked();
    this.queueWritten();
    this.flush();
  }

  /** notifyFd is the host inotify descriptor to poll for the parked Tnotify (-1: none waits). */
  get notifyFd(): number {
    const w = this.session.watches;
    return w && w.parked >= 0 ? w.ifd : -1;
  }

  /** onNotify reads the host's events (its inotify descriptor is readable) and answers
   * the parked Tnotify with them. */
  onNotify(): void {
    this.session.watches?.drain(null);
    this.answerParked();
    this.queueWritten();
    this.flush();
  }

  /** answerParked answers the parked Tnotify when events are queued. */
  private answerParked(): void {
    const w = this.session.watches;
    if (!w || w.parked < 0 || !w.pending || this.closed) return;
    const tag = w.parked;
    w.parked = -1;
    encodeInto(this.w, { kind: 'Rnotify', tag, events: w.take() });
  }

  private handleFrame(buf: Buffer, start: number, end: number): void {
    let msg: Message;
    const t0 = PHASES.on ? performance.now() : 0;
    try {
      msg = decode(buf, start, end);
    } catch (e) {
      const tag = e instanceof DecodeError ? e.tag : undefined;
      this.log.debug(`9p: rejected request: ${(e as Error).message}`);
      this.writeError(tag ?? 0xffff, /unknown message type/.test((e as Error).message) ? Errno.ENOSYS : Errno.EINVAL);
      return;
    }
    const kind = msg.kind;
    const handler = kind[0] === 'T' ? (HANDLERS[kind as RequestName] as Handler<RequestName> | undefined) : undefined;
    if (!handler) {
      this.writeError(msg.tag, Errno.ENOSYS);
      return;
    }
    if (this.session.msize === 0 && kind !== 'Tversion') {
      this.writeError(msg.tag, Errno.EPROTO);
      return;
    }
    let result: Reply | number;
    const watches = this.session.watches;
    const own = watches && watches.size > 0 ? ownEvents(this.session, msg as Message<RequestName>) : null;
    if (own) watches!.drain(null);
    // A plain 9P2000.L session acts as the gofer itself, for every host call of its
    // requests; a 9P2000.L.fd one switches to its caller where a call is made for it.
    if (!this.session.caller) restoreOwn();
    const t1 = PHASES.on ? performance.now() : 0;
    try {
      result = handler(this.session, msg as Message<RequestName>);
    } catch (e) {
      this.log.error(`9p: ${kind} failed: ${(e as Error).stack ?? e}`);
      result = -Errno.EIO;
    }
    if (own && watches === this.session.watches && watches!.ifd >= 0) watches!.drain(own.names, own.kinds);
    if (result === PARKED) return;
    if (typeof result === 'number') {
      this.writeError(msg.tag, -result || Errno.EIO);
      return;
    }
    if (kind === 'Tversion') this.splitter.maxSize = this.session.msize || MAX_MSIZE;
    const passFd = this.session.passFd;
    this.session.passFd = -1;
    if (passFd >= 0) this.queueWritten();
    try {
      const t2 = PHASES.on ? performance.now() : 0;
      encodeInto(this.w, { ...result, tag: msg.tag } as Message);
      if (PHASES.on) {
        const t3 = performance.now();
        phaseAdd(`gofer:decode:${kind}`, t1 - t0);
        phaseAdd(`gofer:handle:${kind}`, t2 - t1);
        phaseAdd(`gofer:encode:${result.kind}`, t3 - t2);
      }
    } catch (e) {
      this.log.error(`9p: cannot encode ${result.kind}: ${(e as Error).message}`);
      this.writeError(msg.tag, Errno.EIO);
      return;
    }
    if (passFd >= 0) this.queueWritten([passFd]);
    else if (this.w.pos >= FLUSH_AT) this.queueWritten();
  }

  private writeError(tag: number, errno: number): void {
    encodeInto(this.w, { kind: 'Rlerror', tag, ecode: errno });
  }

  /**
   * queueWritten moves what the writer holds to the send queue (with fds on its bytes).
   * When nothing is queued before it, the bytes are sent at once from the writer's own
   * buffer and only an unsent remainder is copied.
   */
  private queueWritten(fds: number[] = []): void {
    if (this.w.pos === 0) return;
    const bytes = this.w.bytes();
    this.w.pos = 0;
    if (this.out.length === 0 && !this.closed) {
      const n = sendBuffers().send(this.fd, bytes, bytes.length, fds);
      if (n === bytes.length) return;
      if (n < 0 && n !== -Errno.EAGAIN && n !== -Errno.EINTR) {
        this.close(-n === Errno.EPIPE || -n === Errno.ECONNRESET ? '' : `send failed: ${errnoName(-n)}`);
        return;
      }
      const sent = Math.max(0, n);
      this.out.push({ bytes: Buffer.from(bytes.subarray(sent)), fds: sent > 0 ? [] : fds });
      return;
    }
    this.out.push({ bytes: Buffer.from(bytes), fds });
  }

  /** flush sends queued replies until done or the socket is full. */
  flush(bufs?: MsgBuffers): void {
    const io = bufs ?? sendBuffers();
    while (this.out.length > 0 && !this.closed) {
      const item = this.out[0];
      const n = io.send(this.fd, item.bytes, item.bytes.length, item.fds);
      if (n === -Errno.EAGAIN || n === -Errno.EINTR) return;
      if (n < 0) {
        this.close(`send failed: ${errnoName(-n)}`);
        return;
      }
      if (n < item.bytes.length) {
        // The descriptors went with the first byte; the rest carries none.
        this.out[0] = { bytes: item.bytes.subarray(n), fds: [] };
        return;
      }
      this.out.shift();
    }
  }

  /** close ends the connection and clunks every fid. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.log.warn(`9p: closing connection: ${reason}`);
    this.session.reset();
    this.out.length = 0;
    closeQuietly(this.fd);
    phasesDump(); // a gofer may be killed once its sentry is gone: its sums are written now
    this.onClosed?.();
  }
}

let sendBufs: MsgBuffers | undefined;

/** sendBuffers are the connections' shared send buffers, made on first use: they hold
 * native addresses, which a start-up snapshot could not carry (native/snapshot.ts). */
function sendBuffers(): MsgBuffers {
  sendBufs ??= new MsgBuffers(16);
  return sendBufs;
}

function closeQuietly(fd: number): void {
  closeFd(fd);
}
