/**
 * The host-network provider: AF_INET/AF_INET6 stream, datagram and ICMP ping sockets
 * that are host sockets of the sandbox's network namespace, owned by the sentry.
 *
 * Invariants: each HostSocket owns one host descriptor, non-blocking and close-on-exec,
 * that is never installed in an application's descriptor table and never passed on (the
 * application holds a SocketFile; ancillary data passes only as ./cmsg.ts lists, never a
 * descriptor). The host socket never
 * blocks the sentry: a call that would block returns a Block on the socket's queue, which
 * the reactor notifies on each readiness edge of the host descriptor; the task then runs
 * the call again. SO_RCVTIMEO/SO_SNDTIMEO are kept here and enforced by the sentry
 * (handlers/socket.ts). Options and ioctls pass only through the allowlist (./options.ts).
 */
import { Errno, fail } from '../../kernel/errors';
import type { InterruptibleState } from '../../kernel/signals';
import type { Task } from '../../kernel/task';
import { Block, WaitQueue } from '../../kernel/waiter';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from '../../vfs/file';
import {
  MSG_CONFIRM, MSG_CTRUNC, MSG_DONTROUTE, MSG_DONTWAIT, MSG_EOR, MSG_MORE, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL,
  SocketFile, timevalMs, withTimeout, type Accepted, type ProcEntry, type RecvResult, type SendArgs, type SockWait,
} from '../provider';
import { EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLRDHUP, pollNow, reactor, ReactorError } from '../reactor';
import {
  hostAccept, hostBind, hostClose, hostConnect, hostGetsockopt, hostIoctl, hostListen, hostRecvfrom, hostSendto,
  hostSetsockopt, hostShutdown, hostSockname, hostSocket,
} from './calls';
import { hostIoctlRow, hostOption, SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO } from '../../../native/net/host-options';
import { loadNetAddon } from '../../../native/net/net-native';
import { recvControl, sendControl } from './cmsg';
import { interfaceIoctl } from './if-ioctl';

const AF_INET = 2;
const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3;
const IPPROTO_ICMP = 1, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_ICMPV6 = 58;
const POLLRDHUP = 0x2000;
/** The send flags passed to the host (MSG_DONTWAIT and MSG_NOSIGNAL are the sentry's: always set). */
const SEND_FLAGS = MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_CONFIRM | MSG_MORE;
/** The receive flags passed to the host (MSG_WAITALL is done here, MSG_TRUNC is always asked of datagrams). */
const RECV_FLAGS = MSG_OOB | MSG_PEEK | MSG_TRUNC;
const ENOPROTOOPT = 92, EINPROGRESS = 115;
/** IP_RECVERR (IPPROTO_IP) and IPV6_RECVERR (IPPROTO_IPV6): kept by the sentry, see HostSocket.recvErr. */
const IPPROTO_IP = 0, IP_RECVERR = 11, IPPROTO_IPV6 = 41, IPV6_RECVERR = 25, AF_INET6 = 10;

let scratch = Buffer.allocUnsafe(64 << 10);

/**
 * scratchOf returns a receive buffer of n bytes, shared by every host socket: a receive's
 * bytes are copied to the application before the next receive runs (one thread, and the
 * handlers copy out at once), so one buffer grown on demand (up to the handlers' 4 MiB
 * bound) saves an allocation, and for large reads an mmap and munmap, per call.
 */
function scratchOf(n: number): Buffer {
  if (scratch.length < n) scratch = Buffer.allocUnsafe(n);
  return scratch.subarray(0, n);
}

/** hostFactory returns the host-network provider of one inet family (socket(2)'s checks, then a host socket). */
export function hostFactory(family: number) {
  return (_t: Task, type: number, protocol: number, flags: number): SocketFile => {
    const icmp = family === AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    let proto: number;
    if (type === SOCK_STREAM) {
      if (protocol !== 0 && protocol !== IPPROTO_TCP) fail(Errno.EPROTONOSUPPORT);
      proto = IPPROTO_TCP;
    } else if (type === SOCK_DGRAM) {
      if (protocol !== 0 && protocol !== IPPROTO_UDP && protocol !== icmp) fail(Errno.EPROTONOSUPPORT);
      proto = protocol === 0 ? IPPROTO_UDP : protocol;
    } else if (type === SOCK_RAW) return fail(Errno.EPERM); // but raw ICMPv4: ./raw-icmp.ts
    else return fail(94 /* ESOCKTNOSUPPORT */);
    const fd = hostSocket(family, type, proto);
    if (fd < 0) fail(-fd);
    return adopt(family, type, proto, flags, fd);
  };
}

/** adopt wraps a new host socket; if the reactor cannot watch it (out of memory or of epoll watches), it is closed and the call fails with that errno. */
function adopt(family: number, type: number, protocol: number, flags: number, fd: number): HostSocket {
  return adoptHost(fd, () => new HostSocket(family, type, protocol, flags, fd));
}

/** adoptHost runs `make` (a HostSocket constructor over fd); if it throws, fd is closed and the call fails with the reactor's errno (or ENOMEM). */
export function adoptHost<S extends HostSocket>(fd: number, make: () => S): S {
  try {
    return make();
  } catch (e) {
    hostClose(fd);
    return fail(e instanceof ReactorError ? e.errno : Errno.ENOMEM);
  }
}

/** ConnectWait is a blocking connect's restart state: the host connect is under way. */
interface ConnectWait extends SockWait {
  connecting: true;
}

/** SendWait is a blocking send's restart state once part of it went out. */
interface SendWait extends SockWait, InterruptibleState {}

/** HostSocket is one application socket backed by a host socket of the sentry. */
export class HostSocket extends SocketFile {
  protected fd: number;
  /** io wakes this socket's own blocked calls: notified on every readiness edge of the host socket. */
  protected readonly io = new WaitQueue();
  /**
   * q is the queue poll, select and epoll follow: notified only when the host socket's
   * readiness gains a bit since it was last seen (by readiness() or an edge), so that an
   * edge-triggered epoll reports once per change, as Linux does, and not once more when a
   * wake-up of the host socket reaches the sentry after the application looked.
   */
  private readonly q = new WaitQueue();
  private seen = 0;
  private rcvTimeo = Buffer.alloc(16);
  private sndTimeo = Buffer.alloc(16);
  /**
   * recvErr is IP_RECVERR/IPV6_RECVERR as the application set it, never passed to the host
   * socket: glibc's resolver sets it on its UDP socket and gives up on the name server
   * when it fails, but on the host it would queue extended errors that only a MSG_ERRQUEUE
   * receive (not offered) drains, keeping the socket in POLLERR. The application still
   * gets a connected socket's errors (ECONNREFUSED) as without the option; not the queue.
   */
  private recvErr = false;
  /** stash holds bytes a MSG_WAITALL receive took from the host and has not returned yet. */
  private stash = Buffer.alloc(0);

  constructor(family: number, type: number, protocol: number, flags: number, fd: number) {
    super(family, type, protocol, flags);
    this.fd = fd;
    reactor().watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI, () => this.edge());
  }

  override get queue(): WaitQueue {
    return this.q;
  }

  /** edge runs on each readiness edge the reactor reports for the host socket. */
  private edge(): void {
    this.io.notify();
    // Nobody polls it: no poll(2) now; whoever polls next calls readiness() first.
    if (this.q.size === 0) return;
    const before = this.seen;
    if (this.readiness() & ~before) this.q.notify();
  }

  private check(r: number): number {
    if (r < 0) fail(-r);
    return r;
  }

  override bind(_t: Task, addr: Buffer): void {
    this.check(hostBind(this.fd, addr));
  }

  override listen(_t: Task, backlog: number): void {
    this.check(hostListen(this.fd, backlog));
  }

  override connect(t: Task, addr: Buffer): number | Block {
    const st = t.syscallState as ConnectWait | undefined;
    if (!st?.connecting) {
      const r = hostConnect(this.fd, addr);
      if (r !== -EINPROGRESS || this.nonblocking) return r;
      t.syscallState = { connecting: true } satisfies ConnectWait;
    }
    // Under way: done when the host socket is writable or failed; SO_ERROR says which.
    if ((pollNow(this.fd, POLLOUT) & (POLLOUT | POLLERR | POLLHUP)) === 0) {
      const r = withTimeout(t, new Block([this.io]), this.timeoutMs('snd'));
      return r === -Errno.EAGAIN ? -EINPROGRESS : r;
    }
    const err = hostGetsockopt(this.fd, SOL_SOCKET, 4 /* SO_ERROR */, 4);
    if (typeof err === 'number') return err;
    const e = err.readInt32LE(0);
    return e === 0 ? 0 : -e;
  }

  override accept(_t: Task, _flags: number): Accepted | number | Block {
    const { fd, peer } = hostAccept(this.fd);
    if (fd === -Errno.EAGAIN) return new Block([this.io]);
    if (fd < 0) return fd;
    return { file: adopt(this.family, this.type, this.protocol, 0, fd), peer };
  }

  override send(t: Task, m: SendArgs): number | Block {
    const control = m.control ? sendControl(m.control) : null;
    const flags = (m.flags & SEND_FLAGS) | MSG_DONTWAIT | MSG_NOSIGNAL;
    const st = t.syscallState as SendWait | undefined;
    let sent = st?.done ?? 0;
    while (sent < m.data.length || (sent === 0 && m.data.length === 0)) {
      const part = m.data.subarray(sent);
      const n = control ? loadNetAddon().sendMsg(this.fd, part, flags, m.addr, control) : hostSendto(this.fd, part, flags, m.addr);
      if (n === -Errno.EAGAIN) break;
      if (n < 0) return sent > 0 ? sent : n;
      sent += n;
      if (!this.stream || m.data.length === 0) return n;
    }
    if (sent === m.data.length) return sent;
    if (this.nonblocking || (m.flags & MSG_DONTWAIT)) return sent > 0 ? sent : new Block([this.io]);
    if (sent === 0) return new Block([this.io]);
    // Part went out: a signal handler ends the call with what was sent (Linux's partial write).
    const wait: SendWait = { ...(st ?? {}), done: sent, interrupted: () => t.regs.setReturn(sent) };
    t.syscallState = wait;
    return new Block([this.io], undefined, true);
  }

  private takeStash(len: number, peek: boolean): Buffer {
    const out = Buffer.from(this.stash.subarray(0, len));
    if (!peek) this.stash = this.stash.subarray(out.length);
    return out;
  }

  override recv(_t: Task, len: number, flags: number, controllen: number): RecvResult | number | Block {
    const peek = (flags & MSG_PEEK) !== 0;
    const result = (data: Buffer, ret: number, from: Buffer, outFlags: number): RecvResult =>
      ({ data, ret, from, control: Buffer.alloc(0), outFlags });
    if (this.stream && (flags & MSG_WAITALL) && !peek) {
      // Gather into the stash until len bytes, the end of the stream, or an error.
      while (this.stash.length < len) {
        const buf = scratchOf(Math.min(len - this.stash.length, 1 << 20));
        const { n } = hostRecvfrom(this.fd, buf, (flags & MSG_OOB) | MSG_DONTWAIT);
        if (n === -Errno.EAGAIN) return new Block([this.io]);
        if (n < 0) {
          if (this.stash.length > 0) break;
          return n;
        }
        if (n === 0) break;
        this.stash = Buffer.concat([this.stash, buf.subarray(0, n)]);
      }
      const data = this.takeStash(len, false);
      return result(data, data.length, Buffer.alloc(0), 0);
    }
    if (this.stash.length > 0) {
      const data = this.takeStash(len, peek);
      return result(data, data.length, Buffer.alloc(0), 0);
    }
    const buf = scratchOf(len);
    const hostFlags = (flags & RECV_FLAGS) | (this.stream ? 0 : MSG_TRUNC) | MSG_DONTWAIT;
    if (!this.stream && controllen > 0) return this.recvDatagramMsg(buf, len, flags, hostFlags, controllen);
    const { n, from } = hostRecvfrom(this.fd, buf, hostFlags);
    if (n === -Errno.EAGAIN) return new Block([this.io]);
    if (n < 0) return n;
    if (this.stream) {
      // MSG_TRUNC on a stream discards: the count is the host's, nothing is copied.
      const data = flags & MSG_TRUNC ? Buffer.alloc(0) : buf.subarray(0, n);
      return result(data, n, from, 0);
    }
    const data = buf.subarray(0, Math.min(n, len));
    return result(data, flags & MSG_TRUNC ? n : data.length, from, n > len ? MSG_TRUNC : 0);
  }

  /**
   * recvDatagramMsg is a datagram receive that asked for ancillary data (recvmsg with
   * msg_control): the host's recvmsg into a control buffer of the application's size, so
   * that MSG_CTRUNC is the host's own; the messages pass through ./cmsg.ts's list.
   */
  private recvDatagramMsg(buf: Buffer, len: number, flags: number, hostFlags: number, controllen: number): RecvResult | number | Block {
    const from = Buffer.alloc(128), control = Buffer.alloc(controllen), out = Buffer.alloc(12);
    const n = loadNetAddon().recvMsg(this.fd, buf, hostFlags, from, control, out);
    if (n === -Errno.EAGAIN) return new Block([this.io]);
    if (n < 0) return n;
    const data = buf.subarray(0, Math.min(n, len));
    const outFlags = (n > len ? MSG_TRUNC : 0) | (out.readUInt32LE(8) & MSG_CTRUNC);
    return {
      data, ret: flags & MSG_TRUNC ? n : data.length, from: from.subarray(0, Math.min(128, out.readUInt32LE(0))),
      control: recvControl(control.subarray(0, Math.min(controllen, out.readUInt32LE(4)))), outFlags,
    };
  }

  override shutdown(_t: Task, how: number): void {
    this.check(hostShutdown(this.fd, how));
  }

  override getsockopt(_t: Task, level: number, name: number, _len: number): Buffer {
    if (level === SOL_SOCKET && (name === SO_RCVTIMEO || name === SO_SNDTIMEO)) {
      return Buffer.from(name === SO_RCVTIMEO ? this.rcvTimeo : this.sndTimeo);
    }
    if (this.isRecvErr(level, name)) {
      const v = Buffer.alloc(4);
      v.writeInt32LE(this.recvErr ? 1 : 0);
      return v;
    }
    const row = hostOption(level, name);
    if (!row) return fail(ENOPROTOOPT);
    const v = hostGetsockopt(this.fd, level, name, row.size);
    if (typeof v === 'number') return fail(-v);
    return v;
  }

  override setsockopt(_t: Task, level: number, name: number, raw: Buffer): void {
    if (level === SOL_SOCKET && (name === SO_RCVTIMEO || name === SO_SNDTIMEO)) {
      if (raw.length < 16) fail(Errno.EINVAL);
      const usec = raw.readBigInt64LE(8);
      if (usec < 0n || usec >= 1000000n) fail(33 /* EDOM */);
      const tv = Buffer.from(raw.subarray(0, 16));
      if (tv.readBigInt64LE(0) < 0n) tv.fill(0);
      if (name === SO_RCVTIMEO) this.rcvTimeo = tv; else this.sndTimeo = tv;
      return;
    }
    if (this.isRecvErr(level, name)) {
      // Linux takes an int, or for IPv4 a single byte.
      if (raw.length < (level === IPPROTO_IP ? 1 : 4)) fail(Errno.EINVAL);
      this.recvErr = (raw.length >= 4 ? raw.readInt32LE(0) : raw[0]) !== 0;
      return;
    }
    const row = hostOption(level, name);
    if (!row || row.access === 'get') fail(ENOPROTOOPT);
    this.check(hostSetsockopt(this.fd, level, name, raw));
  }

  /** isRecvErr tells whether (level, name) is IP_RECVERR, or IPV6_RECVERR on an AF_INET6 socket. */
  private isRecvErr(level: number, name: number): boolean {
    return (level === IPPROTO_IP && name === IP_RECVERR) || (level === IPPROTO_IPV6 && name === IPV6_RECVERR && this.family === AF_INET6);
  }

  override sockname(_t: Task): Buffer {
    const a = hostSockname(this.fd, false);
    return typeof a === 'number' ? fail(-a) : a;
  }

  override peername(_t: Task): Buffer {
    const a = hostSockname(this.fd, true);
    return typeof a === 'number' ? fail(-a) : a;
  }

  override timeoutMs(which: 'rcv' | 'snd'): number {
    return timevalMs(which === 'rcv' ? this.rcvTimeo : this.sndTimeo);
  }

  override read(t: Task, dst: Buffer): number | Block {
    const r = withTimeout(t, this.recv(t, dst.length, 0, 0), this.timeoutMs('rcv'));
    if (typeof r === 'number' || r instanceof Block) return r;
    r.data.copy(dst);
    return r.ret;
  }

  override write(t: Task, src: Buffer): number | Block {
    return withTimeout(t, this.send(t, { data: src, addr: null, control: null, flags: 0 }), this.timeoutMs('snd'));
  }

  override readiness(): number {
    let ev = this.fd < 0 ? POLLERR : pollNow(this.fd, POLLIN | POLLRDNORM | POLLPRI | POLLOUT | POLLWRNORM | POLLRDHUP);
    if (ev < 0) ev = POLLERR;
    if (this.stash.length > 0) ev |= POLLIN | POLLRDNORM;
    this.seen = ev;
    return ev;
  }

  override ioctl(t: Task, cmd: number, arg: bigint): number {
    const row = hostIoctlRow(cmd);
    if (!row) return fail(Errno.ENOTTY);
    if (row.arg === 'int-out') {
      const b = Buffer.alloc(4);
      this.check(hostIoctl(this.fd, cmd, b));
      if (row.name === 'FIONREAD') b.writeInt32LE(b.readInt32LE(0) + this.stash.length);
      t.mm.write(arg, b);
      return 0;
    }
    return interfaceIoctl(t, cmd, arg, this.fd) ?? fail(Errno.ENOTTY);
  }

  /**
   * procEntry asks the host socket: its names (getsockname, getpeername), a stream's state
   * and a listener's accept queue from TCP_INFO (tcpi_state, tcpi_unacked), the queues from
   * FIONREAD and SIOCOUTQ (a datagram socket's FIONREAD is its next datagram, where Linux
   * counts every queued one with its overhead). Never SO_ERROR, which would clear the error.
   */
  override procEntry(): ProcEntry | null {
    if (this.fd < 0) return null;
    const name = (peer: boolean): Buffer | null => { const a = hostSockname(this.fd, peer); return typeof a === 'number' ? null : a; };
    const remote = name(true);
    let state = remote ? 1 : 7, backlog = 0;
    if (this.stream) {
      const info = hostGetsockopt(this.fd, 6 /* IPPROTO_TCP */, 11 /* TCP_INFO */, 232);
      if (typeof info !== 'number' && info.length >= 28) { state = info[0]; backlog = info.readUInt32LE(24); }
    }
    const queued = (req: number): number => { const b = Buffer.alloc(4); return hostIoctl(this.fd, req, b) < 0 ? 0 : b.readInt32LE(0); };
    const listening = state === 10;
    return {
      local: name(false), remote, state, txQueue: listening ? 0 : queued(0x5411 /* SIOCOUTQ */),
      rxQueue: listening ? backlog : queued(0x541b /* FIONREAD */) + this.stash.length,
    };
  }

  protected override release(): void {
    if (this.fd < 0) return;
    reactor().unwatch(this.fd);
    hostClose(this.fd);
    this.fd = -1;
    this.io.notify();
    this.q.notify();
  }
}
