/**
 * NetlinkSocket is an AF_NETLINK socket of the sandbox (netlink(7)), served by the
 * sentry: NETLINK_ROUTE's read requests are answered from the namespace (./route.ts),
 * and sockets of one sandbox may send each other datagrams by port id.
 *
 * Linux's behaviour kept here (net/netlink/af_netlink.c):
 *  - port ids: bind with nl_pid 0, or the first send, autobinds to the process's tgid, or
 *    when that is taken to -4097, -4098, ... (as the kernel's rover); an explicit id in
 *    use is EADDRINUSE; binding again to another id is EINVAL.
 *  - each receive takes one datagram ("skb"): a short buffer gets the head and MSG_TRUNC,
 *    the rest is lost (MSG_TRUNC in flags returns the whole length; MSG_PEEK keeps it).
 *  - a dump fills one datagram at a time, as big as the largest buffer a receive asked for
 *    (at least a page minus the kernel's skb overhead, at most 32 KiB minus it); the next
 *    part is made when a receive leaves the queue at most half the receive buffer full.
 *    NLMSG_DONE goes into the last part when it fits. A second dump while one runs: EBUSY.
 *  - a reply that does not fit the receive buffer is dropped and the socket's error set
 *    to ENOBUFS (unless NETLINK_NO_ENOBUFS).
 * NETLINK_KOBJECT_UEVENT sockets are the same with no request served (EPERM) and no event.
 * Not kept: multicast groups (accepted, nothing is ever sent to them), NETLINK_PKTINFO
 * and SCM_CREDENTIALS control messages, extended-ack attributes other than the message
 * of a lookup the namespace refused (NLMSGERR_ATTR_MSG).
 */
import { interfaceIoctl } from '../host/if-ioctl';
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { block, type Block, WaitQueue } from '../../kernel/waiter';
import { type Accepted, MSG_OOB, MSG_PEEK, MSG_TRUNC, type RecvResult, type SendArgs, SocketFile, timevalMs } from '../provider';
import { POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../vfs/file';
import { hostRoute, type HostQuery } from './host-route';
import { answer, objMessage, type Obj } from './route';
import {
  AF_NETLINK, doneMessage, errorMessage, NETLINK_KOBJECT_UEVENT, NETLINK_ROUTE, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI,
  NLM_F_REQUEST, NLMSG_MIN_TYPE, SOL_NETLINK, sockaddrNl, splitMessages,
} from './wire';

const ENOBUFS = 105, ENOPROTOOPT = 92, ESOCKTNOSUPPORT = 94;
const SOCK_DGRAM = 2, SOCK_RAW = 3;
/** MAX_LINKS is Linux's count of netlink protocols: a protocol at or above it is EPROTONOSUPPORT. */
const MAX_LINKS = 32;
/** SO_* options a netlink socket answers; the rest are ENOPROTOOPT. */
const SOL_SOCKET = 1, SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_PASSCRED = 16, SO_RCVTIMEO = 20,
  SO_SNDTIMEO = 21, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33, SO_PROTOCOL = 38, SO_DOMAIN = 39;
/** EDOM is what Linux's sock_set_timeout answers for a tv_usec outside [0, 1000000). */
const EDOM = 33;
/**
 * NETLINK_* options (SOL_NETLINK) stored as flags: PKTINFO 3, BROADCAST_ERROR 4, NO_ENOBUFS 5,
 * LISTEN_ALL_NSID 8, CAP_ACK 10, EXT_ACK 11, GET_STRICT_CHK 12 (ADD/DROP_MEMBERSHIP 1, 2 are
 * accepted and not stored).
 */
const NETLINK_FLAGS = new Set([3, 4, 5, 8, 10, 11, 12]);

/**
 * netlinkFactory implements socket(AF_NETLINK, type, protocol): SOCK_RAW or SOCK_DGRAM,
 * NETLINK_ROUTE, or NETLINK_KOBJECT_UEVENT (device events, of which a container's
 * namespace gets none: the socket never receives, as in runc's). The other protocols
 * answer EPROTONOSUPPORT, as a kernel built without them.
 */
export function netlinkFactory(_t: Task, type: number, protocol: number, flags: number): SocketFile {
  if (type !== SOCK_RAW && type !== SOCK_DGRAM) fail(ESOCKTNOSUPPORT);
  if (protocol < 0 || protocol >= MAX_LINKS || (protocol !== NETLINK_ROUTE && protocol !== NETLINK_KOBJECT_UEVENT)) fail(Errno.EPROTONOSUPPORT);
  return new NetlinkSocket(type, protocol, flags);
}

function int(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

/** DEFAULT_BUF is net.core.rmem_default / wmem_default. */
const DEFAULT_BUF = 212992;
/** GOODSIZE is NLMSG_GOODSIZE (a page less the skb's shared info); MAX_DUMP_SKB is SKB_WITH_OVERHEAD(32768). */
const GOODSIZE = 4096 - 320, MAX_DUMP_SKB = 32768 - 320;

/** Datagram is one queued skb: its bytes and the sender's port id (0: the kernel). */
interface Datagram { data: Buffer; from: number }

/** Dump is a dump in progress: what is left to send and to whom. */
interface Dump { objs: Obj[]; next: number; seq: number }

/** Ports holds a sandbox's bound port ids, one table per protocol. */
class Ports {
  readonly byProto = new Map<number, Map<number, NetlinkSocket>>();
  /** rover is the next negative id handed out when the tgid is taken. */
  rover = -4096;

  table(proto: number): Map<number, NetlinkSocket> {
    let m = this.byProto.get(proto);
    if (!m) this.byProto.set(proto, (m = new Map()));
    return m;
  }
}

const portsOf = new WeakMap<object, Ports>();

function ports(kernel: object): Ports {
  let p = portsOf.get(kernel);
  if (!p) portsOf.set(kernel, (p = new Ports()));
  return p;
}

/** NetlinkSocket is one AF_NETLINK socket, a provider of the socket file type (net/provider.ts). */
export class NetlinkSocket extends SocketFile {
  /** portid is the bound port id (0: unbound). */
  portid = 0;
  groups = 0;
  dstPid = 0;
  dstGroups = 0;
  rcvbuf = DEFAULT_BUF;
  sndbuf = DEFAULT_BUF;
  /** error is the pending socket error (SO_ERROR; ENOBUFS after an overrun). */
  error = 0;
  /** opts are the SOL_NETLINK and plain SOL_SOCKET flags, read back as set, keyed "level:name". */
  readonly opts = new Map<string, number>();
  /** timeouts are SO_RCVTIMEO and SO_SNDTIMEO as set (struct timeval, 16 bytes). */
  private readonly timeouts: { rcv?: Buffer; snd?: Buffer } = {};
  private readonly rx: Datagram[] = [];
  private rxBytes = 0;
  private maxRecvLen = 0;
  private dump: Dump | null = null;
  private readonly waiters = new WaitQueue();
  private ports: Ports | null = null;

  constructor(type: number, protocol: number, flags: number, private readonly host: HostQuery = hostRoute) {
    super(AF_NETLINK, type, protocol, flags);
  }

  override get queue(): WaitQueue {
    return this.waiters;
  }

  private flag(name: number): boolean {
    return (this.opts.get(`270:${name}`) ?? 0) !== 0;
  }

  /** bind implements bind(2) with a struct sockaddr_nl. */
  override bind(t: Task, addr: Buffer): void {
    if (addr.length < 12 || addr.readUInt16LE(0) !== AF_NETLINK) fail(Errno.EINVAL);
    const pid = addr.readUInt32LE(4), groups = addr.readUInt32LE(8);
    if (this.portid !== 0 && pid !== 0 && pid !== this.portid) fail(Errno.EINVAL);
    if (this.portid === 0) {
      if (pid === 0) this.autobind(t);
      else this.take(t, pid);
    }
    this.groups = groups;
  }

  /** autobind gives an unbound socket the tgid as its port id, or the kernel rover's next one. */
  autobind(t: Task): void {
    if (this.portid !== 0) return;
    const p = ports(t.kernel), table = p.table(this.protocol);
    let id = t.pid;
    while (table.has(id >>> 0)) {
      p.rover = p.rover - 1 > -4096 || p.rover - 1 < -0x7fffffff ? -4097 : p.rover - 1;
      id = p.rover;
    }
    this.take(t, id >>> 0);
  }

  private take(t: Task, id: number): void {
    const table = ports(t.kernel).table(this.protocol);
    if (table.has(id)) fail(Errno.EADDRINUSE);
    table.set(id, this);
    this.portid = id;
    this.ports = ports(t.kernel);
  }

  /** connect sets the default destination (AF_UNSPEC: back to the kernel). */
  override connect(t: Task, addr: Buffer): number {
    if (addr.length < 2) fail(Errno.EINVAL);
    if (addr.readUInt16LE(0) === 0) { this.dstPid = 0; this.dstGroups = 0; return 0; }
    if (addr.length < 12 || addr.readUInt16LE(0) !== AF_NETLINK) fail(Errno.EINVAL);
    const groups = addr.readUInt32LE(8);
    if (groups !== 0) fail(Errno.EPERM); // NETLINK_ROUTE: sending to groups needs CAP_NET_ADMIN
    this.autobind(t);
    this.dstPid = addr.readUInt32LE(4);
    this.dstGroups = 0;
    return 0;
  }

  /** listen and accept: a netlink socket has no connections (sock_no_listen, sock_no_accept). */
  override listen(_t: Task, _backlog: number): void {
    fail(Errno.EOPNOTSUPP);
  }

  override accept(_t: Task, _flags: number): Accepted | number {
    return -Errno.EOPNOTSUPP;
  }

  /** shutdown: sock_no_shutdown. */
  override shutdown(_t: Task, _how: number): void {
    fail(Errno.EOPNOTSUPP);
  }

  /** sockname is the bound port id and groups (0 before any bind or send). */
  override sockname(_t: Task): Buffer {
    return sockaddrNl(this.portid, this.groups);
  }

  /** peername is the default destination, the kernel (0) unless connect named a port: never ENOTCONN. */
  override peername(_t: Task): Buffer {
    return sockaddrNl(this.dstPid, this.dstGroups);
  }

  /** timeoutMs is SO_RCVTIMEO or SO_SNDTIMEO as set (the handlers apply it). */
  override timeoutMs(which: 'rcv' | 'snd'): number {
    return timevalMs(this.timeouts[which]);
  }

  /**
   * send implements the send family: data to the kernel (requests) or to another port.
   * An empty address is none; control messages are ignored (no SCM_CREDENTIALS kept).
   */
  override send(t: Task, m: SendArgs): number {
    const { data, flags } = m;
    const addr = m.addr && m.addr.length ? m.addr : null;
    if (flags & MSG_OOB) fail(Errno.EOPNOTSUPP);
    let dst = this.dstPid, group = this.dstGroups;
    if (addr) {
      if (addr.length < 12 || addr.readUInt16LE(0) !== AF_NETLINK) fail(Errno.EINVAL);
      dst = addr.readUInt32LE(4);
      group = addr.readUInt32LE(8);
      if (group !== 0) fail(Errno.EPERM);
    }
    this.autobind(t);
    if (data.length > this.sndbuf - 32) fail(Errno.EMSGSIZE);
    if (dst !== 0) {
      const peer = this.ports?.table(this.protocol).get(dst);
      if (!peer || peer.closed) fail(Errno.ECONNREFUSED);
      if (!peer.queueDatagram(Buffer.from(data), this.portid)) fail(Errno.EAGAIN);
      return data.length;
    }
    this.kernelReceive(data, t.creds.euid);
    return data.length;
  }

  /** kernelReceive runs each request in `data` as Linux's netlink_rcv_skb does. */
  private kernelReceive(data: Buffer, uid: number): void {
    for (const m of splitMessages(data)) {
      let errno = 0;
      let extMsg: string | null = null;
      if ((m.flags & NLM_F_REQUEST) && m.type >= NLMSG_MIN_TYPE) {
        const dump = (m.flags & NLM_F_DUMP) !== 0;
        // NETLINK_KOBJECT_UEVENT: injecting an event needs CAP_SYS_ADMIN over the namespace.
        if (this.protocol !== NETLINK_ROUTE) errno = Errno.EPERM;
        else if (dump && this.dump) errno = Errno.EBUSY;
        else {
          const a = answer(this.host, m, dump, uid);
          if ('errno' in a) { errno = a.errno; extMsg = this.flag(11 /* EXT_ACK */) ? a.msg ?? null : null; }
          else if (a.dump) {
            this.dump = { objs: a.objs, next: 0, seq: m.seq };
            this.fillDump();
            continue; // a dump is never acked
          } else for (const o of a.objs) this.queueDatagram(objMessage(o, 0, m.seq, this.portid), 0);
        }
      }
      if (errno !== 0 || (m.flags & NLM_F_ACK)) this.queueDatagram(errorMessage(m, errno, this.portid, this.flag(10 /* CAP_ACK */), extMsg), 0);
    }
  }

  /** fillDump queues the next part of the running dump. */
  private fillDump(): void {
    const d = this.dump;
    if (!d) return;
    const cap = Math.max(GOODSIZE, Math.min(this.maxRecvLen, MAX_DUMP_SKB));
    const parts: Buffer[] = [];
    let used = 0;
    while (d.next < d.objs.length) {
      const m = objMessage(d.objs[d.next], NLM_F_MULTI, d.seq, this.portid);
      if (used + m.length > cap && parts.length > 0) break;
      parts.push(m);
      used += m.length;
      d.next++;
    }
    if (d.next >= d.objs.length && used + 20 <= cap) {
      parts.push(doneMessage(d.seq, this.portid));
      this.dump = null;
    }
    this.deliver({ data: Buffer.concat(parts), from: 0 });
  }

  /** queueDatagram queues a datagram unless the receive buffer is full (then ENOBUFS); false when dropped. */
  queueDatagram(data: Buffer, from: number): boolean {
    if (this.rx.length > 0 && this.rxBytes + data.length > this.rcvbuf) {
      if (!this.flag(5 /* NO_ENOBUFS */)) this.error = ENOBUFS;
      this.waiters.notify();
      return false;
    }
    this.deliver({ data, from });
    return true;
  }

  private deliver(d: Datagram): void {
    this.rx.push(d);
    this.rxBytes += d.data.length;
    this.waiters.notify();
  }

  /**
   * recv implements the receive family: one datagram, cut to `len` bytes (msg_flags
   * MSG_TRUNC when cut; the result is the whole length under MSG_TRUNC), its sender's
   * sockaddr_nl, no control messages; -errno, or a Block when the queue is empty.
   */
  override recv(_t: Task, len: number, flags: number, _controllen: number): RecvResult | number | Block {
    if (flags & MSG_OOB) return -Errno.EOPNOTSUPP;
    if (this.error) { const e = this.error; this.error = 0; return -e; }
    this.maxRecvLen = Math.min(Math.max(this.maxRecvLen, len), MAX_DUMP_SKB);
    const d = this.rx[0];
    if (!d) return block(this.waiters);
    if (!(flags & MSG_PEEK)) {
      this.rx.shift();
      this.rxBytes -= d.data.length;
    }
    if (this.dump && this.rxBytes <= this.rcvbuf / 2) this.fillDump();
    const data = d.data.subarray(0, len), full = d.data.length;
    return {
      data, ret: flags & MSG_TRUNC ? full : data.length, from: sockaddrNl(d.from, 0), control: Buffer.alloc(0),
      outFlags: full > data.length ? MSG_TRUNC : 0,
    };
  }

  /** read is recv(2) with no flags: one datagram, the rest of it lost. */
  override read(t: Task, dst: Buffer): number | Block {
    const r = this.recv(t, dst.length, 0, 0);
    if (typeof r === 'number' || !('data' in r)) return r;
    r.data.copy(dst);
    return r.data.length;
  }

  /** write is send(2) with no flags to the default destination. */
  override write(t: Task, src: Buffer): number | Block {
    return this.send(t, { data: src, addr: null, control: null, flags: 0 });
  }

  /**
   * setsockopt: SO_SNDBUF/SO_RCVBUF (doubled and bounded as Linux's), SO_PASSCRED read back as
   * set, SO_*BUFFORCE EPERM (no CAP_NET_ADMIN over the host); SOL_NETLINK flags read back as
   * set and memberships accepted; anything else ENOPROTOOPT.
   */
  override setsockopt(_t: Task, level: number, name: number, raw: Buffer): void {
    const val = (): number => (raw.length < 4 ? fail(Errno.EINVAL) : raw.readInt32LE(0));
    if (level === SOL_SOCKET) {
      switch (name) {
        case SO_SNDBUF: this.sndbuf = Math.max(4608, Math.min(2 * Math.max(val(), 0), 2 * DEFAULT_BUF)); return;
        case SO_RCVBUF: this.rcvbuf = Math.max(2304, Math.min(2 * Math.max(val(), 0), 2 * DEFAULT_BUF)); return;
        case SO_SNDBUFFORCE: case SO_RCVBUFFORCE: fail(Errno.EPERM); return;
        case SO_PASSCRED: this.opts.set(`${SOL_SOCKET}:${name}`, val() ? 1 : 0); return;
        case SO_RCVTIMEO: case SO_SNDTIMEO: {
          if (raw.length < 16) fail(Errno.EINVAL);
          const usec = raw.readBigInt64LE(8);
          if (usec < 0n || usec >= 1000000n) fail(EDOM);
          this.timeouts[name === SO_RCVTIMEO ? 'rcv' : 'snd'] = Buffer.from(raw.subarray(0, 16));
          return;
        }
        default: fail(ENOPROTOOPT);
      }
    }
    if (level !== SOL_NETLINK) fail(ENOPROTOOPT);
    if (name === 1 || name === 2) { val(); return; } // memberships: nothing is ever multicast here
    if (!NETLINK_FLAGS.has(name)) fail(ENOPROTOOPT);
    this.opts.set(`${level}:${name}`, val() ? 1 : 0);
  }

  /** getsockopt answers the options setsockopt takes and SO_TYPE/ERROR/PROTOCOL/DOMAIN; SOL_NETLINK wants a whole int. */
  override getsockopt(_t: Task, level: number, name: number, len: number): Buffer {
    let v: number;
    if (level === SOL_SOCKET) {
      switch (name) {
        case SO_TYPE: v = this.type; break;
        case SO_ERROR: v = this.error; this.error = 0; break;
        case SO_SNDBUF: v = this.sndbuf; break;
        case SO_RCVBUF: v = this.rcvbuf; break;
        case SO_PASSCRED: v = this.opts.get(`${SOL_SOCKET}:${name}`) ?? 0; break;
        case SO_PROTOCOL: v = this.protocol; break;
        case SO_DOMAIN: v = AF_NETLINK; break;
        case SO_RCVTIMEO: case SO_SNDTIMEO: return this.timeouts[name === SO_RCVTIMEO ? 'rcv' : 'snd'] ?? Buffer.alloc(16);
        default: return fail(ENOPROTOOPT);
      }
    } else if (level === SOL_NETLINK && NETLINK_FLAGS.has(name)) {
      // Linux: EINVAL when the caller's length is shorter than an int.
      if (len < 4) fail(Errno.EINVAL);
      v = this.opts.get(`${level}:${name}`) ?? 0;
    } else return fail(ENOPROTOOPT);
    return int(v);
  }

  override readiness(): number {
    let ev = POLLOUT | POLLWRNORM;
    if (this.rx.length > 0) ev |= POLLIN | POLLRDNORM;
    if (this.error) ev |= POLLERR;
    return ev;
  }

  override ioctl(t: Task, cmd: number, arg: bigint): number {
    if (cmd === 0x541b /* FIONREAD */) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(this.rx[0]?.data.length ?? 0);
      t.mm.write(arg, b);
      return 0;
    }
    // Interface queries: Linux answers them on a socket of any family.
    return interfaceIoctl(t, cmd, arg) ?? fail(Errno.ENOTTY);
  }

  closed = false;

  protected override release(): void {
    this.closed = true;
    const table = this.ports?.table(this.protocol);
    if (table?.get(this.portid) === this) table.delete(this.portid);
    this.rx.length = 0;
    this.rxBytes = 0;
    this.dump = null;
    this.waiters.notify();
  }
}
