/**
 * Sockets that live entirely in the sentry: AF_UNIX (stream, datagram, seqpacket) and
 * loopback-only AF_INET/AF_INET6 (TCP as a stream, UDP as datagrams). Each socket has a
 * receive queue of records (data plus passed descriptors, credentials and the sender's
 * address); a connected stream pair writes into each other's queues. Addresses are
 * looked up in the sandbox's Net (see ./net.ts); nothing reaches the host network.
 */
import { interfaceIoctl } from '../../net/host/if-ioctl';
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { block, Block, WaitQueue } from '../../kernel/waiter';
import { MSG_PEEK, MSG_WAITALL, type ProcEntry, SocketFile, timevalMs, withTimeout } from '../../net/provider';
import { encodeInet } from './net';
import { type FileDescription, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../vfs/file';

export const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5;
export { MSG_PEEK, MSG_CTRUNC, MSG_TRUNC, MSG_DONTWAIT, MSG_WAITALL, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC } from '../../net/provider';
export const POLLRDHUP = 0x2000;
/** Errnos missing from the shared table. */
export const EDESTADDRREQ = 89, EPROTOTYPE = 91, ENOPROTOOPT = 92, ESOCKTNOSUPPORT = 94, EADDRNOTAVAIL = 99,
  ENETUNREACH = 101;

/** DEFAULT_BUF is Linux's default socket buffer size (net.core.wmem_default). */
export const DEFAULT_BUF = 212992;

/** Creds is what SCM_CREDENTIALS and SO_PEERCRED carry. */
export interface Creds { pid: number; uid: number; gid: number }

/** Record is one queued send: its bytes and what rides along. */
export interface Record {
  data: Buffer;
  rights: FileDescription[] | null;
  creds: Creds;
  /** from is the sender's address as the receiver's family encodes it (datagrams). */
  from: Buffer | null;
}

/** Received is what one receive returns. */
export interface Received {
  data: Buffer;
  /** full is the record's length (datagrams; MSG_TRUNC). */
  full: number;
  rights: FileDescription[] | null;
  creds: Creds | null;
  from: Buffer | null;
}

/**
 * Socket is the data plane of an in-sentry socket (queues, send, receive, readiness);
 * LocalSocket (./local.ts) adds the control operations of the provider interface.
 */
export abstract class Socket extends SocketFile {
  state: 'unconnected' | 'listening' | 'connected' = 'unconnected';
  peer: Socket | null = null;
  /** everConnected: a stream whose peer went away reads EOF instead of ENOTCONN. */
  everConnected = false;
  readonly rx: Record[] = [];
  rxBytes = 0;
  /** rcvShut: no more data will arrive (peer shut its write side or closed). */
  rcvShut = false;
  /** sndShut: this side shut its write side. */
  sndShut = false;
  backlog: Socket[] = [];
  backlogMax = 0;
  /** local is this socket's own address (encoded sockaddr), null when unbound. */
  local: Buffer | null = null;
  /** remote is the connected peer's address (encoded sockaddr). */
  remote: Buffer | null = null;
  /** unbind removes the socket's name from the namespace. */
  unbind: (() => void) | null = null;
  peerCreds: Creds | null = null;
  passcred = false;
  sndbuf = DEFAULT_BUF;
  rcvbuf = DEFAULT_BUF;
  error = 0;
  /** opts holds plain options read back as set (SO_KEEPALIVE, TCP_NODELAY, ...), keyed "level:name". */
  readonly opts = new Map<string, Buffer>();
  /** inet holds the loopback binding of AF_INET/AF_INET6 sockets. */
  inet: { ip: Buffer; port: number; v6only: boolean } | null = null;
  readonly queue_ = new WaitQueue();
  closed = false;
  /** srcAddr is the source address datagrams carry when it differs from `local` (inet bound to any). */
  srcAddr: Buffer | null = null;
  /** udpDest is a connected UDP socket's destination (its peer may bind later). */
  udpDest: { ip: Buffer; port: number } | null = null;

  get connectionOriented(): boolean {
    return this.type !== SOCK_DGRAM;
  }

  override get queue(): WaitQueue {
    return this.queue_;
  }

  /** wake notifies this socket's and its peer's waiters. */
  wake(): void {
    this.queue_.notify();
    this.peer?.queue_.notify();
  }

  /** room says whether a send of n bytes fits this socket's receive queue now. */
  room(n: number): number {
    const free = this.rcvbuf - this.rxBytes;
    if (this.stream) return Math.max(0, Math.min(free, n));
    if (this.rx.length > 0 && free < n) return 0;
    return n;
  }

  /** deliver queues a record to this socket (the receiver). */
  deliver(rec: Record): void {
    this.rx.push(rec);
    this.rxBytes += rec.data.length;
    this.queue_.notify();
  }

  /** sendData writes to the connected peer (or to `to` for datagrams); -errno or Block. */
  sendData(t: Task, data: Buffer, rights: FileDescription[] | null, to: Socket | null, from: Buffer | null): number | Block {
    if (this.sndShut) return -Errno.EPIPE;
    let dst: Socket | null;
    if (to) dst = to;
    else if (this.connectionOriented) {
      if (this.state !== 'connected') return this.everConnected ? -Errno.EPIPE : -Errno.ENOTCONN;
      dst = this.peer;
      if (!dst || dst.closed) return -Errno.EPIPE;
    } else {
      if (!this.peer) return -EDESTADDRREQ;
      dst = this.peer;
      if (dst.closed) return -Errno.ECONNREFUSED;
    }
    if (dst.closed) return -Errno.ECONNREFUSED;
    if (!this.stream && data.length > this.sndbuf) return -Errno.EMSGSIZE;
    if (dst.rcvShut && this.connectionOriented) return -Errno.EPIPE;
    if (this.stream && data.length === 0 && !rights) return 0;
    const n = dst.room(data.length);
    if (n === 0 && (data.length > 0 || !this.stream)) return new Block([dst.queue_, this.queue_]);
    dst.deliver({ data: Buffer.from(data.subarray(0, n)), rights, creds: credsOf(t), from });
    this.queue_.notify();
    return n;
  }

  /** recvData takes up to len bytes (one record for datagrams); Block when nothing is there. */
  recvData(len: number, flags: number): Received | number | Block {
    if (this.state === 'listening') return -Errno.EINVAL;
    if (this.connectionOriented && this.state !== 'connected' && !this.everConnected && this.rx.length === 0) {
      return this.family === AF_UNIX ? -Errno.EINVAL : -Errno.ENOTCONN;
    }
    const peek = (flags & MSG_PEEK) !== 0;
    if (this.rx.length === 0) {
      if (this.rcvShut || (this.connectionOriented && this.everConnected && (!this.peer || this.peer.closed))) {
        return { data: Buffer.alloc(0), full: 0, rights: null, creds: null, from: null };
      }
      if (this.error) { const e = this.error; this.error = 0; return -e; }
      return block(this.queue_);
    }
    if (!this.stream) {
      const rec = this.rx[0];
      if (!peek) this.take();
      return { data: rec.data.subarray(0, len), full: rec.data.length, rights: peek ? null : rec.rights, creds: rec.creds, from: rec.from };
    }
    // Stream: WAITALL waits until len bytes (or the end) are there.
    if ((flags & MSG_WAITALL) && !peek && this.rxBytes < len && !this.rcvShut && this.peer && !this.peer.closed
      && this.rxBytes < this.rcvbuf && !this.rx.some((r) => r.rights)) return block(this.queue_);
    const parts: Buffer[] = [];
    let got = 0;
    let rights: FileDescription[] | null = null;
    const creds = this.rx[0].creds;
    const from = this.rx[0].from;
    let i = 0;
    while (got < len && i < this.rx.length) {
      const rec = this.rx[i];
      if (i > 0 && (rec.rights || rights)) break;
      if (rec.rights) rights = rec.rights;
      const take = Math.min(rec.data.length, len - got);
      parts.push(rec.data.subarray(0, take));
      got += take;
      if (peek) { i++; continue; }
      if (take === rec.data.length) this.take();
      else {
        this.rx[0] = { ...rec, data: rec.data.subarray(take), rights: null };
        this.rxBytes -= take;
      }
    }
    if (!peek) this.wake();
    return { data: Buffer.concat(parts), full: got, rights: peek ? null : rights, creds, from: this.family === AF_UNIX ? from : null };
  }

  private take(): void {
    const rec = this.rx.shift()!;
    this.rxBytes -= rec.data.length;
    this.wake();
  }

  /** timed applies SO_RCVTIMEO (opt 20) or SO_SNDTIMEO (opt 21) to a Block (see withTimeout). */
  timed<T>(t: Task, res: T | Block, opt: 20 | 21): T | Block | number {
    return withTimeout(t, res, this.timeoutMs(opt === 20 ? 'rcv' : 'snd'));
  }

  override timeoutMs(which: 'rcv' | 'snd'): number {
    return timevalMs(this.opts.get(which === 'rcv' ? '1:20' : '1:21'));
  }

  override read(t: Task, dst: Buffer): number | Block {
    const r = this.timed(t, this.recvData(dst.length, 0), 20);
    if (typeof r === 'number' || r instanceof Block) return r;
    r.data.copy(dst);
    if (r.rights) for (const f of r.rights) f.unref();
    return r.data.length;
  }

  override write(t: Task, src: Buffer): number | Block {
    return this.timed(t, this.sendData(t, src, null, null, this.srcAddr ?? this.local), 21);
  }

  override readiness(): number {
    let ev = 0;
    if (this.state === 'listening') return this.backlog.length > 0 ? POLLIN | POLLRDNORM : 0;
    const peerGone = this.everConnected && (!this.peer || this.peer.closed);
    if (this.rx.length > 0 || this.rcvShut || peerGone) ev |= POLLIN | POLLRDNORM;
    if (this.rcvShut || peerGone) ev |= POLLRDHUP;
    if (this.connectionOriented) {
      if ((this.rcvShut && this.sndShut) || peerGone) ev |= POLLHUP;
      if (this.state === 'unconnected' && !this.everConnected) ev |= this.family === AF_UNIX ? POLLHUP | POLLOUT | POLLWRNORM : POLLHUP | POLLOUT;
      else if (this.peer && !this.peer.closed && !this.sndShut) {
        if (this.peer.rcvbuf - this.peer.rxBytes > 0) ev |= POLLOUT | POLLWRNORM;
      } else ev |= POLLOUT | POLLWRNORM;
    } else {
      const p = this.peer;
      if (!p || p.closed || p.rx.length === 0 || p.rcvbuf - p.rxBytes > 0) ev |= POLLOUT | POLLWRNORM;
    }
    if (this.error) ev |= POLLERR;
    return ev;
  }

  override ioctl(t: Task, cmd: number, arg: bigint): number {
    if (cmd === 0x541b /* FIONREAD */) {
      const b = Buffer.alloc(4);
      const n = this.stream ? this.rxBytes : (this.rx[0]?.data.length ?? 0);
      b.writeInt32LE(this.state === 'listening' ? 0 : n);
      t.mm.write(arg, b);
      return 0;
    }
    if (cmd === 0x5411 /* TIOCOUTQ */) {
      const b = Buffer.alloc(4);
      t.mm.write(arg, b);
      return 0;
    }
    // Interface queries: Linux answers them on a socket of any family.
    return interfaceIoctl(t, cmd, arg) ?? fail(Errno.ENOTTY);
  }

  /**
   * procEntry: a loopback socket bound only through inet shows that binding; a listener its
   * backlog; a stream its peer's unread bytes as its send queue. A datagram socket stays
   * TCP_CLOSE (7) when connected, as the loopback provider keeps no connection state for it.
   */
  override procEntry(): ProcEntry {
    const local = this.local ?? (this.inet ? encodeInet(this.family, this.inet.ip, this.inet.port) : null);
    const listening = this.state === 'listening';
    return {
      local, remote: this.remote, state: listening ? 10 : this.state === 'connected' ? 1 : 7,
      txQueue: this.peer && !this.peer.closed && this.stream ? this.peer.rxBytes : 0,
      rxQueue: listening ? this.backlog.length : this.rxBytes,
    };
  }

  /** shutdown implements shutdown(2)'s SHUT_RD (0), SHUT_WR (1), SHUT_RDWR (2). */
  override shutdown(_t: Task, how: number): void {
    if (how < 0 || how > 2) fail(Errno.EINVAL);
    if (this.connectionOriented && this.state !== 'connected') fail(Errno.ENOTCONN);
    if (how !== 1) this.rcvShut = true;
    if (how !== 0) {
      this.sndShut = true;
      if (this.peer && this.family === AF_UNIX || this.peer && this.stream) this.peer.rcvShut = true;
    }
    if (how !== 1 && this.family === AF_UNIX && this.peer) this.peer.sndShut = true;
    this.wake();
  }

  protected override release(): void {
    this.closed = true;
    this.unbind?.();
    this.unbind = null;
    for (const rec of this.rx) for (const f of rec.rights ?? []) f.unref();
    this.rx.length = 0;
    this.rxBytes = 0;
    for (const s of this.backlog) s.unref();
    this.backlog = [];
    const p = this.peer;
    if (p && this.connectionOriented) {
      p.rcvShut = true;
      p.queue_.notify();
    } else if (p) p.queue_.notify();
    this.queue_.notify();
  }
}

/** credsOf returns the calling task's credentials as SCM_CREDENTIALS carries them. */
export function credsOf(t: Task): Creds {
  return { pid: t.pid, uid: t.creds.euid, gid: t.creds.egid };
}

/** connectPair joins two connection-oriented sockets. */
export function connectPair(a: Socket, b: Socket, ca: Creds, cb: Creds): void {
  a.peer = b;
  b.peer = a;
  a.state = b.state = 'connected';
  a.everConnected = b.everConnected = true;
  a.peerCreds = cb;
  b.peerCreds = ca;
}

/** isBlock narrows a result. */
export function isBlock(x: unknown): x is Block {
  return x instanceof Block;
}
