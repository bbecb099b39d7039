/**
 * The in-sentry socket provider: AF_UNIX (stream, datagram, seqpacket) and, when the
 * sandbox has no network (`--network none`), loopback-only AF_INET/AF_INET6. LocalSocket
 * is the control plane (bind, connect, listen, accept, options, names) over Socket's
 * queues (./socket.ts); names live in the sandbox's Net (./net.ts).
 */
import { seenBy } from '../../kernel/pid-namespace';
import { CAP_SETUID } from '../../kernel/capabilities';
import { fromKernelId, toKernelId } from '../../kernel/user-namespace';
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import type { Accepted, RecvResult, SendArgs, SocketFile } from '../../net/provider';
import type { FileDescription } from '../../vfs/file';
import { S_IFMT, S_IFSOCK } from '../../vfs/inode';
import { mknodAt, statAt } from '../../vfs/ops';
import type { Location } from '../../vfs/mount';
import { encodeInet, isAny, isLocal, mapped4, netOf } from './net';
import {
  AF_INET, AF_INET6, AF_UNIX, connectPair, credsOf, DEFAULT_BUF, EDESTADDRREQ, ENETUNREACH, ENOPROTOOPT, EPROTOTYPE,
  ESOCKTNOSUPPORT, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_TRUNC, Socket, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM,
} from './socket';

/** SOL_SOCKET and the IP levels of getsockopt/setsockopt. */
export const SOL_SOCKET = 1, IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_IPV6 = 41;
const SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;

/** Addr is a decoded socket address. */
type Addr =
  | { kind: 'path'; path: string; raw: Buffer }
  | { kind: 'abstract'; name: string; raw: Buffer }
  | { kind: 'unnamed' }
  | { kind: 'inet'; family: number; ip: Buffer; port: number };

const LOOP4 = mapped4(Buffer.from([127, 0, 0, 1]));
const LOOP6 = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

/** unixFactory is the AF_UNIX provider. */
export function unixFactory(_t: Task, type: number, protocol: number, flags: number): SocketFile {
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET) fail(ESOCKTNOSUPPORT);
  if (protocol !== 0 && protocol !== AF_UNIX) fail(Errno.EPROTONOSUPPORT);
  return new LocalSocket(AF_UNIX, type, 0, flags);
}

/** loopbackFactory returns the in-sentry loopback provider of one inet family. */
export function loopbackFactory(family: number) {
  return (_t: Task, type: number, protocol: number, flags: number): SocketFile => {
    if (type === SOCK_STREAM) {
      if (protocol !== 0 && protocol !== 6) fail(Errno.EPROTONOSUPPORT);
      return new LocalSocket(family, type, 6, flags);
    }
    if (type === SOCK_DGRAM) {
      if (protocol !== 0 && protocol !== 17) fail(Errno.EPROTONOSUPPORT);
      return new LocalSocket(family, type, 17, flags);
    }
    if (type === 3 /* SOCK_RAW */) return fail(Errno.EPERM);
    return fail(ESOCKTNOSUPPORT);
  };
}

function cwdOrRoot(t: Task, path: string): Location {
  return path.startsWith('/') ? t.root : t.cwd;
}

function unixKey(t: Task, path: string, follow: boolean): string {
  const st = statAt(t, cwdOrRoot(t, path), path, follow);
  if ((st.mode & S_IFMT) !== S_IFSOCK) fail(Errno.ECONNREFUSED);
  return `${st.dev}:${st.ino}`;
}

function unnamed(): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(AF_UNIX, 0);
  return b;
}

function int(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

const SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_LINGER = 13,
  SO_REUSEPORT = 15, SO_PASSCRED = 16, SO_PEERCRED = 17, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21, SO_ACCEPTCONN = 30,
  SO_PROTOCOL = 38, SO_DOMAIN = 39, SO_BROADCAST = 6, SO_OOBINLINE = 10, SO_PRIORITY = 12, SO_RCVLOWAT = 18;
const PLAIN_SOCKET_OPTS = new Set([SO_REUSEADDR, SO_KEEPALIVE, SO_REUSEPORT, SO_BROADCAST, SO_OOBINLINE, SO_PRIORITY]);
const TCP_OPTS = new Set([1 /* NODELAY */, 2 /* MAXSEG */, 3 /* CORK */, 4, 5, 6, 7, 9, 12, 18]);

/** LocalSocket is a socket of the in-sentry provider. */
export class LocalSocket extends Socket {
  private decode(b: Buffer): Addr {
    const len = b.length;
    if (len < 2) fail(Errno.EINVAL);
    const family = b.readUInt16LE(0);
    if (this.family === AF_UNIX) {
      if (family !== AF_UNIX) fail(Errno.EINVAL);
      if (len === 2) return { kind: 'unnamed' };
      if (b[2] === 0) return { kind: 'abstract', name: b.subarray(3, len).toString('latin1'), raw: Buffer.from(b) };
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
      if (this.family === AF_INET6) fail(Errno.EAFNOSUPPORT);
      return { kind: 'inet', family, ip: mapped4(Buffer.from(b.subarray(4, 8))), port: b.readUInt16BE(2) };
    }
    if (family === AF_INET6) {
      if (this.family !== AF_INET6) fail(Errno.EAFNOSUPPORT);
      if (len < 24) fail(Errno.EINVAL);
      return { kind: 'inet', family, ip: Buffer.from(b.subarray(8, 24)), port: b.readUInt16BE(2) };
    }
    return fail(Errno.EAFNOSUPPORT);
  }

  private autobindUnix(t: Task): void {
    const net = netOf(t.kernel);
    for (let i = 0; i < 0x100000; i++) {
      const name = ((Math.random() * 0x100000) >>> 0).toString(16).padStart(5, '0');
      if (net.abstract.has(name)) continue;
      net.bindName(net.abstract, name, this);
      const raw = Buffer.alloc(3 + 5);
      raw.writeUInt16LE(AF_UNIX, 0);
      raw.write(name, 3, 'latin1');
      this.local = raw;
      return;
    }
    fail(Errno.EADDRINUSE);
  }

  private bindInet(t: Task, ip: Buffer, port: number): void {
    netOf(t.kernel).bindInet(this, ip, port);
    const p = this.inet!.port;
    this.local = encodeInet(this.family, ip, p);
    this.srcAddr = isAny(ip) ? encodeInet(this.family, this.family === AF_INET ? LOOP4 : LOOP6, p) : null;
  }

  private anyIp(): Buffer {
    return this.family === AF_INET ? mapped4(Buffer.alloc(4)) : Buffer.alloc(16);
  }

  override bind(t: Task, raw: Buffer): void {
    const a = this.decode(raw);
    if (this.local) fail(Errno.EINVAL);
    const net = netOf(t.kernel);
    switch (a.kind) {
      case 'unnamed': this.autobindUnix(t); return;
      case 'abstract': net.bindName(net.abstract, a.name, this); this.local = a.raw; return;
      case 'path': {
        if (a.path === '') fail(Errno.ENOENT);
        try {
          mknodAt(t, cwdOrRoot(t, a.path), a.path, S_IFSOCK | 0o777, 0);
        } catch (e) {
          if ((e as { errno?: number }).errno === Errno.EEXIST) fail(Errno.EADDRINUSE);
          throw e;
        }
        net.bindName(net.paths, unixKey(t, a.path, false), this);
        this.local = a.raw;
        return;
      }
      case 'inet': this.bindInet(t, a.ip, a.port); return;
    }
  }

  override listen(t: Task, backlogArg: number): void {
    if (!this.connectionOriented) fail(Errno.EOPNOTSUPP);
    if (this.state === 'connected') fail(Errno.EINVAL);
    if (!this.local) {
      if (this.family === AF_UNIX) fail(Errno.EINVAL);
      this.bindInet(t, this.anyIp(), 0);
    }
    let backlog = backlogArg;
    if (backlog < 0 || backlog > 4096) backlog = 4096;
    this.backlogMax = backlog;
    this.state = 'listening';
    this.peerCreds = credsOf(t);
    this.queue.notify();
  }

  /** findTarget returns the socket an address names (for connect and sendto). */
  private findTarget(t: Task, a: Addr): Socket | null {
    const net = netOf(t.kernel);
    switch (a.kind) {
      case 'unnamed': return fail(Errno.EINVAL);
      case 'abstract': return net.abstract.get(a.name) ?? fail(Errno.ECONNREFUSED);
      case 'path': return net.paths.get(unixKey(t, a.path, true)) ?? fail(Errno.ECONNREFUSED);
      case 'inet': {
        const ip = destIp(a);
        if (!isLocal(ip)) fail(ENETUNREACH);
        if (!this.inet) this.bindInet(t, this.anyIp(), 0);
        return net.findInet(this.type, ip, a.port, this.stream);
      }
    }
  }

  override connect(t: Task, raw: Buffer): number | Block {
    const a = this.decode(raw);
    if (!this.connectionOriented) {
      const target = this.findTarget(t, a);
      if (a.kind === 'inet') {
        this.remote = encodeInet(this.family, destIp(a), a.port);
        this.peer = target; // UDP: may be null (nobody bound yet): sends are dropped.
        this.udpDest = { ip: destIp(a), port: a.port };
      } else {
        if (!target) fail(Errno.ECONNREFUSED);
        if (target.type !== this.type) fail(EPROTOTYPE);
        this.peer = target;
        this.remote = target.local;
      }
      return 0;
    }
    if (this.state === 'connected') fail(Errno.EISCONN);
    if (this.state === 'listening') fail(Errno.EINVAL);
    const target = this.findTarget(t, a);
    if (!target || target.closed) return fail(Errno.ECONNREFUSED);
    if (target.type !== this.type) fail(a.kind === 'inet' ? Errno.ECONNREFUSED : EPROTOTYPE);
    if (target.state !== 'listening') fail(Errno.ECONNREFUSED);
    if (target.backlog.length > target.backlogMax) {
      if (this.nonblocking) fail(a.kind === 'inet' ? Errno.EINPROGRESS : Errno.EAGAIN);
      return new Block([target.queue]);
    }
    const srv = new LocalSocket(target.family, target.type, target.protocol, 0);
    if (a.kind === 'inet') {
      const ip = destIp(a);
      srv.inet = { ip, port: a.port, v6only: false };
      srv.local = encodeInet(target.family, ip, a.port);
      const cip = isAny(this.inet!.ip) ? (ip[10] === 0xff ? LOOP4 : LOOP6) : this.inet!.ip;
      srv.remote = encodeInet(target.family, cip, this.inet!.port);
      this.remote = encodeInet(this.family, ip, a.port);
      if (isAny(this.inet!.ip)) this.local = encodeInet(this.family, cip, this.inet!.port);
    } else {
      srv.local = target.local;
      this.remote = target.local;
      srv.remote = this.local;
    }
    srv.passcred = target.passcred;
    connectPair(this, srv, credsOf(t), target.peerCreds ?? credsOf(t));
    target.backlog.push(srv);
    target.queue.notify();
    if (a.kind === 'inet' && this.nonblocking) fail(Errno.EINPROGRESS);
    return 0;
  }

  override accept(_t: Task, _flags: number): Accepted | number | Block {
    if (!this.connectionOriented) fail(Errno.EOPNOTSUPP);
    if (this.state !== 'listening') fail(Errno.EINVAL);
    if (this.backlog.length === 0) return new Block([this.queue]);
    const c = this.backlog.shift()!;
    this.queue.notify();
    return { file: c, peer: c.remote ?? unnamed() };
  }

  override pair(t: Task, other: SocketFile): void {
    if (this.family !== AF_UNIX) fail(Errno.EOPNOTSUPP);
    const b = other as LocalSocket;
    if (this.connectionOriented) connectPair(this, b, credsOf(t), credsOf(t));
    else { this.peer = b; b.peer = this; }
  }

  private parseControl(t: Task, c: Buffer): FileDescription[] | null {
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
        // The ids are the sender's user namespace's (EINVAL unmapped there), as scm_check_creds.
        const ns = t.creds.userns;
        const pid = c.readInt32LE(off + 16);
        const uid = toKernelId(ns, 'uid', c.readUInt32LE(off + 20)), gid = toKernelId(ns, 'gid', c.readUInt32LE(off + 24));
        if (uid < 0 || gid < 0) fail(Errno.EINVAL);
        if ((pid !== seenBy(t, t.pid) || uid !== t.creds.euid || gid !== t.creds.egid) && !t.creds.capableIn(CAP_SETUID, ns)) fail(Errno.EPERM);
      } else fail(Errno.EINVAL);
      off += (len + 7) & ~7;
    }
    return rights;
  }

  override send(t: Task, m: SendArgs): number | Block {
    const a = m.addr && m.addr.length > 0 ? this.decode(m.addr) : null;
    const rights = m.control && m.control.length ? this.parseControl(t, m.control) : null;
    let to: Socket | null = null;
    let from = this.srcAddr ?? this.local;
    if (a && !this.connectionOriented) {
      if (this.family === AF_UNIX && this.peer && !this.peer.closed) fail(Errno.EISCONN);
      to = this.findTarget(t, a);
      if (this.family !== AF_UNIX) {
        if (!to) return m.data.length; // UDP to a port nobody bound: dropped.
        if (to.family !== this.family) from = encodeInet(to.family, isAny(this.inet!.ip) ? LOOP4 : this.inet!.ip, this.inet!.port);
      } else {
        if (!to) fail(Errno.ECONNREFUSED);
        if (to.type !== this.type) fail(EPROTOTYPE);
      }
    } else if (a && this.connectionOriented && this.state !== 'connected') {
      fail(this.family === AF_UNIX ? Errno.EOPNOTSUPP : Errno.EPIPE);
    } else if (!this.connectionOriented && this.family !== AF_UNIX && !this.peer) {
      if (!this.udpDest) fail(EDESTADDRREQ);
      const target = netOf(t.kernel).findInet(this.type, this.udpDest.ip, this.udpDest.port, false);
      if (!target) return m.data.length;
      to = target;
    }
    if (rights) for (const f of rights) f.ref();
    const res = this.sendData(t, m.data, rights, to, from);
    if (typeof res !== 'number' || res <= 0 || res < m.data.length && !this.stream) {
      if (rights) for (const f of rights) f.unref();
    }
    return res;
  }

  override recv(t: Task, len: number, flags: number, controllen: number): RecvResult | number | Block {
    const res = this.recvData(len, flags);
    if (typeof res === 'number' || res instanceof Block) return res;
    let outFlags = 0;
    if (!this.stream && res.full > res.data.length) outFlags |= MSG_TRUNC;
    // Control messages: credentials (SO_PASSCRED) first, then passed descriptors.
    const parts: Buffer[] = [];
    if (this.passcred && res.creds && this.family === AF_UNIX) {
      const c = Buffer.alloc(32);
      c.writeBigUInt64LE(28n, 0);
      c.writeInt32LE(SOL_SOCKET, 8);
      c.writeInt32LE(SCM_CREDENTIALS, 12);
      c.writeInt32LE(seenBy(t, res.creds.pid), 16);
      // Ids as the receiver's user namespace sees them (the overflow id unmapped).
      c.writeUInt32LE(fromKernelId(t.creds.userns, 'uid', res.creds.uid), 20);
      c.writeUInt32LE(fromKernelId(t.creds.userns, 'gid', res.creds.gid), 24);
      parts.push(c);
    }
    // As Linux's put_cmsg: a message takes its CMSG_SPACE only as far as the buffer goes;
    // cut short of its CMSG_LEN (28 bytes for the credentials) it is MSG_CTRUNC with a
    // cmsg_len of what was copied, and with no room for a header it is left out.
    if (parts.length && parts[0].length > controllen) {
      if (controllen < Number(parts[0].readBigUInt64LE(0))) {
        outFlags |= MSG_CTRUNC;
        parts[0].writeBigUInt64LE(BigInt(controllen), 0);
      }
      if (controllen >= 16) parts[0] = parts[0].subarray(0, controllen);
      else parts.length = 0;
    }
    const used = parts.reduce((n, p) => n + p.length, 0);
    if (res.rights && res.rights.length) {
      const room = Math.floor((controllen - used - 16) / 4);
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
        parts.push(used + c.length > controllen ? c.subarray(0, 16 + 4 * n) : c);
      }
      for (const f of res.rights) f.unref();
    }
    return {
      data: res.data, ret: flags & MSG_TRUNC && !this.stream ? res.full : res.data.length, from: res.from ?? Buffer.alloc(0),
      control: Buffer.concat(parts), outFlags,
    };
  }

  override sockname(_t: Task): Buffer {
    if (this.local) return this.local;
    if (this.family === AF_UNIX) return unnamed();
    return encodeInet(this.family, this.anyIp(), 0);
  }

  override peername(_t: Task): Buffer {
    if (this.connectionOriented ? this.state !== 'connected' : !this.remote && !this.peer) fail(Errno.ENOTCONN);
    return this.remote ?? unnamed();
  }

  override getsockopt(t: Task, level: number, name: number, _len: number): Buffer {
    if (level === SOL_SOCKET) {
      switch (name) {
        case SO_TYPE: return int(this.type);
        case SO_ERROR: { const v = int(this.error); this.error = 0; return v; }
        case SO_SNDBUF: return int(this.sndbuf);
        case SO_RCVBUF: return int(this.rcvbuf);
        case SO_PASSCRED: return int(this.passcred ? 1 : 0);
        case SO_ACCEPTCONN: return int(this.state === 'listening' ? 1 : 0);
        case SO_PROTOCOL: return int(this.protocol);
        case SO_DOMAIN: return int(this.family);
        case SO_RCVLOWAT: return int(1);
        case SO_PEERCRED: {
          const v = Buffer.alloc(12);
          const c = this.peerCreds;
          if (this.family !== AF_UNIX || !c) { v.writeInt32LE(0, 0); v.writeInt32LE(-1, 4); v.writeInt32LE(-1, 8); }
          else { v.writeInt32LE(seenBy(t, c.pid), 0); v.writeUInt32LE(fromKernelId(t.creds.userns, 'uid', c.uid), 4); v.writeUInt32LE(fromKernelId(t.creds.userns, 'gid', c.gid), 8); }
          return v;
        }
        case SO_LINGER: return this.opts.get(`${level}:${name}`) ?? Buffer.alloc(8);
        case SO_RCVTIMEO: case SO_SNDTIMEO: return this.opts.get(`${level}:${name}`) ?? Buffer.alloc(16);
        default:
          if (!PLAIN_SOCKET_OPTS.has(name)) fail(ENOPROTOOPT);
          return this.opts.get(`${level}:${name}`) ?? int(0);
      }
    }
    if (level === IPPROTO_TCP && this.family !== AF_UNIX && this.stream) {
      if (!TCP_OPTS.has(name)) fail(ENOPROTOOPT);
      return this.opts.get(`${level}:${name}`) ?? int(name === 2 ? 65483 : 0);
    }
    if (level === IPPROTO_IPV6 && this.family === AF_INET6) {
      return this.opts.get(`${level}:${name}`) ?? (name === 26 ? int(0) : fail(ENOPROTOOPT));
    }
    if (level === IPPROTO_IP && this.family === AF_INET) return this.opts.get(`${level}:${name}`) ?? fail(ENOPROTOOPT);
    return fail(this.family === AF_UNIX ? Errno.EOPNOTSUPP : ENOPROTOOPT);
  }

  override setsockopt(_t: Task, level: number, name: number, raw: Buffer): void {
    const intVal = () => { if (raw.length < 4) fail(Errno.EINVAL); return raw.readInt32LE(0); };
    if (level === SOL_SOCKET) {
      switch (name) {
        case SO_SNDBUF: this.sndbuf = Math.max(4608, Math.min(2 * Math.max(intVal(), 0), 2 * DEFAULT_BUF)); return;
        case SO_RCVBUF: this.rcvbuf = Math.max(2304, Math.min(2 * Math.max(intVal(), 0), 2 * DEFAULT_BUF)); return;
        case SO_PASSCRED: this.passcred = intVal() !== 0; return;
        case SO_LINGER: if (raw.length < 8) fail(Errno.EINVAL); this.opts.set(`${level}:${name}`, Buffer.from(raw.subarray(0, 8))); return;
        case SO_RCVTIMEO: case SO_SNDTIMEO:
          if (raw.length < 16) fail(Errno.EINVAL);
          this.opts.set(`${level}:${name}`, Buffer.from(raw.subarray(0, 16)));
          return;
        default:
          if (!PLAIN_SOCKET_OPTS.has(name)) fail(ENOPROTOOPT);
          this.opts.set(`${level}:${name}`, int(name === SO_PRIORITY ? intVal() : intVal() !== 0 ? 1 : 0));
          return;
      }
    }
    if (level === IPPROTO_TCP && this.family !== AF_UNIX && this.stream) {
      if (!TCP_OPTS.has(name)) fail(ENOPROTOOPT);
      this.opts.set(`${level}:${name}`, int(name === 1 ? (intVal() ? 1 : 0) : intVal()));
      return;
    }
    if (level === IPPROTO_IPV6 && this.family === AF_INET6) {
      if (name === 26 && this.inet) fail(Errno.EINVAL);
      this.opts.set(`${level}:${name}`, int(name === 26 ? (intVal() ? 1 : 0) : intVal()));
      return;
    }
    if (level === IPPROTO_IP && this.family === AF_INET) {
      this.opts.set(`${level}:${name}`, int(intVal()));
      return;
    }
    fail(this.family === AF_UNIX ? Errno.EOPNOTSUPP : ENOPROTOOPT);
  }
}

function destIp(a: Addr & { kind: 'inet' }): Buffer {
  return isAny(a.ip) ? (a.family === AF_INET || a.ip[10] === 0xff ? LOOP4 : LOOP6) : a.ip;
}
