/**
 * Sockets: socket, socketpair, bind, listen, accept, connect, send/recv in all forms,
 * shutdown, getsockname/getpeername, getsockopt/setsockopt. The endpoints live in the
 * sentry (fsimpl/socket): AF_UNIX, and AF_INET/AF_INET6 on loopback only; AF_NETLINK
 * sockets are served by sentry/net/netlink (see serveNetlinkCalls at the end).
 */
import { seenBy } from '../../../kernel/pid-namespace';
import { Errno, fail } from '../../../kernel/errors';
import { sendToTask } from '../../../kernel/signals';
import { SIGPIPE, SI_USER } from '../../../kernel/signal-types';
import type { Task } from '../../../kernel/task';
import type { Registers } from '../../../../platform';
import { Block } from '../../../kernel/waiter';
import { O_CLOEXEC, O_NONBLOCK, type FileDescription } from '../../../vfs/file';
import { S_IFMT, S_IFSOCK } from '../../../vfs/inode';
import { mknodAt, statAt } from '../../../vfs/ops';
import {
  AF_INET, AF_INET6, AF_UNIX, connectPair, credsOf, EDESTADDRREQ, ENETUNREACH, ENOPROTOOPT, EPROTOTYPE,
  ESOCKTNOSUPPORT, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_TRUNC, Socket, SOCK_DGRAM,
  SOCK_SEQPACKET, SOCK_STREAM, type Received,
} from '../../../fsimpl/socket/socket';
import { encodeInet, isAny, isLocal, mapped4, netOf } from '../../../fsimpl/socket/net';
import { define } from '../registry';
import { newNetlinkSocket, serveNetlinkCalls } from '../../../net/netlink/syscalls';
import { AF_NETLINK } from '../../../net/netlink/wire';
import { AT_FDCWD, dirLocation, fdArg, file, num, readIovecs, u32 } from './util';

const SOCK_TYPE_MASK = 0xf;
const SOL_SOCKET = 1, IPPROTO_TCP = 6, IPPROTO_IPV6 = 41, IPPROTO_IP = 0;
const SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;

function sock(t: Task, fd: number): Socket {
  const f = file(t, fd);
  if (!(f instanceof Socket)) fail(Errno.ENOTSOCK);
  return f;
}

function newSocket(family: number, typeArg: number, protocol: number): Socket {
  const type = typeArg & SOCK_TYPE_MASK;
  if (typeArg & ~(SOCK_TYPE_MASK | O_NONBLOCK | O_CLOEXEC)) fail(Errno.EINVAL);
  const flags = typeArg & O_NONBLOCK;
  if (family === AF_UNIX) {
    if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET && type !== 3) fail(ESOCKTNOSUPPORT);
    if (type === 3) return fail(ESOCKTNOSUPPORT);
    if (protocol !== 0 && protocol !== AF_UNIX) fail(Errno.EPROTONOSUPPORT);
    return new Socket(family, type, 0, flags);
  }
  if (family === AF_INET || family === AF_INET6) {
    if (type === SOCK_STREAM) {
      if (protocol !== 0 && protocol !== 6) fail(Errno.EPROTONOSUPPORT);
      return new Socket(family, type, 6, flags);
    }
    if (type === SOCK_DGRAM) {
      if (protocol !== 0 && protocol !== 17) fail(Errno.EPROTONOSUPPORT);
      return new Socket(family, type, 17, flags);
    }
    if (type === 3 /* SOCK_RAW */) return fail(Errno.EPERM);
    return fail(ESOCKTNOSUPPORT);
  }
  return fail(Errno.EAFNOSUPPORT);
}

define(41, (t, r) => {
  const typeArg = r.argInt(1);
  // AF_NETLINK (sentry/net/netlink) until the socket provider interface takes the families.
  if (r.argInt(0) === AF_NETLINK) return t.fds.add(newNetlinkSocket(typeArg, r.argInt(2)), (typeArg & O_CLOEXEC) !== 0);
  const s = newSocket(r.argInt(0), typeArg, r.argInt(2));
  return t.fds.add(s, (typeArg & O_CLOEXEC) !== 0);
}, 'partial', 'AF_UNIX, AF_INET/AF_INET6 on loopback only, AF_NETLINK NETLINK_ROUTE read-only');

define(53, (t, r) => {
  const family = r.argInt(0), typeArg = r.argInt(1);
  if (family !== AF_UNIX) {
    if (family === AF_INET || family === AF_INET6 || family === AF_NETLINK) fail(Errno.EOPNOTSUPP);
    fail(Errno.EAFNOSUPPORT);
  }
  const a = newSocket(family, typeArg, r.argInt(2)), b = newSocket(family, typeArg, r.argInt(2));
  if (a.connectionOriented) connectPair(a, b, credsOf(t), credsOf(t));
  else { a.peer = b; b.peer = a; }
  const cloexec = (typeArg & O_CLOEXEC) !== 0;
  const fa = t.fds.add(a, cloexec);
  let fb: number;
  try { fb = t.fds.add(b, cloexec); } catch (e) { t.fds.remove(fa); throw e; }
  const out = Buffer.alloc(8);
  out.writeInt32LE(fa, 0);
  out.writeInt32LE(fb, 4);
  try { t.mm.write(r.arg(3), out); } catch (e) { t.fds.remove(fa); t.fds.remove(fb); throw e; }
  return 0;
}, 'full');

/** Addr is a decoded socket address. */
type Addr =
  | { kind: 'path'; path: string; raw: Buffer }
  | { kind: 'abstract'; name: string; raw: Buffer }
  | { kind: 'unnamed' }
  | { kind: 'inet'; family: number; ip: Buffer; port: number };

function readAddr(t: Task, s: Socket, addr: bigint, len: number): Addr {
  if (len < 0 || len > 128) fail(Errno.EINVAL);
  if (len < 2) fail(Errno.EINVAL);
  const b = t.mm.read(addr, len);
  const family = b.readUInt16LE(0);
  if (s.family === AF_UNIX) {
    if (family !== AF_UNIX) fail(Errno.EINVAL);
    if (len === 2) return { kind: 'unnamed' };
    if (b[2] === 0) return { kind: 'abstract', name: b.subarray(3, len).toString('latin1'), raw: Buffer.from(b.subarray(0, len)) };
    let end = b.indexOf(0, 2);
    if (end < 0) end = len;
    const path = b.subarray(2, end).toString('latin1');
    const raw = Buffer.alloc(2 + path.length + 1);
    raw.writeUInt16LE(AF_UNIX, 0);
    raw.write(path, 2, 'latin1');
    return { kind: 'path', path, raw };
  }
  if (family === AF_INET) {
    if (len < 16) fail(Errno.EINVAL);
    if (s.family === AF_INET6) fail(Errno.EAFNOSUPPORT);
    return { kind: 'inet', family, ip: mapped4(Buffer.from(b.subarray(4, 8))), port: b.readUInt16BE(2) };
  }
  if (family === AF_INET6) {
    if (s.family !== AF_INET6) fail(Errno.EAFNOSUPPORT);
    if (len < 24) fail(Errno.EINVAL);
    return { kind: 'inet', family, ip: Buffer.from(b.subarray(8, 24)), port: b.readUInt16BE(2) };
  }
  return fail(Errno.EAFNOSUPPORT);
}

function unixKey(t: Task, path: string, follow: boolean): string {
  const st = statAt(t, dirLocation(t, AT_FDCWD, path), path, follow);
  if ((st.mode & S_IFMT) !== S_IFSOCK) fail(Errno.ECONNREFUSED);
  return `${st.dev}:${st.ino}`;
}

function autobindUnix(t: Task, s: Socket): void {
  const net = netOf(t.kernel);
  for (let i = 0; i < 0x100000; i++) {
    const name = ((Math.random() * 0x100000) >>> 0).toString(16).padStart(5, '0');
    if (net.abstract.has(name)) continue;
    net.bindName(net.abstract, name, s);
    const raw = Buffer.alloc(3 + 5);
    raw.writeUInt16LE(AF_UNIX, 0);
    raw.write(name, 3, 'latin1');
    s.local = raw;
    return;
  }
  fail(Errno.EADDRINUSE);
}

const LOOP4 = mapped4(Buffer.from([127, 0, 0, 1]));
const LOOP6 = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

function bindInet(t: Task, s: Socket, ip: Buffer, port: number): void {
  netOf(t.kernel).bindInet(s, ip, port);
  const p = s.inet!.port;
  s.local = encodeInet(s.family, ip, p);
  s.srcAddr = isAny(ip) ? encodeInet(s.family, s.family === AF_INET ? LOOP4 : LOOP6, p) : null;
}

function doBind(t: Task, s: Socket, a: Addr): void {
  if (s.local) fail(Errno.EINVAL);
  const net = netOf(t.kernel);
  switch (a.kind) {
    case 'unnamed': autobindUnix(t, s); return;
    case 'abstract': net.bindName(net.abstract, a.name, s); s.local = a.raw; return;
    case 'path': {
      if (a.path === '') fail(Errno.ENOENT);
      try {
        mknodAt(t, dirLocation(t, AT_FDCWD, a.path), a.path, S_IFSOCK | 0o777, 0);
      } catch (e) {
        if ((e as { errno?: number }).errno === Errno.EEXIST) fail(Errno.EADDRINUSE);
        throw e;
      }
      net.bindName(net.paths, unixKey(t, a.path, false), s);
      s.local = a.raw;
      return;
    }
    case 'inet': bindInet(t, s, a.ip, a.port); return;
  }
}

define(49, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  doBind(t, s, readAddr(t, s, r.arg(1), r.argInt(2)));
  return 0;
}, 'full');

define(50, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  if (!s.connectionOriented) fail(Errno.EOPNOTSUPP);
  if (s.state === 'connected') fail(Errno.EINVAL);
  if (!s.local) {
    if (s.family === AF_UNIX) fail(Errno.EINVAL);
    bindInet(t, s, s.family === AF_INET ? mapped4(Buffer.alloc(4)) : Buffer.alloc(16), 0);
  }
  let backlog = r.argInt(1);
  if (backlog < 0 || backlog > 4096) backlog = 4096;
  s.backlogMax = backlog;
  s.state = 'listening';
  s.peerCreds = credsOf(t);
  s.queue.notify();
  return 0;
}, 'full');

/** findTarget returns the socket an address names (for connect and sendto). */
function findTarget(t: Task, s: Socket, a: Addr): Socket | null {
  const net = netOf(t.kernel);
  switch (a.kind) {
    case 'unnamed': return fail(Errno.EINVAL);
    case 'abstract': return net.abstract.get(a.name) ?? fail(Errno.ECONNREFUSED);
    case 'path': return net.paths.get(unixKey(t, a.path, true)) ?? fail(Errno.ECONNREFUSED);
    case 'inet': {
      let ip = a.ip;
      if (isAny(ip)) ip = a.family === AF_INET || ip[10] === 0xff ? LOOP4 : LOOP6;
      if (!isLocal(ip)) fail(ENETUNREACH);
      if (!s.inet) bindInet(t, s, s.family === AF_INET ? mapped4(Buffer.alloc(4)) : Buffer.alloc(16), 0);
      return netOf(t.kernel).findInet(s.type, ip, a.port, s.stream);
    }
  }
}

function destIp(a: Addr & { kind: 'inet' }): Buffer {
  return isAny(a.ip) ? (a.family === AF_INET || a.ip[10] === 0xff ? LOOP4 : LOOP6) : a.ip;
}

define(42, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  const a = readAddr(t, s, r.arg(1), r.argInt(2));
  if (!s.connectionOriented) {
    const target = findTarget(t, s, a);
    if (a.kind === 'inet') {
      s.remote = encodeInet(s.family, destIp(a), a.port);
      s.peer = target; // UDP: may be null (nobody bound yet): sends are dropped.
      s.udpDest = { ip: destIp(a), port: a.port };
    } else {
      if (!target) fail(Errno.ECONNREFUSED);
      if (target.type !== s.type) fail(EPROTOTYPE);
      s.peer = target;
      s.remote = target.local;
    }
    return 0;
  }
  if (s.state === 'connected') fail(Errno.EISCONN);
  if (s.state === 'listening') fail(Errno.EINVAL);
  const target = findTarget(t, s, a);
  if (!target || target.closed) fail(Errno.ECONNREFUSED);
  if (target.type !== s.type) fail(a.kind === 'inet' ? Errno.ECONNREFUSED : EPROTOTYPE);
  if (target.state !== 'listening') fail(Errno.ECONNREFUSED);
  if (target.backlog.length > target.backlogMax) {
    if (s.nonblocking) fail(a.kind === 'inet' ? Errno.EINPROGRESS : Errno.EAGAIN);
    return new Block([target.queue]);
  }
  const srv = new Socket(target.family, target.type, target.protocol, 0);
  if (a.kind === 'inet') {
    const ip = destIp(a);
    srv.inet = { ip, port: a.port, v6only: false };
    srv.local = encodeInet(target.family, ip, a.port);
    const cip = isAny(s.inet!.ip) ? (ip[10] === 0xff ? LOOP4 : LOOP6) : s.inet!.ip;
    srv.remote = encodeInet(target.family, cip, s.inet!.port);
    s.remote = encodeInet(s.family, ip, a.port);
    if (isAny(s.inet!.ip)) s.local = encodeInet(s.family, cip, s.inet!.port);
  } else {
    srv.local = target.local;
    s.remote = target.local;
    srv.remote = s.local;
  }
  srv.passcred = target.passcred;
  connectPair(s, srv, credsOf(t), target.peerCreds ?? credsOf(t));
  target.backlog.push(srv);
  target.queue.notify();
  if (a.kind === 'inet' && s.nonblocking) fail(Errno.EINPROGRESS);
  return 0;
}, 'full');

function accept(t: Task, fd: number, addr: bigint, lenAddr: bigint, flags: number): number | Block {
  if (flags & ~(O_NONBLOCK | O_CLOEXEC)) fail(Errno.EINVAL);
  const s = sock(t, fd);
  if (!s.connectionOriented) fail(Errno.EOPNOTSUPP);
  if (s.state !== 'listening') fail(Errno.EINVAL);
  if (s.backlog.length === 0) return s.nonblocking ? -Errno.EAGAIN : s.timed(t, new Block([s.queue]), 20);
  const c = s.backlog.shift()!;
  s.queue.notify();
  c.flags |= flags & O_NONBLOCK;
  if (addr !== 0n) writeAddr(t, addr, lenAddr, c.remote ?? unnamed());
  return t.fds.add(c, (flags & O_CLOEXEC) !== 0);
}
define(43, (t, r) => accept(t, fdArg(r, 0), r.arg(1), r.arg(2), 0), 'full');
define(288, (t, r) => accept(t, fdArg(r, 0), r.arg(1), r.arg(2), r.argInt(3)), 'full');

function unnamed(): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(AF_UNIX, 0);
  return b;
}

/** writeAddr copies a sockaddr out, truncated to the caller's length, and stores the full length. */
export function writeAddr(t: Task, addr: bigint, lenAddr: bigint, a: Buffer): void {
  const len = t.mm.read(lenAddr, 4).readInt32LE(0);
  if (len < 0) fail(Errno.EINVAL);
  if (len > 0 && a.length > 0) t.mm.write(addr, a.subarray(0, Math.min(len, a.length)));
  const b = Buffer.alloc(4);
  b.writeUInt32LE(a.length);
  t.mm.write(lenAddr, b);
}

function localAddr(s: Socket): Buffer {
  if (s.local) return s.local;
  if (s.family === AF_UNIX) return unnamed();
  return encodeInet(s.family, s.family === AF_INET ? mapped4(Buffer.alloc(4)) : Buffer.alloc(16), 0);
}

define(51, (t, r) => { const s = sock(t, fdArg(r, 0)); writeAddr(t, r.arg(1), r.arg(2), localAddr(s)); return 0; }, 'full');
define(52, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  if (s.connectionOriented ? s.state !== 'connected' : !s.remote && !s.peer) fail(Errno.ENOTCONN);
  writeAddr(t, r.arg(1), r.arg(2), s.remote ?? unnamed());
  return 0;
}, 'full');

define(48, (t, r) => { sock(t, fdArg(r, 0)).shutdown(r.argInt(1)); return 0; }, 'full');

// ---- sending and receiving ----

/** Msg is a decoded struct msghdr. */
export interface Msg {
  name: bigint; namelen: number; iovs: Array<{ base: bigint; len: number }>; control: bigint; controllen: number;
}

/** readMsghdr reads a struct msghdr and its iovecs. */
export function readMsghdr(t: Task, addr: bigint): Msg {
  const b = t.mm.read(addr, 56);
  const iovlen = Number(b.readBigUInt64LE(24));
  if (iovlen > 1024) fail(Errno.EMSGSIZE);
  return {
    name: b.readBigUInt64LE(0), namelen: b.readUInt32LE(8), iovs: readIovecs(t, b.readBigUInt64LE(16), iovlen),
    control: b.readBigUInt64LE(32), controllen: Number(b.readBigUInt64LE(40)),
  };
}

/** gather copies in the bytes an iovec array names (at most 4 MiB each). */
export function gather(t: Task, iovs: Msg['iovs']): Buffer {
  return Buffer.concat(iovs.filter((v) => v.len > 0).map((v) => t.mm.read(v.base, Math.min(v.len, 4 << 20))));
}

function parseControl(t: Task, m: Msg): FileDescription[] | null {
  if (m.control === 0n || m.controllen === 0) return null;
  const c = t.mm.read(m.control, m.controllen);
  let off = 0;
  let rights: FileDescription[] | null = null;
  while (off + 16 <= c.length) {
    const len = Number(c.readBigUInt64LE(off));
    if (len < 16 || off + len > c.length) fail(Errno.EINVAL);
    const level = c.readInt32LE(off + 8), type = c.readInt32LE(off + 12);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      const n = (len - 16) >> 2;
      if (n > 253) fail(Errno.EINVAL);
      rights = rights ?? [];
      for (let i = 0; i < n; i++) rights.push(t.fds.get(c.readInt32LE(off + 16 + 4 * i)));
    } else if (level === SOL_SOCKET && type === SCM_CREDENTIALS) {
      if (len < 28) fail(Errno.EINVAL);
      const pid = c.readInt32LE(off + 16), uid = c.readUInt32LE(off + 20), gid = c.readUInt32LE(off + 24);
      if ((pid !== seenBy(t, t.pid) || uid !== t.creds.euid || gid !== t.creds.egid) && t.creds.euid !== 0) fail(Errno.EPERM);
    } else fail(Errno.EINVAL);
    off += (len + 7) & ~7;
  }
  return rights;
}

function doSend(t: Task, s: Socket, data: Buffer, rights: FileDescription[] | null, a: Addr | null, flags: number): number | Block {
  let to: Socket | null = null;
  let from = s.srcAddr ?? s.local;
  if (a && !s.connectionOriented) {
    if (s.family === AF_UNIX && s.peer && !s.peer.closed) fail(Errno.EISCONN);
    to = findTarget(t, s, a);
    if (s.family !== AF_UNIX) {
      from = s.srcAddr ?? s.local;
      if (!to) return data.length; // UDP to a port nobody bound: dropped.
      if (to.family !== s.family) from = encodeInet(to.family, isAny(s.inet!.ip) ? LOOP4 : s.inet!.ip, s.inet!.port);
    } else {
      if (!to) fail(Errno.ECONNREFUSED);
      if (to.type !== s.type) fail(EPROTOTYPE);
    }
  } else if (a && s.connectionOriented && s.state !== 'connected') {
    fail(s.family === AF_UNIX ? Errno.EOPNOTSUPP : Errno.EPIPE);
  } else if (!s.connectionOriented && s.family !== AF_UNIX && !s.peer) {
    if (!s.udpDest) fail(EDESTADDRREQ);
    const target = netOf(t.kernel).findInet(s.type, s.udpDest.ip, s.udpDest.port, false);
    if (!target) return data.length;
    to = target;
  }
  if (rights) for (const f of rights) f.ref();
  const res = s.timed(t, s.send(t, data, rights, to, from), 21);
  const nb = s.nonblocking || (flags & MSG_DONTWAIT) !== 0;
  if (typeof res !== 'number' || res <= 0 || res < data.length && !s.stream) {
    if (rights) for (const f of rights) f.unref();
  }
  if (res instanceof Block && nb) return -Errno.EAGAIN;
  if (res === -Errno.EPIPE && !(flags & MSG_NOSIGNAL)) sendToTask(t, { signo: SIGPIPE, code: SI_USER, pid: t.pid, uid: t.creds.uid });
  return res;
}

define(44, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  const data = t.mm.read(r.arg(1), Math.min(num(r, 2), 4 << 20));
  const a = r.arg(4) !== 0n ? readAddr(t, s, r.arg(4), r.argInt(5)) : null;
  return doSend(t, s, data, null, a, r.argInt(3));
}, 'full');

function sendmsg(t: Task, s: Socket, addr: bigint, flags: number): number | Block {
  const m = readMsghdr(t, addr);
  const a = m.name !== 0n && m.namelen > 0 ? readAddr(t, s, m.name, m.namelen) : null;
  const rights = parseControl(t, m);
  return doSend(t, s, gather(t, m.iovs), rights, a, flags);
}
define(46, (t, r) => sendmsg(t, sock(t, fdArg(r, 0)), r.arg(1), r.argInt(2)), 'full');

/**
 * eachMmsg runs `one` on each struct mmsghdr of sendmmsg/recvmmsg (a 56-byte msghdr and
 * its msg_len, 64 bytes each) and stores the byte counts. It stops at the first message
 * that fails or would block: the messages done so far are the result, and only when there
 * are none does the error (or the Block) stand.
 */
export function eachMmsg<S>(t: Task, r: Registers, s: S, one: (s: S, at: bigint, done: number) => number | Block): number | Block {
  const vlen = Math.min(u32(r, 2), 1024);
  let done = 0;
  for (let i = 0; i < vlen; i++) {
    const at = r.arg(1) + BigInt(i * 64);
    let n: number | Block;
    try { n = one(s, at, done); } catch (e) { if (done) return done; throw e; }
    if (n instanceof Block || n < 0) return done ? done : n;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    t.mm.write(at + 56n, b);
    done++;
  }
  return done;
}
define(307, (t, r) => eachMmsg(t, r, sock(t, fdArg(r, 0)), (s, at) => sendmsg(t, s, at, r.argInt(3))), 'full');

function doRecv(t: Task, s: Socket, len: number, flags: number): Received | number | Block {
  const res = s.timed(t, s.recv(len, flags), 20);
  if (res instanceof Block && (s.nonblocking || (flags & MSG_DONTWAIT))) return -Errno.EAGAIN;
  return res;
}

/** scatter copies `data` out across an iovec array. */
export function scatter(t: Task, iovs: Msg['iovs'], data: Buffer): void {
  let off = 0;
  for (const v of iovs) {
    if (off >= data.length) break;
    const n = Math.min(v.len, data.length - off);
    t.mm.write(v.base, data.subarray(off, off + n));
    off += n;
  }
}

define(45, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  const flags = r.argInt(3);
  const res = doRecv(t, s, Math.min(num(r, 2), 4 << 20), flags);
  if (typeof res === 'number' || res instanceof Block) return res;
  if (res.rights) for (const f of res.rights) f.unref();
  if (res.data.length) t.mm.write(r.arg(1), res.data);
  if (r.arg(4) !== 0n && r.arg(5) !== 0n) writeAddr(t, r.arg(4), r.arg(5), res.from ?? Buffer.alloc(0));
  return flags & MSG_TRUNC && !s.stream ? res.full : res.data.length;
}, 'full');

function recvmsg(t: Task, s: Socket, addr: bigint, flags: number): number | Block {
  const m = readMsghdr(t, addr);
  const want = Math.min(m.iovs.reduce((n, v) => n + v.len, 0), 4 << 20);
  const res = doRecv(t, s, want, flags);
  if (typeof res === 'number' || res instanceof Block) return res;
  scatter(t, m.iovs, res.data);
  let outFlags = 0;
  if (!s.stream && res.full > res.data.length) outFlags |= MSG_TRUNC;
  // Control messages: credentials (SO_PASSCRED) first, then passed descriptors.
  const parts: Buffer[] = [];
  if (s.passcred && res.creds && s.family === AF_UNIX) {
    const c = Buffer.alloc(32);
    c.writeBigUInt64LE(28n, 0);
    c.writeInt32LE(SOL_SOCKET, 8);
    c.writeInt32LE(SCM_CREDENTIALS, 12);
    c.writeInt32LE(seenBy(t, res.creds.pid), 16);
    c.writeUInt32LE(res.creds.uid, 20);
    c.writeUInt32LE(res.creds.gid, 24);
    parts.push(c);
  }
  let used = parts.reduce((n, p) => n + p.length, 0);
  if (used > m.controllen) { parts.length = 0; used = 0; outFlags |= MSG_CTRUNC; }
  if (res.rights && res.rights.length) {
    const room = m.control === 0n ? 0 : Math.floor((m.controllen - used - 16) / 4);
    const fit = Math.max(0, Math.min(room, res.rights.length));
    // As Linux's scm_detach_fds: install until one fails (EMFILE), then drop the rest.
    const installed: number[] = [];
    for (let i = 0; i < fit; i++) {
      const f = res.rights[i];
      try {
        installed.push(t.fds.add(f.ref(), (flags & MSG_CMSG_CLOEXEC) !== 0));
      } catch {
        break;
      }
    }
    const n = installed.length;
    if (n < res.rights.length) outFlags |= MSG_CTRUNC;
    if (n > 0) {
      const c = Buffer.alloc(((16 + 4 * n) + 7) & ~7);
      c.writeBigUInt64LE(BigInt(16 + 4 * n), 0);
      c.writeInt32LE(SOL_SOCKET, 8);
      c.writeInt32LE(SCM_RIGHTS, 12);
      installed.forEach((fd, i) => c.writeInt32LE(fd, 16 + 4 * i));
      parts.push(used + c.length > m.controllen ? c.subarray(0, 16 + 4 * n) : c);
    }
    for (const f of res.rights) f.unref();
  }
  const control = Buffer.concat(parts);
  if (control.length) t.mm.write(m.control, control);
  const hdr = Buffer.alloc(8);
  hdr.writeBigUInt64LE(BigInt(control.length));
  t.mm.write(addr + 40n, hdr);
  const from = res.from ?? Buffer.alloc(0);
  if (m.name !== 0n) {
    if (from.length) t.mm.write(m.name, from.subarray(0, Math.min(m.namelen, from.length)));
    const nl = Buffer.alloc(4);
    nl.writeUInt32LE(from.length);
    t.mm.write(addr + 8n, nl);
  }
  const fl = Buffer.alloc(4);
  fl.writeInt32LE(outFlags);
  t.mm.write(addr + 48n, fl);
  return flags & MSG_TRUNC && !s.stream ? res.full : res.data.length;
}
define(47, (t, r) => recvmsg(t, sock(t, fdArg(r, 0)), r.arg(1), r.argInt(2)), 'full');
// After the first message, recvmmsg takes only what is already there.
define(299, (t, r) => eachMmsg(t, r, sock(t, fdArg(r, 0)), (s, at, done) => recvmsg(t, s, at, done ? r.argInt(3) | MSG_DONTWAIT : r.argInt(3))),
  'partial', 'timeout ignored');

// ---- options ----

const SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_LINGER = 13,
  SO_REUSEPORT = 15, SO_PASSCRED = 16, SO_PEERCRED = 17, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21, SO_ACCEPTCONN = 30,
  SO_PROTOCOL = 38, SO_DOMAIN = 39, SO_BROADCAST = 6, SO_OOBINLINE = 10, SO_PRIORITY = 12, SO_RCVLOWAT = 18;
const PLAIN_SOCKET_OPTS = new Set([SO_REUSEADDR, SO_KEEPALIVE, SO_REUSEPORT, SO_BROADCAST, SO_OOBINLINE, SO_PRIORITY]);
const TCP_OPTS = new Set([1 /* NODELAY */, 2 /* MAXSEG */, 3 /* CORK */, 4, 5, 6, 7, 9, 12, 18]);

function int(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

define(55, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  const level = r.argInt(1), name = r.argInt(2);
  let v: Buffer;
  if (level === SOL_SOCKET) {
    switch (name) {
      case SO_TYPE: v = int(s.type); break;
      case SO_ERROR: v = int(s.error); s.error = 0; break;
      case SO_SNDBUF: v = int(s.sndbuf); break;
      case SO_RCVBUF: v = int(s.rcvbuf); break;
      case SO_PASSCRED: v = int(s.passcred ? 1 : 0); break;
      case SO_ACCEPTCONN: v = int(s.state === 'listening' ? 1 : 0); break;
      case SO_PROTOCOL: v = int(s.protocol); break;
      case SO_DOMAIN: v = int(s.family); break;
      case SO_RCVLOWAT: v = int(1); break;
      case SO_PEERCRED: {
        v = Buffer.alloc(12);
        const c = s.peerCreds;
        if (s.family !== AF_UNIX || !c) { v.writeInt32LE(0, 0); v.writeInt32LE(-1, 4); v.writeInt32LE(-1, 8); }
        else { v.writeInt32LE(seenBy(t, c.pid), 0); v.writeUInt32LE(c.uid, 4); v.writeUInt32LE(c.gid, 8); }
        break;
      }
      case SO_LINGER: v = s.opts.get(`${level}:${name}`) ?? Buffer.alloc(8); break;
      case SO_RCVTIMEO: case SO_SNDTIMEO: v = s.opts.get(`${level}:${name}`) ?? Buffer.alloc(16); break;
      default:
        if (!PLAIN_SOCKET_OPTS.has(name)) fail(ENOPROTOOPT);
        v = s.opts.get(`${level}:${name}`) ?? int(0);
    }
  } else if (level === IPPROTO_TCP && s.family !== AF_UNIX && s.stream) {
    if (!TCP_OPTS.has(name)) fail(ENOPROTOOPT);
    v = s.opts.get(`${level}:${name}`) ?? int(name === 2 ? 65483 : 0);
  } else if (level === IPPROTO_IPV6 && s.family === AF_INET6) {
    v = s.opts.get(`${level}:${name}`) ?? (name === 26 ? int(0) : fail(ENOPROTOOPT));
  } else if (level === IPPROTO_IP && s.family === AF_INET) {
    v = s.opts.get(`${level}:${name}`) ?? fail(ENOPROTOOPT);
  } else return fail(s.family === AF_UNIX ? Errno.EOPNOTSUPP : ENOPROTOOPT);
  const len = t.mm.read(r.arg(4), 4).readInt32LE(0);
  if (len < 0) fail(Errno.EINVAL);
  const n = Math.min(len, v.length);
  t.mm.write(r.arg(3), v.subarray(0, n));
  t.mm.write(r.arg(4), int(n));
  return 0;
}, 'partial', 'socket, TCP and IP options read back what was set; few change how the in-sentry sockets behave');

define(54, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  const level = r.argInt(1), name = r.argInt(2), len = r.argInt(4);
  if (len < 0) fail(Errno.EINVAL);
  const raw = len ? t.mm.read(r.arg(3), Math.min(len, 64)) : Buffer.alloc(0);
  const intVal = () => { if (raw.length < 4) fail(Errno.EINVAL); return raw.readInt32LE(0); };
  if (level === SOL_SOCKET) {
    switch (name) {
      case SO_SNDBUF: s.sndbuf = Math.max(4608, Math.min(2 * Math.max(intVal(), 0), 2 * DEFAULT)); return 0;
      case SO_RCVBUF: s.rcvbuf = Math.max(2304, Math.min(2 * Math.max(intVal(), 0), 2 * DEFAULT)); return 0;
      case SO_PASSCRED: s.passcred = intVal() !== 0; return 0;
      case SO_LINGER: if (raw.length < 8) fail(Errno.EINVAL); s.opts.set(`${level}:${name}`, Buffer.from(raw.subarray(0, 8))); return 0;
      case SO_RCVTIMEO: case SO_SNDTIMEO:
        if (raw.length < 16) fail(Errno.EINVAL);
        s.opts.set(`${level}:${name}`, Buffer.from(raw.subarray(0, 16)));
        return 0;
      default:
        if (!PLAIN_SOCKET_OPTS.has(name)) fail(ENOPROTOOPT);
        s.opts.set(`${level}:${name}`, int(intVal() !== 0 || name === SO_PRIORITY ? (name === SO_PRIORITY ? intVal() : 1) : 0));
        return 0;
    }
  }
  if (level === IPPROTO_TCP && s.family !== AF_UNIX && s.stream) {
    if (!TCP_OPTS.has(name)) fail(ENOPROTOOPT);
    s.opts.set(`${level}:${name}`, int(name === 1 ? (intVal() ? 1 : 0) : intVal()));
    return 0;
  }
  if (level === IPPROTO_IPV6 && s.family === AF_INET6) {
    if (name === 26 && s.inet) fail(Errno.EINVAL);
    s.opts.set(`${level}:${name}`, int(name === 26 ? (intVal() ? 1 : 0) : intVal()));
    return 0;
  }
  if (level === IPPROTO_IP && s.family === AF_INET) {
    s.opts.set(`${level}:${name}`, int(intVal()));
    return 0;
  }
  return fail(s.family === AF_UNIX ? Errno.EOPNOTSUPP : ENOPROTOOPT);
}, 'partial', 'socket, TCP and IP options are stored to be read back; few change how the in-sentry sockets behave');

const DEFAULT = 212992;

// The calls on an AF_NETLINK socket are served by sentry/net/netlink (until the socket
// provider interface takes them).
serveNetlinkCalls();
