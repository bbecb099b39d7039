/**
 * Sockets: socket, socketpair, bind, listen, accept, connect, send/recv in all forms,
 * shutdown, getsockname/getpeername, getsockopt/setsockopt. These handlers copy arguments
 * in and results out; the socket's provider (net/provider.ts: in-sentry AF_UNIX and
 * loopback, host sockets, netlink) does the work. Non-blocking calls, MSG_DONTWAIT,
 * SO_RCVTIMEO/SO_SNDTIMEO and SIGPIPE are applied here, the same for every provider.
 */
import { Errno, fail } from '../../../kernel/errors';
import { sendToTask } from '../../../kernel/signals';
import { SIGPIPE, SI_USER } from '../../../kernel/signal-types';
import type { Task } from '../../../kernel/task';
import type { Registers } from '../../../../platform';
import { Block } from '../../../kernel/waiter';
import { O_CLOEXEC, O_NONBLOCK } from '../../../vfs/file';
import { createSocket, MSG_DONTWAIT, MSG_NOSIGNAL, SocketFile, withTimeout, type RecvResult } from '../../../net/provider';
import '../../../net/providers';
import { define } from '../registry';
import { fdArg, file, num, readIovecs, u32 } from './util';

const SOCK_TYPE_MASK = 0xf;

function sock(t: Task, fd: number): SocketFile {
  const f = file(t, fd);
  if (!(f instanceof SocketFile)) fail(Errno.ENOTSOCK);
  return f;
}

function newSocket(t: Task, family: number, typeArg: number, protocol: number): SocketFile {
  if (typeArg & ~(SOCK_TYPE_MASK | O_NONBLOCK | O_CLOEXEC)) fail(Errno.EINVAL);
  return createSocket(t, family, typeArg & SOCK_TYPE_MASK, protocol, typeArg & O_NONBLOCK);
}

define(41, (t, r) => {
  const typeArg = r.argInt(1);
  const s = newSocket(t, r.argInt(0), typeArg, r.argInt(2));
  return t.fds.add(s, (typeArg & O_CLOEXEC) !== 0);
}, 'partial', 'AF_UNIX; AF_INET/AF_INET6 stream, datagram and ICMP ping as host sockets (loopback only under --network none); AF_NETLINK NETLINK_ROUTE read-only; no raw or packet sockets');

define(53, (t, r) => {
  const family = r.argInt(0), typeArg = r.argInt(1);
  const a = newSocket(t, family, typeArg, r.argInt(2)), b = newSocket(t, family, typeArg, r.argInt(2));
  try {
    a.pair(t, b);
  } catch (e) {
    a.unref();
    b.unref();
    throw e;
  }
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

/** readSockaddr copies a sockaddr in: EINVAL for a length outside 0..128 (sockaddr_storage). */
function readSockaddr(t: Task, addr: bigint, len: number): Buffer {
  if (len < 0 || len > 128) fail(Errno.EINVAL);
  return t.mm.read(addr, len);
}

define(49, (t, r) => { const s = sock(t, fdArg(r, 0)); s.bind(t, readSockaddr(t, r.arg(1), r.argInt(2))); return 0; }, 'full');

define(50, (t, r) => { sock(t, fdArg(r, 0)).listen(t, r.argInt(1)); return 0; }, 'full');

define(42, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  return s.connect(t, readSockaddr(t, r.arg(1), r.argInt(2)));
}, 'full');

function accept(t: Task, fd: number, addr: bigint, lenAddr: bigint, flags: number): number | Block {
  if (flags & ~(O_NONBLOCK | O_CLOEXEC)) fail(Errno.EINVAL);
  const s = sock(t, fd);
  const res = s.accept(t, flags);
  if (res instanceof Block) return s.nonblocking ? -Errno.EAGAIN : withTimeout(t, res, s.timeoutMs('rcv'));
  if (typeof res === 'number') return res;
  const c = res.file;
  c.flags |= flags & O_NONBLOCK;
  c.uid = t.creds.euid;
  c.gid = t.creds.egid;
  try {
    if (addr !== 0n) writeAddr(t, addr, lenAddr, res.peer);
  } catch (e) {
    c.unref();
    throw e;
  }
  return t.fds.add(c, (flags & O_CLOEXEC) !== 0);
}
define(43, (t, r) => accept(t, fdArg(r, 0), r.arg(1), r.arg(2), 0), 'full');
define(288, (t, r) => accept(t, fdArg(r, 0), r.arg(1), r.arg(2), r.argInt(3)), 'full');

/** writeAddr copies a sockaddr out, truncated to the caller's length, and stores the full length. */
function writeAddr(t: Task, addr: bigint, lenAddr: bigint, a: Buffer): void {
  const len = t.mm.read(lenAddr, 4).readInt32LE(0);
  if (len < 0) fail(Errno.EINVAL);
  if (len > 0 && a.length > 0) t.mm.write(addr, a.subarray(0, Math.min(len, a.length)));
  const b = Buffer.alloc(4);
  b.writeUInt32LE(a.length);
  t.mm.write(lenAddr, b);
}

define(51, (t, r) => { const s = sock(t, fdArg(r, 0)); writeAddr(t, r.arg(1), r.arg(2), s.sockname(t)); return 0; }, 'full');
define(52, (t, r) => { const s = sock(t, fdArg(r, 0)); writeAddr(t, r.arg(1), r.arg(2), s.peername(t)); return 0; }, 'full');

define(48, (t, r) => { sock(t, fdArg(r, 0)).shutdown(t, r.argInt(1)); return 0; }, 'full');

// ---- sending and receiving ----

interface Msg {
  name: bigint; namelen: number; iovs: Array<{ base: bigint; len: number }>; control: bigint; controllen: number;
}

function readMsghdr(t: Task, addr: bigint): Msg {
  const b = t.mm.read(addr, 56);
  const iovlen = Number(b.readBigUInt64LE(24));
  if (iovlen > 1024) fail(Errno.EMSGSIZE);
  return {
    name: b.readBigUInt64LE(0), namelen: b.readUInt32LE(8), iovs: readIovecs(t, b.readBigUInt64LE(16), iovlen),
    control: b.readBigUInt64LE(32), controllen: Number(b.readBigUInt64LE(40)),
  };
}

function gather(t: Task, iovs: Msg['iovs']): Buffer {
  return Buffer.concat(iovs.filter((v) => v.len > 0).map((v) => t.mm.read(v.base, Math.min(v.len, 4 << 20))));
}

/** doSend runs one send with the flags every provider shares: EAGAIN, SO_SNDTIMEO, SIGPIPE. */
function doSend(t: Task, s: SocketFile, data: Buffer, addr: Buffer | null, control: Buffer | null, flags: number): number | Block {
  const res = s.send(t, { data, addr, control, flags });
  if (res instanceof Block && (s.nonblocking || (flags & MSG_DONTWAIT) !== 0)) return -Errno.EAGAIN;
  const out = withTimeout(t, res, s.timeoutMs('snd'));
  if (out === -Errno.EPIPE && !(flags & MSG_NOSIGNAL)) sendToTask(t, { signo: SIGPIPE, code: SI_USER, pid: t.pid, uid: t.creds.uid });
  return out;
}

define(44, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  const data = t.mm.read(r.arg(1), Math.min(num(r, 2), 4 << 20));
  const a = r.arg(4) !== 0n ? readSockaddr(t, r.arg(4), r.argInt(5)) : null;
  return doSend(t, s, data, a, null, r.argInt(3));
}, 'full');

function sendmsg(t: Task, s: SocketFile, addr: bigint, flags: number): number | Block {
  const m = readMsghdr(t, addr);
  const a = m.name !== 0n && m.namelen > 0 ? readSockaddr(t, m.name, m.namelen) : null;
  const control = m.control !== 0n && m.controllen > 0 ? t.mm.read(m.control, Math.min(m.controllen, 1 << 16)) : null;
  return doSend(t, s, gather(t, m.iovs), a, control, flags);
}
define(46, (t, r) => sendmsg(t, sock(t, fdArg(r, 0)), r.arg(1), r.argInt(2)), 'full');

/**
 * eachMmsg runs `one` on each struct mmsghdr of sendmmsg/recvmmsg (a 56-byte msghdr and
 * its msg_len, 64 bytes each) and stores the byte counts. It stops at the first message
 * that fails or would block: the messages done so far are the result, and only when there
 * are none does the error (or the Block) stand.
 */
function eachMmsg(t: Task, r: Registers, one: (s: SocketFile, at: bigint, done: number) => number | Block): number | Block {
  const s = sock(t, fdArg(r, 0));
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
define(307, (t, r) => eachMmsg(t, r, (s, at) => sendmsg(t, s, at, r.argInt(3))), 'full');

/** doRecv runs one receive with the shared flags: EAGAIN and SO_RCVTIMEO. */
function doRecv(t: Task, s: SocketFile, len: number, flags: number, controllen: number): RecvResult | number | Block {
  const res = s.recv(t, len, flags, controllen);
  if (res instanceof Block && (s.nonblocking || (flags & MSG_DONTWAIT))) return -Errno.EAGAIN;
  return withTimeout(t, res, s.timeoutMs('rcv'));
}

function scatter(t: Task, iovs: Msg['iovs'], data: Buffer): void {
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
  const res = doRecv(t, s, Math.min(num(r, 2), 4 << 20), r.argInt(3), 0);
  if (typeof res === 'number' || res instanceof Block) return res;
  if (res.data.length) t.mm.write(r.arg(1), res.data);
  if (r.arg(4) !== 0n && r.arg(5) !== 0n) writeAddr(t, r.arg(4), r.arg(5), res.from);
  return res.ret;
}, 'full');

function recvmsg(t: Task, s: SocketFile, addr: bigint, flags: number): number | Block {
  const m = readMsghdr(t, addr);
  const want = Math.min(m.iovs.reduce((n, v) => n + v.len, 0), 4 << 20);
  const res = doRecv(t, s, want, flags, m.control === 0n ? 0 : Math.min(m.controllen, 1 << 16));
  if (typeof res === 'number' || res instanceof Block) return res;
  scatter(t, m.iovs, res.data);
  if (res.control.length) t.mm.write(m.control, res.control);
  const hdr = Buffer.alloc(8);
  hdr.writeBigUInt64LE(BigInt(res.control.length));
  t.mm.write(addr + 40n, hdr);
  if (m.name !== 0n) {
    if (res.from.length) t.mm.write(m.name, res.from.subarray(0, Math.min(m.namelen, res.from.length)));
    const nl = Buffer.alloc(4);
    nl.writeUInt32LE(res.from.length);
    t.mm.write(addr + 8n, nl);
  }
  const fl = Buffer.alloc(4);
  fl.writeInt32LE(res.outFlags);
  t.mm.write(addr + 48n, fl);
  return res.ret;
}
define(47, (t, r) => recvmsg(t, sock(t, fdArg(r, 0)), r.arg(1), r.argInt(2)), 'full');
// After the first message, recvmmsg takes only what is already there.
define(299, (t, r) => eachMmsg(t, r, (s, at, done) => recvmsg(t, s, at, done ? r.argInt(3) | MSG_DONTWAIT : r.argInt(3))),
  'partial', 'timeout ignored');

// ---- options ----

define(55, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  const len = t.mm.read(r.arg(4), 4).readInt32LE(0);
  if (len < 0) fail(Errno.EINVAL);
  const v = s.getsockopt(t, r.argInt(1), r.argInt(2), len);
  const n = Math.min(len, v.length);
  t.mm.write(r.arg(3), v.subarray(0, n));
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  t.mm.write(r.arg(4), b);
  return 0;
}, 'partial', 'each provider answers its allowlist of options; the in-sentry sockets store most to be read back');

define(54, (t, r) => {
  const s = sock(t, fdArg(r, 0));
  const len = r.argInt(4);
  if (len < 0) fail(Errno.EINVAL);
  const raw = len ? t.mm.read(r.arg(3), Math.min(len, 64)) : Buffer.alloc(0);
  s.setsockopt(t, r.argInt(1), r.argInt(2), raw);
  return 0;
}, 'partial', 'each provider answers its allowlist of options; the in-sentry sockets store most to be read back');
