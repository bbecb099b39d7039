/**
 * The host socket calls of the host-network provider, through koffi (native/libc.ts).
 * Each returns the C result, or -errno when it fails: the provider hands errnos to the
 * application as they come, since the host socket's semantics are Linux's own.
 *
 * SAFETY: every pointer argument is a Buffer owned by the caller for the duration of the
 * call, with the length passed next to it (or a 4-byte Buffer holding that length for
 * the value-result arguments of accept4/recvfrom/getsockname/getsockopt). No pointer is
 * kept past a call. The descriptors are the provider's own host sockets: never one the
 * application names (it only ever names its own fd, which maps to a SocketFile).
 */
import { lastErrno, libcFunc } from '../../../native/libc';
import { loadNetAddon } from '../../../native/net/net-native';

function ret(n: number | bigint): number {
  const v = Number(n);
  return v < 0 ? -lastErrno() : v;
}

const fns = {
  socket: () => libcFunc('int socket(int domain, int type, int protocol)'),
  bind: () => libcFunc('int bind(int fd, void *addr, uint32_t len)'),
  connect: () => libcFunc('int connect(int fd, void *addr, uint32_t len)'),
  listen: () => libcFunc('int listen(int fd, int backlog)'),
  accept4: () => libcFunc('int accept4(int fd, void *addr, void *len, int flags)'),
  sendto: () => libcFunc('long sendto(int fd, void *buf, unsigned long len, int flags, void *addr, uint32_t alen)'),
  recvfrom: () => libcFunc('long recvfrom(int fd, void *buf, unsigned long len, int flags, void *addr, void *alen)'),
  shutdown: () => libcFunc('int shutdown(int fd, int how)'),
  getsockopt: () => libcFunc('int getsockopt(int fd, int level, int name, void *val, void *len)'),
  setsockopt: () => libcFunc('int setsockopt(int fd, int level, int name, void *val, uint32_t len)'),
  getsockname: () => libcFunc('int getsockname(int fd, void *addr, void *len)'),
  getpeername: () => libcFunc('int getpeername(int fd, void *addr, void *len)'),
  ioctl: () => libcFunc('int ioctl(int fd, unsigned long req, void *arg)'),
  close: () => libcFunc('int close(int fd)'),
};

/** SOCK_NONBLOCK | SOCK_CLOEXEC: every host socket of the provider is both. */
export const HOST_SOCK_FLAGS = 0o4000 | 0o2000000;

/** hostSocket is socket(2), non-blocking and close-on-exec. */
export function hostSocket(family: number, type: number, protocol: number): number {
  return ret(fns.socket()(family, type | HOST_SOCK_FLAGS, protocol) as number);
}

/** hostBind is bind(2) with a sockaddr's bytes. */
export function hostBind(fd: number, addr: Buffer): number {
  return ret(fns.bind()(fd, addr, addr.length) as number);
}

/** hostConnect is connect(2) with a sockaddr's bytes. */
export function hostConnect(fd: number, addr: Buffer): number {
  return ret(fns.connect()(fd, addr, addr.length) as number);
}

/** hostListen is listen(2). */
export function hostListen(fd: number, backlog: number): number {
  return ret(fns.listen()(fd, backlog) as number);
}

function lenBuf(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** hostAccept is accept4(2), non-blocking and close-on-exec: the new fd and the peer's address. */
export function hostAccept(fd: number): { fd: number; peer: Buffer } {
  const addr = Buffer.alloc(128), len = lenBuf(128);
  const r = ret(fns.accept4()(fd, addr, len, HOST_SOCK_FLAGS) as number);
  return { fd: r, peer: r < 0 ? Buffer.alloc(0) : addr.subarray(0, Math.min(128, len.readUInt32LE(0))) };
}

/** hostSendto is sendto(2) (addr null: none). */
export function hostSendto(fd: number, data: Buffer, flags: number, addr: Buffer | null): number {
  return ret(fns.sendto()(fd, data, data.length, flags, addr, addr ? addr.length : 0) as bigint);
}

/** hostRecvfrom is recvfrom(2) into buf: the byte count (or -errno) and the sender's address. */
export function hostRecvfrom(fd: number, buf: Buffer, flags: number): { n: number; from: Buffer } {
  const addr = Buffer.alloc(128), len = lenBuf(128);
  const n = ret(fns.recvfrom()(fd, buf, buf.length, flags, addr, len) as bigint);
  return { n, from: n < 0 ? Buffer.alloc(0) : addr.subarray(0, Math.min(128, len.readUInt32LE(0))) };
}

/** hostShutdown is shutdown(2). */
export function hostShutdown(fd: number, how: number): number {
  return ret(fns.shutdown()(fd, how) as number);
}

/** hostGetsockopt is getsockopt(2) with room for `size` bytes: the value or -errno. */
export function hostGetsockopt(fd: number, level: number, name: number, size: number): Buffer | number {
  const v = Buffer.alloc(size), len = lenBuf(size);
  const r = ret(fns.getsockopt()(fd, level, name, v, len) as number);
  return r < 0 ? r : v.subarray(0, Math.min(size, len.readUInt32LE(0)));
}

/** hostSetsockopt is setsockopt(2) with the value's bytes. */
export function hostSetsockopt(fd: number, level: number, name: number, value: Buffer): number {
  return ret(fns.setsockopt()(fd, level, name, value, value.length) as number);
}

/** hostSockname is getsockname(2) (peer: getpeername(2)): the address or -errno. */
export function hostSockname(fd: number, peer: boolean): Buffer | number {
  const addr = Buffer.alloc(128), len = lenBuf(128);
  const r = ret((peer ? fns.getpeername() : fns.getsockname())(fd, addr, len) as number);
  return r < 0 ? r : addr.subarray(0, Math.min(128, len.readUInt32LE(0)));
}

/** hostIoctl is ioctl(2) with a Buffer argument the call reads and writes. */
export function hostIoctl(fd: number, req: number, arg: Buffer): number {
  return ret(fns.ioctl()(fd, req, arg) as number);
}

/** hostIfconf is SIOCGIFCONF into buf (null: only the length needed): ifc_len or -errno (native/net/reactor.cc). */
export function hostIfconf(fd: number, buf: Buffer | null): number {
  return loadNetAddon().ifconf(fd, buf);
}

/** hostClose is close(2). */
export function hostClose(fd: number): void {
  fns.close()(fd);
}
