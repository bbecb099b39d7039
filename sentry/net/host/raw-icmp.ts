/**
 * Raw ICMPv4 sockets (socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)) for ping-style programs
 * such as busybox's `ping`, which opens nothing else, served by a host ICMP *ping* socket
 * (SOCK_DGRAM, IPPROTO_ICMP) of the sandbox's network namespace.
 *
 * Why not a host raw socket: the sentry holds no capability (README: "The sandbox's host
 * processes"), and a host raw socket would see every ICMP packet of the namespace. A ping
 * socket sends only echo requests and receives only the replies to its own identifier,
 * which is what a pinger needs; the kernel still builds the packets.
 *
 * What the application sees, compared with Linux's raw socket:
 * - creating one needs CAP_NET_RAW in the task's effective set (EPERM otherwise, as
 *   Linux), and the namespace's net.ipv4.ping_group_range must admit the sentry's group
 *   (Docker's and tvisor's own namespaces do; the host's namespace by default does not):
 *   otherwise EPERM too;
 * - send: an ICMP echo request (type 8, code 0) with its 8-byte header, as the application
 *   built it; the kernel replaces the identifier with the ping socket's and computes the
 *   checksum. Any other ICMP message: EPERM (as if a firewall refused it). IP_HDRINCL is
 *   not offered (ENOPROTOOPT);
 * - receive: echo replies to this socket's requests, each with an IPv4 header in front,
 *   as a raw socket delivers them. The header is rebuilt from what the kernel reports for
 *   the packet: its source and destination addresses, TTL, TOS and length are the real
 *   ones; its identification and fragment fields are 0 and its checksum is computed here.
 *   The reply's identifier is put back to the one the application used last (with the
 *   ICMP checksum recomputed). Other ICMP traffic (errors, other pingers' replies, the
 *   echo requests a raw socket on Linux also sees) is not delivered;
 * - ICMP_FILTER (SOL_RAW) is kept and applied here; SO_TYPE and SO_PROTOCOL say SOCK_RAW
 *   and IPPROTO_ICMP.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import { CAP_NET_RAW } from '../../kernel/capabilities';
import { MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC, type RecvResult, type SendArgs, type SocketFile } from '../provider';
import { loadNetAddon } from '../../../native/net/net-native';
import { hostBind, hostSetsockopt, hostSocket } from './calls';
import { adoptHost, HostSocket } from './host-socket';
import { IPPROTO_IP, SOL_SOCKET } from '../../../native/net/host-options';
import { IP_PKTINFO, IP_TOS, IP_TTL, parseCmsgs } from './cmsg';

const AF_INET = 2, SOCK_DGRAM = 2, SOCK_RAW = 3, IPPROTO_ICMP = 1;
const IP_RECVTTL = 12, IP_RECVTOS = 13;
const SOL_RAW = 255, ICMP_FILTER = 1, SO_TYPE = 3, SO_PROTOCOL = 38;
const ICMP_ECHOREPLY = 0, ICMP_ECHO = 8;
const ENOPROTOOPT = 92;
/** The largest datagram: a receive takes it whole, so that MSG_TRUNC reports its length. */
const MAX_DATAGRAM = 65535;

/** rawIcmpFactory implements socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) (see the top of this file). */
export function rawIcmpFactory(t: Task, flags: number): SocketFile {
  if (!t.creds.capable(CAP_NET_RAW)) fail(Errno.EPERM);
  const fd = hostSocket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  // EACCES: the namespace's ping_group_range leaves the sentry out; to the application,
  // as on a host that refuses it the raw socket, EPERM.
  if (fd < 0) fail(-fd === Errno.EACCES ? Errno.EPERM : -fd);
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  for (const opt of [IP_PKTINFO, IP_RECVTTL, IP_RECVTOS]) hostSetsockopt(fd, IPPROTO_IP, opt, one);
  return adoptHost(fd, () => new RawIcmpSocket(flags, fd));
}

/** icmpChecksum is the Internet checksum (RFC 1071) of b with its checksum field at `at` taken as 0. */
export function icmpChecksum(b: Buffer, at: number): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) {
    if (i === at) continue;
    sum += i + 1 < b.length ? (b[i] << 8) | b[i + 1] : b[i] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** RawIcmpSocket is the application's raw ICMP socket over a host ping socket. */
export class RawIcmpSocket extends HostSocket {
  /** ident is the echo identifier the application's last request carried, given back in replies. */
  private ident = 0;
  /** filter is ICMP_FILTER: bit n set drops ICMP type n. */
  private filter = 0;
  private readonly rx = Buffer.allocUnsafe(MAX_DATAGRAM);
  private readonly from = Buffer.alloc(128);
  private readonly control = Buffer.alloc(128);
  private readonly out = Buffer.alloc(12);

  constructor(flags: number, fd: number) {
    super(AF_INET, SOCK_RAW, IPPROTO_ICMP, flags, fd);
  }

  /** bind: a raw socket's port is meaningless (Linux ignores it); to the ping socket it would be an identifier. */
  override bind(_t: Task, addr: Buffer): void {
    const a = Buffer.from(addr);
    if (a.length >= 4) a.writeUInt16BE(0, 2);
    const r = hostBind(this.fd, a);
    if (r < 0) fail(-r);
  }

  override send(t: Task, m: SendArgs): number | Block {
    if (m.data.length < 8) fail(Errno.EINVAL);
    if (m.data[0] !== ICMP_ECHO || m.data[1] !== 0) fail(Errno.EPERM);
    this.ident = m.data.readUInt16BE(4);
    return super.send(t, m);
  }

  override recv(_t: Task, len: number, flags: number, _controllen: number): RecvResult | number | Block {
    const peek = (flags & MSG_PEEK) !== 0;
    for (;;) {
      const n = loadNetAddon().recvMsg(this.fd, this.rx, (peek ? MSG_PEEK : 0) | MSG_DONTWAIT, this.from, this.control, this.out);
      if (n === -Errno.EAGAIN) return new Block([this.io]);
      if (n < 0) return n;
      if (n < 8) continue; // not an ICMP header: nothing a raw socket would show
      const type = this.rx[0];
      if (type < 32 && (this.filter >>> type) & 1) {
        if (peek) return new Block([this.io]);
        continue;
      }
      const packet = this.packet(this.rx.subarray(0, n), type);
      const data = packet.subarray(0, Math.min(len, packet.length));
      const from = Buffer.from(this.from.subarray(0, Math.min(16, this.out.readUInt32LE(0))));
      if (from.length >= 4) from.writeUInt16BE(0, 2);
      return {
        data, ret: flags & MSG_TRUNC ? packet.length : data.length, from, control: Buffer.alloc(0),
        outFlags: packet.length > len ? MSG_TRUNC : 0,
      };
    }
  }

  /** packet rebuilds what a raw socket delivers: an IPv4 header (see the top of this file), then the ICMP message with the application's identifier. */
  private packet(icmp: Buffer, type: number): Buffer {
    const out = Buffer.alloc(20 + icmp.length);
    icmp.copy(out, 20);
    const msg = out.subarray(20);
    if (type === ICMP_ECHOREPLY) {
      msg.writeUInt16BE(this.ident, 4);
      msg.writeUInt16BE(icmpChecksum(msg, 2), 2);
    }
    out[0] = 0x45;
    out.writeUInt16BE(Math.min(out.length, 0xffff), 2);
    out[9] = IPPROTO_ICMP;
    if (this.out.readUInt32LE(0) >= 8) this.from.copy(out, 12, 4, 8);
    // What the kernel said of the packet: its TTL, TOS and destination (struct in_pktinfo's ipi_addr).
    for (const m of parseCmsgs(this.control.subarray(0, Math.min(this.control.length, this.out.readUInt32LE(4))))) {
      if (m.level !== IPPROTO_IP) continue;
      if (m.type === IP_TTL && m.data.length >= 4) out[8] = m.data.readInt32LE(0);
      else if (m.type === IP_TOS && m.data.length >= 1) out[1] = m.data[0];
      else if (m.type === IP_PKTINFO && m.data.length >= 12) m.data.copy(out, 16, 8, 12);
    }
    out.writeUInt16BE(icmpChecksum(out.subarray(0, 20), 10), 10);
    return out;
  }

  override getsockopt(t: Task, level: number, name: number, len: number): Buffer {
    const int = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
    if (level === SOL_RAW) {
      if (name !== ICMP_FILTER) return fail(ENOPROTOOPT);
      return int(this.filter).subarray(0, Math.min(4, Math.max(0, len)));
    }
    if (level === SOL_SOCKET && name === SO_TYPE) return int(SOCK_RAW);
    if (level === SOL_SOCKET && name === SO_PROTOCOL) return int(IPPROTO_ICMP);
    return super.getsockopt(t, level, name, len);
  }

  override setsockopt(t: Task, level: number, name: number, raw: Buffer): void {
    if (level === SOL_RAW) {
      if (name !== ICMP_FILTER) fail(ENOPROTOOPT);
      if (raw.length < 4) fail(Errno.EINVAL);
      this.filter = raw.readUInt32LE(0);
      return;
    }
    super.setsockopt(t, level, name, raw);
  }
}
