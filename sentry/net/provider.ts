/**
 * Socket providers. A socket is one file type, SocketFile, whose operations (bind,
 * connect, listen, accept, send/receive, shutdown, options, names; ioctl and readiness as
 * for any file) are implemented by the provider chosen when socket(2) creates it, by
 * family: the in-sentry AF_UNIX and loopback sockets (fsimpl/socket/local.ts), host
 * sockets of the sandbox's network namespace (net/host/), AF_NETLINK (net/netlink/).
 * The syscall handlers (syscalls/linux/handlers/socket.ts) copy arguments in and results
 * out and know nothing of which provider serves a socket.
 *
 * Every operation takes and returns sentry Buffers (a sockaddr as its raw bytes, the
 * caller's length already bounded); a call that cannot complete now returns a Block, and
 * the handler turns it into EAGAIN for a non-blocking call or applies SO_RCVTIMEO /
 * SO_SNDTIMEO through timeoutMs (see withTimeout).
 */
import { Errno, fail } from '../kernel/errors';
import type { Task } from '../kernel/task';
import { Block } from '../kernel/waiter';
import { FileDescription, O_RDWR } from '../vfs/file';
import { nowTimespec, S_IFSOCK, type Stat } from '../vfs/inode';

let nextIno = 1;

/** The msg flags of send(2) and recv(2) (x86-64 Linux values), shared by the handlers and the providers. */
export const MSG_OOB = 0x1, MSG_PEEK = 0x2, MSG_DONTROUTE = 0x4, MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40,
  MSG_EOR = 0x80, MSG_WAITALL = 0x100, MSG_CONFIRM = 0x800, MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000,
  MSG_CMSG_CLOEXEC = 0x40000000;

/** SendArgs is one send of sendto/sendmsg/sendmmsg/write. */
export interface SendArgs {
  data: Buffer;
  /** addr is the destination sockaddr's bytes (sendto/msg_name), null when none. */
  addr: Buffer | null;
  /** control is msg_control's bytes, null when none. */
  control: Buffer | null;
  flags: number;
}

/** RecvResult is what one receive returns to the handler. */
export interface RecvResult {
  data: Buffer;
  /** ret is the syscall's result (data.length, or the full datagram length under MSG_TRUNC). */
  ret: number;
  /** from is the sender's sockaddr (recvfrom/msg_name), empty when none. */
  from: Buffer;
  /** control is the msg_control bytes to copy out (descriptors already installed). */
  control: Buffer;
  /** outFlags is msg_flags (MSG_TRUNC, MSG_CTRUNC). */
  outFlags: number;
}

/** Accepted is a connection taken by accept: the new socket and its peer's address. */
export interface Accepted {
  file: SocketFile;
  peer: Buffer;
}

/**
 * ProcEntry is a socket as /proc/net/tcp, tcp6, udp, udp6 and unix show it
 * (fsimpl/proc/net.ts), whatever its provider.
 */
export interface ProcEntry {
  /** local and remote are the socket's addresses as sockaddr bytes (null: none). */
  local: Buffer | null;
  remote: Buffer | null;
  /** state is Linux's TCP state number: TCP_ESTABLISHED 1, TCP_CLOSE 7, TCP_LISTEN 10, ... */
  state: number;
  /** txQueue and rxQueue are the bytes queued to send and to receive (a listener's rxQueue: its accept queue). */
  txQueue: number;
  rxQueue: number;
}

/** SocketFile is the one socket file type; each provider subclasses it. */
export abstract class SocketFile extends FileDescription {
  /** ino is the socket's inode number (fstat, /proc/<pid>/fd's socket:[ino]). */
  readonly ino = nextIno++;
  readonly ctime = nowTimespec();
  /** uid is the effective uid of the task that made the socket (socket(2), accept), as /proc/net shows it. */
  uid = 0;
  /** gid is that task's effective gid (fstat's st_gid, as Linux's socket inode takes it). */
  gid = 0;

  constructor(readonly family: number, readonly type: number, readonly protocol: number, flags: number) {
    super(null, O_RDWR | flags);
  }

  override stat(): Stat {
    return {
      dev: 8, ino: this.ino, mode: S_IFSOCK | 0o777, nlink: 1, uid: this.uid, gid: this.gid, rdev: 0, size: 0, blksize: 4096, blocks: 0,
      atime: this.ctime, mtime: this.ctime, ctime: this.ctime,
    };
  }

  override procLink(): string {
    return `socket:[${this.ino}]`;
  }

  override seek(): number {
    return fail(Errno.ESPIPE);
  }

  /** bind implements bind(2). */
  abstract bind(t: Task, addr: Buffer): void;
  /** listen implements listen(2). */
  abstract listen(t: Task, backlog: number): void;
  /** connect implements connect(2): 0, -errno or a Block. */
  abstract connect(t: Task, addr: Buffer): number | Block;
  /** accept takes one pending connection (flags: the accept4 flags, applied by the caller). */
  abstract accept(t: Task, flags: number): Accepted | number | Block;
  /** send implements the send family: bytes sent, -errno or a Block. */
  abstract send(t: Task, m: SendArgs): number | Block;
  /** recv implements the receive family for up to len bytes and controllen bytes of control data. */
  abstract recv(t: Task, len: number, flags: number, controllen: number): RecvResult | number | Block;
  /** shutdown implements shutdown(2). */
  abstract shutdown(t: Task, how: number): void;
  /** getsockopt returns the option's value (the handler truncates it to the caller's length). */
  abstract getsockopt(t: Task, level: number, name: number, len: number): Buffer;
  /** setsockopt implements setsockopt(2); raw is the value as passed (at most 64 bytes read). */
  abstract setsockopt(t: Task, level: number, name: number, raw: Buffer): void;
  /** sockname is getsockname(2)'s address. */
  abstract sockname(t: Task): Buffer;
  /** peername is getpeername(2)'s address (ENOTCONN when none). */
  abstract peername(t: Task): Buffer;
  /** timeoutMs is SO_RCVTIMEO ('rcv') or SO_SNDTIMEO ('snd') in ms, 0 for none. */
  abstract timeoutMs(which: 'rcv' | 'snd'): number;

  /** pair connects two new sockets of this provider for socketpair(2); EOPNOTSUPP unless a provider has pairs. */
  pair(_t: Task, _other: SocketFile): void {
    fail(Errno.EOPNOTSUPP);
  }

  /** procEntry is what /proc/net's tables show of the socket; null (the default) keeps it out of them. */
  procEntry(): ProcEntry | null {
    return null;
  }

  /** stream says whether the socket is a byte stream (MSG_TRUNC and WAITALL semantics). */
  get stream(): boolean {
    return this.type === 1;
  }
}

/**
 * SocketFactory creates a socket of its family for socket(2): type is SOCK_STREAM etc.
 * without the flag bits, flags the file status flags (O_NONBLOCK). It checks type and
 * protocol itself (ESOCKTNOSUPPORT, EPROTONOSUPPORT).
 */
export type SocketFactory = (t: Task, type: number, protocol: number, flags: number) => SocketFile;

const providers = new Map<number, SocketFactory>();

/**
 * registerSocketProvider makes `factory` serve socket(family, ...). One line per family,
 * at module load of the provider; a second registration of a family replaces the first.
 */
export function registerSocketProvider(family: number, factory: SocketFactory): void {
  providers.set(family, factory);
}

/** createSocket runs socket(2)'s provider lookup: EAFNOSUPPORT for a family nobody serves. */
export function createSocket(t: Task, family: number, type: number, protocol: number, flags: number): SocketFile {
  const f = providers.get(family);
  if (!f) return fail(Errno.EAFNOSUPPORT);
  const s = f(t, type, protocol, flags);
  s.uid = t.creds.euid;
  s.gid = t.creds.egid;
  return s;
}

/**
 * SockWait is the restart state of a socket call that blocked: its deadline under
 * SO_RCVTIMEO/SO_SNDTIMEO, and the bytes a send already moved before it blocked midway
 * (returned, rather than EAGAIN, when the timeout ends it).
 */
export interface SockWait {
  sockDeadline?: number;
  done?: number;
}

/**
 * withTimeout applies a socket timeout (ms, 0 for none) to a Block: the wait ends at a
 * deadline kept in t.syscallState across retries, after which the call answers EAGAIN
 * (or the bytes already moved).
 */
export function withTimeout<T>(t: Task, res: T | Block, ms: number): T | Block | number {
  if (!(res instanceof Block) || ms <= 0) return res;
  let st = t.syscallState as SockWait | undefined;
  if (typeof st !== 'object' || st === null) t.syscallState = st = {};
  if (st.sockDeadline === undefined) st.sockDeadline = Date.now() + ms;
  if (Date.now() >= st.sockDeadline) return st.done ? st.done : -Errno.EAGAIN;
  return new Block(res.queues, st.sockDeadline, res.noRestart);
}

/** timevalMs converts a struct timeval (16 bytes) as SO_RCVTIMEO stores it to ms (0: none). */
export function timevalMs(tv: Buffer | null | undefined): number {
  if (!tv || tv.length < 16) return 0;
  const ms = Number(tv.readBigInt64LE(0)) * 1000 + Math.ceil(Number(tv.readBigInt64LE(8)) / 1000);
  return ms > 0 ? ms : 0;
}
