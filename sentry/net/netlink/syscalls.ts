/**
 * The socket calls on an AF_NETLINK socket. Until the socket provider interface
 * (sentry/net/provider.ts) is merged, handlers/socket.ts creates a NetlinkSocket in
 * socket(2) and hands the calls made on one to these handlers (serveNetlinkCalls); every
 * other descriptor goes to the handler that was there before.
 */
import type { Registers } from '../../../platform';
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import { O_CLOEXEC, O_NONBLOCK } from '../../vfs/file';
import { HANDLERS, type SyscallResult } from '../../syscalls/linux/registry';
import { eachMmsg, gather, readMsghdr, scatter, writeAddr } from '../../syscalls/linux/handlers/socket';
import { num } from '../../syscalls/linux/handlers/util';
import { NetlinkSocket } from './socket';
import { NETLINK_KOBJECT_UEVENT, NETLINK_ROUTE, SOL_NETLINK } from './wire';

const SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_TYPE_MASK = 0xf;
const MSG_DONTWAIT = 0x40, MSG_TRUNC = 0x20;
const ESOCKTNOSUPPORT = 94, ENOPROTOOPT = 92;
/** MAX_LINKS is Linux's count of netlink protocols: a protocol at or above it is EPROTONOSUPPORT. */
const MAX_LINKS = 32;

/**
 * newNetlinkSocket implements socket(AF_NETLINK, type, protocol): SOCK_RAW or SOCK_DGRAM,
 * NETLINK_ROUTE, or NETLINK_KOBJECT_UEVENT (device events, of which a container's
 * namespace gets none: the socket never receives, as in runc's). The other protocols
 * answer EPROTONOSUPPORT, as a kernel built without them.
 */
export function newNetlinkSocket(typeArg: number, protocol: number): NetlinkSocket {
  const type = typeArg & SOCK_TYPE_MASK;
  if (typeArg & ~(SOCK_TYPE_MASK | O_NONBLOCK | O_CLOEXEC)) fail(Errno.EINVAL);
  if (type !== SOCK_RAW && type !== SOCK_DGRAM) fail(ESOCKTNOSUPPORT);
  if (protocol < 0 || protocol >= MAX_LINKS || (protocol !== NETLINK_ROUTE && protocol !== NETLINK_KOBJECT_UEVENT)) fail(Errno.EPROTONOSUPPORT);
  return new NetlinkSocket(type, protocol, typeArg & O_NONBLOCK);
}

type NetlinkHandler = (t: Task, s: NetlinkSocket, r: Registers) => SyscallResult;

function readAddr(t: Task, addr: bigint, len: number): Buffer {
  if (len < 0 || len > 128) fail(Errno.EINVAL);
  return len === 0 ? Buffer.alloc(0) : t.mm.read(addr, len);
}

function int(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

/** wouldBlock turns a Block into EAGAIN for a non-blocking socket or MSG_DONTWAIT. */
function wouldBlock<T>(s: NetlinkSocket, res: T | Block, flags: number): T | Block | number {
  return res instanceof Block && (s.nonblocking || (flags & MSG_DONTWAIT)) ? -Errno.EAGAIN : res;
}

function recvmsg(t: Task, s: NetlinkSocket, addr: bigint, flags: number): number | Block {
  const m = readMsghdr(t, addr);
  const want = Math.min(m.iovs.reduce((n, v) => n + v.len, 0), 4 << 20);
  const res = wouldBlock(s, s.recv(want, flags), flags);
  if (typeof res === 'number' || res instanceof Block) return res;
  scatter(t, m.iovs, res.data);
  const out = Buffer.alloc(20);
  out.writeBigUInt64LE(0n, 0); // msg_controllen: no control messages
  out.writeInt32LE(res.full > res.data.length ? MSG_TRUNC : 0, 8);
  t.mm.write(addr + 40n, out.subarray(0, 8));
  t.mm.write(addr + 48n, out.subarray(8, 12));
  if (m.name !== 0n) {
    t.mm.write(m.name, res.from.subarray(0, Math.min(m.namelen, res.from.length)));
    t.mm.write(addr + 8n, int(res.from.length));
  }
  return flags & MSG_TRUNC ? res.full : res.data.length;
}

function sendmsg(t: Task, s: NetlinkSocket, addr: bigint, flags: number): number {
  const m = readMsghdr(t, addr);
  const a = m.name !== 0n && m.namelen > 0 ? readAddr(t, m.name, m.namelen) : null;
  return s.send(t, gather(t, m.iovs), a, flags);
}

/** SO_* options a netlink socket answers; the rest are ENOPROTOOPT. */
const SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_PASSCRED = 16, SO_SNDBUFFORCE = 32,
  SO_RCVBUFFORCE = 33, SO_PROTOCOL = 38, SO_DOMAIN = 39;
/** NETLINK_* options (SOL_NETLINK): ADD/DROP_MEMBERSHIP 1, 2; PKTINFO 3; BROADCAST_ERROR 4; NO_ENOBUFS 5;
 * LISTEN_ALL_NSID 8; CAP_ACK 10; EXT_ACK 11; GET_STRICT_CHK 12. */
const NETLINK_FLAGS = new Set([3, 4, 5, 8, 10, 11, 12]);

const CALLS = new Map<number, NetlinkHandler>([
  [42, (t, s, r) => { s.connect(t, readAddr(t, r.arg(1), r.argInt(2))); return 0; }],
  [43, () => -Errno.EOPNOTSUPP],
  [288, () => -Errno.EOPNOTSUPP],
  [44, (t, s, r) => {
    const data = t.mm.read(r.arg(1), Math.min(num(r, 2), 4 << 20));
    const a = r.arg(4) !== 0n ? readAddr(t, r.arg(4), r.argInt(5)) : null;
    return s.send(t, data, a && a.length ? a : null, r.argInt(3));
  }],
  [45, (t, s, r) => {
    const flags = r.argInt(3);
    const res = wouldBlock(s, s.recv(Math.min(num(r, 2), 4 << 20), flags), flags);
    if (typeof res === 'number' || res instanceof Block) return res;
    if (res.data.length) t.mm.write(r.arg(1), res.data);
    if (r.arg(4) !== 0n && r.arg(5) !== 0n) writeAddr(t, r.arg(4), r.arg(5), res.from);
    return flags & MSG_TRUNC ? res.full : res.data.length;
  }],
  [46, (t, s, r) => sendmsg(t, s, r.arg(1), r.argInt(2))],
  [47, (t, s, r) => recvmsg(t, s, r.arg(1), r.argInt(2))],
  [307, (t, s, r) => eachMmsg(t, r, s, (_, at) => sendmsg(t, s, at, r.argInt(3)))],
  // After the first message, recvmmsg takes only what is already there (as for the other sockets).
  [299, (t, s, r) => eachMmsg(t, r, s, (_, at, done) => recvmsg(t, s, at, done ? r.argInt(3) | MSG_DONTWAIT : r.argInt(3)))],
  [48, () => -Errno.EOPNOTSUPP],
  [49, (t, s, r) => { s.bind(t, readAddr(t, r.arg(1), r.argInt(2))); return 0; }],
  [50, () => -Errno.EOPNOTSUPP],
  [51, (t, s, r) => { writeAddr(t, r.arg(1), r.arg(2), s.localName()); return 0; }],
  [52, (t, s, r) => { writeAddr(t, r.arg(1), r.arg(2), s.peerName()); return 0; }],
  [54, (t, s, r) => {
    const level = r.argInt(1), name = r.argInt(2), len = r.argInt(4);
    const raw = len > 0 ? t.mm.read(r.arg(3), Math.min(len, 64)) : Buffer.alloc(0);
    const val = (): number => (raw.length < 4 ? fail(Errno.EINVAL) : raw.readInt32LE(0));
    if (level === 1) {
      switch (name) {
        case SO_SNDBUF: s.sndbuf = Math.max(4608, Math.min(2 * Math.max(val(), 0), 2 * 212992)); return 0;
        case SO_RCVBUF: s.rcvbuf = Math.max(2304, Math.min(2 * Math.max(val(), 0), 2 * 212992)); return 0;
        case SO_SNDBUFFORCE: case SO_RCVBUFFORCE: return -Errno.EPERM;
        case SO_PASSCRED: s.opts.set(`1:${name}`, val() ? 1 : 0); return 0;
        default: return -ENOPROTOOPT;
      }
    }
    if (level !== SOL_NETLINK) return -ENOPROTOOPT;
    if (name === 1 || name === 2) { val(); return 0; } // memberships: nothing is ever multicast here
    if (!NETLINK_FLAGS.has(name)) return -ENOPROTOOPT;
    s.opts.set(`${level}:${name}`, val() ? 1 : 0);
    return 0;
  }],
  [55, (t, s, r) => {
    const level = r.argInt(1), name = r.argInt(2);
    let v: number;
    if (level === 1) {
      switch (name) {
        case SO_TYPE: v = s.type; break;
        case SO_ERROR: v = s.error; s.error = 0; break;
        case SO_SNDBUF: v = s.sndbuf; break;
        case SO_RCVBUF: v = s.rcvbuf; break;
        case SO_PASSCRED: v = s.opts.get(`1:${name}`) ?? 0; break;
        case SO_PROTOCOL: v = s.protocol; break;
        case SO_DOMAIN: v = 16; break;
        default: return -ENOPROTOOPT;
      }
    } else if (level === SOL_NETLINK && NETLINK_FLAGS.has(name)) v = s.opts.get(`${level}:${name}`) ?? 0;
    else return -ENOPROTOOPT;
    const len = t.mm.read(r.arg(4), 4).readInt32LE(0);
    if (len < 0) fail(Errno.EINVAL);
    // SOL_NETLINK options want a whole int (Linux: EINVAL when shorter).
    if (level === SOL_NETLINK && len < 4) fail(Errno.EINVAL);
    const n = Math.min(len, 4);
    t.mm.write(r.arg(3), int(v).subarray(0, n));
    t.mm.write(r.arg(4), int(n));
    return 0;
  }],
]);

/**
 * serveNetlinkCalls puts, in front of each socket call's handler, a check that serves
 * the call here when its descriptor is a NetlinkSocket. Called once, by handlers/socket.ts,
 * after it has defined its handlers.
 */
export function serveNetlinkCalls(): void {
  for (const [nr, own] of CALLS) {
    const entry = HANDLERS.get(nr);
    if (!entry) throw new Error(`netlink: syscall ${nr} has no handler to stand in front of`);
    const before = entry.handler;
    entry.handler = (t, r) => {
      const f = t.fds.has(r.argInt(0)) ? t.fds.get(r.argInt(0)) : null;
      return f instanceof NetlinkSocket ? own(t, f, r) : before(t, r);
    };
  }
}
