/**
 * Unix-domain sockets through koffi: socket, bind, listen, accept, connect, poll, and
 * sendmsg/recvmsg carrying file descriptors (SCM_RIGHTS). Node's net module can pass no
 * descriptors, and 9P's descriptor-passing extension needs them.
 *
 * The hot calls take a prebuilt `struct msghdr` whose pointers were taken once with
 * koffi.address: every buffer it points at is owned by the MsgBuffers object, allocated
 * off the V8 heap (a small Buffer.alloc lives on the heap and moves), and stays referenced
 * for as long as the header is used — a header pointing at a collected buffer corrupts
 * memory.
 */
import { renameSync, rmSync } from 'node:fs';
import koffi from './koffi';
import { check, libcFunc, lastErrno, HostError } from './libc';

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
/** MAX_FDS is the most descriptors one message carries. */
export const MAX_FDS = 16;
const CMSG_SPACE = 16 + 4 * MAX_FDS;

/** pinned returns a zeroed Buffer whose memory never moves (backed by an off-heap ArrayBuffer). */
export function pinned(size: number): Buffer {
  return Buffer.from(new ArrayBuffer(size));
}

const c = {
  socket: () => libcFunc('int socket(int domain, int type, int protocol)'),
  socketpair: () => libcFunc('int socketpair(int domain, int type, int protocol, _Out_ int *sv)'),
  bind: () => libcFunc('int bind(int fd, void *addr, uint32 len)'),
  connect: () => libcFunc('int connect(int fd, void *addr, uint32 len)'),
  listen: () => libcFunc('int listen(int fd, int backlog)'),
  accept4: () => libcFunc('int accept4(int fd, void *addr, void *len, int flags)'),
  sendmsg: () => libcFunc('intptr sendmsg(int fd, void *msg, int flags)'),
  recvmsg: () => libcFunc('intptr recvmsg(int fd, void *msg, int flags)'),
  send: () => libcFunc('intptr send(int fd, void *buf, size_t len, int flags)'),
  recv: () => libcFunc('intptr recv(int fd, void *buf, size_t len, int flags)'),
  poll: () => libcFunc('int poll(void *fds, uint64 nfds, int timeout)'),
  close: () => libcFunc('int close(int fd)'),
};

function sockaddrUn(path: string): Buffer {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length >= 108) throw new Error(`socket path is ${bytes.length} bytes, at most 107: ${path}`);
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return addr;
}

/**
 * listenUnix creates a listening stream socket bound at `path`. It binds a temporary
 * name and renames it once listening, so that the path never exists before a connect to
 * it can succeed (no ECONNREFUSED window for clients that wait for the file).
 */
export function listenUnix(path: string, backlog = 16): number {
  // SAFETY: plain syscalls on a descriptor we own; sockaddr_un built and bounded above.
  const fd = check('socket', c.socket()(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const tmp = `${path}.${process.pid}~`;
  const addr = sockaddrUn(tmp.length < 108 ? tmp : path);
  const bound = tmp.length < 108 ? tmp : path;
  try {
    check(`bind ${path}`, c.bind()(fd, addr, addr.length));
    check('listen', c.listen()(fd, backlog));
    if (bound !== path) renameSync(bound, path);
  } catch (e) {
    c.close()(fd);
    if (bound !== path) rmSync(bound, { force: true });
    throw e;
  }
  return fd;
}

/** connectUnix connects a stream socket to `path` (blocking). */
export function connectUnix(path: string): number {
  const fd = check('socket', c.socket()(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const addr = sockaddrUn(path);
  if (c.connect()(fd, addr, addr.length) < 0) {
    const errno = lastErrno();
    c.close()(fd);
    throw new HostError(`connect ${path}`, errno);
  }
  return fd;
}

/** accept returns a new connection's descriptor, or -errno (EAGAIN when none is pending). */
export function accept(fd: number, flags = SOCK_CLOEXEC): number {
  const r = c.accept4()(fd, null, null, flags);
  return r < 0 ? -lastErrno() : r;
}

/** socketPair returns two connected stream sockets. */
export function socketPair(type = SOCK_STREAM): [number, number] {
  const sv = [0, 0];
  check('socketpair', c.socketpair()(AF_UNIX, type | SOCK_CLOEXEC, 0, sv));
  return [sv[0], sv[1]];
}

/** setNonBlocking puts a descriptor in non-blocking mode (O_NONBLOCK on its file description). */
export function setNonBlocking(fd: number): void {
  const fcntl = libcFunc('int fcntl(int fd, int cmd, int arg)');
  // SAFETY: F_GETFL (3) / F_SETFL (4) on a descriptor the caller owns; only O_NONBLOCK is added.
  const fl = fcntl(fd, 3, 0);
  if (fl >= 0) fcntl(fd, 4, fl | 0o4000);
}

/** closeFd closes a descriptor, ignoring errors (used on cleanup paths). */
export function closeFd(fd: number): void {
  if (fd >= 0) c.close()(fd);
}

/** PollSet is a reusable array of struct pollfd { int fd; short events; short revents; }. */
export class PollSet {
  private buf = pinned(8 * 64);
  private n = 0;

  /** set replaces the descriptors and their requested events. */
  set(entries: ReadonlyArray<readonly [number, number]>): void {
    if (entries.length * 8 > this.buf.length) this.buf = pinned(entries.length * 16);
    this.n = entries.length;
    entries.forEach(([fd, events], i) => {
      this.buf.writeInt32LE(fd, i * 8);
      this.buf.writeInt16LE(events, i * 8 + 4);
      this.buf.writeInt16LE(0, i * 8 + 6);
    });
  }

  /** wait polls for up to `timeoutMs` (-1: forever) and returns how many are ready, or -errno. */
  wait(timeoutMs: number): number {
    // SAFETY: buf holds n pollfd entries (checked in set); the kernel writes revents only.
    const r = c.poll()(this.buf, this.n, timeoutMs);
    return r < 0 ? -lastErrno() : r;
  }

  /** revents returns the ready events of entry i. */
  revents(i: number): number {
    return this.buf.readInt16LE(i * 8 + 6) & 0xffff;
  }
}

/**
 * MsgBuffers owns one receive buffer, one control buffer and the msghdr/iovec that point
 * at them, for recvmsg/sendmsg without marshalling a struct on every call.
 */
export class MsgBuffers {
  /** data is where received bytes land. */
  readonly data: Buffer;
  private readonly control = pinned(CMSG_SPACE);
  private readonly iov = pinned(16);
  private readonly hdr = pinned(56);
  private readonly sendIov = pinned(16);
  private readonly sendHdr = pinned(56);
  private readonly sendControl = pinned(CMSG_SPACE);
  private sendScratch = pinned(4096);
  /** fds lists the descriptors that came with the last recv, in order. */
  fds: number[] = [];

  constructor(size: number) {
    this.data = pinned(size);
    // struct iovec { void *base; size_t len; }
    this.iov.writeBigUInt64LE(koffi.address(this.data), 0);
    this.iov.writeBigUInt64LE(BigInt(size), 8);
    // struct msghdr { name; namelen; iov @16; iovlen @24; control @32; controllen @40; flags @48 }
    this.hdr.writeBigUInt64LE(koffi.address(this.iov), 16);
    this.hdr.writeBigUInt64LE(1n, 24);
    this.hdr.writeBigUInt64LE(koffi.address(this.control), 32);
    this.sendHdr.writeBigUInt64LE(koffi.address(this.sendIov), 16);
    this.sendHdr.writeBigUInt64LE(1n, 24);
  }

  /**
   * recv reads up to `max` bytes into data[at..] and collects passed descriptors into
   * `fds`. Returns the byte count (0 at end of stream) or -errno.
   */
  recv(fd: number, at = 0, max = this.data.length - at, flags = 0): number {
    if (at < 0 || max <= 0 || at + max > this.data.length) throw new RangeError(`recv window ${at}+${max} outside ${this.data.length}`);
    this.iov.writeBigUInt64LE(koffi.address(this.data) + BigInt(at), 0);
    this.iov.writeBigUInt64LE(BigInt(max), 8);
    this.hdr.writeBigUInt64LE(BigInt(CMSG_SPACE), 40);
    // SAFETY: hdr points at iov -> data[at, at+max) and at control (CMSG_SPACE bytes),
    // all owned by this object and pinned; bounds checked above.
    const n = Number(c.recvmsg()(fd, this.hdr, flags | MSG_CMSG_CLOEXEC));
    this.fds = [];
    if (n < 0) return -lastErrno();
    const clen = Number(this.hdr.readBigUInt64LE(40));
    let off = 0;
    while (off + 16 <= clen) {
      const len = Number(this.control.readBigUInt64LE(off));
      const level = this.control.readInt32LE(off + 8);
      const type = this.control.readInt32LE(off + 12);
      if (len < 16 || off + len > clen) break;
      if (level === SOL_SOCKET && type === SCM_RIGHTS) {
        for (let p = off + 16; p + 4 <= off + len; p += 4) this.fds.push(this.control.readInt32LE(p));
      }
      off += (len + 7) & ~7;
    }
    return n;
  }

  /**
   * send writes buf[0..len) with `fds` attached (SCM_RIGHTS) when given.
   * Returns the byte count or -errno. With descriptors, the bytes are first copied into
   * a pinned scratch buffer, so `buf` may be any Buffer.
   */
  send(fd: number, buf: Buffer, len = buf.length, fds: readonly number[] = [], flags = MSG_NOSIGNAL): number {
    if (len > buf.length) throw new RangeError(`send of ${len} bytes from a ${buf.length}-byte buffer`);
    if (fds.length === 0) {
      // SAFETY: koffi passes buf's memory for the call only; len checked above.
      const n = Number(c.send()(fd, buf, len, flags));
      return n < 0 ? -lastErrno() : n;
    }
    if (fds.length > MAX_FDS) throw new RangeError(`${fds.length} descriptors in one message, at most ${MAX_FDS}`);
    const clen = 16 + 4 * fds.length;
    this.sendControl.writeBigUInt64LE(BigInt(clen), 0);
    this.sendControl.writeInt32LE(SOL_SOCKET, 8);
    this.sendControl.writeInt32LE(SCM_RIGHTS, 12);
    fds.forEach((f, i) => this.sendControl.writeInt32LE(f, 16 + 4 * i));
    if (this.sendScratch.length < len) this.sendScratch = pinned(len);
    buf.copy(this.sendScratch, 0, 0, len);
    this.sendIov.writeBigUInt64LE(koffi.address(this.sendScratch), 0);
    this.sendIov.writeBigUInt64LE(BigInt(len), 8);
    this.sendHdr.writeBigUInt64LE(koffi.address(this.sendControl), 32);
    this.sendHdr.writeBigUInt64LE(BigInt((clen + 7) & ~7), 40);
    // SAFETY: sendIov points at the pinned scratch copy (len bytes), sendControl holds
    // exactly fds.length descriptors; both are owned by this object.
    const n = Number(c.sendmsg()(fd, this.sendHdr, flags));
    return n < 0 ? -lastErrno() : n;
  }
}
