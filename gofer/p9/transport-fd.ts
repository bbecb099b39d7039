/**
 * FdTransport carries 9P over a connected Unix stream socket descriptor, driven
 * synchronously through native/unixsock.ts: the sentry's transport. It receives the
 * descriptors that 9P2000.L.fd servers attach to Rlopen/Rlcreate, and it can make
 * synchronous calls (the sentry answers a system call on its main thread, without a
 * return to the event loop).
 *
 * Asynchronous calls made in one tick are sent together at the end of the tick; the
 * transport then blocks until replies arrive, and before the event loop goes idle it
 * blocks until every request in flight is answered. A request the server holds (one
 * that would be flushed) therefore blocks the thread: flush needs the stream transport.
 */
import { Errno, errnoName } from '../../native/libc';
import { closeFd, MSG_DONTWAIT, MSG_NOSIGNAL, MsgBuffers, PollSet, POLLIN, POLLOUT } from '../../native/unixsock';
import type { Engine, Transport } from './client-engine';
import { PHASES, phaseAdd } from '../../native/phases';

/** FdTransportOptions tunes an FdTransport. */
export interface FdTransportOptions {
  /** owned: close the descriptor when the transport closes (default true). */
  owned?: boolean;
  /** recvSize is the receive buffer's size (default 1 MiB + 4 KiB). */
  recvSize?: number;
  label?: string;
}

/** FdTransport is a 9P connection over a socket descriptor, with blocking receives. */
export class FdTransport implements Transport {
  readonly canPassFds = true;
  readonly label: string;
  private readonly bufs: MsgBuffers;
  private readonly poll = new PollSet();
  private readonly owned: boolean;
  private engine!: Engine;
  private scheduled = false;
  private collecting = false;
  private closed = false;

  constructor(readonly fd: number, opts: FdTransportOptions = {}) {
    this.owned = opts.owned ?? true;
    this.label = opts.label ?? `fd ${fd}`;
    this.bufs = new MsgBuffers(opts.recvSize ?? (1 << 20) + 4096);
  }

  start(engine: Engine): void {
    this.engine = engine;
  }

  /**
   * kick sends the requests of this tick at its end, then blocks until some reply is in:
   * their continuations then send the next requests while the server still works on
   * the others. What is still in flight is collected on the next turn of the loop.
   */
  kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const engine = this.engine;
      const before = engine.answered;
      const t0 = PHASES.on ? performance.now() : 0;
      this.drive(() => engine.inFlight === 0 || engine.answered !== before);
      if (PHASES.on) phaseAdd('fd:kick-wait', performance.now() - t0);
      if (engine.inFlight > 0 && !this.collecting) {
        this.collecting = true;
        setImmediate(() => {
          this.collecting = false;
          const t0 = PHASES.on ? performance.now() : 0;
          this.drive(() => engine.inFlight === 0);
          if (PHASES.on) phaseAdd('fd:collect-wait', performance.now() - t0);
        });
      }
    });
  }

  drive(done: () => boolean): void {
    const engine = this.engine;
    for (;;) {
      const out = engine.takeOutgoing();
      if (out) this.sendAll(out);
      if (done() || engine.closedBy) return;
      this.receive();
    }
  }

  /** sendAll writes `bytes`, receiving replies while the socket is full. */
  private sendAll(bytes: Buffer): void {
    let off = 0;
    while (off < bytes.length && !this.engine.closedBy) {
      const chunk = off === 0 ? bytes : bytes.subarray(off);
      const n = this.bufs.send(this.fd, chunk, chunk.length, [], MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        off += n;
      } else if (n === -Errno.EAGAIN) {
        // The server may be blocked sending us replies: take them while we wait.
        this.poll.set([[this.fd, POLLIN | POLLOUT]]);
        const r = this.poll.wait(-1);
        if (r > 0 && this.poll.revents(0) & POLLIN) this.receive();
      } else if (n !== -Errno.EINTR) {
        this.engine.fail(`${this.label}: send: ${errnoName(-n)}`);
      }
    }
  }

  /** receive takes what the socket has (blocking until something arrives). */
  private receive(): void {
    const n = this.bufs.recv(this.fd);
    if (n > 0) {
      this.engine.onData(this.bufs.data.subarray(0, n), this.bufs.fds, true);
    } else if (n === 0) {
      this.engine.fail(`${this.label}: connection closed by the server`);
    } else if (n === -Errno.EAGAIN) {
      this.poll.set([[this.fd, POLLIN]]);
      this.poll.wait(-1); // a non-blocking socket: wait for it
    } else if (n !== -Errno.EINTR) {
      this.engine.fail(`${this.label}: receive: ${errnoName(-n)}`);
    }
  }

  /**
   * pump takes what the socket holds without blocking (a reply to a parked request that
   * came while nothing was being driven: the owner calls it when the socket is readable).
   */
  pump(): void {
    while (!this.closed && !this.engine.closedBy) {
      const n = this.bufs.recv(this.fd, 0, undefined, MSG_DONTWAIT);
      if (n > 0) {
        this.engine.onData(this.bufs.data.subarray(0, n), this.bufs.fds, true);
      } else if (n === 0) {
        this.engine.fail(`${this.label}: connection closed by the server`);
      } else {
        if (n !== -Errno.EAGAIN && n !== -Errno.EINTR) this.engine.fail(`${this.label}: receive: ${errnoName(-n)}`);
        if (n !== -Errno.EINTR) return;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.engine?.fail(`${this.label}: closed`);
    if (this.owned) closeFd(this.fd);
  }
}
