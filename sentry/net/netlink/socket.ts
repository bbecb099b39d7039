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
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { block, type Block, WaitQueue } from '../../kernel/waiter';
import { FileDescription, O_RDWR, POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../vfs/file';
import { nowTimespec, S_IFSOCK, type Stat } from '../../vfs/inode';
import { hostRoute, type HostQuery } from './host-route';
import { answer, objMessage, type Obj } from './route';
import {
  AF_NETLINK, doneMessage, errorMessage, NETLINK_ROUTE, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_MIN_TYPE,
  sockaddrNl, splitMessages,
} from './wire';

const MSG_OOB = 0x1, MSG_PEEK = 0x2;
const ENOBUFS = 105;
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

let nextIno = 1 << 20;

/** NetlinkSocket is one AF_NETLINK socket description. */
export class NetlinkSocket extends FileDescription {
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
  private readonly rx: Datagram[] = [];
  private rxBytes = 0;
  private maxRecvLen = 0;
  private dump: Dump | null = null;
  private readonly waiters = new WaitQueue();
  private ports: Ports | null = null;
  readonly ino = nextIno++;
  private readonly ctime = nowTimespec();

  constructor(readonly type: number, readonly protocol: number, flags: number, private readonly host: HostQuery = hostRoute) {
    super(null, O_RDWR | flags);
  }

  override get queue(): WaitQueue {
    return this.waiters;
  }

  private flag(name: number): boolean {
    return (this.opts.get(`270:${name}`) ?? 0) !== 0;
  }

  /** bind implements bind(2) with a struct sockaddr_nl. */
  bind(t: Task, addr: Buffer): void {
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
  connect(t: Task, addr: Buffer): void {
    if (addr.length < 2) fail(Errno.EINVAL);
    if (addr.readUInt16LE(0) === 0) { this.dstPid = 0; this.dstGroups = 0; return; }
    if (addr.length < 12 || addr.readUInt16LE(0) !== AF_NETLINK) fail(Errno.EINVAL);
    const groups = addr.readUInt32LE(8);
    if (groups !== 0) fail(Errno.EPERM); // NETLINK_ROUTE: sending to groups needs CAP_NET_ADMIN
    this.autobind(t);
    this.dstPid = addr.readUInt32LE(4);
    this.dstGroups = 0;
  }

  /** localName and peerName are what getsockname and getpeername return. */
  localName(): Buffer {
    return sockaddrNl(this.portid, this.groups);
  }

  peerName(): Buffer {
    return sockaddrNl(this.dstPid, this.dstGroups);
  }

  /** send implements sendmsg(2): data to the kernel (requests) or to another port. */
  send(t: Task, data: Buffer, addr: Buffer | null, flags: number): number {
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
   * recv implements recvmsg(2): one datagram, cut to `len` bytes. Returns the bytes, the
   * datagram's full length and its sender, -errno, or a Block when the queue is empty.
   */
  recv(len: number, flags: number): { data: Buffer; full: number; from: Buffer } | number | Block {
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
    return { data: d.data.subarray(0, len), full: d.data.length, from: sockaddrNl(d.from, 0) };
  }

  override read(_t: Task, dst: Buffer): number | Block {
    const r = this.recv(dst.length, 0);
    if (typeof r === 'number' || !('data' in r)) return r;
    r.data.copy(dst);
    return r.data.length;
  }

  override write(t: Task, src: Buffer): number | Block {
    return this.send(t, src, null, 0);
  }

  override seek(): number {
    return fail(Errno.ESPIPE);
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
    return fail(Errno.ENOTTY);
  }

  override stat(): Stat {
    return {
      dev: 8, ino: this.ino, mode: S_IFSOCK | 0o777, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0,
      atime: this.ctime, mtime: this.ctime, ctime: this.ctime,
    };
  }

  override procLink(): string {
    return `socket:[${this.ino}]`;
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
