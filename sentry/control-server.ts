/**
 * ControlServer serves the sandbox's control socket (the runtime's start, kill, state, ps,
 * pause, resume, update, events and pod requests): each request is one JSON line, each
 * answer one JSON line, on a connection that may carry several. It is served with koffi
 * calls woken by the sentry's host-I/O reactor (net/reactor.ts), as the exec socket is
 * (exec-server.ts), not by node:net: net.Server's listen loads node:cluster, dgram and
 * child_process, ~3 ms of every sentry's start for one socket.
 *
 * The reactor is edge-triggered: each wake-up reads until EAGAIN, and an answer the socket
 * cannot take at once (a large `ps`) is queued and sent on the next EPOLLOUT edge. A
 * client that ends its side still gets the answers it is owed before the connection
 * closes.
 */
import { Errno } from '../native/libc';
import { closeFd, MsgBuffers, MSG_DONTWAIT, MSG_NOSIGNAL } from '../native/unixsock';
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP, reactor } from './net/reactor';
import { UnixListener } from './net/unix-listener';

/** ControlReply is one answer: {"ok": true, ...} or {"error": "..."}. */
export type ControlReply = Record<string, unknown>;

/**
 * ControlHandler answers one request (the parsed line, an object), at once or later (a
 * promise). A throw or a rejection answers {"error": its message}.
 */
export type ControlHandler = (req: Record<string, unknown>) => ControlReply | Promise<ControlReply>;

/** MAX_LINE bounds one request line: a longer one is answered with an error and the connection closed. */
export const MAX_LINE = 1 << 20;

interface Conn {
  fd: number;
  /** in holds received bytes not yet ending in a newline. */
  in: Buffer[];
  inLen: number;
  /** out holds answers not yet sent; sent counts the bytes of out[0] already gone. */
  out: Buffer[];
  sent: number;
  /** pending counts answers still being computed (promises). */
  pending: number;
  /** eof: the client has ended its side; the connection closes once it owes nothing. */
  eof: boolean;
}

/** ControlServer serves one control socket with `handler`. */
export class ControlServer {
  private readonly listener: UnixListener;
  private readonly conns = new Set<Conn>();
  private readonly io = new MsgBuffers(64 << 10);

  constructor(readonly path: string, private readonly handler: ControlHandler) {
    this.listener = new UnixListener(path, (fd) => this.accepted(fd));
  }

  /** connections is the number of open connections (tests, leak checks). */
  get connections(): number {
    return this.conns.size;
  }

  private accepted(fd: number): void {
    const c: Conn = { fd, in: [], inLen: 0, out: [], sent: 0, pending: 0, eof: false };
    this.conns.add(c);
    reactor().watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, (ev) => {
      if (ev & EPOLLOUT) this.flush(c);
      if (ev & (EPOLLIN | EPOLLRDHUP)) this.readAll(c);
      else if (ev & (EPOLLHUP | EPOLLERR)) this.drop(c);
    });
    this.readAll(c); // a request may have arrived before the watch
  }

  /** readAll reads what the connection holds, until EAGAIN or its end. */
  private readAll(c: Conn): void {
    while (this.conns.has(c) && !c.eof) {
      const n = this.io.recv(c.fd, 0, this.io.data.length, MSG_DONTWAIT);
      for (const fd of this.io.fds) closeFd(fd); // the control socket takes no descriptors
      if (n === -Errno.EAGAIN) return;
      if (n <= 0) {
        c.eof = true;
        this.closeIfDone(c);
        return;
      }
      let chunk = Buffer.from(this.io.data.subarray(0, n));
      let nl: number;
      while ((nl = chunk.indexOf(0x0a)) >= 0 && c.inLen + nl <= MAX_LINE) {
        const line = Buffer.concat([...c.in, chunk.subarray(0, nl)]).toString('utf8');
        c.in = [];
        c.inLen = 0;
        chunk = chunk.subarray(nl + 1);
        this.handle(c, line);
        if (!this.conns.has(c)) return;
      }
      c.in.push(chunk);
      c.inLen += chunk.length;
      if (c.inLen > MAX_LINE) {
        this.queue(c, { error: `request longer than ${MAX_LINE} bytes` });
        c.in = [];
        c.inLen = 0;
        c.eof = true; // no more requests are read from this client
        this.closeIfDone(c);
        return;
      }
    }
  }

  private handle(c: Conn, line: string): void {
    let reply: ControlReply | Promise<ControlReply>;
    try {
      const req = JSON.parse(line) as unknown;
      if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new Error('malformed request');
      reply = this.handler(req as Record<string, unknown>);
    } catch (e) {
      reply = { error: e instanceof SyntaxError ? 'malformed request' : (e as Error).message };
    }
    if (!(reply instanceof Promise)) {
      this.queue(c, reply);
      return;
    }
    c.pending++;
    reply.then((r) => r, (e: Error) => ({ error: e?.message ?? String(e) })).then((r) => {
      c.pending--;
      if (this.conns.has(c)) this.queue(c, r);
    });
  }

  /** queue appends one answer line and sends what the socket takes now. */
  private queue(c: Conn, reply: ControlReply): void {
    c.out.push(Buffer.from(`${JSON.stringify(reply)}\n`));
    this.flush(c);
  }

  /** flush sends queued answers until done or the socket is full (the next EPOLLOUT edge resumes). */
  private flush(c: Conn): void {
    while (this.conns.has(c) && c.out.length) {
      const head = c.out[0];
      const n = this.io.send(c.fd, head.subarray(c.sent), head.length - c.sent, [], MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n === -Errno.EAGAIN) return;
      if (n < 0) {
        this.drop(c); // the client is gone: nothing more can reach it
        return;
      }
      c.sent += n;
      if (c.sent === head.length) {
        c.out.shift();
        c.sent = 0;
      }
    }
    this.closeIfDone(c);
  }

  /** closeIfDone closes a connection whose client has ended once every answer it is owed is sent. */
  private closeIfDone(c: Conn): void {
    if (c.eof && c.pending === 0 && c.out.length === 0) this.drop(c);
  }

  private drop(c: Conn): void {
    if (!this.conns.delete(c)) return;
    reactor().unwatch(c.fd);
    closeFd(c.fd);
  }

  /** close stops listening and closes every connection. */
  close(): void {
    for (const c of [...this.conns]) this.drop(c);
    this.listener.close();
  }
}
